"""Bring your own data: ``denoisebench datasets manifest|import`` and folder datasets in the
graph (``datasets.<name>.kind: folder``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf
import yaml
from conftest import copy_repo, run, tiny_params

from denoisebench.cli import main
from denoisebench.config import ConfigError, read_yaml, validate
from denoisebench.data import folder as folders
from denoisebench.data import shards
from denoisebench.data.generate import resolve_root
from denoisebench.data.shards import DatasetReader
from denoisebench.userdata import importer

REPO = Path(__file__).resolve().parents[3]
WIDTH = 32
LOWPASS = {"design": "butter", "cutoff_hz": 60.0, "order": 4}


def cli(*argv: str | Path) -> int:
    return main([str(a) for a in argv])


def make_folder(root: Path, fmt: str = "parquet", noise: bool = True,
                rows: tuple[int, ...] = (20, 15), val_rows: int = 10) -> dict[str, np.ndarray]:
    """A dataset folder in the project's layout: shards named ``a-<i>`` (not part-NNNNN, to
    show that any names pair), clean/mixed (and noise) per shard."""
    rng = np.random.default_rng(0)
    data = {}
    for split, sizes in (("train", rows), ("validation", (val_rows,))):
        for i, n in enumerate(sizes):
            clean = rng.standard_normal((n, WIDTH)).astype(np.float32)
            nz = (0.5 * rng.standard_normal((n, WIDTH))).astype(np.float32)
            kinds = {"clean": clean, "mixed": clean + nz, **({"noise": nz} if noise else {})}
            for kind, arr in kinds.items():
                path = root / split / kind / f"a-{i}.{fmt}"
                shards.write_shard(path, np.arange(n), arr)
                data[f"{split}/{kind}/{i}"] = arr
    return data


# --------------------------------------------------------------------------- manifest


@pytest.mark.parametrize("fmt", ["parquet", "npy"])
@pytest.mark.parametrize("noise", [True, False])
def test_manifest_of_a_good_folder(tmp_path: Path, fmt: str, noise: bool,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "mine"
    data = make_folder(root, fmt, noise)
    assert cli("datasets", "manifest", root, "--fs", "256") == 0
    out = capsys.readouterr().out
    assert "kind: folder" in out and f"path: {root.as_posix()}" in out
    reader = DatasetReader(root)
    m = reader.manifest
    assert m["kind"] == "folder" and m["format"] == fmt and m["fs"] == 256.0
    assert m["shape"] == [WIDTH] and m["noise"] is noise and m["dataset"] == "mine"
    assert reader.rows("train") == 35 and reader.rows("validation") == 10
    np.testing.assert_array_equal(reader.read("train", "clean"),
                                  np.concatenate([data["train/clean/0"], data["train/clean/1"]]))
    np.testing.assert_array_equal(reader.read("validation", "mixed"), data["validation/mixed/0"])
    np.testing.assert_array_equal(reader.ids("train"), np.arange(35))
    noise_arr = folders.noise_of(reader, "validation")
    np.testing.assert_allclose(noise_arr, data["validation/mixed/0"] - data["validation/clean/0"],
                               atol=1e-6)
    # the recorded fs is kept when --fs is left out next time
    assert cli("datasets", "manifest", root) == 0
    assert DatasetReader(root).fs == 256.0


def _expect_error(capsys: pytest.CaptureFixture[str], root: Path, *words: str,
                  args: tuple[str, ...] = ("--fs", "256")) -> str:
    assert cli("datasets", "manifest", root, *args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    for w in words:
        assert w in err, err
    assert not (root / "manifest.json").exists()
    return err


def test_clean_shard_without_mixed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path, noise=False)
    (tmp_path / "train/mixed/a-1.parquet").unlink()
    _expect_error(capsys, tmp_path, "train/mixed/a-1.parquet: missing",
                  "train/clean/a-1.parquet")


def _zeros_shard(path: Path, rows: int, width: int = WIDTH) -> None:
    shards.write_shard(path, np.arange(rows), np.zeros((rows, width), np.float32))


def test_mixed_shard_without_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path, noise=False)
    _zeros_shard(tmp_path / "validation/mixed/zz.parquet", 3)
    _expect_error(capsys, tmp_path, "validation/mixed/zz.parquet", "no clean shard")


def test_noise_for_some_shards_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path)
    (tmp_path / "train/noise/a-0.parquet").unlink()
    _expect_error(capsys, tmp_path, "train/noise/a-0.parquet: missing", "or none")


def test_row_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path, noise=False)
    _zeros_shard(tmp_path / "train/mixed/a-1.parquet", 14)
    _expect_error(capsys, tmp_path, "train/mixed/a-1.parquet: 14 rows", "a-1.parquet has 15")


def test_length_mismatch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path, noise=False)
    for kind in ("clean", "mixed"):
        _zeros_shard(tmp_path / f"validation/{kind}/a-0.parquet", 10, WIDTH + 1)
    _expect_error(capsys, tmp_path, "validation/clean/a-0.parquet: examples of 33 samples",
                  "same length")


@pytest.mark.parametrize("fmt", ["parquet", "npy"])
def test_nan_is_refused(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    data = make_folder(tmp_path, fmt, noise=False)
    bad = data["train/mixed/1"].copy()
    bad[7, 3] = np.nan
    shards.write_shard(tmp_path / f"train/mixed/a-1.{fmt}", np.arange(len(bad)), bad)
    _expect_error(capsys, tmp_path, f"train/mixed/a-1.{fmt}: non-finite value nan in row 7, "
                  "sample 3")


def test_noise_free_rows_are_refused_silent_rows_kept(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    data = make_folder(tmp_path, noise=False)
    clean, mixed = data["train/clean/0"].copy(), data["train/mixed/0"].copy()
    clean[4] = 0.0  # a pause: kept (evaluation skips it in the per-example SNR means)
    shards.write_shard(tmp_path / "train/clean/a-0.parquet", np.arange(20), clean)
    assert cli("datasets", "manifest", tmp_path, "--fs", "256") == 0
    (tmp_path / "manifest.json").unlink()
    mixed[6] = clean[6]  # no noise: refused
    shards.write_shard(tmp_path / "train/mixed/a-0.parquet", np.arange(20), mixed)
    _expect_error(capsys, tmp_path, "train/mixed/a-0.parquet: row 6 equals its clean row")


def test_generated_manifest_is_not_rewritten(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "multisine", "fs": 256}))
    assert cli("datasets", "manifest", tmp_path) == 2
    assert "generated this 'multisine' dataset" in capsys.readouterr().err
    assert json.loads((tmp_path / "manifest.json").read_text())["kind"] == "multisine"


def test_float64_npy_refused_then_converted(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    data = make_folder(tmp_path, "npy", noise=False)
    path = tmp_path / "train/clean/a-0.npy"
    np.save(path, data["train/clean/0"].astype(np.float64))
    _expect_error(capsys, tmp_path, "train/clean/a-0.npy: values are float64; expected float32",
                  "--convert")
    assert np.load(path).dtype == np.float64  # untouched without --convert
    assert cli("datasets", "manifest", tmp_path, "--fs", "256", "--convert") == 0
    assert np.load(path).dtype == np.float32
    np.testing.assert_array_equal(DatasetReader(tmp_path).read("train", "clean")[:20],
                                  data["train/clean/0"])


def test_float64_parquet_refused_then_converted(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = make_folder(tmp_path, "parquet", noise=False)
    path = tmp_path / "validation/mixed/a-0.parquet"
    arr = data["validation/mixed/0"].astype(np.float64)
    # a user's file: variable-length list<double>, no id column
    pq.write_table(pa.table({"signal": pa.array(list(arr), type=pa.list_(pa.float64()))}), path)
    _expect_error(capsys, tmp_path, "validation/mixed/a-0.parquet: values are double",
                  "--convert")
    assert cli("datasets", "manifest", tmp_path, "--fs", "256", "--convert") == 0
    np.testing.assert_array_equal(DatasetReader(tmp_path).read("validation", "mixed"),
                                  data["validation/mixed/0"])


def test_missing_fs_and_layout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    make_folder(tmp_path)
    _expect_error(capsys, tmp_path, "--fs HZ", args=())
    _expect_error(capsys, tmp_path / "nosuch", "no such folder")
    (tmp_path / "train/clean/notes.txt").write_text("hi")
    _expect_error(capsys, tmp_path, "train/clean/notes.txt: unexpected file")


# --------------------------------------------------------------------------- import


def _tone(n: int, fs: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fs
    return (0.3 * np.sin(2 * np.pi * rng.uniform(5, 40) * t + rng.uniform(0, 6))).astype(
        np.float32)


def write_recordings(src: Path, specs: dict[str, tuple[int, float, int]],
                     subtype: str = "FLOAT") -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{name: (seconds, fs, channels)}`` -> clean/<name>.wav + noisy/<name>.wav; returns the
    float signals ``(samples, channels)`` as written."""
    out = {}
    for k, (seconds, fs, channels) in enumerate(specs.values()):
        name = list(specs)[k]
        n = int(seconds * fs)
        clean = np.stack([_tone(n, fs, 10 * k + c) for c in range(channels)], axis=1)
        noisy = clean + 0.1 * np.random.default_rng(k).standard_normal(clean.shape)
        noisy = noisy.astype(np.float32)
        for folder, arr in (("clean", clean), ("noisy", noisy)):
            (src / folder).mkdir(parents=True, exist_ok=True)
            sf.write(src / folder / f"{name}.wav", arr, int(fs), subtype=subtype)
        out[name] = (clean, noisy)
    return out


