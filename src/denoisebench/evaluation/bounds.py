"""Reference bounds of the 1-D tasks: oracles, parametric fits and the Cramér–Rao figure.

These are not denoisers one could deploy; they say how far the learned models are from what
the signal model allows (docs/judging.md, "Bounds"). Each runs on the same validation
examples as the models, arrays ``(batch, time)`` in signal units:

==================  ===============  =========================================================
name                kind             what it knows
==================  ===============  =========================================================
``oracle_wiener``   oracle           the clean spectrum |Y_k|^2 and the noise energy of each
                                     example: gain |Y_k|^2 / (|Y_k|^2 + P_k) per DCT
                                     coefficient (every 1-D kind; multisine 11.9 dB; the DFT
                                     variant reproduces docs/judging.md's 11.4 dB)
``oracle_ls``       oracle           multisine: the true frequencies; linear least squares of
                                     a cos + b sin per tone (2 n_sines parameters; docs/judging.md:
                                     16.3 dB = 10 log10(N / 6))
``nls``             parametric       multisine: nothing but the model "sum of n_sines
                                     sinusoids"; blind nonlinear least squares on 3 n_sines
                                     parameters (docs/judging.md: 14.2 dB), see
                                     :func:`nls_sinusoids`
``ls_sine``         parametric       sine: the period; a sin + b cos at that period (2
                                     parameters; docs/judging.md: MAE 0.023)
``minimax_sine``    parametric       sine: the period; the same 2 parameters fitted by
                                     Chebyshev (L-infinity) fit, the maximum-likelihood fit
                                     under uniform noise (:mod:`.minimax`; MAE 0.007)
``ls_quadratic``    parametric       quadratic: the model "polynomial of degree 2" (3
                                     parameters; docs/judging.md: 17.0 dB)
==================  ===============  =========================================================

The *limit* of a kind (:func:`limit`) is the Cramér–Rao figure for an unbiased estimator of
p parameters of a signal in white Gaussian noise: the error energy is at least sigma^2 p
against a noise energy sigma^2 N, so the aggregate SNRi is at most 10 log10(N / p) dB
(asymptotically, at high SNR): 14.55 dB for multisine (p = 9, N = 256), 16.99 dB for
quadratic (p = 3, N = 150). It does not apply to ``sine`` (uniform noise is not regular: its
support depends on the parameters, and the bounded-noise maximum likelihood, the minimax fit,
converges like 1 / N instead of 1 / sqrt(N)), whose reference is ``minimax_sine``.

The oracle LS needs each example's true frequencies. They are not stored: the shards stay the
data interface (a user's own data has none), and :func:`true_multisine_frequencies` replays
each validation shard's SeedSequence through :func:`denoisebench.data.signals.multisine_tones`,
then checks that regenerating the shard reproduces its stored clean signals (to 1e-4; else the
oracle is left out with a log message: data not generated from these params).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .minimax import minimax_sine_known_period
from .replay import replay_shards

#: report labels of every reference method and the limit
LABELS = {
    "oracle_wiener": "oracle Wiener (knows the clean spectrum)",
    "oracle_ls": "oracle LS fit (knows the frequencies)",
    "nls": "blind NLS sinusoid fit",
    "ls_sine": "LS sinusoid fit (period known)",
    "minimax_sine": "minimax (Chebyshev) sinusoid fit (period known)",
    "ls_quadratic": "LS quadratic fit",
    "cramer_rao": "Cramér–Rao bound",
}
#: ``oracle``: uses information a denoiser cannot have; ``parametric``: a blind estimator that
#: knows the signal model (a practical bound); ``limit``: a figure, not an estimator
KINDS = {"oracle_wiener": "oracle", "oracle_ls": "oracle", "nls": "parametric",
         "ls_sine": "parametric", "minimax_sine": "parametric", "ls_quadratic": "parametric",
         "cramer_rao": "limit"}
#: name of the limit's object in metrics/<model>.json
LIMIT = "cramer_rao"


def cramer_rao_snri_db(samples: int, fitted_params: int) -> float:
    """10 log10(N / p): the aggregate SNRi (dB) of an efficient unbiased estimator of ``p``
    parameters from ``N`` samples in white Gaussian noise (error energy sigma^2 p).

    Raises:
        ValueError: ``fitted_params`` not in 1 .. ``samples``.
    """
    if not 0 < fitted_params <= samples:
        raise ValueError(f"need 0 < fitted_params ({fitted_params}) <= samples ({samples})")
    return 10.0 * math.log10(samples / fitted_params)


def oracle_wiener(clean_full: np.ndarray, mixed: np.ndarray,
                  transform: str = "dct") -> np.ndarray:
    """Per-example Wiener gain with the true clean spectrum (a diagonal oracle).

    Args:
        clean_full: ``(batch, time)`` clean signals without missing values (``mixed - noise``
            where targets are missing).
        mixed: ``(batch, time)`` mixtures.
        transform: ``"dct"`` (orthonormal DCT-II, ``scipy.fft.dct``: the even extension has no
            wrap-around jump, so smooth or non-periodic signals do not leak over all
            coefficients) or ``"dft"`` (``numpy.fft.rfft``, the "oracle DFT Wiener" of
            docs/judging.md ("Bounds"), 11.4 dB on multisine; 1.9 dB on quadratic, where the
            circular jump dominates).

    Returns:
        ``(batch, time)`` float64: each coefficient scaled by |Y_k|^2 / (|Y_k|^2 + P_k), P_k
        the expected power of white noise of that example's energy in coefficient k.

    Raises:
        ValueError: unknown transform.
    """
    from scipy import fft

    y = np.asarray(clean_full, np.float64)
    x = np.asarray(mixed, np.float64)
    n = x.shape[-1]
    noise_energy = np.sum((x - y) ** 2, axis=-1, keepdims=True)
    if transform == "dct":
        cy, cx, power = (fft.dct(y, norm="ortho", axis=-1), fft.dct(x, norm="ortho", axis=-1),
                         noise_energy / n)
    elif transform == "dft":
        cy, cx, power = np.fft.rfft(y, axis=-1), np.fft.rfft(x, axis=-1), noise_energy
    else:
        raise ValueError(f"oracle_wiener: unknown transform {transform!r}; expected dct or dft")
    py = np.abs(cy) ** 2
    gain = py / np.maximum(py + power, 1e-300)
    if transform == "dct":
        return fft.idct(gain * cx, norm="ortho", axis=-1)
    return np.fft.irfft(gain * cx, n=n, axis=-1)


def ls_fit(x: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Least-squares projection of each example onto the columns of its design matrix.

    Args:
        x: ``(batch, time)``.
        design: ``(time, p)`` shared, or ``(batch, time, p)`` per example.

    Returns:
        ``(batch, time)`` float64 fitted signals (pseudo-inverse: rank-deficient designs,
        e.g. two equal frequencies, are handled).
    """
    x = np.asarray(x, np.float64)
    a = np.asarray(design, np.float64)
    if a.ndim == 2:
        coef = np.linalg.lstsq(a, x.T, rcond=None)[0]
        return (a @ coef).T
    coef = np.einsum("bpt,bt->bp", np.linalg.pinv(a), x)
    return np.einsum("btp,bp->bt", a, coef)


