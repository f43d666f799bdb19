"""``denoisebench tune-lowpass`` (formerly ``python -m denoisebench.tuning``): the train-split
grid search behind the ``butter`` lowpass settings in params.yaml."""

from __future__ import annotations

import pytest
from conftest import REPO

from denoisebench.cli import main


def test_tune_lowpass_prints_best_and_runner_ups(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune-lowpass", "--dataset", "sine", "--params", str(REPO / "params.yaml"),
                 "--rows", "60", "--orders", "2", "3", "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sine: 60 train rows, fs 1.0; best by mse: order ")
    assert len(out.strip().splitlines()) == 2 + 3  # summary, header, the top 3


def test_tune_lowpass_unknown_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tune-lowpass", "--dataset", "nosuch",
                 "--params", str(REPO / "params.yaml")]) == 2
    assert "unknown dataset 'nosuch'" in capsys.readouterr().err
