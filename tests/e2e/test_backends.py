"""Any Keras backend (docs/design.md "Keras backends"): early stopping and the dvclive log on
every installed backend; a model trained on JAX predicts, evaluates and denoises the same on
TensorFlow (and PyTorch); the same metrics on every backend, within what different initial
weights change on one backend.

The resume and determinism tests (test_resume.py, test_determinism.py) run on every installed
backend too; PyTorch is optional (``torch`` extra) and its cases skip where it is missing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BACKENDS, BIN, generate_datasets, installed, run, subprocess_env, tiny_config
from conftest import TRAINING_SAFETY_S as SAFETY_S

pytestmark = pytest.mark.slow


def _train(tmp_path: Path, model: str, overlay: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """Train ``model`` on ``overlay`` (tiny params) with ``denoisebench train``; returns
    ``(config, model folder)``."""
    cfg, params = tiny_config(tmp_path, overlay)
    generate_datasets(cfg, [cfg["models"][model]["dataset"]], tmp_path / "data")
    out = tmp_path / "model"
    run([str(BIN / "denoisebench"), "train", "--model", model, "--params", str(params),
         "--data-dir", str(tmp_path / "data"), "--out", str(out), "--threads", "1"], tmp_path,
        timeout=SAFETY_S)
    return cfg, out


@pytest.mark.parametrize("backend", BACKENDS)
def test_early_stopping_and_dvclive_on_every_backend(backend: str, tmp_path: Path) -> None:
    """A learning rate of 1e-30 leaves the weights as they are, so validation L1 never
    improves after the first epoch: early stopping (patience 1) ends the run after epoch 2 of
    6, and history.csv, dvclive's curves and the metadata say so."""
    _, out = _train(tmp_path, "rnn", {
        "training": {"backend": backend},
        "datasets": {"sine": {"train_size": 64, "validation_size": 32}},
        "models": {"rnn": {"epochs": 6, "patience": 1, "learning_rate": 1.0e-30,
                           "batch_size": 32, "shuffle_buffer": 64}}})
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["backend"] == backend and backend in meta["versions"], meta
    assert meta["epochs_this_run"] == 2, meta
    history = (out / "history.csv").read_text().splitlines()
    assert len(history) == 1 + 2, history
    for part in ("train", "eval"):
        tsv = (out / f"dvclive/plots/metrics/{part}/l1.tsv").read_text().splitlines()
        assert [ln.split("\t")[0] for ln in tsv[1:]] == ["0", "1"], tsv
    assert json.loads((out / "dvclive/metrics.json").read_text())["step"] == 1


PREDICT = """
import json, sys
import numpy as np
from denoisebench import backend
backend.select(None)
from denoisebench.inference import Denoiser
model, x, out = sys.argv[1:4]
np.save(out, Denoiser(model)(np.load(x)))
print(json.dumps({"backend": __import__("keras").backend.backend()}))
"""


def _on(backend: str, cmd: list[str], cwd: Path) -> str:
    """Run ``cmd`` with ``KERAS_BACKEND=backend``; its stdout."""
    proc = subprocess.run(cmd, cwd=cwd, env=subprocess_env({"KERAS_BACKEND": backend}),
                          capture_output=True, text=True, timeout=SAFETY_S)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.skipif(not installed("jax"), reason="jax not installed (pip install -e '.[dev]')")