def sinusoid_design(freqs: np.ndarray, n: int, fs: float) -> np.ndarray:
    """``(batch, n, 2K)``: cos and sin columns at ``freqs`` ``(batch, K)`` Hz, t = i / fs."""
    ph = 2.0 * np.pi * np.asarray(freqs, np.float64)[:, None, :] * (np.arange(n) / fs)[None, :,
                                                                                       None]
    return np.concatenate([np.cos(ph), np.sin(ph)], axis=-1)


def oracle_sinusoids(x: np.ndarray, freqs: np.ndarray, fs: float) -> np.ndarray:
    """Linear LS fit of the true frequencies ``freqs`` ``(batch, K)`` to ``x`` ``(batch, n)``."""
    return ls_fit(x, sinusoid_design(freqs, np.shape(x)[-1], fs))


def _tones(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    f, a, b = p[0::3], p[1::3], p[2::3]
    ph = 2.0 * np.pi * np.outer(f, t)
    return (a[:, None] * np.cos(ph) + b[:, None] * np.sin(ph)).sum(axis=0)


def _tones_jac(p: np.ndarray, t: np.ndarray) -> np.ndarray:
    f, a, b = p[0::3], p[1::3], p[2::3]
    ph = 2.0 * np.pi * np.outer(f, t)
    c, s = np.cos(ph), np.sin(ph)
    jac = np.empty((len(t), len(p)))
    jac[:, 0::3] = (2.0 * np.pi * t[None, :] * (b[:, None] * c - a[:, None] * s)).T
    jac[:, 1::3] = c.T
    jac[:, 2::3] = s.T
    return jac


def _linear_params(x: np.ndarray, freqs: np.ndarray, t: np.ndarray) -> np.ndarray:
    ph = 2.0 * np.pi * np.outer(t, freqs)
    coef = np.linalg.lstsq(np.hstack([np.cos(ph), np.sin(ph)]), x, rcond=None)[0]
    k = len(freqs)
    p = np.empty(3 * k)
    p[0::3], p[1::3], p[2::3] = freqs, coef[:k], coef[k:]
    return p


def nls_sinusoids(x: np.ndarray, n_sines: int, fs: float,
                  fft_points: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Blind nonlinear least-squares fit of ``n_sines`` sinusoids (3 parameters each).

    Per example: greedy initialisation, one tone at a time, at the peak of the zero-padded
    (``fft_points``) periodogram of the current residual within (fs / 2N, fs / 2 - fs / 2N);
    after each new tone all tones so far are refined jointly by
    ``scipy.optimize.least_squares(method="lm")`` (MINPACK Levenberg–Marquardt, analytic
    Jacobian) on f, a, b of s(t) = sum a cos(2 pi f t) + b sin(2 pi f t). Tones closer than
    about 1 / duration are not resolved reliably by any blind estimator; on multisine this is
    within 0.05 dB of the best of this fit and an LM refinement started at the true
    frequencies, scored by residual (the least-squares optimum as far as found).

    Args:
        x: ``(batch, n)`` mixtures.
        n_sines: tones to fit.
        fs: sample rate (Hz).

    Returns:
        ``(estimate (batch, n) float64, frequencies (batch, n_sines) Hz)``.
    """
    from scipy.optimize import least_squares

    x = np.asarray(x, np.float64)
    batch, n = x.shape
    t = np.arange(n) / fs
    grid = np.fft.rfftfreq(fft_points, 1.0 / fs)
    band = (grid > fs / (2 * n)) & (grid < fs / 2 - fs / (2 * n))
    est = np.empty_like(x)
    freqs = np.empty((batch, n_sines))
    for i, row in enumerate(x):
        p = np.zeros(0)
        for _ in range(n_sines):
            resid = row - (_tones(p, t) if len(p) else 0.0)
            spec = np.abs(np.fft.rfft(resid, fft_points))
            f0 = grid[np.argmax(np.where(band, spec, -1.0))]
            p = _linear_params(row, np.r_[p[0::3], f0], t)
            try:
                p = least_squares(lambda q, r=row: _tones(q, t) - r, p,
                                  jac=lambda q, r=row: _tones_jac(q, t), method="lm").x
            except (ValueError, np.linalg.LinAlgError):  # keep the linear fit
                pass
        est[i] = _tones(p, t)
        freqs[i] = p[0::3]
    return est, freqs


def ls_sine_known_period(x: np.ndarray, period: float) -> np.ndarray:
    """LS fit of a sin(2 pi t / period) + b cos(2 pi t / period), t = 0 .. n - 1 samples,
    to each example of ``x`` ``(batch, n)`` (seed 001: period 60)."""
    n = np.shape(x)[-1]
    ph = 2.0 * np.pi * np.arange(n) / float(period)
    return ls_fit(x, np.stack([np.sin(ph), np.cos(ph)], axis=1))


def ls_polynomial(x: np.ndarray, degree: int = 2) -> np.ndarray:
    """LS fit of a polynomial of ``degree`` in the sample index (centred and scaled to
    [-1, 1] for conditioning) to each example of ``x`` ``(batch, n)``."""
    n = np.shape(x)[-1]
    u = np.linspace(-1.0, 1.0, n)
    return ls_fit(x, np.vander(u, degree + 1))


def true_multisine_frequencies(name: str, dataset: Mapping[str, Any], seed: int, reader: Any,
                               split: str = "validation") -> np.ndarray | None:
    """The true frequencies ``(rows, n_sines)`` (Hz) of a generated multisine split, or None.

    Replays each shard's SeedSequence (:func:`denoisebench.data.generate.shard_seed`) through
    :func:`~denoisebench.data.signals.multisine_tones`; a shard whose regenerated clean
    signals differ from the stored ones by more than 1e-4 (a user's own data, params changed
    since generation) makes the result None, with a log message.

    Args:
        reader: a :class:`~denoisebench.data.shards.DatasetReader` of the dataset.
    """
    from ..data import signals

    def draw(entry: Any, fresh: Callable[[], np.random.Generator]) -> tuple[Any, Any, Any]:
        freqs, _ = signals.multisine_tones(dataset, entry.rows, fresh())
        clean, _ = signals.multisine(dataset, entry.rows, fresh())
        return freqs, clean, reader.read_entry(entry, "clean")

    parts = replay_shards(name, int(seed), reader, split, draw, "the oracle LS fit (it needs "
                          "the true frequencies)")
    return np.concatenate(parts) if parts else None


Estimator = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Reference:
    """One reference method: ``fn(mixed (batch, time), rows (batch,))`` returns the estimate;
    ``rows`` index the validation examples (oracles look up what they know about them)."""

    name: str
    kind: str
    fn: Estimator
    settings: dict[str, float] = field(default_factory=dict)


def references(dataset: Mapping[str, Any], clean_full: np.ndarray,
               freqs: np.ndarray | None = None) -> list[Reference]:
    """The reference methods of a 1-D dataset kind (see the module doc), in report order.

    Args:
        dataset: ``datasets.<name>`` params.
        clean_full: ``(rows, time)`` validation clean signals without missing values.
        freqs: ``(rows, n_sines)`` true frequencies (multisine; None leaves the oracle LS out).
    """
    kind = dataset["kind"]
    fs = float(dataset.get("fs") or 1.0)
    out = [Reference("oracle_wiener", KINDS["oracle_wiener"],
                     lambda x, rows: oracle_wiener(clean_full[rows], x))]
    if kind == "multisine":
        k = int(dataset["n_sines"])
        if freqs is not None:
            out.append(Reference("oracle_ls", KINDS["oracle_ls"],
                                 lambda x, rows: oracle_sinusoids(x, freqs[rows], fs),
                                 {"fitted_params": 2 * k}))
        out.append(Reference("nls", KINDS["nls"], lambda x, rows: nls_sinusoids(x, k, fs)[0],
                             {"fitted_params": 3 * k}))
    elif kind == "sine":
        period = float(dataset["period"])
        out.append(Reference("ls_sine", KINDS["ls_sine"],
                             lambda x, rows: ls_sine_known_period(x, period),
                             {"fitted_params": 2, "period": period}))
        out.append(Reference("minimax_sine", KINDS["minimax_sine"],
                             lambda x, rows: minimax_sine_known_period(x, period),
                             {"fitted_params": 2, "period": period}))
    elif kind == "quadratic":
        out.append(Reference("ls_quadratic", KINDS["ls_quadratic"],
                             lambda x, rows: ls_polynomial(x, 2), {"fitted_params": 3}))
    return out


def reference_names(dataset: Mapping[str, Any]) -> list[str]:
    """Names :func:`references` returns for a dataset whose oracles all apply (no data read)."""
    kind = dataset["kind"]
    extra = {"multisine": ["oracle_ls", "nls"], "sine": ["ls_sine", "minimax_sine"],
             "quadratic": ["ls_quadratic"]}.get(kind, [])
    return ["oracle_wiener", *extra]


def limit_params(dataset: Mapping[str, Any]) -> int | None:
    """p of the Cramér–Rao figure of a 1-D dataset kind (3 per sinusoid of multisine, 3 for
    quadratic), or None where it does not apply (sine: uniform noise; unknown kinds)."""
    kind = dataset["kind"]
    if kind == "multisine":
        return 3 * int(dataset["n_sines"])
    if kind == "quadratic":
        return 3
    return None


def limit(dataset: Mapping[str, Any], samples: int) -> dict[str, float] | None:
    """The Cramér–Rao figure of a 1-D dataset kind, or None where it does not apply.

    Returns ``{"snri_db_agg": 10 log10(N / p), "fitted_params": p, "samples": N}``.

    Raises:
        ValueError: fewer samples than parameters.
    """
    p = limit_params(dataset)
    if p is None:
        return None
    return {"snri_db_agg": cramer_rao_snri_db(samples, p), "fitted_params": p,
            "samples": samples}
