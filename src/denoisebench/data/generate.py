"""Shard planning and generation: one job per shard, gathered by the manifest.

Shard ``i`` of split ``s`` of dataset ``d`` draws its random numbers from
``SeedSequence(seed, spawn_key=(crc32(d), split index, i))``: any shard can be generated
alone, in any order, on any machine, and the same params give byte-identical shards.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import kinds, shards
from .signals import missing_targets

SPLIT_SIZE_KEYS = {"train": "train_size", "validation": "validation_size"}
SPLIT_SHARD_KEYS = {"train": "train_shards", "validation": "validation_shards"}


def dataset_root(name: str, data_dir: str | Path = "data") -> Path:
    """Folder of dataset ``name``."""
    return Path(data_dir) / name


def resolve_root(name: str, params: Mapping[str, Any], data_dir: str | Path = "data") -> Path:
    """Folder that dataset ``name`` (its ``datasets.<name>`` params) is read from: a folder
    dataset's ``path`` (relative to the project folder, never written by the pipeline), else
    the generated ``data_dir/<name>``."""
    if params.get("kind") == "folder":
        return Path(params["path"])
    return dataset_root(name, data_dir)


def n_shards(params: Mapping[str, Any], split: str) -> int:
    """Number of shards of ``split`` (a parameter, so the graph's shape does not change with the
    dataset's size: ``dvc exp run -S datasets.<name>.train_size=...`` needs no new dvc.yaml)."""
    return int(params[SPLIT_SHARD_KEYS[split]])


def shard_rows(params: Mapping[str, Any], split: str, index: int) -> tuple[int, int]:
    """``(offset, rows)`` of shard ``index`` of ``split``.

    Raises:
        IndexError: ``index`` is outside ``0 .. n_shards - 1``.
    """
    total = int(params[SPLIT_SIZE_KEYS[split]])
    per = math.ceil(total / n_shards(params, split))
    if not 0 <= index < n_shards(params, split):
        raise IndexError(f"shard {index} of split {split!r} does not exist; the split has "
                         f"{n_shards(params, split)} shards")
    offset = min(index * per, total)
    return offset, min(per, total - offset)


def shard_seed(seed: int, dataset: str, split: str, index: int) -> np.random.SeedSequence:
    """The SeedSequence of one shard (independent of every other shard)."""
    key = (zlib.crc32(dataset.encode()), shards.SPLITS.index(split), index)
    return np.random.SeedSequence(seed, spawn_key=key)


def expected_shards(params: Mapping[str, Any], root: Path) -> list[Path]:
    """Every shard file a generated dataset consists of (for Snakemake's gather rule)."""
    fmt = params["format"]
    return [shards.shard_path(root, split, kind, i, fmt)
            for split in shards.SPLITS for i in range(n_shards(params, split))
            for kind in shards.KINDS]


def generate_shard(name: str, params: Mapping[str, Any], seed: int, split: str, index: int,
                   root: Path) -> list[Path]:
    """Generate shard ``index`` of ``split``: write its clean, noise and mixed files.

    Each file is written to a temporary name and renamed (see
    :func:`denoisebench.atomic.atomic_write_bytes`). Returns the three paths.

    Raises:
        KeyError: the dataset kind has no generator.
        IndexError: no such shard.
    """
    kinds.generated(params["kind"])  # KeyError before any work
    offset, rows = shard_rows(params, split, index)
    rng = np.random.default_rng(shard_seed(seed, name, split, index))
    clean, noise = kinds.generate(params, rows, rng, split=split, offset=offset)
    mixed = clean + noise
    fraction = float(params.get("missing_fraction", 0))
    if fraction > 0 and split == "train":  # seed 001: NaN targets; mixture and noise stay whole
        clean = missing_targets(clean, fraction, rng)
    ids = np.arange(offset, offset + rows, dtype=np.int64)
    meta = {"dataset": name, "split": split, "shard": index}
    paths = []
    for k, arr in (("clean", clean), ("noise", noise), ("mixed", mixed)):
        path = shards.shard_path(root, split, k, index, params["format"])
        for stale in path.parent.glob(f".{path.name}.*.tmp"):  # left by a killed earlier run
            stale.unlink(missing_ok=True)
        shards.write_shard(path, ids, arr, {**meta, "kind": k})
        paths.append(path)
    return paths


def build_manifest(name: str, params: Mapping[str, Any], seed: int, root: Path) -> Path:
    """Hash every shard of a generated dataset and write ``root/manifest.json`` atomically.

    Raises:
        ShardError: a shard is missing or its kinds disagree in rows.
    """
    fmt = params["format"]
    splits: dict[str, Any] = {}
    for split in shards.SPLITS:
        entries = []
        for i in range(n_shards(params, split)):
            offset, _ = shard_rows(params, split, i)
            entries.append(shards.shard_entry(root, split, i, offset, fmt))
        splits[split] = {"rows": sum(e["rows"] for e in entries), "shards": entries}
    manifest = {
        "version": shards.MANIFEST_VERSION,
        "dataset": name,
        "kind": params["kind"],
        "format": fmt,
        "shape": list(kinds.example_shape(params)),
        "dtype": shards.DTYPE,
        "fs": params.get("fs"),
        "missing_targets": bool(params.get("missing_fraction", 0) > 0),
        "seed": seed,
        "params": dict(params),
        "splits": splits,
    }
    return shards.write_manifest(root, manifest)
