"""The Slurm cluster profile on a real (single-node) Slurm: the whole tiny graph.

``scripts/slurm-up.sh`` installs slurm-wlm + munge with apt-get when missing and
starts slurmctld/slurmd under ``tmp_path``; ``scripts/slurm-down.sh`` always
stops exactly those daemons again. In between, the whole graph of a one-dataset,
one-model tiny project (``multisine`` shards + manifest, ``gan_l1`` trained for
two epochs, its evaluation, the report) runs once with
``--profile workflow/profiles/slurm`` and once locally, each in its own copy of
the repository, and the test checks that

(a) every job went through Slurm: one ``sbatch`` job id per Snakemake job, each
    COMPLETED according to ``scontrol`` with a Slurm log file, and the rules of
    the Slurm jobs (the plugin's ``--comment rule_<rule>...``) are exactly the
    rules of Snakemake's job stats, with their counts;
(b) the results equal the local run's: shards bitwise (sha256 in the manifests)
    and ``metrics/*.json`` value for value (training is deterministic,
    ``training.deterministic: true``).

Needs root and apt-get: skipped otherwise (or when DENOISEBENCH_SKIP_SLURM is
set), except under ``CI=true``, where a machine that cannot run it fails the test.
Run it alone with ``pytest -m slurm -s tests/e2e/test_slurm.py``; it prints its wall
times and job count. The slurm-gpu profile's requests are checked by a dry run
in tests/e2e/test_slurm_profiles.py (no Slurm needed).
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

from denoisebench.config import deep_merge, read_yaml

REPO = Path(__file__).resolve().parents[2]
TARGET = "data/multisine/manifest.json"
DATASET, MODEL = "multisine", "gan_l1"
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")
JOB_TOTAL = re.compile(r"^total\s+(\d+)\s*$", re.MULTILINE)
JOB_STATS_ROW = re.compile(r"^(\w+)\s+(\d+)\s*$", re.MULTILINE)
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
pytestmark = [pytest.mark.slurm, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _needs_slurm() -> None:
    """Skip where a real Slurm cannot run; under CI=true (root on a clean clone) fail."""
    if _REASON is None:
        return
    if os.environ.get("CI", "").lower() == "true" and "DENOISEBENCH_SKIP_SLURM" not in _REASON:
        pytest.fail(f"CI=true but the real Slurm test cannot run: {_REASON}")
    pytest.skip(f"real Slurm test: {_REASON}")


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


def _tiny_project(repo: Path) -> None:
    """params.yaml of ``repo``: configs/tiny.yaml merged in, one dataset and one model kept."""
    cfg = deep_merge(read_yaml(repo / "params.yaml"), read_yaml(repo / "configs/tiny.yaml"))
    cfg["datasets"] = {DATASET: cfg["datasets"][DATASET]}
    cfg["models"] = {MODEL: cfg["models"][MODEL]}
    assert cfg.get("training", {}).get("deterministic", True), "the comparison needs it"
    (repo / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))


def _job_stats(out: str) -> dict[str, int]:
    """Snakemake's first ``Job stats`` table: ``{rule: count}`` (without ``total``)."""
    table = out[out.index("Job stats:"):]
    table = table[: JOB_TOTAL.search(table).end()]
    return {rule: int(n) for rule, n in JOB_STATS_ROW.findall(table) if rule != "total"}


def _scontrol(slurm_id: str) -> dict[str, str]:
    """``scontrol -o show job`` as ``{key: value}``."""
    proc = subprocess.run(["scontrol", "-o", "show", "job", slurm_id], capture_output=True,
                          text=True, env=_env(), check=False)
    assert proc.returncode == 0, proc.stderr
    return dict(kv.split("=", 1) for kv in proc.stdout.split() if "=" in kv)


def _metrics(repo: Path) -> dict[str, Any]:
    return {p.name: json.loads(p.read_text()) for p in sorted((repo / "metrics").glob("*.json"))}


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


