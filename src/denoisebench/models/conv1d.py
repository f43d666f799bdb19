"""Seed 000: the Conv1D / Conv1DTranspose denoising autoencoder on min-max scaled signals.

Architecture (REFERENCE.md, task ``quadratic``): Conv1D(128, 3, relu, "valid") ->
Conv1D(32, 3, relu, "valid") -> Conv1DTranspose(32, 3, relu, "valid") ->
Conv1DTranspose(128, 3, relu, "valid") -> Conv1D(1, 3, sigmoid, "same"); every kernel
``he_uniform`` with the ``max_norm(2.0)`` constraint: 28,737 trainable parameters, lengths
150 -> 148 -> 146 -> 148 -> 150 -> 150. Its receptive field is 11 samples (1 + 5 x 2): every
output sample sees only its 10 nearest neighbours, so it is a *local* smoother. On the default
random quadratics in 0.05 Gaussian noise, the least-squares best linear 11-tap estimator (one
filter per position, so edges included) reaches about 10.2 dB aggregate SNRi, level with the
tuned Butterworth (10.2-10.3 dB) and far from the 3-parameter least-squares fit (~17 dB): the
seed's architecture cannot be expected to beat the lowpass clearly, however long it trains.

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

#: the seed's layer list: (layer, filters, activation)
LAYERS = (("conv", 128, "relu"), ("conv", 32, "relu"), ("deconv", 32, "relu"),
          ("deconv", 128, "relu"))


def build_conv1d_ae(length: int = 150, kernel_size: int = 3, name: str = "conv1d_ae") -> Any:
    """Seed 000's autoencoder: ``(batch, length, 1)`` in [0, 1] -> ``(batch, length, 1)`` in
    (0, 1) (sigmoid). 28,737 trainable parameters with the seed's ``kernel_size`` 3 (any length).

    Raises:
        ValueError: ``length`` too short for two valid convolutions (``<= 2 (kernel_size - 1)``).
    """
    if length <= 2 * (kernel_size - 1):
        raise ValueError(f"conv1d_ae needs length > {2 * (kernel_size - 1)}, got {length}")
    common = {"kernel_size": kernel_size, "padding": "valid",
              "kernel_initializer": "he_uniform", "kernel_constraint": constraints.MaxNorm(2.0)}
    inputs = keras.Input(shape=(length, 1), name="mixed")
    x = inputs
    for i, (kind, filters, act) in enumerate(LAYERS):
        cls = layers.Conv1D if kind == "conv" else layers.Conv1DTranspose
        x = cls(filters, activation=act, name=f"{kind}{i}", **common)(x)
    outputs = layers.Conv1D(1, kernel_size, activation="sigmoid", padding="same",
                            kernel_initializer="he_uniform",
                            kernel_constraint=constraints.MaxNorm(2.0), name="head",
                            dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


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
    seed keeps Keras' default 1e-3), binary cross-entropy on [0, 1] targets.

    The tracked ``l1`` metric (early stopping's ``val_l1``) is in scaled [0, 1] units.
    """
    from . import halving_schedule

    model = build_conv1d_ae(int(shape[0]))
    lr = halving_schedule(float(mp["learning_rate"]), int(mp["lr_halving_epochs"]),
                          steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(lr),
                  loss=keras.losses.BinaryCrossentropy(),
                  metrics=[keras.metrics.MeanAbsoluteError(name="l1")],
                  jit_compile=jit_compile)
    return model, []