def test_import_wav_pairs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "rec"
    specs = {"a": (3.0, 256, 1), "b": (2.5, 256, 1), "c": (2.0, 512, 2), "d": (4.0, 256, 1),
             "e": (1.0, 128, 1)}
    sig = write_recordings(src, specs)
    dest = tmp_path / "mine"
    assert cli("datasets", "import", src, "-o", dest, "--window", "64", "--fs", "256",
               "--validation-fraction", "0.4", "--seed", "3", "--shard-rows", "16") == 0
    assert "kind: folder" in capsys.readouterr().out
    reader = DatasetReader(dest)
    m = reader.manifest
    assert m["kind"] == "folder" and m["fs"] == 256 and m["shape"] == [64] and m["noise"]
    assert m["dataset"] == "mine" and not list(tmp_path.glob(".mine.*"))
    rec = m["params"]["recordings"]
    # split by recording: 2 of 5 in validation, none in both
    assert len(rec["validation"]) == 2 and len(rec["train"]) == 3
    assert not set(rec["validation"]) & set(rec["train"])
    # windows per recording at 256 Hz: floor(seconds * 256 / 64) per channel
    expect = {"a": 12, "b": 10, "c": 2 * 8, "d": 16, "e": 4}
    for split in shards.SPLITS:
        for name, r in rec[split].items():
            assert r["windows"] == expect[name], name
        assert reader.rows(split) == sum(expect[n] for n in rec[split])
    assert rec["train"].get("c", rec["validation"].get("c"))["channels"] == 2
    # several shards of at most 16 rows; noise = mixed - clean
    assert len(reader.shards("train")) >= 2
    assert all(e.rows <= 16 for e in reader.shards("train"))
    clean, mixed = reader.read("train", "clean"), reader.read("train", "mixed")
    np.testing.assert_allclose(reader.read("train", "noise"), mixed - clean, atol=1e-6)
    # a 256 Hz mono recording comes through unchanged, window by window, in name order
    first = sorted(rec["train"])[0]
    if specs[first][1] == 256:
        want = sig[first][0][:, 0][: expect[first] * 64].reshape(-1, 64)
        np.testing.assert_array_equal(clean[: expect[first]], want)
    # seeded: the same command gives the same shards
    dest2 = tmp_path / "mine2"
    assert cli("datasets", "import", src, "-o", dest2, "--window", "64", "--fs", "256",
               "--validation-fraction", "0.4", "--seed", "3", "--shard-rows", "16") == 0
    m2 = json.loads((dest2 / "manifest.json").read_text())
    assert m2["splits"] == m["splits"]
    # checking the folder again keeps fs and the import's record
    assert cli("datasets", "manifest", dest) == 0
    m3 = json.loads((dest / "manifest.json").read_text())
    assert m3["params"] == m["params"] and m3["splits"] == m["splits"] and m3["fs"] == 256


