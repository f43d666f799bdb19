"""Bring your own data: ``denoisebench datasets manifest`` and ``denoisebench datasets import``.

A *folder dataset* (``datasets.<name>.kind: folder`` in params.yaml) is a folder in the
project's shard layout with a ``manifest.json``; it trains and evaluates like a generated
dataset, but nothing in the pipeline ever writes or deletes it::

    <folder>/{train,validation}/clean/<shard>.parquet   (or .npy)
    <folder>/{train,validation}/mixed/<shard>.parquet   same file names, same rows
    <folder>/{train,validation}/noise/<shard>.parquet   optional: all shards or none
    <folder>/manifest.json                              written by `datasets manifest`

Shard files are paired across ``clean``/``mixed``/``noise`` by file name; their i-th rows
belong together. A Parquet shard has an ``id`` (integer) column and a ``signal`` column (a
fixed-size list of float32, one 1-D example per row); an NPY shard is one ``(rows, samples)``
float32 array. Every example of a dataset has the same length (the model's window). Shards are
ordered by file name; example ids follow that order.

Noise files are optional: training and evaluation read ``clean`` and ``mixed`` only. A step
that needs the noise of a folder without noise files (the SNR sweep rescales it) takes
``mixed - clean`` (:func:`noise_of`); ``datasets import`` always writes noise files
(``noisy - clean``, exact for additive noise).

``datasets import`` turns paired recordings into that layout::

    <src>/clean/<name>.wav  +  <src>/noisy/<name>.wav     (``mixed/`` is accepted for ``noisy/``)

Each pair (same file name stem; any format :mod:`denoisebench.audio_io` reads: WAV, NPY,
Parquet, CSV) must agree in channels, sample rate and length. Both are resampled to ``--fs``
(``scipy.signal.resample_poly``) when their rate differs, every channel is cut into windows of
``--window`` samples every ``--hop`` samples (a last partial window is dropped), and whole files
(not windows) are assigned to the validation split by a seeded draw, so no validation window
comes from a training recording. Windows whose clean signal is silent (a pause) are kept, so
that a model learns what to do in pauses; their per-example SNRs are undefined, so the SNR means
of an evaluation skip them and count them (``snr_skipped``), while the aggregate figures include
them. Windows without noise (noisy equal to clean) are dropped on import and refused by
``datasets manifest``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .data import shards
from .data.shards import DataIntegrityError

log = logging.getLogger(__name__)

REQUIRED_KINDS = ("clean", "mixed")
OPTIONAL_KINDS = ("noise",)
NOISY_FOLDERS = ("noisy", "mixed")  # import: names accepted for the noisy recordings
GAN_WINDOW_MULTIPLE = 16  # seed 004's generator: four stride-2 encoder blocks


class FolderError(DataIntegrityError):
    """A user's dataset folder or recordings folder does not follow the layout, or a file in
    it fails a check; the message names the file and what was expected."""


# --------------------------------------------------------------------------- folder layout


def _list_kind(folder: Path) -> dict[str, Path]:
    """Shard files of one ``<split>/<kind>`` folder by file name (hidden files skipped).

    Raises:
        FolderError: a sub-folder or a file that is neither ``.parquet`` nor ``.npy``.
    """
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.name.startswith("."):
            continue  # e.g. a writer's temporary file
        if p.is_dir():
            raise FolderError(f"{p}: unexpected folder; {folder} holds shard files only")
        if p.suffix not in shards.FORMATS.values():
            raise FolderError(f"{p}: unexpected file; shards are "
                              f"{' or '.join(shards.FORMATS.values())} files")
        out[p.name] = p
    return out


def scan_folder(root: str | Path) -> dict[str, list[dict[str, Path]]]:
    """Pair the shard files of a dataset folder by name, without reading them.

    Returns:
        ``{split: [{kind: path}, ...]}`` for ``train`` and ``validation``, shards in file-name
        order; ``noise`` is in every entry or in none.

    Raises:
        FolderError: the folder or a split is missing, a split has no clean shards, a clean
            shard has no mixed partner (or the reverse), noise files exist for some shards
            only, or the shards mix ``.parquet`` and ``.npy``.
    """
    root = Path(root)
    if not root.is_dir():
        raise FolderError(f"{root}: no such folder")
    result: dict[str, list[dict[str, Path]]] = {}
    suffixes: set[str] = set()
    noise_seen: dict[str, bool] = {}
    for split in shards.SPLITS:
        base = root / split
        if not (base / "clean").is_dir():
            raise FolderError(f"{base / 'clean'}: missing; a dataset folder has "
                              "{train,validation}/{clean,mixed}/ shard folders")
        for sub in sorted(base.iterdir()):
            if sub.is_dir() and sub.name not in (*REQUIRED_KINDS, *OPTIONAL_KINDS):
                raise FolderError(f"{sub}: unexpected folder; expected clean, mixed and "
                                  "(optionally) noise")
        files = {k: _list_kind(base / k) if (base / k).is_dir() else {}
                 for k in (*REQUIRED_KINDS, *OPTIONAL_KINDS)}
        if not files["clean"]:
            raise FolderError(f"{base / 'clean'}: no shard files")
        for name, path in files["clean"].items():
            if name not in files["mixed"]:
                raise FolderError(f"{base / 'mixed' / name}: missing; every clean shard needs a "
                                  f"mixed shard of the same name (found {path})")
        for kind in ("mixed", "noise"):
            for name, path in files[kind].items():
                if name not in files["clean"]:
                    raise FolderError(f"{path}: no clean shard of the same name "
                                      f"({base / 'clean' / name} missing)")
        has_noise = bool(files["noise"])
        if has_noise:
            for name in files["clean"]:
                if name not in files["noise"]:
                    raise FolderError(f"{base / 'noise' / name}: missing; noise files are "
                                      "optional, but then every shard needs one (or none does)")
        noise_seen[split] = has_noise
        entries = []
        for name in files["clean"]:
            entry = {k: files[k][name] for k in files if name in files[k]}
            suffixes.update(p.suffix for p in entry.values())
            entries.append(entry)
        result[split] = entries
    if len(set(noise_seen.values())) > 1:
        having = [s for s, v in noise_seen.items() if v]
        raise FolderError(f"{root}: noise files in {having[0]}/noise but not in the other split; "
                          "provide noise for every shard or for none")
    if len(suffixes) > 1:
        raise FolderError(f"{root}: shards mix {sorted(suffixes)}; use one format throughout")
    return result


# --------------------------------------------------------------------------- shard checks


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
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if path.suffix == ".npy":
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
    else:
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


# --------------------------------------------------------------------------- manifest


def _existing(root: Path) -> dict[str, Any]:
    """An existing manifest as a dict ({} when missing or unreadable)."""
    try:
        manifest = json.loads((root / shards.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _existing_fs(root: Path) -> float | None:
    fs = _existing(root).get("fs")
    return float(fs) if isinstance(fs, int | float) and fs > 0 else None


def write_folder_manifest(
    root: str | Path,
    fs: float | None = None,
    *,
    convert: bool = False,
    extra: Mapping[str, Any] | None = None,
    name: str | None = None,
) -> Path:
    """Check every shard of a user's dataset folder and write its ``manifest.json``.

    Args:
        root: the dataset folder (layout in the module docstring).
        fs: sample rate of the examples in Hz; default: the one an existing manifest records.
        convert: rewrite shards that are not float32 (or Parquet shards without an ``id``
            column or with a variable-length list column) in place as float32.
        extra: recorded under ``params`` (e.g. how ``datasets import`` made the folder);
            default: what an existing manifest records there.
        name: the dataset name recorded (default: the folder's name).

    Returns:
        The manifest's path. The manifest has the fields :class:`DatasetReader` checks (format,
        shape, dtype, fs, per-shard rows, offsets, sha256 and size of every file) plus
        ``kind: folder``, ``kinds`` (the kinds present) and ``noise`` (bool).

    Raises:
        FolderError: no ``fs`` given or recorded, ``root`` holds a generated dataset, a layout
            problem (:func:`scan_folder`), a bad shard (:func:`check_shard`), clean/mixed/noise
            of one shard disagreeing in rows, examples of different lengths, or an example
            without noise (:func:`check_energies`).
    """
    root = Path(root)
    layout = scan_folder(root)
    prior = _existing(root)
    if prior.get("kind", "folder") != "folder":
        raise FolderError(f"{root / shards.MANIFEST}: the pipeline generated this "
                          f"{prior['kind']!r} dataset; its manifest is not rewritten "
                          "(`snakemake` keeps it)")
    fs = float(fs) if fs is not None else _existing_fs(root)
    if fs is None or not math.isfinite(fs) or fs <= 0:
        raise FolderError(f"{root}: give the sample rate with --fs HZ (no manifest records one); "
                          "it must equal datasets.<name>.fs in params.yaml")
    width_ref: tuple[int, Path] | None = None
    splits: dict[str, Any] = {}
    for split, entries in layout.items():
        out, offset = [], 0
        for index, entry in enumerate(entries):
            rows_ref: tuple[int, Path] | None = None
            files, arrays = {}, {}
            for kind in (*REQUIRED_KINDS, *OPTIONAL_KINDS):
                if kind not in entry:
                    continue
                path = entry[kind]
                arr = check_shard(path, convert=convert)
                rows, width = arr.shape
                if kind != "noise":
                    arrays[kind] = arr
                if rows_ref is None:
                    rows_ref = (rows, path)
                elif rows != rows_ref[0]:
                    raise FolderError(f"{path}: {rows} rows, but {rows_ref[1]} has "
                                      f"{rows_ref[0]}; the i-th rows of clean, mixed and noise "
                                      "belong together")
                if width_ref is None:
                    width_ref = (width, path)
                elif width != width_ref[0]:
                    raise FolderError(f"{path}: examples of {width} samples, but {width_ref[1]} "
                                      f"has {width_ref[0]}; every example of a dataset has the "
                                      "same length")
                files[kind] = {"path": path.relative_to(root).as_posix(),
                               "sha256": shards.sha256_file(path),
                               "bytes": path.stat().st_size}
            assert rows_ref is not None
            check_energies(arrays["clean"], arrays["mixed"], entry["clean"], entry["mixed"])
            out.append({"index": index, "rows": rows_ref[0], "offset": offset, "files": files})
            offset += rows_ref[0]
        splits[split] = {"rows": offset, "shards": out}
    assert width_ref is not None
    first = layout["train"][0]
    kinds = [k for k in (*REQUIRED_KINDS, *OPTIONAL_KINDS) if k in first]
    manifest = {
        "version": shards.MANIFEST_VERSION,
        "dataset": name or root.resolve().name,
        "kind": "folder",
        "format": "npy" if first["clean"].suffix == ".npy" else "parquet",
        "shape": [width_ref[0]],
        "dtype": shards.DTYPE,
        "fs": fs,
        "missing_targets": False,
        "kinds": kinds,
        "noise": "noise" in kinds,
        "seed": None,
        "params": dict(extra) if extra is not None else prior.get("params", {}),
        "splits": splits,
    }
    path = shards.write_manifest(root, manifest)
    log.debug("wrote %s: %d train / %d validation examples of %d samples at %g Hz", path,
             splits["train"]["rows"], splits["validation"]["rows"], width_ref[0], fs)
    return path


def noise_of(reader: shards.DatasetReader, split: str) -> np.ndarray:
    """The noise of a split, ``(rows, samples)`` float32: the noise files where the dataset has
    them, else ``mixed - clean`` (folder datasets without noise files)."""
    first = reader.shards(split)[:1]
    if first and "noise" in first[0].files:
        return reader.read(split, "noise")
    return reader.read(split, "mixed") - reader.read(split, "clean")


# --------------------------------------------------------------------------- import


@dataclass(frozen=True)
class Pair:
    """One recording: its clean and noisy files (same name stem)."""

    name: str
    clean: Path
    noisy: Path


def find_pairs(src: str | Path) -> list[Pair]:
    """Pair ``src/clean/<name>.<ext>`` with ``src/noisy/<name>.<ext>`` (or ``src/mixed/``).

    Returns:
        The pairs, sorted by name.

    Raises:
        FolderError: the folders are missing, both ``noisy/`` and ``mixed/`` exist, a file has
            an extension :mod:`denoisebench.audio_io` cannot read, two files share a stem, or
            a file has no partner.
    """
    from .audio_io import SIGNAL_FORMATS

    src = Path(src)
    noisy_dirs = [src / n for n in NOISY_FOLDERS if (src / n).is_dir()]
    if not (src / "clean").is_dir() or not noisy_dirs:
        raise FolderError(f"{src}: expected {src / 'clean'}/<name>.wav and "
                          f"{src / 'noisy'}/<name>.wav (paired by name)")
    if len(noisy_dirs) > 1:
        raise FolderError(f"{src}: both noisy/ and mixed/ exist; keep one")

    def stems(folder: Path) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for p in sorted(folder.iterdir()):
            if p.name.startswith(".") or p.is_dir():
                continue
            if p.suffix.lower() not in SIGNAL_FORMATS:
                raise FolderError(f"{p}: unknown extension {p.suffix!r}; expected one of "
                                  f"{sorted(SIGNAL_FORMATS)}")
            if p.stem in out:
                raise FolderError(f"{p}: same name as {out[p.stem]}; recordings are paired by "
                                  "name, so names must be unique")
            out[p.stem] = p
        return out

    clean, noisy = stems(src / "clean"), stems(noisy_dirs[0])
    for name, path in clean.items():
        if name not in noisy:
            raise FolderError(f"{path}: no noisy partner; expected {noisy_dirs[0]}/{name}.*")
    for name, path in noisy.items():
        if name not in clean:
            raise FolderError(f"{path}: no clean partner; expected {src / 'clean'}/{name}.*")
    if not clean:
        raise FolderError(f"{src / 'clean'}: no recordings")
    return [Pair(n, clean[n], noisy[n]) for n in sorted(clean)]


def split_files(names: Sequence[str], validation_fraction: float, seed: int) -> set[str]:
    """The names that go to the validation split: ``round(fraction * n)`` of them (at least
    one, and at least one left for training), drawn by ``numpy.random.default_rng(seed)``.

    Raises:
        FolderError: fewer than two recordings, or a fraction outside (0, 1).
    """
    if not 0.0 < validation_fraction < 1.0:
        raise FolderError(f"--validation-fraction {validation_fraction}: expected a number "
                          "between 0 and 1")
    n = len(names)
    if n < 2:
        raise FolderError(f"{n} recording(s); the split is by recording, so at least 2 are "
                          "needed (one for training, one for validation)")
    n_val = min(n - 1, max(1, round(validation_fraction * n)))
    order = np.random.default_rng(seed).permutation(n)
    return {sorted(names)[i] for i in order[:n_val]}


def windows(x: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Cut ``x`` ``(n_samples,)`` into ``(count, window)`` frames starting every ``hop``
    samples; a last partial frame is dropped (``count`` is 0 when ``n_samples < window``)."""
    if len(x) < window:
        return np.zeros((0, window), np.float32)
    return np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float32), window)[::hop]


