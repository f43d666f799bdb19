"""``datasets.<images>.source`` is refused before any work when it is neither a named source
nor an existing ``.npz`` file / IDX folder: by ``config.validate``, ``denoisebench validate``
and Snakemake's parse (``snakemake -n``), each naming the key, the value and what is expected.
"""

from __future__ import annotations

import gzip
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import BIN, copy_repo, params_with

from denoisebench import config as cfgmod

TYPO = "fashion-mnsit"


def assert_names_key_value_and_expected(msg: str, key: str, value: str) -> None:
    assert f"{key}: {value!r}" in msg, msg
    for expected in ("'fashion_mnist'", "'mnist'", "'synthetic'", ".npz", "IDX"):
        assert expected in msg, (expected, msg)


@pytest.mark.parametrize("dataset", ["images", "images_blur"])
def test_unknown_source_refused(dataset: str) -> None:
    with pytest.raises(cfgmod.ConfigError) as info:
        cfgmod.validate(params_with(f"datasets.{dataset}.source", TYPO))
    assert_names_key_value_and_expected(str(info.value), f"datasets.{dataset}.source", TYPO)
    assert "neither a known source nor an existing path" in str(info.value)


def test_path_sources_checked_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths are relative to the working directory
    key = "datasets.images.source"
    np.savez(tmp_path / "mine.npz", x_train=np.zeros((1, 28, 28), np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8))
    (tmp_path / "idx").mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with gzip.open(tmp_path / "idx" / name, "wb") as fh:
            fh.write(b"\0\0\x08\x03" + np.array([0, 28, 28], ">u4").tobytes())
    for ok in ("mine.npz", str(tmp_path / "mine.npz"), "idx", "mnist"):
        cfgmod.validate(params_with(key, ok))
    (tmp_path / "half").mkdir()
    (tmp_path / "half" / "train-images-idx3-ubyte").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    for bad, why in (("half", "folder without t10k-images-idx3-ubyte[.gz]"),
                     ("notes.txt", "a file but not a .npz"),
                     ("missing.npz", "neither a known source nor an existing path")):
        with pytest.raises(cfgmod.ConfigError) as info:
            cfgmod.validate(params_with(key, bad))
        assert why in str(info.value), str(info.value)
        assert_names_key_value_and_expected(str(info.value), key, bad)


@pytest.fixture(scope="module")
def typo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy whose params.yaml names an unknown image source."""
    repo = copy_repo(tmp_path_factory.mktemp("typo-source"))
    cfg = yaml.safe_load((repo / "params.yaml").read_text())
    cfg["datasets"]["images"]["source"] = TYPO
    (repo / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return repo


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DENOISEBENCH_PARAMS", None)
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_cli_validate_refuses_unknown_source(typo_repo: Path) -> None:
    proc = _run(["denoisebench", "validate"], typo_repo)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert_names_key_value_and_expected(proc.stderr, "datasets.images.source", TYPO)


def test_snakemake_dry_run_refuses_unknown_source(typo_repo: Path) -> None:
    proc = _run(["snakemake", "-n", "--cores", "1"], typo_repo)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert_names_key_value_and_expected(out, "datasets.images.source", TYPO)
    # refused at parse time: no job was planned, nothing written
    assert "Job stats" not in out and not (typo_repo / "data").exists()
    assert not (typo_repo / ".denoisebench").exists()
