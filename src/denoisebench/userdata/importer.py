"""Import a user's paired recordings as a folder dataset: ``denoisebench datasets import``.

It turns paired recordings into the folder layout of :mod:`denoisebench.data.folder`::

    <src>/clean/<name>.wav  +  <src>/noisy/<name>.wav     (``mixed/`` is accepted for ``noisy/``)

Each pair (same file name stem; any format :mod:`denoisebench.userdata.files` reads: WAV, NPY,
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

import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..data import shards
from ..data.folder import FolderError, write_folder_manifest
from ..models import GAN_WINDOW_MULTIPLE
from .windows import resample_ratio, windows

log = logging.getLogger(__name__)

NOISY_FOLDERS = ("noisy", "mixed")  # names accepted for the noisy recordings


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
            an extension :mod:`denoisebench.userdata.files` cannot read, two files share a stem, or
            a file has no partner.
    """
    from .files import SIGNAL_FORMATS

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


def _sample_rate(path: Path) -> float | None:
    """Sample rate of a recording in Hz (WAV: from its header, without reading the samples),
    or None for a file that carries none."""
    if path.suffix.lower() == ".wav":
        import soundfile as sf

        try:
            return float(sf.info(str(path)).samplerate)
        except (sf.SoundFileError, RuntimeError):
            pass  # read_signals gives the clear message
    from .files import read_signals

    return read_signals(path).fs


def _load_pair(pair: Pair, fs: float | None) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Read one pair: per-channel clean and noisy signals, and their common sample rate."""
    from .files import read_signals

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
        1.0 by :mod:`denoisebench.userdata.files`); every channel gives its own examples; noise
        files hold ``noisy - clean``. Silent clean windows are kept, windows without noise
        dropped, both counted per recording in ``params.recordings`` (``silent``, ``dropped``).

    Raises:
        FolderError: bad arguments, a bad layout or pair (mismatched rates, channels or lengths),
            rates that differ with no ``--fs``, ``dest`` not empty, or a split without one
            full window.
        SignalFileError: a recording cannot be read or holds non-finite samples.
    """
    src, dest = Path(src), Path(dest)
    hop = _check_import_args(dest, window, hop, fmt, shard_rows, fs)
    pairs = find_pairs(src)
    validation = split_files([p.name for p in pairs], validation_fraction, seed)
    if fs is None:
        fs = _common_rate(src, pairs)
    if window % GAN_WINDOW_MULTIPLE:
        print(f"note: --window {window} is not a multiple of {GAN_WINDOW_MULTIPLE}; the gan and "
              "gan_l1 models cannot train on it", file=sys.stderr)

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".tmp", dir=dest.parent))
    try:
        writers = {s: _SplitWriter(tmp, s, fmt, shard_rows, window) for s in shards.SPLITS}
        record = _write_splits(src, pairs, validation, writers, fs, hop)
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


def _write_splits(src: Path, pairs: Sequence[Pair], validation: set[str],
                  writers: Mapping[str, _SplitWriter], fs: float,
                  hop: int) -> dict[str, dict[str, Any]]:
    """Window every pair into its split's writer; returns ``{split: {name: record}}``.

    Raises:
        FolderError: a split ends up without one full window.
    """
    record: dict[str, dict[str, Any]] = {s: {} for s in shards.SPLITS}
    for pair in pairs:
        split = "validation" if pair.name in validation else "train"
        writer = writers[split]
        record[split][pair.name] = _import_pair(pair, fs, writer.window, hop, writer)
    for split, w in writers.items():
        w.flush()
        if w.index == 0:
            raise FolderError(f"{src}: no recording of the {split} split "
                              f"({', '.join(sorted(record[split]))}) holds a full window of "
                              f"{w.window} samples at {fs:g} Hz")
    return record


def _check_import_args(dest: Path, window: int, hop: int | None, fmt: str, shard_rows: int,
                       fs: float | None) -> int:
    """Refuse bad ``datasets import`` arguments before reading anything; returns the hop.

    Raises:
        FolderError: naming the flag and what it expects.
    """
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
    return hop


def _common_rate(src: Path, pairs: Sequence[Pair]) -> float:
    """The one sample rate all recordings share.

    Raises:
        FolderError: the rates differ or one is unknown (then ``--fs`` is needed).
    """
    rates = {p.name: _sample_rate(p.clean) for p in pairs}
    known = {r for r in rates.values() if r is not None}
    if len(known) != 1 or None in rates.values():
        detail = ", ".join(f"{n}: {r:g} Hz" if r else f"{n}: none"
                           for n, r in sorted(rates.items()))
        raise FolderError(f"{src}: the recordings' sample rates differ or are unknown "
                          f"({detail}); give --fs HZ to resample them to one rate")
    return known.pop()


def _import_pair(pair: Pair, fs: float, window: int, hop: int,
                 writer: _SplitWriter) -> dict[str, Any]:
    """Resample one recording pair to ``fs``, cut every channel into windows, hand the ones
    with noise (silent clean windows included) to ``writer``; returns the pair's record for
    the manifest."""
    from scipy.signal import resample_poly

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
        writer.add(cw[keep], mw[keep])
        count += int(np.count_nonzero(keep))
    if dropped:
        log.warning("%s: %d window(s) dropped: noisy equals clean (no noise)", pair.clean,
                    dropped)
    if count + dropped == 0:
        log.warning("%s: shorter than one window of %d samples at %g Hz; skipped",
                    pair.clean, window, fs)
    return {"clean": str(pair.clean), "noisy": str(pair.noisy), "fs": rate,
            "channels": len(clean_ch), "windows": count, "silent": silent,
            "dropped": dropped}




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
