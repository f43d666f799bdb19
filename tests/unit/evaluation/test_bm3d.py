"""BM3D and the BM3D-deblurring oracle (docs/judging.md "BM3D"): hand cases, the tuning, the
replayed blur, and the image evaluation with and without the optional ``bm3d`` package.

BM3D costs ~0.4 s per call whatever the image size, so every case here runs on a handful of
images (the evaluation cases shrink the tuning to one image)."""

from __future__ import annotations

import copy
import json
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage

from denoisebench import config as cfgmod
from denoisebench import evaluation
from denoisebench.data import generate, image_sources
from denoisebench.data.shards import DatasetReader
from denoisebench.evaluation import bm3d_methods, image_truth
from denoisebench.evaluation.image_metrics import psnr_db

REPO = Path(__file__).resolve().parents[3]
BASE = cfgmod.read_yaml(REPO / "params.yaml")
needs_bm3d = pytest.mark.skipif(not bm3d_methods.available(),
                                reason="optional bm3d package not installed")


def blobs(n: int, seed: int) -> np.ndarray:
    """``(n, 28, 28)`` smooth blobs on a grey background, float64 in [0.3, 0.7]."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:28, 0:28]
    c = rng.uniform(8, 20, (n, 2, 1, 1))
    r = rng.uniform(3, 7, (n, 1, 1))
    return 0.3 + 0.4 * np.exp(-((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) / (2 * r**2))


# --------------------------------------------------------------------------- hand cases


@needs_bm3d
def test_constant_image_comes_back_constant() -> None:
    """A constant image plus N(0, 0.05) comes back flat: measured 29.5 dB gain and 0.0016
    std at the true sigma; 0.9 dB at sigma 0.02 (too weak to remove the noise)."""
    rng = np.random.default_rng(0)
    const = np.full((1, 28, 28), 0.5)
    noisy = const + 0.05 * rng.standard_normal(const.shape)
    out = bm3d_methods.denoise(noisy, 0.05)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert float(np.std(out)) < 0.01 and abs(float(np.mean(out)) - 0.5) < 0.01
    gain = float(psnr_db(const, out)[0] - psnr_db(const, noisy)[0])
    assert gain > 15.0, gain
    weak = bm3d_methods.denoise(noisy, 0.02)
    assert float(psnr_db(const, weak)[0] - psnr_db(const, noisy)[0]) < 5.0


@needs_bm3d
def test_sigma_tuning_finds_the_noise_level() -> None:
    """On smooth images plus N(0, 0.2) the tuned noise level lands near 0.2 (measured 0.23),
    whichever family wins, and beats a level four times too small by far (29.1 against
    15.6 dB)."""
    clean = blobs(1, 3)
    mixed = clean + 0.2 * np.random.default_rng(4).standard_normal(clean.shape)
    tuned = bm3d_methods.tune(clean, mixed)
    used = bm3d_methods.sigmas(mixed, tuned["settings"])
    assert ((0.15 <= used) & (used <= 0.3)).all(), tuned["grid"]
    assert tuned["train_psnr_db"] == max(score for _, score in tuned["grid"])
    low = float(np.mean(psnr_db(clean, bm3d_methods.denoise(mixed, 0.05))))
    assert tuned["train_psnr_db"] > low + 5.0
    assert tuned["evaluations"] == len(tuned["grid"]) <= 40
    assert {next(iter(g)) for g, _ in tuned["grid"]} == {"sigma_psd", "sigma_scale"}


@needs_bm3d
def test_noise_that_varies_between_images_gets_a_scaled_estimate() -> None:
    """One image at noise 0.02, one at 0.3: no single sigma_psd suits both, a scale of each
    image's estimated noise does (as on images_blur, where r ~ U(0.01, 1.5): measured 9.9 dB
    with the best single level tuned on 6 images, 15.3 dB with the scale)."""
    clean = blobs(2, 8)
    mixed = clean + np.array([0.02, 0.3])[:, None, None] * np.random.default_rng(9).standard_normal(
        clean.shape)
    tuned = bm3d_methods.tune(clean, mixed, xatol=0.3)
    assert set(tuned["settings"]) == {"sigma_scale"}, tuned["grid"]
    best_fixed = max(score for g, score in tuned["grid"] if "sigma_psd" in g)
    assert tuned["train_psnr_db"] > best_fixed + 0.5
    used = bm3d_methods.sigmas(mixed, tuned["settings"])
    assert used[0] < 0.1 < 0.15 < used[1]
    np.testing.assert_array_equal(bm3d_methods.run(mixed, tuned["settings"]),
                                  bm3d_methods.denoise(mixed, used))


def test_gaussian_psf_is_the_generators_blur() -> None:
    psf = bm3d_methods.gaussian_psf(1.2)
    assert psf.shape == (11, 11) and psf.sum() == pytest.approx(1.0)
    img = np.zeros((28, 28))
    img[14, 14] = 1.0
    blurred = ndimage.gaussian_filter(img, 1.2)
    np.testing.assert_allclose(blurred[9:20, 9:20], psf, atol=1e-12)
    assert bm3d_methods.gaussian_psf(0.0).shape == (1, 1)


@needs_bm3d
def test_deblurring_oracle_beats_denoising() -> None:
    """Knowing the blur pays: on sharp-edged disks blurred with sigma 1.5 plus N(0, 0.01) the
    oracle deconvolves what plain BM3D can only smooth (measured 21.9 against 19.9 dB)."""
    from denoisebench.data.images import gaussian_blur

    rng = np.random.default_rng(5)
    yy, xx = np.mgrid[0:28, 0:28]
    c, r = rng.uniform(10, 18, (2, 2, 1, 1)), rng.uniform(5, 8, (2, 1, 1))
    clean = 0.8 * (((yy - c[:, 0]) ** 2 + (xx - c[:, 1]) ** 2) <= r**2)
    sigma = np.array([1.5, 1.5])
    mixed = gaussian_blur(clean.astype(np.float32), sigma) + 0.01 * rng.standard_normal(
        clean.shape)
    oracle = bm3d_methods.deblur_oracle(mixed, sigma, np.array([0.01, 0.01]))
    plain = bm3d_methods.denoise(mixed, 0.01)
    assert float(np.mean(psnr_db(clean, oracle))) > float(np.mean(psnr_db(clean, plain))) + 1.0


@needs_bm3d
def test_deblurring_oracle_handles_the_borders() -> None:
    """The data's blur reflects at the borders, the package's model wraps around: on stripes
    that fill the image the oracle must still deblur (measured 23.3 dB against the input's
    17.7; 4.8 dB without the symmetric extension)."""
    from denoisebench.data.images import gaussian_blur

    yy, xx = np.mgrid[0:28, 0:28]
    stripes = (0.2 + 0.6 * ((xx // 5) % 2) * (yy < 20)).astype(np.float32)
    clean = np.stack([stripes, stripes[:, ::-1]])
    sigma = np.array([1.5, 1.5])
    mixed = gaussian_blur(clean, sigma) + 0.005 * np.random.default_rng(7).standard_normal(
        clean.shape)
    oracle = bm3d_methods.deblur_oracle(mixed, sigma, np.array([0.005, 0.005]))
    assert (psnr_db(clean, oracle) > psnr_db(clean, mixed) + 4.0).all()
    with pytest.raises(ValueError, match="blur sigmas"):
        bm3d_methods.deblur_oracle(mixed, sigma[:1], sigma)


# --------------------------------------------------------------------------- the evaluation


def fake_source(path: Path) -> Path:
    """An .npz image source (x_train, x_test uint8) of smooth blobs."""
    train, test = (np.round(255 * blobs(n, s)).astype(np.uint8) for n, s in ((12, 1), (8, 2)))
    np.savez(path, x_train=train, x_test=test)
    image_sources._load_cached.cache_clear()
    return path


def blur_dataset(tmp_path: Path, **extra: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(cfg, dataset params)`` with a generated 12/8-image ``images_blur`` dataset."""
    ds = copy.deepcopy(BASE["datasets"]["images_blur"])
    ds.update(source=str(fake_source(tmp_path / "src.npz")), train_size=12, validation_size=8,
              train_shards=1, validation_shards=1, copies=1, noise_range_max=0.2, **extra)
    root = generate.dataset_root("images_blur", tmp_path / "data")
    for split in ("train", "validation"):
        generate.generate_shard("images_blur", ds, 7, split, 0, root)
    generate.build_manifest("images_blur", ds, 7, root)
    cfg = copy.deepcopy(BASE)
    cfg.update(seed=7, datasets={"images_blur": ds},
               models={"net": {**BASE["models"]["conv2d_ae_blur"], "dataset": "images_blur"}})
    cfg["evaluation"].update(bootstrap=100, panels=2, tune_examples=12, bm3d_examples=3)
    return cfgmod.validate(cfg), ds