def test_import_overlapping_windows_and_common_rate(tmp_path: Path) -> None:
    src = tmp_path / "rec"
    write_recordings(src, {"a": (1.0, 100, 1), "b": (1.0, 100, 1)}, subtype="PCM_16")
    path = importer.import_recordings(src, tmp_path / "ds", 40, hop=20, validation_fraction=0.5,
                                  fmt="npy")
    reader = DatasetReader(path.parent)
    assert reader.fs == 100 and reader.manifest["format"] == "npy"
    assert reader.rows("train") == reader.rows("validation") == 4  # (100 - 40) / 20 + 1


def test_import_drops_noise_free_windows(tmp_path: Path) -> None:
    src = tmp_path / "rec"
    sig = write_recordings(src, {"a": (1.0, 256, 1), "b": (1.0, 256, 1)})
    clean, noisy = sig["a"]
    clean[:64], noisy[:64] = 0.0, 0.0  # digital silence in both: no signal, no noise
    noisy[128:192] = clean[128:192]  # no noise
    sf.write(src / "clean/a.wav", clean, 256, subtype="FLOAT")
    sf.write(src / "noisy/a.wav", noisy, 256, subtype="FLOAT")
    path = importer.import_recordings(src, tmp_path / "ds", 64, validation_fraction=0.5)
    rec = json.loads(path.read_text())["params"]["recordings"]
    a = rec["train"].get("a") or rec["validation"]["a"]
    assert a["windows"] == 2 and a["dropped"] == 2 and a["silent"] == 0


