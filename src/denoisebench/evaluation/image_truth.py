"""The true degradation of each ``images_blur`` validation image, for the oracle rows.

The shards store clean, noise and mixture, not the per-image blur sigma and noise range the
generator drew (the shards stay the data interface). As
:func:`denoisebench.evaluation.bounds.true_multisine_frequencies` does for multisine, they are
recovered by replaying each validation shard's SeedSequence (:mod:`.replay`) through the
generator's first draws
(:func:`denoisebench.data.images.blur_mixture`: sigma ~ U(blur_sigma_min, blur_sigma_max), then
r ~ U(noise_range_min, noise_range_max), one per row), and checked: degrading the stored clean
images with them (:func:`denoisebench.data.images.blur_and_noise`, same generator state) must
reproduce the stored mixtures to 1e-4, else there is no truth (params changed since the data
was generated) and the oracle is left out with a log message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .replay import replay_shards


def true_degradation(name: str, dataset: Mapping[str, Any], seed: int, reader: Any,
                     split: str = "validation") -> tuple[np.ndarray, np.ndarray] | None:
    """``(blur sigma (rows,) pixels, noise half-range r (rows,))`` of every row of a generated
    ``images_blur`` split, in row order, or None (not ``images_blur``, or a shard the replay
    does not reproduce).

    Args:
        name: the dataset's name (part of each shard's seed); dataset: its params.
        seed: params ``seed``.
        reader: a :class:`~denoisebench.data.shards.DatasetReader` of the dataset.
    """
    from ..data.images import blur_and_noise

    if dataset.get("kind") != "images_blur":
        return None

    def draw(entry: Any, fresh: Callable[[], np.random.Generator]) -> tuple[Any, Any, Any]:
        rng = fresh()
        sigma = rng.uniform(dataset["blur_sigma_min"], dataset["blur_sigma_max"], size=entry.rows)
        r = rng.uniform(dataset["noise_range_min"], dataset["noise_range_max"], size=entry.rows)
        again = blur_and_noise(reader.read_entry(entry, "clean"), sigma, r, rng,
                               bool(dataset.get("clip", False)))
        return (sigma, r), again, reader.read_entry(entry, "mixed")

    parts = replay_shards(name, int(seed), reader, split, draw,
                          "the oracle rows (they need the true blur)")
    if not parts:
        return None
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def noise_std(r: np.ndarray) -> np.ndarray:
    """The standard deviation of uniform noise on [-r, r]: r / sqrt(3) (same shape)."""
    return np.asarray(r, np.float64) / np.sqrt(3.0)
