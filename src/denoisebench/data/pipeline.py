"""The training input pipeline: (mixed, clean) batches streamed from checked shards, the same
batches on every Keras backend.

:class:`ShardBatches` reads the shards one at a time (checked against the manifest by
:class:`~denoisebench.data.shards.DatasetReader`), permutes rows in numpy in blocks of at least
``shuffle_buffer`` rows and cuts them into batches, so memory stays bounded by the shuffle block
plus one shard, whatever the dataset's size. :func:`stream` hands them to Keras: as a
``keras.utils.PyDataset`` on JAX and PyTorch, and through ``tf.data`` (``from_generator`` +
``prefetch``, which reads ahead while TensorFlow trains) on TensorFlow. No path does
per-example work in the framework (docs/workflow.md: yielding single rows from Python runs at
~6,000 samples/s) and none loads the whole dataset (BENCHMARKS.md P1, P2 per backend).

Batch ``i`` of a stream is a function of ``(seed, epoch, i)`` alone, however often Keras
restarts or reads ahead: a transform with ``numbered = True`` (the fresh-noise transform of
:mod:`denoisebench.models.modern`) is called with ``batch=i``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator, Iterator, Sequence
from typing import Any

import numpy as np

from .shards import DatasetReader

Transform = Callable[..., tuple[np.ndarray, np.ndarray]]


def _add_channel(mixed: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return mixed[..., None], clean[..., None]


def _batches(reader: DatasetReader, order: Sequence[Any], kinds: Sequence[str],
             batch_size: int, block_rows: int,
             rng: np.random.Generator | None) -> Iterator[tuple[np.ndarray, ...]]:
    """One epoch's raw batches: shards in ``order`` gathered into blocks of at least
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
        rest = yield from _emit(_joined(block, rows, rng), batch_size, final=False)
        block, rows = [[r] for r in rest], len(rest[0])
    if rows:
        yield from _emit(_joined(block, rows, rng), batch_size, final=True)


def _joined(block: list[list[np.ndarray]], rows: int,
            rng: np.random.Generator | None) -> list[np.ndarray]:
    """Each kind's pieces of a block concatenated (and permuted the same way by ``rng``)."""
    arrays = [np.concatenate(b) for b in block]
    if rng is not None:
        perm = rng.permutation(rows)
        arrays = [a[perm] for a in arrays]
    return arrays


def _emit(arrays: list[np.ndarray], batch_size: int,
          final: bool) -> Generator[tuple[np.ndarray, ...], None, list[np.ndarray]]:
    """Yield the whole batches of ``arrays`` (and, when ``final``, the last partial one);
    return the rows left over."""
    n = len(arrays[0])
    stop = n if final else n - n % batch_size
    for start in range(0, stop, batch_size):
        yield tuple(a[start:start + batch_size] for a in arrays)
    return [a[stop:] for a in arrays]


