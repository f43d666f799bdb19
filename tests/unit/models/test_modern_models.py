"""Issue 15's modern denoisers (models/resnet.py, models/unet.py, models/spectral.py,
models/modern.py): parameter counts, receptive fields (analytic and measured by gradients),
shapes, safe loading, the fresh-noise transform, the params checks, and a short training that
beats the identity."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import pytest

from denoisebench import models
from denoisebench.config import ConfigError, read_yaml, validate
from denoisebench.models import modern

BASE = read_yaml(Path(__file__).resolve().parents[3] / "params.yaml")


def measured_receptive_field(model, shape: tuple[int, ...]) -> int:
    """Samples (along axis 0 of ``shape``) that the output at the centre depends on: the span
    of the nonzero gradient of that output with respect to the input. Random weights and
    biases (a positive bias keeps the ReLUs open) so that no tap is zero by chance."""
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(0)
    for w in model.weights:
        if w.trainable:
            w.assign(rng.uniform(0.05, 0.15, w.shape).astype("float32"))
    x = tf.constant(rng.uniform(0.5, 1.0, (1, *shape, 1)).astype("float32"))
    centre = tuple(s // 2 for s in shape)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=False)
        # the body's output only: the residual Subtract adds the identity at the centre
        target = y[(0, *centre, 0)] - x[(0, *centre, 0)]
    g = np.abs(tape.gradient(target, x).numpy()[0, ..., 0])
    line = g if g.ndim == 1 else g[:, centre[1]]
    nz = np.flatnonzero(line > 0)
    del keras
    return int(nz[-1] - nz[0] + 1)


# --------------------------------------------------------------------------- parameter counts
@pytest.mark.parametrize(("width", "depth", "k"), [(32, 8, 3), (16, 10, 5), (64, 8, 3)])
def test_dncnn1d_params_and_receptive_field(width: int, depth: int, k: int) -> None:
    from denoisebench.models.resnet import dncnn1d_params, receptive_field_1d

    m = models.build("dncnn1d", length=256, width=width, depth=depth, kernel_size=k)
    assert models.count_trainable(m) == dncnn1d_params(width, depth, k)
    rf = receptive_field_1d(256, depth, k)
    assert measured_receptive_field(m, (256,)) == min(rf, 256)  # measured inside the window
    assert rf >= 2 * 256 - 1  # every output sample sees the whole window


def test_dncnn1d_default_counts() -> None:
    # width 32, depth 8, kernel 3 on multisine's 256 samples
    m = models.build("dncnn1d", length=256, width=32, depth=8, kernel_size=3)
    assert models.count_trainable(m) == 25_057
    assert modern.dncnn1d_dilations(256, 8, 3) == [1, 2, 4, 8, 16, 32, 64, 128]
    assert modern.dncnn1d_receptive_field([1, 2, 4, 8, 16, 32, 64, 128], 3) == 515
    assert modern.dilation_levels(150, 3) == 8 and modern.dilation_levels(100, 3) == 7
    # deeper than the levels needed: the dilations cycle
    assert modern.dncnn1d_dilations(100, 9, 3) == [1, 2, 4, 8, 16, 32, 64, 1, 2]


def test_dncnn2d_paper_setting() -> None:
    from denoisebench.models.resnet import dncnn2d_params

    m = models.build("dncnn2d", width=64, depth=17)
    assert models.count_trainable(m) == dncnn2d_params(64, 17) == 556_097
    small = models.build("dncnn2d", width=16, depth=6, batch_norm=False)
    assert models.count_trainable(small) == dncnn2d_params(16, 6, False)
    assert measured_receptive_field(small, (28, 28)) == 2 * 6 + 1


@pytest.mark.parametrize(("length", "depth", "k"), [(256, 4, 9), (256, 5, 5), (150, 4, 9),
                                                     (100, 3, 7)])
def test_unet1d_shapes_and_receptive_field(length: int, depth: int, k: int) -> None:
    m = models.build("unet1d", length=length, width=8, depth=depth, kernel_size=k)
    y = m.predict(np.zeros((2, length, 1), np.float32), verbose=0)
    assert y.shape == (2, length, 1)
    bound = modern.unet_receptive_field(depth, k)
    measured = measured_receptive_field(m, (length,))
    assert measured <= min(bound, length)
    # the bound is tight up to the stride-2 taps' alignment (a few samples per level)
    assert measured >= min(bound - 2 ** (depth + 1), length)


def test_unet1d_param_count() -> None:
    # level i: width (i + 1) channels; counted by hand for width 16, depth 4, kernel 9
    w, k, d = 16, 9, 4
    expected, c_in = 0, 1
    for i in range(d):
        f = w * (i + 1)
        expected += k * c_in * f + f  # encoder conv
        expected += k * f * f + f  # strided conv
        c_in = f
    mid = w * (d + 1)
    expected += k * c_in * mid + mid
    c_in = mid
    for i in reversed(range(d)):
        f = w * (i + 1)
        expected += k * c_in * f + f  # transposed conv
        expected += k * (2 * f) * f + f  # conv after the skip concatenation
        c_in = f
    expected += (c_in + 1) * 1 + 1  # head on [decoder, input]
    m = models.build("unet1d", length=256, width=w, depth=d, kernel_size=k)
    assert models.count_trainable(m) == expected == 392_562


def test_unet2d_shapes_params_and_padding() -> None:
    m = models.build("unet2d", width=16, depth=2)
    assert models.count_trainable(m) == 175_730
    assert m.predict(np.zeros((1, 28, 28, 1), np.float32), verbose=0).shape == (1, 28, 28, 1)
    odd = models.build("unet2d", shape=(30, 26), width=4, depth=3)  # padded to 32 x 32
    assert odd.predict(np.zeros((1, 30, 26, 1), np.float32), verbose=0).shape == (1, 30, 26, 1)
    assert modern.unet_padding(30, 3) == (1, 1) and modern.unet_padding(26, 3) == (3, 3)
    small = models.build("unet2d", width=4, depth=2, convs_per_level=1)
    assert (measured_receptive_field(small, (28, 28))
            <= modern.unet_receptive_field(2, 3, convs_per_level=1))


def test_spectral1d_params_dft_layers_and_receptive_field() -> None:
    """Parameter count by hand; the DFT layers invert each other at any oversampling and keep
    white noise's power per bin; one output bin sees the analytic number of input bins."""
    import keras
    import tensorflow as tf

    from denoisebench.models import spectral

    m = models.build("spectral1d", length=256, width=24, depth=6, kernel_size=5, oversample=4)
    # stem 2*5*24 + 24, body 6 x (5*24*24 + 24), 1-tap head 24*2 + 2
    assert models.count_trainable(m) == 264 + 6 * 2904 + 50 == 17_738
    assert spectral.spectral1d_params(24, 6, 5) == 17_738
    assert m.get_layer("spectrum").output.shape == (None, 513, 2)
    assert spectral.spectral_dilations(6) == [1, 2, 4, 8, 1, 2]

    x = np.random.default_rng(0).standard_normal((64, 150, 1)).astype("float32")
    for oversample in (1, 3):
        n_fft = 150 * oversample
        z = spectral.Spectrum(n_fft)(x)
        back = spectral.InverseSpectrum(n_fft, 150)(z)
        np.testing.assert_allclose(np.asarray(back), x, atol=1e-4)
    power = np.mean(np.sum(np.square(np.asarray(spectral.Spectrum(150)(x))), -1)[:, 1:-1])
    assert abs(power - 1.0) < 0.05  # unit-variance noise: unit power per bin

    body = keras.Model(m.get_layer("spectrum").output, m.get_layer("noise").output)
    rng = np.random.default_rng(0)
    for w in body.weights:
        w.assign(rng.uniform(0.05, 0.15, w.shape).astype("float32"))
    z = tf.constant(rng.uniform(0.5, 1.0, (1, 513, 2)).astype("float32"))
    with tf.GradientTape() as tape:
        tape.watch(z)
        target = body(z)[0, 256, 0]
    g = np.abs(tape.gradient(target, z).numpy()[0]).sum(-1)
    nz = np.flatnonzero(g > 0)
    assert nz[-1] - nz[0] + 1 == spectral.spectral_receptive_field(6, 5) == 1 + 4 * 19


