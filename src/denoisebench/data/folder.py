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

:mod:`denoisebench.userdata.importer` makes such a folder from paired recordings.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..models import window_multiple
from . import shards
from .folder_checks import FolderError, check_energies, check_shard
from .shards import DataIntegrityError

log = logging.getLogger(__name__)

__all__ = ["FolderError", "check_energies", "check_shard", "folder_errors", "noise_of",
           "scan_folder", "write_folder_manifest"]

REQUIRED_KINDS = ("clean", "mixed")
OPTIONAL_KINDS = ("noise",)


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
    splits, width = _check_splits(root, layout, convert)
    params = dict(extra) if extra is not None else prior.get("params", {})
    path = shards.write_manifest(root, _manifest(name or root.resolve().name, layout["train"][0],
                                                 width, fs, params, splits))
    log.debug("wrote %s: %d train / %d validation examples of %d samples at %g Hz", path,
             splits["train"]["rows"], splits["validation"]["rows"], width, fs)
    return path


def _manifest(name: str, first: Mapping[str, Path], width: int, fs: float,
              params: Mapping[str, Any], splits: Mapping[str, Any]) -> dict[str, Any]:
    """A folder dataset's manifest; ``first`` is its first train shard (the kinds present and
    the format)."""
    kinds = [k for k in (*REQUIRED_KINDS, *OPTIONAL_KINDS) if k in first]
    return {
        "version": shards.MANIFEST_VERSION,
        "dataset": name,
        "kind": "folder",
        "format": "npy" if first["clean"].suffix == ".npy" else "parquet",
        "shape": [width],
        "dtype": shards.DTYPE,
        "fs": fs,
        "missing_targets": False,
        "kinds": kinds,
        "noise": "noise" in kinds,
        "seed": None,
        "params": dict(params),
        "splits": dict(splits),
    }


def _check_splits(root: Path, layout: Mapping[str, list[dict[str, Path]]],
                  convert: bool) -> tuple[dict[str, Any], int]:
    """Check every shard of ``layout`` (:func:`scan_folder`); return the manifest's
    ``splits`` and the examples' common length."""
    width_ref: tuple[int, Path] | None = None
    splits: dict[str, Any] = {}
    for split, entries in layout.items():
        out, offset = [], 0
        for index, entry in enumerate(entries):
            rows, files, width_ref = _check_entry(root, entry, convert, width_ref)
            out.append({"index": index, "rows": rows, "offset": offset, "files": files})
            offset += rows
        splits[split] = {"rows": offset, "shards": out}
    assert width_ref is not None
    return splits, width_ref[0]


def _agree(ref: tuple[int, Path] | None, value: int, path: Path, found: str,
           why: str) -> tuple[int, Path]:
    """The first ``(value, path)`` seen, or ``ref`` when ``value`` agrees with it.

    Raises:
        FolderError: ``<path>: <found>, but <ref file> has <ref value>; <why>`` when not.
    """
    if ref is None:
        return (value, path)
    if value != ref[0]:
        raise FolderError(f"{path}: {found}, but {ref[1]} has {ref[0]}; {why}")
    return ref


def _check_entry(root: Path, entry: Mapping[str, Path], convert: bool,
                 width_ref: tuple[int, Path] | None,
                 ) -> tuple[int, dict[str, Any], tuple[int, Path]]:
    """Check one shard's clean/mixed(/noise) files: ``(rows, manifest files, width_ref)``."""
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
        rows_ref = _agree(rows_ref, rows, path, f"{rows} rows",
                          "the i-th rows of clean, mixed and noise belong together")
        width_ref = _agree(width_ref, width, path, f"examples of {width} samples",
                           "every example of a dataset has the same length")
        files[kind] = {"path": path.relative_to(root).as_posix(),
                       "sha256": shards.sha256_file(path),
                       "bytes": path.stat().st_size}
    assert rows_ref is not None and width_ref is not None
    check_energies(arrays["clean"], arrays["mixed"], entry["clean"], entry["mixed"])
    return rows_ref[0], files, width_ref


def noise_of(reader: shards.DatasetReader, split: str) -> np.ndarray:
    """The noise of a split, ``(rows, samples)`` float32: the noise files where the dataset has
    them, else ``mixed - clean`` (folder datasets without noise files)."""
    first = reader.shards(split)[:1]
    if first and "noise" in first[0].files:
        return reader.read(split, "noise")
    return reader.read(split, "mixed") - reader.read(split, "clean")


# --------------------------------------------------------------------------- params checks


def folder_errors(name: str, ds: Mapping[str, Any], models: Mapping[str, Any]) -> list[str]:
    """Checks of a folder dataset (``kind: folder``, see the module doc): its folder
    and manifest exist (also at Snakemake parse time), the manifest's fs equals ``fs``, and its
    example length suits every model bound to it."""
    p, root = f"datasets.{name}", Path(ds["path"])
    generated = Path("data").resolve()
    if generated == root.resolve() or generated in root.resolve().parents:
        return [f"{p}.path: {ds['path']!r} lies inside data/, the generated datasets' folder "
                f"(`make clean` deletes it); keep your own data elsewhere, e.g. recordings/{name}"]
    if not root.is_dir():
        where = "" if root.is_absolute() else f" (relative to {Path.cwd()})"
        return [f"{p}.path: folder {ds['path']!r} not found{where}; expected a dataset folder "
                "made by `denoisebench datasets import` or `denoisebench datasets manifest`"]
    try:
        manifest = shards.load_manifest(root)
    except DataIntegrityError as exc:
        return [f"{p}.path: {exc}"]
    errors = []
    mfs, shape = manifest.get("fs"), manifest["shape"]
    if not isinstance(mfs, int | float) or not math.isclose(mfs, ds["fs"], rel_tol=1e-9):
        errors.append(f"{p}.fs: {ds['fs']} Hz, but {root / 'manifest.json'} records fs {mfs!r}; "
                      f"expected the same (`denoisebench datasets manifest {root} --fs HZ`)")
    if len(shape) != 1:
        errors.append(f"{p}.path: examples of shape {shape}; a folder dataset holds 1-D signals")
    for m, mp in models.items():
        k = window_multiple(mp.get("kind"))
        if mp.get("dataset") == name and k > 1 and shape[0] % k:
            errors.append(f"models.{m}.dataset: model kind {mp['kind']!r} takes examples of a "
                          f"multiple of {k} samples; {name!r} has {shape[0]} (import again with "
                          f"`datasets import --window N`)")
    return errors
