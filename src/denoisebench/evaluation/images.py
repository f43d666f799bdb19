"""Judge one image denoiser (seeds 002/003) and the classical image baselines.

Called by :func:`denoisebench.evaluation.evaluate` for image datasets; writes the same
outputs as the signal evaluation (:func:`denoisebench.evaluation.common.write_outputs`):

* ``metrics/<model>.json``: one object per method, the model first, then ``gaussian``,
  ``median``, ``nl_means``, ``wavelet``, ``tv`` (settings tuned on training images, see
  :mod:`denoisebench.evaluation.image_baselines`) and ``noisy`` (the input itself); keys ``n``,
  ``psnr_db``, ``ssim``, ``mse``, ``mae``, each with ``_ci`` ``[low, high]`` (95 % bootstrap,
  shared resamples), plus ``params``/``seed_params`` (model) or the tuned settings and
  ``tuned_params`` (their count); last, with the optional ``bm3d`` package, ``bm3d`` and (for
  ``images_blur``) the oracle ``bm3d_deblurring``, judged on a subset of the validation images
  (``evaluation.bm3d_examples``) with the model on the same images beside them
  (:mod:`denoisebench.evaluation.image_subset`);
* ``metrics/<model>/examples.parquet``: per image and method ``psnr_db``, ``ssim``, ``mse``,
  ``mae`` (the subset methods: their subset's images only);
* ``metrics/<model>/cost.json``: every method's inference time per 1,000 images
  (:mod:`denoisebench.evaluation.cost`);
* ``metrics/<model>/panels.npz``: a few validation images, ``clean``, ``mixed`` and
  ``est_<method>`` each ``(k, 28, 28)``, ``ids``, ``methods`` (not the subset methods);
* ``metrics/<model>/robustness.npz``: seed 003's sweep on one validation image (blur
  ``0.5 i``, uniform noise ``+-0.2 i``, i = 0..5): ``clean`` (28, 28), ``inputs`` and
  ``outputs`` (6, 28, 28), ``sigma``, ``r``, ``psnr_db``, ``ssim`` (6,), ``index``; the report
  draws it without TensorFlow.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import config as cfgmod
from ..data.generate import dataset_root
from ..data.images import robustness_inputs
from ..data.shards import DatasetReader
from . import common, cost, image_baselines, image_metrics, image_subset
from .shared import SharedResults

log = logging.getLogger(__name__)

ROBUSTNESS_STEPS = range(6)
ROBUSTNESS_INDEX = 3  # the seed shows test image 3


def tuning_images(reader: DatasetReader,
                  count: int = image_baselines.TUNE_IMAGES) -> tuple[np.ndarray, np.ndarray]:
    """``(clean, mixed)`` ``(k, H, W)``: ``count`` rows spread over the first *training* shard
    (the baselines' grid search never sees validation images)."""
    entry = reader.shards("train")[0]
    clean, mixed = (reader.read_entry(entry, k) for k in ("clean", "mixed"))
    sel = common.panel_indices(len(clean), count)
    return clean[sel], mixed[sel]


def judge(clean: np.ndarray, estimates: Mapping[str, np.ndarray], ids: np.ndarray,
          confidence: float, resamples: int, seed: int,
          ) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Per-image metrics of every method and their summaries (same bootstrap resamples;
    :func:`common.judge_methods` with the image metrics).

    Args:
        clean: ``(batch, H, W)`` validation images; estimates: ``{method: (batch, H, W)}``.
        ids: ``(batch,)`` example ids.

    Returns:
        ``({method: summary}, per-image DataFrame with columns method, id, psnr_db, ssim, mse,
        mae)``.
    """
    return common.judge_methods(estimates, ids, lambda est: image_metrics.per_image(clean, est),
                                image_metrics.summarize, image_metrics.PER_IMAGE,
                                (confidence, resamples, seed))


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


def evaluate_images(cfg: Mapping[str, Any], name: str, model_dir: str | Path | None,
                    data_dir: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Evaluate image model ``models.<name>`` against the tuned baselines; write the outputs
    listed in the module doc (each atomically) and return the metrics mapping.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: shards fail their manifest checks.
        ModelLoadError: the model folder is incomplete.
    """
    ds_name, ds = cfgmod.dataset_of(cfg, name)
    ev = cfg["evaluation"]
    reader = DatasetReader(dataset_root(ds_name, data_dir))
    clean, mixed, ids = common.read_validation(reader)
    denoiser = common.load_denoiser(cfg, name, model_dir)
    log.info("evaluating %s on %d validation images of %s", name, len(clean), ds_name)
    est, seconds = cost.timed(denoiser, mixed, warmup=min(len(mixed), int(ev["batch_size"])))
    estimates: dict[str, np.ndarray] = {name: est}
    timings: cost.Timings = {name: (seconds, len(mixed))}
    settings: dict[str, dict[str, Any]] = {name: common.model_settings(denoiser)}
    tune = tuning_images(reader, int(ev.get("tune_examples", image_baselines.TUNE_IMAGES)))
    shared = SharedResults.for_dataset(cfg, ds_name, ds, reader.manifest_path)
    _add_baselines(estimates, settings, timings, tune, mixed, shared)
    estimates["noisy"] = mixed
    settings["noisy"] = {}

    bootstrap = (float(ev["confidence"]), int(ev["bootstrap"]), int(cfg["seed"]))
    summaries, frame = judge(clean, estimates, ids, *bootstrap)
    result = common.with_settings(summaries, settings)
    sel = common.panel_indices(len(clean), image_subset.subset_size(ev, len(clean)))
    sub_est, sub_settings, sub_times = shared.get(
        ("subset", mixed, sel, *tune), lambda: image_subset.subset_estimates(
            cfg, ds_name, ds, reader, mixed, sel, tune))
    log.info("%s", shared.summary())
    sub_result, sub_frame = image_subset.judge_subset(clean, estimates[name], ids, sel, sub_est,
                                                      sub_settings, bootstrap)
    result.update(sub_result)
    timings.update(sub_times)
    frame = pd.concat([frame, sub_frame], ignore_index=True) if len(sub_frame) else frame
    for m, s in result.items():
        log.info("%-15s PSNR %.2f dB [%.2f, %.2f], SSIM %.3f [%.3f, %.3f] on %d images", m,
                 s["psnr_db"], *s["psnr_db_ci"], s["ssim"], *s["ssim_ci"], s["n"])
    panels = common.panel_arrays(common.panel_indices(len(clean), int(ev["panels"])), ids,
                                 clean, mixed, np.nan, estimates)
    index = min(ROBUSTNESS_INDEX, len(clean) - 1)
    common.write_outputs(out_dir, name, result, frame,
                         texts={"cost.json": cost.cost_json(timings)}, arrays={
        "panels.npz": panels,
        "robustness.npz": robustness(denoiser, clean, index, int(cfg["seed"]), ds_name)})
    return result


def _add_baselines(estimates: dict[str, np.ndarray], settings: dict[str, dict[str, Any]],
                   timings: cost.Timings, tune: tuple[np.ndarray, np.ndarray],
                   mixed: np.ndarray, shared: SharedResults) -> None:
    """Tune the image baselines on the training images ``tune`` ``(clean, mixed)``, run them
    (timed) on ``mixed``; add their estimates, settings and timings (in order). Tuning,
    estimates and times come from ``shared`` when another model of the dataset computed
    them."""
    tune_clean, tune_mixed = tune
    tuned = shared.get(("image_tune", tune_clean, tune_mixed),
                       lambda: image_baselines.tune(tune_clean, tune_mixed))
    for method, info in tuned.items():
        log.info("tuned %s on %d training images: %s (train PSNR %.2f dB)", method,
                 len(tune_clean), info["settings"], info["train_psnr_db"])
    for b in image_baselines.BASELINES:
        chosen = dict(tuned[b.name]["settings"])
        estimates[b.name], seconds = shared.get(
            ("timed", b.name, chosen, mixed),
            lambda b=b, s=chosen: cost.timed(lambda x: b(x, s), mixed))
        timings[b.name] = (seconds, len(mixed))
        settings[b.name] = {**chosen, "tuned_params": len(chosen),
                            "tuned_on_train_images": len(tune_clean)}