def test_whole_graph_runs_through_slurm_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The slurm profile submits every job of the graph to Slurm; results match a local run."""
    slurm_repo = _copy_repo(tmp_path / "slurm-run")
    local_repo = _copy_repo(tmp_path / "local-run")
    for repo in (slurm_repo, local_repo):
        _tiny_project(repo)
    base = tmp_path / "slurm"
    snakemake = [sys.executable, "-m", "snakemake"]

    # A config link left by a cluster whose daemons died without slurm-down.sh (a killed
    # earlier run: CI once failed on one) must not stop a new cluster from coming up.
    link = Path("/etc/slurm/slurm.conf")
    planted = not link.exists() and not link.is_symlink()
    if planted:
        dead = tmp_path / "dead-cluster" / "etc" / "slurm.conf"
        dead.parent.mkdir(parents=True)
        dead.write_text("# the config of a cluster that is gone\n")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(dead)
    up_start = time.monotonic()
    try:
        up, _ = _run(["bash", str(REPO / "scripts/slurm-up.sh")], REPO, _env(slurm_base=base),
                     600)
        if planted:
            assert f"replacing the stale link {link} -> {dead}" in up, up
            assert os.readlink(link) == str(base / "etc" / "slurm.conf")
        up_wall = time.monotonic() - up_start
        slurm_cmd = [*snakemake, "--profile", "workflow/profiles/slurm", "--jobs", "4",
                     "--slurm-keep-successful-logs"]
        out, slurm_wall = _run(slurm_cmd, slurm_repo, _env(slurm_repo), 1200)

        # (a) one Slurm job per Snakemake job, each COMPLETED, of the rule Snakemake planned
        submitted = dict(SUBMITTED.findall(out))
        stats = _job_stats(out)
        # Snakemake runs only the target rule `all` (no command) itself ("localrule all:")
        local = re.findall(r"^localrule (\w+):$", out, re.MULTILINE)
        assert local == ["all"], f"jobs run outside Slurm: {local}"
        stats["all"] -= 1
        stats = {rule: n for rule, n in stats.items() if n}
        n_jobs = sum(stats.values())
        assert set(stats) == {"generate_shard", "manifest", "train", "evaluate", "report"}, stats
        assert len(submitted) == n_jobs, (
            f"{n_jobs} jobs but {len(submitted)} Slurm submissions:\n{out[-3000:]}")
        logs = {p.stem for p in (slurm_repo / ".snakemake/slurm_logs").rglob("*.log")}
        rules: dict[str, int] = {}
        names = set()
        for slurm_id in submitted.values():
            assert slurm_id in logs, f"no Slurm log for job {slurm_id} (have {sorted(logs)})"
            job = _scontrol(slurm_id)
            assert job.get("JobState") == "COMPLETED", job
            rule = re.fullmatch(r"rule_(\w+?)(_wildcards_.*)?", job.get("Comment", ""))
            assert rule, f"Slurm job {slurm_id} has no rule comment: {job}"
            rules[rule[1]] = rules.get(rule[1], 0) + 1
            names.add(job["JobName"])
        assert rules == stats, f"Slurm ran {rules}; Snakemake planned {stats}"
        assert len(names) == 1, f"jobs of one run carry one run id as name, got {names}"

        # (b) the same results as a local run
        _, local_wall = _run([*snakemake, "--cores", "2"], local_repo, _env(local_repo), 1200)
        slurm_hashes = _manifest_hashes(slurm_repo)
        assert slurm_hashes, "the manifest lists no files with a sha256"
        assert slurm_hashes == _manifest_hashes(local_repo)
        slurm_metrics = _metrics(slurm_repo)
        assert list(slurm_metrics) == [f"{MODEL}.json"]
        assert slurm_metrics == _metrics(local_repo)
        assert (slurm_repo / "reports/index.html").is_file()

        with capsys.disabled():
            print(f"\n[slurm] cluster up in {up_wall:.1f} s; "
                  f"{len(submitted)} Slurm jobs ({stats}) in {slurm_wall:.1f} s wall "
                  f"vs {local_wall:.1f} s locally\n[slurm] {' '.join(slurm_cmd[1:])}")
    finally:
        down = subprocess.run(["bash", str(REPO / "scripts/slurm-down.sh")],
                              env=_env(slurm_base=base), capture_output=True, text=True,
                              timeout=120, check=False)
        print(down.stdout, down.stderr)
    assert down.returncode == 0, f"slurm-down.sh failed:\n{down.stdout}{down.stderr}"
