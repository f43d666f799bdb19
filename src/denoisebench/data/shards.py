"""Shards and manifests: the on-disk interface of every dataset (docs/design.md, "Data").

Layout::

    data/<dataset>/{train,validation}/{clean,noise,mixed}/part-00000.parquet   (or .npy)
    data/<dataset>/manifest.json

A Parquet shard has columns ``id`` (int64) and ``signal`` (fixed-size list of float32, images
flattened); the example shape is in the schema metadata (``denoisebench.shape``). An NPY shard
is one ``(rows, *shape)`` float32 array; its ids follow from the manifest's row offsets.
Writers write to a temporary name and rename, so a reader never sees a half-written file;
readers check every shard against the manifest (size, sha256, rows, shape, dtype, finite
values) before handing out data.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_write_bytes
from .manifest import (  # noqa: F401  (re-exported: shards.load_manifest etc.)
    DTYPE,
    FORMATS,
    MANIFEST,
    MANIFEST_VERSION,
    MAX_EXAMPLE_VALUES,
    MAX_ROWS,
    REQUIRED,
    DataIntegrityError,
    ManifestError,
    load_manifest,
    write_manifest,
)

SPLITS = ("train", "validation")
KINDS = ("clean", "noise", "mixed")
#: ``pq.write_table`` settings of every Parquet shard (BENCHMARKS.md, "Parquet codec").
#: LZ4 (pyarrow writes Parquet's LZ4_RAW codec): float32 noise barely compresses; zstd saved
#: 5-8 % of the bytes at about twice the write time and ~1.5x the read time. The dictionary
#: is given up after 64 KiB of distinct values: early for random floats (pyarrow's 1 MiB
#: default first hashes ~260,000 of them), while pixel values (256 levels) stay
#: dictionary-encoded. A format detail: the same data still give the same bytes.
PARQUET_WRITE_OPTIONS: dict[str, Any] = {"compression": "lz4", "use_dictionary": True,
                                         "dictionary_pagesize_limit": 1 << 16,
                                         "write_statistics": False}


class ShardError(DataIntegrityError):
    """A shard does not match its manifest entry (size, checksum, rows, shape, dtype, values)."""


def shard_name(index: int, fmt: str) -> str:
    """File name of shard ``index`` in format ``fmt`` (``part-00000.parquet``)."""
    return f"part-{index:05d}{FORMATS[fmt]}"


def shard_path(root: Path, split: str, kind: str, index: int, fmt: str) -> Path:
    """Path of one shard below a dataset root."""
    return Path(root) / split / kind / shard_name(index, fmt)


def write_shard(
    path: Path,
    ids: np.ndarray,
    signals: np.ndarray,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write one shard atomically; the format follows the suffix (``.parquet`` or ``.npy``).

    Args:
        ids: ``(rows,)`` int64 example ids (stored in Parquet only).
        signals: ``(rows, *shape)`` float32 examples.
        metadata: extra key/values for the Parquet schema metadata (JSON-serialisable).

    Raises:
        ValueError: ``ids`` and ``signals`` disagree in rows, or the suffix is unknown.
    """
    path = Path(path)
    signals = np.ascontiguousarray(signals, dtype=np.float32)
    ids = np.asarray(ids, dtype=np.int64)
    if signals.shape[0] != ids.shape[0]:
        raise ValueError(f"{path}: {ids.shape[0]} ids for {signals.shape[0]} rows")
    if path.suffix == ".npy":
        atomic_write_bytes(path, lambda tmp: _save_npy(tmp, signals))
        return
    if path.suffix != ".parquet":
        raise ValueError(f"{path}: unknown shard suffix; expected one of {list(FORMATS.values())}")
    shape = signals.shape[1:]
    width = int(np.prod(shape))
    values = pa.array(signals.reshape(-1), type=pa.float32())
    column = pa.FixedSizeListArray.from_arrays(values, width)
    meta = {"denoisebench.shape": json.dumps(list(shape)), "denoisebench.dtype": DTYPE}
    meta.update({f"denoisebench.{k}": json.dumps(v) for k, v in (metadata or {}).items()})
    table = pa.table({"id": pa.array(ids), "signal": column}).replace_schema_metadata(meta)
    atomic_write_bytes(
        path,
        lambda tmp: pq.write_table(table, tmp, **PARQUET_WRITE_OPTIONS),
    )