def test_model_trained_on_jax_runs_the_same_on_tensorflow(tmp_path: Path) -> None:
    """The ``.keras`` file of a JAX training: ``Denoiser`` predictions and ``denoisebench
    denoise`` outputs on TensorFlow (and PyTorch, where installed) equal JAX's within float32
    tolerance, and ``denoisebench evaluate`` on TensorFlow reports the SNRi of JAX's
    predictions."""
    from denoisebench.data.shards import DatasetReader
    from denoisebench.evaluation import metrics

    cfg, out = _train(tmp_path, "gan_l1", {
        "training": {"backend": "jax"},
        "datasets": {"multisine": {"train_size": 64, "validation_size": 32}},
        "models": {"gan_l1": {"epochs": 1, "batch_size": 32, "shuffle_buffer": 64}}})
    assert json.loads((out / "metadata.json").read_text())["backend"] == "jax"
    reader = DatasetReader(tmp_path / "data/multisine")
    clean, mixed = reader.read("validation", "clean"), reader.read("validation", "mixed")
    np.save(tmp_path / "mixed.npy", mixed)
    others = [b for b in ("tensorflow", "torch") if installed(b)]
    preds = {}
    for b in ["jax", *others]:
        said = _on(b, [sys.executable, "-c", PREDICT, str(out), str(tmp_path / "mixed.npy"),
                       str(tmp_path / f"pred-{b}.npy")], tmp_path)
        assert json.loads(said.splitlines()[-1])["backend"] == b
        preds[b] = np.load(tmp_path / f"pred-{b}.npy")
        _on(b, [str(BIN / "denoisebench"), "denoise", "--model", str(out),
                str(tmp_path / "mixed.npy"), "-o", str(tmp_path / f"denoised-{b}.npy")], tmp_path)
    scale = float(np.max(np.abs(preds["jax"])))
    denoised_jax = np.load(tmp_path / "denoised-jax.npy")
    assert not np.allclose(preds["jax"], mixed, atol=1e-3)  # the model does something
    for b in others:
        np.testing.assert_allclose(preds[b], preds["jax"], rtol=0, atol=1e-5 * scale,
                                   err_msg=f"predictions on {b}")
        np.testing.assert_allclose(np.load(tmp_path / f"denoised-{b}.npy"), denoised_jax,
                                   rtol=0, atol=1e-5 * scale, err_msg=f"denoise on {b}")
    _on("tensorflow", [str(BIN / "denoisebench"), "evaluate", "--params",
                       str(tmp_path / "params.yaml"), "--model", "gan_l1", "--model-dir",
                       str(out), "--data-dir", str(tmp_path / "data"), "--out",
                       str(tmp_path / "metrics"), "--threads", "1"], tmp_path)
    judged = json.loads((tmp_path / "metrics/gan_l1.json").read_text())["gan_l1"]
    v = metrics.per_example(clean, mixed, preds["jax"])
    expected = metrics.aggregate_snri_db(v["noise_energy"], v["error_energy"])
    assert abs(judged["snri_db_agg"] - expected) < 1e-3, (judged["snri_db_agg"], expected)
    assert cfg["training"]["backend"] == "jax"


#: the model trained on every backend for the metrics comparison, and its settings: the
#: learning test's conv2d_ae row (tests/e2e/test_learning.py) at twice its epochs. Measured
#: (200 validation images, 95 % intervals): PSNR TensorFlow 20.21 [19.93, 20.50], JAX 20.45
#: [20.18, 20.71], PyTorch 20.62 [20.33, 20.92] dB; at 4 epochs the spread was the same
#: (19.23 / 19.68 / 19.77 dB) with TensorFlow's interval and PyTorch's 0.02 dB apart. The
#: spread is that of the initial weights (each backend draws its own from the seed; the
#: learning test saw 0.3 dB between seeds): the test asks for overlapping intervals, which a
#: backend that trains wrongly (several dB off) cannot meet, and the GAN step test
#: (test_gan_step_is_the_same_on_every_backend) checks the updates themselves from equal weights.
SAME_MODEL, SAME_ROWS, SAME_EPOCHS, SAME_VALIDATION = "conv2d_ae", 2000, 8, 200
SAME_BATCH = 16


# How far apart two trainings of SAME_MODEL may judge when only the initial weights differ,
# measured with tests/e2e's params on TensorFlow and JAX, 4 seeds each (AMD EPYC, AVX-512):
# mean PSNR 19.99-20.61 dB, mean SSIM 0.760-0.788 across all 8 runs (TensorFlow's seeds alone
# span 0.62 dB / 0.029; JAX's 0.09 dB / 0.014). The 95 % bootstrap intervals of one run
# (about +-0.3 dB, +-0.008) measure the validation sample only: two TensorFlow seeds' SSIM
# intervals did not overlap, so overlap is no criterion. The tolerances are that spread with
# a margin. What they catch, measured the same way: JAX training at a tenth of the learning
# rate lands at 17.65 dB / 0.602 (2.3 dB, 0.16 below TensorFlow), a backend that does not
# learn fails the identity check; what they cannot tell from a different seed: JAX with half
# the epochs (19.62 dB / 0.749).
SAME_PSNR_TOLERANCE_DB, SAME_SSIM_TOLERANCE = 0.8, 0.04


