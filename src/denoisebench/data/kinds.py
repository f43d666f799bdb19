"""Dataset-kind registry: one :class:`DatasetKind` per ``datasets.<name>.kind``, like
:class:`denoisebench.models.ModelSpec` for the models (docs/design.md "Data").

Each row says how the kind's examples come about (its generator, or none for a folder the
user brings), the shape of one example, its modality (``signal``: 1-D, judged by SNR;
``image``: judged by PSNR/SSIM) and its own params checks. Everything that branches on a
dataset kind asks this registry, so a new kind is one row here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import folder, image_sources, images, signals

Generated = tuple[np.ndarray, np.ndarray]
#: ``(params, rows, rng) -> (clean, noise)``; a shard-aware one also takes ``split``, ``offset``
Generator = Callable[..., Generated]
#: ``(dataset name, its params, the whole configuration) -> problems``
Check = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]

SIGNAL = "signal"
IMAGE = "image"


def _by_path(check: Callable[[str, Mapping[str, Any]], list[str]]) -> Check:
    """A check of ``(datasets.<name>, params)`` as a registry :data:`Check`."""
    return lambda name, ds, cfg: check(f"datasets.{name}", ds)


def _folder_check(name: str, ds: Mapping[str, Any], cfg: Mapping[str, Any]) -> list[str]:
    return folder.folder_errors(name, ds, cfg.get("models", {}))


def _image_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    return image_sources.IMAGE_SHAPE


@dataclass(frozen=True, kw_only=True)
class DatasetKind:
    """How one dataset kind is made, shaped, judged and checked."""

    modality: str  # SIGNAL or IMAGE
    source: str  # which seed the kind comes from (docs/tasks.md)
    generator: Generator | None  # None: read from the user's folder, never generated
    shape: Callable[[Mapping[str, Any]], tuple[int, ...]] | None  # one example, from params
    checks: Check
    shard_aware: bool = False  # the generator takes the shard's ``split`` and row ``offset``


KINDS: dict[str, DatasetKind] = {
    "multisine": DatasetKind(
        modality=SIGNAL, source="seed 004", generator=signals.multisine,
        shape=signals.multisine_shape, checks=_by_path(signals.multisine_errors)),
    "quadratic": DatasetKind(
        modality=SIGNAL, source="seed 000", generator=signals.quadratic,
        shape=signals.length_shape, checks=_by_path(signals.curve_errors)),
    "sine": DatasetKind(
        modality=SIGNAL, source="seed 001", generator=signals.sine,
        shape=signals.length_shape, checks=_by_path(signals.curve_errors)),
    "images": DatasetKind(
        modality=IMAGE, source="seed 002", generator=images.generate_images,
        shape=_image_shape, checks=_by_path(images.param_errors), shard_aware=True),
    "images_blur": DatasetKind(
        modality=IMAGE, source="seed 003", generator=images.generate_images,
        shape=_image_shape, checks=_by_path(images.param_errors), shard_aware=True),
    "folder": DatasetKind(
        modality=SIGNAL, source="your own recordings", generator=None, shape=None,
        checks=_folder_check),
}
#: the kinds the pipeline generates (the others are read from a folder)
GENERATED = tuple(k for k, row in KINDS.items() if row.generator is not None)
#: the image kinds (PSNR/SSIM, image baselines, robustness sweep)
IMAGE_KINDS = tuple(k for k, row in KINDS.items() if row.modality == IMAGE)


def is_image(params: Mapping[str, Any]) -> bool:
    """Whether the dataset of ``params`` holds images."""
    return params.get("kind") in IMAGE_KINDS


def generated(kind: str) -> DatasetKind:
    """The row of a kind the pipeline generates.

    Raises:
        KeyError: the dataset kind has no generator.
    """
    if kind not in GENERATED:
        raise KeyError(f"dataset kind {kind!r} cannot be generated; expected one of "
                       f"{sorted(GENERATED)}")
    return KINDS[kind]


def generate(params: Mapping[str, Any], rows: int, rng: np.random.Generator, *,
             split: str, offset: int) -> Generated:
    """``(clean, noise)`` of rows ``[offset, offset + rows)`` of ``split``, every random number
    from ``rng``.

    Raises:
        KeyError: the dataset kind has no generator.
    """
    row = generated(params["kind"])
    assert row.generator is not None
    if row.shard_aware:  # e.g. images: the shard's rows select source images
        return row.generator(params, rows, rng, split=split, offset=offset)
    return row.generator(params, rows, rng)


def example_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    """Shape of one example (without the batch axis) of a generated dataset.

    Raises:
        KeyError: the kind's shape does not follow from its params (folder datasets).
    """
    row = KINDS.get(params["kind"])
    if row is None or row.shape is None:
        raise KeyError(f"no signal shape known for dataset kind {params['kind']!r}")
    return row.shape(params)


def dataset_errors(name: str, ds: Mapping[str, Any], cfg: Mapping[str, Any]) -> list[str]:
    """The checks of ``datasets.<name>`` a kind asks beyond the schema: its own, then the shard
    counts every generated kind shares."""
    p = f"datasets.{name}"
    row = KINDS.get(ds.get("kind"))
    errors = row.checks(name, ds, cfg) if row else []
    for split in ("train", "validation"):
        size, shards = ds.get(f"{split}_size"), ds.get(f"{split}_shards")
        if isinstance(size, int) and isinstance(shards, int) and shards > size:
            errors.append(f"{p}.{split}_shards: {shards} shards for {size} examples; "
                          f"expected at most {p}.{split}_size shards")
    return errors
