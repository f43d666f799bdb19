"""Judge one trained 1-D model, the classical baselines and the reference bounds.

All on the same validation examples of the model's dataset (image datasets are dispatched to
:mod:`denoisebench.image_evaluation`). Writes, each atomically:

* ``metrics/<model>.json`` (DESIGN.md "Outputs"): one object per method, the model first,
  then every baseline (:mod:`denoisebench.baselines`, tuned on the train split) and every
  reference (:mod:`denoisebench.bounds`), all with the same keys (``n``, ``snri_db_agg``,
  ``snri_db_mean``, ``snr_in_db``, ``snr_out_db``, ``mse``, ``mae``, ``si_sdr_db``, each with
  ``_ci`` ``[low, high]``, and ``snr_skipped``: examples with a silent clean signal, left out
  of the per-example SNR means) plus numeric settings; last, where the dataset kind has one, the
  limit ``cramer_rao`` (``snri_db_agg``, ``fitted_params``, ``samples``: a figure, no CI);
* ``metrics/<model>/examples.parquet``: per example and method (``method``, ``kind``, ``id``,
  every per-example metric and the signal/noise/error energies, so any aggregate can be
  recomputed);
* ``metrics/<model>/panels.npz``: a few validation examples, ``clean``, ``mixed`` and
  ``est_<method>`` for every method, ``ids``, ``fs``, ``methods``, ``kinds``;
* ``metrics/<model>/sweep.csv``: the SNR sweep (:mod:`denoisebench.sweep`).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import baselines, bounds, metrics, sweep
from . import config as cfgmod
from .byod import noise_of
from .data.generate import resolve_root
from .data.shards import DatasetReader, atomic_write_bytes, atomic_write_npz, atomic_write_text

log = logging.getLogger(__name__)

ENERGIES = ("signal_energy", "noise_energy", "error_energy")


def panel_indices(n: int, count: int) -> np.ndarray:
    """``count`` evenly spread example indices out of ``n`` (the same for every method)."""
    return np.unique(np.linspace(0, n - 1, num=min(count, n)).round().astype(int))


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
    """Metrics of every method on the same examples.

    Args:
        clean, mixed: ``(batch, ...)`` validation examples in signal units.
        estimates: ``{method: (batch, ...)}``, in the order they are to be reported.
        ids: ``(batch,)`` example ids.
        kinds: ``{method: kind}`` for the ``kind`` column (model, baseline, oracle, ...).

    Returns:
        ``({method: summary}, per-example DataFrame)``; every summary uses the same bootstrap
        resamples, so intervals are comparable.
    """
    idx = metrics.bootstrap_indices(len(clean), resamples, seed)
    summaries: dict[str, dict[str, Any]] = {}
    frames = []
    for method, est in estimates.items():
        values = metrics.per_example(clean, mixed, est)
        summaries[method] = metrics.summarize(values, confidence, resamples, idx=idx)
        frame = pd.DataFrame({k: values[k] for k in (*metrics.PER_EXAMPLE, *ENERGIES)})
        frame.insert(0, "id", ids)
        frame.insert(0, "kind", (kinds or {}).get(method, ""))
        frame.insert(0, "method", method)
        frames.append(frame)
    return summaries, pd.concat(frames, ignore_index=True)


def evaluate(
    cfg: Mapping[str, Any],
    name: str,
    model_dir: str | Path | None = None,
    data_dir: str | Path = "data",
    out_dir: str | Path = "metrics",
) -> dict[str, Any]:
    """Evaluate ``models.<name>`` against the baselines and bounds; write the four outputs.

    Cost (default params, 2 cores): the grid search on ``evaluation.tune_examples`` train
    examples, the blind NLS fit on every validation example and the sweep subset, and the
    model's inference, about 15-30 s in all.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: the validation shards fail their checks.
        ModelLoadError: the model folder is incomplete.
    """
    from .inference import Denoiser

    ds_name, ds = cfgmod.dataset_of(cfg, name)
    if ds.get("kind") in ("images", "images_blur"):  # seeds 002/003: PSNR/SSIM, image filters
        from .image_evaluation import evaluate_images

        return evaluate_images(cfg, name, model_dir, data_dir, out_dir)
    ev = cfg["evaluation"]
    seed = int(cfg["seed"])
    reader = DatasetReader(resolve_root(ds_name, ds, data_dir))
    clean = reader.read("validation", "clean")
    mixed = reader.read("validation", "mixed")
    noise = np.nan_to_num(noise_of(reader, "validation"))
    ids = reader.ids("validation")
    # the clean signal under missing targets (NaN in ``clean``): mixed - noise (additive noise)
    clean_full = np.where(np.isfinite(clean), clean.astype(np.float64),
                          mixed.astype(np.float64) - noise)
    denoiser = Denoiser(model_dir or Path("models") / name, batch_size=int(ev["batch_size"]))
    log.info("evaluating %s on %d validation examples of %s", name, len(clean), ds_name)

    methods = judged_methods(cfg, name, ds_name, ds, reader, denoiser, clean_full)
    kinds = {m: k for m, (k, _, _) in methods.items()}
    rows = np.arange(len(clean))
    estimates: dict[str, np.ndarray] = {}
    for m, (_, fn, _) in methods.items():
        t0 = time.perf_counter()
        estimates[m] = fn(mixed, rows)
        log.info("%-14s %.2f s", m, time.perf_counter() - t0)
    summaries, frame = judge(clean, mixed, estimates, ids, float(ev["confidence"]),
                             int(ev["bootstrap"]), seed, kinds)
    result: dict[str, Any] = {
        m: {**summaries[m], **{k: v for k, v in methods[m][2].items() if v is not None}}
        for m in estimates}
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

    t0 = time.perf_counter()
    sw = ev["sweep"]
    # a silent clean signal has no input SNR to sweep: the sweep's subset leaves it out
    voiced = np.flatnonzero(np.any(clean_full != 0, axis=1))
    long = sweep.run({m: fn for m, (_, fn, _) in methods.items()}, clean, clean_full, noise,
                     voiced[sweep.subset(len(voiced), int(sw["examples"]))], sweep.levels(sw))
    table = sweep.summarize(long, float(ev["confidence"]), int(ev["bootstrap"]), seed,
                            lim["snri_db_agg"] if lim else None, bounds.LIMIT)
    columns = ["snr_in_db"]
    for m in method_names(cfg, name):
        columns += [m] if m == bounds.LIMIT else [m, f"{m}_ci_low", f"{m}_ci_high"]
    table = table.reindex(columns=columns)  # the columns dvc.yaml's plot names, always
    log.info("SNR sweep: %d levels x %d examples x %d methods in %.1f s", len(table),
             int(sw["examples"]), len(methods), time.perf_counter() - t0)

    out = Path(out_dir)
    atomic_write_text(out / f"{name}.json", json.dumps(result, indent=1) + "\n")
    atomic_write_bytes(out / name / "examples.parquet", lambda tmp: frame.to_parquet(tmp))
    atomic_write_text(out / name / "sweep.csv", table.to_csv(index=False, float_format="%.6g"))
    sel = panel_indices(len(clean), int(ev["panels"]))
    arrays = {"ids": ids[sel], "clean": clean[sel], "mixed": mixed[sel],
              "fs": np.float64(ds.get("fs") or np.nan), "methods": np.array(list(estimates)),
              "kinds": np.array([kinds[m] for m in estimates])}
    arrays.update({f"est_{m}": np.asarray(e, np.float32)[sel] for m, e in estimates.items()})
    atomic_write_npz(out / name / "panels.npz", arrays)
    return result


Method = tuple[str, Callable[[np.ndarray, np.ndarray], np.ndarray], dict[str, Any]]


IMAGE_KINDS = ("images", "images_blur")


def models_of(cfg: Mapping[str, Any], images: bool) -> list[str]:
    """The models of image datasets (``images=True``) or of 1-D datasets (the rest), in params
    order: Snakemake's evaluate rules split on this (only 1-D models have an SNR sweep)."""
    return [m for m, p in cfg["models"].items()
            if (cfg["datasets"][p["dataset"]]["kind"] in IMAGE_KINDS) == images]


