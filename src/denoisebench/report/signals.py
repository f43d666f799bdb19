"""The report's section for 1-D signal datasets (multisine, sine, quadratic, folder data).

Reads only pipeline outputs (no TensorFlow): ``metrics/<model>.json`` (the model, the
baselines, the references and the limit, see :mod:`denoisebench.evaluation`),
``metrics/<model>/{panels.npz,sweep.csv,cost.json}`` and
``models/<model>/{history.csv,metadata.json}``.

The first screen answers "which denoiser should I use for this data, and how far is it from
the limit": one table per dataset (method, type, aggregate SNRi, MAE, SI-SDR with their 95 %
intervals, the distance below the limit, the cost columns of :mod:`.cost`, the tuned
settings; :mod:`.signal_tables`) and a sentence naming the best deployable method. The limit
is the Cramér–Rao figure where the dataset kind has one, else the best parametric fit (sine:
the minimax fit with the period known).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..evaluation import bounds
from . import cost, figures
from .signal_tables import (
    DEPLOYABLE,
    detail_table,
    first_table,
    fmt,
    method_kind,
    method_label,
)


def snr_skipped(df: pd.DataFrame) -> int:
    """Validation examples the per-example SNR means skipped (silent clean signal; the same for
    every method of a dataset); 0 for metrics written before the count existed."""
    if "snr_skipped" not in df:
        return 0
    return int(df["snr_skipped"].fillna(0).max())


def summary_rows(results: Mapping[str, Mapping[str, Any]], models: Sequence[str]) -> pd.DataFrame:
    """One row per method of a dataset: each model's own object, then the baselines and
    references of the first model's metrics (the same for every model: deterministic)."""
    rows = []
    for m in models:
        rows.append({"method": m, **results[m][m]})
    for method, s in results[models[0]].items():
        if method not in models and method != bounds.LIMIT and "snri_db_agg_ci" in s:
            rows.append({"method": method, **s})
    df = pd.DataFrame(rows)
    df["kind"] = [method_kind(m, models) for m in df["method"]]
    df["label"] = [method_label(m, r) for m, r in zip(df["method"], rows, strict=True)]
    df["snri_lo"] = [c[0] for c in df["snri_db_agg_ci"]]
    df["snri_hi"] = [c[1] for c in df["snri_db_agg_ci"]]
    order = {"model": 0, "baseline": 1, "parametric": 2, "oracle": 3}
    df["_o"] = [order.get(k, 4) for k in df["kind"]]
    df = df.sort_values(["_o", "snri_db_agg"], ascending=[True, False], kind="stable")
    return df.drop(columns="_o").reset_index(drop=True)


def reference_limit(results: Mapping[str, Mapping[str, Any]], models: Sequence[str],
                    df: pd.DataFrame) -> tuple[str, float] | None:
    """``(label, SNRi dB)`` the distances are measured to: the Cramér–Rao figure, else the
    best parametric fit; None when the dataset has neither."""
    lim = results[models[0]].get(bounds.LIMIT)
    if lim and "snri_db_agg" in lim:
        return method_label(bounds.LIMIT, lim), float(lim["snri_db_agg"])
    par = df[df["kind"] == "parametric"]
    if len(par):
        r = par.iloc[0]
        return str(r["label"]), float(r["snri_db_agg"])
    return None


def describe(ds: Mapping[str, Any]) -> str:
    """One line on what the dataset is (kind and its main generator settings)."""
    kind = ds.get("kind")
    if kind == "multisine":
        n = round(float(ds["fs"]) * float(ds["duration_s"]))
        return (f"{ds['n_sines']} sinusoids in {ds['fmin_hz']:g}–{ds['fmax_hz']:g} Hz, fs "
                f"{ds['fs']:g} Hz, N = {n}, white Gaussian noise at {ds['snr_db']:g} dB SNR")
    if kind == "sine":
        return (f"sin(2π(t + offset) / {ds.get('period')}), {ds.get('length')} samples, uniform "
                f"noise ±{ds.get('noise_amplitude')}")
    if kind == "quadratic":
        return (f"random quadratics a(x − h)² + k, {ds.get('length')} samples, Gaussian noise "
                f"σ = {ds.get('noise_std')}")
    return f"{kind} data"


