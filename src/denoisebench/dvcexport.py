"""Generate ``dvc.yaml`` from the Snakemake graph, and bring Snakemake in line after DVC.

One DVC stage per Snakemake job of the full graph (``--forceall``) on the default params:
the same shell command, the job's inputs as ``deps``, its outputs as ``outs`` (metrics JSON
as ``metrics``), and the params keys the rule declares (``params.param_keys``) as the stage's
``params``. Top-level ``plots``: every training history (``l1``, ``val_l1`` per epoch) and
whatever a rule declares in ``params.dvc_plots`` (``{path: {x, y, title, ...}}``; evaluate's
SNR sweep, one line per method). Commands never embed param values: the step reads
params.yaml itself, so ``dvc exp run -S key=value`` needs no regenerated dvc.yaml.

This uses Snakemake's internal DAG API (docs/workflow.md "Pinned versions": tested with
9.27.1, which pyproject.toml pins); :func:`export` is small so that a Snakemake upgrade stays cheap.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from .workspace import STAMP, VALIDATE_STAGE, stage_name

HEADER = ("# Generated from the Snakemake graph by `denoisebench export-dvc`: do not edit.\n"
          "# tests/e2e/test_dvc.py fails when this file is stale.\n")


def _jobs(snakefile: Path, workdir: Path) -> list[Any]:
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (
        ConfigSettings,
        DAGSettings,
        OutputSettings,
        Quietness,
        ResourceSettings,
    )

    env = os.environ.pop("DENOISEBENCH_PARAMS", None)
    quiet = logging.getLogger("snakemake.logging")
    level = quiet.level
    quiet.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stderr(io.StringIO()), SnakemakeApi(
            OutputSettings(quiet={Quietness.ALL})
        ) as api:
            wf = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                config_settings=ConfigSettings(),
                snakefile=snakefile.resolve(),
                workdir=workdir.resolve(),
            )
            wf.dag(dag_settings=DAGSettings(forceall=True))
            workflow = wf._workflow
            workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True,
                                  nolock=True)
            workflow._build_dag()
            return sorted(workflow.dag.jobs, key=lambda j: (j.rule.name, str(j.output)))
    finally:
        quiet.setLevel(level)
        if env is not None:
            os.environ["DENOISEBENCH_PARAMS"] = env


def export(snakefile: Path = Path("Snakefile"), workdir: Path = Path(".")) -> str:
    """The text of ``dvc.yaml`` for the workflow in ``workdir`` (default params)."""
    from .codedeps import step_paths

    top_keys = list(yaml.safe_load((workdir / "params.yaml").read_text(encoding="utf-8")))
    # First stage: refuse bad params before any other stage removes its outputs (every stage
    # depends on its constant stamp; `persist` keeps the stamp while the check runs).
    stages: dict[str, Any] = {VALIDATE_STAGE: {
        "cmd": "denoisebench validate --stage",
        "deps": list(step_paths(VALIDATE_STAGE)),
        "params": top_keys,
        "outs": [{STAMP.as_posix(): {"cache": False, "persist": True}}],
    }}
    plots: list[Any] = []
    for job in _jobs(snakefile, workdir):
        if job.rule.name == "all":
            continue
        outs: list[Any] = []
        metrics: list[Any] = []
        for f in job.output:
            path = str(f)
            if path.startswith("metrics/") and path.endswith(".json") and path.count("/") == 1:
                # metrics/<model>.json only: cost.json's wall times (metrics/<model>/, an out)
                # would fill `dvc exp show` with columns that differ in every run
                metrics.append({path: {"cache": False}})
            elif path.endswith("history.csv"):
                outs.append(path)  # cached: models/ is git-ignored
                plots.append({path: {"x": "epoch", "y": ["l1", "val_l1"],
                                     "title": f"{job.wildcards_dict.get('model', path)}: "
                                              "training curves",
                                     "x_label": "epoch", "y_label": "L1 (MAE)"}})
            else:
                outs.append(path)
        stage: dict[str, Any] = {"cmd": job.shellcmd.strip()}
        # the package files the step runs (params.code: "<step> sha256:..."), see codedeps
        code = set(step_paths(str(job.params.code).split()[0])) if "code" in job.params.keys() \
            else set()
        stage["deps"] = sorted({str(f) for f in job.input} | {STAMP.as_posix()} | code)
        keys = list(job.params.get("param_keys", []))
        if keys:
            stage["params"] = keys
        stage["outs"] = outs
        if metrics:
            stage["metrics"] = metrics
        stages[stage_name(job)] = stage
        # a rule's own plot definitions (e.g. evaluate's sweep.csv: one line per method)
        for path, spec in dict(job.params.get("dvc_plots", {}) or {}).items():
            plots.append({path: dict(spec)})
    doc: dict[str, Any] = {"stages": stages}
    if plots:
        doc["plots"] = plots
    return HEADER + yaml.safe_dump(doc, sort_keys=False, width=1000)


def sync_snakemake(workdir: Path = Path("."), dry_run: bool = False) -> int:
    """After ``dvc checkout`` / ``dvc exp apply``: mark Snakemake's outputs as up to date.

    DVC restores files without their modification times, so Snakemake would rerun everything.
    When ``dvc status`` reports nothing changed (the restored files are exactly what dvc.lock
    records), ``snakemake --touch --forceall`` brings Snakemake's view in line. Returns the
    exit code; refuses (code 1) when the workspace differs from dvc.lock.
    """
    status = subprocess.run(["dvc", "status", "--json"], cwd=workdir, capture_output=True,
                            text=True)
    if status.returncode != 0:
        print(f"error: `dvc status` failed: {status.stderr.strip()}", file=sys.stderr)
        return 2
    changed = json.loads(status.stdout or "{}")
    if changed:
        print("error: the workspace differs from dvc.lock; run `dvc checkout` (or `dvc repro`) "
              f"first. Changed stages: {', '.join(sorted(changed))}", file=sys.stderr)
        return 1
    # --no-hooks: the Snakefile's onsuccess handler would record dvc.lock, which is already right
    cmd = ["snakemake", "--touch", "--forceall", "--cores", "1", "--quiet", "--no-hooks", "all"]
    if dry_run:
        print(" ".join(cmd))
        return 0
    return subprocess.run(cmd, cwd=workdir).returncode