@pytest.mark.parametrize(("change", "words"), [
    ("partner", ["noisy/", "x.wav: no clean partner"]),
    ("rates", ["sample rates differ", "--fs"]),
    ("length", ["b.wav: channel 0 has", "aligned"]),
    ("dest", ["exists and is not an empty folder"]),
    ("one", ["at least 2"]),
    ("short", ["no recording of the", "full window"]),
])
def test_import_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str,
                        words: list[str]) -> None:
    src = tmp_path / "rec"
    write_recordings(src, {"a": (1.0, 256, 1), "b": (1.0, 256, 1)})
    dest = tmp_path / "ds"
    args = ["--window", "64"]
    if change == "partner":
        sf.write(src / "noisy/x.wav", np.zeros(300, np.float32), 256)
    elif change == "rates":
        sf.write(src / "clean/b.wav", np.zeros(300, np.float32), 200)
        sf.write(src / "noisy/b.wav", np.zeros(300, np.float32), 200)
    elif change == "length":
        sf.write(src / "noisy/b.wav", np.zeros(250, np.float32), 256)
    elif change == "dest":
        dest.mkdir()
        (dest / "keep.txt").write_text("mine")
    elif change == "one":
        for f in ("clean/b.wav", "noisy/b.wav"):
            (src / f).unlink()
    elif change == "short":
        args = ["--window", "512"]
    assert cli("datasets", "import", src, "-o", dest, *args) == 2
    err = capsys.readouterr().err
    for w in words:
        assert w in err, err
    if change == "dest":
        assert sorted(p.name for p in dest.iterdir()) == ["keep.txt"]
    else:
        assert not dest.exists()
    assert not list(tmp_path.glob(".ds.*"))  # no temporary folder left behind


# --------------------------------------------------------------------------- params


