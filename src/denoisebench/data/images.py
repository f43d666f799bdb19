"""The two image datasets of seeds 002 and 003 (their sources: :mod:`.image_sources`).

Datasets
--------
``images`` (seed 002): ``mixed = clip(clean + noise_std * N(0, 1), 0, 1)`` (noise factor 0.2).

``images_blur`` (seed 003): each row is a Gaussian blur with sigma ~ U(blur_sigma_min,
blur_sigma_max) (seed: U(0, 2), ``scipy.ndimage.gaussian_filter``), then uniform noise in
[-r, r] with r ~ U(noise_range_min, noise_range_max) per image (seed: U(0.01, 1.5)), clipped
to [0, 1] only if ``clip`` (the seed does not clip). The train split holds ``copies`` noisy
copies of each source image (seed: 4): train row ``k`` is copy ``k % copies`` of source image
``k // copies``; validation rows are source test images, one copy each.

In both, the stored ``noise`` is ``mixed - clean`` (it includes the blur for ``images_blur``).
Shard ``i`` covering rows ``[offset, offset + rows)`` reads exactly the source images those
rows map to and draws every random number from the shard's own generator, so shards are
independent and reruns are byte-identical.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .image_sources import (
    NAMED_SOURCES,
    SOURCE_SPLIT,
    load_images,
    source_path_problem,
    source_rows,
)

# --------------------------------------------------------------------------- generators


def image_indices(params: Mapping[str, Any], split: str, offset: int, rows: int) -> np.ndarray:
    """Source image of each row ``offset .. offset + rows - 1`` of ``split``: ``(rows,)``.

    ``images_blur`` train rows hold ``copies`` consecutive copies of each image; every other
    row is its own image.
    """
    rows_ = np.arange(offset, offset + rows, dtype=np.int64)
    if params["kind"] == "images_blur" and split == "train":
        return rows_ // int(params["copies"])
    return rows_


def add_gaussian_noise(clean: np.ndarray, std: float, rng: np.random.Generator,
                       clip: bool = True) -> np.ndarray:
    """Seed 002's noise: ``clean + std * N(0, 1)``, clipped to [0, 1] if ``clip``; float32,
    same shape as ``clean`` ``(rows, 28, 28)``."""
    mixed = clean + np.float32(std) * rng.standard_normal(clean.shape, dtype=np.float32)
    return np.clip(mixed, 0.0, 1.0) if clip else mixed


#: scipy.ndimage.gaussian_filter's defaults, reproduced by :func:`gaussian_blur`
BLUR_TRUNCATE = 4.0
#: scipy skips an axis whose sigma is at most this (the image is copied unchanged)
BLUR_MIN_SIGMA = 1e-15
#: images per block of :func:`gaussian_blur` (bounds its (block, size, size) float64 work arrays)
BLUR_BLOCK_ROWS = 256


def reflect_index(i: np.ndarray, size: int) -> np.ndarray:
    """Index into ``0 .. size - 1`` of position ``i`` under scipy.ndimage's ``reflect`` border
    (numpy's ``symmetric``: ``d c b a | a b c d | d c b a``, repeated with period ``2 size``)."""
    i = np.mod(i, 2 * size)
    return np.where(i >= size, 2 * size - 1 - i, i)


def gaussian_weights(sigma: np.ndarray, truncate: float = BLUR_TRUNCATE) -> np.ndarray:
    """Per-image 1-D Gaussian taps: ``(rows, 2 R + 1)`` float64 for offsets ``-R .. R``, ``R``
    the largest radius ``int(truncate * sigma + 0.5)`` of the batch.

    Row ``i`` is scipy's ``_gaussian_kernel1d(sigma[i], 0, radius_i)`` (``exp(-0.5 x^2 /
    sigma^2)`` normalised to sum 1) placed in the middle, zero beyond its own radius; a sigma
    of at most :data:`BLUR_MIN_SIGMA` (scipy: no filtering) gives the identity tap ``[1]``.
    """
    sigma = np.asarray(sigma, np.float64).reshape(-1)
    on = sigma > BLUR_MIN_SIGMA
    radius = np.where(on, (truncate * np.where(on, sigma, 0.0) + 0.5).astype(np.int64), 0)
    big = int(radius.max(initial=0))
    x = np.arange(-big, big + 1)
    coef = -0.5 / np.where(on, sigma * sigma, 1.0)  # scipy: -0.5 / sigma2 * x ** 2
    w = np.exp(coef[:, None] * x**2)
    w[np.abs(x) > radius[:, None]] = 0.0
    w /= w.sum(axis=1, keepdims=True)
    return w


@functools.lru_cache(maxsize=16)
def _tap_columns(radius: int, size: int) -> np.ndarray:
    """``(2 radius + 1, size)`` int64, read-only: row ``d + radius`` holds the flat index
    ``p * size + reflect(p + d)`` of the entry of a ``(size, size)`` matrix that tap ``d`` of
    output ``p`` adds to (reflect borders)."""
    d = np.arange(-radius, radius + 1)[:, None]
    pos = np.arange(size)
    cols = pos * size + reflect_index(pos + d, size)
    cols.flags.writeable = False
    return cols


def blur_matrices(sigma: np.ndarray, size: int, truncate: float = BLUR_TRUNCATE) -> np.ndarray:
    """``(rows, size, size)`` float64 matrices ``A`` with ``(A @ line)[p] = sum_d w[d]
    line[reflect(p + d)]``: scipy's ``correlate1d`` of a line of ``size`` values with each
    image's Gaussian taps (:func:`gaussian_weights`), reflect borders included."""
    w = gaussian_weights(sigma, truncate)
    cols = _tap_columns((w.shape[1] - 1) // 2, size)
    a = np.zeros((w.shape[0], size * size))
    for j in range(w.shape[1]):  # one tap at a time: its columns are distinct within a row
        a[:, cols[j]] += w[:, j:j + 1]
    return a.reshape(-1, size, size)


def gaussian_blur(images: np.ndarray, sigma: np.ndarray,
                  truncate: float = BLUR_TRUNCATE) -> np.ndarray:
    """Gaussian blur of each image with its own std: ``images`` ``(rows, H, W)`` float32,
    ``sigma`` ``(rows,)`` pixels -> ``(rows, H, W)`` float32.

    Seed 003's blur (``ndimage.gaussian_filter(x.reshape(28, 28), sigma=blurring)`` image by
    image, ``blurring ~ U(0, 2)``) in batched form: ``scipy.ndimage.gaussian_filter(images[i],
    sigma[i])`` with scipy's defaults (mode ``reflect``, ``truncate`` 4, radius
    ``int(truncate * sigma + 0.5)``; sigma <= 1e-15 leaves the image unchanged). The separable
    filter is two matrix products per image, ``(A_H @ X) @ A_W^T`` with the per-image
    ``(rows, H, H)`` and ``(rows, W, W)`` matrices of :func:`blur_matrices`, in float64 with the
    intermediate rounded to float32 as scipy stores it (axis 0 first), so it agrees with scipy
    to float rounding only (the order of the float64 sums; on Fashion-MNIST and the tests'
    random images the bytes are identical), with no Python loop over images. Blocks of
    :data:`BLUR_BLOCK_ROWS` images bound the memory.
    """
    images = np.asarray(images, np.float32)
    sigma = np.asarray(sigma, np.float64).reshape(-1)
    if images.ndim != 3 or sigma.shape[0] != images.shape[0]:
        raise ValueError(f"gaussian_blur: images of shape {list(images.shape)} and "
                         f"{sigma.shape[0]} sigmas; expected (rows, H, W) and (rows,)")
    rows, h, wd = images.shape
    out = np.empty_like(images)
    block = max(1, min(rows, BLUR_BLOCK_ROWS))
    x64 = np.empty((block, h, wd))  # float64 work arrays: numpy hands these to BLAS
    y64 = np.empty((block, h, wd))
    y32 = np.empty((block, h, wd), np.float32)
    for lo in range(0, rows, block):
        m = min(block, rows - lo)
        s = sigma[lo:lo + m]
        a_h = blur_matrices(s, h, truncate)
        a_w = a_h if wd == h else blur_matrices(s, wd, truncate)
        x, y, y_32 = x64[:m], y64[:m], y32[:m]
        x[...] = images[lo:lo + m]
        np.matmul(a_h, x, out=y)  # axis 0
        y_32[...] = y  # scipy keeps the first pass in the (float32) output array
        x[...] = y_32
        np.matmul(x, a_w.transpose(0, 2, 1), out=y)  # axis 1
        out[lo:lo + m] = y
    return out


def blur_and_noise(clean: np.ndarray, sigma: np.ndarray, r: np.ndarray,
                   rng: np.random.Generator, clip: bool = False) -> np.ndarray:
    """Seed 003's degradation, per image: Gaussian blur of std ``sigma[i]`` pixels
    (``scipy.ndimage.gaussian_filter``, reflect borders; 0 = no blur; computed batched by
    :func:`gaussian_blur`), then uniform noise in ``[-r[i], r[i]]`` (one
    ``rng.uniform(-1, 1, clean.shape)`` draw, scaled per image), clipped to [0, 1] if ``clip``.

    Args:
        clean: ``(rows, 28, 28)`` float32.
        sigma, r: ``(rows,)`` blur std (pixels) and noise half-range (pixel units).

    Returns:
        ``(rows, 28, 28)`` float32.
    """
    out = gaussian_blur(clean, sigma)
    half = np.asarray(r, np.float32)[:, None, None]
    # rng.uniform(-1, 1, clean.shape) drawn block by block: uniform(low, high) is
    # low + (high - low) * random() per value, in row order, so the blocks continue one
    # stream and give the very numbers (and float32 products) of a single whole-array draw
    block = max(1, min(len(out), BLUR_BLOCK_ROWS))
    u64 = np.empty((block, *out.shape[1:]))
    u32 = np.empty((block, *out.shape[1:]), np.float32)
    for lo in range(0, len(out), block):
        m = min(block, len(out) - lo)
        u, v = u64[:m], u32[:m]
        rng.random(out=u)
        u *= 2.0
        u -= 1.0
        v[...] = u
        v *= half[lo:lo + m]
        out[lo:lo + m] += v
    return np.clip(out, 0.0, 1.0) if clip else out


def gaussian_mixture(params: Mapping[str, Any], clean: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """``images`` (seed 002): :func:`add_gaussian_noise` with ``noise_std``, clipped unless
    ``clip`` is false."""
    return add_gaussian_noise(clean, float(params["noise_std"]), rng,
                              bool(params.get("clip", True)))


def blur_mixture(params: Mapping[str, Any], clean: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """``images_blur`` (seed 003): per image a blur sigma and a noise range drawn from the
    params' ranges, then :func:`blur_and_noise` (clipped only if ``clip``)."""
    rows = len(clean)
    sigma = rng.uniform(params["blur_sigma_min"], params["blur_sigma_max"], size=rows)
    r = rng.uniform(params["noise_range_min"], params["noise_range_max"], size=rows)
    return blur_and_noise(clean, sigma, r, rng, bool(params.get("clip", False)))


#: image dataset kind -> how its mixture is made from the clean images
MIXERS = {"images": gaussian_mixture, "images_blur": blur_mixture}


def generate_images(params: Mapping[str, Any], rows: int, rng: np.random.Generator, *,
                    split: str = "train", offset: int = 0,
                    download: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One shard of an ``images`` or ``images_blur`` dataset (see the module doc).

    Args:
        params: the dataset's params (``kind``, ``source``, noise settings).
        rows: rows of this shard; ``offset``: its first row in ``split``.
        rng: the shard's generator (all randomness comes from it).
        split: ``train`` or ``validation`` (validation reads the source's test split).

    Returns:
        ``(clean, noise)``, each ``(rows, 28, 28)`` float32; ``mixed = clean + noise``.

    Raises:
        ImageSourceError: source not found, or too few images for the requested rows.
        KeyError: not an image dataset kind.
    """
    mix = MIXERS.get(params["kind"])
    if mix is None:
        raise KeyError(f"dataset kind {params['kind']!r} is not an image kind; expected one of "
                       f"{sorted(MIXERS)}")
    src_split = SOURCE_SPLIT[split]
    source = str(params.get("source", "fashion_mnist"))
    images = load_images(source, src_split, download=download)
    clean = source_rows(images, image_indices(params, split, offset, rows), source, src_split)
    clean = np.asarray(clean, dtype=np.float32)  # source_rows returned a new array
    mixed = mix(params, clean, rng)
    return clean, np.subtract(mixed, clean, dtype=np.float32)


def source_capacity(params: Mapping[str, Any]) -> dict[str, int] | None:
    """Largest ``train_size`` / ``validation_size`` a named source allows (None for paths)."""
    sizes = NAMED_SOURCES.get(str(params.get("source", "fashion_mnist")))
    if sizes is None:
        return None
    copies = int(params.get("copies", 1)) if params.get("kind") == "images_blur" else 1
    return {"train": sizes["train"] * copies, "validation": sizes["test"]}


def robustness_inputs(clean: np.ndarray, steps: Sequence[int], rng: np.random.Generator,
                      blur_step: float = 0.5, noise_step: float = 0.2) -> dict[str, np.ndarray]:
    """Seed 003's robustness sweep on one image: step ``i`` blurs with sigma
    ``blur_step * i`` then adds uniform noise in ``[-noise_step * i, noise_step * i]``
    (no clipping, as in the seed).

    The seed's figure labels step ``i`` "s = 0.5 i, r = 0.2 i" (its code draws
    ``uniform(-0.2 i, 0.2 i) * 2``); this follows the labels.

    Args:
        clean: ``(28, 28)`` float32 in [0, 1].
        steps: e.g. ``range(6)``.

    Returns:
        ``{"inputs": (len(steps), 28, 28) float32, "sigma": (len(steps),), "r": (len(steps),)}``.
    """
    steps = np.asarray(list(steps), dtype=np.float64)
    sigma, r = blur_step * steps, noise_step * steps
    stack = np.repeat(np.asarray(clean, np.float32)[None], len(steps), axis=0)
    return {"inputs": blur_and_noise(stack, sigma, r, rng, clip=False), "sigma": sigma, "r": r}


def param_errors(path: str, params: Mapping[str, Any]) -> list[str]:
    """Checks of an image dataset's params that JSON Schema cannot express (config.validate):
    ordered ranges, and sizes a named source can supply (60,000 train / 10,000 test images;
    ``images_blur`` train rows are ``copies`` per image). ``path`` is ``datasets.<name>``."""
    errors = []
    for lo, hi in (("blur_sigma_min", "blur_sigma_max"), ("noise_range_min", "noise_range_max")):
        if lo in params and hi in params and params[lo] > params[hi]:
            errors.append(f"{path}.{lo}: {params[lo]} must not exceed {path}.{hi} "
                          f"({params[hi]})")
    source = params.get("source")
    if isinstance(source, str) and source not in NAMED_SOURCES:
        problem = source_path_problem(source)
        if problem:
            errors.append(f"{path}.source: {source!r} {problem}; expected one of "
                          f"{sorted(NAMED_SOURCES)} or an existing .npz file (x_train, x_test) "
                          "or folder of IDX files (train-images-idx3-ubyte[.gz], "
                          "t10k-images-idx3-ubyte[.gz])")
    cap = source_capacity(params)
    if cap:
        for split, key in (("train", "train_size"), ("validation", "validation_size")):
            if isinstance(params.get(key), int) and params[key] > cap[split]:
                per = (f" ({params.get('copies')} copies of each image)"
                       if params.get("kind") == "images_blur" and split == "train" else "")
                errors.append(f"{path}.{key}: {params[key]} rows; source "
                              f"{params.get('source')!r} supplies at most {cap[split]}{per}")
    return errors
