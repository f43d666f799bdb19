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
temporary file in the target folder and renamed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import audio_io
from . import tfsetup as _tfsetup  # noqa: F401  (quiet TensorFlow before Keras loads)
from .audio_io import SignalFile, SignalFileError
from .inference import Denoiser, ModelLoadError, read_metadata

BLOCK_WINDOWS = 2048  # windows denoised per block (bounds memory for long signals)
PROGRESS_MIN_WINDOWS = 20_000  # show a progress bar from this many windows on (on a tty)

Progress = Callable[[int], Any]


class DenoiseInputError(SignalFileError):
    """An input or output path, or an input's content, cannot be denoised.

    Raised before any output is written; the message names the file and the problem.
    """


def crossfade(window: int) -> tuple[np.ndarray, int]:
    """Overlap-add weights for one window and the hop between windows.

    Returns:
        ``(weights, hop)``: ``weights`` ``(window,)`` float32, a periodic sine-squared (Hann)
        ramp over the first ``2 * hop`` samples (a last odd sample gets 0), with
        ``weights[i] + weights[i + hop] == 1`` for ``i < hop``; ``hop = window // 2`` samples.

    Raises:
        ValueError: ``window < 2``.
    """
    if window < 2:
        raise ValueError(f"window of {window} samples; overlap-add needs at least 2")
    hop = window // 2
    ramp = np.sin(np.pi * np.arange(2 * hop) / (2 * hop)) ** 2
    total = ramp[:hop] + ramp[hop:]
    weights = np.zeros(window)
    weights[:hop], weights[hop:2 * hop] = ramp[:hop] / total, ramp[hop:] / total
    return weights.astype(np.float32), hop


def n_windows(n_samples: int, window: int) -> int:
    """Windows that :func:`overlap_add` runs the model on for ``n_samples`` (>= 1) samples."""
    return (n_samples - 1) // (window // 2) + 2


def overlap_add(
    fn: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    window: int,
    *,
    block_windows: int = BLOCK_WINDOWS,
    progress: Progress | None = None,
) -> np.ndarray:
    """Run ``fn`` over ``x`` in half-overlapping windows and join the outputs by overlap-add.

    Args:
        fn: maps ``(batch, window)`` float32 to ``(batch, window)`` (e.g. a :class:`Denoiser`).
        x: ``(n_samples,)`` signal, ``n_samples >= 1`` (shorter than a window is fine).
        window: the model's window length in samples (>= 2).
        block_windows: windows per call of ``fn``; memory is O(block_windows * window) beyond
            the input and output arrays.
        progress: called with the number of windows finished after each block.

    Returns:
        ``(n_samples,)`` float32. If ``fn`` is the identity, equal to ``x`` up to float32
        rounding.

    Raises:
        ValueError: empty ``x``, ``x`` not 1-D, or ``window < 2``.
    """
    x = np.asarray(x, np.float32)
    if x.ndim != 1 or x.size == 0:
        raise ValueError(f"overlap_add takes a non-empty 1-D signal, got shape {x.shape}")
    weights, hop = crossfade(window)
    n, count = len(x), n_windows(len(x), window)
    front, back = hop, (count - 1) * hop + window - hop - len(x)
    pre = np.pad(x[:front + 1], (front, 0), mode="reflect")[:front]
    post = np.pad(x[-(back + 1):], (0, back), mode="reflect")[-back:]
    out = np.zeros(n, np.float32)
    for k0 in range(0, count, block_windows):
        k1 = min(count, k0 + block_windows)
        start = k0 * hop  # in padded coordinates
        seg = _padded_slice((pre, x, post), start, (k1 - 1) * hop + window)
        frames = np.lib.stride_tricks.sliding_window_view(seg, window)[::hop]
        y = np.asarray(fn(np.ascontiguousarray(frames)), np.float32)
        if y.shape != frames.shape:
            raise ValueError(f"model returned shape {y.shape} for {frames.shape}")
        y = (y * weights)[:, :2 * hop]
        acc = np.zeros((k1 - k0 + 1, hop), np.float32)  # hop-sized rows of the padded signal
        acc[:-1] += y[:, :hop]
        acc[1:] += y[:, hop:]
        acc = acc.reshape(-1)
        lo, hi = max(start, front), min(start + len(acc), front + n)
        out[lo - front:hi - front] += acc[lo - start:hi - start]
        if progress is not None:
            progress(k1 - k0)
    return out


def _padded_slice(parts: tuple[np.ndarray, ...], start: int, stop: int) -> np.ndarray:
    """``np.concatenate(parts)[start:stop]`` without building the whole concatenation."""
    pieces, offset = [], 0
    for arr in parts:
        lo, hi = max(start, offset), min(stop, offset + len(arr))
        if lo < hi:
            pieces.append(arr[lo - offset:hi - offset])
        offset += len(arr)
    return np.concatenate(pieces)


def resample_ratio(fs_from: float, fs_to: float) -> tuple[int, int]:
    """``(up, down)`` integers with ``fs_from * up / down == fs_to`` (to 1e-6 relative)."""
    ratio = Fraction(fs_to) / Fraction(fs_from)
    approx = ratio.limit_denominator(10_000)
    if abs(float(approx) - float(ratio)) <= 1e-6 * float(ratio):
        ratio = approx
    return ratio.numerator, ratio.denominator


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
            fmt_in = audio_io.file_format(src, images)
            fmt_out = audio_io.file_format(dst, images)
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
    """Read and check one input for ``denoiser`` (see :mod:`denoisebench.audio_io`).

    Args:
        fs: sample rate in Hz for formats that carry none (NPY, CSV, Parquet without
            ``denoisebench.fs``); default: the model's.

    Raises:
        DenoiseInputError: unreadable, mislabelled, empty, non-finite, or (images) of a size
            the model does not take.
    """
    images = _is_image_model(denoiser.input_shape)
    try:
        rec = audio_io.read_images(path) if images else audio_io.read_signals(path)
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
        audio_io.write_images(dst, rec, denoise_images(denoiser, rec.data[0]))
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
    audio_io.write_signals(dst, rec, out)


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


def run_denoise(args: argparse.Namespace) -> int:
    """Handler of ``denoisebench denoise``: 0 on success, 2 (``error: ...`` on stderr) on bad
    input or a bad model folder."""
    try:
        written = denoise_files(args.model, args.inputs, args.output, fs=args.fs,
                                batch_size=args.batch_size)
    except (DenoiseInputError, ModelLoadError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def add_denoise_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``denoise`` subcommand on ``subparsers`` (from ``add_subparsers``).

    Sets ``func=run_denoise``; returns the new subparser.
    """
    p = subparsers.add_parser(
        "denoise", help="apply a trained denoiser to your own files",
        description="Denoise signal files (.wav, .npy, .parquet, .csv) or, with an image "
                    "model, images (.npy, .png); each output has its input's format.")
    p.add_argument("--model", required=True, metavar="FOLDER",
                   help="trained model folder, e.g. models/gan")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files to denoise")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output file; a folder when there are several inputs")
    p.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sample rate of inputs that carry none (.npy, .csv, .parquet); "
                        "default: the model's")
    p.add_argument("--batch-size", type=int, default=1024, help="windows per predict call")
    p.set_defaults(func=run_denoise)
    return p
