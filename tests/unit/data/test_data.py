"""Multisine generation, shard determinism, manifests and checked reading."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import SMALL_MULTISINE

from denoisebench.config import load
from denoisebench.data import generate, shards, signals

PARAMS: dict[str, Any] = {**SMALL_MULTISINE, "train_size": 50, "validation_size": 20,
                          "train_shards": 3}


def make(root: Path, params: dict[str, Any] = PARAMS, seed: int = 7) -> Path:
    for split in shards.SPLITS:
        for i in range(generate.n_shards(params, split)):
            generate.generate_shard("multisine", params, seed, split, i, root)
    return generate.build_manifest("multisine", params, seed, root)


def test_multisine_recipe() -> None:
    rng = np.random.default_rng(0)
    clean, noise = signals.multisine(PARAMS, 400, rng)
    assert clean.shape == noise.shape == (400, 256) and clean.dtype == np.float32
    snr = 10 * np.log10((clean.astype(float) ** 2).sum(1) / (noise.astype(float) ** 2).sum(1))
    np.testing.assert_allclose(snr, -2.0, atol=1e-4)  # exactly -2 dB per example
    # all clean energy lies in 10-64 Hz (plus leakage of non-integer frequencies)
    spec = np.abs(np.fft.rfft(clean, axis=1)) ** 2
    f = np.fft.rfftfreq(256, 1 / 256)
    inband = spec[:, (f >= 8) & (f <= 66)].sum() / spec.sum()
    assert inband > 0.97
    # amplitude: sum of 3 unit sines divided by 3
    assert np.abs(clean).max() <= 1.0 + 1e-6
    # noise is white: about half its energy above 64 Hz
    nspec = np.abs(np.fft.rfft(noise, axis=1)) ** 2
    assert 0.4 < nspec[:, f > 64].sum() / nspec.sum() < 0.6


def multisine_whole_array(params: dict[str, Any], rows: int, rng: np.random.Generator) -> tuple:
    """The recipe evaluated on whole arrays, as multisine computed it before it worked in
    blocks: the blocked generator must give these very bytes."""
    fs, k = float(params["fs"]), int(params["n_sines"])
    n = round(fs * float(params["duration_s"]))
    t = np.arange(n, dtype=np.float64) / fs
    freqs, phase = signals.multisine_tones(params, rows, rng)
    arg = (2.0 * np.pi * freqs[:, :, None] * t + phase[:, :, None]).astype(np.float32)
    clean = np.sin(arg).sum(axis=1, dtype=np.float64)
    if params["normalize"]:
        clean /= k
    noise = signals.scale_noise_to_snr(clean, rng.standard_normal((rows, n)),
                                       float(params["snr_db"]))
    return clean.astype(np.float32), noise.astype(np.float32)


@pytest.mark.parametrize("block", [1, 7, 256])
def test_multisine_blocks_give_whole_array_bytes(block: int,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(signals, "MULTISINE_BLOCK_ROWS", block)
    for params, rows in ((PARAMS, 300), ({**PARAMS, "random_phase": False, "normalize": False,
                                           "fs": 100, "duration_s": 0.7, "n_sines": 5}, 23),
                         (PARAMS, 0)):
        got = signals.multisine(params, rows, np.random.default_rng(5))
        ref = multisine_whole_array(params, rows, np.random.default_rng(5))
        for g, r in zip(got, ref, strict=True):
            assert g.dtype == np.float32 and g.shape == r.shape
            assert g.tobytes() == r.tobytes()


def test_seed_phase_zero_option() -> None:
    clean, _ = signals.multisine({**PARAMS, "random_phase": False}, 5, np.random.default_rng(1))
    np.testing.assert_allclose(clean[:, 0], 0.0, atol=1e-6)  # sin(0) = 0 for every component


def test_shards_byte_identical_and_independent(tmp_path: Path) -> None:
    make(tmp_path / "a")
    make(tmp_path / "b")
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.parquet"))
    assert len(files_a) == 3 * (3 + 1)
    for rel in files_a:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    # a shard generated alone (e.g. as its own cluster job) equals the same shard of a full run
    generate.generate_shard("multisine", PARAMS, 7, "train", 2, tmp_path / "c")
    rel = Path("train/mixed/part-00002.parquet")
    assert (tmp_path / "c" / rel).read_bytes() == (tmp_path / "a" / rel).read_bytes()
    make(tmp_path / "d", seed=8)
    assert (tmp_path / "d" / rel).read_bytes() != (tmp_path / "a" / rel).read_bytes()


def test_manifest_and_reader(tmp_path: Path) -> None:
    path = make(tmp_path)
    manifest = json.loads(path.read_text())
    assert manifest["shape"] == [256] and manifest["fs"] == 256 and manifest["seed"] == 7
    assert manifest["splits"]["train"]["rows"] == 50
    assert [e["rows"] for e in manifest["splits"]["train"]["shards"]] == [17, 17, 16]
    for e in manifest["splits"]["train"]["shards"]:
        for f in e["files"].values():
            assert shards.sha256_file(tmp_path / f["path"]) == f["sha256"]
    reader = shards.DatasetReader(tmp_path)
    clean, noise, mixed = (reader.read("train", k) for k in shards.KINDS)
    assert mixed.shape == (50, 256)
    np.testing.assert_allclose(mixed, clean + noise, atol=1e-6)
    np.testing.assert_array_equal(reader.ids("train"), np.arange(50))
    assert not list(tmp_path.rglob("*.tmp")), "temporary files left behind"


def test_npy_format(tmp_path: Path) -> None:
    params = {**PARAMS, "format": "npy"}
    make(tmp_path, params)
    reader = shards.DatasetReader(tmp_path)
    assert reader.read("validation", "clean").shape == (20, 256)
    assert (tmp_path / "validation/clean/part-00000.npy").exists()


@pytest.mark.parametrize("damage", ["truncate", "flip", "missing"])
def test_reader_rejects_damaged_shards(tmp_path: Path, damage: str) -> None:
    make(tmp_path)
    target = tmp_path / "train/mixed/part-00001.parquet"
    if damage == "truncate":
        target.write_bytes(target.read_bytes()[:-100])
        expect = "size check failed"
    elif damage == "flip":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0xFF
        target.write_bytes(bytes(data))
        expect = "checksum check failed"
    else:
        target.unlink()
        expect = "missing shard"
    reader = shards.DatasetReader(tmp_path)
    with pytest.raises(shards.ShardError, match=expect) as info:
        reader.read("train", "mixed")
    assert str(target) in str(info.value)


def test_manifest_path_cannot_escape(tmp_path: Path) -> None:
    path = make(tmp_path)
    manifest = json.loads(path.read_text())
    manifest["splits"]["train"]["shards"][0]["files"]["mixed"]["path"] = "../../etc/passwd"
    path.write_text(json.dumps(manifest))
    with pytest.raises(shards.ManifestError, match="escapes the dataset folder"):
        shards.DatasetReader(tmp_path).read("train", "mixed")


def test_default_params_shard_plan() -> None:
    cfg = load(["params.yaml"])
    ds = cfg["datasets"]["multisine"]
    rows = [generate.shard_rows(ds, "train", i)[1] for i in range(generate.n_shards(ds, "train"))]
    assert sum(rows) == ds["train_size"]
