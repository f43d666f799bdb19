"""Seeds 002/003's convolutional autoencoder (4,385 trainable parameters).

Encoder: Conv2D(16, 3, relu, same) -> MaxPool(2, same) -> Conv2D(8) -> MaxPool -> Conv2D(8) ->
MaxPool(same): 28 -> 14 -> 7 -> 4. Decoder: Conv2D(8) -> Up(2) -> Conv2D(8) -> Up ->
Conv2D(16, 3, relu, *valid*) -> Up -> Conv2D(1, 3, sigmoid, same): 4 -> 8 -> 16 -> 14 -> 28.
The valid convolution is what brings 16 back to 14 so that the last upsampling gives 28
(docs/models.md ("conv2d_ae"); docs/tasks.md ("images")). Input and output ``(batch, 28, 28, 1)`` in
[0, 1]. Seed 002 trains it with Adam, seed 003 (on blurred + noisy copies, model ``conv2d_ae_blur``)
with Adadelta; both with binary cross-entropy, batch 128.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers

from .dense import compile_autoencoder


def build_conv2d_ae(shape: Sequence[int] = (28, 28), name: str = "conv2d_ae") -> keras.Model:
    """The seeds' convolutional autoencoder: ``(batch, 28, 28, 1)`` -> ``(batch, 28, 28, 1)``.

    Raises:
        ValueError: ``shape`` is not ``(28, 28)`` (the valid convolution fixes the size).
    """
    if tuple(int(s) for s in shape) != (28, 28):
        raise ValueError(f"conv2d_ae takes 28x28 images (MNIST format), got {list(shape)}")
    inputs = keras.Input(shape=(28, 28, 1), name="mixed")
    x = layers.Conv2D(16, 3, activation="relu", padding="same", name="enc0")(inputs)
    x = layers.MaxPooling2D(padding="same", name="pool0")(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="enc1")(x)
    x = layers.MaxPooling2D(padding="same", name="pool1")(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="enc2")(x)
    x = layers.MaxPooling2D(padding="same", name="pool2")(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="dec0")(x)
    x = layers.UpSampling2D(name="up0")(x)
    x = layers.Conv2D(8, 3, activation="relu", padding="same", name="dec1")(x)
    x = layers.UpSampling2D(name="up1")(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="valid", name="dec2")(x)
    x = layers.UpSampling2D(name="up2")(x)
    outputs = layers.Conv2D(1, 3, activation="sigmoid", padding="same", name="head",
                            dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def recipe_conv2d(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                  jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """Build and compile the convolutional autoencoder (BCE, ``optimizer`` at
    ``learning_rate``) for examples of ``shape`` (28, 28)."""
    model = build_conv2d_ae(shape)
    compile_autoencoder(model, mp, jit_compile)
    return model, []
