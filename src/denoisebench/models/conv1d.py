"""Seed 000: the Conv1D / Conv1DTranspose denoising autoencoder on min-max scaled signals.

Architecture (docs/models.md ("conv1d_ae")): Conv1D(128, 3, relu, "valid") ->
Conv1D(32, 3, relu, "valid") -> Conv1DTranspose(32, 3, relu, "valid") ->
Conv1DTranspose(128, 3, relu, "valid") -> Conv1D(1, 3, sigmoid, "same"); every kernel
``he_uniform`` with the ``max_norm(2.0)`` constraint: 28,737 trainable parameters.

Receptive field. The seed's plain convolutions (``dilation_rates: [1, 1, 1, 1]``, lengths
150 -> 148 -> 146 -> 148 -> 150 -> 150) give every output sample 11 input samples
(1 + 5 x 2): a *local* smoother. On the default random quadratics in 0.05 Gaussian noise the
least-squares best linear 11-tap estimator (one filter per position, edges included) reaches
about 10.2 dB aggregate SNRi, level with the tuned Butterworth (10.2-10.3 dB) and far from the
3-parameter least-squares fit (~17 dB): the seed's model cannot beat the lowpass clearly
(measured: 9.2 dB after the default 4 epochs), however long it trains. ``dilation_rates``
``[a, b, b, a]`` dilates the four valid layers (the head stays plain): the same kernels, so the
same 28,737 parameters, with a receptive field of ``1 + 2 (2a + 2b + 1)`` samples and lengths
``150 -> 150 - 2a -> 150 - 2(a + b) -> 150 - 2a -> 150``; the mirror makes each transposed
layer give back what its convolution took. params.yaml's ``[2, 8, 8, 2]`` sees 43 samples,
and densely: the encoder's offsets cover every even shift up to +-20 and the head fills the
odd ones. Measured on the validation split after the same 4 epochs (aggregate SNRi; tuned
Butterworth 10.22): [2, 8, 8, 2] 12.2 dB (11.8 against 10.4 with ``seed: 7``), [2, 4, 4, 2]
11.7, [2, 6, 6, 2] 11.8, [3, 9, 9, 3] 10.8, [4, 8, 8, 4] 10.9, [4, 16, 16, 4] 10.4-11.0
(by learning-rate schedule), [8, 16, 16, 8] 8.0: wider is not better within this budget
(sparser, harder to train), and a small first dilation (the 128-filter layer sees nearby
samples) matters. Still far below the Savitzky-Golay filter (window 75, ~14.5 dB), itself a
local quadratic fit. configs/seed_scale.yaml keeps ``[1, 1, 1, 1]``.

TensorFlow's CPU kernels refuse a Conv1DTranspose with a dilation above 1 (in inference too),
so a dilated transposed layer is built as :func:`dilated_transpose`: zero padding and a
dilated valid Conv1D, the same function of the input with the same parameters.

Scaling (the seed min-max scales every sample to [0, 1], then trains with binary
cross-entropy against a sigmoid output). Here both the input and the target of an example are
mapped with the **noisy input's** own min and max::

    lo = min(mixed), span = max(mixed) - lo      (per example; span 0 -> 1)
    input  = (mixed - lo) / span                 in [0, 1]
    target = clip((clean - lo) / span, 0, 1)

because that is the only affine map known at inference time: :func:`denoisebench.inference.scale`
computes the same ``lo, span`` from the noisy input and :func:`~denoisebench.inference.unscale`
maps the sigmoid output back with them (``y = out * span + lo``), so predictions are judged in
signal units. Scaling the clean target by its *own* min and max (as a literal reading of the
seed would) would teach the model a shape whose offset and gain it cannot recover. The clip
only bites where the clean curve lies outside the noisy range (a few samples near the
extremes, by less than the noise): it keeps BCE's targets in [0, 1], where a sigmoid can reach
them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
from keras import constraints, layers

from .checks import conv1d_dilation_errors, conv1d_encoder_shrink

#: the seed's layer list: (layer, filters, activation)
LAYERS = (("conv", 128, "relu"), ("conv", 32, "relu"), ("deconv", 32, "relu"),
          ("deconv", 128, "relu"))

#: the seed's dilation rates of the four ``LAYERS`` (plain convolutions); checked by
#: :func:`denoisebench.models.checks.conv1d_dilation_errors`
SEED_DILATIONS = (1, 1, 1, 1)


def receptive_field(dilation_rates: Sequence[int] = SEED_DILATIONS, kernel_size: int = 3) -> int:
    """Input samples one output sample depends on: ``1 + (kernel_size - 1) x (sum of the
    dilations + 1)`` (the head is an undilated ``kernel_size`` convolution)."""
    return 1 + (kernel_size - 1) * (sum(dilation_rates) + 1)


def build_conv1d_ae(length: int = 150, kernel_size: int = 3,
                    dilation_rates: Sequence[int] = SEED_DILATIONS,
                    name: str = "conv1d_ae") -> Any:
    """Seed 000's autoencoder: ``(batch, length, 1)`` in [0, 1] -> ``(batch, length, 1)`` in
    (0, 1) (sigmoid). 28,737 trainable parameters with the seed's ``kernel_size`` 3, whatever
    the length and the dilations (a dilation spreads a kernel's taps, it adds none).

    Args:
        dilation_rates: of the two Conv1D and the two Conv1DTranspose layers, mirrored
            ``[a, b, b, a]``; the seed's ``[1, 1, 1, 1]`` by default (params.yaml's
            ``models.conv1d_ae.dilation_rates`` widens the receptive field). A transposed
            layer with dilation ``d > 1`` is built as :func:`dilated_transpose` (TensorFlow's
            CPU kernels refuse a dilated Conv1DTranspose).

    Raises:
        ValueError: ``dilation_rates`` not four mirrored positive integers, or ``length`` too
            short for the two valid convolutions (``<= (kernel_size - 1) (a + b)``).
    """
    errors = conv1d_dilation_errors(dilation_rates)
    if errors:
        raise ValueError(f"conv1d_ae: {errors[0]}")
    rates = [int(r) for r in dilation_rates]
    shrink = conv1d_encoder_shrink(rates, kernel_size)
    if length <= shrink:
        raise ValueError(f"conv1d_ae needs length > {shrink} (kernel_size {kernel_size}, "
                         f"dilation_rates {rates}), got {length}")
    common = {"kernel_size": kernel_size, "padding": "valid",
              "kernel_initializer": "he_uniform", "kernel_constraint": constraints.MaxNorm(2.0)}
    inputs = keras.Input(shape=(length, 1), name="mixed")
    x = inputs
    for i, ((kind, filters, act), rate) in enumerate(zip(LAYERS, rates, strict=True)):
        if kind == "conv":
            x = layers.Conv1D(filters, activation=act, dilation_rate=rate, name=f"{kind}{i}",
                              **common)(x)
        elif rate == 1:  # the seed's layer
            x = layers.Conv1DTranspose(filters, activation=act, name=f"{kind}{i}", **common)(x)
        else:
            x = dilated_transpose(x, filters, kernel_size, rate, act, f"{kind}{i}")
    outputs = layers.Conv1D(1, kernel_size, activation="sigmoid", padding="same",
                            kernel_initializer="he_uniform",
                            kernel_constraint=constraints.MaxNorm(2.0), name="head",
                            dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def dilated_transpose(x: Any, filters: int, kernel_size: int, rate: int, activation: str,
                      name: str) -> Any:
    """``Conv1DTranspose(filters, kernel_size, dilation_rate=rate, padding="valid")`` from
    standard layers that TensorFlow runs on a CPU (its transposed-convolution kernels refuse
    dilations > 1, in inference too): ``ZeroPadding1D((kernel_size - 1) rate)`` then a
    dilated valid ``Conv1D``. A stride-1 transposed convolution *is* this full convolution
    with its kernel flipped in time and its channel axes swapped, so the two compute the same
    functions with the same parameter count and output length (``+ (kernel_size - 1) rate``);
    the tests check it against a Conv1DTranspose. The initialiser draws from the same
    distribution as the transposed layer's ``he_uniform`` (whose fan-in is
    ``kernel_size x filters``: this kernel's fan-out), and ``max_norm`` bounds the same
    per-channel-pair tap vectors (axis 0 in both layouts)."""
    x = layers.ZeroPadding1D((kernel_size - 1) * rate, name=f"{name}_pad")(x)
    return layers.Conv1D(filters, kernel_size, activation=activation, padding="valid",
                         dilation_rate=rate,
                         kernel_initializer=keras.initializers.VarianceScaling(
                             2.0, "fan_out", "uniform"),
                         kernel_constraint=constraints.MaxNorm(2.0), name=name)(x)


def minmax_transform(mixed: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Training batches for the min-max model (see the module doc for why the target uses the
    noisy input's min and max).

    Args:
        mixed, clean: ``(rows, time)`` float32 in signal units.

    Returns:
        ``(inputs, targets)``, each ``(rows, time, 1)`` float32 in [0, 1]; identical to
        ``inference.scale(mixed, {"kind": "minmax"})`` for the inputs (tests check it).
    """
    mixed = np.asarray(mixed, np.float32)
    lo = np.min(mixed, axis=-1, keepdims=True)
    span = np.max(mixed, axis=-1, keepdims=True) - lo
    span = np.where(span > 0, span, np.float32(1.0))
    inputs = (mixed - lo) / span
    targets = np.clip((np.asarray(clean, np.float32) - lo) / span, 0.0, 1.0)
    return inputs[..., None].astype(np.float32), targets[..., None].astype(np.float32)


def recipe_conv1d_ae(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                     jit_compile: bool) -> tuple[Any, list[Any]]:
    """Seed 000's training: Adam (``learning_rate``, halved every ``lr_halving_epochs``; the
    seed keeps Keras' default 1e-3), binary cross-entropy on [0, 1] targets; the model's
    dilations are ``mp["dilation_rates"]``.

    The tracked ``l1`` metric (early stopping's ``val_l1``) is in scaled [0, 1] units.
    """
    from . import halving_schedule

    model = build_conv1d_ae(int(shape[0]), dilation_rates=mp["dilation_rates"])
    lr = halving_schedule(float(mp["learning_rate"]), int(mp["lr_halving_epochs"]),
                          steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.MeanAbsoluteError(name="l1")],
                  jit_compile=jit_compile)
    return model, []