def test_builders_reject_bad_sizes() -> None:
    with pytest.raises(ValueError, match="odd kernel_size"):
        models.build("dncnn1d", length=256, kernel_size=4)
    with pytest.raises(ValueError, match="odd kernel_size"):
        models.build("unet1d", length=256, kernel_size=8)
    with pytest.raises(ValueError, match="odd kernel_size"):
        models.build("spectral1d", length=256, kernel_size=4)
    with pytest.raises(ValueError, match="positive sizes"):
        models.build("spectral1d", length=256, oversample=0)
    with pytest.raises(ValueError, match="depth >= 2"):
        models.build("dncnn2d", depth=1)
    with pytest.raises(ValueError, match="2-D shape"):
        models.build("unet2d", shape=(28,))


# --------------------------------------------------------------------------- residual, loading
def test_residual_output_starts_at_identity_and_loads_safely(tmp_path: Path) -> None:
    """Zero weights in the noise head: the output is the input (residual learning); every new
    kind saves and loads with ``safe_mode=True`` and predicts the same."""
    import keras

    x1 = np.random.default_rng(1).standard_normal((2, 150, 1)).astype("float32")
    x2 = np.random.default_rng(2).uniform(0, 1, (2, 28, 28, 1)).astype("float32")
    for kind, kw, x in [("dncnn1d", {"length": 150, "width": 8, "depth": 8}, x1),
                        ("unet1d", {"length": 150, "width": 8, "depth": 3}, x1),
                        ("spectral1d", {"length": 150, "width": 8, "depth": 3,
                                        "oversample": 3}, x1),
                        ("dncnn2d", {"width": 8, "depth": 4}, x2),
                        ("unet2d", {"width": 4, "depth": 2}, x2)]:
        m = models.build(kind, **kw)
        head = m.get_layer("noise")
        saved = [w.numpy() for w in head.weights]
        for w in head.weights:
            w.assign(np.zeros(w.shape, "float32"))
        np.testing.assert_allclose(m.predict(x, verbose=0), x, atol=1e-6)
        for w, v in zip(head.weights, saved, strict=True):
            w.assign(v)
        path = tmp_path / f"{kind}.keras"
        m.save(path)
        back = keras.saving.load_model(path, compile=False, safe_mode=True)
        np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0),
                                   atol=1e-5)


