"""Models learn: per model family, a training of seconds on a tiny generated dataset must beat
both the identity (the noisy input itself) and the configured lowpass on held-out validation
examples, by a margin measured beforehand (see ``FAMILIES``).

Training is the real path (``denoisebench train``: recipe, streaming input pipeline, early
stopping, saved ``model.keras``); judging uses the evaluation's own metrics and baselines on
the validation split:

* 1-D datasets: aggregate SNR improvement (``metrics.aggregate_snri_db``, what
  ``metrics/<model>.json`` reports as ``snri_db_agg``; the identity scores 0 dB) against the
  dataset's configured ``lowpass`` (``baselines.build``, the seed's filter);
* image datasets: mean PSNR (``image_metrics.psnr_db``) against the Gaussian filter at the
  strength the evaluation tunes on training images (``image_baselines.tune``), and the noisy
  input.

An untrained model (or one that returns its input) scores at or below the identity, so it
fails. A new family is one row of ``FAMILIES``, with its margin measured the same way: run the
row's training for a few seeds (``LEARNING_SEED=<seed> pytest tests/e2e/test_learning.py -k
<model>`` prints the scores) and set ``min_margin`` well below the smallest.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BIN, REPO, generate_datasets, run, tiny_config
from conftest import TRAINING_SAFETY_S as SAFETY_S

from denoisebench.config import read_yaml

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Family:
    """One model family's tiny training and the margin it must clear."""

    model: str  # a model of params.yaml (its kind's recipe, its dataset)
    train_rows: int
    epochs: int
    min_margin_db: float  # over max(identity, lowpass); see the comment of each row
    settings: dict[str, Any] = field(default_factory=dict)  # model params changed for speed
    validation_rows: int = 200


# Margins measured with ``LEARNING_SEED=1, 2, 3`` (the seed of the dataset and of the
# initial weights) on the CPU of this project's CI machines (2 cores, oneDNN; training is
# bitwise deterministic there, so a seed gives one number). The test runs ``SEED``; the spread
# across seeds stands for what another CPU's kernels could change, so each threshold sits
# below the smallest margin measured, by about half of it, and above 0 (beating both is the
# promise). Sizes are the smallest measured that clear the lowpass on every seed tried:
# smaller trainings were measured too (listed per row) and fell short, mostly because the
# seeds' recipes are tuned for 10-100x the data.
FAMILIES: list[Family] = [
    # GAN generator (seed 004: L1-only warm-up epochs, then adversarial + L1): aggregate SNRi
    # over the configured Butterworth lowpass (2.47 dB on these validation signals):
    # 2,000 signals x 4 epochs, batch 25 (320 steps: the BatchNorm moving averages used at
    # inference need a few hundred): margins +1.44 (seed 1), +1.56 (seed 2).
    # Short of it: 600 x 3 epochs (-0.40), 1,000 x 4 (-0.49); gan_l1, 600 x 3 (-0.39).
    Family("gan", 2000, 4, 0.5, {"warmup_epochs": 3, "batch_size": 25}),
    # conv1d AE (seed 000, min-max + BCE) against the tuned order-2 lowpass (10.3 dB SNRi):
    # 6,000 curves x 4 epochs, batch 16, lr 5e-3 (not halved): margins +1.37 (seed 1), +1.07
    # (seed 2). 4,000 x 4: +0.85 / -0.10; 3,000 x 3: -1.57.
    Family("conv1d_ae", 6000, 4, 0.5, {"batch_size": 16, "learning_rate": 5.0e-3,
                                       "lr_halving_epochs": 50}),
    # recurrent (seed 001's bidirectional GRU) against the order-3 lowpass (9.0-9.2 dB SNRi):
    # 1,000 sines x 5 epochs, batch 16, lr 1e-2: margins +3.10 (seed 1), +2.87 (seed 2). The
    # one-way GRU needs more: 8 epochs +0.52 / +0.59 (seeds 2, 3), 3 epochs -0.45; SimpleRNN,
    # 3 epochs: -3.46.
    Family("bigru", 1000, 5, 1.5, {"batch_size": 16, "learning_rate": 1.0e-2}),
    # conv2d AE (seed 002) on the procedural shapes: mean PSNR over the Gaussian filter at its
    # tuned sigma (19.0 dB; noisy input 16.4 dB): 2,000 images x 4 epochs, batch 16: margins
    # +0.68 (seed 1), +0.39 (seed 2). 1,000 x 4: -0.58; 1,000 x 2: -1.20. (dense AE: not
    # past the Gaussian filter in a short training: 1,000 x 30 epochs, lr 2e-3, -0.63; no row.)
    Family("conv2d_ae", 2000, 4, 0.2, {"batch_size": 16}),
    # Issue 15's families (fresh noise every batch, cosine schedule).
    # spectral CNN over the DFT bins, against the seed's lowpass (2.45-2.47 dB SNRi): 2,000
    # signals x 3 epochs, batch 32: margins +8.40 (seed 1), +8.13 (seed 2).
    Family("multisine_spectral", 2000, 3, 4.0, {"batch_size": 32}),
    # 1-D U-Net on sines, against the order-3 lowpass (9.0-9.2 dB): 1,000 x 5 epochs, batch
    # 16: margins +5.85 (seed 1), +5.83 (seed 2). (On quadratics its tiny training was erratic:
    # 4,000 x 4 at lr 2e-3 +1.88 / -0.07, at lr 5e-3 +3.28 / -3.09; sines are the U-Net row.)
    Family("sine_unet", 1000, 5, 2.5, {"batch_size": 16}),
    # 2-D U-Net, against the tuned Gaussian filter (19.0-19.1 dB PSNR; input 16.4): 1,000
    # images x 3 epochs, batch 16: margins +2.81 (seed 1), +3.15 (seed 2).
    Family("images_unet", 1000, 3, 1.4, {"batch_size": 16}),
]
SEED = 1


