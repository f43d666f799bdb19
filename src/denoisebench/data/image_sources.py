"""MNIST-format image sources of the image datasets (:mod:`.images`).

Sources
-------
A dataset's ``source`` is ``fashion_mnist`` (default), ``mnist``, ``synthetic`` (procedural
shapes for tests and smoke runs: 6,000 train / 1,000 test), or a path to a ``.npz``
file (Keras' ``mnist.npz`` layout: ``x_train``, ``x_test``) or to a folder of IDX files
(``train-images-idx3-ubyte[.gz]``, ``t10k-images-idx3-ubyte[.gz]``; the ``-idx3`` or
``.idx3`` spelling; a relative path is relative to the working directory, i.e. the project
root for pipeline steps). A named source is looked for, in order, in

1. Keras' dataset cache (``$KERAS_HOME`` or ``~/.keras``, then ``/tmp/.keras``:
   ``datasets/fashion-mnist/*.gz`` or ``datasets/mnist.npz``),
2. the system folder of Debian's ``dataset-fashion-mnist`` package
   (``/usr/share/datasets/fashion-mnist``, gzipped IDX files; ``scripts/install-system-deps.sh``
   installs it),
3. Keras' own download (``keras.datasets.<name>.load_data()``, needs the internet),

and :class:`ImageSourceError` names every place tried when none works. Images are
``(n, 28, 28)`` with pixel values scaled to [0, 1] (uint8 / 255). The source's *train* split
feeds a dataset's train split and its *test* split the validation split.
"""

from __future__ import annotations

import functools
import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

#: the shape of every MNIST-format image
IMAGE_SHAPE = (28, 28)
#: named sources and their split sizes (for params checks without reading the data)
NAMED_SOURCES = {"fashion_mnist": {"train": 60_000, "test": 10_000},
                 "mnist": {"train": 60_000, "test": 10_000},
                 "synthetic": {"train": 6_000, "test": 1_000}}
#: Debian's dataset-fashion-mnist package puts the gzipped IDX files here
SYSTEM_DIRS = {"fashion_mnist": Path("/usr/share/datasets/fashion-mnist"),
               "mnist": Path("/usr/share/datasets/mnist")}
#: dataset split -> source split
SOURCE_SPLIT = {"train": "train", "validation": "test"}
IDX_PREFIX = {"train": "train-images", "test": "t10k-images"}
IDX_MAGIC_UBYTE = 0x08


class ImageSourceError(FileNotFoundError):
    """An image source cannot be found or read; the message lists what was tried and how to
    provide the data."""


# --------------------------------------------------------------------------- IDX / npz readers


