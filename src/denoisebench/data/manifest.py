"""``manifest.json``: the record of a dataset folder (docs/design.md, "Data"): its format,
example shape, dtype, sample rate and, per split, every shard's rows, row offset and the sha256
of each file. :func:`load_manifest` checks its structure; :mod:`.shards` checks the shards
against it."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1
FORMATS = {"parquet": ".parquet", "npy": ".npy"}
DTYPE = "float32"
MAX_ROWS = 2**48  # bounds of manifest integers: row ids stay exact in int64
MAX_EXAMPLE_VALUES = 2**31  # values per example (images are flattened)
#: Fields every manifest must have.
REQUIRED = ("format", "shape", "dtype", "splits")


class DataIntegrityError(ValueError):
    """A shard or manifest failed a check; the message names file, check and expectation."""


class ManifestError(DataIntegrityError):
    """``manifest.json`` is missing, unreadable or inconsistent."""


def write_manifest(root: Path, manifest: Mapping[str, Any]) -> Path:
    """Write ``root/manifest.json`` atomically (sorted keys, 1 space indent)."""
    path = Path(root) / MANIFEST
    atomic_write_text(path, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return path



def load_manifest(root: str | Path) -> dict[str, Any]:
    """Parse and structurally check ``root/manifest.json``.

    Raises:
        ManifestError: missing file, invalid JSON, or a required field absent/ill-typed.
    """
    path = Path(root) / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(f"{path}: manifest missing; generate the dataset or run "
                            "`denoisebench datasets manifest` on the folder") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path}: unreadable manifest ({exc})") from exc
    try:
        manifest = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ManifestError(f"{path}: not valid JSON ({type(exc).__name__}: {exc})") from exc
    if not isinstance(manifest, dict):
        raise ManifestError(f"{path}: expected a JSON object")
    for key in REQUIRED:
        if key not in manifest:
            raise ManifestError(f"{path}: required field {key!r} missing")
    shape = manifest["shape"]
    if (not isinstance(shape, list) or not shape
            or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in shape)
            or math.prod(shape) > MAX_EXAMPLE_VALUES):
        raise ManifestError(f"{path}: field 'shape' must be a list of positive integers "
                            f"(at most {MAX_EXAMPLE_VALUES} values per example), got {shape!r}")
    if manifest["dtype"] != DTYPE:
        raise ManifestError(f"{path}: field 'dtype' is {manifest['dtype']!r}; expected {DTYPE!r}")
    if not isinstance(manifest["format"], str) or manifest["format"] not in FORMATS:
        raise ManifestError(f"{path}: field 'format' is {manifest['format']!r}; expected one of "
                            f"{sorted(FORMATS)}")
    if not isinstance(manifest.get("missing_targets", False), bool):
        raise ManifestError(f"{path}: field 'missing_targets' is "
                            f"{manifest['missing_targets']!r}; expected true or false")
    splits = manifest["splits"]
    if not isinstance(splits, dict):
        raise ManifestError(f"{path}: field 'splits' must be an object")
    for split, body in splits.items():
        shards = body.get("shards") if isinstance(body, dict) else None
        if not isinstance(shards, list):
            raise ManifestError(f"{path}: splits.{split}.shards must be a list")
        for i, e in enumerate(shards):
            ok = (isinstance(e, dict)
                  and all(isinstance(e.get(k), int) and not isinstance(e.get(k), bool)
                          and 0 <= e.get(k) <= MAX_ROWS for k in ("index", "rows", "offset"))
                  and isinstance(e.get("files"), dict)
                  and all(isinstance(f, dict) and isinstance(f.get("path"), str)
                          and isinstance(f.get("sha256"), str) for f in e["files"].values()))
            if not ok:
                raise ManifestError(f"{path}: splits.{split}.shards[{i}] must have integer "
                                    f"index/rows/offset in 0..{MAX_ROWS} and files "
                                    "{kind: {path, sha256}}")
    return manifest
