"""A project folder that is a git repository without commits (a fresh ``git init``): dvclive
works there (dvclive 3.49 used to fail with ``SCMError: Empty git repo``). The Snakemake run
in such a folder is ``tests/e2e/test_empty_git.py``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import REPO, git

from denoisebench import training


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