def read_idx(path: str | Path) -> np.ndarray:
    """Read one IDX file (``.gz`` or plain) of unsigned bytes: ``(n, *dims)`` uint8.

    Raises:
        ImageSourceError: unreadable, not IDX, not unsigned bytes, or truncated.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            head = fh.read(4)
            if len(head) != 4 or head[0] != 0 or head[1] != 0:
                raise ImageSourceError(f"{path}: not an IDX file (bad magic number)")
            if head[2] != IDX_MAGIC_UBYTE:
                raise ImageSourceError(f"{path}: IDX data type 0x{head[2]:02x}; expected "
                                       "unsigned bytes (0x08)")
            ndim = head[3]
            dims = tuple(int(d) for d in np.frombuffer(fh.read(4 * ndim), ">u4"))
            data = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        if isinstance(exc, ImageSourceError):
            raise
        raise ImageSourceError(f"{path}: unreadable IDX file ({exc})") from exc
    if len(dims) != ndim or len(data) < math.prod(dims):
        raise ImageSourceError(f"{path}: truncated IDX file: header says {list(dims)}, "
                               f"{len(data)} bytes of data")
    return np.frombuffer(data, np.uint8, count=math.prod(dims)).reshape(dims)


def find_idx(folder: Path, split: str) -> Path | None:
    """The IDX image file of ``split`` (``train`` or ``test``) in ``folder``, or None."""
    prefix = IDX_PREFIX[split]
    for sep in ("-", "."):
        for suffix in (".gz", ""):
            path = Path(folder) / f"{prefix}{sep}idx3-ubyte{suffix}"
            if path.is_file():
                return path
    return None


def read_npz(path: str | Path, split: str) -> np.ndarray:
    """Images of ``split`` from a Keras-style ``.npz`` (``x_train`` / ``x_test``).

    Raises:
        ImageSourceError: unreadable file or no ``x_<split>`` array.
    """
    key = f"x_{split}"
    try:
        with np.load(path, allow_pickle=False) as z:
            if key not in z.files:
                raise ImageSourceError(f"{path}: no array {key!r}; expected Keras' mnist.npz "
                                       f"layout (x_train, x_test), found {sorted(z.files)}")
            return z[key]
    except (OSError, ValueError) as exc:
        raise ImageSourceError(f"{path}: unreadable .npz ({exc})") from exc


def to_unit(images: np.ndarray, where: str) -> np.ndarray:
    """``(n, 28, 28)`` uint8 (or float in [0, 1]) -> float32 in [0, 1].

    Raises:
        ImageSourceError: wrong shape, or float values outside [0, 1].
    """
    if images.ndim != 3 or tuple(images.shape[1:]) != IMAGE_SHAPE:
        raise ImageSourceError(f"{where}: images of shape {list(images.shape)}; expected "
                               f"(n, {IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]}) (MNIST format)")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / np.float32(255.0)
    out = images.astype(np.float32)
    if out.size and (not np.all(np.isfinite(out)) or out.min() < 0 or out.max() > 1):
        raise ImageSourceError(f"{where}: float pixel values must lie in [0, 1]")
    return out


# --------------------------------------------------------------------------- source lookup


def synthetic_images(split: str, n: int) -> np.ndarray:
    """``n`` procedural MNIST-format images ``(n, 28, 28)`` uint8 (source ``synthetic``): a
    filled ellipse and a bar of random size, place and brightness on black. Deterministic per
    split; a stand-in for tests and offline smoke runs, not a benchmark."""
    rng = np.random.default_rng([20_021_003, 0 if split == "train" else 1])
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float32)
    cy, cx = rng.uniform(9.0, 19.0, (2, n, 1, 1))
    ry, rx = rng.uniform(3.0, 10.0, (2, n, 1, 1))
    ellipse = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0
    y0, x0 = rng.integers(2, 16, (2, n, 1, 1))
    h, w = rng.integers(3, 12, (2, n, 1, 1))
    bar = (yy >= y0) & (yy < y0 + h) & (xx >= x0) & (xx < x0 + w)
    a, b = rng.uniform(0.4, 1.0, (2, n, 1, 1))
    img = np.maximum(a * ellipse, b * bar) * (0.8 + 0.2 * xx / 27.0)
    return np.round(255.0 * img).astype(np.uint8)


def keras_cache_dirs() -> list[Path]:
    """Keras' dataset caches in the order Keras uses them: ``$KERAS_HOME`` (or ``~/.keras``),
    then ``/tmp/.keras`` (Keras' fallback when the home is not writable)."""
    home = Path(os.environ.get("KERAS_HOME") or Path("~/.keras").expanduser())
    return [home / "datasets", Path("/tmp/.keras/datasets")]


def _keras_download(name: str) -> tuple[np.ndarray, np.ndarray]:
    """Keras' own loader (downloads to its cache): ``(x_train, x_test)``."""
    import keras

    (x_train, _), (x_test, _) = getattr(keras.datasets, name).load_data()
    return x_train, x_test


def _from_path(path: Path, split: str) -> np.ndarray:
    if path.is_dir():
        idx = find_idx(path, split)
        if idx is None:
            raise ImageSourceError(f"{path}: no {IDX_PREFIX[split]}-idx3-ubyte[.gz] file in "
                                   "this folder")
        return read_idx(idx)
    if path.suffix == ".npz":
        return read_npz(path, split)
    raise ImageSourceError(f"{path}: expected a .npz file or a folder of IDX files")


def _attempt(path: Path, split: str, tried: list[str]) -> np.ndarray | None:
    """The images of ``path``, or None with the reason added to the last of ``tried``."""
    try:
        return to_unit(_from_path(path, split), str(path))
    except ImageSourceError as exc:
        tried[-1] += f" ({exc})"
        return None


@functools.lru_cache(maxsize=4)
def _load_cached(source: str, split: str, download: bool) -> np.ndarray:
    tried: list[str] = []
    if source == "synthetic":
        return to_unit(synthetic_images(split, NAMED_SOURCES[source][split]), source)
    if source not in NAMED_SOURCES:
        path = Path(source).expanduser()
        if not path.exists():
            raise ImageSourceError(
                f"image source {source!r}: no such file or folder; expected 'fashion_mnist', "
                f"'mnist', a .npz file (x_train, x_test) or a folder of IDX files")
        return to_unit(_from_path(path, split), str(path))
    for base in keras_cache_dirs():
        candidate = base / "mnist.npz" if source == "mnist" else base / "fashion-mnist"
        tried.append(f"Keras cache {candidate}")
        if candidate.exists() and (images := _attempt(candidate, split, tried)) is not None:
            return images
    system = SYSTEM_DIRS[source]
    tried.append(f"system folder {system}")
    if system.is_dir() and (images := _attempt(system, split, tried)) is not None:
        return images
    if download:
        tried.append(f"Keras download (keras.datasets.{source}.load_data())")
        try:
            x_train, x_test = _keras_download(source)
            return to_unit(x_train if split == "train" else x_test, f"keras.datasets.{source}")
        except Exception as exc:  # no network, SSL, HTTP errors: report them all alike
            tried[-1] += f" failed: {type(exc).__name__}: {exc}"
    lines = "\n  ".join(tried)
    debian = ("`apt-get install dataset-fashion-mnist` (Debian; `make setup` runs "
              "scripts/install-system-deps.sh), or " if source == "fashion_mnist" else "")
    raise ImageSourceError(
        f"image source {source!r} ({split} split) not found; tried, in order:\n  {lines}\n"
        f"Provide it by {debian}running `python -c \"import keras; "
        f"keras.datasets.{source}.load_data()\"` once with internet access, or set the "
        "dataset's `source:` to a .npz file (x_train, x_test) or a folder of IDX files.")


def load_images(source: str, split: str, download: bool = True) -> np.ndarray:
    """All images of one source split: ``(n, 28, 28)`` float32 in [0, 1] (read-only view).

    Args:
        source: ``fashion_mnist``, ``mnist``, or a path (``.npz`` or IDX folder).
        split: ``train`` or ``test`` (the source's own splits).
        download: try Keras' download as the last resort (needs the internet).

    Raises:
        ImageSourceError: nothing found/readable; the message lists every place tried.
        ValueError: unknown split.
    """
    if split not in IDX_PREFIX:
        raise ValueError(f"unknown source split {split!r}; expected 'train' or 'test'")
    images = _load_cached(str(source), split, bool(download))
    images.flags.writeable = False
    return images


def source_rows(images: np.ndarray, index: np.ndarray, source: str, split: str) -> np.ndarray:
    """``images[index]`` with a clear error when the source has too few images.

    Raises:
        ImageSourceError: an index beyond the source's split.
    """
    index = np.asarray(index, dtype=np.int64)
    if index.size and int(index.max()) >= len(images):
        raise ImageSourceError(f"image source {source!r}: its {split} split has {len(images)} "
                               f"images; the dataset needs {int(index.max()) + 1} (lower "
                               "train_size/validation_size, or copies)")
    return images[index]


def source_path_problem(source: str) -> str | None:
    """Why a ``source`` that is not a named source cannot be a path source (None if it can):
    it must be an existing ``.npz`` file or a folder holding both IDX image files (relative
    paths are relative to the working directory, the project root for pipeline steps). Only
    the names are checked here, not the contents (params checks read no data)."""
    path = Path(source).expanduser()
    if path.is_dir():
        missing = [IDX_PREFIX[s] for s in IDX_PREFIX if find_idx(path, s) is None]
        return (f"is a folder without {' and '.join(f'{m}-idx3-ubyte[.gz]' for m in missing)}"
                if missing else None)
    if path.is_file():
        return None if path.suffix == ".npz" else "is a file but not a .npz"
    where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
    return f"is neither a known source nor an existing path{where}"
