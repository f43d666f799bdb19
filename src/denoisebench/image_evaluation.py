"""Judge one image denoiser (seeds 002/003) and the classical image baselines.

Called by :func:`denoisebench.evaluation.evaluate` for image datasets; writes the same
outputs as the signal evaluation:

* ``metrics/<model>.json``: one object per method, the model first, then ``gaussian``,
  ``median``, ``nl_means``, ``wavelet``, ``tv`` (settings tuned on training images, see
  :mod:`denoisebench.image_baselines`) and ``noisy`` (the input itself); keys ``n``,
  ``psnr_db``, ``ssim``, ``mse``, ``mae``, each with ``_ci`` ``[low, high]`` (95 % bootstrap,
  shared resamples), plus ``params``/``seed_params`` (model) or the tuned settings;
* ``metrics/<model>/examples.parquet``: per image and method ``psnr_db``, ``ssim``, ``mse``,
  ``mae``;
* ``metrics/<model>/panels.npz``: a few validation images, ``clean``, ``mixed`` and
  ``est_<method>`` each ``(k, 28, 28)``, ``ids``, ``methods``;
* ``metrics/<model>/robustness.npz``: seed 003's sweep on one validation image (blur
  ``0.5 i``, uniform noise ``+-0.2 i``, i = 0..5): ``clean`` (28, 28), ``inputs`` and
  ``outputs`` (6, 28, 28), ``sigma``, ``r``, ``psnr_db``, ``ssim`` (6,), ``index``; the report
  draws it without TensorFlow.
"""

from __future__ import annotations

import json
import logging
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import config as cfgmod
from . import image_baselines, image_metrics
from .data.generate import dataset_root
from .data.images import robustness_inputs
from .data.shards import DatasetReader, atomic_write_bytes, atomic_write_npz, atomic_write_text
from .metrics import bootstrap_indices

log = logging.getLogger(__name__)

ROBUSTNESS_STEPS = range(6)
ROBUSTNESS_INDEX = 3  # the seed shows test image 3


def panel_indices(n: int, count: int) -> np.ndarray:
    """``count`` evenly spread image indices out of ``n`` (the same for every method)."""
    return np.unique(np.linspace(0, n - 1, num=min(count, n)).round().astype(int))


