"""Tune a dataset's Butterworth lowpass baseline on its TRAIN split (never on validation).

The lowpass is the baseline every model is judged against; its ``cutoff_hz`` and ``order``
(``datasets.<name>.lowpass`` with ``design: butter``) are chosen by an exhaustive search over a
grid, scoring each zero-phase filter (``sosfiltfilt``, as :mod:`denoisebench.evaluation.baselines`
applies it) by its error against the clean signal on training examples. The validation split stays
untouched, so the baseline's validation figures are honest held-out numbers, like the models'.

Usage (prints the best settings and the runner-ups; paste the best into params.yaml)::

    denoisebench tune-lowpass --dataset sine [--params params.yaml] [--rows 4000]

The lowpass' params checks (:func:`lowpass_errors`) live here too: the baselines own them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

CRITERIA = ("mse", "mae")


@dataclass(frozen=True)
class TuneResult:
    """The best ``(cutoff_hz, order)`` and the whole grid, best first.

    ``table`` rows are ``(cutoff_hz, order, mse, mae, snri_db_agg)``; ``score`` is the
    criterion's value of the best row.
    """

    cutoff_hz: float
    order: int
    criterion: str
    score: float
    table: list[tuple[float, int, float, float, float]] = field(repr=False)


def padlen(order: int) -> int:
    """Samples ``scipy.signal.sosfiltfilt`` pads on each side for a Butterworth of ``order``
    (its default: 3 x (2 sections + 1), one fewer tap for an odd order's first-order section);
    signals must be longer than this."""
    sections = math.ceil(order / 2)
    return 3 * (2 * sections + 1 - order % 2)


def tune_lowpass(
    clean: np.ndarray,
    mixed: np.ndarray,
    fs: float,
    cutoffs: Iterable[float],
    orders: Iterable[int],
    criterion: str = "mse",
) -> TuneResult:
    """Grid search of a zero-phase Butterworth lowpass on ``(clean, mixed)`` training pairs.

    Args:
        clean, mixed: ``(rows, time)`` in signal units; NaN in ``clean`` (missing targets) is
            left out of the errors.
        fs: sample rate (the dataset's ``fs``; cutoffs in the same unit per second/sample).
        cutoffs: -3 dB frequencies to try, each in (0, fs / 2).
        orders: filter orders to try, each >= 1 with ``padlen(order) < time``.
        criterion: ``"mse"`` (mean squared error: the same ranking as aggregate SNRi) or
            ``"mae"``.

    Returns:
        A :class:`TuneResult`; ties go to the lower order, then the lower cutoff.

    Raises:
        ValueError: empty grid, a cutoff outside (0, fs / 2), an order too high for the
            signal length, an unknown criterion, or shapes that differ.
    """
    from scipy import signal  # here, not at import: params checks run at Snakefile parse

    clean = np.asarray(clean, np.float64)
    mixed = np.asarray(mixed, np.float64)
    if clean.shape != mixed.shape or clean.ndim != 2:
        raise ValueError(f"clean {clean.shape} and mixed {mixed.shape} must be equal (rows, time)")
    if criterion not in CRITERIA:
        raise ValueError(f"unknown criterion {criterion!r}; expected one of {CRITERIA}")
    cutoffs, orders = sorted(float(c) for c in cutoffs), sorted(int(o) for o in orders)
    if not cutoffs or not orders:
        raise ValueError("empty search grid")
    nyq = fs / 2
    if not all(0 < c < nyq for c in cutoffs):
        raise ValueError(f"cutoffs must lie in (0, Nyquist = {nyq}); got {cutoffs}")
    if orders[0] < 1 or padlen(orders[-1]) >= clean.shape[1]:
        raise ValueError(f"orders must be >= 1 and leave sosfiltfilt's padding "
                         f"({padlen(orders[-1])} samples for order {orders[-1]}) below the "
                         f"signal length {clean.shape[1]}")
    present = np.isfinite(clean)
    y = np.where(present, clean, 0.0)
    noise_energy = float(np.sum(np.where(present, mixed - y, 0.0) ** 2))
    table = []
    for order, cutoff in itertools.product(orders, cutoffs):
        sos = signal.butter(order, cutoff, btype="lowpass", fs=fs, output="sos")
        err = np.where(present, signal.sosfiltfilt(sos, mixed, axis=-1) - y, 0.0)
        n = max(int(present.sum()), 1)
        sq = float(np.sum(err**2))
        snri = 10 * math.log10(max(noise_energy, 1e-300) / max(sq, 1e-300))
        table.append((cutoff, order, sq / n, float(np.sum(np.abs(err))) / n, snri))
    col = 2 if criterion == "mse" else 3
    table.sort(key=lambda r: (r[col], r[1], r[0]))
    best = table[0]
    return TuneResult(best[0], best[1], criterion, best[col], table)


def default_cutoffs(fs: float, count: int = 48) -> np.ndarray:
    """A log-spaced grid of cutoffs from fs/1000 to 0.45 fs (below Nyquist)."""
    return np.geomspace(fs / 1000, 0.45 * fs, count)


def train_split(name: str, params: Mapping[str, Any], seed: int,
                max_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The TRAIN split of a generated 1-D dataset, in memory: exactly the rows its shards hold
    (same per-shard SeedSequence as :func:`denoisebench.data.generate.generate_shard`), shard by
    shard, stopping after ``max_rows``. Returns ``(clean, mixed)`` ``(rows, time)`` float32.

    Raises:
        KeyError: the dataset kind has no generator.
    """
    from ..data import kinds
    from ..data.generate import n_shards, shard_rows, shard_seed

    cleans, mixeds, total = [], [], 0
    for i in range(n_shards(params, "train")):
        _, rows = shard_rows(params, "train", i)
        rng = np.random.default_rng(shard_seed(seed, name, "train", i))
        clean, noise = kinds.generate(params, rows, rng, split="train", offset=0)
        cleans.append(clean)
        mixeds.append(clean + noise)
        total += rows
        if max_rows is not None and total >= max_rows:
            break
    clean, mixed = np.concatenate(cleans), np.concatenate(mixeds)
    return clean[:max_rows], mixed[:max_rows]


def padlen_errors(p: str, ds: Mapping[str, Any]) -> list[str]:
    """A ``butter`` lowpass' zero-phase padding must fit the signal (kinds with a ``length``,
    seeds 000 and 001); ``p`` is ``datasets.<name>``."""
    lp = ds.get("lowpass", {})
    if "length" in ds and lp.get("design") == "butter" and ds["length"] <= padlen(lp["order"]):
        return [f"{p}.lowpass.order: order {lp['order']} needs signals longer than "
                f"{padlen(lp['order'])} samples (sosfiltfilt's padding); {p}.length is "
                f"{ds['length']}"]
    return []


def lowpass_errors(p: str, ds: Mapping[str, Any]) -> list[str]:
    """Checks of ``datasets.<name>.lowpass`` that JSON Schema cannot express: every edge below
    Nyquist, and a ``buttord`` passband below its stopband."""
    lp, fs = ds.get("lowpass"), ds.get("fs")
    if not (lp and fs):
        return []
    errors = []
    nyq = fs / 2
    edges = ([("cutoff_hz", lp["cutoff_hz"])] if lp["design"] == "butter"
             else [("passband_hz", lp["passband_hz"]), ("stopband_hz", lp["stopband_hz"])])
    for key, hz in edges:
        if hz >= nyq:
            errors.append(f"{p}.lowpass.{key}: {hz} Hz must be below Nyquist "
                          f"(fs/2 = {nyq} Hz)")
    if lp["design"] == "buttord" and lp["passband_hz"] >= lp["stopband_hz"]:
        errors.append(f"{p}.lowpass.passband_hz: {lp['passband_hz']} must be below "
                      f"stopband_hz ({lp['stopband_hz']})")
    return errors
