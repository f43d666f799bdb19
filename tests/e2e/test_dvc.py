"""dvc.yaml is generated from the Snakemake graph and must not be stale."""

from __future__ import annotations

from pathlib import Path

import yaml

from denoisebench import dvcexport

REPO = Path(__file__).resolve().parents[2]


def test_dvc_yaml_not_stale() -> None:
    generated = dvcexport.export(REPO / "Snakefile", REPO)
    committed = (REPO / "dvc.yaml").read_text()
    assert committed == generated, "dvc.yaml is stale: run `denoisebench export-dvc` and commit"


def test_dvc_yaml_mirrors_graph() -> None:
    doc = yaml.safe_load((REPO / "dvc.yaml").read_text())
    stages = doc["stages"]
    train = stages["train-gan"]
    assert train["cmd"].startswith("denoisebench train --model gan")
    assert "models.gan" in train["params"] and "datasets.multisine" in train["params"]
    assert "data/multisine/manifest.json" in train["deps"]
    assert "models/gan/model.keras" in train["outs"]
    assert {"metrics/gan.json": {"cache": False}} in stages["evaluate-gan"]["metrics"]
    # commands never embed param values (dvc exp run -S would leave them stale)
    for stage in stages.values():
        assert "epochs" not in stage["cmd"] and "params.yaml" not in stage["cmd"]
    evaluate = stages["evaluate-gan"]
    assert "metrics/gan/sweep.csv" in evaluate["outs"]  # cached: dvc plots diff reads it
    assert "evaluation" in evaluate["params"]
    sweep = next(p["metrics/gan/sweep.csv"] for p in doc["plots"] if "metrics/gan/sweep.csv" in p)
    assert sweep["x"] == "snr_in_db" and sweep["y"][:2] == ["gan", "lowpass"]
    assert {"nls", "cramer_rao"} <= set(sweep["y"])
    assert any("models/gan/history.csv" in p for p in doc["plots"])  # training curves
    gens = [s for s in stages if s.startswith("generate_shard-")]
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    assert len(gens) == sum(d["train_shards"] + d["validation_shards"]
                            for d in params["datasets"].values() if "train_shards" in d)
