"""Repository hygiene: environment.yml mirrors pyproject.toml; the CLI is wired."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_environment_yml_in_sync_with_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["dev"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {p for p in pip if not p.startswith("-e")}
    assert listed == wanted, (f"only in pyproject: {sorted(wanted - listed)}; "
                              f"only in environment.yml: {sorted(listed - wanted)}")


def test_ignore_files() -> None:
    gitignore = (REPO / ".gitignore").read_text()
    dvcignore = (REPO / ".dvcignore").read_text()
    assert ".snakemake/" in gitignore and ".snakemake_timestamp" in gitignore
    assert ".snakemake/" in dvcignore and ".snakemake_timestamp" in dvcignore
    assert (REPO / ".dvc" / "config").exists()


def test_cli_help() -> None:
    from denoisebench.cli import build_parser

    text = build_parser().format_help()
    for cmd in ("generate", "manifest", "train", "evaluate", "report", "export-dvc", "sync"):
        assert cmd in text
