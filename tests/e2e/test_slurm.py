"""The Slurm cluster profile on a real (single-node) Slurm.

``scripts/slurm-up.sh`` installs slurm-wlm + munge with apt-get when missing and
starts slurmctld/slurmd under ``tmp_path``; ``scripts/slurm-down.sh`` always
stops exactly those daemons again. In between, the data stage of the pipeline
(shards + manifest of a tiny ``multisine``: cheap, no TensorFlow) runs once with
``--profile workflow/profiles/slurm`` and once locally, each in its own copy of
the repository, and the test checks that

(a) every job went through Slurm (one ``sbatch`` job id per Snakemake job, each
    COMPLETED according to ``scontrol`` and with a Slurm log file), and
(b) the shards are bitwise the local run's (same sha256 in both manifests).

Needs root and apt-get (skipped otherwise, or when DENOISEBENCH_SKIP_SLURM is set).
Run it alone with ``pytest -m slurm -s tests/test_slurm.py``; it prints its wall
times and job count.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TARGET = "data/multisine/manifest.json"
# A tiny multisine, merged over params.yaml by --configfile: 2 train + 1 validation shard.
TINY: dict[str, Any] = {"train_size": 200, "validation_size": 100}
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")
JOB_TOTAL = re.compile(r"^total\s+(\d+)\s*$", re.MULTILINE)
# Never copied into a scratch repository, whatever git says about them.
SKIP_PARTS = {".git", ".venv", ".snakemake", ".denoisebench", "__pycache__"}


def _skip_reason() -> str | None:
    """Why this machine cannot run a real Slurm for the test, or None if it can."""
    if os.environ.get("DENOISEBENCH_SKIP_SLURM"):
        return "DENOISEBENCH_SKIP_SLURM is set"
    if not sys.platform.startswith("linux"):
        return "a local Slurm cluster needs Linux"
    if getattr(os, "geteuid", lambda: -1)() != 0:
        return "starting a real Slurm (slurm-wlm + munge daemons) needs root"
    if shutil.which("apt-get") is None:
        return "needs apt-get to install slurm-wlm and munge (Debian/Ubuntu)"
    if shutil.which("git") is None:
        return "needs git to copy the repository"
    return None


_REASON = _skip_reason()
pytestmark = [
    pytest.mark.slurm,
    pytest.mark.slow,
    pytest.mark.skipif(_REASON is not None, reason=f"real Slurm test: {_REASON}"),
]


def _copy_repo(dest: Path) -> Path:
    """Copy the tracked and untracked-but-not-ignored files of the repository to ``dest``."""
    listing = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=REPO, check=True, capture_output=True,
    ).stdout.decode()
    for rel in filter(None, listing.split("\0")):
        if SKIP_PARTS.intersection(Path(rel).parts):
            continue
        src = REPO / rel
        if not (src.is_file() or src.is_symlink()):  # deleted in the work tree
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, target, follow_symlinks=False)
    return dest


def _env(repo: Path | None = None, slurm_base: Path | None = None) -> dict[str, str]:
    """Environment for Snakemake: the venv's console scripts on PATH, no outer Slurm job.

    With ``repo``, its ``src`` comes first on PYTHONPATH (Slurm jobs inherit it), so the
    copy runs its own code even while the checkout is being edited.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "SNAKEMAKE_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    if repo is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(repo / "src"), env.get("PYTHONPATH", "")) if p)
    env.pop("DENOISEBENCH_PARAMS", None)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if slurm_base is not None:
        env["SLURM_BASE"] = str(slurm_base)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[str, float]:
    """Run ``cmd``; return its combined output and wall time, failing the test on error."""
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, env=env, timeout=timeout, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    wall = time.monotonic() - start
    if proc.returncode != 0:
        pytest.fail(f"{' '.join(cmd)} exited {proc.returncode} after {wall:.1f} s:\n"
                    f"{proc.stdout[-6000:]}")
    return proc.stdout, wall


