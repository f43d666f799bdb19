"""Seed 002's dense autoencoder: 784 -> Dense(32, relu) -> Dense(784, sigmoid).

50,992 trainable parameters (784*32 + 32 + 32*784 + 784; docs/models.md ("dense_ae")).
Images ``(28, 28)`` are flattened to 784 values in [0, 1] (the registry's transform does it);
the output is a pixel intensity in [0, 1] per value. Training (seeds 002/003): binary
cross-entropy, Adam (or Adadelta), batch 128; see :func:`recipe_autoencoder`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers


def build_dense_ae(shape: Sequence[int] = (28, 28), code: int = 32,
                   name: str = "dense_ae") -> keras.Model:
    """Seed 002's dense autoencoder: input ``(batch, prod(shape))`` -> same shape, sigmoid.

    Raises:
        ValueError: ``code`` or the flattened size is not positive.
    """
    width = math.prod(int(s) for s in shape)
    if width <= 0 or code <= 0:
        raise ValueError(f"dense_ae needs positive sizes, got shape {list(shape)}, code {code}")
    inputs = keras.Input(shape=(width,), name="mixed")
    encoded = layers.Dense(code, activation="relu", name="encoder")(inputs)
    decoded = layers.Dense(width, activation="sigmoid", name="decoder", dtype="float32")(encoded)
    return keras.Model(inputs, decoded, name=name)


def make_optimizer(mp: Mapping[str, Any]) -> keras.optimizers.Optimizer:
    """``optimizer`` (``adam``: seed 002, ``adadelta``: seed 003) at ``learning_rate``.

    Keras 3's Adadelta defaults to lr 0.001; the Keras 2 string ``"adadelta"`` the seed used
    meant lr 1.0, so seed-scale settings name it explicitly.

    Raises:
        ValueError: unknown optimizer name.
    """
    name = str(mp.get("optimizer", "adam")).lower()
    lr = float(mp["learning_rate"])
    if name == "adam":
        return keras.optimizers.Adam(lr)
    if name == "adadelta":
        return keras.optimizers.Adadelta(lr)
    raise ValueError(f"unknown optimizer {name!r}; expected 'adam' or 'adadelta'")


def compile_autoencoder(model: keras.Model, mp: Mapping[str, Any], jit_compile: bool) -> None:
    """Seeds 002/003: binary cross-entropy on pixel intensities; L1 tracked as ``l1`` (the
    metric early stopping monitors as ``val_l1``)."""
    model.compile(optimizer=make_optimizer(mp), loss="binary_crossentropy",
                  metrics=[keras.metrics.MeanAbsoluteError(name="l1")], jit_compile=jit_compile)


def recipe_dense(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                 jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """Build and compile seed 002's dense autoencoder for examples of ``shape`` (28, 28)."""
    model = build_dense_ae(shape)
    compile_autoencoder(model, mp, jit_compile)
    return model, []


def flatten(mixed: Any, clean: Any) -> tuple[Any, Any]:
    """Training transform: ``(rows, 28, 28)`` -> ``(rows, 784)`` for inputs and targets."""
    return mixed.reshape(len(mixed), -1), clean.reshape(len(clean), -1)


def flat_shape(shape: Sequence[int]) -> list[int]:
    """Model input shape of the dense autoencoder for examples of ``shape``: ``[prod(shape)]``."""
    return [math.prod(int(s) for s in shape)]
