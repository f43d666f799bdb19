"""Fuzzing the shard reader and the manifest parser: whatever the damage, only the documented
errors (:class:`denoisebench.data.shards.DataIntegrityError` subclasses) come out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from denoisebench.data import generate, shards

PARAMS: dict[str, Any] = {
    "kind": "multisine", "fs": 64, "duration_s": 0.5, "n_sines": 2, "fmin_hz": 2.0,
    "fmax_hz": 20.0, "random_phase": True, "normalize": True, "snr_db": 0.0,
    "train_size": 12, "validation_size": 4, "train_shards": 2, "validation_shards": 1,
    "format": "parquet", "lowpass": {"design": "butter", "cutoff_hz": 20.0, "order": 4},
}
FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


def _generate(root: Path, fmt: str) -> None:
    params = {**PARAMS, "format": fmt}
    for split in shards.SPLITS:
        for i in range(generate.n_shards(params, split)):
            generate.generate_shard("fuzz", params, 5, split, i, root)
    generate.build_manifest("fuzz", params, 5, root)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small, valid dataset per shard format (never modified)."""
    out = {}
    for fmt in shards.FORMATS:
        out[fmt] = tmp_path_factory.mktemp(f"pristine-{fmt}")
        _generate(out[fmt], fmt)
    return out


def _fresh(pristine: Path, work: Path) -> Path:
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(pristine, work, symlinks=True)
    return work


def _read_everything(root: Path) -> None:
    """What the pipeline does with a dataset: open it, read every split and kind, ids."""
    reader = shards.DatasetReader(root)
    for split in reader.manifest["splits"]:
        reader.rows(split)
        for kind in shards.KINDS:
            reader.read(split, kind)
        reader.ids(split)


# ------------------------------------------------------------------ byte damage to a shard

damage_ops = st.one_of(
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("flip"), st.lists(st.tuples(st.floats(0, 1), st.integers(1, 255)),
                                        min_size=1, max_size=8)),
    st.tuples(st.just("overwrite"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=64)),
    st.tuples(st.just("replace"), st.binary(max_size=512)),
)


def _damage(data: bytes, op: tuple) -> bytes:
    kind = op[0]

    def at(fraction: float) -> int:
        return min(int(fraction * len(data)), max(len(data) - 1, 0))

    if kind == "truncate":
        return data[:at(op[1])]
    if kind == "flip":
        buf = bytearray(data)
        for pos, mask in op[1]:
            buf[at(pos)] ^= mask
        return bytes(buf)
    if kind == "overwrite":
        i = at(op[1])
        return data[:i] + op[2] + data[i + len(op[2]):]
    if kind == "insert":
        i = at(op[1])
        return data[:i] + op[2] + data[i:]
    return op[1]


SHARD_FILES = [f"{split}/{kind}/part-0000{i}" for split, n in (("train", 2), ("validation", 1))
               for i in range(n) for kind in shards.KINDS]


@pytest.mark.parametrize("fmt", list(shards.FORMATS))
@FUZZ
@given(target=st.sampled_from(SHARD_FILES), op=damage_ops, rehash=st.booleans())
def test_damaged_shard_only_raises_integrity_errors(pristine: dict[str, Path], tmp_path: Path,
                                                    fmt: str, target: str, op: tuple,
                                                    rehash: bool) -> None:
    root = _fresh(pristine[fmt], tmp_path / "ds")
    path = root / (target + shards.FORMATS[fmt])
    original = path.read_bytes()
    damaged = _damage(original, op)
    path.write_bytes(damaged)
    # the unchecked parser on its own
    try:
        shards.read_shard_unchecked(path)
    except shards.DataIntegrityError as exc:
        assert str(path) in str(exc)
    if rehash:  # the manifest agrees with the damaged file: the parser and checks must cope
        manifest = json.loads((root / shards.MANIFEST).read_text())
        for split in manifest["splits"].values():
            for entry in split["shards"]:
                for f in entry["files"].values():
                    if root / f["path"] == path:
                        f["sha256"], f["bytes"] = shards.sha256_file(path), len(damaged)
        (root / shards.MANIFEST).write_text(json.dumps(manifest))
    try:
        _read_everything(root)
    except shards.DataIntegrityError as exc:
        assert str(path.name) in str(exc) or shards.MANIFEST in str(exc), str(exc)
    else:  # accepted: only when the bytes did not change, or the checks could not tell
        assert damaged == original or rehash


# ------------------------------------------------------------------ manifest mutations

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12)
    | st.sampled_from([-1, 0, 2**31, 2**48 + 1, 2**63, 2**64, 10**30])
    | st.sampled_from(["parquet", "npy", "float32", "train", "validation", "..", "/",
                       "train/mixed/part-00000.parquet", "train/mixed", "manifest.json"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["path", "sha256", "bytes", "rows", "offset", "index",
                                       "files", "shards", "mixed", "clean", "noise"])
                      | st.text(max_size=6), children, max_size=4),
    max_leaves=10,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key path of a JSON document (the root is ``()``)."""
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


mutation = st.tuples(st.sampled_from(["set", "delete"]), st.integers(0, 10**6), json_values)


def _mutate(doc: Any, op: tuple) -> Any:
    action, pick, value = op
    paths = _paths(doc)
    where = paths[pick % len(paths)]
    if not where:
        return value if action == "set" else {}
    node = doc
    for k in where[:-1]:
        node = node[k]
    if action == "delete":
        del node[where[-1]]
    else:
        node[where[-1]] = value
    return doc


@pytest.mark.parametrize("fmt", list(shards.FORMATS))
@FUZZ
@given(ops=st.lists(mutation, min_size=1, max_size=4))
def test_mutated_manifest_only_raises_integrity_errors(pristine: dict[str, Path],
                                                       tmp_path: Path, fmt: str,
                                                       ops: list[tuple]) -> None:
    root = _fresh(pristine[fmt], tmp_path / "ds")
    doc = json.loads((root / shards.MANIFEST).read_text())
    for op in ops:
        doc = _mutate(doc, op)
    (root / shards.MANIFEST).write_text(json.dumps(doc))  # NaN/Infinity: JSON's extension
    try:
        _read_everything(root)
    except shards.DataIntegrityError as exc:
        assert shards.MANIFEST in str(exc) or str(root) in str(exc), str(exc)


@FUZZ
@given(data=st.binary(max_size=2048) | st.text(max_size=512).map(str.encode),
       keep=st.integers(0, 4000))
def test_damaged_manifest_bytes_only_raise_integrity_errors(pristine: dict[str, Path],
                                                            tmp_path: Path, data: bytes,
                                                            keep: int) -> None:
    root = _fresh(pristine["parquet"], tmp_path / "ds")
    text = (root / shards.MANIFEST).read_bytes()
    (root / shards.MANIFEST).write_bytes(text[:keep] + data)
    try:
        _read_everything(root)
    except shards.DataIntegrityError as exc:
        assert shards.MANIFEST in str(exc) or str(root) in str(exc), str(exc)


def test_fuzz_baseline_dataset_is_valid(pristine: dict[str, Path]) -> None:
    for root in pristine.values():
        _read_everything(root)
        assert shards.DatasetReader(root).read("train", "mixed").shape == (12, 32)
        np.testing.assert_array_equal(shards.DatasetReader(root).ids("train"), np.arange(12))
