"""Shared fixtures: quiet TensorFlow, a temporary copy of the repository for end-to-end runs."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def copy_repo(dest: Path) -> Path:
    """Copy the repository's tracked and untracked-not-ignored files to ``dest`` and make it a
    git repository with one commit (DVC and dvclive need one)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, env=env)
    return dest


def params_with(path: str, value: Any) -> dict[str, Any]:
    """The repository's params.yaml with the value at dotted ``path`` replaced by ``value``."""
    from denoisebench.config import read_yaml

    cfg = read_yaml(REPO / "params.yaml")
    *parents, last = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    node[last] = value
    return cfg


def tiny_params(dest: Path) -> None:
    """Merge ``configs/tiny.yaml`` into ``dest/params.yaml`` (same keys, tiny sizes)."""
    from denoisebench.config import deep_merge, read_yaml

    merged = deep_merge(read_yaml(dest / "params.yaml"), read_yaml(dest / "configs/tiny.yaml"))
    (dest / "params.yaml").write_text(yaml.safe_dump(merged, sort_keys=False))
    subprocess.run(["git", "commit", "-qam", "tiny params"], cwd=dest, check=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"})


def run(cmd: list[str], cwd: Path, timeout: int = 2400) -> subprocess.CompletedProcess:
    """Run a command with the virtual environment's bin first on PATH; fail with its output."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DENOISEBENCH_PARAMS", None)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy on tiny params after a full `snakemake --cores 2` run (shared by tests)."""
    dest = copy_repo(tmp_path_factory.mktemp("repo"))
    tiny_params(dest)
    run(["snakemake", "--cores", "2"], dest)
    return dest


def tiny_config(dest: Path, overlay: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """params.yaml merged with configs/tiny.yaml and ``overlay``, validated and written to
    ``dest/params.yaml``; returns ``(config, path)`` (for ``train``/``evaluate`` in-process or
    ``denoisebench ... --params path``)."""
    from denoisebench.config import deep_merge, read_yaml, validate

    cfg = validate(deep_merge(deep_merge(read_yaml(REPO / "params.yaml"),
                                         read_yaml(REPO / "configs/tiny.yaml")), overlay))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return cfg, dest / "params.yaml"


def generate_datasets(cfg: dict[str, Any], names: list[str], data_dir: Path) -> Path:
    """Generate datasets ``names`` of ``cfg`` into ``data_dir/<name>`` in this process (what the
    Snakemake rules do, without a process per shard); returns ``data_dir``."""
    from denoisebench.data import generate

    for name in names:
        ds, root = cfg["datasets"][name], data_dir / name
        if (root / "manifest.json").exists():
            continue
        for split in ("train", "validation"):
            for i in range(generate.n_shards(ds, split)):
                generate.generate_shard(name, ds, cfg["seed"], split, i, root)
        generate.build_manifest(name, ds, cfg["seed"], root)
    return data_dir
