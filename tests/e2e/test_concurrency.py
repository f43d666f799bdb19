"""Reliability: concurrent runs (two Snakemakes, two DVC queue workers) stay
consistent.

Split out of the reliability suite (fault injection, no mocks); the end-to-end ones use the
``multisine`` dataset and the ``gan_l1`` model at tiny size (the ``dataset_repo`` fixture).
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SAFETY_S, copy_repo, run, tiny_params
from conftest import run_any as _run_any
from conftest import spawn as _spawn
from conftest import wait_for as _wait_for
from conftest import write_params as _write_params

from denoisebench.config import read_yaml

# --------------------------------------------------------------------------- concurrency


@pytest.fixture(scope="module")
def two_snakemakes(dataset_repo: Path, tmp_path_factory: pytest.TempPathFactory
                   ) -> dict[str, Any]:
    """Start Snakemake on metrics/gan_l1.json, then a second one on the same folder while the
    first holds its lock; return both results."""
    logs = tmp_path_factory.mktemp("two_snakemakes")
    locks = dataset_repo / ".snakemake" / "locks"
    target = ["metrics/gan_l1.json"]
    first = _spawn(["snakemake", "--cores", "2", *target], dataset_repo, logs / "first.log")
    _wait_for(lambda: locks.is_dir() and any(locks.iterdir()), first, what="Snakemake's lock")
    second = _run_any(["snakemake", "--cores", "1", *target], dataset_repo)
    first_rc = first.wait(timeout=SAFETY_S)
    return {"first_rc": first_rc, "first_log": (logs / "first.log").read_text(),
            "second": second}


@pytest.mark.slow
def test_second_snakemake_is_locked_out(dataset_repo: Path,
                                        two_snakemakes: dict[str, Any]) -> None:
    second = two_snakemakes["second"]
    out = second.stdout + second.stderr
    assert second.returncode != 0
    # refused either by the lock or, when the first run has already marked its job's outputs as
    # in progress, by Snakemake's incomplete-files check, which it makes before locking
    assert ("LockException" in out or "Directory cannot be locked" in out
            or "IncompleteFilesException" in out), out[-3000:]
    assert two_snakemakes["first_rc"] == 0, two_snakemakes["first_log"][-3000:]
    metrics = json.loads((dataset_repo / "metrics/gan_l1.json").read_text())
    assert np.isfinite(metrics["gan_l1"]["snri_db_agg"])
    dry = run(["snakemake", "-n", "metrics/gan_l1.json"], dataset_repo).stdout
    assert "Nothing to be done" in dry, dry[-2000:]


@pytest.mark.slow
def test_report_states_seed_and_versions(dataset_repo: Path, tmp_path: Path,
                                         two_snakemakes: dict[str, Any]) -> None:
    assert two_snakemakes["first_rc"] == 0
    cfg = read_yaml(dataset_repo / "params.yaml")
    cfg["models"] = {"gan_l1": cfg["models"]["gan_l1"]}
    cfg["datasets"] = {"multisine": cfg["datasets"]["multisine"]}
    only = _write_params(tmp_path / "only.yaml", cfg)
    run(["denoisebench", "report", "--params", str(only), "--out", str(tmp_path / "report")],
        dataset_repo)
    html = (tmp_path / "report/index.html").read_text()
    meta = json.loads((dataset_repo / "models/gan_l1/metadata.json").read_text())
    assert f"Seed {cfg['seed']}" in html
    for lib in ("numpy", "tensorflow", "keras"):
        assert f"{lib} {meta['versions'][lib]}" in html, lib
    assert meta["versions"]["keras"] == importlib.metadata.version("keras")


@pytest.mark.slow
def test_dvc_queue_two_workers_keeps_workspace_consistent(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    tiny_params(repo)
    stage = "manifest-multisine"
    for name, snr in (("q-a", 0), ("q-b", 3)):
        run(["dvc", "exp", "run", "--queue", "-n", name, "-S",
             f"datasets.multisine.snr_db={snr}", stage], repo)
    run(["dvc", "queue", "start", "-j", "2"], repo)

    def finished() -> bool:
        status = _run_any(["dvc", "queue", "status"], repo, timeout=120).stdout
        return "Queued" not in status and "Running" not in status

    try:
        _wait_for(finished, poll=2.0, what="the queue to finish")
    finally:
        _run_any(["dvc", "queue", "stop", "--kill"], repo, timeout=120)
    status = run(["dvc", "queue", "status"], repo).stdout
    assert "Failed" not in status, status + run(["dvc", "queue", "logs", "q-a"], repo).stdout
    shown = run(["dvc", "exp", "show", "--json"], repo).stdout
    assert '"q-a"' in shown and '"q-b"' in shown
    diff = json.loads(run(["dvc", "params", "diff", "q-a", "q-b", "--json"], repo).stdout)
    change = diff["params.yaml"]["datasets.multisine.snr_db"]
    assert (change["old"], change["new"]) == (0, 3)
    # each experiment made its own data from its own params (no mixing between the workers)
    data_diff = json.loads(run(["dvc", "diff", "q-a", "q-b", "--json"], repo).stdout)
    modified = {entry["path"] for entry in data_diff.get("modified", [])}
    assert "data/multisine/manifest.json" in modified, data_diff
    porcelain = run(["git", "status", "--porcelain"], repo).stdout
    assert porcelain.strip() == "", porcelain  # the workspace is untouched
    assert not (repo / "data").exists()  # experiments ran in their own temporary folders
    json.loads(run(["dvc", "status", "--json"], repo).stdout)  # readable and consistent
