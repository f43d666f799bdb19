"""What the signal and image evaluations share: loading the model and the validation split,
one judge loop over the methods, and one writer of the outputs (docs/design.md "Outputs")."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..atomic import atomic_write_bytes, atomic_write_npz, atomic_write_text
from ..data.shards import DatasetReader
from .metrics import bootstrap_indices

#: ``estimate (batch, ...) -> {metric: (batch,)}`` of one method on the judged examples
Score = Callable[[np.ndarray], dict[str, np.ndarray]]
#: ``(per-example values, confidence, resamples, idx=...) -> summary``
Summarize = Callable[..., dict[str, Any]]


def panel_indices(n: int, count: int) -> np.ndarray:
    """``count`` evenly spread example indices out of ``n`` (the same for every method)."""
    return np.unique(np.linspace(0, n - 1, num=min(count, n)).round().astype(int))


def load_denoiser(cfg: Mapping[str, Any], name: str, model_dir: str | Path | None) -> Any:
    """The trained ``models.<name>`` (default folder ``models/<name>``), batched as
    ``evaluation.batch_size`` says.

    Raises:
        ModelLoadError: the model folder is incomplete.
    """
    from ..inference import Denoiser

    return Denoiser(model_dir or Path("models") / name,
                    batch_size=int(cfg["evaluation"]["batch_size"]))


def model_settings(denoiser: Any) -> dict[str, Any]:
    """The model's own row settings: its trainable parameters and the seed's figure."""
    return {"params": denoiser.metadata.get("trainable_params"),
            "seed_params": denoiser.metadata.get("seed_params")}


def read_validation(reader: DatasetReader) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(clean, mixed, ids)`` of the validation split."""
    return (reader.read("validation", "clean"), reader.read("validation", "mixed"),
            reader.ids("validation"))


def judge_methods(
    estimates: Mapping[str, np.ndarray],
    ids: np.ndarray,
    score: Score,
    summarize: Summarize,
    columns: tuple[str, ...],
    bootstrap: tuple[float, int, int],
    kinds: Mapping[str, str] | None = None,
) -> tuple[dict[str, dict[str, Any]], pd.DataFrame]:
    """Metrics of every method on the same examples: the judge loop of both modalities.

    Args:
        estimates: ``{method: (batch, ...)}``, in the order they are to be reported.
        ids: ``(batch,)`` example ids.
        score: per-example metrics of one estimate; summarize: their summary.
        columns: the per-example columns of the DataFrame (after ``method``, ``kind``, ``id``).
        bootstrap: ``(confidence, resamples, seed)``; every summary uses the same resamples,
            so intervals are comparable.
        kinds: ``{method: kind}`` for a ``kind`` column (model, baseline, oracle, ...); None:
            no such column.

    Returns:
        ``({method: summary}, per-example DataFrame)``.
    """
    confidence, resamples, seed = bootstrap
    idx = bootstrap_indices(len(ids), resamples, seed)
    summaries: dict[str, dict[str, Any]] = {}
    frames = []
    for method, est in estimates.items():
        values = score(est)
        summaries[method] = summarize(values, confidence, resamples, idx=idx)
        frame = pd.DataFrame({k: values[k] for k in columns})
        frame.insert(0, "id", ids)
        if kinds is not None:
            frame.insert(0, "kind", kinds.get(method, ""))
        frame.insert(0, "method", method)
        frames.append(frame)
    return summaries, pd.concat(frames, ignore_index=True)


def with_settings(summaries: Mapping[str, dict[str, Any]],
                  settings: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``{method: summary + its settings}`` (settings that are None left out), in order."""
    return {m: {**summaries[m], **{k: v for k, v in settings[m].items() if v is not None}}
            for m in summaries}


def panel_arrays(sel: np.ndarray, ids: np.ndarray, clean: np.ndarray, mixed: np.ndarray,
                 fs: float, estimates: Mapping[str, np.ndarray],
                 kinds: Mapping[str, str] | None = None,
                 dtype: Any = None) -> dict[str, Any]:
    """``panels.npz``: examples ``sel`` of ``ids``, ``clean``, ``mixed`` and every method's
    estimate (``est_<method>``, as ``dtype`` where given), ``fs``, ``methods`` (and ``kinds``)."""
    arrays: dict[str, Any] = {"ids": ids[sel], "clean": clean[sel], "mixed": mixed[sel],
                              "fs": np.float64(fs), "methods": np.array(list(estimates))}
    if kinds is not None:
        arrays["kinds"] = np.array([kinds[m] for m in estimates])
    arrays.update({f"est_{m}": np.asarray(e, dtype)[sel] for m, e in estimates.items()})
    return arrays


def write_outputs(out_dir: str | Path, name: str, result: Mapping[str, Any],
                  frame: pd.DataFrame, *, texts: Mapping[str, str] | None = None,
                  arrays: Mapping[str, Mapping[str, Any]] | None = None) -> None:
    """Write, each atomically: ``<out>/<name>.json`` (``result``),
    ``<out>/<name>/examples.parquet`` (``frame``), then ``<out>/<name>/<file>`` for every text
    (``{file: text}``) and ``.npz`` (``{file: arrays}``)."""
    out = Path(out_dir)
    atomic_write_text(out / f"{name}.json", json.dumps(result, indent=1) + "\n")
    atomic_write_bytes(out / name / "examples.parquet", lambda tmp: frame.to_parquet(tmp))
    for file, text in (texts or {}).items():
        atomic_write_text(out / name / file, text)
    for file, npz in (arrays or {}).items():
        atomic_write_npz(out / name / file, npz)
