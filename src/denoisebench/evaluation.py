"""Judge one trained model and the classical baselines on its dataset's validation split.

Writes ``metrics/<model>.json`` (one object per method, the model first: DESIGN.md
"Outputs"), ``metrics/<model>/examples.parquet`` (per-example values of every method, so any
figure can be recomputed) and ``metrics/<model>/panels.npz`` (a few validation examples,
clean / mixed / each method, for the report's panels).
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import baselines, metrics
from . import config as cfgmod
from .data.generate import dataset_root
from .data.shards import DatasetReader, atomic_write_bytes, atomic_write_text

log = logging.getLogger(__name__)


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
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Metrics of every method on the same examples.

    Args:
        clean, mixed: ``(batch, ...)`` validation examples in signal units.
        estimates: ``{method: (batch, ...)}``, in the order they are to be reported.
        ids: ``(batch,)`` example ids.

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
        frame = pd.DataFrame({k: values[k] for k in metrics.PER_EXAMPLE})
        frame.insert(0, "id", ids)
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
    """Evaluate ``models.<name>`` against the baselines; write the three outputs atomically.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: the validation shards fail their checks.
        ModelLoadError: the model folder is incomplete.
    """
    from .inference import Denoiser

    ds_name, ds = cfgmod.dataset_of(cfg, name)
    ev = cfg["evaluation"]
    reader = DatasetReader(dataset_root(ds_name, data_dir))
    clean = reader.read("validation", "clean")
    mixed = reader.read("validation", "mixed")
    ids = reader.ids("validation")
    denoiser = Denoiser(model_dir or Path("models") / name, batch_size=int(ev["batch_size"]))
    log.info("evaluating %s on %d validation examples of %s", name, len(clean), ds_name)
    estimates: dict[str, np.ndarray] = {name: denoiser(mixed)}
    settings: dict[str, dict[str, Any]] = {
        name: {"params": denoiser.metadata.get("trainable_params"),
               "seed_params": denoiser.metadata.get("seed_params")}
    }
    for method, (est, info) in baselines.run_baselines(ds, mixed).items():
        estimates[method] = est
        settings[method] = {k: v for k, v in info.items() if isinstance(v, int | float)}
    summaries, frame = judge(clean, mixed, estimates, ids, float(ev["confidence"]),
                             int(ev["bootstrap"]), int(cfg["seed"]))
    result = {m: {**summaries[m], **{k: v for k, v in settings[m].items() if v is not None}}
              for m in estimates}
    for m, s in result.items():
        log.info("%-10s SNRi agg %.2f dB [%.2f, %.2f], MAE %.4f", m, s["snri_db_agg"],
                 *s["snri_db_agg_ci"], s["mae"])

    out = Path(out_dir)
    atomic_write_text(out / f"{name}.json", json.dumps(result, indent=1) + "\n")
    atomic_write_bytes(out / name / "examples.parquet", lambda tmp: frame.to_parquet(tmp))
    sel = panel_indices(len(clean), int(ev["panels"]))
    arrays = {"ids": ids[sel], "clean": clean[sel], "mixed": mixed[sel], "fs": np.float64(ds.get(
        "fs", np.nan) or np.nan), "methods": np.array(list(estimates))}
    arrays.update({f"est_{m}": np.asarray(e)[sel] for m, e in estimates.items()})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    atomic_write_bytes(out / name / "panels.npz", lambda tmp: tmp.write_bytes(buf.getvalue()))
    return result
