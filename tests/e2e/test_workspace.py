"""One workspace for Snakemake and DVC (denoisebench.workspace): after a Snakemake run the
workspace is a DVC baseline, `dvc exp run -S` reruns only what the change touches, a bad `-S`
value is refused before anything is removed, and the round trip back to Snakemake is a no-op."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import GIT_ENV, REPO, git, run, subprocess_env

pytestmark = pytest.mark.slow

OUTPUT_DIRS = ("data", "models", "metrics", "reports")


def _snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime (ns) of every file under the output folders and dvc.lock, and
    params.yaml's sha256 (``.snakemake_timestamp`` markers are Snakemake's bookkeeping)."""
    files = [p for d in OUTPUT_DIRS for p in (root / d).rglob("*") if p.is_file()]
    files.append(root / "dvc.lock")
    snap = {p.relative_to(root).as_posix(): (hashlib.sha256(p.read_bytes()).hexdigest(),
                                             p.stat().st_mtime_ns)
            for p in files if p.name != ".snakemake_timestamp"}
    # params.yaml: bytes only (DVC itself rewrites the file to apply -S)
    snap["params.yaml"] = (hashlib.sha256((root / "params.yaml").read_bytes()).hexdigest(), 0)
    return snap


def _ran_stages(output: str) -> set[str]:
    return set(re.findall(r"Running stage '([^']+)'", output))


