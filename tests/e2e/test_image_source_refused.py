"""``datasets.<images>.source`` is refused before any work when it is neither a named source
nor an existing ``.npz`` file / IDX folder: by ``denoisebench validate`` and Snakemake's parse
(``snakemake -n``), each naming the key, the value and what is expected (``config.validate``:
``tests/unit/data/test_image_sources.py``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import SOURCE_TYPO as TYPO
from conftest import assert_names_key_value_and_expected, copy_repo
from conftest import run_any as _run


@pytest.fixture(scope="module")
def typo_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy whose params.yaml names an unknown image source."""
    repo = copy_repo(tmp_path_factory.mktemp("typo-source"))
    cfg = yaml.safe_load((repo / "params.yaml").read_text())
    cfg["datasets"]["images"]["source"] = TYPO
    (repo / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return repo


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