class ShardBatches:
    """The batches of one split, in order: ``len()`` batches, ``self[i]`` and
    :meth:`iterate` give ``(inputs, targets)`` float32 arrays (see :func:`stream`).

    Reading is sequential: ``self[i]`` continues the current pass when ``i`` is the next
    batch and otherwise starts one at ``i`` (reading the epoch's shards up to it). Each
    :meth:`iterate` call is an independent pass (tf.data may run two at once)."""

    def __init__(self, reader: DatasetReader, split: str, batch_size: int,
                 shuffle_buffer: int | None, seed: int, transform: Transform,
                 kinds: Sequence[str], epochs: Sequence[int] | None) -> None:
        self.reader, self.split, self.batch_size = reader, split, int(batch_size)
        self.shuffle_buffer, self.seed, self.kinds = shuffle_buffer, int(seed), tuple(kinds)
        self.transform = transform
        self.epochs = None if epochs is None else [int(e) for e in epochs]
        self.steps = steps(reader, split, batch_size)
        self._passes = 0
        self._cursor: tuple[int, Iterator[tuple[int, tuple[np.ndarray, ...]]]] | None = None

    def __len__(self) -> int:
        return self.steps * (1 if self.epochs is None else len(self.epochs))

    def __getitem__(self, i: int) -> tuple[np.ndarray, ...]:
        if not 0 <= i < len(self):
            raise IndexError(f"batch {i} of a stream of {len(self)}")
        if self._cursor is None or self._cursor[0] != i:
            self._cursor = (i, self._raw(i))
        j, raw = next(self._cursor[1])
        self._cursor = (i + 1, self._cursor[1])
        return self._apply(j, raw)

    def iterate(self, start: int = 0) -> Iterator[tuple[np.ndarray, ...]]:
        """A new pass from batch ``start`` to the end."""
        for j, raw in self._raw(start):
            yield self._apply(j, raw)

    def probe(self) -> tuple[np.ndarray, ...]:
        """The transform's output for two rows of zeros (the stream's shapes)."""
        rows = min(2, self.reader.shards(self.split)[0].rows)
        zeros = [np.zeros((rows, *self.reader.shape), np.float32) for _ in self.kinds]
        return self._apply(0, tuple(zeros))

    def _apply(self, i: int, raw: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
        out = (self.transform(*raw, batch=i) if getattr(self.transform, "numbered", False)
               else self.transform(*raw))
        return tuple(np.asarray(p, np.float32) for p in out)

    def _epoch(self, epoch: int) -> Iterator[tuple[np.ndarray, ...]]:
        order = list(self.reader.shards(self.split))
        rng = np.random.default_rng([self.seed, epoch])
        if self.shuffle_buffer is not None:
            rng.shuffle(order)
        return _batches(self.reader, order, self.kinds, self.batch_size,
                        self.batch_size if self.shuffle_buffer is None else self.shuffle_buffer,
                        None if self.shuffle_buffer is None else rng)

    def _raw(self, start: int) -> Iterator[tuple[int, tuple[np.ndarray, ...]]]:
        """``(index, raw batch)`` from ``start`` on: epoch ``epochs[k]`` is batches
        ``k steps`` to ``(k + 1) steps - 1``; with ``epochs=None`` each pass from 0 is a new
        epoch number (0, 1, ...)."""
        if self.epochs is None:
            if start == 0:
                self._passes += 1
            epochs = [max(self._passes - 1, 0)]
        else:
            epochs = self.epochs[start // self.steps:]
        i = start - start % self.steps
        for epoch in epochs:
            for raw in self._epoch(epoch):
                if i >= start:
                    yield i, raw
                i += 1


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
    """A dataset of ``(inputs, targets)`` batches from one split for ``Model.fit`` on the
    current Keras backend: a ``tf.data.Dataset`` on TensorFlow, a ``keras.utils.PyDataset``
    on JAX and PyTorch (:class:`ShardBatches` behind both).

    Args:
        reader: the dataset's checked reader.
        split: ``"train"`` or ``"validation"``.
        batch_size: examples per batch (the last batch may be smaller).
        shuffle: shuffle shard order and examples (a new order each epoch, seeded).
        shuffle_buffer: examples are permuted in blocks of at least this many rows
            (consecutive shards in the shuffled shard order are merged into one block).
        seed: seed of the shard order and of the permutations.
        transform: numpy function applied to each batch, ``(rows, *shape)`` float32 ``(mixed,
            clean)`` -> ``(inputs, targets)`` (scaling, channel axis); its output shapes define
            the element spec. With an attribute ``numbered = True`` it is called with
            ``batch=i``, the batch's index in the stream.
        kinds: which files feed the inputs and the targets.
        epochs: the epochs to stream, one after the other, as one dataset of
            ``len(epochs) * steps`` batches (``model.fit(..., steps_per_epoch=steps)``): epoch
            ``e``'s order depends on ``(seed, e)`` alone, so a run resumed at epoch ``e`` sees
            the batches an uninterrupted run sees. ``None``: one pass per iteration of the
            dataset, the order drawn from ``(seed, passes made so far)``.

    Raises:
        ValueError: the split has no rows.
        DataIntegrityError: a shard fails its manifest checks when first read.
    """
    import keras

    entries = reader.shards(split)
    if not entries or entries[0].rows == 0:
        raise ValueError(f"{reader.manifest_path}: split {split!r} has no rows")
    batches = ShardBatches(reader, split, batch_size, shuffle_buffer if shuffle else None, seed,
                           transform, kinds, epochs)
    if keras.backend.backend() == "tensorflow":
        return _tf_dataset(batches)
    return _py_dataset_class()(batches)


def _tf_dataset(batches: ShardBatches) -> Any:
    """``batches`` as a prefetched ``tf.data.Dataset`` of known cardinality (Keras sizes its
    epochs without running out of data); each iterator is a new pass."""
    import tensorflow as tf

    spec = tuple(tf.TensorSpec((None, *a.shape[1:]), tf.float32) for a in batches.probe())
    ds = tf.data.Dataset.from_generator(batches.iterate, output_signature=spec)
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(batches)))
    return ds.prefetch(tf.data.AUTOTUNE)


@functools.cache
def _py_dataset_class() -> type:
    """The ``keras.utils.PyDataset`` over :class:`ShardBatches` (defined on first use: Keras
    is imported after the backend is chosen)."""
    import keras

    class ShardStream(keras.utils.PyDataset):  # type: ignore[misc]
        """``ShardBatches`` for Keras: one worker, batches asked for in order."""

        def __init__(self, batches: ShardBatches) -> None:
            super().__init__(workers=1, use_multiprocessing=False)
            self.batches = batches

        def __len__(self) -> int:
            return len(self.batches)

        def __getitem__(self, i: int) -> tuple[np.ndarray, ...]:
            return self.batches[i]

    return ShardStream


def steps(reader: DatasetReader, split: str, batch_size: int) -> int:
    """Batches per epoch of :func:`stream` (the last one may be partial)."""
    return -(-reader.rows(split) // batch_size)