def any_of(names: Iterable[str]) -> str:
    """A regular expression matching exactly one of ``names`` (Snakemake wildcard constraint;
    ``(?!)``, which matches nothing, for none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


def sweep_plot(cfg: Mapping[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The ``dvc plots`` definition of ``metrics/<name>/sweep.csv``: SNRi against input SNR,
    one line per method (``denoisebench export-dvc`` reads it from the rule's params)."""
    return {f"metrics/{name}/sweep.csv": {
        "x": "snr_in_db", "y": method_names(cfg, name),
        "title": f"{name}: SNR improvement against input SNR",
        "x_label": "input SNR (dB)", "y_label": "aggregate SNRi (dB)"}}


def method_names(cfg: Mapping[str, Any], name: str) -> list[str]:
    """The methods a 1-D model's evaluation reports, in order, without running anything: the
    model, its dataset's baselines and references, then the limit where the kind has one.

    These are the columns of ``metrics/<model>/sweep.csv`` (besides ``snr_in_db`` and the
    intervals), fixed by the params so that ``dvc plots`` definitions can name them; a
    reference that cannot run (no true frequencies) leaves its column empty.
    """
    _, ds = cfgmod.dataset_of(cfg, name)
    names = [name]
    names += [b for b in baselines.NAMES if b != "lowpass" or ds.get("lowpass")]
    names += bounds.reference_names(ds)
    if bounds.limit_params(ds) is not None:
        names.append(bounds.LIMIT)
    return names


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
                   reader: DatasetReader, denoiser: Any,
                   clean_full: np.ndarray) -> dict[str, Method]:
    """``{method: (kind, fn(mixed (batch, time), rows (batch,)) -> estimate, settings)}`` in
    report order: the model, the baselines (tuned on the train split), the references."""
    ev = cfg["evaluation"]
    methods: dict[str, Method] = {
        name: ("model", lambda x, rows: denoiser(x),
               {"params": denoiser.metadata.get("trainable_params"),
                "seed_params": denoiser.metadata.get("seed_params")})}
    t0 = time.perf_counter()
    tc, tm = train_subset(reader, int(ev["tune_examples"]))
    tuned = baselines.tune_all(tc, tm, baselines.signal_fs(ds))
    log.info("baselines tuned on %d train examples in %.1f s", len(tc), time.perf_counter() - t0)
    for b in baselines.build(ds, tuned, len(tc)):
        methods[b.name] = ("baseline", lambda x, rows, f=b.fn: f(x), dict(b.settings))
    freqs = None
    if ds.get("kind") == "multisine":
        freqs = bounds.true_multisine_frequencies(ds_name, ds, int(cfg["seed"]), reader)
    for r in bounds.references(ds, clean_full, freqs):
        methods[r.name] = (r.kind, r.fn, dict(r.settings))
    return methods