def verdict(df: pd.DataFrame, limit: tuple[str, float] | None) -> tuple[str | None, str]:
    """``(best deployable method, the sentence that recommends it)``."""
    dep = df[df["kind"].isin(DEPLOYABLE)].sort_values("snri_db_agg", ascending=False)
    if not len(dep):
        return None, ""
    best = dep.iloc[0]
    text = (f"Use <b>{html.escape(str(best['label']))}</b>: "
            f"{fmt(float(best['snri_db_agg']))} dB aggregate SNR improvement "
            f"<span class=ci>[{fmt(best['snri_lo'])}, {fmt(best['snri_hi'])}]</span>, "
            f"MAE {fmt(float(best['mae']), 4)}")
    if limit is not None:
        gap = limit[1] - float(best["snri_db_agg"])
        if gap >= 0:
            text += (f", {fmt(gap)} dB below the limit "
                     f"({html.escape(limit[0])}, {fmt(limit[1])} dB)")
        else:  # possible: the bound is for unbiased estimators of free parameters
            text += (f", {fmt(-gap)} dB above the limit ({html.escape(limit[0])}, "
                     f"{fmt(limit[1])} dB). Not a bug in itself: that bound holds for unbiased "
                     "estimators of free parameters, and a learned model may use what the data "
                     "recipe fixes (on multisine the equal tone amplitudes, which leave 6 free "
                     "parameters; docs/judging.md, Cramér–Rao bound)")
    text += "."
    if len(dep) > 1:
        second = dep.iloc[1]
        if float(second["snri_hi"]) >= float(best["snri_lo"]):
            text += (f" Its interval overlaps that of {html.escape(str(second['label']))} "
                     f"({fmt(float(second['snri_db_agg']))} dB): not resolved on these "
                     "examples.")
    other = "baseline" if best["kind"] == "model" else "model"
    rest = dep[dep["kind"] == other]
    if len(rest):
        r = rest.iloc[0]
        what = "The best classical filter" if other == "baseline" else "The best learned model"
        text += (f" {what}, {html.escape(str(r['label']))}, gets "
                 f"{fmt(float(r['snri_db_agg']))} dB.")
    par = df[df["kind"] == "parametric"]
    if len(par):
        r = par.iloc[0]
        text += (f" The {html.escape(str(r['label']))}, which knows the signal model, reaches "
                 f"{fmt(float(r['snri_db_agg']))} dB.")
    return str(best["method"]), text


def read_sweeps(metrics_dir: Path, models: Sequence[str]) -> dict[str, pd.DataFrame]:
    """``{method: sweep frame}``: each model from its own ``sweep.csv``, every other method
    from the first model's (the same examples and levels for all)."""
    frames = {m: pd.read_csv(p) for m in models
              if (p := Path(metrics_dir) / m / "sweep.csv").exists()}
    out = dict(frames)
    if frames:
        first = next(iter(frames.values()))
        for col in first.columns:
            if col in ("snr_in_db", bounds.LIMIT) or col in models or col.endswith(
                    ("_ci_low", "_ci_high")):
                continue
            out[col] = first
    return out


def headline(ds: Mapping[str, Any]) -> tuple[str, str]:
    """``(metric key, axis label)`` a 1-D dataset is judged by in the quality-against-cost
    figure: MAE for ``sine`` (seed 001 reports the L1), else the aggregate SNRi."""
    if ds.get("kind") == "sine":
        return "mae", "MAE (signal units; lower is better)"
    return "snri_db_agg", "SNR improvement, aggregate (dB)"


def panel_axis(ds: Mapping[str, Any]) -> tuple[str, str, float] | None:
    """Axis labels and origin of a dataset's example panels (see ``figures.signal_panels``):
    seed 000's quadratics live on a unit-free x (``fs`` samples per unit, from ``x_start``);
    other datasets keep the default (time from ``fs``)."""
    if ds.get("kind") == "quadratic":
        return "x", "cycles per unit x", float(ds.get("x_start", 0.0))
    return None


def section(
    ds_name: str,
    ds: Mapping[str, Any],
    models: Sequence[str],
    results: Mapping[str, Mapping[str, Any]],
    metadata: Mapping[str, Mapping[str, Any]],
    metrics_dir: Path,
    models_dir: Path,
    fig_dir: Path,
) -> tuple[str, str]:
    """HTML for one 1-D dataset: ``(summary for the first screen, full section)``.

    Figures go to ``fig_dir`` as ``<dataset>_snri.png``, ``<dataset>_cost.png``,
    ``<dataset>_sweep.png``, ``<dataset>_training.png`` and ``<model>_panels.png``.
    """
    df = cost.add_columns(summary_rows(results, models), metadata, metrics_dir, models_dir)
    limit = reference_limit(results, models, df)
    lim_row = results[models[0]].get(bounds.LIMIT)
    best, sentence = verdict(df, limit)
    n = int(df["n"].iloc[0])
    skipped = snr_skipped(df)
    silent = (f", {skipped} with a silent clean signal: the per-example SNR and SI-SDR means "
              f"skip them, the aggregate SNRi, MSE and MAE include them" if skipped else "")
    anchor = f"ds-{ds_name}"
    head = (f"<h3><a href='#{anchor}'>{html.escape(ds_name)}</a> <span class=note>"
            f"({html.escape(describe(ds))}; {n} validation examples{silent})</span></h3>"
            f"<p class=verdict>{sentence}</p>"
            + first_table(df, limit, metadata, best, lim_row,
                          "cycles/sample" if float(ds.get("fs") or 1.0) == 1.0 else "Hz"))

    parts = [f"<h2 id='{anchor}'>Dataset {html.escape(ds_name)}</h2>",
             f"<p class=note>{html.escape(describe(ds))}. Baselines were tuned by grid search "
             "on training examples only (criterion: total squared error, i.e. the best "
             "aggregate SNRi); oracles use information no denoiser has.</p>",
             *([f"<p class=note>Of the {n} validation examples {skipped} have a silent clean "
                "signal (no SNR): the per-example SNR and SI-SDR means skip them "
                "(<code>snr_skipped</code>), the aggregate SNRi, MSE and MAE include them.</p>"]
               if skipped else []),
             detail_table(df)]
    order = [*models, *(m for m in results[models[0]] if m not in models)]
    colors = figures.color_map(order, {m: method_kind(m, models) for m in order})
    bars = figures.snri_bars(df, fig_dir / f"{ds_name}_snri.png",
                             f"{ds_name}: SNR improvement with 95 % CI", limit, colors)
    parts.append(f"<img src='figures/{bars.name}' alt='SNRi of every method on {ds_name}'>")
    parts += cost.figure_html(ds_name, df, headline(ds), fig_dir,
                              limit if headline(ds)[0] == "snri_db_agg" else None, colors)

    parts += _sweep_html(ds_name, models, results, metrics_dir, fig_dir, colors,
                         limit if lim_row else None)
    parts += figures.training_html(ds_name, models, models_dir, fig_dir)
    parts += _panels_html(ds, df, models, metadata, metrics_dir, fig_dir, colors)
    return head, "\n".join(parts)


