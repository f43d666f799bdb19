"""The tables of the report's 1-D sections: the first-screen table (quality, distance to the
limit, cost, settings of every method) and the detail table, with the formatting they share.

Reads rows of :func:`denoisebench.report.signals.summary_rows` (one per method: ``method``,
``kind``, ``label``, the metrics with their ``_ci``, settings) with the cost columns of
:func:`denoisebench.report.cost.add_columns`.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..evaluation import baselines, bounds
from . import cost

#: kinds of method that one could deploy on new data (oracles and the limit cannot be)
DEPLOYABLE = ("model", "baseline")
KIND_LABELS = {"model": "learned", "baseline": "classical", "oracle": "oracle",
               "parametric": "bound (fit)", "limit": "limit"}


def fmt(v: Any, digits: int = 2) -> str:
    """A number for the tables: fixed point, or 3 significant digits when tiny or huge."""
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float | np.floating):
        v = float(v)
        if abs(v) != 0 and (abs(v) < 1e-2 or abs(v) >= 1e4):
            return f"{v:.3g}"
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def with_ci(row: Mapping[str, Any], key: str, digits: int = 2) -> str:
    """``value [low, high]`` (the interval in a muted span)."""
    ci = row.get(f"{key}_ci")
    if not isinstance(ci, list | tuple) or len(ci) != 2:
        return fmt(row.get(key), digits)
    return (f"{fmt(row.get(key), digits)} <span class=ci>[{fmt(ci[0], digits)}, "
            f"{fmt(ci[1], digits)}]</span>")


def method_kind(method: str, models: Sequence[str]) -> str:
    """``model``, ``baseline``, ``oracle``, ``parametric`` or ``limit``."""
    if method in models:
        return "model"
    return bounds.KINDS.get(method, "baseline")


def method_label(method: str, row: Mapping[str, Any] | None = None) -> str:
    """Human-readable name (from :data:`baselines.LABELS` / :data:`bounds.LABELS`)."""
    label = baselines.LABELS.get(method) or bounds.LABELS.get(method) or method
    if row is not None and method in ("nls", "cramer_rao") and row.get("fitted_params"):
        label += f", p = {int(row['fitted_params'])}"
    return label


def settings_text(method: str, row: Mapping[str, Any],
                  meta: Mapping[str, Any] | None = None, unit: str = "Hz") -> str:
    """The numeric settings of a method in words (tuned values, parameter counts);
    frequencies in ``unit``."""
    r = {k: v for k, v in row.items()
         if isinstance(v, int | float) and not isinstance(v, bool) and v == v}
    if meta is not None or "params" in r:  # a model: its weights are in the parameters column
        seed = (meta or {}).get("seed_params", r.get("seed_params"))
        return f"seed's figure: {int(seed):,} weights" if seed else "–"
    parts = []
    if "order" in r:
        parts.append(f"order {int(r['order'])}")
    if "cutoff_hz" in r:
        parts.append(f"cutoff {r['cutoff_hz']:.3g} {unit}")
    if "low_hz" in r and "high_hz" in r:
        parts.append(f"band {r['low_hz']:.3g}–{r['high_hz']:.3g} {unit}" if r["low_hz"]
                     else f"band 0–{r['high_hz']:.3g} {unit} (a lowpass)")
    if "window" in r:
        parts.append(f"window {int(r['window'])}")
    if "polyorder" in r:
        parts.append(f"degree {int(r['polyorder'])}")
    if "sym_order" in r:
        parts.append(f"sym{int(r['sym_order'])}, level {int(r.get('level', 0))}, "
                     f"threshold ×{r.get('threshold_scale', 1):g} "
                     f"{'hard' if r.get('hard') else 'soft'}")
    if "period" in r:
        parts.append(f"period {r['period']:g}")
    if "fitted_params" in r and method != "nls":
        parts.append(f"p = {int(r['fitted_params'])}")
    if "samples" in r:
        parts.append(f"N = {int(r['samples'])}")
    return ", ".join(parts) or "–"


def _row(r: pd.Series, limit: tuple[str, float] | None, cls: str, settings: str) -> str:
    gap = f"{limit[1] - float(r['snri_db_agg']):.2f}" if limit else "–"
    code = "" if r["label"] == r["method"] else f" <code>{html.escape(str(r['method']))}</code>"
    return (f"<tr class='{cls}'><td>{html.escape(str(r['label']))}{code}</td>"
            f"<td>{KIND_LABELS.get(r['kind'], r['kind'])}</td>"
            f"<td>{with_ci(r, 'snri_db_agg')}</td><td>{with_ci(r, 'mae', 4)}</td>"
            f"<td>{with_ci(r, 'si_sdr_db')}</td><td>{gap}</td>{cost.cells(r.to_dict())}"
            f"<td class=settings>{html.escape(settings)}</td></tr>")


def first_table(df: pd.DataFrame, limit: tuple[str, float] | None,
                metadata: Mapping[str, Mapping[str, Any]], best: str | None,
                lim_row: Mapping[str, Any] | None, unit: str = "Hz") -> str:
    """The first-screen table (see the module doc)."""
    gap_head = "below the limit (dB)" if limit else "below the limit"
    head = ("<tr><th>method</th><th>type</th><th>SNRi aggregate (dB)</th><th>MAE</th>"
            f"<th>SI-SDR (dB)</th><th>{gap_head}</th>{cost.HEAD}"
            "<th class=settings>settings</th></tr>")
    body = []
    previous = None
    for _, r in df.iterrows():
        if r["kind"] not in DEPLOYABLE and previous in DEPLOYABLE:
            body.append("<tr class=group><td colspan=10>references: not deployable, they say "
                        "what the signal model allows</td></tr>")
        previous = r["kind"]
        cls = " ".join(c for c in (r["kind"], "best" if r["method"] == best else "") if c)
        meta = metadata.get(r["method"]) if r["kind"] == "model" else None
        body.append(_row(r, limit, cls, settings_text(str(r["method"]), r.to_dict(), meta,
                                                      unit)))
    if lim_row is not None and limit is not None and "fitted_params" in lim_row:
        body.append(f"<tr class=limit><td>{html.escape(limit[0])} <code>{bounds.LIMIT}</code>"
                    f"</td><td>limit</td><td>{fmt(limit[1])}</td><td>–</td><td>–</td>"
                    f"<td>0.00</td><td>{int(lim_row['fitted_params'])}</td><td>–</td><td>–</td>"
                    "<td class=settings>"
                    f"{html.escape(settings_text(bounds.LIMIT, lim_row))}: 10·log10(N / p)"
                    "</td></tr>")
    return (f"<table class=summary>{head}{''.join(body)}</table>"
            f"<p class=note>{html.escape(cost.NOTE)}</p>")


def detail_table(df: pd.DataFrame) -> str:
    """Every metric with its interval, one row per method (the dataset section)."""
    head = ("<tr><th>method</th><th>SNRi aggregate (dB)</th><th>SNRi mean (dB)</th>"
            "<th>SNR out (dB)</th><th>SI-SDR (dB)</th><th>MSE</th><th>MAE</th></tr>")
    body = [f"<tr class='{r['kind']}'><td>{html.escape(str(r['label']))}</td>"
            f"<td>{with_ci(r, 'snri_db_agg')}</td><td>{with_ci(r, 'snri_db_mean')}</td>"
            f"<td>{with_ci(r, 'snr_out_db')}</td><td>{with_ci(r, 'si_sdr_db')}</td>"
            f"<td>{with_ci(r, 'mse', 4)}</td><td>{with_ci(r, 'mae', 4)}</td></tr>"
            for _, r in df.iterrows()]
    return f"<table>{head}{''.join(body)}</table>"
