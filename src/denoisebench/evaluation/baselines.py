"""Classical 1-D baselines judged on the same validation examples as the learned models.

Every baseline is a thin wrapper over a well-kept library, applied to each example along the
last (time) axis of a ``(batch, time)`` array:

=================  ==========================================================================
``lowpass``        the dataset's fixed Butterworth (``datasets.<name>.lowpass``), zero phase
                   (``scipy.signal.sosfiltfilt``); multisine: seed 004's
                   ``scipy.signal.buttord(wp=64, ws=100, gpass=0.05, gstop=60, fs=256)``
                   (order 9, -3 dB at about 74 Hz)
``lowpass_tuned``  Butterworth lowpass, ``scipy.signal.butter`` + ``sosfiltfilt``: order, cutoff
``bandpass``       Butterworth band-pass, ``butter(btype="bandpass")`` + ``sosfiltfilt``: order,
                   low and high edges
``savgol``         Savitzky-Golay, ``scipy.signal.savgol_filter``: window, polynomial order
``wiener``         adaptive (local-statistics) Wiener filter, ``scipy.signal.wiener`` on each
                   example, noise power estimated by scipy from that example: window
``wavelet``        wavelet shrinkage with PyWavelets: ``pywt.wavedec`` (Symlet ``sym<k>``,
                   symmetric extension), universal threshold ``scale * sigma * sqrt(2 ln N)``
                   with sigma = MAD(finest details) / 0.6745 per example (Donoho & Johnstone,
                   1994), ``pywt.threshold`` soft or hard, ``pywt.waverec``: k, level, scale,
                   mode
=================  ==========================================================================

Tuning (:func:`tune`): every free parameter is chosen by an exhaustive grid search
(:func:`search_space`) on a small subset of the **train** split (``evaluation.tune_examples``
examples, never validation). The criterion is the total squared error over the subset,
sum (y_hat - y)^2 over all present samples: minimising it maximises the aggregate SNRi
10 log10(sum noise^2 / sum error^2) on the subset and minimises its MSE (the three are the
same ranking). The chosen settings are recorded with every metric (numbers only, so that
DVC's metrics stay numeric).

Frequencies are in Hz of the dataset's ``fs``; datasets without ``fs`` use fs = 1, i.e. cycles
per sample.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def _signal() -> Any:
    """``scipy.signal``, imported on first use: Snakemake reads this module's method names
    while it parses the workflow (BENCHMARKS.md, O1), and scipy.signal takes ~1 s to import."""
    from scipy import signal

    return signal

log = logging.getLogger(__name__)

#: the baselines of a 1-D dataset, in report order (``lowpass`` needs a ``lowpass`` spec)
NAMES = ("lowpass", "lowpass_tuned", "bandpass", "savgol", "wiener", "wavelet")
#: the tuned ones (grid search on train)
TUNED = ("lowpass_tuned", "bandpass", "savgol", "wiener", "wavelet")
#: human-readable names for the report
LABELS = {
    "lowpass": "Butterworth lowpass, as configured",
    "lowpass_tuned": "Butterworth lowpass, tuned",
    "bandpass": "Butterworth band-pass, tuned",
    "savgol": "Savitzky–Golay, tuned",
    "wiener": "Wiener (local statistics), tuned",
    "wavelet": "wavelet shrinkage, tuned",
}

Settings = dict[str, float | int]


@dataclass(frozen=True)
class Lowpass:
    """A designed Butterworth lowpass: second-order sections, order and -3 dB cutoff (Hz)."""

    sos: np.ndarray
    order: int
    cutoff_hz: float
    fs: float
    info: dict[str, Any] = field(default_factory=dict)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter along the last axis, zero phase; ``x`` is ``(..., time)``, same shape out.

        Raises:
            ValueError: the signal is too short for ``sosfiltfilt``'s padding.
        """
        return _signal().sosfiltfilt(self.sos, np.asarray(x, dtype=np.float64), axis=-1)


