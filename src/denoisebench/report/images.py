"""The report's section for image datasets (seeds 002/003): PSNR/SSIM table, bars, image grids
and seed 003's robustness figure.

Reads only pipeline outputs (no TensorFlow): ``metrics/<model>.json`` (image keys ``psnr_db``,
``ssim``, ``mse``, ``mae`` with ``_ci``), ``metrics/<model>/panels.npz`` (``clean``, ``mixed``,
``est_<method>`` as ``(k, 28, 28)``), ``metrics/<model>/robustness.npz`` (see
:mod:`denoisebench.evaluation.images`) and ``models/<model>/{history.csv,metadata.json}``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import cost, figures
from .figures import plt

#: methods in metrics JSON that are not classical filters: the input, and oracles
REFERENCE_METHODS = ("noisy",)
ORACLE_METHODS = ("bm3d_deblurring",)
BASELINE_COLOR = "#7570b3"
NOISY_COLOR = "#999999"
ORACLE_COLOR = "#01665e"
#: kinds one could deploy (the best PSNR and SSIM are among these)
DEPLOYABLE = ("model", "baseline")
#: keys of a method's metrics that are neither metrics nor settings
NOT_SETTINGS = {"method", "kind", "n", "params", "seed_params", "tuned_on_train_images",
                "tuned_params", "validation_images", "psnr_db_minus_model", "parameters",
                "train_s", "train_estimated", "infer_s_per_1000"}


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float):
        if v != 0 and (abs(v) < 1e-2 or abs(v) >= 1e4):
            return f"{v:.3g}"
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def _ci(s: Mapping[str, Any], key: str, digits: int = 2) -> str:
    lo, hi = s.get(f"{key}_ci", [None, None])
    return (f"{_fmt(s.get(key), digits)} <span class=ci>[{_fmt(lo, digits)}, "
            f"{_fmt(hi, digits)}]</span>")


def summary_rows(results: Mapping[str, Mapping[str, Any]], models: Sequence[str]) -> pd.DataFrame:
    """One row per method: each model (from its own metrics), then the classical filters and
    the noisy input as judged in the first model's metrics (same validation images)."""
    rows = [{"method": m, "kind": "model", **results[m][m]} for m in models]
    if models:
        for method, s in results[models[0]].items():
            if method not in models:
                kind = ("reference" if method in REFERENCE_METHODS else
                        "oracle" if method in ORACLE_METHODS else "baseline")
                rows.append({"method": method, "kind": kind, **s})
    return pd.DataFrame(rows)


def best_filter(df: pd.DataFrame) -> str | None:
    """The classical filter with the highest mean PSNR (None when there is none)."""
    base = df[df["kind"] == "baseline"]
    return None if base.empty else str(base.loc[base["psnr_db"].idxmax(), "method"])


def _settings(r: pd.Series) -> str:
    parts = []
    for k, v in r.items():
        if (k in NOT_SETTINGS or k.startswith("model_") or k.endswith("_ci")
                or k in ("psnr_db", "ssim", "mse", "mae")
                or not isinstance(v, int | float) or pd.isna(v)):
            continue
        text = f"{int(v)}" if float(v).is_integer() else f"{float(v):g}"
        parts.append(f"{html.escape(str(k))} {text}")
    return ", ".join(parts) or "–"


