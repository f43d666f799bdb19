"""The report's cost columns and quality-against-cost figure (docs/judging.md "Cost"), and the
perception-distortion note beside an adversarial model."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from denoisebench.report import cost, figures, notes


def test_training_time_is_honest_about_resumed_runs() -> None:
    meta = {"train_seconds_this_run": 120.0, "epochs_this_run": 6}
    assert cost.training_time(meta, 6) == (120.0, False)
    assert cost.training_time(meta, None) == (120.0, False)  # no history: what it timed
    # resumed after 4 of 6 epochs: this run timed 2 epochs, scaled to 6 and flagged
    assert cost.training_time({"train_seconds_this_run": 40.0, "epochs_this_run": 2}, 6) == (
        120.0, True)
    assert cost.training_time({}, 6) is None
    cell = cost.cells({"parameters": "1,234", "train_s": 120.0, "train_estimated": True,
                       "infer_s_per_1000": 0.0123})
    assert "≈ 120" in cell and "0.0123" in cell and "1,234" in cell
    assert cost.cells({"parameters": "–", "train_s": math.nan,
                       "infer_s_per_1000": math.nan}).count("–") == 3


def test_parameters_by_kind() -> None:
    assert cost.parameters_text("model", {"params": 5}, {"trainable_params": 6001}) == "6,001"
    assert cost.parameters_text("model", {"params": 5}, {}) == "5"
    assert cost.parameters_text("baseline", {"window": 31, "polyorder": 2,
                                             "tuned_params": 2}, None) == "2 tuned"
    assert cost.parameters_text("baseline", {"order": 9, "cutoff_hz": 74.0}, None) == "fixed"
    assert cost.parameters_text("parametric", {"fitted_params": 2}, None) == "2 fitted"
    assert cost.parameters_text("oracle", {}, None) == "–"


def test_costs_come_from_each_models_own_file(tmp_path: Path) -> None:
    for model, t in (("a", 1.0), ("b", 2.0)):
        (tmp_path / model).mkdir()
        (tmp_path / model / "cost.json").write_text(json.dumps({"threads": 1, "methods": {
            model: {"infer_s_per_1000": t, "examples": 100},
            "savgol": {"infer_s_per_1000": 10 * t, "examples": 100}}}))
    assert cost.read_costs(tmp_path, ["a", "b"]) == {"a": 1.0, "savgol": 10.0, "b": 2.0}
    assert cost.read_costs(tmp_path, ["c", "b"]) == {"b": 2.0, "savgol": 20.0}


def test_cost_scatter(tmp_path: Path) -> None:
    points = pd.DataFrame({"method": ["net", "savgol", "nls", "noisy"],
                           "kind": ["model", "baseline", "parametric", "reference"],
                           "x": [0.5, 0.02, 80.0, math.nan], "y": [9.0, 4.0, 13.9, 0.0]})
    path = figures.cost_scatter(points, tmp_path / "c.png", "t", "SNRi (dB)", ("limit", 14.5))
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
    df = points.assign(n=[100, 100, 100, 100], infer_s_per_1000=points["x"], snri=points["y"])
    html = cost.figure_html("ds", df, ("snri", "SNRi"), tmp_path)
    assert html and "figures/ds_cost.png" in html[0] and (tmp_path / "ds_cost.png").exists()
    assert cost.figure_html("ds", df.assign(infer_s_per_1000=math.nan), ("snri", "SNRi"),
                            tmp_path) == []


@pytest.mark.parametrize(("kinds", "shown"), [
    ({"gan": "gan", "gan_l1": "gan_l1"}, True),
    ({"adv": "gan"}, True),
    ({"gan_l1": "gan_l1", "bigru": "bigru"}, False),
])
def test_perception_distortion_note(kinds: dict[str, str], shown: bool) -> None:
    text = notes.perception_distortion(kinds)
    assert bool(text) is shown
    if shown:
        assert "Blau" in text and "perception" in text and "not a bug" in text
        assert ("<code>gan_l1</code>" in text) is ("gan_l1" in kinds)