# --------------------------------------------------------------------------- fresh noise
def test_fresh_noise_follows_each_dataset_law() -> None:
    rng = np.random.default_rng(0)
    clean = (0.5 * np.sin(np.linspace(0, 40, 256)) * np.ones((400, 1))).astype("float32")
    noisy = modern.redraw_noise("multisine", {"snr_db": -2.0}, clean, clean, rng)
    snr = 10 * np.log10(np.sum(clean**2, 1) / np.sum((noisy - clean) ** 2, 1))
    np.testing.assert_allclose(snr, -2.0, atol=1e-3)
    quad = modern.redraw_noise("quadratic", {"noise_std": 0.05}, clean, clean, rng)
    assert abs(np.std(quad - clean) - 0.05) < 1e-3
    sine_clean = clean.copy()
    sine_clean[0, :5] = np.nan  # missing targets keep the shards' mixture
    mixed = np.full_like(clean, 7.0)
    sine = modern.redraw_noise("sine", {"noise_amplitude": 0.35}, mixed, sine_clean, rng)
    assert np.all(sine[0, :5] == 7.0)
    u = (sine - sine_clean)[1:]
    assert np.max(np.abs(u)) <= 0.35 + 1e-6 and abs(np.var(u) - 0.35**2 / 3) < 2e-3
    img = rng.uniform(0, 1, (64, 28, 28)).astype("float32")
    noisy_img = modern.redraw_noise("images", {"noise_std": 0.2, "clip": True}, img, img, rng)
    assert noisy_img.min() >= 0 and noisy_img.max() <= 1
    blur = modern.redraw_noise("images_blur", {"blur_sigma_min": 0.0, "blur_sigma_max": 2.0,
                                               "noise_range_min": 0.01, "noise_range_max": 1.5,
                                               "clip": False}, img, img, rng)
    assert blur.shape == img.shape and not np.allclose(blur, img)
    rec_noise = rng.standard_normal(clean.shape).astype("float32")
    remix = modern.redraw_noise("folder", {}, clean + rec_noise, clean, rng)
    # the same noise rows, paired with other examples
    np.testing.assert_allclose(np.sort((remix - clean)[:, 0]), np.sort(rec_noise[:, 0]),
                               atol=1e-5)
    with pytest.raises(KeyError, match="no noise law"):
        modern.redraw_noise("audio", {}, clean, clean, rng)


