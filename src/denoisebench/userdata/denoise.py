"""Apply a trained denoiser to a user's own files: ``denoisebench denoise``.

The model folder's metadata drives everything (see :mod:`denoisebench.inference`): input at
another sample rate is resampled to the model's ``fs`` and back; a signal of any length is cut
into windows of the model's length at 50 % overlap, denoised in blocks of many windows (memory
stays bounded for hour-long files) and joined by overlap-add with a sine-squared cross-fade
whose shifted copies sum to exactly one. The signal is reflect-padded by half a window at both
ends, so the first and last samples get the same full weight as the rest: a model that returns
its input gives the input back exactly, at any length. Each channel/column/row is denoised on
its own. Image models (2-D ``input_shape``) take ``.npy`` images or ``.png`` files.

Every input is read and checked before any output is written; outputs are written to a
temporary file in the target folder and renamed. The windowing lives in :mod:`.windows`, the
file formats in :mod:`.files`; the command line in :mod:`denoisebench.cli`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .. import backend as _backend  # noqa: F401  (quiet TensorFlow before Keras loads)
from ..inference import Denoiser, ModelLoadError, read_metadata
from . import files, image_files
from .files import SignalFile, SignalFileError
from .windows import BLOCK_WINDOWS, Progress, n_windows, overlap_add, resample_ratio

PROGRESS_MIN_WINDOWS = 20_000  # show a progress bar from this many windows on (on a tty)



class DenoiseInputError(SignalFileError):
    """An input or output path, or an input's content, cannot be denoised.

    Raised before any output is written; the message names the file and the problem.
    """


def denoise_signal(
    denoiser: Denoiser,
    x: np.ndarray,
    fs: float | None = None,
    *,
    block_windows: int = BLOCK_WINDOWS,
    progress: Progress | None = None,
) -> np.ndarray:
    """Denoise one 1-D signal of any length with a 1-D model.

    Args:
        denoiser: the model (its ``window`` and ``fs`` are used).
        x: ``(n_samples,)`` in signal units, finite, ``n_samples >= 1``.
        fs: sample rate of ``x`` in Hz; ``None`` or the model's own ``fs`` means no resampling.
            Otherwise ``x`` is resampled to the model's rate (``scipy.signal.resample_poly``),
            denoised, and resampled back.
        block_windows, progress: see :func:`overlap_add`.

    Returns:
        ``(n_samples,)`` float32, at the input's rate.
    """
    from scipy.signal import resample_poly

    x = np.asarray(x, np.float32)
    model_fs = denoiser.fs
    if fs is None or not model_fs or float(fs) == float(model_fs):
        return overlap_add(denoiser, x, denoiser.window, block_windows=block_windows,
                           progress=progress)
    up, down = resample_ratio(fs, model_fs)
    z = resample_poly(x, up, down, padtype="line").astype(np.float32)
    z = overlap_add(denoiser, z, denoiser.window, block_windows=block_windows, progress=progress)
    y = resample_poly(z, down, up, padtype="line").astype(np.float32)
    if len(y) < len(x):
        y = np.pad(y, (0, len(x) - len(y)), mode="edge")
    return y[:len(x)]


def denoise_images(denoiser: Denoiser, images: np.ndarray) -> np.ndarray:
    """Denoise ``images`` ``(n_images, h, w)`` (values in [0, 1]) with an image model.

    Returns:
        ``(n_images, h, w)`` float32, clipped to [0, 1].

    Raises:
        ValueError: ``(h, w)`` differs from the model's ``input_shape``.
    """
    return np.clip(denoiser(np.asarray(images, np.float32)), 0.0, 1.0)


def _is_image_model(input_shape: Sequence[int]) -> bool:
    return len(input_shape) == 2


def _notice(message: str) -> None:
    print(f"note: {message}", file=sys.stderr)


def plan_outputs(inputs: Sequence[Path], output: Path, images: bool = False
                 ) -> list[tuple[Path, Path]]:
    """Pair each input with its output path, checking paths only (no file is read).

    With several inputs, or when ``output`` is an existing folder or ends in a path separator,
    ``output`` is a folder and each output keeps its input's file name.

    Raises:
        DenoiseInputError: no inputs, a missing input, an unknown extension, an output whose
            format differs from its input's, an output equal to an input, or two inputs with
            the same output.
    """
    if not inputs:
        raise DenoiseInputError("no input files given")
    as_folder = (len(inputs) > 1 or Path(output).is_dir()
                 or str(output).endswith((os.sep, "/")))
    inputs = [Path(p) for p in inputs]
    resolved_inputs = {p.resolve() for p in inputs}
    pairs, seen = [], set()
    for src in inputs:
        if not src.is_file():
            raise DenoiseInputError(f"{src}: no such file")
        dst = Path(output) / src.name if as_folder else Path(output)
        try:
            fmt_in = files.file_format(src, images)
            fmt_out = files.file_format(dst, images)
        except SignalFileError as exc:
            raise DenoiseInputError(str(exc)) from None
        if fmt_in != fmt_out:
            raise DenoiseInputError(f"{dst}: output must have the input's format ({fmt_in}, "
                                    f"like {src.name})")
        key = dst.resolve()
        if key in resolved_inputs:
            raise DenoiseInputError(f"{dst}: output would overwrite an input file; choose "
                                    "another output path")
        if key in seen:
            raise DenoiseInputError(f"{dst}: two inputs named {src.name} would write the same "
                                    "output")
        if dst.is_dir():
            raise DenoiseInputError(f"{dst}: is a folder; give a file name")
        seen.add(key)
        pairs.append((src, dst))
    return pairs


def load_input(denoiser: Denoiser, path: Path, fs: float | None = None) -> SignalFile:
    """Read and check one input for ``denoiser`` (see :mod:`denoisebench.userdata.files`).

    Args:
        fs: sample rate in Hz for formats that carry none (NPY, CSV, Parquet without
            ``denoisebench.fs``); default: the model's.

    Raises:
        DenoiseInputError: unreadable, mislabelled, empty, non-finite, or (images) of a size
            the model does not take.
    """
    images = _is_image_model(denoiser.input_shape)
    try:
        rec = image_files.read_images(path) if images else files.read_signals(path)
    except SignalFileError as exc:
        raise DenoiseInputError(str(exc)) from None
    if images:
        shape = rec.data[0].shape[1:]
        if shape != tuple(denoiser.input_shape):
            raise DenoiseInputError(f"{path}: images of {shape[0]}x{shape[1]} pixels; the model "
                                    f"takes {denoiser.input_shape[0]}x{denoiser.input_shape[1]}")
    elif rec.fs is None:
        rec.fs = fs if fs is not None else denoiser.fs
    return rec


def denoise_loaded(denoiser: Denoiser, rec: SignalFile, dst: Path, *,
                   block_windows: int = BLOCK_WINDOWS, show_progress: bool | None = None) -> None:
    """Denoise a checked input (from :func:`load_input`) and write it to ``dst`` atomically.

    Prints notices on stderr when the input is resampled or shorter than a window. The
    progress bar shows when stderr is a terminal and the input is long (``show_progress``
    overrides).
    """
    from tqdm import tqdm

    if _is_image_model(denoiser.input_shape):
        image_files.write_images(dst, rec, denoise_images(denoiser, rec.data[0]))
        return
    window, fs, model_fs = denoiser.window, rec.fs, denoiser.fs
    resample = bool(fs and model_fs and float(fs) != float(model_fs))
    if resample:
        _notice(f"{rec.path}: resampling from {fs:g} Hz to the model's {model_fs:g} Hz and "
                "back")
    ratio = float(model_fs) / float(fs) if resample else 1.0
    lengths = [max(1, int(np.ceil(len(x) * ratio))) for x in rec.data]
    if min(lengths) < window:
        _notice(f"{rec.path}: shorter than the model's window ({min(lengths)} < {window} "
                "samples); padded")
    total = sum(n_windows(n, window) for n in lengths)
    if show_progress is None:
        show_progress = sys.stderr.isatty() and total >= PROGRESS_MIN_WINDOWS
    with tqdm(total=total, desc=rec.path.name, unit="window", disable=not show_progress,
              file=sys.stderr, leave=False) as bar:
        out = [denoise_signal(denoiser, x, fs, block_windows=block_windows,
                              progress=bar.update) for x in rec.data]
    files.write_signals(dst, rec, out)


def denoise_files(
    model: str | Path | Denoiser,
    inputs: Sequence[str | Path],
    output: str | Path,
    *,
    fs: float | None = None,
    batch_size: int = 1024,
    show_progress: bool | None = None,
) -> list[Path]:
    """Denoise files with a trained model; the implementation of ``denoisebench denoise``.

    Every input is read and checked before any output is written (so a bad input leaves no
    output at all); each output is written atomically in its input's format.

    Args:
        model: a model folder (``models/<name>``) or a loaded :class:`Denoiser`.
        inputs: signal files (1-D models: .wav, .npy, .parquet, .csv) or image files (2-D
            models: .npy, .png).
        output: the output file; a folder when there are several inputs.
        fs: sample rate in Hz of inputs that carry none (default: the model's).
        batch_size: windows per ``predict`` call.

    Returns:
        The output paths, in input order.

    Raises:
        DenoiseInputError: bad paths or bad input content (see :func:`plan_outputs` and
            :func:`load_input`).
        ModelLoadError: the model folder is missing files or has unusable metadata.
    """
    if isinstance(model, Denoiser):
        denoiser: Denoiser | None = model
        input_shape = model.input_shape
    else:
        denoiser, input_shape = None, read_metadata(Path(model))["input_shape"]
    pairs = plan_outputs([Path(p) for p in inputs], Path(output), _is_image_model(input_shape))
    if denoiser is None:
        denoiser = Denoiser(model, batch_size=batch_size)  # type: ignore[arg-type]
    if not _is_image_model(denoiser.input_shape) and denoiser.window < 2:
        raise ModelLoadError(f"{denoiser.folder}: window of {denoiser.window} samples; "
                             "need at least 2")
    checked: SignalFile | None = load_input(denoiser, pairs[0][0], fs)
    for src, _ in pairs[1:]:  # check the rest now; read each again when its turn comes
        load_input(denoiser, src, fs)
    for src, dst in pairs:
        rec = checked if checked is not None else load_input(denoiser, src, fs)
        checked = None
        denoise_loaded(denoiser, rec, dst, show_progress=show_progress)
    return [dst for _, dst in pairs]