def table(df: pd.DataFrame, metadata: Mapping[str, Mapping[str, Any]]) -> str:
    """HTML table: PSNR, SSIM, MSE, MAE with intervals, the images each method was judged on,
    the cost columns (:mod:`.cost`), the seed's figure (models) or tuned settings (filters).
    The best PSNR and the best SSIM of a deployable method judged on every image are
    highlighted (a subset's mean is compared in :func:`subset_note`)."""
    head = ("<tr><th>method</th><th>PSNR (dB)</th><th>SSIM</th><th>MSE</th><th>MAE</th>"
            f"<th>images</th>{cost.HEAD}<th class=settings>seed's figure / tuned setting</th>"
            "</tr>")
    dep = df[df["kind"].isin(DEPLOYABLE) & (df["n"] == df["n"].max())]  # like with like
    best_psnr, best_ssim = dep["psnr_db"].idxmax(), dep["ssim"].idxmax()
    body = []
    for i, r in df.iterrows():
        if r["kind"] == "model":
            seed = metadata.get(r["method"], {}).get("seed_params", r.get("seed_params"))
            extra = f"seed: {int(seed):,} weights" if seed is not None and pd.notna(seed) \
                else "–"
        elif r["kind"] == "reference":
            extra = "the noisy input itself"
        elif r["kind"] == "oracle":
            extra = "knows each image's blur and noise level"
        else:
            extra = _settings(r)
        cls = r["kind"] if r["kind"] in ("model", "oracle") else ""
        best = " style='background:#eef7ee'"
        cell_p = f"<td{best if i == best_psnr else ''}>{_ci(r, 'psnr_db')}</td>"
        cell_s = f"<td{best if i == best_ssim else ''}>{_ci(r, 'ssim', 3)}</td>"
        body.append(f"<tr class='{cls}'><td>{html.escape(str(r['method']))}</td>{cell_p}"
                    f"{cell_s}<td>{_ci(r, 'mse', 4)}</td><td>{_ci(r, 'mae', 4)}</td>"
                    f"<td>{int(r['n'])}</td>{cost.cells(r.to_dict())}"
                    f"<td class=settings>{html.escape(extra)}</td></tr>")
    return (f"<table class=summary>{head}{''.join(body)}</table>"
            f"<p class=note>{html.escape(cost.NOTE)}</p>")


def subset_note(df: pd.DataFrame, models: Sequence[str],
                results: Mapping[str, Mapping[str, Any]]) -> str:
    """What the methods judged on a subset of the validation images (BM3D, the BM3D
    deblurring oracle; :mod:`denoisebench.evaluation.image_subset`) were judged on, and each
    model on the same images; or why BM3D is absent."""
    if "bm3d" not in set(df["method"]):
        return ("<p class=note>BM3D: no row (the optional <code>bm3d</code> package, free for "
                "non-commercial use only, was not installed when these metrics were made; "
                "<code>pip install -e '.[bm3d]'</code>, see the README).</p>")
    sub = df[df["n"] < df["n"].max()]
    if sub.empty:
        return ("<p class=note>BM3D judged on every validation image "
                "(<code>evaluation.bm3d_examples</code>).</p>")
    k, total = int(sub["n"].iloc[0]), int(df["n"].max())
    parts = []
    for m in models:
        diffs = []
        for method in sub["method"]:
            s = results[m].get(str(method), {})
            if "psnr_db_minus_model" in s:
                lo, hi = s["psnr_db_minus_model_ci"]
                same = float(s["model_psnr_db_same_images"])
                diffs.append(f"{html.escape(str(method))} {float(s['psnr_db_minus_model']):+.2f} "
                             f"dB <span class=ci>[{lo:+.2f}, {hi:+.2f}]</span>")
        if diffs:
            parts.append(f"<b>{html.escape(m)}</b> {_fmt(same)} dB, against it "
                         + ", ".join(diffs))
    return (f"<p class=note>{', '.join(html.escape(str(x)) for x in sub['method'])}: judged "
            f"on {k} of the {total} validation images (evenly spaced, "
            "<code>evaluation.bm3d_examples</code>: BM3D takes about 0.3 s an image), so "
            f"their intervals are wider and their means are not those of all {total} images. "
            f"On the same {k} images (PSNR, then the paired difference image by image with "
            f"its interval): {'; '.join(parts)}.</p>")


