"""``tf.data`` input pipeline that streams (mixed, clean) pairs from checked shards.

Shards are read one at a time (checked against the manifest by
:class:`~denoisebench.data.shards.DatasetReader`), permuted in numpy in blocks of at least
``shuffle_buffer`` rows, and handed to TensorFlow as whole batches, then ``prefetch``: memory
stays bounded by the shuffle block plus one shard, whatever the dataset's size, and tf.data does
no per-example work (docs/workflow.md: yielding single rows from Python runs at ~6,000 samples/s).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import numpy as np

from .shards import DatasetReader

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _add_channel(mixed: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return mixed[..., None], clean[..., None]


def _batches(reader: DatasetReader, order: Sequence[Any], kinds: Sequence[str],
             batch_size: int, block_rows: int, rng: np.random.Generator | None,
             transform: Transform) -> Iterator[tuple[np.ndarray, ...]]:
    """One epoch's batches: shards in ``order`` gathered into blocks of at least
    ``block_rows`` rows, each permuted by ``rng`` (None: kept in order) and cut into batches;
    the rows left over from a block start the next one."""
    block: list[list[np.ndarray]] = [[] for _ in kinds]
    rows = 0
    for entry in order:
        for i, k in enumerate(kinds):
            block[i].append(reader.read_entry(entry, k))
        rows += entry.rows
        if rows < block_rows:
            continue
        rest = yield from _emit(_joined(block, rows, rng), batch_size, transform, final=False)
        block, rows = [[r] for r in rest], len(rest[0])
    if rows:
        yield from _emit(_joined(block, rows, rng), batch_size, transform, final=True)


def _joined(block: list[list[np.ndarray]], rows: int,
            rng: np.random.Generator | None) -> list[np.ndarray]:
    """Each kind's pieces of a block concatenated (and permuted the same way by ``rng``)."""
    arrays = [np.concatenate(b) for b in block]
    if rng is not None:
        perm = rng.permutation(rows)
        arrays = [a[perm] for a in arrays]
    return arrays


def _emit(arrays: list[np.ndarray], batch_size: int, transform: Transform,
          final: bool) -> Generator[tuple[np.ndarray, ...], None, list[np.ndarray]]:
    """Yield the whole batches of ``arrays`` (and, when ``final``, the last partial one);
    return the rows left over."""
    n = len(arrays[0])
    stop = n if final else n - n % batch_size
    for start in range(0, stop, batch_size):
        part = transform(*(a[start:start + batch_size] for a in arrays))
        yield tuple(np.asarray(p, np.float32) for p in part)
    return [a[stop:] for a in arrays]


def _generator(reader: DatasetReader, split: str, batch_size: int, shuffle_buffer: int | None,
               seed: int, transform: Transform, kinds: Sequence[str],
               epochs: Sequence[int] | None) -> Callable[[], Iterator[tuple[np.ndarray, ...]]]:
    """The generator function behind :func:`stream`'s dataset: ``epochs`` one after the other
    (epoch ``e`` shuffled by ``(seed, e)``), or with ``epochs=None`` one pass per call, the
    ``n``-th call shuffled by ``(seed, n)``. ``shuffle_buffer=None``: no shuffling.

    (Counting passes is not an epoch number: Keras opens an iterator to build the model and
    one ahead at each epoch's end, and a resumed run starts counting at 0 again.)"""
    entries = reader.shards(split)
    passes = [0]

    def batches(epoch: int) -> Iterator[tuple[np.ndarray, ...]]:
        order = list(entries)
        rng = np.random.default_rng([seed, epoch])
        if shuffle_buffer is not None:
            rng.shuffle(order)
        yield from _batches(reader, order, kinds, batch_size,
                            batch_size if shuffle_buffer is None else shuffle_buffer,
                            None if shuffle_buffer is None else rng, transform)

    def one_pass() -> Iterator[tuple[np.ndarray, ...]]:
        passes[0] += 1
        yield from batches(passes[0] - 1)

    def given_epochs() -> Iterator[tuple[np.ndarray, ...]]:
        for e in epochs or ():
            yield from batches(int(e))

    return one_pass if epochs is None else given_epochs


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
    epochs: Sequence[int] | None = None,
) -> Any:
    """A ``tf.data.Dataset`` of ``(inputs, targets)`` batches from one split.

    Args:
        reader: the dataset's checked reader.
        split: ``"train"`` or ``"validation"``.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: shuffle shard order and examples (a new order each epoch, seeded).
        shuffle_buffer: examples are permuted in blocks of at least this many rows
            (consecutive shards in the shuffled shard order are merged into one block).
        seed: seed of the shard order and of the permutations.
        transform: numpy function applied to each batch (scaling, channel axis);
            its output shapes define the element spec.
        kinds: which files feed the inputs and the targets.
        epochs: the epochs to stream, one after the other, as one dataset of
            ``len(epochs) * steps`` batches (``model.fit(..., steps_per_epoch=steps)``): epoch
            ``e``'s order depends on ``(seed, e)`` alone, so a run resumed at epoch ``e`` sees
            the batches an uninterrupted run sees. ``None``: one pass per iteration of the
            dataset, the order drawn from ``(seed, passes made so far)``.

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
    gen = _generator(reader, split, batch_size, shuffle_buffer if shuffle else None, seed,
                     transform, kinds, epochs)
    # Batches are cut and shuffled in numpy (blocks of >= shuffle_buffer rows from consecutive
    # shards, permuted): no per-example work in tf.data, which on 2 cores competed with training.
    ds = tf.data.Dataset.from_generator(gen, output_signature=spec)
    # known cardinality: Keras sizes its epochs without running out of data once
    n_epochs = 1 if epochs is None else len(epochs)
    ds = ds.apply(tf.data.experimental.assert_cardinality(
        n_epochs * steps(reader, split, batch_size)))
    return ds.prefetch(tf.data.AUTOTUNE)


def steps(reader: DatasetReader, split: str, batch_size: int) -> int:
    """Batches per epoch of :func:`stream` (the last one may be partial)."""
    return -(-reader.rows(split) // batch_size)