def design_lowpass(spec: Mapping[str, Any], fs: float) -> Lowpass:
    """Design the Butterworth lowpass described by a ``datasets.<name>.lowpass`` mapping.

    ``design: buttord`` uses ``scipy.signal.buttord(passband_hz, stopband_hz, gpass_db,
    gstop_db, fs=fs)`` for the order and cutoff (seed 004); ``design: butter`` takes
    ``cutoff_hz`` and ``order`` directly.

    Raises:
        ValueError: an edge at or above Nyquist (``fs / 2``), or an unknown design.
    """
    nyq = fs / 2
    if spec["design"] == "buttord":
        wp, ws = float(spec["passband_hz"]), float(spec["stopband_hz"])
        if not 0 < wp < ws < nyq:
            raise ValueError(f"lowpass: need 0 < passband_hz ({wp}) < stopband_hz ({ws}) < "
                             f"Nyquist ({nyq} Hz)")
        order, wn = _signal().buttord(wp, ws, float(spec["gpass_db"]), float(spec["gstop_db"]),
                                      fs=fs)
        order, cutoff = int(order), float(wn)
    elif spec["design"] == "butter":
        order, cutoff = int(spec["order"]), float(spec["cutoff_hz"])
        if not 0 < cutoff < nyq:
            raise ValueError(f"lowpass: cutoff_hz {cutoff} must lie in (0, Nyquist = {nyq} Hz)")
    else:
        raise ValueError(f"lowpass: unknown design {spec['design']!r}; expected buttord or butter")
    sos = _signal().butter(order, cutoff, btype="lowpass", fs=fs, output="sos")
    info = {"design": spec["design"], "order": order, "cutoff_hz": cutoff}
    return Lowpass(sos, order, cutoff, fs, info)


# ---------------------------------------------------------------------------------------------
# the filters: (batch, time) in, (batch, time) float64 out


def butterworth(x: np.ndarray, fs: float, order: float, cutoff_hz: float | None = None,
                low_hz: float | None = None, high_hz: float | None = None) -> np.ndarray:
    """Zero-phase Butterworth lowpass (``cutoff_hz``) or band-pass (``low_hz``, ``high_hz``;
    ``low_hz`` 0 gives the lowpass at ``high_hz``).

    ``scipy.signal.butter(..., output="sos")`` then ``sosfiltfilt`` along the last axis (the
    forward-backward pass squares the magnitude response: twice the attenuation in dB).

    Raises:
        ValueError: edges outside (0, fs / 2), or a signal too short for the filter's padding.
    """
    if cutoff_hz is not None or not low_hz:  # a band from 0 Hz is a lowpass
        edge = cutoff_hz if cutoff_hz is not None else high_hz
        sos = _signal().butter(int(order), edge, btype="lowpass", fs=fs, output="sos")
    else:
        sos = _signal().butter(int(order), [low_hz, high_hz], btype="bandpass", fs=fs, output="sos")
    return _signal().sosfiltfilt(sos, np.asarray(x, dtype=np.float64), axis=-1)


def savgol(x: np.ndarray, window: float, polyorder: float) -> np.ndarray:
    """Savitzky-Golay smoothing: ``scipy.signal.savgol_filter`` along the last axis
    (``mode="interp"``: the edges are fitted by the polynomial of the first/last window).

    Raises:
        ValueError: ``polyorder >= window`` or ``window`` longer than the signal.
    """
    return _signal().savgol_filter(np.asarray(x, dtype=np.float64), int(window), int(polyorder),
                                axis=-1, mode="interp")


def wiener(x: np.ndarray, window: float) -> np.ndarray:
    """``scipy.signal.wiener(example, window)`` on each example: local mean and variance over
    ``window`` samples, the noise power estimated from that example (mean local variance)."""
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(-1, x.shape[-1])
    out = np.empty_like(flat)
    with np.errstate(divide="ignore", invalid="ignore"):
        for i, row in enumerate(flat):
            out[i] = _signal().wiener(row, int(window))
    return np.nan_to_num(out.reshape(x.shape), nan=0.0)


