"""U-Net denoisers (issue 15): a 1-D Wave-U-Net-style network and a small 2-D U-Net.

``unet1d`` after Wave-U-Net (Stoller, Ewert & Dixon 2018, "Wave-U-Net: a multi-scale neural
network for end-to-end audio source separation", ISMIR): ``depth`` levels, each
``convs_per_level`` x ``Conv1D(width (i + 1), kernel_size)`` + LeakyReLU (Wave-U-Net's linear
channel growth, 24 per level there) kept as the skip, then a learned stride-2 downsampling
``Conv1D(width (i + 1), kernel_size, strides=2)`` (where Wave-U-Net decimates); at the
bottleneck ``convs_per_level`` x ``Conv1D(width (depth + 1), kernel_size)``; upwards, a learned
``Conv1DTranspose(width (i + 1), kernel_size, strides=2)`` (where Wave-U-Net interpolates),
concatenated with the skip, then ``convs_per_level`` convolutions; finally the input is
concatenated (as in Wave-U-Net) and a 1-tap linear ``Conv1D(1)`` head gives the noise
estimate, the output being ``input - noise`` (residual learning, Zhang et al. 2017;
``residual: false`` outputs the head directly). Shapes ``(batch, time, 1)`` in and out, signal
units. Any ``time``: the input is zero-padded to the next multiple of ``2^depth`` and the
output cropped back (``ZeroPadding1D`` / ``Cropping1D``), so folder datasets need no special
window.

``unet2d`` (Ronneberger, Fischer & Brox 2015, "U-Net: convolutional networks for biomedical
image segmentation", MICCAI), small: ``depth`` levels of ``convs_per_level`` x
``Conv2D(width 2^i, 3)`` + LeakyReLU, stride-2 ``Conv2D`` downsampling, ``Conv2DTranspose(width 2^i,
3, strides=2)`` upsampling with skip concatenation, residual output as above. Shapes
``(batch, height, width, 1)`` in and out, pixel intensities; padded to multiples of
``2^depth`` (28 x 28 with depth 2: none).

Receptive fields: :func:`denoisebench.models.modern.unet_receptive_field`. Only built-in Keras
layers: the saved models load with ``safe_mode=True``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

from .modern import compile_modern, unet_padding


def build_unet1d(length: int = 256, width: int = 16, depth: int = 4, kernel_size: int = 9,
                 convs_per_level: int = 1, residual: bool = True,
                 name: str = "unet1d") -> keras.Model:
    """The 1-D U-Net: ``(batch, length, 1)`` -> ``(batch, length, 1)``, signal units.

    Args:
        length: samples per window (any positive length; padded internally).
        width: channels of level 0; level ``i`` has ``width (i + 1)``.
        depth: stride-2 levels (the bottleneck runs at ``length / 2^depth``).
        kernel_size: taps of every convolution (odd).
        convs_per_level: plain convolutions per level, on each side and at the bottleneck.
        residual: output = input - head (True) or the head itself.

    Raises:
        ValueError: non-positive sizes or an even ``kernel_size``.
    """
    if (min(int(length), int(width), int(depth), int(kernel_size), int(convs_per_level)) < 1
            or kernel_size % 2 == 0):
        raise ValueError(f"unet1d needs positive sizes and an odd kernel_size; got length "
                         f"{length}, width {width}, depth {depth}, kernel_size {kernel_size}, "
                         f"convs_per_level {convs_per_level}")
    conv = {"padding": "same", "activation": "leaky_relu"}
    inputs = keras.Input(shape=(length, 1), name="mixed")
    pad = unet_padding(length, depth)
    x = top = layers.ZeroPadding1D(pad, name="pad")(inputs) if sum(pad) else inputs
    skips = []
    for i in range(depth):
        f = width * (i + 1)
        for c in range(convs_per_level):
            x = layers.Conv1D(f, kernel_size, name=f"enc{i}_conv{c}", **conv)(x)
        skips.append(x)
        x = layers.Conv1D(f, kernel_size, strides=2, name=f"down{i}", **conv)(x)
    for c in range(convs_per_level):
        x = layers.Conv1D(width * (depth + 1), kernel_size, name=f"mid_conv{c}", **conv)(x)
    for i in reversed(range(depth)):
        f = width * (i + 1)
        x = layers.Conv1DTranspose(f, kernel_size, strides=2, name=f"up{i}", **conv)(x)
        x = layers.Concatenate(name=f"skip{i}")([x, skips[i]])
        for c in range(convs_per_level):
            x = layers.Conv1D(f, kernel_size, name=f"dec{i}_conv{c}", **conv)(x)
    x = layers.Concatenate(name="with_input")([x, top])
    head = layers.Conv1D(1, 1, name="noise" if residual else "head", dtype="float32")(x)
    if sum(pad):
        head = layers.Cropping1D(pad, name="crop")(head)
    outputs = (layers.Subtract(name="denoised", dtype="float32")([inputs, head]) if residual
               else head)
    return keras.Model(inputs, outputs, name=name)


def build_unet2d(shape: Sequence[int] = (28, 28), width: int = 16, depth: int = 2,
                 convs_per_level: int = 2, residual: bool = True,
                 name: str = "unet2d") -> keras.Model:
    """The small 2-D U-Net: ``(batch, height, width, 1)`` -> same, pixel intensities.

    Args:
        shape: ``(height, width)`` of the images (padded internally to multiples of
            ``2^depth``).
        width: channels of level 0; level ``i`` has ``width 2^i``, the bottleneck
            ``width 2^depth``.
        depth: stride-2 levels.
        convs_per_level: 3x3 convolutions per level, on each side and at the bottleneck.
        residual: output = input - head (True) or the head itself.

    Raises:
        ValueError: ``shape`` not 2-D or non-positive sizes.
    """
    if len(shape) != 2 or min(int(width), int(depth), int(convs_per_level)) < 1:
        raise ValueError(f"unet2d needs a 2-D shape and positive sizes; got {list(shape)}, "
                         f"width {width}, depth {depth}, convs_per_level {convs_per_level}")
    h, w = (int(s) for s in shape)
    # LeakyReLU, not ReLU: with ReLU the images_unet run (seed 20261126, lr 2e-3)
    # lost every unit in its first epoch and stayed at the identity (PSNR 16.3 dB, input 16.0)
    conv = {"padding": "same", "activation": "leaky_relu"}
    inputs = keras.Input(shape=(h, w, 1), name="mixed")
    pad = (unet_padding(h, depth), unet_padding(w, depth))
    padded = sum(pad[0]) + sum(pad[1]) > 0
    x = top = layers.ZeroPadding2D(pad, name="pad")(inputs) if padded else inputs
    skips = []
    for i in range(depth):
        f = width * 2 ** i
        for c in range(convs_per_level):
            x = layers.Conv2D(f, 3, name=f"enc{i}_conv{c}", **conv)(x)
        skips.append(x)
        x = layers.Conv2D(f * 2, 3, strides=2, name=f"down{i}", **conv)(x)
    for c in range(convs_per_level):
        x = layers.Conv2D(width * 2 ** depth, 3, name=f"mid_conv{c}", **conv)(x)
    for i in reversed(range(depth)):
        f = width * 2 ** i
        x = layers.Conv2DTranspose(f, 3, strides=2, name=f"up{i}", **conv)(x)
        x = layers.Concatenate(name=f"skip{i}")([x, skips[i]])
        for c in range(convs_per_level):
            x = layers.Conv2D(f, 3, name=f"dec{i}_conv{c}", **conv)(x)
    x = layers.Concatenate(name="with_input")([x, top])
    head = layers.Conv2D(1, 1, name="noise" if residual else "head", dtype="float32")(x)
    if padded:
        head = layers.Cropping2D(pad, name="crop")(head)
    outputs = (layers.Subtract(name="denoised", dtype="float32")([inputs, head]) if residual
               else head)
    return keras.Model(inputs, outputs, name=name)


def recipe_unet1d(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                  jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """``unet1d`` from ``mp`` (``width``, ``depth``, ``kernel_size``, ``convs_per_level``,
    ``residual``), compiled by :func:`~.modern.compile_modern`."""
    model = build_unet1d(int(shape[0]), int(mp["width"]), int(mp["depth"]),
                         int(mp.get("kernel_size", 9)), int(mp.get("convs_per_level", 1)),
                         bool(mp.get("residual", True)))
    return compile_modern(model, mp, steps_per_epoch, jit_compile), []


def recipe_unet2d(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                  jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """``unet2d`` from ``mp`` (``width``, ``depth``, ``convs_per_level``, ``residual``),
    compiled by :func:`~.modern.compile_modern`."""
    model = build_unet2d(shape, int(mp["width"]), int(mp["depth"]),
                         int(mp.get("convs_per_level", 2)), bool(mp.get("residual", True)))
    return compile_modern(model, mp, steps_per_epoch, jit_compile), []