def _save_npy(tmp: Path, signals: np.ndarray) -> None:
    with open(tmp, "wb") as fh:
        np.save(fh, signals, allow_pickle=False)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def read_shard_unchecked(path: Path) -> tuple[np.ndarray | None, np.ndarray]:
    """Read a shard without manifest checks: ``(ids or None, signals (rows, width))``.

    Parquet values are taken zero-copy from the fixed-size list column. Callers that hand the
    data on use :meth:`DatasetReader.read` instead, which checks the manifest first.

    Raises:
        ShardError: the file cannot be parsed as a shard.
    """
    path = Path(path)
    if not path.is_file():  # a folder would be read as a Parquet *dataset*
        raise ShardError(f"{path}: missing shard (no such file)" if not path.exists()
                         else f"{path}: unreadable shard (not a regular file)")
    try:
        if path.suffix == ".npy":
            arr = np.load(path, allow_pickle=False, mmap_mode=None)
            if arr.ndim < 2:
                raise ShardError(f"{path}: shape check failed: array of shape {arr.shape}; "
                                 "expected (rows, *shape)")
            return None, arr.reshape(arr.shape[0], -1)
        table = pq.read_table(path, columns=["id", "signal"])
    except ShardError:
        raise
    except Exception as exc:  # any parser failure: numpy's header parser alone raises
        # ValueError, EOFError, SyntaxError or tokenize.TokenError on damaged files
        raise ShardError(f"{path}: unreadable shard ({type(exc).__name__}: {exc})") from exc
    try:
        col = table.column("signal").combine_chunks()
        if not pa.types.is_fixed_size_list(col.type):
            raise ShardError(f"{path}: dtype check failed: column 'signal' is {col.type}; "
                             "expected a fixed-size list of float32")
        if not pa.types.is_float32(col.type.value_type):
            raise ShardError(f"{path}: dtype check failed: column 'signal' holds "
                             f"{col.type.value_type}; expected {DTYPE}")
        id_type = table.schema.field("id").type
        if not pa.types.is_integer(id_type):
            raise ShardError(f"{path}: dtype check failed: column 'id' is {id_type}; "
                             "expected int64")
        if col.null_count or col.values.null_count or table.column("id").null_count:
            raise ShardError(f"{path}: value check failed: null entries in the shard; "
                             "expected none")
        width = col.type.list_size
        values = col.flatten().to_numpy(zero_copy_only=True)
        ids = table.column("id").to_numpy()
        return ids, values.reshape(len(col), width)
    except ShardError:
        raise
    except Exception as exc:  # pyarrow errors on damaged data
        raise ShardError(f"{path}: unreadable shard ({type(exc).__name__}: {exc})") from exc


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True)
class ShardEntry:
    """One shard of one split: its row range and one file per kind (clean/noise/mixed)."""

    index: int
    rows: int
    offset: int
    files: Mapping[str, Mapping[str, Any]]  # kind -> {"path", "sha256", "bytes"}


def shard_entry(root: Path, split: str, index: int, offset: int, fmt: str,
                kinds: Sequence[str] = KINDS) -> dict[str, Any]:
    """Describe one generated shard for the manifest (hashes the files on disk).

    Raises:
        ShardError: a file is missing, unreadable, or the kinds disagree in rows.
    """
    files: dict[str, Any] = {}
    rows = None
    for kind in kinds:
        path = shard_path(root, split, kind, index, fmt)
        if not path.exists():
            raise ShardError(f"{path}: missing shard (expected by the manifest)")
        _, arr = read_shard_unchecked(path)
        if rows is not None and arr.shape[0] != rows:
            raise ShardError(f"{path}: {arr.shape[0]} rows; the other kinds of this shard "
                             f"have {rows}")
        rows = arr.shape[0]
        files[kind] = {
            "path": path.relative_to(root).as_posix(),
            "sha256": sha256_file(path),
            "bytes": path.stat().st_size,
        }
    return {"index": index, "rows": int(rows or 0), "offset": offset, "files": files}


