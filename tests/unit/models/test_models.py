"""Seed architectures: parameter counts and shapes (docs/models.md)."""

from __future__ import annotations

import numpy as np
import pytest

from denoisebench import models


def test_gan_parameter_counts() -> None:
    gan = models.build("gan")
    assert models.count_trainable(gan.generator) == 282_177
    assert models.count_trainable(gan.discriminator) == 10_577
    # BatchNormalization keeps 2 non-trainable statistics per channel: Keras shows 282,561
    assert gan.generator.count_params() == 282_561


def test_generator_shapes_and_registry() -> None:
    g = models.build("gan_l1", length=256)
    assert models.count_trainable(g) == models.REGISTRY["gan_l1"].seed_params
    y = g.predict(np.zeros((3, 256, 1), np.float32), verbose=0)
    assert y.shape == (3, 256, 1)
    d = models.build("gan").discriminator
    p = d.predict(np.zeros((2, 256, 1), np.float32), verbose=0)
    assert p.shape == (2, 1) and np.all((p >= 0) & (p <= 1))


def test_unknown_kind_and_bad_length() -> None:
    with pytest.raises(KeyError, match="expected one of"):
        models.build("unet")
    from denoisebench.models.gan import build_generator

    with pytest.raises(ValueError, match="multiple of 16"):
        build_generator(100)
