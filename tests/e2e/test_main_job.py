"""End to end at tiny size: Snakemake builds the report; DVC runs the same graph."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import copy_repo, run, tiny_params

pytestmark = pytest.mark.slow


def test_snakemake_run_produces_report(tiny_run: Path) -> None:
    html = (tiny_run / "reports/index.html").read_text()
    for name in ("gan", "gan_l1", "lowpass", "SNRi aggregate", "Provenance"):
        assert name in html
    for png in ("multisine_snri.png", "multisine_sweep.png", "multisine_training.png",
                "gan_panels.png"):
        data = (tiny_run / "reports/figures" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert f"figures/{png}" in html
    assert "http://" not in html and "https://" not in html
    metrics = json.loads((tiny_run / "metrics/gan.json").read_text())
    # the model first, then each baseline, each reference, and the limit
    assert list(metrics) == ["gan", "lowpass", "lowpass_tuned", "bandpass", "savgol", "wiener",
                             "wavelet", "oracle_wiener", "oracle_ls", "nls", "cramer_rao"]
    assert set(metrics.pop("cramer_rao")) == {"snri_db_agg", "fitted_params", "samples"}
    for s in metrics.values():
        assert s["n"] == 100
        for key in ("snri_db_agg", "snri_db_mean", "snr_out_db", "mse", "mae", "si_sdr_db"):
            lo, hi = s[f"{key}_ci"]
            assert lo <= s[key] <= hi, key
    assert metrics["gan"]["params"] == 282_177 and metrics["lowpass"]["order"] == 9
    ex = pd.read_parquet(tiny_run / "metrics/gan/examples.parquet")
    assert len(ex) == 100 * len(metrics) and set(ex["method"]) == set(metrics)
    sweep = pd.read_csv(tiny_run / "metrics/gan/sweep.csv")
    assert {"snr_in_db", "gan", "gan_ci_low", "nls", "cramer_rao"} <= set(sweep.columns)
    assert sweep["snr_in_db"].min() == -10 and sweep["snr_in_db"].max() == 20
    # per-example values reproduce the aggregate
    sub = ex[ex["method"] == "lowpass"]
    assert np.isclose(sub["snri_db"].mean(), metrics["lowpass"]["snri_db_mean"])
    meta = json.loads((tiny_run / "models/gan/metadata.json").read_text())
    assert meta["fs"] == 256 and meta["window"] == 256 and meta["scaling"] == {"kind": "none"}
    assert not (tiny_run / "models/gan/.work").exists()


def test_snakemake_report_with_captions(tiny_run: Path) -> None:
    """`snakemake --report` embeds the report's figures with their captions
    (workflow/report/*.rst)."""
    run(["snakemake", "--report", "snakemake-report.html"], tiny_run)
    text = (tiny_run / "snakemake-report.html").read_text()
    assert "multisine_sweep.png" in text and "gan_panels.png" in text
    assert "SNR sweep. The validation clean signals" in text  # figures.rst, per figure
    assert "learned denoisers judged against classical filters" in text  # workflow.rst


def test_snakemake_up_to_date_after_run(tiny_run: Path) -> None:
    out = run(["snakemake", "--cores", "1", "-n"], tiny_run).stdout
    assert "Nothing to be done" in out


def test_dvc_experiment(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    tiny_params(repo)
    run(["dvc", "exp", "run", "-S", "models.gan.epochs=1", "-S", "models.gan.warmup_epochs=0",
         "-n", "tiny-exp"], repo, timeout=2400)
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    text = json.dumps(shown)
    assert "tiny-exp" in text and "snri_db_agg" in text
    run(["dvc", "exp", "apply", "tiny-exp"], repo)
    diff = run(["dvc", "params", "diff", "--json"], repo).stdout
    assert "models.gan.epochs" in diff
    mdiff = json.loads(run(["dvc", "metrics", "diff", "--json"], repo).stdout)
    assert "metrics/gan.json" in mdiff
    # bring Snakemake's history in line with DVC's restored files
    run(["denoisebench", "sync"], repo)
    out = run(["snakemake", "--cores", "1", "-n"], repo).stdout
    assert "Nothing to be done" in out, out[-2000:]


def _job_events(log: str) -> list[tuple[str, str, dict[str, str]]]:
    """``(event, jobid, wildcards)`` in log order: ``("start", id, {"rule": ..., "batch": n,
    **wildcards})`` for each job block of a Snakemake log (``batch``: the scheduling round,
    one per "Execute N jobs..." line), ``("finish", id, {})`` for each finished job."""
    events: list[tuple[str, str, dict[str, str]]] = []
    block: dict[str, str] | None = None
    batch = 0
    for line in log.splitlines():
        if m := re.match(r"^(?:local)?rule (\w+):$", line):
            block = {"rule": m.group(1), "batch": str(batch)}
        elif block is not None and (m := re.match(r"^\s+jobid: (\d+)$", line)):
            block["jobid"] = m.group(1)
        elif block is not None and (m := re.match(r"^\s+wildcards: (.*)$", line)):
            block.update(kv.split("=", 1) for kv in m.group(1).split(", "))
        elif block is not None and not line[:1].isspace():  # the block's end
            events.append(("start", block.pop("jobid", ""), block))
            block = None
        if re.match(r"^Execute \d+ jobs", line):
            batch += 1
        if m := re.match(r"^Finished jobid: (\d+)", line):
            events.append(("finish", m.group(1), {}))
    return events


def test_scheduler_order_data_first_longest_training_first_evaluation_at_once(
        tiny_run: Path) -> None:
    """The priorities the default run's 20 minutes rest on (docs/workflow.md "Rules, resources
    and logs"), read from the tiny run's own Snakemake log (2 cores, every model): no training
    starts while a shard is still to be generated; a training starts only when no evaluation
    is ready (its model trained) and no longer-expected training is ready (its manifest
    written)."""
    from denoisebench import models
    from denoisebench.config import read_yaml

    logs = (p.read_text() for p in sorted((tiny_run / ".snakemake/log").glob("*.snakemake.log")))
    log = next(text for text in logs if "(Rule: train)" in text)
    events = _job_events(log)
    cfg = read_yaml(tiny_run / "params.yaml")
    priority = {m: models.train_priority(mp, cfg["datasets"][mp["dataset"]])
                for m, mp in cfg["models"].items()}
    assert len(set(priority.values())) > 3, priority  # the order is there to be checked

    jobs = {j: w for e, j, w in events if e == "start"}
    started: set[str] = set()
    finished: set[str] = set()
    shards = {j for j, w in jobs.items() if w["rule"] == "generate_shard"}
    trains = {w["model"]: j for j, w in jobs.items() if w["rule"] == "train"}
    evals = {w["model"]: j for j, w in jobs.items() if w["rule"].startswith("evaluate")}
    manifests = {w["dataset"]: j for j, w in jobs.items() if w["rule"] == "manifest"}
    assert set(trains) == set(evals) == set(cfg["models"]), (trains, evals)
    batches: dict[str, set[str]] = {}
    for j, w in jobs.items():
        batches.setdefault(w["batch"], set()).add(j)
    checked = 0
    for event, j, w in events:
        if event == "finish":
            finished.add(j)
            continue
        started |= batches[w["batch"]]  # one scheduling round: chosen together, in any order
        if w["rule"] == "train":
            assert shards <= started, f"{w['model']} trained before every shard was started"
            ready_evals = [m for m, t in trains.items()
                           if t in finished and evals[m] not in started]
            assert not ready_evals, f"{w['model']} trained while {ready_evals} waited to be judged"
            ready = [m for m, t in trains.items() if t not in started and m != w["model"]
                     and manifests[cfg["models"][m]["dataset"]] in finished]
            longer = [m for m in ready if priority[m] > priority[w["model"]]]
            assert not longer, f"{w['model']} ({priority[w['model']]}) started before {longer}"
            checked += 1
    assert checked == len(trains)