def test_same_metrics_on_every_backend(tmp_path: Path) -> None:
    """The same params trained on each installed backend judge alike: mean PSNR and SSIM on
    the validation images differ between any two backends by no more than different initial
    weights make them differ on one backend (the tolerances above), and each model beats its
    noisy input by more than 1 dB."""
    from denoisebench.data.shards import DatasetReader
    from denoisebench.evaluation import image_metrics
    from denoisebench.inference import Denoiser

    backends = [b for b in ("tensorflow", "jax", "torch") if installed(b)]
    if len(backends) < 2:
        pytest.skip(f"one Keras backend installed ({backends})")
    summaries: dict[str, dict[str, Any]] = {}
    for b in backends:
        _, out = _train(tmp_path / b, SAME_MODEL, {
            "training": {"backend": b},
            "datasets": {"images": {"train_size": SAME_ROWS,
                                    "validation_size": SAME_VALIDATION}},
            "models": {SAME_MODEL: {"epochs": SAME_EPOCHS, "batch_size": SAME_BATCH,
                                    "shuffle_buffer": SAME_ROWS}}})
        reader = DatasetReader(tmp_path / b / "data/images")
        clean, mixed = reader.read("validation", "clean"), reader.read("validation", "mixed")
        summaries[b] = image_metrics.summarize(image_metrics.per_image(clean, Denoiser(out)(mixed)))
        noisy = image_metrics.summarize(image_metrics.per_image(clean, mixed))["psnr_db"]
        assert summaries[b]["psnr_db"] > noisy + 1.0, (b, summaries[b], noisy)  # it learned
    print(json.dumps(summaries))
    for metric, tolerance in (("psnr_db", SAME_PSNR_TOLERANCE_DB), ("ssim", SAME_SSIM_TOLERANCE)):
        values = {b: summaries[b][metric] for b in backends}
        spread = max(values.values()) - min(values.values())
        assert spread <= tolerance, (
            f"{metric}: backends differ by {spread:.4g} > {tolerance} ({values})")


GAN_STEPS = """
import json, sys
import numpy as np
from denoisebench import backend
backend.select(None)
mp, init, out, precision = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
setup = backend.configure(1, 0, deterministic=True, mixed_precision=json.loads(precision))
from denoisebench import models
gan, callbacks = models.spec("gan").recipe(mp, (256,), 2, setup.jit_compile)
with np.load(init) as z:
    gan.set_weights([z[f"w{i}"] for i in range(len(z.files))])
rng = np.random.default_rng(0)
clean = np.sin(np.linspace(0, 60, 256) * rng.uniform(0.5, 2, (32, 1)))[..., None]
mixed = clean + 0.5 * rng.standard_normal(clean.shape)
hist = gan.fit(mixed.astype("float32"), clean.astype("float32"), batch_size=16, epochs=2,
               shuffle=False, callbacks=callbacks, verbose=0)
np.savez(out, *gan.get_weights())
print(json.dumps({"optimizer": type(gan.optimizer).__name__,
                  **{k: [float(x) for x in v] for k, v in hist.history.items()}}))
"""
GAN_PARAMS = {"adversarial_weight": 3.0, "l1_weight": 9.0, "discriminator_weight": 2.0,
              "generator_lr": 1e-3, "discriminator_lr": 1e-4, "lr_halving_epochs": 50,
              "warmup_epochs": 1}


