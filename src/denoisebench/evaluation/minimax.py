"""Chebyshev (L-infinity, minimax) fit of a sinusoid of known period: the reference of the
``sine`` task (seed 001: sin(2 pi (t + offset) / 60) in uniform noise on [-0.35, 0.35]).

Per example, with basis columns s_n = sin(2 pi n / P) and c_n = cos(2 pi n / P) (n = 0 .. N - 1
samples, P the period), the fit chooses a, b minimising the largest absolute residual

    min over (a, b, e) of e  subject to  -e <= x_n - (a s_n + b c_n) <= e  for every n,

a linear program in three unknowns and 2N constraints, solved by HiGHS
(``scipy.optimize.linprog(method="highs")``). The estimate is a s + b c.

Why it is the reference under uniform noise: with noise uniform on [-r, r] of unknown r the
likelihood is (2 r)^-N wherever every residual lies within [-r, r], so the maximum-likelihood
fit is the one with the smallest largest residual, the Chebyshev fit (Rice & White, "Norms for
smoothing and estimation", SIAM Review 6(3), 1964: the L-infinity norm is the right one for
uniform errors). Its error falls like 1 / N rather than least squares' 1 / sqrt(N) (the noise's
edges, not its spread, locate the curve), so it beats the least-squares fit
(:func:`denoisebench.evaluation.bounds.ls_sine_known_period`) on uniform noise and loses to it
on Gaussian noise, where a few large residuals steer it. The Cramér–Rao bound does not apply
(the uniform density's support depends on the parameters).

Samples that are not finite (missing values in the mixture) are left out of the constraints;
an example without any finite sample comes back as NaN.
"""

from __future__ import annotations

import numpy as np


def chebyshev_fit(x: np.ndarray, design: np.ndarray) -> np.ndarray:
    """Minimax (L-infinity) projection of each example onto the columns of ``design``.

    Args:
        x: ``(batch, time)`` examples.
        design: ``(time, p)`` basis shared by every example.

    Returns:
        ``(batch, time)`` float64 fitted signals ``design @ coef`` with ``coef`` minimising
        ``max |x - design @ coef|`` over the finite samples of each example.

    Raises:
        ValueError: ``design`` does not have ``time`` rows.
        RuntimeError: HiGHS fails on an example (it cannot for a bounded, feasible problem
            like this one; raised rather than returning a wrong row).
    """
    from scipy.optimize import linprog

    x = np.asarray(x, np.float64)
    a = np.asarray(design, np.float64)
    if a.ndim != 2 or a.shape[0] != x.shape[-1]:
        raise ValueError(f"chebyshev_fit: design of shape {a.shape} for examples of "
                         f"{x.shape[-1]} samples; expected ({x.shape[-1]}, p)")
    p = a.shape[1]
    cost = np.r_[np.zeros(p), 1.0]  # variables: coef (p, free), e (>= 0)
    bounds = [(None, None)] * p + [(0, None)]
    out = np.full(x.shape, np.nan)
    for i, row in enumerate(x):
        ok = np.isfinite(row)
        if not ok.any():
            continue
        ak, xk = a[ok], row[ok]
        ones = np.ones((len(xk), 1))
        # x - A c <= e  and  A c - x <= e
        a_ub = np.vstack([np.hstack([-ak, -ones]), np.hstack([ak, -ones])])
        b_ub = np.r_[-xk, xk]
        res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=bounds, method="highs")
        if res.status != 0:
            raise RuntimeError(f"chebyshev_fit: HiGHS failed on example {i}: {res.message}")
        out[i] = a @ res.x[:p]
    return out


def sine_design(n: int, period: float) -> np.ndarray:
    """``(n, 2)``: sin and cos of 2 pi t / ``period`` at t = 0 .. n - 1 samples."""
    ph = 2.0 * np.pi * np.arange(n) / float(period)
    return np.stack([np.sin(ph), np.cos(ph)], axis=1)


def minimax_sine_known_period(x: np.ndarray, period: float) -> np.ndarray:
    """Chebyshev fit of a sin(2 pi t / period) + b cos(2 pi t / period) to each example of
    ``x`` ``(batch, n)`` (see the module doc); ``(batch, n)`` float64."""
    return chebyshev_fit(x, sine_design(np.shape(x)[-1], period))
