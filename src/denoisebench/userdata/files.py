"""Read and write a user's signal files for ``denoisebench denoise``.

Each reader returns a :class:`SignalFile`: the data as float32 in signal units plus the layout
needed to write the same format back. Readers check the content (parsable, not empty, finite)
before handing it out; writers go through a temporary file in the target folder and a rename
(:func:`denoisebench.atomic.atomic_write_bytes`), so an output is never half-written.

Signal formats (one ``(n_samples,)`` array per signal):

- ``.wav``: one signal per channel; integer PCM is scaled to full scale 1.0 and written back
  in the same integer subtype (rounded and clipped); float stays float. Keeps the sample rate.
- ``.npy``: ``(n,)`` one signal, or ``(rows, n)`` one signal per row.
- ``.parquet``: a list column (fixed-size or variable-length; ``signal`` if there are several),
  one signal per row, other columns kept; or, with no list column, one signal per floating
  column. A ``denoisebench.fs`` schema metadata entry gives the sample rate.
- ``.csv``: one signal per column, with or without a header row.

Image formats: :mod:`denoisebench.userdata.image_files` (same :class:`SignalFile`, same checks).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..atomic import atomic_write_bytes

SIGNAL_FORMATS = {".wav": "wav", ".npy": "npy", ".parquet": "parquet", ".csv": "csv"}
IMAGE_FORMATS = {".npy": "npy", ".png": "png"}
_WAV_CONTAINERS = ("WAV", "WAVEX", "RF64", "W64")
_WAV_INT = {"PCM_16": np.int16, "PCM_U8": np.int16, "PCM_S8": np.int16,
            "PCM_24": np.int32, "PCM_32": np.int32}
_WRITE_BLOCK = 1 << 20  # frames per block when writing WAV


class SignalFileError(ValueError):
    """A file cannot be read as the format its extension names, or its content is unusable."""


@dataclass
class SignalFile:
    """The content of one file.

    Attributes:
        path: where it was read from.
        fmt: ``wav``, ``npy``, ``parquet``, ``csv`` or ``png``.
        data: signals: one ``(n_samples,)`` float32 array per channel/row/column, in signal
            units (WAV: full scale 1.0); images: one ``(n_images, h, w)`` float32 array.
        labels: one label per entry of ``data`` for messages (``channel 1``, ``column 'x'``).
        fs: sample rate in Hz where the file carries one, else ``None``.
        layout: format-specific details used by the writers.
    """

    path: Path
    fmt: str
    data: list[np.ndarray]
    labels: list[str]
    fs: float | None = None
    layout: dict[str, Any] = field(default_factory=dict)


def file_format(path: Path, images: bool = False) -> str:
    """Format name for ``path`` by its extension (case-insensitive).

    Raises:
        SignalFileError: the extension is not one of the signal (or image) formats.
    """
    table = IMAGE_FORMATS if images else SIGNAL_FORMATS
    fmt = table.get(Path(path).suffix.lower())
    if fmt is None:
        kind = "image" if images else "signal"
        raise SignalFileError(f"{path}: unknown extension {Path(path).suffix!r} for a {kind} "
                              f"model; expected one of {sorted(table)}")
    return fmt


def read_signals(path: Path) -> SignalFile:
    """Read a signal file (WAV, NPY, Parquet, CSV); see the module docstring for layouts.

    Returns:
        A :class:`SignalFile` whose ``data`` holds non-empty, finite ``(n_samples,)`` float32
        arrays.

    Raises:
        SignalFileError: unknown extension, unreadable or mislabelled file, no samples, a
            non-numeric column, or a NaN/inf sample (message names the first one).
    """
    path = Path(path)
    fmt = file_format(path)
    check_not_empty_file(path)
    rec = {"wav": _read_wav, "npy": _read_npy, "parquet": _read_parquet, "csv": _read_csv}[fmt](
        path)
    if not rec.data:
        raise SignalFileError(f"{path}: no signals in file")
    for arr, label in zip(rec.data, rec.labels, strict=True):
        if arr.size == 0:
            raise SignalFileError(f"{path}: {label} has no samples")
        check_finite(path, arr, label)
    return rec


def write_signals(path: Path, like: SignalFile, data: list[np.ndarray]) -> None:
    """Write ``data`` (same count and lengths as ``like.data``) to ``path`` in ``like``'s format.

    Atomic: a temporary file in the same folder is renamed to ``path`` when complete.

    Raises:
        ValueError: ``data`` does not match ``like`` in count.
    """
    if len(data) != len(like.data):
        raise ValueError(f"{path}: {len(data)} signals for {len(like.data)} read")
    writer = {"wav": _write_wav, "npy": _write_npy, "parquet": _write_parquet,
              "csv": _write_csv}[like.fmt]
    atomic_write_bytes(Path(path), lambda tmp: writer(tmp, like, data))


# --- checks ---------------------------------------------------------------------------------

def check_not_empty_file(path: Path) -> None:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SignalFileError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    if not path.is_file():
        raise SignalFileError(f"{path}: not a file")
    if size == 0:
        raise SignalFileError(f"{path}: empty file")


def check_finite(path: Path, arr: np.ndarray, label: str) -> None:
    if arr.dtype.kind != "f" or np.isfinite(arr).all():
        return
    flat = int(np.argmin(np.isfinite(arr).reshape(-1)))
    value = arr.reshape(-1)[flat]
    if arr.ndim == 1:
        where = f"sample {flat}"
    else:
        idx = np.unravel_index(flat, arr.shape)
        where = f"image {idx[0]}, pixel {tuple(int(i) for i in idx[1:])}"
    raise SignalFileError(f"{path}: {label}: non-finite value {value} at {where}; "
                          "clean or interpolate it first")


def _numeric(path: Path, arr: np.ndarray, what: str) -> np.ndarray:
    if arr.dtype.kind not in "fiu":
        raise SignalFileError(f"{path}: {what} has dtype {arr.dtype}; expected numbers")
    return arr


# --- WAV ------------------------------------------------------------------------------------

def _read_wav(path: Path) -> SignalFile:
    import soundfile as sf

    try:
        info = sf.info(str(path))
        if info.format not in _WAV_CONTAINERS:
            raise SignalFileError(f"{path}: is a {info.format} file, not WAV")
        dtype = _WAV_INT.get(info.subtype)
        raw, fs = sf.read(str(path), dtype=np.dtype(dtype or np.float32).name, always_2d=True)
    except (sf.SoundFileError, RuntimeError) as exc:
        raise SignalFileError(f"{path}: not a readable WAV file ({exc})") from exc
    if raw.shape[0] == 0:
        raise SignalFileError(f"{path}: WAV file has no samples")
    if dtype is not None:
        data = raw.astype(np.float32) / np.float32(2.0 ** (8 * raw.itemsize - 1))
    else:
        data = raw
    layout = {"format": info.format, "subtype": info.subtype, "dtype": dtype}
    return SignalFile(path, "wav", [data[:, c] for c in range(data.shape[1])],
                      [f"channel {c}" for c in range(data.shape[1])], float(fs), layout)


def _write_wav(tmp: Path, like: SignalFile, data: list[np.ndarray]) -> None:
    import soundfile as sf

    frames = len(data[0])
    dtype = like.layout["dtype"]
    with sf.SoundFile(str(tmp), "w", samplerate=int(round(like.fs or 0)), channels=len(data),
                      subtype=like.layout["subtype"], format=like.layout["format"]) as fh:
        for start in range(0, frames, _WRITE_BLOCK):
            block = np.stack([d[start:start + _WRITE_BLOCK] for d in data], axis=1)
            if dtype is not None:
                info = np.iinfo(dtype)
                block = np.clip(np.rint(block.astype(np.float64) * (info.max + 1.0)),
                                info.min, info.max).astype(dtype)
            else:
                block = block.astype(np.float32)
            fh.write(block)


# --- NPY ------------------------------------------------------------------------------------

def load_npy(path: Path) -> np.ndarray:
    with open(path, "rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            raise SignalFileError(f"{path}: not an NPY file (no NPY header)")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise SignalFileError(f"{path}: not a readable NPY file ({exc})") from exc


def save_npy(tmp: Path, arr: np.ndarray) -> None:
    with open(tmp, "wb") as fh:
        np.save(fh, arr, allow_pickle=False)


def _read_npy(path: Path) -> SignalFile:
    arr = _numeric(path, load_npy(path), "array")
    if arr.ndim not in (1, 2):
        raise SignalFileError(f"{path}: array of shape {arr.shape}; expected (n_samples,) or "
                              "(n_signals, n_samples)")
    rows = arr.reshape(1, -1) if arr.ndim == 1 else arr
    dtype = arr.dtype if arr.dtype.kind == "f" else np.dtype(np.float32)
    return SignalFile(path, "npy", [np.asarray(r, np.float32) for r in rows],
                      [f"row {i}" for i in range(len(rows))],
                      layout={"shape": arr.shape, "dtype": dtype})


def _write_npy(tmp: Path, like: SignalFile, data: list[np.ndarray]) -> None:
    save_npy(tmp, np.stack(data).reshape(like.layout["shape"]).astype(like.layout["dtype"]))


# --- Parquet --------------------------------------------------------------------------------

def _read_parquet(path: Path) -> SignalFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SignalFileError(f"{path}: not a readable Parquet file ({exc})") from exc
    if table.num_rows == 0:
        raise SignalFileError(f"{path}: Parquet file has no rows")
    fs = None
    meta = table.schema.metadata or {}
    if b"denoisebench.fs" in meta:
        fs = float(json.loads(meta[b"denoisebench.fs"]))
    lists = [f.name for f in table.schema if pa.types.is_list(f.type)
             or pa.types.is_large_list(f.type) or pa.types.is_fixed_size_list(f.type)]
    if lists:
        if len(lists) > 1 and "signal" not in lists:
            raise SignalFileError(f"{path}: several list columns {lists}; name the signal "
                                  "column 'signal'")
        name = "signal" if "signal" in lists else lists[0]
        arr = table.column(name).combine_chunks()
        if arr.null_count:
            row = int(np.argmax(np.asarray(arr.is_null())))
            raise SignalFileError(f"{path}: column {name!r}: row {row} is null")
        values = _numeric(path, arr.values.to_numpy(zero_copy_only=False),
                          f"column {name!r}").astype(np.float32)
        if pa.types.is_fixed_size_list(arr.type):
            width = arr.type.list_size
            offsets = (arr.offset + np.arange(len(arr) + 1)) * width
        else:
            offsets = arr.offsets.to_numpy()
        data = [values[offsets[i]:offsets[i + 1]] for i in range(len(arr))]
        labels = [f"column {name!r} row {i}" for i in range(len(arr))]
        return SignalFile(path, "parquet", data, labels, fs, {"table": table, "list": name})
    names = [f.name for f in table.schema if pa.types.is_floating(f.type)]
    if not names:
        raise SignalFileError(f"{path}: no list or floating-point column to denoise")
    data = [table.column(n).to_numpy().astype(np.float32) for n in names]
    return SignalFile(path, "parquet", data, [f"column {n!r}" for n in names], fs,
                      {"table": table, "columns": names})


def _write_parquet(tmp: Path, like: SignalFile, data: list[np.ndarray]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = like.layout["table"]
    if "list" in like.layout:
        name = like.layout["list"]
        typ = table.schema.field(name).type
        value_type = typ.value_type if pa.types.is_floating(typ.value_type) else pa.float32()
        values = pa.array(np.concatenate(data), type=value_type)
        if pa.types.is_fixed_size_list(typ):
            column = pa.FixedSizeListArray.from_arrays(values, typ.list_size)
        else:
            large = pa.types.is_large_list(typ)
            cls, off_type = (pa.LargeListArray, pa.int64()) if large else (pa.ListArray, pa.int32())
            offsets = np.concatenate([[0], np.cumsum([len(d) for d in data])])
            column = cls.from_arrays(pa.array(offsets, type=off_type), values)
        updates = {name: column}
    else:
        updates = {n: pa.array(d, type=table.schema.field(n).type)
                   for n, d in zip(like.layout["columns"], data, strict=True)}
    for name, column in updates.items():
        i = table.schema.get_field_index(name)
        table = table.set_column(i, table.schema.field(name).with_type(column.type), column)
    pq.write_table(table, tmp, compression="zstd")


# --- CSV ------------------------------------------------------------------------------------

def _read_csv(path: Path) -> SignalFile:
    import pandas as pd

    try:
        with open(path, newline="", encoding="utf-8") as fh:
            first = next(csv.reader(fh), [])
        header = not all(_is_number(c) for c in first)
        df = pd.read_csv(path, header=0 if header else None)
    except (ValueError, OSError, csv.Error) as exc:  # pandas' parser errors are ValueErrors
        raise SignalFileError(f"{path}: not a readable CSV file ({exc})") from exc
    if len(df) == 0:
        raise SignalFileError(f"{path}: CSV file has no rows")
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            raise SignalFileError(f"{path}: column {c!r} is not numeric; expected one signal "
                                  "per column")
    data = [df[c].to_numpy(dtype=np.float32, na_value=np.nan) for c in df.columns]
    return SignalFile(path, "csv", data, [f"column {c!r}" for c in df.columns],
                      layout={"columns": list(df.columns), "header": header})


def _write_csv(tmp: Path, like: SignalFile, data: list[np.ndarray]) -> None:
    import pandas as pd

    df = pd.DataFrame(dict(zip(like.layout["columns"], data, strict=True)))
    df.to_csv(tmp, index=False, header=like.layout["header"], float_format="%.9g")


def _is_number(text: Any) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True
