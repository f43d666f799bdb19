"""``tf.data`` input pipeline that streams (mixed, clean) pairs from checked shards.

Shards are read one at a time (checked against the manifest by
:class:`~denoisebench.data.shards.DatasetReader`) and handed to TensorFlow in record batches
of ``chunk`` rows, then ``unbatch -> shuffle -> batch -> prefetch``: memory stays bounded by
one shard plus the shuffle buffer, whatever the dataset's size (REFERENCE.md: yielding single
rows from Python runs at ~6,000 samples/s, record batches at >100,000/s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .shards import DatasetReader

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _add_channel(mixed: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return mixed[..., None], clean[..., None]


def stream(
    reader: DatasetReader,
    split: str,
    batch_size: int,
    *,
    shuffle: bool = True,
    shuffle_buffer: int = 4096,
    seed: int = 0,
    transform: Transform = _add_channel,
    kinds: Sequence[str] = ("mixed", "clean"),
    chunk: int = 2048,
) -> Any:
    """A ``tf.data.Dataset`` of ``(inputs, targets)`` batches from one split.

    Args:
        reader: the dataset's checked reader.
        split: ``"train"`` or ``"validation"``.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: shuffle shard order and examples (a new order each epoch, seeded).
        shuffle_buffer: examples held by the shuffle buffer.
        seed: seed of the shard order and of ``Dataset.shuffle``.
        transform: numpy function applied to each record batch (scaling, channel axis);
            its output shapes define the element spec.
        kinds: which files feed the inputs and the targets.
        chunk: rows per record batch handed from Python to TensorFlow.

    Raises:
        DataIntegrityError: a shard fails its manifest checks when first read.
    """
    import tensorflow as tf

    entries = reader.shards(split)
    probe_rows = min(2, entries[0].rows) if entries else 0
    if probe_rows == 0:
        raise ValueError(f"{reader.manifest_path}: split {split!r} has no rows")
    probe = transform(*(np.zeros((probe_rows, *reader.shape), np.float32) for _ in kinds))
    spec = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.float32) for a in probe)
    epoch = [0]

    def records():
        order = list(entries)
        if shuffle:
            np.random.default_rng([seed, epoch[0]]).shuffle(order)
        epoch[0] += 1
        for entry in order:
            arrays = [reader.read_entry(entry, k) for k in kinds]
            for start in range(0, entry.rows, chunk):
                part = transform(*(a[start:start + chunk] for a in arrays))
                yield tuple(np.asarray(p, np.float32) for p in part)

    ds = tf.data.Dataset.from_generator(records, output_signature=spec).unbatch()
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    # known cardinality: Keras sizes its epochs without running out of data once
    ds = ds.apply(tf.data.experimental.assert_cardinality(steps(reader, split, batch_size)))
    return ds.prefetch(tf.data.AUTOTUNE)


def steps(reader: DatasetReader, split: str, batch_size: int) -> int:
    """Batches per epoch of :func:`stream` (the last one may be partial)."""
    return -(-reader.rows(split) // batch_size)
