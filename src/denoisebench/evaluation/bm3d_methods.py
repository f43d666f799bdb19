"""BM3D, the classical anchor of the image datasets, and BM3D deblurring as an oracle.

``bm3d`` (Dabov, Foi, Katkovnik & Egiazarian, "Image denoising by sparse 3-D transform-domain
collaborative filtering", IEEE TIP 16(8), 2007; the implementation of Mäkinen, Azzari & Foi,
"Collaborative filtering of correlated noise", IEEE TIP 29, 2020) through the ``bm3d`` package
of PyPI (profile ``"np"``, both stages), image by image on ``(batch, H, W)`` arrays, clipped to
[0, 1] like every image baseline (:mod:`denoisebench.evaluation.image_baselines`). Its free
parameter, the noise standard deviation ``sigma_psd`` it assumes, is chosen on
:data:`TUNE_IMAGES` *training* images, the best mean PSNR winning (:func:`tune`): one value
for every image, or (where noise levels vary from image to image, as in ``images_blur``) a
scale of each image's own noise estimate, whichever scores higher on the training images.

``bm3d_deblurring`` (Mäkinen et al. 2020, regularised inverse then BM3D, then regularised
Wiener inverse then BM3D) is an **oracle** row of ``images_blur``: it is given each validation
image's true blur (a Gaussian PSF of std ``sigma`` pixels, the generator's own taps,
:func:`denoisebench.data.images.gaussian_weights`) and noise standard deviation (uniform noise
on [-r, r]: r / sqrt(3)), which no deployable denoiser has
(:func:`denoisebench.evaluation.image_truth.true_degradation` recovers them).

The package is an optional extra (``pip install -e '.[bm3d]'``; ``make setup`` installs it):
its licence allows non-commercial use only, and it wraps an x86-64 library. Without it
:func:`available` is False and the evaluation leaves both rows out with a log message. About
0.3 s per 28 x 28 image on one core, so validation images are judged on a subset
(``evaluation.bm3d_examples``, docs/judging.md "BM3D").
"""

from __future__ import annotations

import logging
import types
from collections.abc import Mapping
from typing import Any

import numpy as np

from .image_metrics import psnr_db

log = logging.getLogger(__name__)

NAME = "bm3d"
ORACLE = "bm3d_deblurring"
#: the two families of noise level the tuning searches, and their ranges: one ``sigma_psd``
#: (pixel units, range [0, 1]) for every image, or ``sigma_scale`` times each image's estimate
SEARCH = {"sigma_psd": (0.02, 1.0), "sigma_scale": (0.25, 4.0)}
#: smallest noise level handed to BM3D (an estimate of 0 on a flat image)
MIN_SIGMA = 1e-3
#: training images the tuning runs on (evenly spread over the other baselines' tuning images)
TUNE_IMAGES = 4
#: validation images judged when params do not say (``evaluation.bm3d_examples``)
DEFAULT_EXAMPLES = 40
#: why a missing package leaves the rows out (logged once per evaluation)
MISSING = ("the optional `bm3d` package is not installed (pip install -e '.[bm3d]'; "
           "non-commercial licence, see the README): the bm3d rows are left out")


def _package() -> Any | None:
    """The ``bm3d`` module, or None when it cannot be imported (not installed, or its native
    library does not load on this platform)."""
    try:
        import bm3d
    except (ImportError, OSError) as exc:
        log.debug("bm3d unavailable: %s", exc)
        return None
    _numpy_compat()
    return bm3d


def available() -> bool:
    """Whether the optional ``bm3d`` package can be used here."""
    return _package() is not None


def _numpy_compat() -> None:
    """bm4d 4.2.5 (bm3d's engine) calls ``np.trapz``, which NumPy 2.4 removed, for correlated
    noise (``bm3d_deblurring``). Give bm4d alone a numpy namespace with ``trapz`` =
    ``np.trapezoid`` (the same rule); numpy itself is left as it is."""
    import bm4d

    if hasattr(bm4d.np, "trapz") or not hasattr(np, "trapezoid"):
        return
    shim = types.ModuleType("numpy_with_trapz")
    shim.__dict__.update(np.__dict__)
    shim.trapz = np.trapezoid  # type: ignore[attr-defined]
    bm4d.np = shim


def _lib() -> Any:
    lib = _package()
    if lib is None:
        raise ImportError(MISSING)
    return lib


def _profile(lib: Any) -> Any:
    """Profile ``"np"`` (the package's default) on one thread: the library's own threads may
    change the result in the last bits from run to run, and the evaluation runs on one
    thread (the cost columns compare methods at equal threads)."""
    profile = lib.BM3DProfile()
    profile.num_threads = 1
    return profile


def denoise(x: np.ndarray, sigma_psd: float | np.ndarray) -> np.ndarray:
    """BM3D (profile ``"np"``, hard thresholding then Wiener, one thread) of each image.

    Args:
        x: ``(batch, H, W)`` noisy images, pixel range [0, 1].
        sigma_psd: the noise standard deviation BM3D assumes (pixel units): one for every
            image, or ``(batch,)``, one each.

    Returns:
        ``(batch, H, W)`` float32 estimates clipped to [0, 1].

    Raises:
        ImportError: the optional ``bm3d`` package is missing.
    """
    lib = _lib()
    profile = _profile(lib)
    x = np.asarray(x, np.float64)
    sigmas = np.broadcast_to(np.asarray(sigma_psd, np.float64), (len(x),))
    out = np.empty_like(x)
    for i, img in enumerate(x):
        out[i] = lib.bm3d(img, max(float(sigmas[i]), MIN_SIGMA), profile=profile)
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def noise_levels(x: np.ndarray) -> np.ndarray:
    """Each image's noise standard deviation as estimated from the image alone:
    ``skimage.restoration.estimate_sigma`` (median absolute finest diagonal wavelet coefficient
    / 0.6745; Donoho & Johnstone 1994), ``(batch,)`` for ``(batch, H, W)``."""
    from skimage.restoration import estimate_sigma

    return np.array([float(estimate_sigma(img)) for img in np.asarray(x, np.float64)])