def _scores(cfg: dict[str, Any], model: str, data_dir: Path,
            model_dir: Path) -> dict[str, float]:
    """``{"model", "identity", "lowpass"}``: the score of each on the validation split (dB)."""
    from denoisebench.config import dataset_of
    from denoisebench.data import kinds
    from denoisebench.data.shards import DatasetReader
    from denoisebench.evaluation import baselines, image_baselines, image_metrics, metrics
    from denoisebench.evaluation.images import tuning_images
    from denoisebench.inference import Denoiser

    name, ds = dataset_of(cfg, model)
    reader = DatasetReader(data_dir / name)
    clean, mixed = reader.read("validation", "clean"), reader.read("validation", "mixed")
    estimate = Denoiser(model_dir)(mixed)
    if kinds.is_image(ds):
        gaussian = [b for b in image_baselines.BASELINES if b.name == "gaussian"]
        tuned = image_baselines.tune(*tuning_images(reader, int(cfg["evaluation"][
            "tune_examples"])), gaussian)
        lowpass = gaussian[0](mixed, tuned["gaussian"]["settings"])

        def score(est: np.ndarray) -> float:
            return float(np.mean(image_metrics.psnr_db(clean, est)))
    else:
        (lp,) = [b for b in baselines.build(ds, {}) if b.name == "lowpass"]
        lowpass = lp.fn(mixed)

        def score(est: np.ndarray) -> float:
            v = metrics.per_example(clean, mixed, est)
            return float(metrics.aggregate_snri_db(v["noise_energy"], v["error_energy"]))
    return {"model": score(estimate), "identity": score(mixed), "lowpass": score(lowpass)}


@pytest.mark.parametrize("family", FAMILIES, ids=[f.model for f in FAMILIES])
def test_model_beats_identity_and_lowpass(family: Family, tmp_path: Path) -> None:
    full = read_yaml(REPO / "params.yaml")
    dataset = full["models"][family.model]["dataset"]
    seed = int(os.environ.get("LEARNING_SEED", SEED))
    cfg, params = tiny_config(tmp_path, {
        "seed": seed,
        "datasets": {dataset: {"train_size": family.train_rows,
                               "validation_size": family.validation_rows}},
        "models": {family.model: {"epochs": family.epochs, "shuffle_buffer": family.train_rows,
                                  **family.settings}}})
    generate_datasets(cfg, [dataset], tmp_path / "data")
    run([str(BIN / "denoisebench"), "train", "--model", family.model, "--params", str(params),
         "--data-dir", str(tmp_path / "data"), "--out", str(tmp_path / "model"),
         "--threads", "1"], tmp_path, timeout=SAFETY_S)
    s = _scores(cfg, family.model, tmp_path / "data", tmp_path / "model")
    margin = s["model"] - max(s["identity"], s["lowpass"])
    print(json.dumps({"model": family.model, "seed": seed, **s, "margin": margin}))
    assert margin >= family.min_margin_db, (
        f"{family.model} did not learn: {s['model']:.2f} dB against identity "
        f"{s['identity']:.2f} dB and lowpass {s['lowpass']:.2f} dB on {family.validation_rows} "
        f"validation examples (margin {margin:.2f} dB, required {family.min_margin_db} dB)")
