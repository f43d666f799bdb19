"""Reliability: damaged shards and manifests are refused with the file, the check and
the expectation; manifest paths cannot leave the dataset folder.

Split out of the reliability suite (fault injection, no mocks); the end-to-end ones use the
``multisine`` dataset and the ``gan_l1`` model at tiny size (the ``dataset_repo`` fixture).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import SMALL_MULTISINE
from conftest import run_any as _run_any

from denoisebench.data import generate, shards

# --------------------------------------------------------------------------- integrity

SMALL: dict[str, Any] = dict(SMALL_MULTISINE)
TARGET = Path("train/mixed/part-00001.parquet")


def make_dataset(root: Path, fmt: str = "parquet") -> Path:
    params = {**SMALL, "format": fmt}
    for split in shards.SPLITS:
        for i in range(generate.n_shards(params, split)):
            generate.generate_shard("multisine", params, 3, split, i, root)
    generate.build_manifest("multisine", params, 3, root)
    return root


def rehash(root: Path, rel: Path) -> None:
    """Update the manifest entry of ``rel`` to the file now on disk (only the data is wrong)."""
    path = root / shards.MANIFEST
    manifest = json.loads(path.read_text())
    for split in manifest["splits"].values():
        for entry in split["shards"]:
            for f in entry["files"].values():
                if f["path"] == rel.as_posix():
                    f["sha256"] = shards.sha256_file(root / rel)
                    f["bytes"] = (root / rel).stat().st_size
    path.write_text(json.dumps(manifest))


def set_manifest(root: Path, **fields: Any) -> None:
    path = root / shards.MANIFEST
    path.write_text(json.dumps({**json.loads(path.read_text()), **fields}))


def _rewrite(root: Path, rel: Path, change: Callable[[np.ndarray], np.ndarray]) -> None:
    _, arr = shards.read_shard_unchecked(root / rel)
    new = change(arr.copy())
    shards.write_shard(root / rel, np.arange(len(new)), new)
    rehash(root, rel)


def _float64_parquet(root: Path, rel: Path) -> None:
    _, arr = shards.read_shard_unchecked(root / rel)
    col = pa.FixedSizeListArray.from_arrays(pa.array(arr.reshape(-1).astype(np.float64)), 256)
    pq.write_table(pa.table({"id": pa.array(np.arange(len(arr))), "signal": col}), root / rel)
    rehash(root, rel)


def _nan(row: int, col: int, value: float) -> Callable[[np.ndarray], np.ndarray]:
    def change(arr: np.ndarray) -> np.ndarray:
        arr[row, col] = value
        return arr
    return change


# (name, relative file, damage, error class, the check named, what was expected)
DAMAGES: list[tuple[str, Path, Callable[[Path, Path], None], type, str, str]] = [
    ("truncated", TARGET, lambda r, p: (r / p).write_bytes((r / p).read_bytes()[:-100]),
     shards.ShardError, "size check failed", "manifest says"),
    ("flipped-bytes", TARGET,
     lambda r, p: (r / p).write_bytes(bytes(b ^ (0xFF if i == 3000 else 0) for i, b in
                                            enumerate((r / p).read_bytes()))),
     shards.ShardError, "checksum check failed", "manifest says"),
    ("missing", TARGET, lambda r, p: (r / p).unlink(),
     shards.ShardError, "missing shard", "listed in"),
    ("short", TARGET, lambda r, p: _rewrite(r, p, lambda a: a[:7]),
     shards.ShardError, "length check failed", "manifest says 20"),
    ("wide", TARGET,
     lambda r, p: _rewrite(r, p, lambda a: np.concatenate([a, a], axis=1)),
     shards.ShardError, "shape check failed", "expected 256"),
    ("float64", TARGET, _float64_parquet,
     shards.ShardError, "dtype check failed", "expected float32"),
    ("nan-mixed", TARGET, lambda r, p: _rewrite(r, p, _nan(3, 5, np.nan)),
     shards.ShardError, "value check failed", "not allowed in 'mixed'"),
    ("inf-clean", Path("train/clean/part-00000.parquet"),
     lambda r, p: _rewrite(r, p, _nan(0, 0, np.inf)),
     shards.ShardError, "value check failed", "not allowed in 'clean'"),
    ("nan-clean-undeclared", Path("validation/clean/part-00000.parquet"),
     lambda r, p: _rewrite(r, p, _nan(2, 9, np.nan)),
     shards.ShardError, "value check failed", "not allowed in 'clean'"),
    ("inf-clean-with-missing-targets", Path("train/clean/part-00001.parquet"),
     lambda r, p: (_rewrite(r, p, _nan(1, 1, -np.inf)), set_manifest(r, missing_targets=True)),
     shards.ShardError, "value check failed", "row 1"),
    ("no-manifest", Path(shards.MANIFEST), lambda r, p: (r / p).unlink(),
     shards.ManifestError, "manifest missing", "generate the dataset"),
    ("manifest-not-json", Path(shards.MANIFEST), lambda r, p: (r / p).write_text("{ oops"),
     shards.ManifestError, "not valid JSON", "JSON"),
    ("manifest-wrong-dtype", Path(shards.MANIFEST),
     lambda r, p: set_manifest(r, dtype="float16"),
     shards.ManifestError, "field 'dtype'", "expected 'float32'"),
]


@pytest.mark.parametrize(("rel", "damage", "error", "check", "expected"),
                         [d[1:] for d in DAMAGES], ids=[d[0] for d in DAMAGES])
def test_reader_names_file_check_and_expectation(tmp_path: Path, rel: Path, damage: Any,
                                                  error: type, check: str,
                                                  expected: str) -> None:
    root = make_dataset(tmp_path / "ds")
    damage(root, rel)
    with pytest.raises(error) as info:
        reader = shards.DatasetReader(root)
        for split in shards.SPLITS:
            reader.verify_split(split, shards.KINDS)
    msg = str(info.value)
    assert str(rel.name) in msg and str(rel.parent.as_posix()) in msg, msg
    assert check in msg and expected in msg, msg


def test_nan_allowed_in_clean_only_where_declared(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    rel = Path("train/clean/part-00000.parquet")
    _rewrite(root, rel, _nan(4, 100, np.nan))
    set_manifest(root, missing_targets=True)
    clean = shards.DatasetReader(root).read("train", "clean")
    assert np.isnan(clean[4, 100]) and np.isnan(clean).sum() == 1
    # ... and never in the inputs, missing_targets or not
    _rewrite(root, Path("train/mixed/part-00000.parquet"), _nan(4, 100, np.nan))
    with pytest.raises(shards.ShardError, match="value check failed.*'mixed'"):
        shards.DatasetReader(root).read("train", "mixed")


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_npy_shard_of_wrong_dtype(tmp_path: Path, dtype: type) -> None:
    root = make_dataset(tmp_path / "ds", fmt="npy")
    rel = Path("validation/noise/part-00000.npy")
    arr = np.load(root / rel)
    np.save(root / rel, arr.astype(dtype))
    rehash(root, rel)
    with pytest.raises(shards.ShardError, match="dtype check failed") as info:
        shards.DatasetReader(root).read("validation", "noise")
    assert str(rel) in str(info.value) and "expected float32" in str(info.value)


@pytest.mark.parametrize(("damage", "check"), [("flip", "checksum check failed"),
                                               ("nan", "value check failed")])
def test_train_on_damaged_dataset_exits_2(dataset_repo: Path, tmp_path: Path, damage: str,
                                          check: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(dataset_repo / "data" / "multisine", data / "multisine")
    root = data / "multisine"
    rel = Path("train/mixed/part-00002.parquet")
    if damage == "flip":
        raw = bytearray((root / rel).read_bytes())
        raw[len(raw) // 2] ^= 0x01
        (root / rel).write_bytes(bytes(raw))
    else:
        _rewrite(root, rel, _nan(0, 0, np.nan))
    proc = _run_any(["denoisebench", "train", "--model", "gan_l1", "--data-dir", str(data),
                     "--out", str(tmp_path / "model")], dataset_repo)
    assert proc.returncode == 2, proc.stderr[-3000:]
    line = proc.stderr.strip().splitlines()[-1]
    assert line.startswith(f"error: {(root / rel).resolve()}: {check}"), line
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "model" / "model.keras").exists()


def test_manifest_rejects_shard_kinds_of_different_lengths(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    _, arr = shards.read_shard_unchecked(root / TARGET)
    shards.write_shard(root / TARGET, np.arange(5), arr[:5])
    with pytest.raises(shards.ShardError, match="5 rows; the other kinds of this shard have 20"):
        generate.build_manifest("multisine", SMALL, 3, root)


# --------------------------------------------------------------------------- paths


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink-out", "symlink-loop", "nul"])
def test_manifest_paths_cannot_escape(tmp_path: Path, how: str) -> None:
    root = make_dataset(tmp_path / "ds")
    outside = tmp_path / "outside.parquet"
    shutil.copyfile(root / TARGET, outside)  # a valid shard, but outside the dataset folder
    if how == "dotdot":
        rel = "train/../../outside.parquet"
    elif how == "absolute":
        rel = str(outside)
    elif how == "symlink-out":
        (root / "train/mixed/link.parquet").symlink_to(outside)
        rel = "train/mixed/link.parquet"
    elif how == "symlink-loop":
        (root / "train/mixed/a.parquet").symlink_to(root / "train/mixed/b.parquet")
        (root / "train/mixed/b.parquet").symlink_to(root / "train/mixed/a.parquet")
        rel = "train/mixed/a.parquet"
    else:
        rel = "train/mixed/part-00001.parquet\x00.txt"
    manifest = json.loads((root / shards.MANIFEST).read_text())
    manifest["splits"]["train"]["shards"][1]["files"]["mixed"]["path"] = rel
    (root / shards.MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(shards.DataIntegrityError) as info:
        shards.DatasetReader(root).read("train", "mixed")
    assert "escapes the dataset folder" in str(info.value) or how in ("symlink-loop", "nul")
    assert str(root / shards.MANIFEST) in str(info.value) or "symlink" in how


def test_paths_inside_the_folder_are_fine(tmp_path: Path) -> None:
    root = make_dataset(tmp_path / "ds")
    (root / "train/mixed/alias.parquet").symlink_to(root / TARGET)
    manifest = json.loads((root / shards.MANIFEST).read_text())
    files = manifest["splits"]["train"]["shards"][1]["files"]
    files["mixed"]["path"] = "train/mixed/alias.parquet"
    files["clean"]["path"] = "validation/../train/clean/part-00001.parquet"
    (root / shards.MANIFEST).write_text(json.dumps(manifest))
    reader = shards.DatasetReader(root)
    assert reader.read("train", "mixed").shape == (40, 256)
    assert reader.read("train", "clean").shape == (40, 256)
