"""Image metrics per image, their means and 95 % intervals (docs/judging.md, "Metrics": images).

Per image, with clean ``y`` and estimate ``y_hat`` (arrays ``(batch, H, W)`` with pixel values
on a scale whose full range is ``data_range``, 1.0 here):

* PSNR = 10 log10(data_range^2 / MSE) in dB (capped at 200 dB for an exact estimate);
* SSIM: the mean structural similarity of Wang et al. (2004) as ``skimage.metrics.
  structural_similarity`` computes it by default (7 x 7 uniform window, K1 = 0.01, K2 = 0.03,
  sample covariance, border of 3 pixels left out), vectorised over the batch;
* MSE = mean (y_hat - y)^2 and MAE = mean |y_hat - y| (pixel units).

Summaries are means with percentile-bootstrap intervals from resamples shared by every method
(:func:`denoisebench.evaluation.metrics.bootstrap_indices`), as
:func:`denoisebench.evaluation.metrics.summarize` does for signals.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .metrics import bootstrap_indices

PER_IMAGE = ("psnr_db", "ssim", "mse", "mae")
PSNR_CAP_DB = 200.0


def _stack(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 2:
        a = a[None]
    if a.ndim != 3:
        raise ValueError(f"expected images (batch, H, W), got shape {a.shape}")
    return a


def psnr_db(clean: np.ndarray, estimate: np.ndarray, data_range: float = 1.0) -> np.ndarray:
    """Per-image PSNR (dB) of ``(batch, H, W)`` arrays: ``(batch,)`` float64.

    Raises:
        ValueError: shapes differ or are not images.
    """
    y, e = _stack(clean), _stack(estimate)
    if y.shape != e.shape:
        raise ValueError(f"PSNR inputs differ in shape: {y.shape} vs {e.shape}")
    mse = np.mean((e - y) ** 2, axis=(1, 2))
    floor = data_range**2 * 10.0 ** (-PSNR_CAP_DB / 10.0)
    return 10.0 * np.log10(data_range**2 / np.maximum(mse, floor))


def ssim(clean: np.ndarray, estimate: np.ndarray, data_range: float = 1.0,
         win_size: int = 7) -> np.ndarray:
    """Per-image mean SSIM of ``(batch, H, W)`` arrays: ``(batch,)`` float64.

    Equal to ``skimage.metrics.structural_similarity(y, y_hat, data_range=data_range)`` image
    by image (tested), but vectorised.

    Raises:
        ValueError: shapes differ, or images smaller than the window.
    """
    from scipy.ndimage import uniform_filter

    y, e = _stack(clean), _stack(estimate)
    if y.shape != e.shape:
        raise ValueError(f"SSIM inputs differ in shape: {y.shape} vs {e.shape}")
    if min(y.shape[1:]) < win_size:
        raise ValueError(f"SSIM needs images of at least {win_size}x{win_size}, got "
                         f"{y.shape[1:]}")
    size = (1, win_size, win_size)
    npix = win_size**2
    cov_norm = npix / (npix - 1.0)
    ux, uy = uniform_filter(y, size), uniform_filter(e, size)
    vx = cov_norm * (uniform_filter(y * y, size) - ux * ux)
    vy = cov_norm * (uniform_filter(e * e, size) - uy * uy)
    vxy = cov_norm * (uniform_filter(y * e, size) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    return s[:, pad:-pad, pad:-pad].mean(axis=(1, 2))


def per_image(clean: np.ndarray, estimate: np.ndarray,
              data_range: float = 1.0) -> dict[str, np.ndarray]:
    """Every metric of :data:`PER_IMAGE` per image: ``{name: (batch,) float64}``.

    Raises:
        ValueError: shapes differ or are not images.
    """
    y, e = _stack(clean), _stack(estimate)
    return {
        "psnr_db": psnr_db(y, e, data_range),
        "ssim": ssim(y, e, data_range),
        "mse": np.mean((e - y) ** 2, axis=(1, 2)),
        "mae": np.mean(np.abs(e - y), axis=(1, 2)),
    }


def summarize(values: Mapping[str, np.ndarray], confidence: float = 0.95,
              resamples: int = 1000, seed: int = 0,
              idx: np.ndarray | None = None) -> dict[str, Any]:
    """Means with percentile-bootstrap intervals of per-image metrics.

    Returns ``{"n", "psnr_db", "psnr_db_ci", "ssim", "ssim_ci", "mse", "mse_ci", "mae",
    "mae_ci"}`` (floats; intervals ``[low, high]`` at ``confidence``). Pass the same ``idx``
    (``(resamples, n)``, :func:`denoisebench.evaluation.metrics.bootstrap_indices`) for every method
    of a comparison so their intervals come from the same resamples.
    """
    n = len(values["psnr_db"])
    if idx is None:
        idx = bootstrap_indices(n, resamples, seed)
    lo, hi = 100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2
    out: dict[str, Any] = {"n": int(n)}
    for name in PER_IMAGE:
        v = np.asarray(values[name], dtype=np.float64)
        means = v[idx].mean(axis=1)
        out[name] = float(np.mean(v))
        out[f"{name}_ci"] = [float(np.percentile(means, lo)), float(np.percentile(means, hi))]
    return out
