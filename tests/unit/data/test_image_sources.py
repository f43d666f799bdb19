"""``datasets.<images>.source`` is refused by ``config.validate`` (the images kind's checks,
:func:`denoisebench.data.image_sources.source_path_problem`) when it is neither a named source
nor an existing ``.npz`` file / IDX folder, naming the key, the value and what is expected.
``denoisebench validate`` and ``snakemake -n``: ``tests/e2e/test_image_source_refused.py``.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
from conftest import SOURCE_TYPO as TYPO
from conftest import assert_names_key_value_and_expected, params_with

from denoisebench import config as cfgmod


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
