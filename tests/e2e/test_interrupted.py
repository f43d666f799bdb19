"""Reliability: interrupted work (killed training and generation) resumes or is
redone cleanly.

Split out of the reliability suite (fault injection, no mocks); the end-to-end ones use the
``multisine`` dataset and the ``gan_l1`` model at tiny size (the ``dataset_repo`` fixture).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
from pathlib import Path

import numpy as np
import pytest
from conftest import copy_repo, run, tiny_params
from conftest import kill_group as _kill
from conftest import run_any as _run_any
from conftest import spawn as _spawn
from conftest import wait_for as _wait_for
from conftest import write_params as _write_params

from denoisebench import training
from denoisebench.config import read_yaml
from denoisebench.data import generate, shards

# --------------------------------------------------------------------------- interrupted work


def _history_epochs(path: Path) -> list[int]:
    with open(path, newline="") as fh:
        return [int(row["epoch"]) for row in csv.DictReader(fh)]


@pytest.mark.slow
def test_training_resumes_after_sigkill(dataset_repo: Path, tmp_path: Path) -> None:
    repo = copy_repo(tmp_path)
    tiny_params(repo)
    shutil.copytree(dataset_repo / "data", repo / "data")
    epochs = 3
    params = read_yaml(repo / "params.yaml")
    params["models"]["gan_l1"]["epochs"] = epochs
    _write_params(repo / "params.yaml", params)
    backup_meta = repo / "models/gan_l1/.work/backup/training_metadata.json"

    def backed_up() -> bool:  # a complete backup of at least one finished epoch
        try:
            return json.loads(backup_meta.read_text())["epoch"] >= 1
        except (OSError, ValueError, KeyError):
            return False

    cmd = ["denoisebench", "train", "--model", "gan_l1", "--threads", "2"]
    proc = _spawn(cmd, repo, tmp_path / "killed.log")
    _wait_for(backed_up, proc, what="a backed-up epoch")
    _kill(proc)  # SIGKILL: no handler runs, no clean-up
    killed_log = (tmp_path / "killed.log").read_text()
    assert proc.returncode == -signal.SIGKILL
    assert not (repo / "models/gan_l1/model.keras").exists()
    work = repo / "models/gan_l1/.work"  # what a rerun resumes from (as the rerun judges it)
    done = training.resumable_epochs(work, (work / training.FINGERPRINT).read_text())
    assert done is not None and 1 <= done < epochs, killed_log

    second = run(cmd, repo)
    log = second.stdout + second.stderr
    assert f"(resuming after epoch {done})" in log, log
    run_epochs = [int(m) for m in re.findall(r"gan_l1 epoch (\d+)/3", log)]
    assert run_epochs == list(range(done + 1, epochs + 1)), log  # nothing lost, nothing redone
    meta = json.loads((repo / "models/gan_l1/metadata.json").read_text())
    assert meta["epochs_this_run"] == epochs - done
    assert _history_epochs(repo / "models/gan_l1/history.csv") == list(range(epochs))
    assert not (repo / "models/gan_l1/.work").exists()
    for part in ("train", "eval"):  # dvclive's curves agree with the history: one step each
        tsv = (repo / f"models/gan_l1/dvclive/plots/metrics/{part}/l1.tsv").read_text()
        assert [int(ln.split("\t")[0]) for ln in tsv.splitlines()[1:]] == list(range(epochs))

    run(["denoisebench", "evaluate", "--model", "gan_l1", "--threads", "2"], repo)
    metrics = json.loads((repo / "metrics/gan_l1.json").read_text())
    assert list(metrics)[0] == "gan_l1" and np.isfinite(metrics["gan_l1"]["snri_db_agg"])


def test_damaged_or_foreign_backup_is_not_resumed(tmp_path: Path) -> None:
    """A backup killed while being written, or made with other params, is never resumed."""
    import h5py

    work = tmp_path / ".work"
    backup = work / "backup"
    backup.mkdir(parents=True)

    def save(suffix: str, epoch: int) -> None:
        with h5py.File(backup / f"latest.weights.h5{suffix}", "w") as fh:
            fh.create_dataset("w", data=np.arange(50_000, dtype=np.float32))
        (backup / f"training_metadata.json{suffix}").write_text(json.dumps({"epoch": epoch}))

    save("", 2)
    (work / training.FINGERPRINT).write_text("fp-a")
    assert training.resumable_epochs(work, "fp-a") == 2
    assert training.resumable_epochs(work, "fp-b") is None  # params or data changed
    weights = backup / "latest.weights.h5"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])  # killed mid-save
    assert training.resumable_epochs(work, "fp-a") is None
    save(".bkp", 1)  # Keras' double checkpoint: the previous backup is still whole
    assert training.resumable_epochs(work, "fp-a") == 1
    assert training._backup_epoch(weights, backup / "training_metadata.json") == 1  # restored
    (backup / "training_metadata.json").write_text("")  # killed while writing the metadata
    (backup / "training_metadata.json.bkp").write_text('{"ep')
    assert training.resumable_epochs(work, "fp-a") is None


def test_history_keeps_each_epoch_once(tmp_path: Path) -> None:
    src = tmp_path / "h.csv"
    src.write_text("epoch,l1\n0,0.9\n1,0.5\n1,0.45\n2,0.4\n")  # epoch 1 logged, killed, redone
    training.write_history(src, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text() == "epoch,l1\n0,0.9\n1,0.45\n2,0.4\n"


@pytest.mark.slow
def test_generation_killed_mid_write(dataset_repo: Path, tmp_path: Path) -> None:
    big = _write_params(tmp_path / "big.yaml", {"datasets": {"multisine": {
        "train_size": 20_000, "validation_size": 100, "train_shards": 1, "validation_shards": 1}}})
    params = ["--params", "params.yaml", "--params", str(big)]
    data = tmp_path / "data"
    root = data / "multisine"
    gen = ["denoisebench", "generate", *params, "--dataset", "multisine", "--data-dir", str(data)]
    run([*gen, "--split", "validation", "--shard", "00000"], dataset_repo)

    def temporaries() -> list[Path]:
        return list((root / "train").glob("*/.*.tmp")) if (root / "train").exists() else []

    proc = _spawn([*gen, "--split", "train", "--shard", "00000"], dataset_repo,
                  tmp_path / "gen.log")
    _wait_for(lambda: bool(temporaries()), proc, poll=0.002, what="a shard being written")
    _kill(proc)
    left = temporaries()
    assert left, "the kill should leave the temporary file of the shard being written"

    # reference: the same shard, uninterrupted (same params -> same bytes)
    cfg = read_yaml(dataset_repo / "params.yaml")
    ds = {**cfg["datasets"]["multisine"], **read_yaml(big)["datasets"]["multisine"]}
    ref = tmp_path / "ref"
    generate.generate_shard("multisine", ds, cfg["seed"], "train", 0, ref)

    # every shard file present is complete (the rename is atomic); the partial one is a .tmp
    present = sorted(root.glob("train/*/part-*.parquet"))
    assert len(present) < 3
    for path in present:
        rel = path.relative_to(root)
        assert path.read_bytes() == (ref / rel).read_bytes(), rel
    # no reader takes a temporary file for a shard: the manifest step refuses the missing one
    failed = _run_any(["denoisebench", "manifest", *params, "--dataset", "multisine",
                       "--data-dir", str(data)], dataset_repo)
    assert failed.returncode == 2, failed.stderr
    assert "missing shard" in failed.stderr and "part-00000.parquet" in failed.stderr
    assert ".tmp" not in failed.stderr
    assert not (root / "manifest.json").exists()

    # rerun: completes the dataset, byte-identical to the uninterrupted run
    run([*gen, "--split", "train", "--shard", "00000"], dataset_repo)
    run(["denoisebench", "manifest", *params, "--dataset", "multisine", "--data-dir", str(data)],
        dataset_repo)
    for kind in shards.KINDS:
        rel = Path("train", kind, "part-00000.parquet")
        assert (root / rel).read_bytes() == (ref / rel).read_bytes(), rel
    reader = shards.DatasetReader(root)
    assert reader.verify_split("train", shards.KINDS) == 20_000
    manifest_files = {f["path"] for e in reader.shards("train") for f in e.files.values()}
    assert not any(".tmp" in p for p in manifest_files)
    umask = os.umask(0)
    os.umask(umask)
    assert (root / rel).stat().st_mode & 0o777 == 0o666 & ~umask  # readable like any file
