"""Signals cut into windows and joined again: the windows of ``datasets import``
(:func:`windows`), the half-overlapping windows and sine-squared overlap-add of
``denoisebench denoise`` (:func:`overlap_add`), and the resampling ratio both use."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

BLOCK_WINDOWS = 2048  # windows denoised per block (bounds memory for long signals)

Progress = Callable[[int], Any]


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


def windows(x: np.ndarray, window: int, hop: int) -> np.ndarray:
    """Cut ``x`` ``(n_samples,)`` into ``(count, window)`` frames starting every ``hop``
    samples; a last partial frame is dropped (``count`` is 0 when ``n_samples < window``)."""
    if len(x) < window:
        return np.zeros((0, window), np.float32)
    return np.lib.stride_tricks.sliding_window_view(np.asarray(x, np.float32), window)[::hop]
