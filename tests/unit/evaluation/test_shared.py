"""The store of results shared by one dataset's evaluations (evaluation/shared.py): a value
is computed once per key, any change of an input or of the salt misses, a damaged entry is
recomputed, and the store can be turned off. (That the metrics files are byte-identical with
and without it: tests/e2e/test_determinism.py.)"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from denoisebench.evaluation import shared
from denoisebench.evaluation.shared import SharedResults, digest


def _counting() -> tuple[list[int], object]:
    calls: list[int] = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"estimate": np.arange(6, dtype=np.float32).reshape(2, 3), "seconds": 0.5}

    return calls, compute


def test_digest_tells_arrays_settings_and_types_apart() -> None:
    a = np.zeros((2, 3), np.float32)
    b = a.copy()
    b[1, 2] = np.float32(1e-30)
    assert digest(a) == digest(a.copy())
    assert digest(a) != digest(b)  # one value
    assert digest(a) != digest(a.reshape(3, 2))  # shape, same bytes
    assert digest(a) != digest(a.astype(np.float64))  # dtype
    assert digest({"x": 1, "y": 2.0}) == digest({"y": 2.0, "x": 1})  # key order
    assert digest({"x": 1}) != digest({"x": 1.0}) != digest({"x": "1"})
    assert digest(("ab", "c")) != digest(("a", "bc"))


def test_a_value_is_computed_once_per_key_and_salt(tmp_path: Path) -> None:
    calls, compute = _counting()
    x = np.ones((4, 8), np.float32)
    first = SharedResults("salt", tmp_path, enabled=True)
    v1 = first.get(("timed", "wiener", {"window": 3}, x), compute)
    again = SharedResults("salt", tmp_path, enabled=True)  # another evaluate job
    v2 = again.get(("timed", "wiener", {"window": 3}, x), compute)
    assert len(calls) == 1 and (first.misses, again.hits) == (1, 1)
    np.testing.assert_array_equal(v1["estimate"], v2["estimate"])
    assert v2["estimate"].dtype == np.float32 and v2["seconds"] == 0.5
    # any input changed: computed again
    again.get(("timed", "wiener", {"window": 5}, x), compute)
    again.get(("timed", "wiener", {"window": 3}, x * 2), compute)
    SharedResults("other salt", tmp_path, enabled=True).get(
        ("timed", "wiener", {"window": 3}, x), compute)
    assert len(calls) == 4
    assert "1 shared result(s) reused, 2 computed" in again.summary()


def test_a_damaged_entry_is_recomputed_and_replaced(tmp_path: Path) -> None:
    calls, compute = _counting()
    store = SharedResults("salt", tmp_path, enabled=True)
    store.get(("k",), compute)
    (entry,) = tmp_path.glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:10])  # a truncated file
    value = store.get(("k",), compute)
    assert len(calls) == 2 and value["seconds"] == 0.5
    store.get(("k",), compute)
    assert len(calls) == 2  # the replaced entry is read


def test_the_store_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(shared.ENV, "0")
    calls, compute = _counting()
    store = SharedResults("salt", tmp_path)
    store.get(("k",), compute)
    store.get(("k",), compute)
    assert len(calls) == 2 and not list(tmp_path.iterdir())
    assert "off" in store.summary()


def test_estimator_shares_by_input_rows_and_settings(tmp_path: Path) -> None:
    seen: list[int] = []

    def fn(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
        seen.append(len(rows))
        return x + rows[:, None]

    store = SharedResults("salt", tmp_path, enabled=True)
    x = np.zeros((3, 4), np.float32)
    est = store.estimator("oracle_ls", {}, fn)
    a = est(x, np.arange(3))
    b = est(x, np.arange(3))
    c = est(x, np.arange(3) + 1)  # other rows: a reference's estimate depends on them
    assert len(seen) == 2
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_values_round_trip_with_their_types() -> None:
    value = ({"wiener": {"window": np.int64(3), "scale": np.float32(0.25), "name": "x",
                         "on": True, "none": None, "f": 1e-300}},
             [np.arange(4, dtype=np.float32), 0.1 + 0.2], float("nan"))
    back = shared.loads(shared.dumps(value))
    assert isinstance(back, tuple) and isinstance(back[1], list)
    w = back[0]["wiener"]
    assert type(w["window"]) is np.int64 and w["window"] == 3
    assert type(w["scale"]) is np.float32 and w["scale"] == np.float32(0.25)
    assert (w["name"], w["on"], w["none"], w["f"]) == ("x", True, None, 1e-300)
    assert back[1][0].dtype == np.float32 and back[1][1] == 0.1 + 0.2
    assert np.isnan(back[2])
    with pytest.raises(TypeError):
        shared.dumps({1: "non-string key"})
