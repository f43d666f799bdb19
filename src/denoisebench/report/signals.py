"""The report's section for 1-D signal datasets (multisine, sine, quadratic, folder data).

Reads only pipeline outputs (no TensorFlow): ``metrics/<model>.json`` (the model, the
baselines, the references and the limit, see :mod:`denoisebench.evaluation`),
``metrics/<model>/panels.npz``, ``metrics/<model>/sweep.csv`` and
``models/<model>/{history.csv,metadata.json}``.

The first screen answers "which denoiser should I use for this data, and how far is it from
the limit": one table per dataset (method, type, aggregate SNRi, MAE, SI-SDR with their 95 %
intervals, the distance below the limit, the tuned settings) and a sentence naming the best
deployable method. The limit is the Cramér–Rao figure where the dataset kind has one, else
the best parametric fit (sine: least squares with the period known).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..evaluation import baselines, bounds
from . import figures

#: kinds of method that one could deploy on new data (oracles and the limit cannot be)
DEPLOYABLE = ("model", "baseline")
KIND_LABELS = {"model": "learned", "baseline": "classical", "oracle": "oracle",
               "parametric": "bound (fit)", "limit": "limit"}
SUMMARY_KEYS = ("snri_db_agg", "snri_db_mean", "snr_out_db", "si_sdr_db", "mse", "mae")


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
    if meta is not None or "params" in r:
        p, seed = (meta or {}).get("trainable_params", r.get("params")), r.get("seed_params")
        if p is None:
            return "–"
        return f"{int(p):,} weights" + (f" (seed {int(seed):,})" if seed else "")
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


def _row(r: pd.Series, limit: tuple[str, float] | None, cls: str, settings: str) -> str:
    gap = f"{limit[1] - float(r['snri_db_agg']):.2f}" if limit else "–"
    code = "" if r["label"] == r["method"] else f" <code>{html.escape(str(r['method']))}</code>"
    return (f"<tr class='{cls}'><td>{html.escape(str(r['label']))}{code}</td>"
            f"<td>{KIND_LABELS.get(r['kind'], r['kind'])}</td>"
            f"<td>{with_ci(r, 'snri_db_agg')}</td><td>{with_ci(r, 'mae', 4)}</td>"
            f"<td>{with_ci(r, 'si_sdr_db')}</td><td>{gap}</td>"
            f"<td class=settings>{html.escape(settings)}</td></tr>")


def first_table(df: pd.DataFrame, limit: tuple[str, float] | None,
                metadata: Mapping[str, Mapping[str, Any]], best: str | None,
                lim_row: Mapping[str, Any] | None, unit: str = "Hz") -> str:
    """The first-screen table (see the module doc)."""
    gap_head = "below the limit (dB)" if limit else "below the limit"
    head = ("<tr><th>method</th><th>type</th><th>SNRi aggregate (dB)</th><th>MAE</th>"
            f"<th>SI-SDR (dB)</th><th>{gap_head}</th><th class=settings>settings</th></tr>")
    body = []
    previous = None
    for _, r in df.iterrows():
        if r["kind"] not in DEPLOYABLE and previous in DEPLOYABLE:
            body.append("<tr class=group><td colspan=7>references: not deployable, they say "
                        "what the signal model allows</td></tr>")
        previous = r["kind"]
        cls = " ".join(c for c in (r["kind"], "best" if r["method"] == best else "") if c)
        meta = metadata.get(r["method"]) if r["kind"] == "model" else None
        body.append(_row(r, limit, cls, settings_text(str(r["method"]), r.to_dict(), meta,
                                                      unit)))
    if lim_row is not None and limit is not None and "fitted_params" in lim_row:
        body.append(f"<tr class=limit><td>{html.escape(limit[0])} <code>{bounds.LIMIT}</code>"
                    f"</td><td>limit</td><td>{fmt(limit[1])}</td><td>–</td><td>–</td>"
                    f"<td>0.00</td><td class=settings>"
                    f"{html.escape(settings_text(bounds.LIMIT, lim_row))}: 10·log10(N / p)"
                    "</td></tr>")
    return f"<table class=summary>{head}{''.join(body)}</table>"


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
        text += (f", {fmt(limit[1] - float(best['snri_db_agg']))} dB below the limit "
                 f"({html.escape(limit[0])}, {fmt(limit[1])} dB)")
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

    Figures go to ``fig_dir`` as ``<dataset>_snri.png``, ``<dataset>_sweep.png``,
    ``<dataset>_training.png`` and ``<model>_panels.png``.
    """
    df = summary_rows(results, models)
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