def tuning_images(reader: DatasetReader,
                  count: int = image_baselines.TUNE_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """``(clean, mixed)`` ``(k, H, W)``: ``count`` rows spread over the first *training* shard
    (the baselines' grid search never sees validation images)."""
    entry = reader.shards("train")[0]
    clean, mixed = (reader.read_entry(entry, k) for k in ("clean", "mixed"))
    sel = panel_indices(len(clean), count)
    return clean[sel], mixed[sel]


def judge(clean: np.ndarray, estimates: Mapping[str, np.ndarray], ids: np.ndarray,
          confidence: float, resamples: int, seed: int,
          ) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Per-image metrics of every method and their summaries (same bootstrap resamples).

    Args:
        clean: ``(batch, H, W)`` validation images; estimates: ``{method: (batch, H, W)}``.
        ids: ``(batch,)`` example ids.

    Returns:
        ``({method: summary}, per-image DataFrame with columns method, id, psnr_db, ssim, mse,
        mae)``.
    """
    idx = bootstrap_indices(len(clean), resamples, seed)
    summaries, frames = {}, []
    for method, est in estimates.items():
        values = image_metrics.per_image(clean, est)
        summaries[method] = image_metrics.summarize(values, confidence, resamples, idx=idx)
        frame = pd.DataFrame({k: values[k] for k in image_metrics.PER_IMAGE})
        frame.insert(0, "id", ids)
        frame.insert(0, "method", method)
        frames.append(frame)
    return summaries, pd.concat(frames, ignore_index=True)


def robustness(denoiser: Any, clean: np.ndarray, index: int, seed: int,
               dataset: str) -> dict[str, np.ndarray]:
    """Seed 003's sweep: growing blur and noise on validation image ``index`` of ``clean``
    ``(batch, 28, 28)``, denoised by ``denoiser``. The noise is seeded by ``seed`` and the
    dataset's name, so every model of a dataset sees the same inputs."""
    rng = np.random.default_rng([int(seed), zlib.crc32(dataset.encode())])
    img = clean[index]
    sweep = robustness_inputs(img, ROBUSTNESS_STEPS, rng)
    outputs = denoiser(sweep["inputs"])
    target = np.repeat(img[None], len(outputs), axis=0)
    return {"clean": img, "inputs": sweep["inputs"], "outputs": outputs,
            "sigma": sweep["sigma"], "r": sweep["r"], "index": np.int64(index),
            "psnr_db": image_metrics.psnr_db(target, outputs),
            "ssim": image_metrics.ssim(target, outputs),
            "input_psnr_db": image_metrics.psnr_db(target, sweep["inputs"])}


def evaluate_images(
    cfg: Mapping[str, Any],
    name: str,
    model_dir: str | Path | None = None,
    data_dir: str | Path = "data",
    out_dir: str | Path = "metrics",
) -> dict[str, Any]:
    """Evaluate image model ``models.<name>`` against the tuned baselines; write the outputs
    listed in the module doc (each atomically) and return the metrics mapping.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: shards fail their manifest checks.
        ModelLoadError: the model folder is incomplete.
    """
    from .inference import Denoiser

    ds_name, _ = cfgmod.dataset_of(cfg, name)
    ev = cfg["evaluation"]
    reader = DatasetReader(dataset_root(ds_name, data_dir))
    clean = reader.read("validation", "clean")
    mixed = reader.read("validation", "mixed")
    ids = reader.ids("validation")
    denoiser = Denoiser(model_dir or Path("models") / name, batch_size=int(ev["batch_size"]))
    log.info("evaluating %s on %d validation images of %s", name, len(clean), ds_name)
    estimates: dict[str, np.ndarray] = {name: denoiser(mixed)}
    settings: dict[str, dict[str, Any]] = {
        name: {"params": denoiser.metadata.get("trainable_params"),
               "seed_params": denoiser.metadata.get("seed_params")}}

    tune_clean, tune_mixed = tuning_images(
        reader, int(ev.get("tune_examples", image_baselines.TUNE_IMAGES)))
    tuned = image_baselines.tune(tune_clean, tune_mixed)
    for method, info in tuned.items():
        log.info("tuned %s on %d training images: %s (train PSNR %.2f dB)", method,
                 len(tune_clean), info["settings"], info["train_psnr_db"])
    for method, (est, chosen) in image_baselines.run(mixed, tuned).items():
        estimates[method] = est
        settings[method] = {**chosen, "tuned_on_train_images": len(tune_clean)}
    estimates["noisy"] = mixed
    settings["noisy"] = {}

    summaries, frame = judge(clean, estimates, ids, float(ev["confidence"]),
                             int(ev["bootstrap"]), int(cfg["seed"]))
    result = {m: {**summaries[m], **{k: v for k, v in settings[m].items() if v is not None}}
              for m in estimates}
    for m, s in result.items():
        log.info("%-15s PSNR %.2f dB [%.2f, %.2f], SSIM %.3f [%.3f, %.3f]", m, s["psnr_db"],
                 *s["psnr_db_ci"], s["ssim"], *s["ssim_ci"])

    out = Path(out_dir)
    atomic_write_text(out / f"{name}.json", json.dumps(result, indent=1) + "\n")
    atomic_write_bytes(out / name / "examples.parquet", lambda tmp: frame.to_parquet(tmp))
    sel = panel_indices(len(clean), int(ev["panels"]))
    arrays: dict[str, Any] = {"ids": ids[sel], "clean": clean[sel], "mixed": mixed[sel],
                              "fs": np.float64(np.nan), "methods": np.array(list(estimates))}
    arrays.update({f"est_{m}": np.asarray(e)[sel] for m, e in estimates.items()})
    atomic_write_npz(out / name / "panels.npz", arrays)
    index = min(ROBUSTNESS_INDEX, len(clean) - 1)
    atomic_write_npz(out / name / "robustness.npz",
              robustness(denoiser, clean, index, int(cfg["seed"]), ds_name))
    return result