class DatasetReader:
    """Checked access to one dataset folder through its manifest.

    ``reader.read(split, kind)`` returns ``(rows, *shape)`` float32; ``reader.iter_shards``
    yields one shard at a time so nothing needs the whole split in memory. Every shard is
    verified (size, sha256, rows, shape, dtype, finite values) the first time it is read.

    Raises (at construction):
        ManifestError: the manifest is missing, not JSON, or lacks required fields.
    """

    REQUIRED = REQUIRED

    def __init__(self, root: str | Path, verify: bool = True) -> None:
        self.root = Path(root)
        self.verify = verify
        self.manifest_path = self.root / MANIFEST
        self.manifest = load_manifest(self.root)
        self.shape: tuple[int, ...] = tuple(int(s) for s in self.manifest["shape"])
        self.fs = self.manifest.get("fs")
        self.missing_targets = bool(self.manifest.get("missing_targets", False))
        self._verified: set[str] = set()

    def shards(self, split: str) -> list[ShardEntry]:
        """Manifest entries of one split, in order.

        Raises:
            ManifestError: the split is not in the manifest.
        """
        try:
            entries = self.manifest["splits"][split]["shards"]
        except (KeyError, TypeError):
            raise ManifestError(f"{self.manifest_path}: no split {split!r}; expected one of "
                                f"{sorted(self.manifest.get('splits', {}))}") from None
        return [ShardEntry(e["index"], e["rows"], e["offset"], e["files"]) for e in entries]

    def rows(self, split: str) -> int:
        """Total examples in ``split``."""
        return sum(e.rows for e in self.shards(split))

    def _resolve(self, rel: str) -> Path:
        try:  # resolve() follows symlinks: a link pointing outside the folder escapes too
            root = self.root.resolve()
            path = (self.root / rel).resolve()
        except (OSError, ValueError, RuntimeError) as exc:  # NUL bytes, symlink loops
            raise ManifestError(f"{self.manifest_path}: shard path {rel!r} is not a usable "
                                f"path ({exc}); expected a path inside {self.root}") from None
        if root not in path.parents:
            raise ManifestError(f"{self.manifest_path}: shard path {rel!r} escapes the dataset "
                                f"folder {self.root}")
        return path

    def read_entry(self, entry: ShardEntry, kind: str) -> np.ndarray:
        """Read and check one shard file: ``(rows, *shape)`` float32.

        Raises:
            ManifestError: the entry has no file of ``kind`` or its path escapes the folder.
            ShardError: any check fails; the message names the file and the check.
        """
        if kind not in entry.files:
            raise ManifestError(f"{self.manifest_path}: shard {entry.index} has no {kind!r} file; "
                                f"it has {sorted(entry.files)}")
        meta = entry.files[kind]
        path = self._resolve(str(meta["path"]))
        if not path.exists():
            raise ShardError(f"{path}: missing shard (listed in {self.manifest_path})")
        if not path.is_file():
            raise ShardError(f"{path}: unreadable shard (not a regular file; listed in "
                             f"{self.manifest_path})")
        key = str(path)
        if self.verify and key not in self._verified:
            try:
                size = path.stat().st_size
                digest = sha256_file(path) if size == meta.get("bytes", size) else ""
            except OSError as exc:
                raise ShardError(f"{path}: unreadable shard ({exc.strerror})") from exc
            if "bytes" in meta and size != meta["bytes"]:
                raise ShardError(f"{path}: size check failed: {size} bytes, manifest says "
                                 f"{meta['bytes']} (truncated or replaced?)")
            if digest != meta["sha256"]:
                raise ShardError(f"{path}: checksum check failed: sha256 {digest[:16]}..., "
                                 f"manifest says {str(meta['sha256'])[:16]}...")
        ids, arr = read_shard_unchecked(path)
        width = math.prod(self.shape)
        if arr.dtype != np.dtype(self.manifest["dtype"]):
            raise ShardError(f"{path}: dtype check failed: {arr.dtype}, expected "
                             f"{self.manifest['dtype']}")
        if arr.ndim != 2 or arr.shape[1] != width:
            raise ShardError(f"{path}: shape check failed: rows of {arr.shape[1:]} values, "
                             f"expected {width} (shape {list(self.shape)})")
        if arr.shape[0] != entry.rows:
            raise ShardError(f"{path}: length check failed: {arr.shape[0]} rows, manifest says "
                             f"{entry.rows}")
        if self.verify and key not in self._verified:
            allow_nan = kind == "clean" and self.missing_targets
            bad = ~np.isfinite(arr)
            if allow_nan:
                bad &= ~np.isnan(arr)
            if bad.any():
                row = int(np.argwhere(bad)[0][0])
                raise ShardError(f"{path}: value check failed: non-finite value in row {row} "
                                 f"(NaN/inf not allowed in {kind!r} here)")
            self._verified.add(key)
        return arr.reshape((arr.shape[0], *self.shape))

    def verify_split(self, split: str, kinds: Sequence[str] = ("mixed", "clean")) -> int:
        """Check every shard of ``split`` (of the given kinds) now, one shard at a time; return
        the rows. Training calls this before it starts, so a damaged shard is reported as a
        :class:`DataIntegrityError` naming the file rather than failing inside ``tf.data``.

        Raises:
            ManifestError, ShardError: see :meth:`read_entry`.
        """
        for entry in self.shards(split):
            for k in kinds:
                self.read_entry(entry, k)
        return self.rows(split)

    def iter_shards(self, split: str, kinds: Sequence[str]) -> Iterator[tuple[np.ndarray, ...]]:
        """Yield, shard by shard, one ``(rows, *shape)`` array per requested kind."""
        for entry in self.shards(split):
            yield tuple(self.read_entry(entry, k) for k in kinds)

    def read(self, split: str, kind: str) -> np.ndarray:
        """The whole split of one kind, ``(rows, *shape)`` float32 (for small splits)."""
        parts = [arrs[0] for arrs in self.iter_shards(split, [kind])]
        if not parts:
            return np.zeros((0, *self.shape), np.float32)
        return np.concatenate(parts)

    def ids(self, split: str) -> np.ndarray:
        """Example ids of a split (from the manifest's row offsets), ``(rows,)`` int64."""
        return np.concatenate([np.arange(e.offset, e.offset + e.rows, dtype=np.int64)
                               for e in self.shards(split)] or [np.zeros(0, np.int64)])
