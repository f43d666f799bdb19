"""The cost beside the quality: three columns of every first-screen table and the points of
the quality-against-cost figure (docs/judging.md "Cost").

* **parameters**: a model's trainable weights (``metadata.json`` ``trainable_params``); a
  classical filter's settings tuned on training data (``tuned_params`` in its metrics; "fixed"
  for the configured lowpass); a reference's parameters fitted per example
  (``fitted_params``); "–" otherwise;
* **training (s)**: a model's training time on this machine (``metadata.json``
  ``train_seconds_this_run``). A run that resumed an interrupted one timed only its own
  epochs (``epochs_this_run`` of the epochs in ``history.csv``): its time is scaled to every
  epoch and marked "≈". Filters and references: "–" (their tuning is seconds);
* **inference (s / 1,000)**: wall time per 1,000 examples measured in the evaluation, every
  method in the same process on the same threads (``metrics/<model>/cost.json``,
  :mod:`denoisebench.evaluation.cost`): each model from its own file, the other methods from
  the first model's (as their quality).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .figures import read_history

HEAD = ("<th>parameters</th><th>training (s)</th><th>inference (s / 1,000)</th>")
#: what the columns mean, under each first-screen table
NOTE = ("Parameters: a model's trainable weights, a filter's settings tuned on training data, "
        "a reference's parameters fitted per example. Training: seconds on this machine "
        "(≈: a resumed run, scaled from the epochs it timed). Inference: wall seconds per "
        "1,000 examples, every method measured in the same evaluation process on the same "
        "threads (each model in its own evaluation, the filters in the first model's); times "
        "grow with the machine's load when each step ran.")


def read_costs(metrics_dir: Path, models: Sequence[str]) -> dict[str, float]:
    """``{method: seconds per 1,000 examples}``: each model from its own ``cost.json``, every
    other method from the first model's that has one (missing files: no entry)."""
    out: dict[str, float] = {}
    first = True
    for m in models:
        path = Path(metrics_dir) / m / "cost.json"
        if not path.exists():
            continue
        methods = json.loads(path.read_text()).get("methods", {})
        for method, c in methods.items():
            if c.get("infer_s_per_1000") is not None and (method == m or first and
                                                          method not in models):
                out[method] = float(c["infer_s_per_1000"])
        first = False
    return out


def training_time(meta: Mapping[str, Any], epochs_logged: int | None) -> tuple[float, bool] | None:
    """``(seconds, estimated)`` of a model's training, or None when unknown.

    Args:
        meta: its ``metadata.json``.
        epochs_logged: epochs in its ``history.csv`` (every run's, once each), None if absent.
    """
    seconds, run = meta.get("train_seconds_this_run"), meta.get("epochs_this_run")
    if seconds is None:
        return None
    if not run or not epochs_logged or epochs_logged <= run:
        return float(seconds), False
    return float(seconds) * epochs_logged / run, True  # resumed: only its own epochs timed


def parameters_text(kind: str, row: Mapping[str, Any], meta: Mapping[str, Any] | None) -> str:
    """The parameters cell of a method (see the module doc)."""

    def number(key: str, source: Mapping[str, Any]) -> int | None:
        v = source.get(key)
        return int(v) if isinstance(v, int | float) and not isinstance(v, bool) and v == v \
            else None

    if kind == "model":
        count = number("trainable_params", meta or {})
        count = count if count is not None else number("params", row)
        return f"{count:,}" if count is not None else "–"
    tuned = number("tuned_params", row)
    if tuned is not None:
        return f"{tuned} tuned"
    fitted = number("fitted_params", row)
    if fitted is not None:
        return f"{fitted} fitted"
    if kind == "baseline" and "order" in row:  # the dataset's configured lowpass
        return "fixed"
    return "–"


def add_columns(df: pd.DataFrame, metadata: Mapping[str, Mapping[str, Any]],
                metrics_dir: Path, models_dir: Path) -> pd.DataFrame:
    """``df`` (one row per method: ``method``, ``kind``) with ``parameters``, ``train_s``,
    ``train_estimated`` and ``infer_s_per_1000`` (NaN where unknown)."""
    models = [str(m) for m, k in zip(df["method"], df["kind"], strict=True) if k == "model"]
    costs = read_costs(metrics_dir, models)
    out = df.copy()
    params, train, estimated = [], [], []
    for _, r in df.iterrows():
        m, kind = str(r["method"]), str(r["kind"])
        meta = metadata.get(m, {}) if kind == "model" else None
        params.append(parameters_text(kind, r.to_dict(), meta))
        hist = read_history(Path(models_dir) / m / "history.csv") if kind == "model" else None
        t = training_time(meta, len(hist) if hist is not None else None) if meta else None
        train.append(t[0] if t else math.nan)
        estimated.append(bool(t and t[1]))
    out["parameters"] = params
    out["train_s"] = train
    out["train_estimated"] = estimated
    out["infer_s_per_1000"] = [costs.get(str(m), math.nan) for m in df["method"]]
    return out


def _number(v: Any) -> str:
    if v is None or not isinstance(v, int | float) or not math.isfinite(v):
        return "–"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def cells(r: Mapping[str, Any]) -> str:
    """The three cost cells of one row of :func:`add_columns`."""
    train = _number(r.get("train_s"))
    if r.get("train_estimated") and train != "–":
        train = (f"<span title='resumed run: scaled from the epochs it timed'>≈ {train}"
                 "</span>")
    return (f"<td>{html.escape(str(r.get('parameters', '–')))}</td><td>{train}</td>"
            f"<td>{_number(r.get('infer_s_per_1000'))}</td>")


def figure_html(ds_name: str, df: pd.DataFrame, metric: tuple[str, str], fig_dir: Path,
                limit: tuple[str, float] | None = None,
                colors: Mapping[str, str] | None = None) -> list[str]:
    """The "Quality against cost" part of a dataset's section: ``<dataset>_cost.png``, one
    point per method of ``df`` (rows of :func:`add_columns`) with a measured inference time;
    none when no method has one.

    Args:
        metric: ``(column of df, axis label)``: the dataset's headline metric.
        limit: ``(label, value)`` drawn as a dashed line (the same metric).
    """
    key, label = metric
    labels = [f"{m} ({int(n)} images)" if isinstance(n, int | float) and n == n and
              n != df["n"].max() else str(m) for m, n in zip(df["method"], df["n"], strict=True)]
    points = pd.DataFrame({"method": df["method"], "kind": df["kind"],
                           "x": pd.to_numeric(df["infer_s_per_1000"], errors="coerce"),
                           "y": pd.to_numeric(df[key], errors="coerce"), "label": labels})
    if not (points["x"] > 0).any():
        return []
    from .figures import cost_scatter

    fig = cost_scatter(points, fig_dir / f"{ds_name}_cost.png",
                       f"{ds_name}: quality against inference cost", label, limit, colors)
    return ["<h3>Quality against cost</h3><p class=note>Each method's headline metric against "
            "its inference time per 1,000 examples (log scale), all measured in the same "
            "evaluation process on the same threads. Filled: deployable (circles learned, "
            "squares classical); hollow: references that know the truth or the signal "
            "model.</p>"
            f"<img src='figures/{fig.name}' alt='quality against cost on "
            f"{html.escape(ds_name)}'>"]
