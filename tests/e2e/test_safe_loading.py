"""Reliability: model folders are loaded safely (no unsafe deserialisation).

Split out of the reliability suite (fault injection, no mocks); the end-to-end ones use the
``multisine`` dataset and the ``gan_l1`` model at tiny size (the ``dataset_repo`` fixture).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO

from denoisebench import inference

# --------------------------------------------------------------------------- safe loading


def test_safe_loading_refuses_lambda_layers(tmp_path: Path, keras_module: Any) -> None:
    keras = keras_module
    inputs = keras.Input((16, 1))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2.0)(inputs))
    folder = tmp_path / "evil"
    inference.save(model, folder, {"input_shape": [16], "scaling": {"kind": "none"}, "fs": 16})
    with pytest.raises(inference.ModelLoadError) as info:
        inference.Denoiser(folder)
    msg = str(info.value)
    assert str(folder / "model.keras") in msg and "safe_mode=True" in msg and "Lambda" in msg
    # a damaged model file is a ModelLoadError too, not a bare Keras/zip error
    (folder / "model.keras").write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(inference.ModelLoadError, match="cannot load the model"):
        inference.Denoiser(folder)


def test_evaluate_cli_reports_refused_model(dataset_repo: Path, tmp_path: Path,
                                            keras_module: Any,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from denoisebench import cli

    keras = keras_module
    inputs = keras.Input((256, 1))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x)(inputs))
    inference.save(model, tmp_path / "m", {"input_shape": [256], "scaling": {"kind": "none"}})
    monkeypatch.chdir(dataset_repo)
    code = cli.main(["evaluate", "--model", "gan_l1", "--model-dir", str(tmp_path / "m"),
                     "--out", str(tmp_path / "metrics")])
    assert code == 2
    assert "refused by safe loading" in capsys.readouterr().err
    assert not (tmp_path / "metrics").exists()


def test_no_unsafe_deserialisation_in_source() -> None:
    patterns = re.compile(r"allow_pickle\s*=\s*True|safe_mode\s*=\s*False|"
                          r"enable_unsafe_deserialization|pickle\.loads?\(|yaml\.load\(|"
                          r"yaml\.unsafe_load|\beval\(")
    hits = [f"{p.relative_to(REPO)}:{i}: {line.strip()}"
            for p in sorted((REPO / "src").rglob("*.py"))
            for i, line in enumerate(p.read_text().splitlines(), 1) if patterns.search(line)]
    assert not hits, hits
    for p in (REPO / "src").rglob("*.py"):  # every Keras model load is a safe one
        for call in re.finditer(r"(?<!def )load_model\(([^()]|\([^()]*\))*\)", p.read_text()):
            assert "safe_mode=True" in call.group(0), f"{p}: {call.group(0)}"
