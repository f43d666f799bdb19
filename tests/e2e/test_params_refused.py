"""Reliability: Snakemake and ``dvc exp run`` refuse malformed params before any work.

Split out of the reliability suite (fault injection, no mocks); the end-to-end ones use the
``multisine`` dataset and the ``gan_l1`` model at tiny size (the ``dataset_repo`` fixture).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import copy_repo, tiny_params
from conftest import run_any as _run_any
from conftest import write_params as _write_params


def _names_key(text: str, dotted: str) -> bool:
    """Dotted (denoisebench) or bracketed (Snakemake's schema validation) key path."""
    brackets = "".join(f"['{p}']" for p in dotted.split("."))
    return dotted in text or brackets in text


SNAKEMAKE_CASES = [
    ({"models": {"gan_l1": {"epochs": 0}}}, "models.gan_l1.epochs", "minimum of 1"),
    ({"datasets": {"multisine": {"fmax_hz": 128.0}}}, "datasets.multisine.fmax_hz",
     "below Nyquist"),
    ({"datasets": {"multisine": {"fmin_hz": 70.0}}}, "datasets.multisine.fmin_hz",
     "must be below"),
    ({"models": {"gan_l1": {"dataset": "images_x"}}}, "models.gan_l1.dataset",
     "expected one of"),
    ({"datasets": {"multisine": {"format": "csv"}}}, "datasets.multisine.format", "parquet"),
    ({"evaluation": {"colour": "red"}}, "evaluation", "colour"),
]


@pytest.mark.parametrize(("overlay", "named", "allowed"), SNAKEMAKE_CASES,
                         ids=[c[1] for c in SNAKEMAKE_CASES])
def test_snakemake_refuses_malformed_params(dataset_repo: Path, tmp_path: Path,
                                            overlay: dict[str, Any], named: str,
                                            allowed: str) -> None:
    bad = _write_params(tmp_path / "bad.yaml", overlay)
    proc = _run_any(["snakemake", "-n", "metrics/gan_l1.json", "--configfile", str(bad)],
                    dataset_repo)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert _names_key(out, named) and allowed in out, out[-3000:]


def test_snakemake_config_overlay_nan_refused(dataset_repo: Path) -> None:
    proc = _run_any(["snakemake", "-n", "metrics/gan_l1.json", "--config", "seed=.nan"],
                    dataset_repo)
    out = proc.stdout + proc.stderr
    # Snakemake's --config may hand the value over as a float NaN or as the string '.nan'
    assert proc.returncode != 0, out[-3000:]
    assert ("['seed']" in out or "seed: nan" in out or "seed: '.nan'" in out), out[-3000:]


DVC_CASES = [
    ("models.gan_l1.epochs=0", "models.gan_l1.epochs", "minimum of 1"),
    ("datasets.multisine.fmax_hz=200", "datasets.multisine.fmax_hz", "below Nyquist"),
    ("models.gan_l1.dataset=nosuch", "models.gan_l1.dataset", "expected one of"),
]


@pytest.mark.slow
def test_dvc_exp_run_refuses_malformed_params(tmp_path: Path) -> None:
    """DVC alone, no Snakemake run before (no dvc.lock): the validate stage refuses the value,
    no other stage runs, and params.yaml is put back as git's HEAD has it. (With a baseline:
    tests/e2e/test_workspace.py.)"""
    repo = copy_repo(tmp_path)
    tiny_params(repo)
    pristine = (repo / "params.yaml").read_bytes()
    stage = "generate_shard-multisine-validation-00000-parquet"
    for setting, named, allowed in DVC_CASES:
        proc = _run_any(["dvc", "exp", "run", "-S", setting, stage], repo)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0, out[-3000:]
        assert "error: params.yaml: invalid parameters:" in out, out[-3000:]
        assert named in out and allowed in out, out[-3000:]
        assert re.findall(r"Running stage '([^']+)'", out) == ["validate"], out[-3000:]
        assert "put back as git's HEAD has it" in out, out[-3000:]
        assert (repo / "params.yaml").read_bytes() == pristine
        # no stage ran: no file under data/ (DVC's checkout may leave empty folders)
        assert not [p for p in (repo / "data").rglob("*") if p.is_file()]
