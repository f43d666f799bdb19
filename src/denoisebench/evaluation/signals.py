"""Judge one trained 1-D model, the classical baselines and the reference bounds.

All on the same validation examples of the model's dataset (:func:`denoisebench.evaluation.
evaluate` sends image datasets to :mod:`denoisebench.evaluation.images`). Writes, each
atomically (:func:`denoisebench.evaluation.common.write_outputs`):

* ``metrics/<model>.json`` (docs/design.md "Outputs"): one object per method, the model first,
  then every baseline (:mod:`denoisebench.evaluation.baselines`, tuned on the train split) and
  every reference (:mod:`denoisebench.evaluation.bounds`), all with the same keys (``n``,
  ``snri_db_agg``, ``snri_db_mean``, ``snr_in_db``, ``snr_out_db``, ``mse``, ``mae``,
  ``si_sdr_db``, each with ``_ci`` ``[low, high]``, and ``snr_skipped``: examples with a silent
  clean signal, left out of the per-example SNR means) plus numeric settings; last, where the
  dataset kind has one, the limit ``cramer_rao`` (``snri_db_agg``, ``fitted_params``,
  ``samples``: a figure, no CI);
* ``metrics/<model>/examples.parquet``: per example and method (``method``, ``kind``, ``id``,
  every per-example metric and the signal/noise/error energies, so any aggregate can be
  recomputed);
* ``metrics/<model>/panels.npz``: a few validation examples, ``clean``, ``mixed`` and
  ``est_<method>`` for every method, ``ids``, ``fs``, ``methods``, ``kinds``;
* ``metrics/<model>/sweep.csv``: the SNR sweep (:mod:`denoisebench.evaluation.sweep`);
* ``metrics/<model>/cost.json``: every method's inference time per 1,000 examples
  (:mod:`denoisebench.evaluation.cost`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import config as cfgmod
from .. import evaluation
from ..data.folder import noise_of
from ..data.generate import resolve_root
from ..data.shards import DatasetReader
from . import baselines, bounds, common, cost, metrics, sweep
from .shared import SharedResults

log = logging.getLogger(__name__)

ENERGIES = ("signal_energy", "noise_energy", "error_energy")
#: ``(kind, fn(mixed (batch, time), rows (batch,)) -> estimate, settings)`` of one method
Method = tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray], dict[str, Any]]


def judge(
    clean: np.ndarray,
    mixed: np.ndarray,
    estimates: Mapping[str, np.ndarray],
    ids: np.ndarray,
    confidence: float,
    resamples: int,
    seed: int,
    kinds: Mapping[str, str] | None = None,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Metrics of every method on the same examples (:func:`common.judge_methods` with the
    signal metrics).

    Args:
        clean, mixed: ``(batch, ...)`` validation examples in signal units.
        estimates: ``{method: (batch, ...)}``, in the order they are to be reported.
        ids: ``(batch,)`` example ids.
        kinds: ``{method: kind}`` for the ``kind`` column (model, baseline, oracle, ...).

    Returns:
        ``({method: summary}, per-example DataFrame)``; every summary uses the same bootstrap
        resamples, so intervals are comparable.
    """
    return common.judge_methods(estimates, ids, lambda est: metrics.per_example(clean, mixed, est),
                                metrics.summarize, (*metrics.PER_EXAMPLE, *ENERGIES),
                                (confidence, resamples, seed), kinds or {})