def folder_cfg(path: Path, fs: float = 256.0, kind: str = "gan_l1") -> dict:
    cfg = copy.deepcopy(read_yaml(REPO / "params.yaml"))
    cfg["datasets"]["mine"] = {"kind": "folder", "path": str(path), "fs": fs,
                               "lowpass": dict(LOWPASS)}
    cfg["models"]["mine_l1"] = {"kind": kind, "dataset": "mine", "epochs": 1, "batch_size": 8,
                                "generator_lr": 1e-3, "lr_halving_epochs": 50, "patience": 5,
                                "shuffle_buffer": 50}
    return cfg


def test_params_folder_dataset(tmp_path: Path) -> None:
    root = tmp_path / "mine"
    make_folder(root)
    assert cli("datasets", "manifest", root, "--fs", "256") == 0
    cfg = validate(folder_cfg(root))
    assert resolve_root("mine", cfg["datasets"]["mine"]) == root
    assert resolve_root("multisine", cfg["datasets"]["multisine"]) == Path("data/multisine")
    with pytest.raises(ConfigError, match=r"datasets\.mine\.path: folder .*nosuch.* not found"):
        validate(folder_cfg(tmp_path / "nosuch"))
    with pytest.raises(ConfigError, match=r"datasets\.mine\.fs: 200\.0 Hz, but .*256"):
        validate(folder_cfg(root, fs=200.0))
    (root / "manifest.json").unlink()
    with pytest.raises(ConfigError, match=r"datasets\.mine\.path: .*datasets manifest"):
        validate(folder_cfg(root))
    bad = folder_cfg(root)
    del bad["datasets"]["mine"]["lowpass"]
    with pytest.raises(ConfigError, match=r"datasets\.mine"):
        validate(bad)