def metric_bars(df: pd.DataFrame, path: Path, title: str) -> Path:
    """Mean PSNR and SSIM with 95 % intervals per method (rows of the summary table)."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.36 * len(df) + 1.3), sharey=True)
    y = np.arange(len(df))
    colors = [{"model": figures.MODEL_COLOR, "reference": NOISY_COLOR,
               "oracle": ORACLE_COLOR}.get(k, BASELINE_COLOR) for k in df["kind"]]
    for ax, key, label in ((axes[0], "psnr_db", "PSNR (dB)"), (axes[1], "ssim", "SSIM")):
        lo = df[key] - [c[0] for c in df[f"{key}_ci"]]
        hi = [c[1] for c in df[f"{key}_ci"]] - df[key]
        for i in range(len(df)):  # points, not bars: the axis does not start at zero
            ax.errorbar(df[key].iloc[i], y[i], xerr=[[lo.iloc[i]], [hi.iloc[i]]], fmt="o",
                        color=colors[i], capsize=3, ms=6)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_yticks(y, df["method"], fontsize=8)
    axes[0].invert_yaxis()
    fig.suptitle(title, fontsize=10)
    return figures.save(fig, path)


def image_grid(columns: Mapping[str, np.ndarray], path: Path, title: str,
               scores: Mapping[str, Sequence[float]] | None = None) -> Path:
    """Rows of images, one column per entry of ``columns`` (``{label: (k, H, W)}``), grey scale
    on the fixed range [0, 1]; ``scores`` (``{label: (k,) PSNR dB}``) annotates panels."""
    labels = list(columns)
    k = len(next(iter(columns.values())))
    fig, axes = plt.subplots(k, len(labels), figsize=(1.55 * len(labels), 1.6 * k + 0.4),
                             squeeze=False)
    for j, label in enumerate(labels):
        for i in range(k):
            ax = axes[i, j]
            ax.imshow(columns[label][i], cmap="gray", vmin=0.0, vmax=1.0,
                      interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(label, fontsize=8)
            if scores and label in scores:
                ax.set_xlabel(f"{scores[label][i]:.1f} dB", fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return figures.save(fig, path)


def robustness_figure(sweeps: Mapping[str, Mapping[str, np.ndarray]], path: Path,
                      title: str) -> Path:
    """Seed 003's figure: the input row (growing blur ``s`` and noise ``r``), then one output
    row per model; PSNR (dB) of each panel against the clean image underneath."""
    first = next(iter(sweeps.values()))
    steps = len(first["inputs"])
    rows = [("input", first["inputs"], first["input_psnr_db"])]
    rows += [(m, s["outputs"], s["psnr_db"]) for m, s in sweeps.items()]
    fig, axes = plt.subplots(len(rows), steps, figsize=(1.7 * steps, 1.85 * len(rows) + 0.3),
                             squeeze=False)
    for i, (label, imgs, psnr) in enumerate(rows):
        for j in range(steps):
            ax = axes[i, j]
            ax.imshow(imgs[j], cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(f"{psnr[j]:.1f} dB", fontsize=7)
            if i == 0:
                ax.set_title(f"s={first['sigma'][j]:.1f}, r={first['r'][j]:.1f}", fontsize=8)
            if j == 0:
                ax.set_ylabel(label, fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return figures.save(fig, path)


def _load_npz(path: Path) -> dict[str, np.ndarray] | None:
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


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
    """HTML for one image dataset: ``(summary for the first screen, full section)``.

    Figures go to ``fig_dir`` as ``<dataset>_metrics.png``, ``<dataset>_cost.png``,
    ``<dataset>_training.png``, ``<dataset>_grid.png`` and ``<dataset>_robustness.png``.
    """
    df = cost.add_columns(summary_rows(results, models), metadata, metrics_dir, models_dir)
    n = int(df["n"].max())
    whole = df[df["n"] == n]  # "best" compares like with like; subset_note has the rest
    dep = whole[whole["kind"].isin(DEPLOYABLE)]
    best = dep.loc[dep["psnr_db"].idxmax()]
    bf = best_filter(whole)
    bf_txt = ""
    if bf is not None:
        r = df[df["method"] == bf].iloc[0]
        bf_txt = (f"; the best classical filter, {html.escape(bf)}, gets "
                  f"{_fmt(float(r['psnr_db']))} dB / SSIM {_fmt(float(r['ssim']), 3)}")
    noise = (f"Gaussian noise, std {ds.get('noise_std')}" if ds["kind"] == "images" else
             f"blur σ ~ U({ds.get('blur_sigma_min')}, {ds.get('blur_sigma_max')}) + uniform "
             f"noise ±r, r ~ U({ds.get('noise_range_min')}, {ds.get('noise_range_max')})")
    head = (f"<h3>{html.escape(ds_name)} <span class=note>({html.escape(ds['kind'])}: "
            f"{html.escape(str(ds.get('source')))}, {noise}; {n} validation images)</span></h3>"
            f"<p>Best PSNR on all {n} images: <b>{html.escape(str(best['method']))}</b> with "
            f"{_fmt(float(best['psnr_db']))} dB (SSIM {_fmt(float(best['ssim']), 3)}){bf_txt}. "
            "PSNR (data range 1) and SSIM are means over the validation images; filters' "
            "settings were chosen on training images.</p>"
            + table(df, metadata) + subset_note(df, models, results))

    parts = [f"<h2>Dataset {html.escape(ds_name)}</h2>"]
    bars = metric_bars(df, fig_dir / f"{ds_name}_metrics.png",
                       f"{ds_name}: mean PSNR and SSIM with 95 % CI")
    parts.append(f"<img src='figures/{bars.name}' alt='PSNR and SSIM on {ds_name}'>")
    parts += cost.figure_html(ds_name, df, ("psnr_db", "PSNR (dB)"), fig_dir)
    parts += figures.training_html(ds_name, models, models_dir, fig_dir)
    parts += _grid_html(ds_name, df, models, metadata, metrics_dir, fig_dir)
    parts += _robustness_html(ds_name, models, metrics_dir, fig_dir)
    return head, "\n".join(parts)


def _grid_html(ds_name: str, df: pd.DataFrame, models: Sequence[str],
               metadata: Mapping[str, Mapping[str, Any]], metrics_dir: Path,
               fig_dir: Path) -> list[str]:
    """The "Validation images" part: clean, noisy, each model and the best filter
    (``<dataset>_grid.png``, PSNR under each panel)."""
    panels = {m: p for m in models if (p := _load_npz(metrics_dir / m / "panels.npz"))}
    if not panels:
        return []
    first = next(iter(panels.values()))
    bf = best_filter(df[df["method"].isin([str(m) for m in first["methods"]])])
    columns = {"clean": first["clean"], "noisy": first["mixed"]}
    columns.update({m: p[f"est_{m}"] for m, p in panels.items()})
    if bf is not None and f"est_{bf}" in first:
        columns[f"{bf} (best filter)"] = first[f"est_{bf}"]
    from ..evaluation.image_metrics import psnr_db

    scores = {k: psnr_db(first["clean"], v) for k, v in columns.items() if k != "clean"}
    grid = image_grid(columns, fig_dir / f"{ds_name}_grid.png",
                      f"{ds_name}: validation images (PSNR under each panel)", scores)
    notes = "; ".join(
        f"{html.escape(m)}: {html.escape(str(metadata.get(m, {}).get('source', '')))}, "
        f"trained on {metadata.get(m, {}).get('train_examples', '–')} examples"
        for m in panels)
    return [f"<h3>Validation images</h3><p class=note>{notes}.</p>"
            f"<img src='figures/{grid.name}' alt='image grid on {ds_name}'>"]


def _robustness_html(ds_name: str, models: Sequence[str], metrics_dir: Path,
                     fig_dir: Path) -> list[str]:
    """Seed 003's robustness sweep of every model (``<dataset>_robustness.png``)."""
    sweeps = {m: s for m in models if (s := _load_npz(metrics_dir / m / "robustness.npz"))}
    if not sweeps:
        return []
    fig = robustness_figure(sweeps, fig_dir / f"{ds_name}_robustness.png",
                            f"{ds_name}: growing blur s and uniform noise ±r (seed 003)")
    return ["<h3>Robustness to blur and noise</h3><p class=note>Seed 003's sweep on one "
            "validation image: Gaussian blur σ = 0.5·i, then uniform noise in ±0.2·i "
            "(i = 0..5, not clipped); first row the input, then each model's output "
            "(PSNR against the clean image underneath).</p>"
            f"<img src='figures/{fig.name}' alt='robustness sweep on {ds_name}'>"]