def test_fresh_noise_transform_is_deterministic_and_new_per_batch() -> None:
    ds = {"kind": "quadratic", "noise_std": 0.05}
    clean = np.zeros((8, 150), np.float32)
    a, b = modern.fresh_noise_transform(ds, 3), modern.fresh_noise_transform(ds, 3)
    first = [a(clean, clean)[0] for _ in range(3)]
    again = [b(clean, clean)[0] for _ in range(3)]
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x, y)  # same seed, same batches
    assert first[0].shape == (8, 150, 1) and not np.allclose(first[0], first[1])
    assert modern.train_transform({"fresh_noise": False}, ds, 3) is models.add_channel


def test_fresh_noise_of_a_resumed_run_is_the_uninterrupted_runs(tmp_path: Path) -> None:
    """training._train_stream from epoch e draws the noise the uninterrupted stream drew for
    epoch e (the transform's batch count starts at e x steps; exact resume, issue 17)."""
    from conftest import generate_datasets, tiny_config

    from denoisebench import training
    from denoisebench.data.shards import DatasetReader

    cfg, _ = tiny_config(tmp_path, {"datasets": {"multisine": {
        "train_size": 40, "validation_size": 10, "train_shards": 2}}})
    generate_datasets(cfg, ["multisine"], tmp_path / "data")
    reader = DatasetReader(tmp_path / "data/multisine")
    mp = {**BASE["models"]["multisine_spectral"], "batch_size": 8, "epochs": 3,
          "shuffle_buffer": 16}

    def batches(done: int | None) -> list[np.ndarray]:
        stream, _ = training._train_stream(cfg, mp, cfg["datasets"]["multisine"], reader, done)
        return [x.numpy() for x, _ in stream]

    whole, steps = batches(None), 5  # 40 rows in batches of 8
    assert len(whole) == 3 * steps
    for a, b in zip(whole[2 * steps:], batches(2), strict=True):
        np.testing.assert_array_equal(a, b)


# --------------------------------------------------------------------------- params checks
def _with_model(spec: dict) -> dict:
    cfg = copy.deepcopy(BASE)
    cfg["models"]["probe"] = spec
    return cfg


PROBE = {"kind": "dncnn1d", "dataset": "multisine", "width": 8, "depth": 8, "kernel_size": 3,
         "epochs": 1, "batch_size": 32, "loss": "mse", "learning_rate": 1e-3,
         "schedule": "cosine", "patience": 5, "shuffle_buffer": 100}