def wavelet_shrink(x: np.ndarray, sym_order: float, level: float, threshold_scale: float,
                   hard: float) -> np.ndarray:
    """Wavelet shrinkage with PyWavelets (see the module doc): Symlet ``sym<sym_order>``,
    ``level`` decomposition levels, threshold ``threshold_scale * sigma * sqrt(2 ln N)`` on
    every detail band, soft (``hard == 0``) or hard thresholding; approximation kept.

    Raises:
        ValueError: ``level`` above ``pywt.dwt_max_level`` for the signal length.
    """
    import pywt

    x = np.asarray(x, dtype=np.float64)
    n = x.shape[-1]
    wav = pywt.Wavelet(f"sym{int(sym_order)}")
    if int(level) > pywt.dwt_max_level(n, wav.dec_len):
        raise ValueError(f"wavelet: level {int(level)} exceeds pywt.dwt_max_level "
                         f"({pywt.dwt_max_level(n, wav.dec_len)}) for {n} samples")
    coeffs = pywt.wavedec(x, wav, level=int(level), mode="symmetric", axis=-1)
    sigma = np.median(np.abs(coeffs[-1]), axis=-1, keepdims=True) / 0.6745
    thr = threshold_scale * sigma * np.sqrt(2.0 * np.log(n))
    mode = "hard" if hard else "soft"
    out = [coeffs[0]] + [pywt.threshold(d, thr, mode=mode) for d in coeffs[1:]]
    return pywt.waverec(out, wav, mode="symmetric", axis=-1)[..., :n]


# ---------------------------------------------------------------------------------------------
# grids and tuning