def sigmas(x: np.ndarray, settings: Mapping[str, float]) -> np.ndarray:
    """The ``sigma_psd`` BM3D uses on each image of ``x`` under ``settings``: ``sigma_psd``
    for every image, or ``sigma_scale`` times each image's :func:`noise_levels`.

    Raises:
        KeyError: neither setting.
    """
    if "sigma_psd" in settings:
        return np.full(len(x), float(settings["sigma_psd"]))
    return float(settings["sigma_scale"]) * noise_levels(x)


def run(x: np.ndarray, settings: Mapping[str, float]) -> np.ndarray:
    """BM3D of ``x`` ``(batch, H, W)`` with tuned ``settings`` (see :func:`sigmas`)."""
    return denoise(x, sigmas(x, settings))


def tune(clean: np.ndarray, mixed: np.ndarray, xatol: float = 0.15) -> dict[str, Any]:
    """Choose BM3D's noise level on *training* images: the highest mean PSNR over both
    families of :data:`SEARCH` (one ``sigma_psd`` for every image; ``sigma_scale`` times each
    image's estimated noise level, for noise whose level varies from image to image), each
    found by bounded Brent search on the log of its value
    (``scipy.optimize.minimize_scalar(method="bounded")``, about seven evaluations each, down to
    steps of ``xatol`` in log, i.e. about 15 %: the mean PSNR is flat near its peak).

    Args:
        clean, mixed: ``(batch, H, W)`` training images in [0, 1] (never validation).

    Returns:
        ``{"settings": {name: value}, "train_psnr_db": its mean PSNR, "evaluations": k,
        "grid": [(settings, mean PSNR), ...]}`` (every point tried, in order).

    Raises:
        ValueError: no images, or shapes differ.
        ImportError: the optional ``bm3d`` package is missing.
    """
    from scipy.optimize import minimize_scalar

    if len(clean) == 0 or np.shape(clean) != np.shape(mixed):
        raise ValueError(f"tuning needs matching non-empty image stacks, got {np.shape(clean)} "
                         f"and {np.shape(mixed)}")
    levels = noise_levels(mixed)
    tried: list[tuple[dict[str, float], float]] = []
    for name, bounds in SEARCH.items():
        def loss(log_value: float, name: str = name) -> float:
            settings = {name: round(float(np.exp(log_value)), 4)}
            per_image = (levels * settings[name] if name == "sigma_scale"
                         else settings[name])
            score = float(np.mean(psnr_db(clean, denoise(mixed, per_image))))
            tried.append((settings, score))
            return -score

        minimize_scalar(loss, bounds=tuple(np.log(bounds)), method="bounded",
                        options={"xatol": xatol})
    best = max(tried, key=lambda item: item[1])  # first of equals
    return {"settings": best[0], "train_psnr_db": best[1], "evaluations": len(tried),
            "grid": tried}


def gaussian_psf(sigma: float) -> np.ndarray:
    """The generator's blur as a point-spread function: the outer product of scipy's Gaussian
    taps of std ``sigma`` pixels (truncated at 4 sigma; ``(1, 1)`` identity for sigma 0),
    ``(2R + 1, 2R + 1)`` summing to 1."""
    from ..data.images import gaussian_weights

    w = gaussian_weights(np.array([sigma]))[0]
    w = w[w > 0] if sigma > 0 else np.ones(1)
    return np.outer(w, w)


def deblur_oracle(x: np.ndarray, blur_sigma: np.ndarray, noise_std: np.ndarray) -> np.ndarray:
    """``bm3d.bm3d_deblurring`` of each image with its true Gaussian blur and noise level.

    The package's model is circular convolution; the data's blur reflects at the borders
    (scipy's ``reflect``). Each image is therefore deblurred as its whole-sample symmetric
    extension, ``(2H, 2W)``: the image beside its mirror images, which is periodic, and whose
    circular blur equals the reflect-border blur exactly (for a PSF radius up to H and W);
    the top-left ``(H, W)`` of the estimate is kept. Without it the model's wrap-around edges
    cost up to 6 dB on images that touch the border (measured on ``images_blur``).

    Args:
        x: ``(batch, H, W)`` blurred, noisy images.
        blur_sigma: ``(batch,)`` each image's blur std (pixels); noise_std: ``(batch,)`` its
            noise standard deviation (pixel units, > 0).

    Returns:
        ``(batch, H, W)`` float32 estimates clipped to [0, 1].

    Raises:
        ImportError: the optional ``bm3d`` package is missing.
        ValueError: the lengths differ.
    """
    lib = _lib()
    x = np.asarray(x, np.float64)
    if not len(x) == len(blur_sigma) == len(noise_std):
        raise ValueError(f"deblur_oracle: {len(x)} images, {len(blur_sigma)} blur sigmas, "
                         f"{len(noise_std)} noise levels")
    out = np.empty_like(x)
    profile = _profile(lib)
    h, w = x.shape[1:]
    for i, img in enumerate(x):
        ext = np.pad(img, ((0, h), (0, w)), mode="symmetric")
        # a trailing channel axis: bm3d_deblurring's PSD then has the image's shape
        est = lib.bm3d_deblurring(ext[..., None], max(float(noise_std[i]), 1e-6),
                                  gaussian_psf(float(blur_sigma[i])), profile=profile)
        out[i] = np.reshape(est, ext.shape)[:h, :w]
    return np.clip(out, 0.0, 1.0).astype(np.float32)
