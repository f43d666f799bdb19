"""Seed 004: the GAN-trained 1-D convolutional autoencoder denoiser and its L1-only ablation.

Architecture (docs/models.md ("gan")): the generator is 4 encoder blocks
Conv1D(16, kernel 64, stride 2, "same") -> BatchNorm -> LeakyReLU and 4 decoder blocks
Conv1DTranspose(32, kernel 64, stride 2, "same") -> BatchNorm -> LeakyReLU, then a linear
Conv1D(1, kernel 64, "same") head: 282,177 trainable parameters for 256-sample input. The
discriminator is 2 blocks Conv1D(8, kernel 32, stride 2, "same") -> BatchNorm -> LeakyReLU(0.01),
Flatten -> Dense(16, relu) -> Dense(1, sigmoid): 10,577 trainable parameters.

Training (seed 004 after the MathWorks example it follows): discriminator BCE (weight 2);
generator loss = 3 x non-saturating adversarial BCE + 9 x L1; Adam, generator lr 1e-3,
discriminator lr 1e-4, both halved every 50 epochs; batch 50; optional L1-only warm-up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers, ops

from .. import backend
from . import GAN_WINDOW_MULTIPLE


def build_generator(length: int = 256, name: str = "generator") -> keras.Model:
    """Seed 004's generator: input ``(batch, length, 1)`` -> output ``(batch, length, 1)``.

    ``length`` must be divisible by 16 (four stride-2 encoder blocks).

    Raises:
        ValueError: ``length`` is not a positive multiple of 16.
    """
    if length <= 0 or length % GAN_WINDOW_MULTIPLE:
        raise ValueError(f"generator length must be a positive multiple of "
                         f"{GAN_WINDOW_MULTIPLE}, got {length}")
    inputs = keras.Input(shape=(length, 1), name="mixed")
    x = inputs
    for i in range(4):
        x = layers.Conv1D(16, 64, strides=2, padding="same", name=f"enc{i}_conv")(x)
        x = layers.BatchNormalization(name=f"enc{i}_bn")(x)
        x = layers.LeakyReLU(name=f"enc{i}_act")(x)
    for i in range(4):
        x = layers.Conv1DTranspose(32, 64, strides=2, padding="same", name=f"dec{i}_deconv")(x)
        x = layers.BatchNormalization(name=f"dec{i}_bn")(x)
        x = layers.LeakyReLU(name=f"dec{i}_act")(x)
    outputs = layers.Conv1D(1, 64, padding="same", name="head", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(length: int = 256, name: str = "discriminator") -> keras.Model:
    """Seed 004's discriminator: ``(batch, length, 1)`` -> probability "clean" ``(batch, 1)``."""
    inputs = keras.Input(shape=(length, 1), name="signal")
    x = inputs
    for i in range(2):
        x = layers.Conv1D(8, 32, strides=2, padding="same", name=f"d{i}_conv")(x)
        x = layers.BatchNormalization(name=f"d{i}_bn")(x)
        x = layers.LeakyReLU(negative_slope=0.01, name=f"d{i}_act")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(16, activation="relu", name="dense")(x)
    outputs = layers.Dense(1, activation="sigmoid", name="p_clean", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


class DenoisingGAN(keras.Model):
    """Generator + discriminator trained with seed 004's hybrid loss.

    ``fit`` takes ``(mixed, clean)`` batches of shape ``(batch, time, 1)``. Metrics: ``l1``
    (generator reconstruction L1, also on validation as ``val_l1``), ``g_adv``, ``d_loss``.
    The adversarial terms are gated by :attr:`adversarial_on` (0 during the L1-only warm-up,
    set by :class:`AdversarialWarmup`). Only :attr:`generator` is needed at inference; ``call``
    runs it. The training step (two gradients of one forward pass) is written once per Keras
    backend in :mod:`denoisebench.backend` (docs/design.md "Keras backends"); the losses and
    metrics here are backend-neutral.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        adversarial_weight: float = 3.0,
        l1_weight: float = 9.0,
        discriminator_weight: float = 2.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.adversarial_weight = float(adversarial_weight)
        self.l1_weight = float(l1_weight)
        self.discriminator_weight = float(discriminator_weight)
        self.adversarial_on = self.add_weight(
            name="adversarial_on", shape=(), initializer="ones", trainable=False
        )
        self.bce = keras.losses.BinaryCrossentropy()
        self.l1_tracker = keras.metrics.Mean(name="l1")
        self.adv_tracker = keras.metrics.Mean(name="g_adv")
        self.d_tracker = keras.metrics.Mean(name="d_loss")

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.generator(inputs, training=training)

    def compile(  # type: ignore[override]
        self,
        g_optimizer: keras.optimizers.Optimizer,
        d_optimizer: keras.optimizers.Optimizer,
        **kwargs: Any,
    ) -> None:
        """Compile with the generator's and the discriminator's optimisers, held as one
        ``keras.optimizers.MultiOptimizer`` (``self.optimizer``: every backend's trainer, JAX's
        stateless one included, then carries both optimisers' state). Under the
        ``mixed_float16`` policy Keras wraps it in a ``LossScaleOptimizer``."""
        d_vars = {id(v) for v in self.discriminator.trainable_variables}
        both = keras.optimizers.MultiOptimizer(
            lambda v: d_optimizer if id(v) in d_vars else g_optimizer, name="gan_optimizers")
        super().compile(optimizer=both, **kwargs)
        # built now, not at the first step: a resumed run loads their state (Adam's moments
        # and step count) from the backup; Keras skips the variables of an unbuilt optimiser
        self.optimizer.build(self.trainable_variables)

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.l1_tracker, self.adv_tracker, self.d_tracker]

    def losses_of(self, clean: Any, denoised: Any, p_real: Any, p_fake: Any,
                  gate: Any) -> tuple[Any, Any, Any, Any]:
        """``(generator loss, discriminator loss, l1, g_adv)`` of one batch: ``clean`` and
        ``denoised`` ``(batch, time, 1)``, the discriminator's ``p_real`` and ``p_fake``
        ``(batch, 1)``; ``gate`` (0 or 1) switches the adversarial terms."""
        d_loss = self.discriminator_weight * (
            self.bce(ops.ones_like(p_real), p_real) + self.bce(ops.zeros_like(p_fake), p_fake)
        ) * gate
        l1 = ops.mean(ops.abs(ops.cast(clean, denoised.dtype) - denoised))
        g_adv = self.bce(ops.ones_like(p_fake), p_fake)  # non-saturating
        g_loss = self.l1_weight * l1 + self.adversarial_weight * g_adv * gate
        return g_loss, d_loss, l1, g_adv

    def record_train(self, l1: Any, g_adv: Any, d_loss: Any) -> dict[str, Any]:
        """Update the training metrics; return the logs."""
        self.l1_tracker.update_state(l1)
        self.adv_tracker.update_state(g_adv)
        self.d_tracker.update_state(d_loss)
        return {m.name: m.result() for m in self.metrics}

    def record_test(self, clean: Any, denoised: Any) -> dict[str, Any]:
        """Update the validation metric ``l1``; return the logs."""
        self.l1_tracker.update_state(ops.mean(ops.abs(ops.cast(clean, denoised.dtype)
                                                      - denoised)))
        return {"l1": self.l1_tracker.result()}

    def train_step(self, *args: Any) -> Any:
        return backend.gan_train_step(self, *args)

    def test_step(self, *args: Any) -> Any:
        return backend.gan_test_step(self, *args)


def build_gan(length: int = 256, **loss_weights: float) -> DenoisingGAN:
    """Seed 004's GAN (generator 282,177 / discriminator 10,577 trainable params at 256)."""
    gan = DenoisingGAN(build_generator(length), build_discriminator(length), **loss_weights)
    gan.build((None, length, 1))
    return gan


class AdversarialWarmup(keras.callbacks.Callback):
    """L1-only epochs first (seed 004's generator warm-up), then the adversarial terms."""

    def __init__(self, warmup_epochs: int) -> None:
        super().__init__()
        self.warmup_epochs = int(warmup_epochs)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.model.adversarial_on.assign(1.0 if epoch >= self.warmup_epochs else 0.0)


def recipe_gan(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
               jit_compile: bool) -> tuple[DenoisingGAN, list[Any]]:
    """Seed 004's GAN training: Adam (generator / discriminator lr, halved every
    ``lr_halving_epochs``), loss weights from ``mp``, L1-only warm-up epochs."""
    from . import halving_schedule

    model = build_gan(int(shape[0]), adversarial_weight=mp["adversarial_weight"],
                      l1_weight=mp["l1_weight"], discriminator_weight=mp["discriminator_weight"])
    halving = int(mp["lr_halving_epochs"])
    model.compile(
        g_optimizer=keras.optimizers.Adam(
            halving_schedule(mp["generator_lr"], halving, steps_per_epoch)),
        d_optimizer=keras.optimizers.Adam(
            halving_schedule(mp["discriminator_lr"], halving, steps_per_epoch)),
        jit_compile=jit_compile,
    )
    return model, [AdversarialWarmup(int(mp["warmup_epochs"]))]


def recipe_l1(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
              jit_compile: bool) -> tuple[keras.Model, list[Any]]:
    """The ablation: seed 004's generator on L1 alone, Adam with the same halving schedule."""
    from . import halving_schedule

    model = build_generator(int(shape[0]))
    model.compile(
        optimizer=keras.optimizers.Adam(
            halving_schedule(mp["generator_lr"], int(mp["lr_halving_epochs"]), steps_per_epoch)),
        loss="mae",
        metrics=[keras.metrics.MeanAbsoluteError(name="l1")],
        jit_compile=jit_compile,
    )
    return model, []