def test_true_blur_is_replayed(tmp_path: Path) -> None:
    cfg, ds = blur_dataset(tmp_path)
    reader = DatasetReader(tmp_path / "data" / "images_blur")
    sigma, r = image_truth.true_degradation("images_blur", ds, 7, reader)
    assert sigma.shape == r.shape == (8,)
    assert ((0 <= sigma) & (sigma <= 2)).all() and ((0.01 <= r) & (r <= 0.2)).all()
    # what is left after the replayed blur is the uniform noise on [-r, r] of each image
    from denoisebench.data.images import gaussian_blur

    rest = reader.read("validation", "mixed") - gaussian_blur(reader.read("validation", "clean"),
                                                              sigma)
    peak = np.abs(rest).max(axis=(1, 2))
    assert ((peak <= r + 1e-5) & (peak >= 0.9 * r)).all(), (peak, r)
    # another seed, or params changed since generation: no truth
    assert image_truth.true_degradation("images_blur", ds, 8, reader) is None
    assert image_truth.true_degradation("images_blur", {**ds, "noise_range_max": 0.3}, 7,
                                        reader) is None
    assert image_truth.true_degradation("images", ds | {"kind": "images"}, 7, reader) is None
    assert image_truth.noise_std(np.array([np.sqrt(3.0)]))[0] == pytest.approx(1.0)


