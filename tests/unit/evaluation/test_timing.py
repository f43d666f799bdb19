"""Inference timing of the evaluation (docs/judging.md "Cost"): the model's warm-up call is not
timed, a quick method is timed by its fastest of a few calls, ``cost.json`` has every method."""

from __future__ import annotations

import json

import numpy as np
import pytest

from denoisebench.evaluation import cost as evaluation_cost


def test_quick_methods_are_timed_by_their_fastest_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """A quick call is repeated and the fastest kept; a slow one runs once (no extra cost)."""
    clock = iter([0.0, 0.2, 1.0, 1.05, 2.0, 2.3, 3.0, 3.1, 4.0, 4.2])
    monkeypatch.setattr(evaluation_cost.time, "perf_counter", lambda: next(clock))
    calls: list[int] = []
    out, seconds = evaluation_cost.timed(lambda x: calls.append(len(x)) or x * 2,
                                         np.ones(3), warmup=2)
    assert calls == [2, 3, 3, 3, 3, 3] and seconds == pytest.approx(0.05)
    assert (out == 2).all()
    clock = iter([0.0, 0.5])
    calls.clear()
    _, seconds = evaluation_cost.timed(lambda x: calls.append(len(x)) or x, np.ones(3))
    assert calls == [3] and seconds == 0.5


def test_cost_json() -> None:
    doc = json.loads(evaluation_cost.cost_json({"net": (0.5, 1000), "savgol": (0.0123456, 2000),
                                                "none": (1.0, 0)}))
    assert set(doc) == {"threads", "methods"}
    assert doc["methods"]["net"] == {"infer_s_per_1000": 0.5, "examples": 1000}
    assert doc["methods"]["savgol"]["infer_s_per_1000"] == 0.006173
    assert doc["methods"]["none"]["infer_s_per_1000"] is None
