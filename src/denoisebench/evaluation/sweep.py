"""SNR sweep: every method on the validation clean signals remixed at other input SNRs.

At each input SNR s (``evaluation.sweep``: ``snr_min_db`` to ``snr_max_db`` in steps of
``step_db``), each example of a validation subset (``examples``, evenly spread over the split)
is remixed as ``clean + g * noise`` with its own validation noise, the gain ``g`` chosen per
example so that 10 log10(sum clean^2 / sum (g noise)^2) = s exactly
(:func:`denoisebench.data.signals.scale_noise_to_snr`). Models and baselines keep what they
learned or were tuned on at the dataset's own SNR: the sweep shows how they generalise.

The result is ``metrics/<model>/sweep.csv`` in wide form, one row per input SNR, so that
``dvc plots`` draws one line per method: ``snr_in_db``, then for every method ``<method>``
(aggregate SNRi, dB), ``<method>_ci_low`` and ``<method>_ci_high`` (percentile-bootstrap
interval, the same resamples for every method and level), and the limit's constant column
where the dataset kind has one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..data.signals import scale_noise_to_snr
from . import metrics

Estimator = Callable[[np.ndarray, np.ndarray], np.ndarray]


def levels(sweep: Mapping[str, Any]) -> np.ndarray:
    """Input SNRs (dB) of an ``evaluation.sweep`` mapping: min to max inclusive by step.

    Raises:
        ValueError: step not positive or max below min.
    """
    lo, hi, step = float(sweep["snr_min_db"]), float(sweep["snr_max_db"]), float(sweep["step_db"])
    if step <= 0 or hi < lo:
        raise ValueError(f"evaluation.sweep: need step_db > 0 and snr_max_db >= snr_min_db, got "
                         f"{lo}..{hi} by {step}")
    count = int(np.floor((hi - lo) / step + 1e-9)) + 1
    return np.round(lo + step * np.arange(count), 6)


def subset(n: int, count: int) -> np.ndarray:
    """``min(count, n)`` example indices evenly spread over ``0 .. n - 1`` (deterministic)."""
    return np.unique(np.linspace(0, n - 1, num=max(1, min(count, n))).round().astype(int))


def voiced_subset(clean_full: np.ndarray, count: int) -> np.ndarray:
    """:func:`subset` of the examples of ``clean_full`` (``(batch, time)``) whose clean signal
    is not silent: a silent one has no input SNR to sweep, so the sweep leaves it out."""
    voiced = np.flatnonzero(np.any(np.asarray(clean_full) != 0, axis=1))
    return voiced[subset(len(voiced), count)]


def remix(clean_full: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``clean_full + noise`` rescaled per example to input SNR ``snr_db`` (float64).

    Args:
        clean_full, noise: ``(batch, time)``; ``clean_full`` has no missing values.

    Raises:
        ValueError: a noise row has zero energy.
    """
    clean_full = np.asarray(clean_full, np.float64)
    return clean_full + scale_noise_to_snr(clean_full, np.asarray(noise, np.float64), snr_db)


def run(methods: Mapping[str, Estimator], clean: np.ndarray, clean_full: np.ndarray,
        noise: np.ndarray, rows: np.ndarray, snrs: np.ndarray) -> pd.DataFrame:
    """Per-example results of every method at every input SNR.

    Args:
        methods: ``{name: fn(mixed (batch, time), rows (batch,)) -> estimate}``.
        clean: ``(n, time)`` validation targets (NaN where missing).
        clean_full: ``(n, time)`` clean signals without missing values (``mixed - noise``).
        noise: ``(n, time)`` validation noise.
        rows: indices of the subset into the validation arrays.
        snrs: input SNRs (dB).

    Returns:
        Long frame: ``method``, ``snr_in_db``, ``row``, ``noise_energy``, ``error_energy``,
        ``snri_db``, ``mae``.
    """
    frames = []
    target = clean[rows]
    for s in snrs:
        x = remix(clean_full[rows], noise[rows], float(s))
        for name, fn in methods.items():
            v = metrics.per_example(target, x, fn(x, rows))
            frames.append(pd.DataFrame({
                "method": name, "snr_in_db": float(s), "row": rows,
                "noise_energy": v["noise_energy"], "error_energy": v["error_energy"],
                "snri_db": v["snri_db"], "mae": v["mae"]}))
    return pd.concat(frames, ignore_index=True)


def summarize(long: pd.DataFrame, confidence: float, resamples: int, seed: int,
              limit_db: float | None = None, limit_name: str = "cramer_rao") -> pd.DataFrame:
    """Wide table of aggregate SNRi per input SNR (see the module doc).

    Every (method, level) uses the same bootstrap resamples of the subset's examples.
    """
    methods = list(dict.fromkeys(long["method"]))
    snrs = sorted(set(long["snr_in_db"]))
    n = int((long["method"].eq(methods[0]) & long["snr_in_db"].eq(snrs[0])).sum())
    idx = metrics.bootstrap_indices(n, resamples, seed)
    lo_q, hi_q = 100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2
    out: dict[str, list[float]] = {"snr_in_db": [float(s) for s in snrs]}
    groups = {k: g.sort_values("row") for k, g in long.groupby(["method", "snr_in_db"])}
    for m in methods:
        agg, lo, hi = [], [], []
        for s in snrs:
            g = groups[(m, s)]
            ne, ee = g["noise_energy"].to_numpy(), g["error_energy"].to_numpy()
            agg.append(metrics.aggregate_snri_db(ne, ee))
            boot = 10 * np.log10(np.maximum(ne[idx].sum(axis=1), metrics.EPS)
                                 / np.maximum(ee[idx].sum(axis=1), metrics.EPS))
            lo.append(float(np.percentile(boot, lo_q)))
            hi.append(float(np.percentile(boot, hi_q)))
        out[m], out[f"{m}_ci_low"], out[f"{m}_ci_high"] = agg, lo, hi
    if limit_db is not None:
        out[limit_name] = [float(limit_db)] * len(snrs)
    return pd.DataFrame(out)