def _sample_rate(path: Path) -> float | None:
    """Sample rate of a recording in Hz (WAV: from its header, without reading the samples),
    or None for a file that carries none."""
    if path.suffix.lower() == ".wav":
        import soundfile as sf

        try:
            return float(sf.info(str(path)).samplerate)
        except (sf.SoundFileError, RuntimeError):
            pass  # read_signals gives the clear message
    from .audio_io import read_signals

    return read_signals(path).fs


def _load_pair(pair: Pair, fs: float | None) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Read one pair: per-channel clean and noisy signals, and their common sample rate."""
    from .audio_io import read_signals

    c, m = read_signals(pair.clean), read_signals(pair.noisy)
    rate_c, rate_m = c.fs or fs, m.fs or fs
    if rate_c is None or rate_m is None:
        missing = pair.clean if rate_c is None else pair.noisy
        raise FolderError(f"{missing}: the file carries no sample rate; give --fs HZ")
    if rate_c != rate_m:
        raise FolderError(f"{pair.noisy}: {rate_m:g} Hz, but {pair.clean} has {rate_c:g} Hz; "
                          "a clean/noisy pair must share the sample rate")
    if len(c.data) != len(m.data):
        raise FolderError(f"{pair.noisy}: {len(m.data)} channel(s), but {pair.clean} has "
                          f"{len(c.data)}")
    for a, b, label in zip(c.data, m.data, c.labels, strict=True):
        if len(a) != len(b):
            raise FolderError(f"{pair.noisy}: {label} has {len(b)} samples, but {pair.clean} "
                              f"has {len(a)}; a clean/noisy pair must be aligned sample by "
                              "sample")
    return c.data, m.data, float(rate_c)


class _SplitWriter:
    """Buffers windows of one split and writes a shard (clean, noise, mixed) every
    ``shard_rows`` rows."""

    def __init__(self, root: Path, split: str, fmt: str, shard_rows: int, window: int) -> None:
        self.root, self.split, self.fmt = root, split, fmt
        self.shard_rows, self.window = shard_rows, window
        self.buf: dict[str, list[np.ndarray]] = {"clean": [], "mixed": []}
        self.buffered = self.index = self.offset = 0

    def add(self, clean: np.ndarray, mixed: np.ndarray) -> None:
        start = 0
        while start < len(clean):
            take = min(len(clean) - start, self.shard_rows - self.buffered)
            self.buf["clean"].append(clean[start:start + take])
            self.buf["mixed"].append(mixed[start:start + take])
            self.buffered += take
            start += take
            if self.buffered == self.shard_rows:
                self.flush()

    def flush(self) -> None:
        if not self.buffered:
            return
        clean = np.concatenate(self.buf["clean"])
        mixed = np.concatenate(self.buf["mixed"])
        ids = np.arange(self.offset, self.offset + len(clean), dtype=np.int64)
        meta = {"split": self.split, "shard": self.index}
        for kind, arr in (("clean", clean), ("noise", mixed - clean), ("mixed", mixed)):
            path = shards.shard_path(self.root, self.split, kind, self.index, self.fmt)
            shards.write_shard(path, ids, arr, {**meta, "kind": kind})
        self.offset += len(clean)
        self.index += 1
        self.buf = {"clean": [], "mixed": []}
        self.buffered = 0


def import_recordings(
    src: str | Path,
    dest: str | Path,
    window: int,
    *,
    hop: int | None = None,
    validation_fraction: float = 0.2,
    fs: float | None = None,
    seed: int = 0,
    fmt: str = "parquet",
    shard_rows: int = 10_000,
) -> Path:
    """Turn paired clean/noisy recordings into a folder dataset with its manifest.

    Args:
        src: folder with ``clean/`` and ``noisy/`` (or ``mixed/``) recordings paired by name
            (:func:`find_pairs`).
        dest: the new dataset folder; must not exist or be empty. Built in a temporary sibling
            folder and renamed when complete, so a failed import leaves nothing behind.
        window: samples per example (the model's input length; seed 004's generator needs a
            multiple of 16).
        hop: samples between window starts (default ``window``: no overlap).
        validation_fraction: share of *recordings* (not windows) for the validation split.
        fs: sample rate of the dataset in Hz. Recordings at another rate are resampled
            (``scipy.signal.resample_poly``); files without a rate (NPY, CSV) are taken to be
            at ``fs``. Default: the recordings' common rate.
        seed: seed of the train/validation draw.
        fmt: ``parquet`` or ``npy`` shards.
        shard_rows: examples per shard file.

    Returns:
        The manifest's path. Signals keep their units (WAV integer PCM is scaled to full scale
        1.0 by :mod:`denoisebench.audio_io`); every channel gives its own examples; noise files
        hold ``noisy - clean``. Windows whose clean signal is silent are kept (counted as
        ``silent`` per recording in the manifest's ``params.recordings``); windows without
        noise (noisy equal to clean) are dropped and counted there as ``dropped``.

    Raises:
        FolderError: bad arguments, a bad layout or pair (mismatched rates, channels or lengths),
            rates that differ with no ``--fs``, ``dest`` not empty, or a split without one
            full window.
        SignalFileError: a recording cannot be read or holds non-finite samples.
    """
    from scipy.signal import resample_poly

    from .denoise import resample_ratio

    src, dest = Path(src), Path(dest)
    if window < 2:
        raise FolderError(f"--window {window}: expected at least 2 samples")
    hop = window if hop is None else hop
    if hop < 1:
        raise FolderError(f"--hop {hop}: expected at least 1 sample")
    if fmt not in shards.FORMATS:
        raise FolderError(f"--format {fmt}: expected one of {sorted(shards.FORMATS)}")
    if shard_rows < 1:
        raise FolderError(f"--shard-rows {shard_rows}: expected at least 1")
    if fs is not None and (not math.isfinite(fs) or fs <= 0):
        raise FolderError(f"--fs {fs}: expected a positive sample rate in Hz")
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise FolderError(f"{dest}: exists and is not an empty folder; choose a new folder")
    pairs = find_pairs(src)
    validation = split_files([p.name for p in pairs], validation_fraction, seed)
    if fs is None:
        rates = {p.name: _sample_rate(p.clean) for p in pairs}
        known = {r for r in rates.values() if r is not None}
        if len(known) != 1 or None in rates.values():
            detail = ", ".join(f"{n}: {r:g} Hz" if r else f"{n}: none"
                               for n, r in sorted(rates.items()))
            raise FolderError(f"{src}: the recordings' sample rates differ or are unknown "
                              f"({detail}); give --fs HZ to resample them to one rate")
        fs = known.pop()
    if window % GAN_WINDOW_MULTIPLE:
        print(f"note: --window {window} is not a multiple of {GAN_WINDOW_MULTIPLE}; the gan and "
              "gan_l1 models cannot train on it", file=sys.stderr)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        writers = {s: _SplitWriter(tmp, s, fmt, shard_rows, window) for s in shards.SPLITS}
        record: dict[str, dict[str, Any]] = {s: {} for s in shards.SPLITS}
        for pair in pairs:
            split = "validation" if pair.name in validation else "train"
            clean_ch, noisy_ch, rate = _load_pair(pair, fs)
            count = dropped = silent = 0
            for c, m in zip(clean_ch, noisy_ch, strict=True):
                if rate != fs:
                    up, down = resample_ratio(rate, fs)
                    c = resample_poly(c, up, down, padtype="line").astype(np.float32)
                    m = resample_poly(m, up, down, padtype="line").astype(np.float32)
                cw, mw = windows(c, window, hop), windows(m, window, hop)
                keep = np.any(mw != cw, axis=1)  # noise present; a silent clean window is kept
                dropped += int(np.count_nonzero(~keep))
                silent += int(np.count_nonzero(keep & ~np.any(cw != 0, axis=1)))
                writers[split].add(cw[keep], mw[keep])
                count += int(np.count_nonzero(keep))
            if dropped:
                log.warning("%s: %d window(s) dropped: noisy equals clean (no noise)",
                            pair.clean, dropped)
            if count + dropped == 0:
                log.warning("%s: shorter than one window of %d samples at %g Hz; skipped",
                            pair.clean, window, fs)
            record[split][pair.name] = {"clean": str(pair.clean), "noisy": str(pair.noisy),
                                        "fs": rate, "channels": len(clean_ch), "windows": count,
                                        "silent": silent, "dropped": dropped}
        for split, w in writers.items():
            w.flush()
            if w.index == 0:
                raise FolderError(f"{src}: no recording of the {split} split "
                                  f"({', '.join(sorted(record[split]))}) holds a full window of "
                                  f"{window} samples at {fs:g} Hz")
        extra = {"source": str(src), "window": window, "hop": hop, "fs": fs,
                 "validation_fraction": validation_fraction, "seed": seed, "recordings": record}
        write_folder_manifest(tmp, fs, extra=extra, name=dest.resolve().name)
        if dest.exists():
            dest.rmdir()
        os.replace(tmp, dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return dest / shards.MANIFEST


# --------------------------------------------------------------------------- command line


def params_snippet(root: Path, name: str | None = None) -> str:
    """``datasets.<name>`` (and, for windows seed 004's generator takes, a ``gan_l1`` model)
    entries for params.yaml that bind the folder at ``root``."""
    manifest = shards.load_manifest(root)
    name = name or "".join(ch if ch.isalnum() else "_" for ch in root.resolve().name.lower())
    if not name[:1].isalpha():
        name = f"ds_{name}"
    fs = float(manifest["fs"])
    cutoff = round(0.25 * fs, 3)
    text = (f"datasets:\n  {name}:\n    kind: folder\n    path: {root.as_posix()}\n"
            f"    fs: {fs:g}\n    lowpass:             # choose a cutoff for your signal\n"
            f"      design: butter\n      cutoff_hz: {cutoff:g}\n      order: 4\n")
    if manifest["shape"][0] % GAN_WINDOW_MULTIPLE == 0:
        text += (f"models:\n  {name}_l1:\n    kind: gan_l1\n    dataset: {name}\n"
                 "    epochs: 8\n    batch_size: 50\n    generator_lr: 1.0e-3\n"
                 "    lr_halving_epochs: 50\n    patience: 50\n    shuffle_buffer: 4000\n")
    return text


def _iter_lines(manifest: Mapping[str, Any]) -> Iterator[str]:
    for split in shards.SPLITS:
        body = manifest["splits"][split]
        yield f"  {split}: {body['rows']} examples in {len(body['shards'])} shard(s)"


def run_manifest(args: argparse.Namespace) -> int:
    """Handler of ``denoisebench datasets manifest``."""
    root = Path(args.path)
    try:
        path = write_folder_manifest(root, args.fs, convert=args.convert)
    except DataIntegrityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = shards.load_manifest(root)
    print(f"wrote {path}: examples of {manifest['shape'][0]} samples at {manifest['fs']:g} Hz, "
          f"noise files: {'yes' if manifest['noise'] else 'no (mixed - clean is used)'}")
    for line in _iter_lines(manifest):
        print(line)
    print("add to params.yaml:\n" + params_snippet(root))
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Handler of ``denoisebench datasets import``."""
    from .audio_io import SignalFileError

    try:
        path = import_recordings(args.src, args.output, args.window, hop=args.hop,
                                 validation_fraction=args.validation_fraction, fs=args.fs,
                                 seed=args.seed, fmt=args.format, shard_rows=args.shard_rows)
    except (DataIntegrityError, SignalFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    manifest = shards.load_manifest(path.parent)
    print(f"wrote {path.parent}: windows of {args.window} samples at {manifest['fs']:g} Hz")
    for line in _iter_lines(manifest):
        print(line)
    print("add to params.yaml:\n" + params_snippet(Path(args.output)))
    return 0


def add_datasets_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``denoisebench datasets {manifest,import}`` on ``subparsers``.

    Returns the ``datasets`` subparser.
    """
    p = subparsers.add_parser(
        "datasets", help="bring your own data: import recordings, check a dataset folder",
        description="Folder datasets (datasets.<name>.kind: folder): "
                    "{train,validation}/{clean,mixed}[/noise]/*.parquet|*.npy plus manifest.json.")
    sub = p.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")
    m = sub.add_parser(
        "manifest", help="check a dataset folder and write its manifest.json",
        description="Pair clean/mixed(/noise) shards by file name, check rows, lengths, float32 "
                    "and finite values, and write PATH/manifest.json (sha256 of every shard).")
    m.add_argument("path", metavar="PATH", help="dataset folder")
    m.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sample rate in Hz (default: the one the existing manifest records)")
    m.add_argument("--convert", action="store_true",
                   help="rewrite shards that are not float32 in place as float32")
    m.set_defaults(func=run_manifest)
    i = sub.add_parser(
        "import", help="cut paired clean/noisy recordings into a dataset folder",
        description="SRC/clean/<name>.wav + SRC/noisy/<name>.wav (or mixed/; also .npy, .csv, "
                    ".parquet) -> DEST in the dataset layout, windows of N samples, split by "
                    "recording.")
    i.add_argument("src", metavar="SRC", help="folder with clean/ and noisy/ recordings")
    i.add_argument("-o", "--output", required=True, metavar="DEST",
                   help="new dataset folder (must not exist or be empty)")
    i.add_argument("--window", type=int, required=True, metavar="N",
                   help="samples per example (the model's input length; gan/gan_l1: a "
                        "multiple of 16)")
    i.add_argument("--hop", type=int, default=None, metavar="N",
                   help="samples between windows (default: N, no overlap)")
    i.add_argument("--validation-fraction", type=float, default=0.2, metavar="F",
                   help="share of recordings (not windows) for validation (default 0.2)")
    i.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="dataset sample rate; recordings at other rates are resampled "
                        "(default: the recordings' common rate)")
    i.add_argument("--seed", type=int, default=0, help="seed of the train/validation draw")
    i.add_argument("--format", choices=sorted(shards.FORMATS), default="parquet")
    i.add_argument("--shard-rows", type=int, default=10_000, metavar="R",
                   help="examples per shard file")
    i.set_defaults(func=run_import)
    return p
