"""Reliability: training is bitwise deterministic.

Split out of the reliability suite (fault injection, no mocks); the end-to-end ones use the
``multisine`` dataset and the ``gan_l1`` model at tiny size (the ``dataset_repo`` fixture).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SAFETY_S, run
from conftest import spawn as _spawn
from conftest import write_params as _write_params

from denoisebench import models
from denoisebench.config import read_yaml

# --------------------------------------------------------------------------- determinism


@pytest.mark.slow
@pytest.mark.parametrize(("model", "dataset"), [("gan_l1", "multisine"), ("bigru", "sine"),
                                                ("conv2d_ae", "images")])
def test_training_is_bitwise_deterministic(dataset_repo: Path, tmp_path: Path,
                                           keras_module: Any, model: str, dataset: str) -> None:
    """Two concurrent runs give identical weights, with oneDNN on (every model kind trains with
    it): one conv 1-D, one recurrent and one conv 2-D family."""
    assert read_yaml(dataset_repo / "params.yaml")["training"]["deterministic"] is True
    assert models.spec(model).onednn
    if dataset != "multisine":
        run(["snakemake", "--cores", "2", f"data/{dataset}/manifest.json"], dataset_repo)
    one = _write_params(tmp_path / "one.yaml", {"models": {model: {"epochs": 1}}})
    procs = {}
    for name in ("a", "b"):  # concurrently: determinism must not depend on scheduling
        procs[name] = _spawn(["denoisebench", "train", "--model", model, "--params",
                              "params.yaml", "--params", str(one), "--threads", "1",
                              "--out", str(tmp_path / name)], dataset_repo,
                             tmp_path / f"{name}.log")
    for name, proc in procs.items():
        assert proc.wait(timeout=SAFETY_S) == 0, (tmp_path / f"{name}.log").read_text()[-3000:]
    weights = [keras_module.saving.load_model(tmp_path / n / "model.keras", compile=False)
               .get_weights() for n in ("a", "b")]
    assert len(weights[0]) == len(weights[1]) >= 6  # bigru: 6 GRU + 2 dense arrays
    for wa, wb in zip(*weights, strict=True):
        assert wa.dtype == wb.dtype and np.array_equal(wa, wb)
    histories = [(tmp_path / n / "history.csv").read_text() for n in ("a", "b")]
    assert histories[0] == histories[1]
