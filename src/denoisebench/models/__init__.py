"""Model registry: ``build(kind)`` returns the untrained Keras model of that seed architecture.

Each family lives in its own module; :data:`REGISTRY` maps a model *kind* (the ``kind`` key of
``models.<name>`` in params.yaml) to its builder and to the seed's trainable-parameter count,
which the tests assert. GAN kinds return a :class:`~denoisebench.models.gan.DenoisingGAN`
exposing ``.generator`` and ``.discriminator``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """How to build one model kind and what the seed reports for it."""

    builder: Callable[..., Any]
    seed_params: int | None  # trainable parameters as the seed reports them (None: no figure)
    source: str


def _gan(length: int = 256, **kw: Any) -> Any:
    from .gan import build_gan

    return build_gan(length, **kw)


def _generator(length: int = 256, **_: Any) -> Any:
    from .gan import build_generator

    return build_generator(length)


REGISTRY: dict[str, ModelSpec] = {
    "gan": ModelSpec(_gan, 282_177, "seed 004 (GAN denoiser, generator)"),
    "gan_l1": ModelSpec(_generator, 282_177, "seed 004 generator, L1 only (ablation)"),
}


def build(kind: str, **kwargs: Any) -> Any:
    """Build the untrained model of ``kind`` (see :data:`REGISTRY`).

    Raises:
        KeyError: unknown kind; the message lists the known ones.
    """
    try:
        spec = REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown model kind {kind!r}; expected one of {sorted(REGISTRY)}") from None
    return spec.builder(**kwargs)


def count_trainable(model: Any) -> int:
    """Trainable parameters of a Keras model (the denoiser only, for a GAN: its generator)."""
    import numpy as np

    target = getattr(model, "generator", model)
    return int(sum(np.prod(w.shape) for w in target.trainable_weights))
