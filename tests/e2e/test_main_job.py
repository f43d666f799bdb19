"""End to end at tiny size: Snakemake builds the report; DVC runs the same graph."""

from __future__ import annotations

import json
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