def _override(repo: Path) -> dict[str, Any]:
    """The tiny-dataset params overlay, in whichever sharding keys params.yaml uses."""
    multisine = yaml.safe_load((repo / "params.yaml").read_text())["datasets"]["multisine"]
    tiny = dict(TINY)
    if "shard_rows" in multisine:
        tiny["shard_rows"] = 100
    else:
        tiny.update(train_shards=2, validation_shards=1)
    return {"datasets": {"multisine": tiny}}


def _file_hashes(node: Any) -> Iterator[tuple[str, str]]:
    """Every ``(path, sha256)`` pair anywhere in a manifest."""
    if isinstance(node, dict):
        if isinstance(node.get("path"), str) and isinstance(node.get("sha256"), str):
            yield node["path"], node["sha256"]
        for value in node.values():
            yield from _file_hashes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _file_hashes(value)


def _manifest_hashes(repo: Path) -> dict[str, str]:
    return dict(_file_hashes(json.loads((repo / TARGET).read_text())))


def test_data_stage_runs_through_slurm_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The slurm profile submits every data job to Slurm; the shards match a local run."""
    override = tmp_path / "tiny.yaml"
    slurm_repo = _copy_repo(tmp_path / "slurm-run")
    override.write_text(yaml.safe_dump(_override(slurm_repo)))
    local_repo = _copy_repo(tmp_path / "local-run")
    base = tmp_path / "slurm"
    snakemake = [sys.executable, "-m", "snakemake"]

    up_start = time.monotonic()
    try:
        _run(["bash", str(REPO / "scripts/slurm-up.sh")], REPO, _env(slurm_base=base), 600)
        up_wall = time.monotonic() - up_start
        # The target goes first: --configfile takes any number of values.
        slurm_cmd = [*snakemake, TARGET, "--profile", "workflow/profiles/slurm", "--jobs", "4",
                     "--slurm-keep-successful-logs", "--configfile", str(override)]
        out, slurm_wall = _run(slurm_cmd, slurm_repo, _env(slurm_repo), 600)

        # (a) one Slurm job per Snakemake job, each known to Slurm as COMPLETED.
        submitted = dict(SUBMITTED.findall(out))
        totals = JOB_TOTAL.findall(out)
        assert totals, f"no job stats in the Snakemake output:\n{out[-3000:]}"
        n_jobs = int(totals[0])
        assert n_jobs >= 2, f"expected shard jobs + the manifest, got {n_jobs}"
        assert len(submitted) == n_jobs, (
            f"{n_jobs} jobs but {len(submitted)} Slurm submissions:\n{out[-3000:]}")
        logs = {p.stem for p in (slurm_repo / ".snakemake/slurm_logs").rglob("*.log")}
        for slurm_id in submitted.values():
            assert slurm_id in logs, f"no Slurm log for job {slurm_id} (have {sorted(logs)})"
            state = subprocess.run(["scontrol", "-o", "show", "job", slurm_id],
                                   capture_output=True, text=True, env=_env(), check=False)
            assert "JobState=COMPLETED" in state.stdout, state.stdout + state.stderr

        # (b) the same bytes as a local run.
        local_cmd = [*snakemake, TARGET, "--cores", "2", "--configfile", str(override)]
        _, local_wall = _run(local_cmd, local_repo, _env(local_repo), 600)
        slurm_hashes = _manifest_hashes(slurm_repo)
        assert slurm_hashes, "the manifest lists no files with a sha256"
        assert slurm_hashes == _manifest_hashes(local_repo)

        with capsys.disabled():
            print(f"\n[slurm] cluster up in {up_wall:.1f} s; "
                  f"{len(submitted)} Slurm jobs ({n_jobs} Snakemake jobs, "
                  f"{len(slurm_hashes)} shard files) in {slurm_wall:.1f} s wall "
                  f"vs {local_wall:.1f} s locally\n[slurm] {' '.join(slurm_cmd[1:])}")
    finally:
        down = subprocess.run(["bash", str(REPO / "scripts/slurm-down.sh")],
                              env=_env(slurm_base=base), capture_output=True, text=True,
                              timeout=120, check=False)
        print(down.stdout, down.stderr)
    assert down.returncode == 0, f"slurm-down.sh failed:\n{down.stdout}{down.stderr}"