def _sweep_html(ds_name: str, models: Sequence[str], results: Mapping[str, Mapping[str, Any]],
                metrics_dir: Path, fig_dir: Path, colors: Mapping[str, str],
                limit: float | None) -> list[str]:
    """The "SNR sweep" part (none without ``sweep.csv``); figure ``<dataset>_sweep.png``."""
    curves = read_sweeps(metrics_dir, models)
    if not curves:
        return []
    kinds = {m: method_kind(m, models) for m in curves}
    labels = {m: method_label(m) for m in curves}
    order = sorted(curves, key=lambda m: ({"model": 0, "baseline": 1, "parametric": 2,
                                           "oracle": 3}.get(kinds[m], 4)))
    snr_in = float(np.mean([results[m][m]["snr_in_db"] for m in models]))
    fig = figures.sweep_figure({m: curves[m] for m in order}, kinds, labels,
                               fig_dir / f"{ds_name}_sweep.png",
                               f"{ds_name}: SNR improvement against input SNR",
                               snr_in if math.isfinite(snr_in) else None, limit, colors)
    return [
        "<h3>SNR sweep</h3><p class=note>The validation clean signals remixed with their "
        "own noise rescaled to each input SNR (a subset, see <code>evaluation.sweep</code>); "
        "models and baselines keep what they learned or were tuned on at the dataset's "
        "SNR. Shaded: 95 % intervals; dashed: references and the limit.</p>"
        f"<img src='figures/{fig.name}' alt='SNR sweep on {ds_name}'>"]


def _panels_html(ds: Mapping[str, Any], df: pd.DataFrame, models: Sequence[str],
                 metadata: Mapping[str, Mapping[str, Any]], metrics_dir: Path, fig_dir: Path,
                 colors: Mapping[str, str]) -> list[str]:
    """Each model's validation examples (figures ``<model>_panels.png``) beside the seed's
    lowpass, the best tuned baseline and the best parametric fit."""
    dep = df[df["kind"] == "baseline"]
    best_baseline = str(dep.iloc[0]["method"]) if len(dep) else None
    par = df[df["kind"] == "parametric"]
    best_par = str(par.iloc[0]["method"]) if len(par) else None
    parts = []
    for m in models:
        path = metrics_dir / m / "panels.npz"
        if not path.exists():
            continue
        with np.load(path, allow_pickle=False) as z:
            panels = {k: z[k] for k in z.files}
        shown = [m, *[x for x in ("lowpass", best_baseline, best_par) if x]]
        shown = list(dict.fromkeys(shown))
        labels = {x: method_label(x) for x in shown}
        fig = figures.signal_panels(panels, m, fig_dir / f"{m}_panels.png", shown, labels,
                                    colors, panel_axis(ds))
        meta = metadata.get(m, {})
        parts.append(
            f"<h3>{html.escape(m)}: validation examples</h3>"
            f"<p class=note>{html.escape(str(meta.get('source', '')))}; trained on "
            f"{meta.get('train_examples', '–')} examples, best validation L1 "
            f"{fmt(meta.get('best_val_l1'), 4)}. Columns: the mixture, the model, the seed's "
            "lowpass, the best tuned baseline and the parametric fit; last: Hann-windowed "
            "amplitude spectra.</p>"
            f"<img src='figures/{fig.name}' alt='{html.escape(m)} examples'>")
    return parts
