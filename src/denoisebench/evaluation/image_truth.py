"""The true degradation of each ``images_blur`` validation image, for the oracle rows.

The shards store clean, noise and mixture, not the per-image blur sigma and noise range the
generator drew (the shards stay the data interface). As
:func:`denoisebench.evaluation.bounds.true_multisine_frequencies` does for multisine, they are
recovered by replaying each validation shard's SeedSequence
(:func:`denoisebench.data.generate.shard_seed`) through the generator's first draws
(:func:`denoisebench.data.images.blur_mixture`: sigma ~ U(blur_sigma_min, blur_sigma_max), then
r ~ U(noise_range_min, noise_range_max), one per row), and checked: degrading the stored clean
images with them (:func:`denoisebench.data.images.blur_and_noise`, same generator state) must
reproduce the stored mixtures to 1e-4, else there is no truth (params changed since the data
was generated) and the oracle is left out with a log message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


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
    from ..data import generate
    from ..data.images import blur_and_noise

    if dataset.get("kind") != "images_blur":
        return None
    sigmas, ranges = [], []
    for entry in reader.shards(split):
        rng = np.random.default_rng(generate.shard_seed(seed, name, split, entry.index))
        sigma = rng.uniform(dataset["blur_sigma_min"], dataset["blur_sigma_max"], size=entry.rows)
        r = rng.uniform(dataset["noise_range_min"], dataset["noise_range_max"], size=entry.rows)
        clean = reader.read_entry(entry, "clean")
        mixed = reader.read_entry(entry, "mixed")
        again = blur_and_noise(clean, sigma, r, rng, bool(dataset.get("clip", False)))
        # a tolerance, not equality: other params or seeds differ by O(0.1)
        if again.shape != mixed.shape or not np.allclose(again, mixed, rtol=0.0, atol=1e-4):
            log.warning("%s/%s shard %d: replaying the generator does not reproduce the stored "
                        "mixtures; no true blur, the oracle rows are left out", name, split,
                        entry.index)
            return None
        sigmas.append(sigma)
        ranges.append(r)
    if not sigmas:
        return None
    return np.concatenate(sigmas), np.concatenate(ranges)


def noise_std(r: np.ndarray) -> np.ndarray:
    """The standard deviation of uniform noise on [-r, r]: r / sqrt(3) (same shape)."""
    return np.asarray(r, np.float64) / np.sqrt(3.0)
