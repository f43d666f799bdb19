"""Read and write a user's image files for ``denoisebench denoise`` (the image side of
:mod:`denoisebench.userdata.files`: the same :class:`~denoisebench.userdata.files.SignalFile`,
content checks and atomic writes).

Image formats (one ``(n_images, height, width)`` array, values in [0, 1]):

- ``.npy``: ``(h, w)``, ``(n, h, w)`` or either with a trailing channel axis of 1.
- ``.png``: grayscale (also stored as equal RGB), or colour with each RGB plane as one image
  (alpha kept).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_write_bytes
from .files import (
    SignalFile,
    SignalFileError,
    check_finite,
    check_not_empty_file,
    file_format,
    load_npy,
    save_npy,
)


def read_images(path: Path) -> SignalFile:
    """Read an image file (NPY or PNG) into one ``(n_images, h, w)`` float32 array.

    Raises:
        SignalFileError: unknown extension, unreadable or mislabelled file, no pixels, an
            unsupported shape or dtype, or a NaN/inf pixel.
    """
    path = Path(path)
    fmt = file_format(path, images=True)
    check_not_empty_file(path)
    rec = _read_png(path) if fmt == "png" else _read_npy_images(path)
    if rec.data[0].size == 0:
        raise SignalFileError(f"{path}: no pixels in file")
    check_finite(path, rec.data[0], "images")
    return rec


def write_images(path: Path, like: SignalFile, images: np.ndarray) -> None:
    """Write ``images`` ``(n_images, h, w)`` in [0, 1] to ``path`` in ``like``'s format.

    Atomic like :func:`write_signals`. PNG is stored as 8-bit RGBA.
    """
    images = np.asarray(images, np.float32)
    if like.fmt == "png":
        atomic_write_bytes(Path(path), lambda tmp: _write_png(tmp, like, images))
    else:
        arr = images.reshape(like.layout["shape"]).astype(like.layout["dtype"])
        atomic_write_bytes(Path(path), lambda tmp: save_npy(tmp, arr))


def _read_npy_images(path: Path) -> SignalFile:
    arr = load_npy(path)
    if arr.dtype.kind != "f":
        raise SignalFileError(f"{path}: images of dtype {arr.dtype}; expected floats in [0, 1]")
    shape = arr.shape[:-1] if arr.ndim >= 3 and arr.shape[-1] == 1 else arr.shape
    if len(shape) not in (2, 3):
        raise SignalFileError(f"{path}: array of shape {arr.shape}; expected (h, w) or "
                              "(n_images, h, w)")
    images = np.asarray(arr, np.float32).reshape((-1, *shape[-2:]))
    return SignalFile(path, "npy", [images], ["images"],
                      layout={"shape": arr.shape, "dtype": arr.dtype})


# --- PNG ------------------------------------------------------------------------------------

def _read_png(path: Path) -> SignalFile:
    import matplotlib.image as mpimg

    try:
        img = np.asarray(mpimg.imread(path, format="png"), np.float32)
    except Exception as exc:  # PIL raises many types for a broken or mislabelled file
        raise SignalFileError(f"{path}: not a readable PNG file ({exc})") from exc
    alpha = None
    if img.ndim == 3 and img.shape[2] in (2, 4):  # gray+alpha, RGB+alpha
        alpha, img = img[..., -1], img[..., :-1]
    if img.ndim == 3 and img.shape[2] == 3 and (img == img[..., :1]).all():
        img = img[..., 0]
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    if img.ndim == 2:
        planes, gray = img[None], alpha is None or bool((alpha == 1).all())
    elif img.ndim == 3 and img.shape[2] == 3:
        planes, gray = np.moveaxis(img, 2, 0), False
    else:
        raise SignalFileError(f"{path}: image of shape {img.shape}; expected gray or RGB(A)")
    return SignalFile(path, "png", [np.ascontiguousarray(planes)], ["image"],
                      layout={"gray": gray, "alpha": alpha})


def _write_png(tmp: Path, like: SignalFile, images: np.ndarray) -> None:
    import matplotlib.image as mpimg

    planes = list(np.clip(images, 0.0, 1.0))
    if len(planes) == 1:
        planes = planes * 3
    alpha = like.layout["alpha"]
    planes.append(np.ones_like(planes[0]) if like.layout["gray"] or alpha is None else alpha)
    rgba = np.rint(np.stack(planes, axis=-1) * 255.0).astype(np.uint8)
    mpimg.imsave(tmp, rgba, format="png")
