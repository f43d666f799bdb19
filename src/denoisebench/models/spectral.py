"""Spectral residual CNN (``spectral1d``): a DnCNN-style residual network run over the
whole-window spectrum instead of the time samples (docs/models.md, "spectral1d").

Why a spectrum. Seed 004's multisines are three stationary tones at arbitrary frequencies in
white noise; in the time domain a tone is spread over the whole window, in the spectrum it is
one narrow peak (a shifted Dirichlet kernel) on a flat noise floor, and it looks the same
wherever it lies on the frequency axis. A convolution over frequency bins is therefore the
translation-equivariant prior of the task, and a few thousand weights find the peaks, infer
each tone's sub-bin frequency from its neighbouring bins and rebuild its side lobes. On the
default multisine shards it reaches ~13.7 dB SNRi in 3 epochs, where the time-domain U-Net of
Wave-U-Net style stayed below 9 dB at the same budget (README "Results").

Architecture. ``(batch, time, 1)`` -> :class:`Spectrum`: the real DFT of the window,
zero-padded to ``oversample x time`` points (a finer frequency grid: tones between bins keep
their shape), scaled by ``1 / sqrt(time)``, as ``(batch, bins, 2)`` (real, imaginary parts;
``bins = oversample time // 2 + 1``) -> a stem ``Conv1D(width, kernel_size)`` + LeakyReLU ->
``depth`` x ``Conv1D(width, kernel_size, dilation 2^(i mod 4))`` + LeakyReLU (TCN-style
dilations over bins) -> a 1-tap linear ``Conv1D(2)`` head, the estimated *noise* spectrum ->
:class:`InverseSpectrum` (inverse real DFT of the padded length, scaled back, first ``time``
samples) -> output = input - noise estimate: residual learning (Zhang et al. 2017, "Beyond a
Gaussian denoiser: residual learning of deep CNN for image denoising", IEEE TIP) in the form
of complex spectral mapping (Tan & Wang 2020, "Learning complex spectral mapping with gated
convolutional recurrent networks for monaural speech enhancement", IEEE/ACM TASLP), here with
one frame spanning the whole window. Any window length works (folder datasets included).

The two DFT layers are registered Keras layers built on ``keras.ops.rfft`` / ``irfft`` (every
backend), computed in float32 under any precision policy: saved models load with
``safe_mode=True``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
from keras import layers, ops

from .modern import compile_modern

#: dilations cycle 1, 2, 4, 8 over the frequency bins
DILATION_CYCLE = 4


def spectral_dilations(depth: int) -> list[int]:
    """Dilations of the ``depth`` body layers: ``2^(i mod 4)``."""
    return [2 ** (i % DILATION_CYCLE) for i in range(int(depth))]


def spectral_receptive_field(depth: int, kernel_size: int) -> int:
    """Frequency bins one output bin depends on: stem, body and the 1-tap head,
    ``1 + (kernel_size - 1) (1 + sum(dilations))``."""
    return 1 + (int(kernel_size) - 1) * (1 + sum(spectral_dilations(depth)))


def spectral1d_params(width: int, depth: int, kernel_size: int) -> int:
    """Trainable parameters of :func:`build_spectral1d` (independent of the window length)."""
    w, k = int(width), int(kernel_size)
    return (2 * k * w + w) + int(depth) * (k * w * w + w) + (2 * w + 2)


@keras.saving.register_keras_serializable(package="denoisebench")
class Spectrum(layers.Layer):
    """``(batch, time, 1)`` -> ``(batch, n_fft // 2 + 1, 2)``: real and imaginary parts of the
    real DFT of each window zero-padded to ``n_fft`` points, divided by ``sqrt(time)`` (white
    noise of variance s^2 gives bins of mean power s^2, whatever the window)."""

    def __init__(self, n_fft: int, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.n_fft = int(n_fft)

    def call(self, x: Any) -> Any:
        length = x.shape[1]
        real, imag = ops.rfft(ops.cast(x[..., 0], "float32"), fft_length=self.n_fft)
        scale = 1.0 / float(np.sqrt(length))
        return ops.stack([real * scale, imag * scale], axis=-1)

    def compute_output_shape(self, input_shape: Sequence[Any]) -> tuple[Any, ...]:
        return (input_shape[0], self.n_fft // 2 + 1, 2)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_fft": self.n_fft}


@keras.saving.register_keras_serializable(package="denoisebench")
class InverseSpectrum(layers.Layer):
    """``(batch, n_fft // 2 + 1, 2)`` -> ``(batch, length, 1)``: the inverse of
    :class:`Spectrum` (inverse real DFT of ``n_fft`` points times ``sqrt(length)``), keeping the
    first ``length`` samples (the window before its zero padding)."""

    def __init__(self, n_fft: int, length: int, **kwargs: Any) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.n_fft, self.length = int(n_fft), int(length)

    def call(self, z: Any) -> Any:
        z = ops.cast(z, "float32")
        scale = float(np.sqrt(self.length))
        y = ops.irfft((z[..., 0] * scale, z[..., 1] * scale), fft_length=self.n_fft)
        return y[:, : self.length, None]

    def compute_output_shape(self, input_shape: Sequence[Any]) -> tuple[Any, ...]:
        return (input_shape[0], self.length, 1)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "n_fft": self.n_fft, "length": self.length}


def build_spectral1d(length: int = 256, width: int = 24, depth: int = 6, kernel_size: int = 5,
                     oversample: int = 4, name: str = "spectral1d") -> keras.Model:
    """The spectral residual CNN: ``(batch, length, 1)`` -> ``(batch, length, 1)``, signal
    units (module doc).

    Args:
        length: samples per window (any positive length).
        width: channels of every convolution over the bins.
        depth: dilated body layers (dilations 1, 2, 4, 8, 1, ...).
        kernel_size: taps per convolution (odd), in bins of the padded DFT.
        oversample: the DFT length is ``oversample x length`` (zero padding; 1: none).

    Raises:
        ValueError: non-positive sizes or an even ``kernel_size``.
    """
    sizes = (int(length), int(width), int(depth), int(kernel_size), int(oversample))
    if min(sizes) < 1 or int(kernel_size) % 2 == 0:
        raise ValueError(f"spectral1d needs positive sizes and an odd kernel_size; got length "
                         f"{length}, width {width}, depth {depth}, kernel_size {kernel_size}, "
                         f"oversample {oversample}")
    n_fft = int(oversample) * int(length)
    inputs = keras.Input(shape=(int(length), 1), name="mixed")
    spectrum = Spectrum(n_fft, name="spectrum")(inputs)
    conv = {"padding": "same", "activation": "leaky_relu"}
    x = layers.Conv1D(int(width), int(kernel_size), name="stem", **conv)(spectrum)
    for i, d in enumerate(spectral_dilations(depth)):
        x = layers.Conv1D(int(width), int(kernel_size), dilation_rate=d, name=f"body{i}",
                          **conv)(x)
    noise_spectrum = layers.Conv1D(2, 1, name="noise", dtype="float32")(x)
    noise = InverseSpectrum(n_fft, int(length), name="inverse_spectrum")(noise_spectrum)
    outputs = layers.Subtract(name="denoised", dtype="float32")([inputs, noise])
    return keras.Model(inputs, outputs, name=name)


def recipe_spectral1d(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                      jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """``spectral1d`` from ``mp`` (``width``, ``depth``, ``kernel_size``, ``oversample``),
    compiled by :func:`~.modern.compile_modern`."""
    model = build_spectral1d(int(shape[0]), int(mp["width"]), int(mp["depth"]),
                             int(mp.get("kernel_size", 5)), int(mp.get("oversample", 4)))
    return compile_modern(model, mp, steps_per_epoch, jit_compile), []
