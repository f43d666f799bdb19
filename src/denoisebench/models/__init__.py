"""Model registry: one :class:`ModelSpec` per model *kind* (the ``kind`` of ``models.<name>``).

Each family lives in its own module and provides, besides the architecture, its training
recipe (loss, optimiser, callbacks), the datasets it can train on, and how examples are
presented to it (``transform`` for training batches, ``scaling`` for inference, the model's
input shape). ``build(kind)`` returns the untrained Keras model; GAN kinds return a
:class:`~denoisebench.models.gan.DenoisingGAN` exposing ``.generator`` and ``.discriminator``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: (mp, example shape, steps per epoch, jit_compile) -> (compiled model, extra callbacks)
Recipe = Callable[[Mapping[str, Any], Sequence[int], int, bool], tuple[Any, list[Any]]]
Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def add_channel(mixed: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, *shape)`` -> ``(rows, *shape, 1)``: the channels-last layout of the models."""
    return mixed[..., None], clean[..., None]


def channel_last_shape(shape: Sequence[int]) -> list[int]:
    """Model input shape for examples of ``shape``: one trailing channel axis."""
    return [*shape, 1]


@dataclass(frozen=True)
class ModelSpec:
    """How to build, train and feed one model kind, and what its seed reports."""

    builder: Callable[..., Any]
    recipe: Recipe
    seed_params: int | None  # trainable parameters as the seed reports them (None: no figure)
    source: str  # which seed / paper the architecture comes from
    dataset_kinds: tuple[str, ...]  # dataset kinds it can be trained on
    transform: Transform = add_channel  # numpy (mixed, clean) batch -> (inputs, targets)
    scaling: Mapping[str, Any] = field(default_factory=lambda: {"kind": "none"})
    model_input_shape: Callable[[Sequence[int]], list[int]] = channel_last_shape
    # TensorFlow's oneDNN CPU kernels while training. On for every model: one epoch on 2 cores
    # (BENCHMARKS.md "oneDNN") took 2-6x less time with them for the conv models and 10-20 % less
    # for the recurrent ones, and op determinism still gives identical weights (checked for
    # gan_l1, bigru, conv1d_ae, conv2d_ae, dense_ae). A model kind whose kernels misbehave with
    # oneDNN can set False.
    onednn: bool = True
    # (mp, dataset params, seed) -> the transform of the *training* batches, when it differs
    # from ``transform`` (issue 15's kinds: a fresh noise draw per batch, models.modern);
    # validation batches always use ``transform``.
    train_transform: Callable[[Mapping[str, Any], Mapping[str, Any], int], Transform] | None = None