class StubDenoiser:
    """Stands in for :class:`denoisebench.inference.Denoiser`: a Gaussian filter."""

    def __init__(self, folder: Any, batch_size: int = 1024) -> None:
        self.metadata = {"trainable_params": 4385, "seed_params": 4385}

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return ndimage.gaussian_filter(np.asarray(x, np.float32), (0, 0.8, 0.8))


def run_evaluation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    import denoisebench.inference as inference

    cfg, _ = blur_dataset(tmp_path)
    monkeypatch.setattr(inference, "Denoiser", StubDenoiser)
    monkeypatch.setattr(bm3d_methods, "TUNE_IMAGES", 1)  # the wiring, not the tuning
    monkeypatch.setattr(bm3d_methods, "SEARCH", {"sigma_psd": (0.05, 0.2)})
    return evaluation.evaluate(cfg, "net", data_dir=tmp_path / "data",
                               out_dir=tmp_path / "metrics")


@needs_bm3d
def test_evaluation_judges_bm3d_on_the_subset(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_evaluation(tmp_path, monkeypatch)
    assert list(result)[-2:] == ["bm3d", "bm3d_deblurring"]
    assert result["gaussian"]["n"] == 8 and result["net"]["n"] == 8
    for m in ("bm3d", "bm3d_deblurring"):
        s = result[m]
        assert s["n"] == 3 and s["validation_images"] == 8
        assert s["psnr_db_ci"][0] <= s["psnr_db"] <= s["psnr_db_ci"][1]
        lo, hi = s["psnr_db_minus_model_ci"]
        assert lo <= s["psnr_db_minus_model"] <= hi
        assert s["psnr_db_minus_model"] == pytest.approx(s["psnr_db"]
                                                         - s["model_psnr_db_same_images"])
    assert result["bm3d"]["tuned_params"] == 2 and result["bm3d"]["tuned_on_train_images"] == 1
    assert len({"sigma_psd", "sigma_scale"} & set(result["bm3d"])) == 1
    ex = pd.read_parquet(tmp_path / "metrics/net/examples.parquet")
    subset = ex[ex["method"] == "bm3d"]["id"].tolist()
    assert subset == [0, 4, 7]  # evenly spread over the 8 validation images
    assert len(ex[ex["method"] == "gaussian"]) == 8
    cost = json.loads((tmp_path / "metrics/net/cost.json").read_text())["methods"]
    assert cost["bm3d"]["examples"] == 3 and cost["gaussian"]["examples"] == 8
    assert cost["bm3d"]["infer_s_per_1000"] > 0 and "noisy" not in cost


def test_evaluation_without_bm3d(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 caplog: pytest.LogCaptureFixture) -> None:
    """Without the optional package: no bm3d rows, a logged notice, no crash."""
    monkeypatch.setitem(sys.modules, "bm3d", None)  # import bm3d raises ImportError
    assert not bm3d_methods.available()
    with caplog.at_level(logging.WARNING):
        result = run_evaluation(tmp_path, monkeypatch)
    assert list(result) == ["net", "gaussian", "median", "nl_means", "wavelet", "tv", "noisy"]
    assert any("bm3d" in r.getMessage() and "not installed" in r.getMessage()
               for r in caplog.records)
    cost = json.loads((tmp_path / "metrics/net/cost.json").read_text())["methods"]
    assert list(cost) == ["net", "gaussian", "median", "nl_means", "wavelet", "tv"]
    with pytest.raises(ImportError, match="bm3d"):
        bm3d_methods.denoise(np.zeros((1, 28, 28)), 0.1)
