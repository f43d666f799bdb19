"""Handlers of the commands for a user's own data: ``denoisebench denoise``, ``datasets
manifest`` and ``datasets import`` (their parsers are in :mod:`denoisebench.cli`). Each returns
the process exit status: 0 on success, 2 with ``error: ...`` on stderr when the input is bad."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def cmd_denoise(args: argparse.Namespace) -> int:
    """Handler of ``denoisebench denoise``: 0 on success, 2 (``error: ...`` on stderr) on bad
    input or a bad model folder. Runs on ``$KERAS_BACKEND``, else TensorFlow: a model trained
    on any backend loads on any other (docs/design.md "Keras backends")."""
    from .. import backend

    backend.select(None)
    from ..inference import ModelLoadError
    from .denoise import DenoiseInputError, denoise_files

    try:
        written = denoise_files(args.model, args.inputs, args.output, fs=args.fs,
                                batch_size=args.batch_size)
    except (DenoiseInputError, ModelLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def cmd_datasets_manifest(args: argparse.Namespace) -> int:
    """Handler of ``denoisebench datasets manifest``."""
    from ..data import shards
    from ..data.folder import write_folder_manifest
    from .importer import params_snippet

    root = Path(args.path)
    try:
        path = write_folder_manifest(root, args.fs, convert=args.convert)
    except shards.DataIntegrityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = shards.load_manifest(root)
    print(f"wrote {path}: examples of {manifest['shape'][0]} samples at {manifest['fs']:g} Hz, "
          f"noise files: {'yes' if manifest['noise'] else 'no (mixed - clean is used)'}")
    _print_splits(manifest)
    print("add to params.yaml:\n" + params_snippet(root))
    return 0


def cmd_datasets_import(args: argparse.Namespace) -> int:
    """Handler of ``denoisebench datasets import``."""
    from ..data import shards
    from .files import SignalFileError
    from .importer import import_recordings, params_snippet

    try:
        path = import_recordings(args.src, args.output, args.window, hop=args.hop,
                                 validation_fraction=args.validation_fraction, fs=args.fs,
                                 seed=args.seed, fmt=args.format, shard_rows=args.shard_rows)
    except (shards.DataIntegrityError, SignalFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = shards.load_manifest(path.parent)
    print(f"wrote {path.parent}: windows of {args.window} samples at {manifest['fs']:g} Hz")
    _print_splits(manifest)
    print("add to params.yaml:\n" + params_snippet(Path(args.output)))
    return 0


def _print_splits(manifest: Mapping[str, Any]) -> None:
    for split in ("train", "validation"):
        body = manifest["splits"][split]
        print(f"  {split}: {body['rows']} examples in {len(body['shards'])} shard(s)")