def test_params_checks_of_the_new_kinds() -> None:
    validate(_with_model(PROBE))
    with pytest.raises(ConfigError, match=r"models\.probe\.depth: 5 dilated blocks see 67"):
        validate(_with_model({**PROBE, "depth": 5}))
    with pytest.raises(ConfigError, match=r"models\.probe\.kernel_size: 4 is even"):
        validate(_with_model({**PROBE, "kernel_size": 4}))
    with pytest.raises(ConfigError, match=r"models\.probe\.loss"):
        validate(_with_model({**PROBE, "loss": "huber"}))
    with pytest.raises(ConfigError, match="allowed keys"):
        validate(_with_model({**PROBE, "colour": "red"}))
    with pytest.raises(ConfigError, match="cannot train on dataset 'images'"):
        validate(_with_model({**PROBE, "dataset": "images"}))
    unet = {**PROBE, "kind": "unet1d", "depth": 6, "kernel_size": 9, "convs_per_level": 1,
            "dataset": "quadratic"}  # 150 samples, not a multiple of 64: padded inside
    validate(_with_model(unet))
    img = {k: v for k, v in PROBE.items() if k != "kernel_size"}
    validate(_with_model({**img, "kind": "unet2d", "dataset": "images", "depth": 2,
                         "convs_per_level": 2}))
    validate(_with_model({**img, "kind": "dncnn2d", "dataset": "images_blur"}))


def test_modern_models_train_by_default_and_longer_in_full() -> None:
    """params.yaml trains a modern model on every generated dataset (the report's first
    table shows them beside the seeds'); configs/full.yaml, merged over it alone, trains
    those longer and adds the kinds the default leaves out (README "Results")."""
    from denoisebench.config import load

    repo = Path(__file__).resolve().parents[3]
    modern_kinds = {"dncnn1d", "unet1d", "spectral1d", "dncnn2d", "unet2d"}
    default = {m["dataset"] for m in BASE["models"].values() if m["kind"] in modern_kinds}
    assert default == set(BASE["datasets"]), default
    full = load([repo / "params.yaml", repo / "configs" / "full.yaml"])
    kinds = {m["kind"] for m in full["models"].values()}
    assert modern_kinds <= kinds, modern_kinds - kinds
    for name, m in BASE["models"].items():
        if m["kind"] in modern_kinds:
            assert full["models"][name]["epochs"] > m["epochs"], name


def test_dncnn1d_depth_checked_against_a_folder_datasets_window(tmp_path: Path) -> None:
    """A folder dataset's window comes from its manifest (models/checks.py: signal_length)."""
    from denoisebench.cli import main
    from denoisebench.data import shards

    rng = np.random.default_rng(0)
    for split in ("train", "validation"):
        clean = rng.standard_normal((8, 32)).astype(np.float32)
        shards.write_shard(tmp_path / split / "clean" / "a-0.npy", np.arange(8), clean)
        shards.write_shard(tmp_path / split / "mixed" / "a-0.npy", np.arange(8), clean + 0.5)
    assert main(["datasets", "manifest", str(tmp_path), "--fs", "256"]) == 0
    cfg = _with_model({**PROBE, "dataset": "mine", "depth": 5})  # dilations 1..16: 63 samples
    cfg["datasets"]["mine"] = {"kind": "folder", "path": str(tmp_path), "fs": 256.0,
                               "lowpass": {"design": "butter", "cutoff_hz": 60.0, "order": 4}}
    validate(cfg)
    cfg["models"]["probe"]["depth"] = 2
    with pytest.raises(ConfigError, match=r"models\.probe\.depth: 2 dilated blocks see 11 "
                                          r"samples, less than the whole 32-sample window"):
        validate(cfg)


