"""The backend-neutral core of the input pipeline (data/pipeline.py ``ShardBatches``, no
Keras): batch ``i`` is the same whichever way it is reached (in order, restarted, read out of
order, from a resumed run's stream), and a numbered transform gets ``i``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import generate_datasets, tiny_config

from denoisebench.data.pipeline import ShardBatches, steps
from denoisebench.data.shards import DatasetReader


def _reader(tmp_path: Path) -> DatasetReader:
    cfg, _ = tiny_config(tmp_path, {"datasets": {"multisine": {
        "train_size": 40, "validation_size": 10, "train_shards": 2}}})
    generate_datasets(cfg, ["multisine"], tmp_path / "data")
    return DatasetReader(tmp_path / "data/multisine")


def _numbered() -> tuple[list[int], object]:
    seen: list[int] = []

    def transform(mixed: np.ndarray, clean: np.ndarray,
                  batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        seen.append(batch)
        return mixed, clean

    transform.numbered = True  # type: ignore[attr-defined]
    return seen, transform


def test_batch_i_is_the_same_however_it_is_reached(tmp_path: Path) -> None:
    reader = _reader(tmp_path)
    seen, transform = _numbered()

    def make(epochs: list[int]) -> ShardBatches:
        return ShardBatches(reader, "train", 8, 16, 5, transform, ("mixed", "clean"), epochs)

    whole = make([0, 1, 2])
    n = steps(reader, "train", 8)
    assert n == 5 and len(whole) == 3 * n
    in_order = [x for x, _ in whole.iterate()]
    assert seen == list(range(3 * n))
    seen.clear()
    by_index = [whole[i][0] for i in range(len(whole))]  # a cursor continuing one pass
    assert seen == list(range(3 * n))
    seen.clear()
    out_of_order = {i: whole[i][0] for i in (7, 2, 14, 0, 8)}  # each a new pass from i
    assert seen == [7, 2, 14, 0, 8]
    for i, x in enumerate(in_order):
        np.testing.assert_array_equal(by_index[i], x)
        if i in out_of_order:
            np.testing.assert_array_equal(out_of_order[i], x)
    # a run resumed after epoch 1 streams epochs [1, 2]: the uninterrupted run's batches,
    # numbered from 0 (training adds the epochs done through the transform's first_batch)
    seen.clear()
    resumed = [x for x, _ in make([1, 2]).iterate()]
    assert seen == list(range(2 * n))
    for a, b in zip(in_order[n:], resumed, strict=True):
        np.testing.assert_array_equal(a, b)
    # another epoch is another order of the same rows
    e0, e1 = np.concatenate(in_order[:n]), np.concatenate(in_order[n:2 * n])
    assert not np.array_equal(e0, e1)
    np.testing.assert_array_equal(np.sort(e0, axis=0), np.sort(e1, axis=0))


def test_passes_without_epochs_draw_new_orders(tmp_path: Path) -> None:
    """``epochs=None``: each pass from batch 0 is the next epoch number; no shuffle keeps the
    shards' order (validation)."""
    reader = _reader(tmp_path)
    shuffled = ShardBatches(reader, "train", 8, 16, 5, lambda m, c: (m, c), ("mixed", "clean"),
                            None)
    first, second = (np.concatenate([x for x, _ in shuffled.iterate()]) for _ in range(2))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.sort(first, axis=0), np.sort(second, axis=0))
    plain = ShardBatches(reader, "train", 8, None, 5, lambda m, c: (m, c), ("mixed", "clean"),
                         None)
    np.testing.assert_array_equal(np.concatenate([x for x, _ in plain.iterate()]),
                                  reader.read("train", "mixed"))