def _odd(values: Iterable[float]) -> list[int]:
    return sorted({int(v) // 2 * 2 + 1 for v in values})


def search_space(method: str, n: int, fs: float) -> list[Settings]:
    """The documented grid of ``method`` for signals of ``n`` samples at ``fs``.

    With nyq = fs / 2 and f1 = fs / n (one cycle per example):

    * ``lowpass_tuned``: order 1..6 x cutoff in 32 log-spaced values over [f1, 0.95 nyq];
    * ``bandpass``: order {1, 2, 4} x low edge 0 (no high-pass: a lowpass, so that the band
      can keep a signal's DC, e.g. quadratic) or one of 10 log-spaced values over
      [f1 / 2, nyq / 2] x high edge in 12 log-spaced values over [2 f1, 0.95 nyq],
      high >= 1.25 low;
    * ``savgol``: window in ~14 log-spaced odd lengths over [5, min(n / 2, 101)] x polynomial
      order 0..5 below the window;
    * ``wiener``: window in ~16 odd lengths over [3, min(n / 4, 65)];
    * ``wavelet``: Symlet order {4, 8} x level 1 .. ``pywt.dwt_max_level`` (at most 6) x
      threshold scale {0.125, 0.25, 0.5, 0.75, 1, 1.5, 2} x soft/hard.

    Raises:
        KeyError: unknown method.
    """
    nyq, f1 = fs / 2.0, fs / n
    if method == "lowpass_tuned":
        return [{"order": o, "cutoff_hz": float(c)} for o in range(1, 7)
                for c in np.geomspace(f1, 0.95 * nyq, 32)]
    if method == "bandpass":
        return [{"order": o, "low_hz": float(lo), "high_hz": float(hi)} for o in (1, 2, 4)
                for lo in (0.0, *np.geomspace(f1 / 2, nyq / 2, 10))
                for hi in np.geomspace(2 * f1, 0.95 * nyq, 12) if hi >= 1.25 * lo]
    if method == "savgol":
        windows = _odd(np.geomspace(5, max(5, min(n // 2, 101)), 14))
        return [{"window": w, "polyorder": p} for w in windows if w <= n for p in range(0, 6)
                if p < w]
    if method == "wiener":
        return [{"window": w} for w in _odd(np.geomspace(3, max(3, min(n // 4, 65)), 16))]
    if method == "wavelet":
        import pywt

        grid = []
        for k in (4, 8):
            top = min(6, pywt.dwt_max_level(n, pywt.Wavelet(f"sym{k}").dec_len))
            grid += [{"sym_order": k, "level": lev, "threshold_scale": s, "hard": h}
                     for lev in range(1, top + 1)
                     for s in (0.125, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
                     for h in (0, 1)]
        return grid
    raise KeyError(f"no search space for baseline {method!r}; expected one of {TUNED}")


def apply(method: str, x: np.ndarray, settings: Mapping[str, float], fs: float) -> np.ndarray:
    """Run tuned baseline ``method`` with ``settings`` on ``x`` ``(batch, time)``.

    Raises:
        KeyError: unknown method.
        ValueError: settings the underlying library rejects for this signal length.
    """
    s = dict(settings)
    if method == "lowpass_tuned":
        return butterworth(x, fs, s["order"], cutoff_hz=s["cutoff_hz"])
    if method == "bandpass":
        return butterworth(x, fs, s["order"], low_hz=s["low_hz"], high_hz=s["high_hz"])
    if method == "savgol":
        return savgol(x, s["window"], s["polyorder"])
    if method == "wiener":
        return wiener(x, s["window"])
    if method == "wavelet":
        return wavelet_shrink(x, s["sym_order"], s["level"], s["threshold_scale"], s["hard"])
    raise KeyError(f"unknown baseline {method!r}; expected one of {TUNED}")


def squared_error(clean: np.ndarray, estimate: np.ndarray) -> float:
    """Total squared error over present (non-NaN) target samples: the tuning criterion."""
    d = np.asarray(estimate, np.float64) - np.asarray(clean, np.float64)
    return float(np.nansum(d * d))


def tune(method: str, clean: np.ndarray, mixed: np.ndarray, fs: float,
         grid: Iterable[Settings] | None = None) -> tuple[Settings, float]:
    """Grid search of ``method`` on training examples ``clean``, ``mixed`` ``(batch, time)``.

    Returns ``(best settings, aggregate SNRi in dB on these examples)``; ties keep the first
    grid point. Settings the library rejects (e.g. a filter whose padding exceeds the signal)
    are skipped.

    Raises:
        ValueError: no grid point could be applied.
    """
    clean = np.asarray(clean, np.float64)
    mixed = np.asarray(mixed, np.float64)
    grid = list(grid if grid is not None else search_space(method, mixed.shape[-1], fs))
    best: tuple[float, Settings] | None = None
    for settings in grid:
        try:
            est = apply(method, mixed, settings, fs)
        except ValueError:
            continue
        err = squared_error(clean, est)
        if np.isfinite(err) and (best is None or err < best[0]):
            best = (err, settings)
    if best is None:
        raise ValueError(f"tuning {method}: no setting of its grid applies to signals of "
                         f"{mixed.shape[-1]} samples")
    noise = squared_error(clean, mixed)
    settings = {k: int(v) if isinstance(v, int | np.integer) else float(v)
                for k, v in best[1].items()}
    return settings, float(10 * np.log10(noise / best[0]))


def tune_all(clean: np.ndarray, mixed: np.ndarray, fs: float) -> dict[str, Settings]:
    """:func:`tune` every method of :data:`TUNED` on the same training examples."""
    out = {}
    for method in TUNED:
        out[method], snri = tune(method, clean, mixed, fs)
        log.info("tuned %-13s on %d train examples: %s (train SNRi %.2f dB)", method,
                 len(clean), out[method], snri)
    return out


@dataclass(frozen=True)
class Baseline:
    """One configured baseline: ``fn(mixed (batch, time)) -> estimate (batch, time)`` and its
    numeric settings (recorded with its metrics)."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    settings: Settings


def signal_fs(dataset: Mapping[str, Any]) -> float:
    """The dataset's sample rate (Hz), or 1.0 (cycles per sample) when it has none."""
    fs = dataset.get("fs")
    return float(fs) if fs else 1.0


def build(dataset: Mapping[str, Any], tuned: Mapping[str, Settings],
          tune_examples: int = 0) -> list[Baseline]:
    """The baselines of a 1-D dataset in :data:`NAMES` order: the seed's ``lowpass`` (when the
    dataset has a ``lowpass`` spec), then every method of ``tuned`` with its settings.

    ``tune_examples`` is recorded in each tuned method's settings (``tuned_on_train``), with
    the number of settings tuned (``tuned_params``).
    """
    fs = signal_fs(dataset)
    out = []
    if dataset.get("lowpass"):
        lp = design_lowpass(dataset["lowpass"], fs)
        out.append(Baseline("lowpass", lp, {"order": lp.order, "cutoff_hz": lp.cutoff_hz}))
    for method in TUNED:
        if method in tuned:
            s = dict(tuned[method])
            out.append(Baseline(method, lambda x, m=method, s=s: apply(m, x, s, fs),
                                {**s, "tuned_params": len(s),
                                 "tuned_on_train": float(tune_examples)}))
    return out


def run_baselines(
    dataset: Mapping[str, Any], mixed: np.ndarray,
    tuned: Mapping[str, Settings] | None = None,
) -> dict[str, tuple[np.ndarray, dict]]:
    """Every baseline of a 1-D dataset on ``mixed`` ``(batch, time)``.

    Returns ``{name: (estimate (batch, time), settings)}``; the seed's lowpass first.
    """
    return {b.name: (b.fn(mixed), b.settings) for b in build(dataset, tuned or {})}
