"""Seeds 002/003: MNIST-format sources, image datasets, autoencoders, image metrics, baselines,
evaluation and report section. Tiny fixtures only: never the real dataset."""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import params_with

from denoisebench import config as cfgmod
from denoisebench import models
from denoisebench.data import generate, image_sources, images
from denoisebench.data.shards import DatasetReader
from denoisebench.evaluation import image_baselines, image_metrics

REPO = Path(__file__).resolve().parents[3]
BASE = cfgmod.read_yaml(REPO / "params.yaml")


def fake_images(n: int, seed: int) -> np.ndarray:
    """``(n, 28, 28)`` uint8 blobs (smooth enough for filters to help)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    c = rng.uniform(8, 20, (n, 2, 1, 1))
    r = rng.uniform(4, 9, (n, 1, 1))
    img = (((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) <= r**2) * rng.uniform(0.5, 1, (n, 1, 1))
    return np.round(255 * img).astype(np.uint8)


def write_idx(path: Path, arr: np.ndarray, gz: bool = True) -> Path:
    """Write ``arr`` (uint8) as an IDX file (magic 0x0803 for 3-D)."""
    data = struct.pack(">BBBB", 0, 0, 0x08, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    data += arr.astype(np.uint8).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


@pytest.fixture
def sources(tmp_path: Path) -> dict[str, Any]:
    train, test = fake_images(24, 1), fake_images(10, 2)
    idx_dir = tmp_path / "idx"
    write_idx(idx_dir / "train-images-idx3-ubyte.gz", train)
    write_idx(idx_dir / "t10k-images-idx3-ubyte", test, gz=False)
    npz = tmp_path / "digits.npz"
    np.savez(npz, x_train=train, x_test=test)
    image_sources._load_cached.cache_clear()
    return {"train": train, "test": test, "idx": idx_dir, "npz": npz}


def test_idx_and_npz_sources(sources: dict[str, Any]) -> None:
    for src in (sources["idx"], sources["npz"]):
        tr = image_sources.load_images(str(src), "train", download=False)
        te = image_sources.load_images(str(src), "test", download=False)
        assert tr.shape == (24, 28, 28) and tr.dtype == np.float32
        np.testing.assert_array_equal(tr, sources["train"] / np.float32(255))
        np.testing.assert_array_equal(te, sources["test"] / np.float32(255))
        assert 0.0 <= tr.min() and tr.max() <= 1.0


def test_bad_files_are_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    write_idx(bad / "train-images-idx3-ubyte.gz", np.zeros((2, 27, 27), np.uint8))
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    image_sources._load_cached.cache_clear()
    with pytest.raises(image_sources.ImageSourceError, match=r"expected \(n, 28, 28\)"):
        image_sources.load_images(str(bad), "train", download=False)
    with pytest.raises(image_sources.ImageSourceError, match="t10k-images"):
        image_sources.load_images(str(bad), "test", download=False)
    with pytest.raises(image_sources.ImageSourceError, match="unreadable"):
        image_sources.load_images(str(tmp_path / "junk.npz"), "train", download=False)
    with pytest.raises(image_sources.ImageSourceError, match="no such file"):
        image_sources.load_images(str(tmp_path / "nowhere.npz"), "train", download=False)


def test_named_source_lookup_order_and_message(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setattr(image_sources, "SYSTEM_DIRS",
                        {"fashion_mnist": tmp_path / "sys" / "fm",
                         "mnist": tmp_path / "sys" / "mnist"})
    monkeypatch.setattr(image_sources, "keras_cache_dirs",
                        lambda: [tmp_path / "keras" / "datasets"])

    def offline(name: str) -> None:
        raise OSError("no network")

    monkeypatch.setattr(image_sources, "_keras_download", offline)
    image_sources._load_cached.cache_clear()
    with pytest.raises(image_sources.ImageSourceError) as info:
        image_sources.load_images("fashion_mnist", "train")
    msg = str(info.value)
    order = [msg.index(s) for s in ("Keras cache", "system folder", "Keras download")]
    assert order == sorted(order), msg
    assert "no network" in msg and "dataset-fashion-mnist" in msg and "source:" in msg

    # the system folder (Debian's layout: gzipped IDX) is found ...
    write_idx(tmp_path / "sys" / "fm" / "train-images-idx3-ubyte.gz", fake_images(3, 5))
    image_sources._load_cached.cache_clear()
    assert image_sources.load_images("fashion_mnist", "train").shape == (3, 28, 28)
    # ... but Keras' cache comes first; mnist is Keras' mnist.npz
    write_idx(tmp_path / "keras" / "datasets" / "fashion-mnist" / "train-images-idx3-ubyte.gz",
              fake_images(4, 6))
    np.savez(tmp_path / "keras" / "datasets" / "mnist.npz", x_train=fake_images(5, 7),
             x_test=fake_images(2, 8))
    image_sources._load_cached.cache_clear()
    assert image_sources.load_images("fashion_mnist", "train").shape == (4, 28, 28)
    assert image_sources.load_images("mnist", "test").shape == (2, 28, 28)
    image_sources._load_cached.cache_clear()


def dataset_params(kind: str, source: str, **extra: Any) -> dict[str, Any]:
    base = copy.deepcopy(BASE["datasets"][kind])
    base.update(source=source, train_size=12, validation_size=6, train_shards=2,
                validation_shards=1, **extra)
    return base


def make_dataset(root: Path, name: str, params: dict[str, Any], seed: int = 7) -> DatasetReader:
    for split in ("train", "validation"):
        for i in range(generate.n_shards(params, split)):
            generate.generate_shard(name, params, seed, split, i, root)
    generate.build_manifest(name, params, seed, root)
    return DatasetReader(root)


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.parquet"))}


def test_images_dataset_shards(sources: dict[str, Any], tmp_path: Path) -> None:
    params = dataset_params("images", str(sources["npz"]))
    reader = make_dataset(tmp_path / "a", "images", params)
    assert reader.shape == (28, 28) and reader.manifest["shape"] == [28, 28]
    clean, noise, mixed = (reader.read("train", k) for k in ("clean", "noise", "mixed"))
    np.testing.assert_array_equal(clean, sources["train"][:12] / np.float32(255))
    np.testing.assert_allclose(mixed, clean + noise, atol=1e-6)
    assert mixed.min() >= -1e-6 and mixed.max() <= 1 + 1e-6  # clipped
    assert 0.1 < float(np.std(noise)) < 0.2  # 0.2 N(0, 1), clipped
    np.testing.assert_array_equal(reader.read("validation", "clean"),
                                  sources["test"][:6] / np.float32(255))
    # byte-identical rerun; another seed differs
    make_dataset(tmp_path / "b", "images", params)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    make_dataset(tmp_path / "c", "images", params, seed=8)
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_images_blur_copies(sources: dict[str, Any], tmp_path: Path) -> None:
    params = dataset_params("images_blur", str(sources["idx"]), copies=3)
    reader = make_dataset(tmp_path / "blur", "images_blur", params)
    clean, mixed = reader.read("train", "clean"), reader.read("train", "mixed")
    expected = sources["train"][np.arange(12) // 3] / np.float32(255)
    np.testing.assert_array_equal(clean, expected)  # row k = copy k % 3 of image k // 3
    assert not np.allclose(mixed[0], mixed[1])  # copies get their own blur and noise
    assert mixed.min() < 0 or mixed.max() > 1  # uniform noise up to +-1.5, not clipped
    # a single step of the degradation: no blur and r = 0 leaves the image alone
    rng = np.random.default_rng(0)
    same = images.blur_and_noise(clean[:2], np.zeros(2), np.zeros(2), rng)
    np.testing.assert_array_equal(same, clean[:2])
    # too few source images for the rows asked for
    with pytest.raises(image_sources.ImageSourceError, match="has 10 images; the dataset needs 12"):
        images.generate_images(params, 4, rng, split="validation", offset=8, download=False)


BLUR_SIGMAS = [0.0, 1e-16, 1e-3, 0.1, 0.124, 0.125, 0.3, 0.5, 1.0, 1.3, 1.7, 1.999, 2.0, 3.0,
               7.5]  # 7.5: radius 30 > 28, the reflection wraps more than once


@pytest.mark.parametrize("block", [4, 256])
def test_gaussian_blur_matches_scipy(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy import ndimage

    monkeypatch.setattr(images, "BLUR_BLOCK_ROWS", block)
    rng = np.random.default_rng(3)
    sigma = rng.permutation(np.repeat(BLUR_SIGMAS, 3))
    x = rng.random((len(sigma), 28, 28), dtype=np.float32)
    got = images.gaussian_blur(x, sigma)
    assert got.shape == x.shape and got.dtype == np.float32
    for img, s, g in zip(x, sigma, got, strict=True):
        ref = ndimage.gaussian_filter(img, float(s)) if s > 0 else img  # seed 003's call
        np.testing.assert_allclose(g, ref, rtol=0, atol=1e-5, err_msg=f"sigma {s}")
        if s < 0.125:  # radius int(4 sigma + 0.5) = 0: the image itself
            np.testing.assert_array_equal(g, img)
    # non-square images: one matrix per axis
    y, s2 = rng.random((9, 20, 11), dtype=np.float32), rng.uniform(0, 4, 9)
    for img, s, g in zip(y, s2, images.gaussian_blur(y, s2), strict=True):
        np.testing.assert_allclose(g, ndimage.gaussian_filter(img, float(s)), rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="expected"):
        images.gaussian_blur(x, sigma[:-1])


def test_blur_and_noise_draws_as_one_uniform_array(monkeypatch: pytest.MonkeyPatch) -> None:
    """The noise is drawn block by block, yet equals seed 003's recipe with one
    ``uniform(-1, 1, shape)`` draw: same numbers, so datasets keep their bytes."""
    from scipy import ndimage

    monkeypatch.setattr(images, "BLUR_BLOCK_ROWS", 5)
    rng = np.random.default_rng(4)
    clean = rng.random((13, 28, 28), dtype=np.float32)
    sigma, r = rng.uniform(0, 2, 13), rng.uniform(0.01, 1.5, 13)
    got = images.blur_and_noise(clean, sigma, r, np.random.default_rng(9))
    ref_rng = np.random.default_rng(9)
    ref = np.stack([ndimage.gaussian_filter(c, float(s))
                    for c, s in zip(clean, sigma, strict=True)])
    ref += ref_rng.uniform(-1.0, 1.0, size=clean.shape).astype(np.float32) * r.astype(
        np.float32)[:, None, None]
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-5)
    # without blur the result is bit for bit the seed's clean + uniform(-1, 1) * r
    unblurred = images.blur_and_noise(clean, np.zeros(13), r, np.random.default_rng(9))
    noise = np.random.default_rng(9).uniform(-1.0, 1.0, size=clean.shape).astype(np.float32)
    np.testing.assert_array_equal(unblurred, clean + noise * r.astype(np.float32)[:, None, None])


def with_change(path: str, value: Any) -> dict[str, Any]:
    return params_with(path, value)


@pytest.mark.parametrize(("path", "value", "named"), [
    ("datasets.images.noise_std", -0.1, "datasets.images.noise_std"),
    ("datasets.images.source", "", "datasets.images.source"),
    ("datasets.images.train_size", 60_001, "datasets.images.train_size"),
    ("datasets.images.validation_size", 10_001, "datasets.images.validation_size"),
    ("datasets.images_blur.blur_sigma_min", 3.0, "datasets.images_blur.blur_sigma_min"),
    ("datasets.images_blur.noise_range_min", 2.0, "datasets.images_blur.noise_range_min"),
    ("datasets.images_blur.copies", 0, "datasets.images_blur.copies"),
    ("datasets.images_blur.train_size", 240_001, "datasets.images_blur.train_size"),
    ("models.conv2d_ae.optimizer", "sgd", "models.conv2d_ae.optimizer"),
    ("models.conv2d_ae.learning_rate", 0, "models.conv2d_ae.learning_rate"),
    ("models.dense_ae.colour", "red", "models.dense_ae"),
    ("models.conv2d_ae_blur.dataset", "images", "models.conv2d_ae_blur.dataset"),
    ("models.dense_ae.dataset", "multisine", "models.dense_ae.dataset"),
])
def test_image_params_rejected(path: str, value: Any, named: str) -> None:
    with pytest.raises(cfgmod.ConfigError) as info:
        cfgmod.validate(with_change(path, value))
    assert named in str(info.value), str(info.value)


def test_default_and_overlay_params_valid() -> None:
    for overlay in ("tiny.yaml", "seed_scale.yaml"):
        cfg = cfgmod.load([REPO / "params.yaml", REPO / "configs" / overlay])
        assert {"dense_ae", "conv2d_ae", "conv2d_ae_blur"} <= set(cfg["models"])
    # copies raise what a named source can give
    cfgmod.validate(with_change("datasets.images_blur.train_size", 240_000))


def test_image_metrics_match_skimage() -> None:
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    rng = np.random.default_rng(0)
    clean = fake_images(4, 3) / 255.0
    est = np.clip(clean + 0.1 * rng.standard_normal(clean.shape), 0, 1)
    np.testing.assert_allclose(image_metrics.ssim(clean, est),
                               [structural_similarity(a, b, data_range=1.0)
                                for a, b in zip(clean, est, strict=True)], atol=1e-12)
    np.testing.assert_allclose(image_metrics.psnr_db(clean, est),
                               [peak_signal_noise_ratio(a, b, data_range=1.0)
                                for a, b in zip(clean, est, strict=True)], atol=1e-9)
    assert image_metrics.psnr_db(clean, clean)[0] == pytest.approx(200.0)
    s = image_metrics.summarize(image_metrics.per_image(clean, est), resamples=200)
    assert set(s) == {"n", "psnr_db", "psnr_db_ci", "ssim", "ssim_ci", "mse", "mse_ci", "mae",
                      "mae_ci"}
    assert s["psnr_db_ci"][0] <= s["psnr_db"] <= s["psnr_db_ci"][1]
    with pytest.raises(ValueError, match="differ in shape"):
        image_metrics.psnr_db(clean, est[:2])


def test_baselines_tuned_on_training_images() -> None:
    rng = np.random.default_rng(1)
    clean = fake_images(12, 4).astype(np.float64) / 255.0
    mixed = np.clip(clean + 0.2 * rng.standard_normal(clean.shape), 0, 1)
    tuned = image_baselines.tune(clean[:6], mixed[:6])
    assert list(tuned) == ["gaussian", "median", "nl_means", "wavelet", "tv"]
    for b in image_baselines.BASELINES:
        assert tuned[b.name]["settings"] in b.grid
        assert len(tuned[b.name]["grid"]) == len(b.grid)
    out = image_baselines.run(mixed[6:], tuned)
    noisy = image_metrics.psnr_db(clean[6:], mixed[6:]).mean()
    for name, (est, _settings) in out.items():
        assert est.shape == mixed[6:].shape and est.min() >= 0 and est.max() <= 1
        assert image_metrics.psnr_db(clean[6:], est).mean() > noisy, name
    with pytest.raises(ValueError, match="non-empty"):
        image_baselines.tune(clean[:0], mixed[:0])


def test_autoencoder_parameter_counts_and_shapes() -> None:
    dense = models.build("dense_ae")
    conv = models.build("conv2d_ae")
    assert models.count_trainable(dense) == 50_992 == models.REGISTRY["dense_ae"].seed_params
    assert models.count_trainable(conv) == 4_385 == models.REGISTRY["conv2d_ae_blur"].seed_params
    assert conv.predict(np.zeros((2, 28, 28, 1), np.float32), verbose=0).shape == (2, 28, 28, 1)
    spec = models.spec("dense_ae")
    x, y = spec.transform(np.zeros((3, 28, 28), np.float32), np.ones((3, 28, 28), np.float32))
    assert x.shape == y.shape == (3, 784) and spec.model_input_shape((28, 28)) == [784]
    assert models.spec("conv2d_ae").model_input_shape((28, 28)) == [28, 28, 1]
    with pytest.raises(ValueError, match="28x28"):
        models.build("conv2d_ae", shape=(32, 32))
    from denoisebench.models.dense import make_optimizer

    assert type(make_optimizer({"optimizer": "adadelta", "learning_rate": 1.0})).__name__ \
        == "Adadelta"


def test_image_evaluation_and_report(sources: dict[str, Any], tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from denoisebench import evaluation, inference, report

    # without the optional bm3d rows (tests/unit/evaluation/test_bm3d.py has them)
    monkeypatch.setitem(sys.modules, "bm3d", None)

    params = dataset_params("images", str(sources["npz"]))
    params.update(train_size=20, validation_size=8)
    make_dataset(tmp_path / "data" / "images", "images", params)
    cfg = copy.deepcopy(BASE)
    cfg["datasets"] = {"images": params}
    cfg["models"] = {"conv2d_ae": BASE["models"]["conv2d_ae"]}
    cfg["evaluation"].update(bootstrap=100, panels=3)
    cfg = cfgmod.validate(cfg)
    model = models.build("conv2d_ae")
    meta = {"input_shape": [28, 28], "model_input_shape": [28, 28, 1], "scaling": {"kind": "none"},
            "trainable_params": 4385, "seed_params": 4385, "source": "test", "train_examples": 0}
    inference.save(model, tmp_path / "models" / "conv2d_ae", meta)

    result = evaluation.evaluate(cfg, "conv2d_ae", data_dir=tmp_path / "data",
                                 model_dir=tmp_path / "models" / "conv2d_ae",
                                 out_dir=tmp_path / "metrics")
    assert list(result) == ["conv2d_ae", "gaussian", "median", "nl_means", "wavelet", "tv",
                            "noisy"]
    saved = json.loads((tmp_path / "metrics" / "conv2d_ae.json").read_text())
    assert saved == json.loads(json.dumps(result))
    for s in saved.values():
        assert s["n"] == 8 and s["psnr_db_ci"][0] <= s["psnr_db"] <= s["psnr_db_ci"][1]
        assert {"ssim", "ssim_ci", "mse_ci", "mae_ci"} <= set(s)
    assert saved["conv2d_ae"]["params"] == 4385 and "sigma" in saved["gaussian"]
    with np.load(tmp_path / "metrics" / "conv2d_ae" / "panels.npz") as z:
        assert z["clean"].shape == (3, 28, 28) and z["est_tv"].shape == (3, 28, 28)
    with np.load(tmp_path / "metrics" / "conv2d_ae" / "robustness.npz") as z:
        assert z["inputs"].shape == z["outputs"].shape == (6, 28, 28)
        np.testing.assert_allclose(z["sigma"], 0.5 * np.arange(6))
        np.testing.assert_allclose(z["r"], 0.2 * np.arange(6))
        np.testing.assert_array_equal(z["inputs"][0], z["clean"])  # step 0: untouched
    import pandas as pd

    ex = pd.read_parquet(tmp_path / "metrics" / "conv2d_ae" / "examples.parquet")
    assert len(ex) == 7 * 8 and {"psnr_db", "ssim", "mse", "mae"} <= set(ex.columns)

    html_path = report.render(cfg, tmp_path / "metrics", tmp_path / "models",
                              tmp_path / "reports")
    html = html_path.read_text()
    assert "PSNR (dB)" in html and "best filter" not in html.split("<h2>")[0]
    for png in ("images_metrics.png", "images_grid.png", "images_robustness.png"):
        assert (tmp_path / "reports" / "figures" / png).stat().st_size > 1000
        assert f"figures/{png}" in html