def evaluate_signals(cfg: Mapping[str, Any], name: str, model_dir: str | Path | None,
                     data_dir: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """Evaluate 1-D model ``models.<name>`` against the baselines and bounds; write the four
    outputs listed in the module doc and return the metrics mapping.

    Cost (default params, 2 cores): the grid search on ``evaluation.tune_examples`` train
    examples, the blind NLS fit on every validation example and the sweep subset, and the
    model's inference, about 15-30 s in all.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: the validation shards fail their checks.
        ModelLoadError: the model folder is incomplete.
    """
    ds_name, ds = cfgmod.dataset_of(cfg, name)
    ev = cfg["evaluation"]
    reader = DatasetReader(resolve_root(ds_name, ds, data_dir))
    clean, mixed, ids = common.read_validation(reader)
    noise = np.nan_to_num(noise_of(reader, "validation"))
    # the clean signal under missing targets (NaN in ``clean``): mixed - noise (additive noise)
    clean_full = np.where(np.isfinite(clean), clean.astype(np.float64),
                          mixed.astype(np.float64) - noise)
    denoiser = common.load_denoiser(cfg, name, model_dir)
    log.info("evaluating %s on %d validation examples of %s", name, len(clean), ds_name)
    shared = SharedResults.for_dataset(cfg, ds_name, ds, reader.manifest_path)

    methods = judged_methods(cfg, name, ds_name, ds, reader, denoiser, clean_full, shared)
    kinds = {m: k for m, (k, _, _) in methods.items()}
    estimates, timings = _estimates(methods, mixed, min(len(mixed), int(ev["batch_size"])),
                                    shared)
    summaries, frame = judge(clean, mixed, estimates, ids, float(ev["confidence"]),
                             int(ev["bootstrap"]), int(cfg["seed"]), kinds)
    result = common.with_settings(summaries, {m: methods[m][2] for m in estimates})
    skipped = summaries[name]["snr_skipped"]
    if skipped:
        log.info("%d of %d validation examples have a silent clean signal: the per-example SNR "
                 "means skip them (snr_skipped), the aggregate SNRi, MSE and MAE include them",
                 skipped, len(clean))
    lim = bounds.limit(ds, int(np.prod(clean.shape[1:])))
    if lim is not None:
        result[bounds.LIMIT] = lim
    for m, s in result.items():
        if "snri_db_agg_ci" in s:
            log.info("%-14s SNRi agg %6.2f dB [%.2f, %.2f], MAE %.4f", m, s["snri_db_agg"],
                     *s["snri_db_agg_ci"], s["mae"])
    table = sweep_table(cfg, name, {m: (k, fn if k == "model" else shared.estimator(m, s, fn), s)
                                    for m, (k, fn, s) in methods.items()},
                        (clean, clean_full, noise), lim)
    log.info("%s", shared.summary())
    panels = common.panel_arrays(common.panel_indices(len(clean), int(ev["panels"])), ids,
                                 clean, mixed, ds.get("fs") or np.nan, estimates, kinds,
                                 np.float32)
    common.write_outputs(out_dir, name, result, frame,
                         texts={"sweep.csv": table.to_csv(index=False, float_format="%.6g"),
                                "cost.json": cost.cost_json(timings)},
                         arrays={"panels.npz": panels})
    return result


def _estimates(methods: Mapping[str, Method], mixed: np.ndarray, warmup: int,
               shared: SharedResults) -> tuple[dict[str, np.ndarray], cost.Timings]:
    """Every method's estimate of the validation examples ``mixed``, in order, and its wall
    time (:func:`cost.timed`; a model first runs untimed on ``warmup`` examples). The
    baselines' and references' estimates and times come from ``shared`` when another model
    of the dataset computed them."""
    rows = np.arange(len(mixed))
    estimates: dict[str, np.ndarray] = {}
    timings: cost.Timings = {}
    for m, (kind, fn, settings) in methods.items():
        def run(f: Callable[..., np.ndarray] = fn, k: str = kind) -> tuple[np.ndarray, float]:
            return cost.timed(lambda x: f(x, rows[:len(x)]), mixed,
                              warmup if k == "model" else 0)
        estimates[m], seconds = (run() if kind == "model" else
                                 shared.get(("timed", m, dict(settings), mixed), run))
        timings[m] = (seconds, len(mixed))
        log.info("%-14s %.2f s", m, seconds)
    return estimates, timings


def sweep_table(cfg: Mapping[str, Any], name: str, methods: Mapping[str, Method],
                arrays: tuple[np.ndarray, np.ndarray, np.ndarray],
                lim: Mapping[str, Any] | None) -> pd.DataFrame:
    """``sweep.csv`` of 1-D model ``name``: every method's SNRi against input SNR
    (:mod:`denoisebench.evaluation.sweep`) on the validation ``(clean, clean_full, noise)``,
    with the columns :func:`denoisebench.evaluation.method_names` fixes (the ones dvc.yaml's
    plot names)."""
    ev = cfg["evaluation"]
    clean, clean_full, noise = arrays
    t0 = time.perf_counter()
    sw = ev["sweep"]
    long = sweep.run({m: fn for m, (_, fn, _) in methods.items()}, clean, clean_full, noise,
                     sweep.voiced_subset(clean_full, int(sw["examples"])), sweep.levels(sw))
    table = sweep.summarize(long, float(ev["confidence"]), int(ev["bootstrap"]),
                            int(cfg["seed"]), lim["snri_db_agg"] if lim else None, bounds.LIMIT)
    columns = ["snr_in_db"]
    for m in evaluation.method_names(cfg, name):
        columns += [m] if m == bounds.LIMIT else [m, f"{m}_ci_low", f"{m}_ci_high"]
    table = table.reindex(columns=columns)
    log.info("SNR sweep: %d levels x %d examples x %d methods in %.1f s", len(table),
             int(sw["examples"]), len(methods), time.perf_counter() - t0)
    return table


def train_subset(reader: DatasetReader, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``count`` train examples ``(clean, mixed)``, read shard by shard (for tuning
    the baselines: never validation)."""
    cleans, mixeds, have = [], [], 0
    for c, m in reader.iter_shards("train", ["clean", "mixed"]):
        cleans.append(c[: count - have])
        mixeds.append(m[: count - have])
        have += len(cleans[-1])
        if have >= count:
            break
    return np.concatenate(cleans), np.concatenate(mixeds)


def judged_methods(cfg: Mapping[str, Any], name: str, ds_name: str, ds: Mapping[str, Any],
                   reader: DatasetReader, denoiser: Any, clean_full: np.ndarray,
                   shared: SharedResults) -> dict[str, Method]:
    """``{method: (kind, fn(mixed (batch, time), rows (batch,)) -> estimate, settings)}`` in
    report order: the model, the baselines (tuned on the train split, the tuning read from
    ``shared`` when another model of the dataset did it), the references."""
    ev = cfg["evaluation"]
    methods: dict[str, Method] = {
        name: ("model", lambda x, rows: denoiser(x), common.model_settings(denoiser))}
    t0 = time.perf_counter()
    tc, tm = train_subset(reader, int(ev["tune_examples"]))
    fs = baselines.signal_fs(ds)
    tuned = shared.get(("tune_all", tc, tm, fs), lambda: baselines.tune_all(tc, tm, fs))
    log.info("baselines tuned on %d train examples in %.1f s", len(tc), time.perf_counter() - t0)
    for b in baselines.build(ds, tuned, len(tc)):
        methods[b.name] = ("baseline", lambda x, rows, f=b.fn: f(x), dict(b.settings))
    freqs = None
    if ds.get("kind") == "multisine":
        freqs = bounds.true_multisine_frequencies(ds_name, ds, int(cfg["seed"]), reader)
    for r in bounds.references(ds, clean_full, freqs):
        methods[r.name] = (r.kind, r.fn, dict(r.settings))
    return methods
