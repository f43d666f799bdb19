"""A project folder that is a git repository without commits (a fresh ``git init``): training
works there through Snakemake (dvclive 3.49 used to fail with ``SCMError: Empty git repo``).
The unit test of dvclive there is ``tests/unit/test_training_empty_git.py``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, copy_files, git, run

from denoisebench.config import deep_merge, read_yaml


@pytest.mark.slow
def test_snakemake_trains_in_git_repo_without_commits(tmp_path: Path) -> None:
    """``git init`` + the project's files, nothing committed: Snakemake generates multisine and
    trains gan_l1 (tiny, one epoch); the dvclive curves are written, still no commit."""
    copy_files(tmp_path)
    git("init", "-q", cwd=tmp_path)
    cfg = deep_merge(read_yaml(tmp_path / "params.yaml"), read_yaml(REPO / "configs/tiny.yaml"))
    cfg["models"]["gan_l1"]["epochs"] = 1
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    run(["snakemake", "--cores", "2", "models/gan_l1/model.keras"], tmp_path)
    summary = json.loads((tmp_path / "models/gan_l1/dvclive/metrics.json").read_text())
    assert summary["step"] == 0 and "l1" in summary["eval"]
    assert (tmp_path / "models/gan_l1/history.csv").read_text().count("\n") == 2
    assert git("rev-parse", "-q", "--verify", "HEAD", cwd=tmp_path).returncode != 0