def _any(cmd: list[str], cwd: Path, timeout: int = 1200) -> subprocess.CompletedProcess:
    """conftest's ``run_any`` with the test committer (DVC experiments commit) and a longer
    limit (a refused ``dvc exp run`` takes minutes on a loaded machine)."""
    return subprocess.run(cmd, cwd=cwd, env=subprocess_env(GIT_ENV), capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def baseline(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the tiny Snakemake run (mtimes kept) with its dvc.lock committed to git, as
    the README asks after `make run`."""
    dest = tmp_path_factory.mktemp("baseline") / "repo"
    shutil.copytree(tiny_run, dest, symlinks=True)
    assert (dest / "dvc.lock").exists(), "Snakemake's onsuccess handler did not record dvc.lock"
    run(["git", "add", "dvc.lock", "metrics", "params.yaml"], dest)
    git("commit", "-qm", "baseline", cwd=dest)
    return dest


def test_snakemake_run_leaves_a_dvc_baseline(baseline: Path) -> None:
    lock = yaml.safe_load((baseline / "dvc.lock").read_text())
    stages = yaml.safe_load((baseline / "dvc.yaml").read_text())["stages"]
    assert set(lock["stages"]) == set(stages)  # every stage recorded, validate included
    status = run(["dvc", "status"], baseline).stdout
    assert "up to date" in status, status
    assert "ok" in run(["denoisebench", "baseline", "--check"], baseline).stdout


# Twelve malformed values, each refused by the validate stage before any other stage runs.
BAD_VALUES = [
    ("models.gan.epochs=0", "models.gan.epochs", "minimum of 1"),
    ("models.gan_l1.epochs=-3", "models.gan_l1.epochs", "minimum of 1"),
    ("models.gan_l1.epochs=2.5", "models.gan_l1.epochs", "not of type 'integer'"),
    ("models.gan_l1.batch_size=big", "models.gan_l1.batch_size", "not of type 'integer'"),
    ("models.gan_l1.dataset=nosuch", "models.gan_l1.dataset", "expected one of"),
    ("datasets.multisine.fmax_hz=200", "datasets.multisine.fmax_hz", "below Nyquist"),
    ("datasets.multisine.fmin_hz=80", "datasets.multisine.fmin_hz", "must be below"),
    ("datasets.multisine.format=hdf5", "datasets.multisine.format", "expected one of"),
    ("datasets.multisine.snr_db=nan", "datasets.multisine.snr_db", "finite"),
    ("training.deterministic=maybe", "training.deterministic", "not of type 'boolean'"),
    ("evaluation.bootstrap=10", "evaluation.bootstrap", "minimum of 100"),
    ("+models.gan_l1.colour=red", "models.gan_l1", "unknown key(s) ['colour']"),
]


@pytest.mark.parametrize(("setting", "named", "expected"), BAD_VALUES,
                         ids=[c[0] for c in BAD_VALUES])
def test_bad_value_is_refused_before_anything_is_removed(baseline: Path, setting: str,
                                                         named: str, expected: str) -> None:
    before = _snapshot(baseline)
    git_before = run(["git", "status", "--porcelain"], baseline).stdout
    proc = _any(["dvc", "exp", "run", "-S", setting], baseline)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert named in out and expected in out, out[-3000:]
    assert _ran_stages(out) == {"validate"}, out[-3000:]
    after = _snapshot(baseline)
    assert after == before, sorted(k for k in set(before) | set(after)
                                   if before.get(k) != after.get(k))
    assert run(["git", "status", "--porcelain"], baseline).stdout == git_before


def test_experiment_reruns_only_the_touched_model(baseline: Path,
                                                  tmp_path: Path) -> None:
    """`dvc exp run -S` of one model's key: its training, its evaluation and the report run;
    every other output keeps its bytes and mtime. Then a queued experiment, `dvc exp apply`,
    `denoisebench sync` and a no-op Snakemake close the round trip."""
    repo = tmp_path / "repo"
    shutil.copytree(baseline, repo, symlinks=True)
    before = _snapshot(repo)
    proc = run(["dvc", "exp", "run", "-S", "models.gan_l1.epochs=3", "-n", "l1-3"], repo)
    assert _ran_stages(proc.stdout) == {"validate", "train-gan_l1", "evaluate-gan_l1",
                                        "report"}, proc.stdout[-3000:]
    after = _snapshot(repo)
    touched = {k for k in before if before[k] != after.get(k)}
    allowed = ("models/gan_l1/", "metrics/gan_l1", "reports/", "dvc.lock", "params.yaml")
    assert touched and all(k.startswith(allowed) for k in touched), sorted(touched)
    assert "metrics/gan_l1.json" in touched and "models/gan_l1/model.keras" in touched

    run(["dvc", "exp", "run", "--queue", "-S", "models.gan_l1.epochs=1", "-n", "l1-1"], repo)
    run(["dvc", "queue", "start"], repo)
    _wait_queue(repo)
    logs = run(["dvc", "queue", "logs", "l1-1"], repo).stdout
    assert _ran_stages(logs) <= {"validate", "train-gan_l1", "evaluate-gan_l1", "report"}, logs
    assert "train-gan_l1" in _ran_stages(logs), logs
    shown = run(["dvc", "exp", "show", "--json"], repo).stdout
    assert '"l1-3"' in shown and '"l1-1"' in shown

    run(["dvc", "exp", "apply", "l1-1"], repo)
    run(["denoisebench", "sync"], repo)
    out = run(["snakemake", "--cores", "1", "-n"], repo).stdout
    assert "Nothing to be done" in out, out[-2000:]
    assert yaml.safe_load((repo / "params.yaml").read_text())["models"]["gan_l1"]["epochs"] == 1


def _wait_queue(repo: Path) -> None:
    import time

    for _ in range(600):
        status = _any(["dvc", "queue", "status"], repo).stdout
        if "Queued" not in status and "Running" not in status:
            assert "Failed" not in status, status
            return
        time.sleep(2)
    raise AssertionError("the DVC queue did not finish in 20 minutes")


def test_missing_lock_is_reported(baseline: Path, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    shutil.copytree(baseline, repo, symlinks=True)
    (repo / "dvc.lock").unlink()
    proc = _any(["denoisebench", "baseline", "--check"], repo)
    assert proc.returncode == 1
    assert "dvc.lock is missing but outputs exist" in proc.stderr
    assert "run `snakemake" in proc.stderr


def test_overlay_runs_are_not_recorded(tmp_path: Path) -> None:
    """Outputs made under --config overlays do not belong to params.yaml's values."""
    from denoisebench import workspace

    (tmp_path / ".dvc").mkdir()
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    assert workspace.record_baseline(["train-gan"], tmp_path, overlays=True) == 0
    assert not (tmp_path / "dvc.lock").exists()


def test_params_yaml_is_in_dvc_style() -> None:
    """`dvc exp run -S` rewrites params.yaml through ruamel: in DVC's own style (block lists)
    the change is the one value it sets, comments and layout stay."""
    from dvc.utils.hydra import apply_overrides

    tmp = REPO / ".denoisebench" / "params-style-check.yaml"
    tmp.parent.mkdir(exist_ok=True)
    original = (REPO / "params.yaml").read_text()
    tmp.write_text(original)
    try:
        apply_overrides(str(tmp), ["models.gan_l1.epochs=12"])
        new = tmp.read_text().splitlines()
    finally:
        tmp.unlink()
    old = original.splitlines()
    assert len(new) == len(old)
    diff = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert len(diff) == 1 and "epochs: 12" in diff[0][1], diff
