"""Checks of one shard of a folder dataset (layout: :mod:`.folder`): readable, float32 (or
converted in place), one 1-D example per row, finite values, and SNR defined for every row."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from . import shards
from .shards import DataIntegrityError

log = logging.getLogger(__name__)


class FolderError(DataIntegrityError):
    """A user's dataset folder or recordings folder does not follow the layout, or a file in
    it fails a check; the message names the file and what was expected."""


def _bad_dtype(path: Path, found: str, convert_hint: bool = True) -> FolderError:
    hint = " or rerun with --convert (rewrites the file in place as float32)" if convert_hint \
        else ""
    return FolderError(f"{path}: values are {found}; expected float32. Save the shard as "
                       f"float32{hint}")


def _convert_parquet(path: Path) -> None:
    """Rewrite a Parquet shard as ``id`` int64 + fixed-size list float32 ``signal``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    col = table.column("signal").combine_chunks()
    if col.null_count:
        raise FolderError(f"{path}: column 'signal' has null rows; cannot convert")
    if pa.types.is_fixed_size_list(col.type):
        width = col.type.list_size
        values = col.flatten().to_numpy(zero_copy_only=False)
    elif pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        lengths = np.diff(col.offsets.to_numpy())
        if len(lengths) and (lengths != lengths[0]).any():
            row = int(np.argmax(lengths != lengths[0]))
            raise FolderError(f"{path}: row {row} has {lengths[row]} samples, row 0 has "
                              f"{lengths[0]}; every example needs the same length")
        width = int(lengths[0]) if len(lengths) else 0
        values = col.flatten().to_numpy(zero_copy_only=False)
    else:
        raise FolderError(f"{path}: column 'signal' is {col.type}; expected a list of numbers")
    if values.dtype.kind not in "fiu":
        raise FolderError(f"{path}: column 'signal' holds {values.dtype}; expected numbers")
    rows = len(col)
    names = table.column_names
    ids = (table.column("id").to_numpy() if "id" in names
           and pa.types.is_integer(table.schema.field("id").type) else np.arange(rows))
    with np.errstate(over="ignore"):
        arr = values.astype(np.float32).reshape(rows, width)
    shards.write_shard(path, ids, arr)


def check_shard(path: Path, convert: bool = False) -> np.ndarray:
    """Check one shard file (converting it to float32 in place when ``convert``).

    Returns:
        Its examples, ``(rows, samples)`` float32.

    Raises:
        FolderError: unreadable; not float32 (unless ``convert``); not one 1-D example per row;
            no rows; a non-finite value (the message names row and sample).
    """
    path = Path(path)
    if path.suffix == ".npy":
        _check_npy(path, convert)
    else:
        _check_parquet(path, convert)
    _, arr = shards.read_shard_unchecked(path)
    if arr.shape[0] == 0:
        raise FolderError(f"{path}: no rows")
    if arr.dtype != np.float32:
        raise _bad_dtype(path, str(arr.dtype))
    bad = ~np.isfinite(arr)
    if bad.any():
        row, col = (int(i) for i in np.argwhere(bad)[0])
        raise FolderError(f"{path}: non-finite value {arr[row, col]} in row {row}, sample {col}; "
                          "every value must be finite")
    return arr


def _check_npy(path: Path, convert: bool) -> None:
    """An NPY shard's layout and dtype (converted in place to float32 when ``convert``)."""
    try:
        head = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FolderError(f"{path}: unreadable NPY shard ({exc})") from exc
    if head.ndim != 2:
        raise FolderError(f"{path}: array of shape {head.shape}; expected (rows, samples): "
                          "one 1-D example per row")
    if head.dtype != np.float32:
        if not convert or head.dtype.kind not in "fiu":
            raise _bad_dtype(path, str(head.dtype), head.dtype.kind in "fiu")
        with np.errstate(over="ignore"):
            arr32 = np.asarray(head, dtype=np.float32)
        del head  # release the memory map before replacing the file
        shards.write_shard(path, np.arange(len(arr32)), arr32)
        log.info("converted %s to float32", path)
    else:
        del head


def _check_parquet(path: Path, convert: bool) -> None:
    """A Parquet shard's columns, types and example shape (converted in place when
    ``convert``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise FolderError(f"{path}: unreadable Parquet shard ({exc})") from exc
    if "signal" not in schema.names:
        raise FolderError(f"{path}: no 'signal' column (columns: {schema.names}); expected "
                          "'id' and 'signal' (a list of float32 per row)")
    typ = schema.field("signal").type
    is_list = (pa.types.is_fixed_size_list(typ) or pa.types.is_list(typ)
               or pa.types.is_large_list(typ))
    ok = pa.types.is_fixed_size_list(typ) and pa.types.is_float32(typ.value_type)
    has_id = "id" in schema.names and pa.types.is_integer(schema.field("id").type)
    if not (ok and has_id):
        if not convert:
            if not ok:
                found = (f"{typ.value_type}" if is_list else str(typ))
                if is_list and pa.types.is_float32(typ.value_type):
                    raise FolderError(f"{path}: column 'signal' is {typ}; expected a "
                                      "fixed-size list of float32 (rerun with --convert)")
                raise _bad_dtype(path, found, is_list)
            raise FolderError(f"{path}: no integer 'id' column; add one (row ids) or rerun "
                              "with --convert")
        if not is_list:
            raise _bad_dtype(path, str(typ), False)
        _convert_parquet(path)
        log.info("converted %s to float32", path)
    meta = schema.metadata or {}
    shape = meta.get(b"denoisebench.shape")
    if shape is not None and len(json.loads(shape)) != 1:
        raise FolderError(f"{path}: examples of shape {json.loads(shape)}; a folder dataset "
                          "holds 1-D signals")


def check_energies(clean: np.ndarray, mixed: np.ndarray, clean_path: Path,
                   mixed_path: Path) -> None:
    """Refuse examples without noise: a mixed row equal to its clean row (nothing to denoise,
    and the sweep cannot rescale zero noise). ``clean``, ``mixed``: ``(rows, samples)``. A
    silent clean row (a pause) is fine: evaluation skips it in the per-example SNR means.

    Raises:
        FolderError: naming the file and the first such row.
    """
    c = clean.astype(np.float64)
    same = ~np.any(mixed.astype(np.float64) != c, axis=1)
    if same.any():
        raise FolderError(f"{mixed_path}: row {int(np.argmax(same))} equals its clean row (no "
                          "noise); SNR is undefined for it (drop such rows)")


