"""A project folder that is a git repository without commits (a fresh ``git init``): training
works there (dvclive 3.49 used to fail with ``SCMError: Empty git repo``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import REPO, run

from denoisebench import training
from denoisebench.config import deep_merge, read_yaml

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=False,
                          capture_output=True, text=True)


def test_open_dvclive_in_git_repo_without_commits(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert not training.git_without_commits()  # not a git repository at all
    git("init", "-q", cwd=tmp_path)
    shutil.copytree(REPO / ".dvc", tmp_path / ".dvc", ignore=shutil.ignore_patterns("tmp",
                                                                                    "cache"))
    assert training.git_without_commits()
    live = training.open_dvclive(tmp_path / "dvclive")
    training.write_dvclive([{"epoch": "0", "l1": "0.5", "val_l1": "0.4"},
                            {"epoch": "1", "l1": "0.3", "val_l1": "0.2"}], live)
    summary = json.loads((tmp_path / "dvclive/metrics.json").read_text())
    assert summary["step"] == 1 and summary["train"]["l1"] == 0.3
    assert (tmp_path / "dvclive/plots/metrics/eval/l1.tsv").read_text().count("\n") == 3
    assert git("rev-parse", "-q", "--verify", "HEAD", cwd=tmp_path).returncode != 0
    (tmp_path / "f").write_text("x")
    git("add", "f", cwd=tmp_path)
    git("commit", "-qm", "first", cwd=tmp_path)
    assert not training.git_without_commits()


@pytest.mark.slow
def test_snakemake_trains_in_git_repo_without_commits(tmp_path: Path) -> None:
    """``git init`` + the project's files, nothing committed: Snakemake generates multisine and
    trains gan_l1 (tiny, one epoch); the dvclive curves are written, still no commit."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        if (REPO / rel).is_file():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, tmp_path / rel)
    git("init", "-q", cwd=tmp_path)
    cfg = deep_merge(read_yaml(tmp_path / "params.yaml"), read_yaml(REPO / "configs/tiny.yaml"))
    cfg["models"]["gan_l1"]["epochs"] = 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    run(["snakemake", "--cores", "2", "models/gan_l1/model.keras"], tmp_path)
    summary = json.loads((tmp_path / "models/gan_l1/dvclive/metrics.json").read_text())
    assert summary["step"] == 0 and "l1" in summary["eval"]
    assert (tmp_path / "models/gan_l1/history.csv").read_text().count("\n") == 2
    assert git("rev-parse", "-q", "--verify", "HEAD", cwd=tmp_path).returncode != 0