def test_params_folder_inside_data_is_refused(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    make_folder(tmp_path / "data/mine")
    folders.write_folder_manifest(tmp_path / "data/mine", 256)
    with pytest.raises(ConfigError, match=r"datasets\.mine\.path: 'data/mine' lies inside data/"):
        validate(folder_cfg(Path("data/mine")))


def test_params_gan_needs_multiple_of_16(tmp_path: Path) -> None:
    root = tmp_path / "odd"
    for split in shards.SPLITS:
        for kind, value in (("clean", 1.0), ("mixed", 2.0)):
            shards.write_shard(root / split / kind / "s.npy", np.arange(4),
                               np.full((4, 40), value, np.float32))
    folders.write_folder_manifest(root, 256)
    with pytest.raises(ConfigError, match=r"models\.mine_l1\.dataset: .*multiple of 16.* 40"):
        validate(folder_cfg(root))


# --------------------------------------------------------------------------- the whole graph


@pytest.mark.slow
def test_folder_dataset_through_the_graph(tmp_path: Path) -> None:
    repo = copy_repo(tmp_path / "repo")
    tiny_params(repo)
    src = tmp_path / "recordings"
    write_recordings(src, {f"take{i}": (20.0, 256, 1) for i in range(6)})
    for i in range(6):  # a pause of 2 s (windows 5 and 6) in every take; the noise goes on
        clean, fs = sf.read(src / f"clean/take{i}.wav", dtype="float32")
        noisy, _ = sf.read(src / f"noisy/take{i}.wav", dtype="float32")
        noisy[5 * 256:7 * 256] -= clean[5 * 256:7 * 256]
        clean[5 * 256:7 * 256] = 0.0
        sf.write(src / f"clean/take{i}.wav", clean, fs, subtype="FLOAT")
        sf.write(src / f"noisy/take{i}.wav", noisy, fs, subtype="FLOAT")
    run(["denoisebench", "datasets", "import", str(src), "-o", "recordings/mine", "--window",
         "256", "--validation-fraction", "0.34"], repo)
    manifest = (repo / "recordings/mine/manifest.json").read_bytes()
    cfg = read_yaml(repo / "params.yaml")
    cfg["datasets"]["mine"] = {"kind": "folder", "path": "recordings/mine", "fs": 256,
                               "lowpass": dict(LOWPASS)}
    cfg["models"]["mine_l1"] = {"kind": "gan_l1", "dataset": "mine", "epochs": 1,
                                "batch_size": 40, "generator_lr": 1e-3, "lr_halving_epochs": 50,
                                "patience": 5, "shuffle_buffer": 100}
    (repo / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))

    # beside a generated dataset: generate jobs for multisine only; the user's folder is a source
    plan = run(["snakemake", "-n", "--cores", "2"], repo).stdout
    assert "generate_shard" in plan
    plan = run(["snakemake", "-n", "--cores", "2", "metrics/mine_l1.json"], repo).stdout
    assert "generate_shard" not in plan and "rule manifest" not in plan, plan
    assert "rule train" in plan and "rule evaluate" in plan
    run(["denoisebench", "export-dvc", "--output", "dvc-mine.yaml"], repo)
    stages = yaml.safe_load((repo / "dvc-mine.yaml").read_text())["stages"]
    assert "recordings/mine/manifest.json" in stages["train-mine_l1"]["deps"]
    assert "datasets.mine" in stages["train-mine_l1"]["params"]
    assert not [s for s in stages if "mine" in s and s.startswith(("generate", "manifest"))]

    run(["snakemake", "--cores", "2", "metrics/mine_l1.json"], repo)
    metrics = json.loads((repo / "metrics/mine_l1.json").read_text())
    assert list(metrics)[0] == "mine_l1" and "lowpass" in metrics  # model first, baselines
    assert metrics["mine_l1"]["n"] == 2 * 20  # 2 of 6 recordings, 20 windows each
    # the pauses are kept: the SNR means skip them (2 recordings x 2 windows), every method
    for method, m in metrics.items():
        if "snri_db_agg_ci" in m:
            assert m["snr_skipped"] == 4 and np.isfinite(m["snri_db_mean"]), method
    ex = pd.read_parquet(repo / "metrics/mine_l1/examples.parquet")
    mine = ex[ex["method"] == "mine_l1"]
    assert len(mine) == 40 and mine["snri_db"].isna().sum() == 4 and mine["mse"].notna().all()
    assert np.isclose(10 * np.log10(mine["noise_energy"].sum() / mine["error_energy"].sum()),
                      metrics["mine_l1"]["snri_db_agg"])  # the aggregate includes them
    meta = json.loads((repo / "models/mine_l1/metadata.json").read_text())
    assert meta["dataset"] == "mine" and meta["fs"] == 256 and meta["window"] == 256

    # the report of the folder model alone (no multisine training needed)
    only = {**cfg, "datasets": {"mine": cfg["datasets"]["mine"]},
            "models": {"mine_l1": cfg["models"]["mine_l1"]}}
    (repo / "params.yaml").write_text(yaml.safe_dump(only, sort_keys=False))
    run(["snakemake", "--cores", "2"], repo)
    html = (repo / "reports/index.html").read_text()
    assert "mine" in html and "mine_l1" in html and "folder" in html
    assert "40 validation examples, 4 with a silent clean signal" in html
    assert "Nothing to be done" in run(["snakemake", "-n", "--cores", "1"], repo).stdout
    # the user's files are untouched
    assert (repo / "recordings/mine/manifest.json").read_bytes() == manifest
    assert not (repo / "data/mine").exists()

    # denoise a recording with the model trained on the folder dataset
    wav = src / "noisy/take0.wav"
    run(["denoisebench", "denoise", "--model", "models/mine_l1", str(wav), "-o",
         str(tmp_path / "clean.wav")], repo)
    assert sf.info(str(tmp_path / "clean.wav")).frames == sf.info(str(wav)).frames


def test_printed_params_entry_validates(tmp_path: Path) -> None:
    from denoisebench.config import deep_merge

    root = tmp_path / "My Takes"
    make_folder(root)
    folders.write_folder_manifest(root, 256)
    entry = yaml.safe_load(importer.params_snippet(root))
    assert list(entry["datasets"]) == ["my_takes"] and list(entry["models"]) == ["my_takes_l1"]
    validate(deep_merge(read_yaml(REPO / "params.yaml"), entry))