def test_gan_step_is_the_same_on_every_backend(tmp_path: Path) -> None:
    """The GAN's training step, written once per backend (denoisebench.backend), makes the same
    updates everywhere: from the same initial weights and batches (one L1-only warm-up epoch,
    then one adversarial epoch: both optimisers and the gate), each network's weights and
    BatchNorm statistics move as on TensorFlow (their difference is < 3 % of the distance
    trained; measured: weights JAX 0.1 % / 0.3 %, PyTorch 0.9 % / 0.9 % for generator /
    discriminator, statistics < 0.01 %: Adam's first steps move each weight by about its
    learning rate whatever the gradient's size, so float rounding that flips a near-zero
    gradient shows) and log the same losses. A JAX step that drops the discriminator's update
    is 100 % off."""
    import keras

    from denoisebench import models

    keras.utils.set_random_seed(4)
    gan = models.build("gan", length=256)
    init = gan.get_weights()
    trainable = {id(w) for w in gan.trainable_weights}
    part = {id(w): f"{net.name} {'weights' if id(w) in trainable else 'statistics'}"
            for net in (gan.generator, gan.discriminator) for w in net.weights}
    parts = [part.get(id(w), "gate") for w in gan.weights]
    np.savez(tmp_path / "init.npz", **{f"w{i}": w for i, w in enumerate(init)})
    runs: dict[str, tuple[dict[str, list[float]], list[np.ndarray]]] = {}
    for b in [b for b in ("tensorflow", "jax", "torch") if installed(b)]:
        said = _on(b, [sys.executable, "-c", GAN_STEPS, json.dumps(GAN_PARAMS),
                       str(tmp_path / "init.npz"), str(tmp_path / f"{b}.npz"), "false"], tmp_path)
        with np.load(tmp_path / f"{b}.npz") as z:
            weights = [z[f"arr_{i}"] for i in range(len(z.files))]
        runs[b] = json.loads(said.splitlines()[-1]), weights
    logs_tf, w_tf = runs.pop("tensorflow")
    assert logs_tf["d_loss"][0] == 0 and logs_tf["d_loss"][1] > 0, logs_tf  # the warm-up gate

    def distance(x: list[np.ndarray], y: list[np.ndarray], net: str) -> float:
        return float(np.sqrt(sum(np.sum((a - c) ** 2) for a, c, p in zip(x, y, parts,
                                                                            strict=True)
                                 if p == net)))

    for b, (logs, w) in runs.items():
        for net in sorted(set(parts) - {"gate"}):  # weights and BatchNorm statistics
            trained, apart = distance(w_tf, init, net), distance(w, w_tf, net)
            print(f"{b} {net}: {apart:.3g} apart from TensorFlow's, trained {trained:.3g}")
            assert trained > 0 and apart < 0.03 * trained, (b, net, apart, trained)
        for key in ("l1", "g_adv", "d_loss"):
            np.testing.assert_allclose(logs[key], logs_tf[key], rtol=1e-3, atol=1e-5,
                                       err_msg=f"{key} on {b}")


@pytest.mark.skipif(not installed("jax"), reason="jax not installed (pip install -e '.[dev]')")
def test_gan_trains_under_mixed_float16_on_jax(tmp_path: Path) -> None:
    """``training.mixed_precision: mixed_float16``: the GAN's two optimisers are wrapped in one
    ``LossScaleOptimizer``, whose loss scale JAX's stateless step carries in its state; both
    epochs (warm-up, then adversarial) give finite losses."""
    import keras

    from denoisebench import models

    keras.utils.set_random_seed(4)
    init = models.build("gan", length=256).get_weights()
    np.savez(tmp_path / "init.npz", **{f"w{i}": w for i, w in enumerate(init)})
    said = _on("jax", [sys.executable, "-c", GAN_STEPS, json.dumps(GAN_PARAMS),
                       str(tmp_path / "init.npz"), str(tmp_path / "out.npz"),
                       '"mixed_float16"'], tmp_path)
    logs = json.loads(said.splitlines()[-1])
    assert logs["optimizer"] == "LossScaleOptimizer", logs
    assert logs["d_loss"][0] == 0 and logs["d_loss"][1] > 0, logs
    assert all(np.isfinite(v) for k in ("l1", "g_adv", "d_loss") for v in logs[k]), logs
    assert logs["l1"][1] < logs["l1"][0], logs