def lazy(module: str, name: str) -> Callable[..., Any]:
    """``module.name`` imported on first call: the registry (read when params are validated,
    e.g. while Snakemake parses the workflow) must not import Keras/TensorFlow."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"Lazy {module}.{name}"
    return call


#: dataset kinds of issue 15's 1-D and 2-D models
SIGNAL_KINDS = ("multisine", "quadratic", "sine", "folder")
IMAGE_KINDS = ("images", "images_blur")

REGISTRY: dict[str, ModelSpec] = {
    "gan": ModelSpec(lazy("gan", "build_gan"), lazy("gan", "recipe_gan"), 282_177,
                     "seed 004 (GAN-trained 1-D conv autoencoder, generator)",
                     ("multisine", "folder")),
    "gan_l1": ModelSpec(lazy("gan", "build_generator"), lazy("gan", "recipe_l1"), 282_177,
                        "seed 004 generator trained on L1 alone (ablation)",
                        ("multisine", "folder")),
    "conv1d_ae": ModelSpec(lazy("conv1d", "build_conv1d_ae"), lazy("conv1d", "recipe_conv1d_ae"),
                           28_737, "seed 000 (Conv1D/Conv1DTranspose autoencoder, min-max, BCE)",
                           ("quadratic", "folder"), transform=lazy("conv1d", "minmax_transform"),
                           scaling={"kind": "minmax"}),
    "rnn": ModelSpec(lazy("rnn", "build_rnn"), lazy("rnn", "recipe_recurrent"), 991,
                     "seed 001 (SimpleRNN(30) + Dense, masked L1)", ("sine", "folder")),
    "birnn": ModelSpec(lazy("rnn", "build_birnn"), lazy("rnn", "recipe_recurrent"), 1_981,
                       "seed 001 (bidirectional SimpleRNN(30) + Dense, masked L1; Keras count)",
                       ("sine", "folder")),
    "gru": ModelSpec(lazy("rnn", "build_gru"), lazy("rnn", "recipe_recurrent"), 3_001,
                     "GRU(30) + Dense, masked L1 (seed 001's cell, one direction)",
                     ("sine", "folder")),
    "bigru": ModelSpec(lazy("rnn", "build_bigru"), lazy("rnn", "recipe_recurrent"), 6_001,
                       "seed 001 (bidirectional GRU(30) + Dense, masked L1)", ("sine", "folder")),
    "dense_ae": ModelSpec(lazy("dense", "build_dense_ae"), lazy("dense", "recipe_dense"), 50_992,
                          "seed 002 (dense autoencoder 784-32-784)", ("images", "images_blur"),
                          transform=lazy("dense", "flatten"),
                          model_input_shape=lazy("dense", "flat_shape")),
    "conv2d_ae": ModelSpec(lazy("conv2d", "build_conv2d_ae"), lazy("conv2d", "recipe_conv2d"),
                           4_385, "seed 002 (convolutional autoencoder, Gaussian noise)",
                           ("images", "images_blur")),
    "conv2d_ae_blur": ModelSpec(lazy("conv2d", "build_conv2d_ae"),
                                lazy("conv2d", "recipe_conv2d"), 4_385,
                                "seed 003 (convolutional autoencoder, blur + uniform noise)",
                                ("images_blur",)),
    # issue 15: modern denoisers (models/resnet.py, models/unet.py, recipe in models/modern.py)
    "dncnn1d": ModelSpec(lazy("resnet", "build_dncnn1d"), lazy("resnet", "recipe_dncnn1d"), None,
                         "residual dilated CNN (DnCNN residual learning, Zhang et al. 2017; "
                         "TCN-style dilations)", SIGNAL_KINDS,
                         train_transform=lazy("modern", "train_transform")),
    "unet1d": ModelSpec(lazy("unet", "build_unet1d"), lazy("unet", "recipe_unet1d"), None,
                        "1-D U-Net after Wave-U-Net (Stoller et al. 2018), residual output",
                        SIGNAL_KINDS, train_transform=lazy("modern", "train_transform")),
    "dncnn2d": ModelSpec(lazy("resnet", "build_dncnn2d"), lazy("resnet", "recipe_dncnn2d"), None,
                         "DnCNN (Zhang et al. 2017)", IMAGE_KINDS,
                         train_transform=lazy("modern", "train_transform")),
    "unet2d": ModelSpec(lazy("unet", "build_unet2d"), lazy("unet", "recipe_unet2d"), None,
                        "small 2-D U-Net (Ronneberger et al. 2015), residual output",
                        IMAGE_KINDS, train_transform=lazy("modern", "train_transform")),
}


def spec(kind: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``kind``.

    Raises:
        KeyError: unknown kind; the message lists the known ones.
    """
    try:
        return REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown model kind {kind!r}; expected one of {sorted(REGISTRY)}") from None


def build(kind: str, **kwargs: Any) -> Any:
    """Build the untrained model of ``kind`` (see :data:`REGISTRY`).

    Raises:
        KeyError: unknown kind.
    """
    return spec(kind).builder(**kwargs)


def count_trainable(model: Any) -> int:
    """Trainable parameters of a Keras model (the denoiser only, for a GAN: its generator)."""
    target = getattr(model, "generator", model)
    return int(sum(np.prod(w.shape) for w in target.trainable_weights))


def halving_schedule(lr: float, halving_epochs: int, steps_per_epoch: int) -> Any:
    """Learning rate ``lr`` halved every ``halving_epochs`` epochs (staircase; seed 004)."""
    import keras

    return keras.optimizers.schedules.ExponentialDecay(
        lr, decay_steps=max(1, halving_epochs * steps_per_epoch), decay_rate=0.5, staircase=True
    )
