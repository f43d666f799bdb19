"""Signal metrics, their aggregates and 95 % intervals (docs/judging.md, "Metrics").

Per example, with clean ``y``, mixture ``x`` and estimate ``y_hat`` (arrays ``(batch, time)``
or ``(batch, ...)``; trailing axes are flattened):

* SNR_in = 10 log10(sum y^2 / sum (x - y)^2), SNR_out = 10 log10(sum y^2 / sum (y_hat - y)^2),
  SNRi = SNR_out - SNR_in (dB);
* MSE = mean (y_hat - y)^2, MAE (L1) = mean |y_hat - y| (signal units);
* SI-SDR = 10 log10(|a y|^2 / |y_hat - a y|^2), a = <y_hat, y> / <y, y> (dB).

Missing targets (NaN in ``y``) are left out of every sum and mean. An example whose clean
signal is silent (zero energy, e.g. a pause in speech) has no SNR: its SNR_in, SNR_out, SNRi
and SI-SDR are NaN and the means skip it (:func:`summarize` counts them in ``snr_skipped``),
while MSE, MAE and the aggregate SNRi (its noise and error energies) include it.

The aggregate SNRi is 10 log10(sum of noise energy / sum of error energy) over the whole set;
it is not the mean of per-example SNRi, and the two must never be compared with each other.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

EPS = 1e-20
PER_EXAMPLE = ("snr_in_db", "snr_out_db", "snri_db", "mse", "mae", "si_sdr_db")
#: per-example metrics that are undefined (NaN) for an example with a silent clean signal
SNR_KEYS = ("snr_in_db", "snr_out_db", "snri_db", "si_sdr_db")


def _flat(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    return a.reshape(a.shape[0], -1)


def _db(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(num, EPS) / np.maximum(den, EPS))


def per_example(
    clean: np.ndarray, mixed: np.ndarray, estimate: np.ndarray
) -> dict[str, np.ndarray]:
    """Per-example metrics (see module doc) plus the energies the aggregates need.

    Args:
        clean, mixed, estimate: arrays of equal shape ``(batch, ...)``.

    Returns:
        ``{name: (batch,) float64}`` for every name in :data:`PER_EXAMPLE` and
        ``signal_energy``, ``noise_energy``, ``error_energy``.

    Raises:
        ValueError: the shapes differ.
    """
    y, x, e = _flat(clean), _flat(mixed), _flat(estimate)
    if not (y.shape == x.shape == e.shape):
        raise ValueError(f"metric inputs differ in shape: clean {y.shape}, mixed {x.shape}, "
                         f"estimate {e.shape}")
    mask = np.isfinite(y)
    y0 = np.where(mask, y, 0.0)
    x0 = np.where(mask, x, 0.0)
    e0 = np.where(mask, e, 0.0)
    count = np.maximum(mask.sum(axis=1), 1)
    sig = np.sum(y0**2, axis=1)
    noise = np.sum((x0 - y0) ** 2, axis=1)
    err = np.sum((e0 - y0) ** 2, axis=1)
    alpha = np.sum(e0 * y0, axis=1) / np.maximum(sig, EPS)
    target = alpha[:, None] * y0
    silent = sig == 0  # no SNR: left out of the per-example SNR means, kept in the aggregate
    snr_in = np.where(silent, np.nan, _db(sig, noise))
    snr_out = np.where(silent, np.nan, _db(sig, err))
    si_sdr = _db(np.sum(target**2, axis=1), np.sum((e0 - target) ** 2, axis=1))
    return {
        "snr_in_db": snr_in,
        "snr_out_db": snr_out,
        "snri_db": snr_out - snr_in,
        "mse": err / count,
        "mae": np.sum(np.abs(e0 - y0), axis=1) / count,
        "si_sdr_db": np.where(silent, np.nan, si_sdr),
        "signal_energy": sig,
        "noise_energy": noise,
        "error_energy": err,
    }


def aggregate_snri_db(noise_energy: np.ndarray, error_energy: np.ndarray) -> float:
    """10 log10(sum noise energy / sum error energy) over a set (dB)."""
    return float(_db(np.sum(noise_energy), np.sum(error_energy)))


def bootstrap_indices(n: int, resamples: int, seed: int) -> np.ndarray:
    """``(resamples, n)`` indices drawn with replacement (one shared draw for all metrics)."""
    return np.random.default_rng(seed).integers(0, n, size=(resamples, n))


def summarize(
    values: Mapping[str, np.ndarray],
    confidence: float = 0.95,
    resamples: int = 1000,
    seed: int = 0,
    idx: np.ndarray | None = None,
) -> dict[str, Any]:
    """Means, aggregate SNRi and percentile-bootstrap intervals of per-example metrics.

    Returns the flat mapping of docs/design.md ("Outputs"): ``n``, ``snri_db_agg`` and
    ``snri_db_agg_ci``, ``snri_db_mean`` and ``snri_db_mean_ci``, then ``snr_in_db``,
    ``snr_out_db``, ``mse``, ``mae``, ``si_sdr_db`` (means), each with ``_ci`` ``[low, high]``,
    and ``snr_skipped``: the examples without an SNR (silent clean signal, NaN per-example
    SNRs) that the SNR and SI-SDR means leave out; ``n`` and the aggregate count them.
    Passing the same ``idx`` (see :func:`bootstrap_indices`) for every method of a comparison
    makes their intervals come from the same resamples.
    """
    n = len(values["snri_db"])
    if idx is None:
        idx = bootstrap_indices(n, resamples, seed)
    lo, hi = 100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2

    def ci(samples: np.ndarray) -> list[float]:
        return [float(np.percentile(samples, lo)), float(np.percentile(samples, hi))]

    out: dict[str, Any] = {"n": int(n)}
    noise, err = values["noise_energy"], values["error_energy"]
    out["snri_db_agg"] = aggregate_snri_db(noise, err)
    out["snri_db_agg_ci"] = ci(_db(noise[idx].sum(axis=1), err[idx].sum(axis=1)))
    if "signal_energy" in values:  # silent clean signals; a NaN estimate still gives NaN
        skipped = np.asarray(values["signal_energy"]) == 0
    else:
        skipped = np.isnan(np.asarray(values["snri_db"], dtype=np.float64))
    for name in ("snri_db", "snr_in_db", "snr_out_db", "mse", "mae", "si_sdr_db"):
        v = np.asarray(values[name], dtype=np.float64)
        key = "snri_db_mean" if name == "snri_db" else name
        if name in SNR_KEYS and skipped.any():
            out[key] = float(np.mean(v[~skipped])) if not skipped.all() else float("nan")
            with np.errstate(invalid="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # a resample of only skipped
                boot = np.nanmean(np.where(skipped, np.nan, v)[idx], axis=1)
            out[f"{key}_ci"] = ci(boot[np.isfinite(boot)]) if np.isfinite(boot).any() else [
                float("nan")] * 2
        else:
            out[key] = float(np.mean(v))
            out[f"{key}_ci"] = ci(v[idx].mean(axis=1))
    out["snr_skipped"] = int(np.count_nonzero(skipped))
    return out
