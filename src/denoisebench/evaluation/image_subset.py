"""The image methods judged on a subset of the validation images: BM3D and, for
``images_blur``, the BM3D-deblurring oracle (:mod:`denoisebench.evaluation.bm3d_methods`).

BM3D costs about 0.3 s per 28 x 28 image on one core, so at default size it runs on
``evaluation.bm3d_examples`` validation images (default
:data:`~denoisebench.evaluation.bm3d_methods.DEFAULT_EXAMPLES`; null: all of them), evenly
spread over the split (:func:`denoisebench.evaluation.common.panel_indices`: the same images for
every model of a dataset). Each row's ``n`` is the subset's size and its intervals come from
bootstrap resamples of the subset; so that it can be compared with the model judged on every
image, each row also holds the model on the same images and the paired difference:

* ``validation_images``: the size of the whole split;
* ``model_psnr_db_same_images``, ``model_ssim_same_images`` (each with ``_ci``): the model's
  means on the subset;
* ``psnr_db_minus_model`` (with ``_ci``): the mean over the subset of this method's PSNR minus
  the model's, image by image (a paired difference: much tighter than the two intervals).

Without the optional ``bm3d`` package the rows are left out with a log message.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import bm3d_methods, common, cost, image_metrics, image_truth
from .metrics import bootstrap_indices

log = logging.getLogger(__name__)


def subset_size(ev: Mapping[str, Any], n: int) -> int:
    """Validation images the subset methods run on: ``evaluation.bm3d_examples`` (default
    :data:`~denoisebench.evaluation.bm3d_methods.DEFAULT_EXAMPLES`; None: all), at most ``n``."""
    k = ev.get("bm3d_examples", bm3d_methods.DEFAULT_EXAMPLES)
    return n if k is None else min(int(k), n)


def paired(values: Mapping[str, np.ndarray], model: Mapping[str, np.ndarray],
           ci: tuple[float, np.ndarray]) -> dict[str, Any]:
    """The model's means on the same images and the paired PSNR difference (module doc).

    Args:
        values, model: per-image metrics (``psnr_db``, ``ssim``: ``(k,)``) of the method and
            of the model on the same images.
        ci: ``(confidence, bootstrap indices (resamples, k))``.
    """
    confidence, idx = ci
    lo, hi = 100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2

    def mean_ci(v: np.ndarray) -> tuple[float, list[float]]:
        means = v[idx].mean(axis=1)
        return float(np.mean(v)), [float(np.percentile(means, lo)),
                                   float(np.percentile(means, hi))]

    out: dict[str, Any] = {}
    for key in ("psnr_db", "ssim"):
        out[f"model_{key}_same_images"], out[f"model_{key}_same_images_ci"] = mean_ci(
            np.asarray(model[key], np.float64))
    diff = np.asarray(values["psnr_db"], np.float64) - np.asarray(model["psnr_db"], np.float64)
    out["psnr_db_minus_model"], out["psnr_db_minus_model_ci"] = mean_ci(diff)
    return out


def subset_estimates(cfg: Mapping[str, Any], ds_name: str, ds: Mapping[str, Any], reader: Any,
                     mixed: np.ndarray, sel: np.ndarray,
                     tune_images: tuple[np.ndarray, np.ndarray],
                     ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]], cost.Timings]:
    """``({method: estimate (k, H, W)}, {method: settings}, timings)`` of BM3D (tuned on the
    training ``tune_images``) and, where the true blur is recoverable, the deblurring oracle,
    on the validation images ``mixed[sel]``; all empty without the ``bm3d`` package."""
    if not bm3d_methods.available():
        log.warning("%s", bm3d_methods.MISSING)
        return {}, {}, {}
    tc, tm = tune_images
    pick = common.panel_indices(len(tc), bm3d_methods.TUNE_IMAGES)
    tuned = bm3d_methods.tune(tc[pick], tm[pick])
    chosen = dict(tuned["settings"])
    log.info("tuned bm3d on %d training images (%d evaluations): %s (train PSNR %.2f dB)",
             len(pick), tuned["evaluations"], chosen, tuned["train_psnr_db"])
    est, sec = cost.timed(lambda x: bm3d_methods.run(x, chosen), mixed[sel])
    estimates = {bm3d_methods.NAME: est}
    # tuned: the family (one level, or a scale of each image's estimate) and its value
    settings = {bm3d_methods.NAME: {**chosen, "tuned_params": 2,
                                    "tuned_on_train_images": len(pick)}}
    timings = {bm3d_methods.NAME: (sec, len(sel))}
    truth = image_truth.true_degradation(ds_name, ds, int(cfg["seed"]), reader)
    if truth is not None:
        blur, r = truth[0][sel], image_truth.noise_std(truth[1][sel])
        est, sec = cost.timed(lambda x: bm3d_methods.deblur_oracle(x, blur, r), mixed[sel])
        estimates[bm3d_methods.ORACLE] = est
        settings[bm3d_methods.ORACLE] = {}
        timings[bm3d_methods.ORACLE] = (sec, len(sel))
    return estimates, settings, timings


def judge_subset(clean: np.ndarray, model_est: np.ndarray, ids: np.ndarray, sel: np.ndarray,
                 estimates: Mapping[str, np.ndarray], settings: Mapping[str, Mapping[str, Any]],
                 bootstrap: tuple[float, int, int],
                 ) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Summaries (with the paired comparison, module doc) and per-image rows of the subset
    methods on validation images ``sel`` of ``clean`` ``(n, H, W)``; ``model_est`` is the
    model's estimate of every validation image. Every row uses the same resamples of the
    subset."""
    if not estimates:
        return {}, pd.DataFrame()
    confidence, resamples, seed = bootstrap
    summaries, frame = common.judge_methods(
        estimates, ids[sel], lambda est: image_metrics.per_image(clean[sel], est),
        image_metrics.summarize, image_metrics.PER_IMAGE, bootstrap)
    model = image_metrics.per_image(clean[sel], model_est[sel])
    idx = bootstrap_indices(len(sel), resamples, seed)  # judge_methods' own draw
    result = {}
    for m, s in summaries.items():
        values = image_metrics.per_image(clean[sel], estimates[m])
        result[m] = {**s, "validation_images": len(clean), **dict(settings[m]),
                     **paired(values, model, (confidence, idx))}
    return result, frame
