"""Residual-learning CNN denoisers (issue 15): a 1-D residual dilated CNN and the 2-D DnCNN.

Both learn the *noise* (Zhang, Zuo, Chen, Meng & Zhang 2017, "Beyond a Gaussian denoiser:
residual learning of deep CNN for image denoising", IEEE TIP 26(7)): the network body maps the
noisy input ``y`` to an estimate ``n(y)`` of the degradation and the model's output is
``y - n(y)`` (a Keras ``Subtract`` layer), so an untrained network starts at the identity and
training only has to learn the (small, nearly white) residual.

``dncnn1d`` (signals ``(batch, time, 1)``, signal units in and out): a stem
``Conv1D(width, kernel_size)`` + ReLU, then ``depth`` residual blocks ``x + ReLU(Conv1D(width,
kernel_size, dilation d_i)(x))`` (the TCN / WaveNet form: Bai, Kolter & Koltun 2018; van den
Oord et al. 2016; "same" zero padding, non-causal), then a linear ``Conv1D(1, kernel_size)``
head predicting the noise. Dilations double ``1, 2, 4, ...`` until every output sample sees the
whole window (receptive field ``>= 2 time - 1``), then cycle
(:func:`~denoisebench.models.modern.dncnn1d_dilations`). Trainable parameters
``2 k w + (depth) (k w^2 + w) + w + 1``.

``dncnn2d`` (images ``(batch, height, width, 1)``, intensities): DnCNN-S of the paper:
``Conv2D(width, 3)`` + ReLU, ``depth - 2`` layers ``Conv2D(width, 3, no bias)`` + BatchNorm +
ReLU, linear ``Conv2D(1, 3)``; the paper's setting is ``depth`` 17, ``width`` 64 (556,097
trainable parameters here: BatchNorm's 2 statistics per channel are not trainable).
Receptive field ``2 depth + 1`` pixels per axis.

Training: :func:`denoisebench.models.modern.compile_modern` (MSE or L1, Adam with a cosine or
step schedule, early stopping on validation L1) on fresh noise per batch
(:func:`denoisebench.models.modern.fresh_noise_transform`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

from .modern import compile_modern, dncnn1d_dilations, dncnn1d_receptive_field


def build_dncnn1d(length: int = 256, width: int = 32, depth: int = 8, kernel_size: int = 3,
                  dilations: Sequence[int] | None = None,
                  name: str = "dncnn1d") -> keras.Model:
    """The 1-D residual dilated CNN: ``(batch, length, 1)`` -> ``(batch, length, 1)``, signal
    units (output = input - predicted noise).

    Args:
        length: samples per window (``None`` is not accepted: the dilations are sized on it).
        width: channels of every hidden layer.
        depth: residual dilated blocks between the stem and the head.
        kernel_size: taps of every convolution (odd).
        dilations: of the ``depth`` blocks; default :func:`~.modern.dncnn1d_dilations`
            (doubling until the receptive field covers the window, then cycling).

    Raises:
        ValueError: non-positive sizes, an even ``kernel_size``, or ``dilations`` not of
            length ``depth``.
    """
    if min(int(length), int(width), int(depth), int(kernel_size)) < 1 or kernel_size % 2 == 0:
        raise ValueError(f"dncnn1d needs positive length, width, depth and an odd kernel_size; "
                         f"got {length}, {width}, {depth}, {kernel_size}")
    rates = ([int(d) for d in dilations] if dilations is not None
             else dncnn1d_dilations(length, depth, kernel_size))
    if len(rates) != depth or min(rates) < 1:
        raise ValueError(f"dncnn1d: dilations {rates} must be {depth} positive integers")
    inputs = keras.Input(shape=(length, 1), name="mixed")
    x = layers.Conv1D(width, kernel_size, padding="same", activation="relu", name="stem")(inputs)
    for i, d in enumerate(rates):
        y = layers.Conv1D(width, kernel_size, padding="same", dilation_rate=d,
                          activation="relu", name=f"block{i}_d{d}")(x)
        x = layers.Add(name=f"block{i}_add")([x, y])
    noise = layers.Conv1D(1, kernel_size, padding="same", name="noise", dtype="float32")(x)
    outputs = layers.Subtract(name="denoised", dtype="float32")([inputs, noise])
    return keras.Model(inputs, outputs, name=name)


def dncnn1d_params(width: int, depth: int, kernel_size: int = 3) -> int:
    """Trainable parameters of :func:`build_dncnn1d` (independent of length and dilations)."""
    k, w = int(kernel_size), int(width)
    return (k * w + w) + int(depth) * (k * w * w + w) + (k * w + 1)


def receptive_field_1d(length: int, depth: int, kernel_size: int = 3,
                       dilations: Sequence[int] | None = None) -> int:
    """Receptive field (samples) of :func:`build_dncnn1d` with these settings."""
    rates = dilations if dilations is not None else dncnn1d_dilations(length, depth, kernel_size)
    return dncnn1d_receptive_field(rates, kernel_size)


def build_dncnn2d(shape: Sequence[int] = (28, 28), width: int = 64, depth: int = 17,
                  batch_norm: bool = True, name: str = "dncnn2d") -> keras.Model:
    """DnCNN (Zhang et al. 2017): ``(batch, height, width, 1)`` -> same, intensities (output =
    input - predicted noise). ``depth`` convolution layers of ``width`` channels (3x3), the
    paper's full setting 17 x 64; BatchNorm in the middle layers if ``batch_norm``.

    Raises:
        ValueError: ``depth < 2``, a non-positive ``width``, or ``shape`` not 2-D.
    """
    if len(shape) != 2 or int(depth) < 2 or int(width) < 1:
        raise ValueError(f"dncnn2d needs a 2-D shape, depth >= 2 and width >= 1; got "
                         f"{list(shape)}, {depth}, {width}")
    inputs = keras.Input(shape=(*(int(s) for s in shape), 1), name="mixed")
    x = layers.Conv2D(width, 3, padding="same", activation="relu", name="conv0")(inputs)
    for i in range(1, int(depth) - 1):
        x = layers.Conv2D(width, 3, padding="same", use_bias=not batch_norm, name=f"conv{i}")(x)
        if batch_norm:
            x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
    noise = layers.Conv2D(1, 3, padding="same", name="noise", dtype="float32")(x)
    outputs = layers.Subtract(name="denoised", dtype="float32")([inputs, noise])
    return keras.Model(inputs, outputs, name=name)


def dncnn2d_params(width: int = 64, depth: int = 17, batch_norm: bool = True) -> int:
    """Trainable parameters of :func:`build_dncnn2d` (the paper's 17 x 64: 556,097)."""
    w, mid = int(width), int(depth) - 2
    per_mid = 9 * w * w + (2 * w if batch_norm else w)
    return (9 * w + w) + mid * per_mid + (9 * w + 1)


def recipe_dncnn1d(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                   jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """``dncnn1d`` from ``mp`` (``width``, ``depth``, ``kernel_size``), compiled by
    :func:`~.modern.compile_modern`."""
    model = build_dncnn1d(int(shape[0]), int(mp["width"]), int(mp["depth"]),
                          int(mp.get("kernel_size", 3)))
    return compile_modern(model, mp, steps_per_epoch, jit_compile), []


def recipe_dncnn2d(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                   jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """``dncnn2d`` from ``mp`` (``width``, ``depth``, ``batch_norm``), compiled by
    :func:`~.modern.compile_modern`."""
    model = build_dncnn2d(shape, int(mp["width"]), int(mp["depth"]),
                          bool(mp.get("batch_norm", True)))
    return compile_modern(model, mp, steps_per_epoch, jit_compile), []
