"""Seeds 000 and 001: quadratic / sine data, the Conv1D autoencoder, the recurrent family,
the masked L1, min-max scaling consistency and the train-split lowpass search."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import params_with
from scipy import signal

from denoisebench import config, inference, models
from denoisebench.data import kinds, signals
from denoisebench.evaluation import lowpass

REPO = Path(__file__).resolve().parents[3]
PARAMS = config.read_yaml(REPO / "params.yaml")
QUAD = PARAMS["datasets"]["quadratic"]
SINE = PARAMS["datasets"]["sine"]
SEED_QUAD = {**QUAD, "a_range": [1.0, 1.0], "h_range": [0.0, 0.0], "k_range": [0.0, 0.0]}


# --- data ---------------------------------------------------------------------------------

def test_quadratic_zero_width_ranges_reproduce_seed_exactly() -> None:
    clean, noise = signals.quadratic(SEED_QUAD, 4, np.random.default_rng(0))
    seed = np.array([(i * 0.01) ** 2 for i in range(-50, 100)], dtype=np.float32)
    assert clean.shape == noise.shape == (4, 150) and clean.dtype == np.float32
    assert np.array_equal(clean, np.broadcast_to(seed, clean.shape))  # bit for bit y = x^2
    assert kinds.example_shape(SEED_QUAD) == (150,)


def test_quadratic_random_curves_within_ranges() -> None:
    clean, noise = signals.quadratic(QUAD, 400, np.random.default_rng(1))
    x = 0.01 * np.arange(-50, 100)
    a, b, c = np.polynomial.polynomial.polyfit(x, clean.T.astype(np.float64), 2)[::-1]
    h, k = -b / (2 * a), c - b**2 / (4 * a)
    for val, key in ((a, "a_range"), (h, "h_range"), (k, "k_range")):
        lo, hi = QUAD[key]
        assert np.all((val > lo - 1e-3) & (val < hi + 1e-3)), key
        assert np.ptp(val) > 0.5 * (hi - lo), key  # actually spread over the range
    assert abs(float(noise.std()) - 0.05) < 0.002 and abs(float(noise.mean())) < 0.002


def test_sine_generator_follows_seed_recipe() -> None:
    clean, noise = signals.sine(SINE, 500, np.random.default_rng(2))
    assert clean.shape == noise.shape == (500, 100)
    t = np.arange(100)
    offsets = np.arange(0, 101)
    table = np.sin(2 * np.pi * (t + offsets[:, None]) / 60.0).astype(np.float32)
    match = np.abs(clean[:, None, :] - table[None]).max(axis=-1) < 1e-6
    assert match.any(axis=1).all()  # every row is one of the 101 integer offsets
    used = set(np.argmax(match, axis=1) % 60)
    assert len(used) > 50
    assert noise.min() >= -0.35 and noise.max() <= 0.35 and noise.max() - noise.min() > 0.69


def test_missing_targets_fraction_and_errors() -> None:
    clean = np.zeros((10, 100), np.float32)
    out = signals.missing_targets(clean, 0.05, np.random.default_rng(0))
    assert np.isnan(out).sum() == 50 and not np.isnan(clean).any()
    assert not np.isnan(signals.missing_targets(clean, 0.0, np.random.default_rng(0))).any()
    with pytest.raises(ValueError, match="missing_fraction"):
        signals.missing_targets(clean, 1.0, np.random.default_rng(0))


# --- configuration ------------------------------------------------------------------------

def _changed(path: str, value: Any) -> dict[str, Any]:
    return params_with(path, value)


@pytest.mark.parametrize(("path", "value"), [
    ("datasets.quadratic.a_range", [1.0]),
    ("datasets.quadratic.a_range", [2.0, 1.0]),
    ("datasets.quadratic.noise_std", -0.1),
    ("datasets.quadratic.length", 4),
    ("datasets.sine.missing_fraction", 1.0),
    ("datasets.sine.max_offset", 1.5),
    ("datasets.sine.lowpass.cutoff_hz", 0.5),
    ("datasets.sine.length", 12),  # shorter than the order-3 lowpass' padding
    ("models.bigru.dropout", 1.0),
    ("models.bigru.units", 0),
    ("models.rnn.colour", "red"),
    ("models.conv1d_ae.dataset", "sine"),
    ("models.conv1d_ae.dilation_rates", [4, 16, 4, 16]),  # not mirrored
    ("models.conv1d_ae.dilation_rates", [1, 2, 3, 4]),
    ("models.conv1d_ae.dilation_rates", [2, 2, 2]),
    ("models.conv1d_ae.dilation_rates", [0, 1, 1, 0]),
    ("models.conv1d_ae.dilation_rates", [40, 40, 40, 40]),  # 160 samples off a 150-sample signal
    ("models.gru.dataset", "quadratic"),
])
def test_quadratic_sine_params_rejected_with_key_path(path: str, value: Any) -> None:
    with pytest.raises(config.ConfigError) as info:
        config.validate(_changed(path, value))
    named = path if not path.endswith("colour") else "models.rnn"
    assert named in str(info.value), str(info.value)


def test_quadratic_sine_default_and_overlay_params_valid() -> None:
    for overlay in ([], ["configs/tiny.yaml"], ["configs/seed_scale.yaml"]):
        cfg = config.load([REPO / "params.yaml", *(REPO / o for o in overlay)])
        assert {"conv1d_ae", "rnn", "birnn", "gru", "bigru"} <= set(cfg["models"])
        for ds in ("quadratic", "sine"):
            lp = cfg["datasets"][ds]["lowpass"]
            assert lp["design"] == "butter" and lp["cutoff_hz"] < cfg["datasets"][ds]["fs"] / 2


# --- models -------------------------------------------------------------------------------

def test_conv1d_ae_seed_architecture() -> None:
    model = models.build("conv1d_ae")
    assert models.count_trainable(model) == 28_737 == models.REGISTRY["conv1d_ae"].seed_params
    lengths = [layer.output.shape[1] for layer in model.layers[1:]]
    assert lengths == [148, 146, 148, 150, 150]
    for layer in model.layers[1:]:
        cfg = layer.get_config()
        assert cfg["kernel_size"] == (3,)
        assert cfg["kernel_initializer"]["class_name"] == "HeUniform"
        assert cfg["kernel_constraint"]["class_name"] == "MaxNorm"
        assert cfg["kernel_constraint"]["config"]["max_value"] == 2.0
    y = model.predict(np.random.default_rng(0).random((2, 150, 1), np.float32), verbose=0)
    assert y.shape == (2, 150, 1) and np.all((y > 0) & (y < 1))
    assert models.REGISTRY["conv1d_ae"].scaling == {"kind": "minmax"}


DILATIONS = PARAMS["models"]["conv1d_ae"]["dilation_rates"]


@pytest.mark.parametrize("rates", [[1, 1, 1, 1], DILATIONS])
def test_conv1d_ae_dilations_keep_seed_parameters_and_length(rates: list[int]) -> None:
    from denoisebench.models.conv1d import receptive_field

    model = models.build("conv1d_ae", dilation_rates=rates)
    assert models.count_trainable(model) == 28_737
    a, b = rates[:2]
    convs = [layer for layer in model.layers[1:] if not layer.name.endswith("_pad")]
    assert [layer.name for layer in convs] == ["conv0", "conv1", "deconv2", "deconv3", "head"]
    assert [layer.output.shape[1] for layer in convs] == [150 - 2 * a, 150 - 2 * (a + b),
                                                          150 - 2 * a, 150, 150]
    y = model.predict(np.random.default_rng(0).random((2, 150, 1), np.float32), verbose=0)
    assert y.shape == (2, 150, 1) and np.all((y > 0) & (y < 1))
    assert receptive_field(rates) == 1 + 2 * sum(rates) + 2


def test_conv1d_ae_default_is_dilated_and_seed_scale_is_the_seed() -> None:
    assert DILATIONS != [1, 1, 1, 1] and DILATIONS == DILATIONS[::-1]
    seed = config.load([REPO / "params.yaml", REPO / "configs/seed_scale.yaml"])
    assert seed["models"]["conv1d_ae"]["dilation_rates"] == [1, 1, 1, 1]


@pytest.mark.parametrize("rates", [[1, 2, 2, 3], [2, 2, 2], [0, 1, 1, 0]])
def test_conv1d_ae_builder_rejects_bad_dilations(rates: list[int]) -> None:
    with pytest.raises(ValueError, match="dilation_rates"):
        models.build("conv1d_ae", dilation_rates=rates)
    with pytest.raises(ValueError, match="length > 160"):
        models.build("conv1d_ae", dilation_rates=[40, 40, 40, 40])


def _impulse_reach(rates: list[int]) -> int:
    """Farthest output sample (from the centre) that an impulse at the centre of a random
    input changes, in the untrained model (fixed initialisation)."""
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(3)
    model = models.build("conv1d_ae", dilation_rates=rates)
    x = np.random.default_rng(4).random((1, 150, 1), np.float32)
    bumped = x.copy()
    bumped[0, 75, 0] += 1.0
    y = model.predict(np.concatenate([x, bumped]), verbose=0)[:, :, 0]
    changed = np.flatnonzero(np.abs(y[1] - y[0]) > 1e-6)
    assert changed.size and abs(y[1, 75] - y[0, 75]) > 1e-6
    return int(np.max(np.abs(changed - 75)))


def test_conv1d_ae_dilations_widen_the_receptive_field() -> None:
    from denoisebench.models.conv1d import receptive_field

    assert _impulse_reach([1, 1, 1, 1]) == 5 == (receptive_field([1, 1, 1, 1]) - 1) // 2
    reach = _impulse_reach(DILATIONS)
    assert 10 < reach <= (receptive_field(DILATIONS) - 1) // 2


def test_dilated_transpose_is_a_dilated_conv1d_transpose() -> None:
    """The padded dilated Conv1D computes what Conv1DTranspose(dilation_rate=d) would (which
    TensorFlow cannot run on a CPU): checked against a Conv1DTranspose whose undilated kernel
    carries the flipped taps ``d`` apart."""
    keras = pytest.importorskip("keras")
    from denoisebench.models.conv1d import dilated_transpose

    d, k, c_in, c_out = 3, 3, 2, 4
    inputs = keras.Input((20, c_in))
    model = keras.Model(inputs, dilated_transpose(inputs, c_out, k, d, "linear", "t"))
    rng = np.random.default_rng(5)
    kernel, bias = rng.standard_normal((k, c_in, c_out)), rng.standard_normal(c_out)
    model.get_layer("t").set_weights([kernel, bias])
    ref = keras.layers.Conv1DTranspose(c_out, (k - 1) * d + 1, padding="valid")
    ref.build((None, 20, c_in))
    spread = np.zeros(((k - 1) * d + 1, c_out, c_in))
    spread[::d] = np.transpose(kernel[::-1], (0, 2, 1))
    ref.set_weights([spread, bias])
    x = rng.standard_normal((2, 20, c_in)).astype(np.float32)
    got = model.predict(x, verbose=0)
    assert got.shape == (2, 20 + (k - 1) * d, c_out)
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(ref(x)), atol=1e-5)


@pytest.mark.parametrize(("kind", "count"), [("rnn", 991), ("birnn", 1_981), ("gru", 3_001),
                                             ("bigru", 6_001)])
def test_recurrent_parameter_counts(kind: str, count: int) -> None:
    model = models.build(kind)
    assert models.count_trainable(model) == count == models.REGISTRY[kind].seed_params
    y = model.predict(np.zeros((2, 100, 1), np.float32), verbose=0)
    assert y.shape == (2, 100, 1) and np.all(np.abs(y) < 1)
    assert models.build(kind, dropout=0.1).get_layer("dropout").rate == 0.1


def test_masked_l1_nan_target_changes_neither_loss_nor_gradients() -> None:
    import tensorflow as tf

    from denoisebench.models.rnn import masked_l1

    rng = np.random.default_rng(3)
    model = models.build("gru", length=20)
    x = tf.constant(rng.uniform(-1, 1, (4, 20, 1)).astype(np.float32))
    y = rng.uniform(-1, 1, (4, 20, 1)).astype(np.float32)
    missing = np.zeros_like(y, bool)
    missing[0, 3, 0] = missing[2, 17, 0] = True
    y_nan = np.where(missing, np.nan, y).astype(np.float32)

    def loss_and_grads(target: np.ndarray, reference: bool) -> tuple[float, list[np.ndarray]]:
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            if reference:  # the seed's L1(pred[mask], out[mask])
                keep = ~missing
                loss = tf.reduce_mean(tf.abs(tf.boolean_mask(pred, keep)
                                             - tf.boolean_mask(target, keep)))
            else:
                loss = tf.reduce_mean(masked_l1(tf.constant(target), pred))
        grads = tape.gradient(loss, model.trainable_variables)
        return float(loss), [g.numpy() for g in grads]

    loss, grads = loss_and_grads(y_nan, reference=False)
    ref_loss, ref_grads = loss_and_grads(y, reference=True)
    assert np.isfinite(loss) and np.isclose(loss, ref_loss, rtol=1e-6)
    for g, r in zip(grads, ref_grads, strict=True):
        assert np.all(np.isfinite(g)) and np.allclose(g, r, rtol=1e-5, atol=1e-7)
    # the prediction at a missing target has no influence at all
    pred = tf.Variable(rng.uniform(-1, 1, (4, 20, 1)).astype(np.float32))
    with tf.GradientTape() as tape:
        loss_a = tf.reduce_mean(masked_l1(tf.constant(y_nan), pred))
    g = tape.gradient(loss_a, pred).numpy()
    assert np.all(np.isfinite(g)) and np.all(g[missing] == 0) and np.all(g[~missing] != 0)
    pred.assign(tf.where(missing, 100.0, pred))
    assert np.isclose(float(tf.reduce_mean(masked_l1(tf.constant(y_nan), pred))), float(loss_a))
    # without NaN it is the plain mean absolute error
    plain = float(tf.reduce_mean(masked_l1(tf.constant(y), pred)))
    assert np.isclose(plain, float(np.mean(np.abs(pred.numpy() - y))), rtol=1e-6)


def test_recurrent_trains_through_nan_targets() -> None:
    import keras

    from denoisebench.models.rnn import recipe_recurrent

    clean, noise = signals.sine(SINE, 64, np.random.default_rng(4))
    target = signals.missing_targets(clean, 0.1, np.random.default_rng(5))
    mp = {**PARAMS["models"]["bigru"], "learning_rate": 1e-2}
    model, _ = recipe_recurrent(mp, (100,), 2, False)
    keras.utils.set_random_seed(0)
    hist = model.fit((clean + noise)[..., None], target[..., None], batch_size=32, epochs=2,
                     verbose=0)
    assert all(np.isfinite(v) for v in hist.history["loss"] + hist.history["l1"])
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# --- scaling ------------------------------------------------------------------------------

def test_minmax_train_and_inference_scaling_agree() -> None:
    from denoisebench.models.conv1d import minmax_transform

    clean, noise = signals.quadratic(QUAD, 50, np.random.default_rng(6))
    mixed = clean + noise
    inputs, targets = minmax_transform(mixed, clean)
    scaled, state = inference.scale(mixed, {"kind": "minmax"})
    assert inputs.shape == targets.shape == (50, 150, 1)
    assert np.array_equal(inputs[..., 0], scaled)  # the model sees the same inputs at inference
    assert inputs.min() == 0 and inputs.max() == 1 and 0 <= targets.min() <= targets.max() <= 1
    # a model that outputs the target exactly maps back to the clean signal in signal units,
    # except where the clean curve leaves the noisy range (clipped: a fraction of the noise)
    back = inference.unscale(targets[..., 0], {"kind": "minmax"}, state)
    err = np.abs(back - clean)
    assert np.mean(err < 1e-5) > 0.97 and err.max() < 4 * 0.05
    # a constant input (span 0) passes without division by zero
    flat_in, flat_t = minmax_transform(np.ones((1, 150), np.float32),
                                       np.ones((1, 150), np.float32))
    assert np.all(flat_in == 0) and np.all(np.isfinite(flat_t))


@pytest.mark.parametrize("rates", [[1, 1, 1, 1], DILATIONS])
def test_conv1d_ae_denoiser_returns_signal_units(tmp_path: Path, rates: list[int]) -> None:
    from denoisebench.inference import Denoiser

    model = models.build("conv1d_ae", dilation_rates=rates)
    meta = {"input_shape": [150], "model_input_shape": [150, 1], "scaling": {"kind": "minmax"},
            "fs": 100.0}
    inference.save(model, tmp_path, meta)
    clean, noise = signals.quadratic(QUAD, 8, np.random.default_rng(7))
    mixed = (clean + noise) * 10 + 3  # any offset and gain
    out = Denoiser(tmp_path)(mixed)
    assert out.shape == mixed.shape
    lo, hi = mixed.min(axis=1, keepdims=True), mixed.max(axis=1, keepdims=True)
    assert np.all((out >= lo - 1e-4) & (out <= hi + 1e-4))  # sigmoid output unscaled
    assert json.loads((tmp_path / "metadata.json").read_text())["scaling"]["kind"] == "minmax"
    # the saved model.keras reloads (standard layers only) and computes the same function
    scaled, _ = inference.scale(mixed, {"kind": "minmax"})
    direct = model.predict(scaled[..., None], verbose=0)[..., 0]
    reloaded = Denoiser(tmp_path).model.predict(scaled[..., None], verbose=0)[..., 0]
    np.testing.assert_allclose(reloaded, direct, atol=1e-6)


# --- lowpass search on the train split ----------------------------------------------------

def test_tune_lowpass_finds_a_known_best_filter() -> None:
    rng = np.random.default_rng(8)
    fs = 1.0
    truth = signal.butter(2, 0.05, fs=fs, output="sos")
    clean = signal.sosfiltfilt(truth, rng.standard_normal((200, 200)), axis=-1) * 5
    mixed = clean + 0.5 * rng.standard_normal(clean.shape)
    res = lowpass.tune_lowpass(clean, mixed, fs, [0.01, 0.03, 0.05, 0.1, 0.3], [1, 2, 4])
    assert res.criterion == "mse" and len(res.table) == 15
    assert 0.03 <= res.cutoff_hz <= 0.1 and res.table[0][2] == res.score
    assert res.table == sorted(res.table, key=lambda r: r[2])
    clean_nan = clean.copy()
    clean_nan[0, :5] = np.nan  # missing targets are left out, not propagated
    assert np.isfinite(lowpass.tune_lowpass(clean_nan, mixed, fs, [0.05], [2], "mae").score)
    with pytest.raises(ValueError, match="Nyquist"):
        lowpass.tune_lowpass(clean, mixed, fs, [0.5], [2])
    with pytest.raises(ValueError, match="padding"):
        lowpass.tune_lowpass(clean[:, :20], mixed[:, :20], fs, [0.1], [8])


@pytest.mark.parametrize("order", [1, 2, 3, 8])
def test_padlen_matches_scipy(order: int) -> None:
    sos = signal.butter(order, 0.1, output="sos")
    n = lowpass.padlen(order)
    signal.sosfiltfilt(sos, np.ones(n + 1))
    with pytest.raises(ValueError):
        signal.sosfiltfilt(sos, np.ones(n))


def test_train_split_matches_generated_shards(tmp_path: Path) -> None:
    from denoisebench.data import generate
    from denoisebench.data.shards import DatasetReader

    ds = {**SINE, "train_size": 60, "validation_size": 20, "train_shards": 2}
    root = tmp_path / "sine"
    for split in ("train", "validation"):
        for i in range(ds[f"{split}_shards"]):
            generate.generate_shard("sine", ds, 11, split, i, root)
    generate.build_manifest("sine", ds, 11, root)
    reader = DatasetReader(root)
    clean, mixed = lowpass.train_split("sine", ds, 11)
    assert np.array_equal(clean, reader.read("train", "clean"))
    assert np.array_equal(mixed, reader.read("train", "mixed"))
    assert len(lowpass.train_split("sine", ds, 11, max_rows=25)[0]) == 25


def test_sine_missing_targets_written_to_train_shards(tmp_path) -> None:
    """A train shard with missing_fraction carries NaN in clean only; the reader accepts it."""
    import numpy as np

    from denoisebench.config import load
    from denoisebench.data import generate, shards

    ds = {**load(["params.yaml"])["datasets"]["sine"], "missing_fraction": 0.01,
          "train_size": 40, "validation_size": 10, "train_shards": 1, "validation_shards": 1}
    for split in shards.SPLITS:
        generate.generate_shard("sine", ds, 1, split, 0, tmp_path)
    generate.build_manifest("sine", ds, 1, tmp_path)
    reader = shards.DatasetReader(tmp_path)
    clean = reader.read("train", "clean")
    assert np.isnan(clean).sum() == round(0.01 * clean.size)
    assert not np.isnan(reader.read("train", "mixed")).any()
    assert not np.isnan(reader.read("train", "noise")).any()
    assert not np.isnan(reader.read("validation", "clean")).any()
