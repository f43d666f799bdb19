"""Replay a generated split's random draws: what the shards do not store (the multisine
frequencies, the blur of each ``images_blur`` image) recovered for the oracle rows.

Each shard of a generated dataset draws every random number from its own SeedSequence
(:func:`denoisebench.data.generate.shard_seed`), so the generator's first draws can be
repeated exactly. A replay is trusted only when it also regenerates what the shard stores, to
1e-4 (a tolerance, not equality: a numerically equivalent generator replays the same draws;
other params or seeds differ by O(0.1)); otherwise the data were not generated from these
params (params changed since, or a user's own data) and there is no truth.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: ``draw(entry, fresh_rng) -> (truth, regenerated, stored)`` for one shard: ``fresh_rng()``
#: gives a new generator at the shard's first draw each time it is called
Draw = Callable[[Any, Callable[[], np.random.Generator]], tuple[Any, np.ndarray, np.ndarray]]


def replay_shards(name: str, seed: int, reader: Any, split: str, draw: Draw,
                  what: str) -> list[Any] | None:
    """The truth ``draw`` recovers from every shard of ``split``, in shard order, or None (with
    a log message naming ``what`` is left out) when a shard's regenerated arrays differ from
    its stored ones by more than 1e-4.

    Args:
        name: the dataset's name (part of each shard's seed); seed: params ``seed``.
        reader: a :class:`~denoisebench.data.shards.DatasetReader` of the dataset.
    """
    from ..data import generate

    out = []
    for entry in reader.shards(split):
        def fresh(index: int = entry.index) -> np.random.Generator:
            return np.random.default_rng(generate.shard_seed(seed, name, split, index))

        truth, again, stored = draw(entry, fresh)
        if again.shape != stored.shape or not np.allclose(again, stored, rtol=0.0, atol=1e-4):
            log.warning("%s/%s shard %d: replaying the generator does not reproduce the stored "
                        "data; %s is left out", name, split, entry.index, what)
            return None
        out.append(truth)
    return out