# --------------------------------------------------------------------------- training
def _train_beats_identity(kind: str, kw: dict, mp: dict, ds: dict, clean: np.ndarray,
                          epochs: int) -> tuple[float, float]:
    """Train ``kind`` a few epochs on fresh noise over ``clean``; return (input SNR, output
    SNR) in dB on a fixed noisy test set of other clean examples."""
    import keras

    keras.utils.set_random_seed(15)
    rng = np.random.default_rng(15)
    train_clean, test_clean = clean[:-64], clean[-64:]
    test_mixed = modern.redraw_noise(ds["kind"], ds, test_clean, test_clean, rng)
    model = models.build(kind, **kw)
    mp = {"epochs": epochs, "schedule": "cosine", **mp}
    steps = -(-len(train_clean) // 32)
    modern.compile_modern(model, mp, steps, False)
    transform = modern.fresh_noise_transform(ds, 15)
    for _ in range(epochs):
        for start in range(0, len(train_clean), 32):
            part = train_clean[start:start + 32]
            x, y = transform(part, part)
            model.train_on_batch(x, y)
    out = model.predict(test_mixed[..., None], verbose=0)[..., 0]
    energy = np.sum(test_clean**2)
    snr_in = 10 * np.log10(energy / np.sum((test_mixed - test_clean) ** 2))
    snr_out = 10 * np.log10(energy / np.sum((out - test_clean) ** 2))
    return float(snr_in), float(snr_out)


def _multisines(rows: int, length: int = 128) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(length) / 128.0
    f = rng.uniform(5, 30, (rows, 2, 1))
    return (np.sin(2 * np.pi * f * t + rng.uniform(0, 6.3, (rows, 2, 1))).sum(1) / 2
            ).astype("float32")


# Thresholds (measured with these settings, seed 15, 1 thread, load 16-21 on 2 shared cores):
# output SNR over input SNR +3.8 dB for dncnn1d (40 s), +4.2 dB for unet1d (126 s), +5.7 dB
# for dncnn2d without BatchNorm after 8 epochs (60 s), +2.7 dB for unet2d (125 s, measured
# with ReLU before its switch to LeakyReLU). The tests ask for +1 dB, well below each, so that
# they check "learns to denoise", not a tuned figure; on an idle core each runs in seconds.
ONE_D = {"dncnn1d": {"length": 128, "width": 16, "depth": 7, "kernel_size": 3},
         "unet1d": {"length": 128, "width": 8, "depth": 3, "kernel_size": 9},
         "spectral1d": {"length": 128, "width": 8, "depth": 4, "kernel_size": 5,
                        "oversample": 2}}


@pytest.mark.parametrize("kind", sorted(ONE_D))
def test_1d_models_beat_identity(kind: str) -> None:
    clean = _multisines(576)
    kw = ONE_D[kind]
    snr_in, snr_out = _train_beats_identity(
        kind, kw, {"loss": "mse", "learning_rate": 3e-3}, {"kind": "multisine", "snr_db": 0.0},
        clean, epochs=4)
    assert snr_out > snr_in + 1.0, (snr_in, snr_out)


@pytest.mark.parametrize("kind", ["dncnn2d", "unet2d"])
def test_2d_models_beat_identity(kind: str) -> None:
    from denoisebench.data.image_sources import synthetic_images

    clean = synthetic_images("train", 352).astype("float32")
    # no BatchNorm here: after ~30 steps its moving statistics (momentum 0.99) are still far
    # from the batch statistics, and inference with them lost the gain (+0.1 dB measured)
    kw = ({"width": 8, "depth": 5, "batch_norm": False} if kind == "dncnn2d"
          else {"width": 8, "depth": 2})
    snr_in, snr_out = _train_beats_identity(
        kind, kw, {"loss": "mse", "learning_rate": 3e-3},
        {"kind": "images", "noise_std": 0.2, "clip": True}, clean,
        epochs=8 if kind == "dncnn2d" else 3)
    assert snr_out > snr_in + 1.0, (snr_in, snr_out)
