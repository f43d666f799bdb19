"""The HTML report: ``reports/index.html`` with PNG figures under ``reports/figures/``.

Self-contained (inline CSS, local images, no scripts, no external requests). Read from the
pipeline's outputs only: ``metrics/<model>.json``, ``metrics/<model>/panels.npz``,
``models/<model>/history.csv`` and ``models/<model>/metadata.json``.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..data.shards import atomic_write_text
from . import figures

log = logging.getLogger(__name__)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .55rem;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
tr.model td{font-weight:600}tr.best td{background:#eef7ee}
.ci{color:#777;font-size:.8em}.note{color:#555;font-size:.9rem}
img{max-width:100%;border:1px solid #eee;margin:.4rem 0}
code{background:#f4f4f4;padding:0 .2rem}
"""


def _fmt(v: Any, digits: int = 2) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, float):
        if abs(v) != 0 and (abs(v) < 1e-2 or abs(v) >= 1e4):
            return f"{v:.3g}"
        return f"{v:.{digits}f}"
    return html.escape(str(v))


def _ci(s: Mapping[str, Any], key: str, digits: int = 2) -> str:
    lo, hi = s.get(f"{key}_ci", [None, None])
    return (f"{_fmt(s.get(key), digits)} <span class=ci>[{_fmt(lo, digits)}, "
            f"{_fmt(hi, digits)}]</span>")


def read_history(path: Path) -> pd.DataFrame | None:
    """``history.csv`` with one row per epoch (a resumed run's repeated epochs: last wins)."""
    if not path.exists():
        return None
    h = pd.read_csv(path)
    return h.drop_duplicates("epoch", keep="last").sort_values("epoch") if "epoch" in h else None


def summary_rows(results: Mapping[str, Mapping[str, Any]], models: list[str]) -> pd.DataFrame:
    """One row per method of a dataset: the models first, then the baselines of the first."""
    rows = []
    for m in models:
        rows.append({"method": m, "label": m, "kind": "model", **results[m][m]})
    if models:
        for method, s in results[models[0]].items():
            if method != models[0]:
                rows.append({"method": method, "label": method, "kind": "baseline", **s})
    df = pd.DataFrame(rows)
    df["snri_lo"] = [c[0] for c in df["snri_db_agg_ci"]]
    df["snri_hi"] = [c[1] for c in df["snri_db_agg_ci"]]
    return df


def _table(df: pd.DataFrame, metadata: Mapping[str, Mapping[str, Any]]) -> str:
    head = ("<tr><th>method</th><th>SNRi aggregate (dB)</th><th>SNRi mean (dB)</th>"
            "<th>SNR out (dB)</th><th>SI-SDR (dB)</th><th>MSE</th><th>MAE</th>"
            "<th>parameters (seed)</th></tr>")
    best = df["snri_db_agg"].idxmax()
    body = []
    for i, r in df.iterrows():
        cls = "model" if r["kind"] == "model" else ""
        cls += " best" if i == best else ""
        if r["kind"] == "model":
            meta = metadata.get(r["method"], {})
            params = (f"{meta.get('trainable_params', r.get('params')):,} "
                      f"({meta.get('seed_params') or '–':,})" if meta else "–")
        else:
            extra = {k: r[k] for k in ("order", "cutoff_hz") if k in r and pd.notna(r[k])}
            params = ", ".join(f"{k} {_fmt(float(v), 1)}" for k, v in extra.items()) or "–"
        body.append(
            f"<tr class='{cls.strip()}'><td>{html.escape(r['label'])}</td>"
            f"<td>{_ci(r, 'snri_db_agg')}</td><td>{_ci(r, 'snri_db_mean')}</td>"
            f"<td>{_ci(r, 'snr_out_db')}</td><td>{_ci(r, 'si_sdr_db')}</td>"
            f"<td>{_ci(r, 'mse', 4)}</td><td>{_ci(r, 'mae', 4)}</td><td>{params}</td></tr>")
    return f"<table>{head}{''.join(body)}</table>"


def render(
    cfg: Mapping[str, Any],
    metrics_dir: str | Path = "metrics",
    models_dir: str | Path = "models",
    out_dir: str | Path = "reports",
) -> Path:
    """Render ``out_dir/index.html`` and its figures from the pipeline's outputs.

    Raises:
        FileNotFoundError: a model's metrics file is missing (run ``evaluate`` first).
    """
    metrics_dir, models_dir, out_dir = Path(metrics_dir), Path(models_dir), Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, Any]] = {}
    metadata: dict[str, dict[str, Any]] = {}
    for m in cfg["models"]:
        path = metrics_dir / f"{m}.json"
        if not path.exists():
            raise FileNotFoundError(f"{path}: metrics of model {m!r} missing; run "
                                    f"`denoisebench evaluate --model {m}` first")
        results[m] = json.loads(path.read_text())
        meta_path = models_dir / m / "metadata.json"
        metadata[m] = json.loads(meta_path.read_text()) if meta_path.exists() else {}

    by_dataset: dict[str, list[str]] = {}
    for m, mp in cfg["models"].items():
        by_dataset.setdefault(mp["dataset"], []).append(m)

    first_screen, sections = [], []
    for ds_name, models in by_dataset.items():
        df = summary_rows(results, models)
        ds = cfg["datasets"][ds_name]
        best = df.loc[df["snri_db_agg"].idxmax()]
        lp = df[df["method"] == "lowpass"]
        lp_txt = (f"; the lowpass filter gets {_fmt(float(lp['snri_db_agg'].iloc[0]))} dB"
                  if len(lp) else "")
        n = int(df["n"].iloc[0])
        first_screen.append(
            f"<h3>{html.escape(ds_name)} <span class=note>({html.escape(ds['kind'])}, "
            f"{n} validation examples)</span></h3>"
            f"<p>Best: <b>{html.escape(str(best['label']))}</b> with "
            f"{_fmt(float(best['snri_db_agg']))} dB aggregate SNR improvement{lp_txt}.</p>"
            + _table(df, metadata))
        bars = figures.snri_bars(df, fig_dir / f"{ds_name}_snri.png",
                                 f"{ds_name}: SNR improvement with 95 % CI")
        parts = [f"<h2>Dataset {html.escape(ds_name)}</h2>",
                 f"<img src='figures/{bars.name}' alt='SNRi of every method on {ds_name}'>"]
        histories = {m: h for m in models
                     if (h := read_history(models_dir / m / "history.csv")) is not None}
        if histories:
            curves = figures.training_curves(histories, fig_dir / f"{ds_name}_training.png")
            parts.append(f"<h3>Training curves</h3><img src='figures/{curves.name}' "
                         f"alt='training curves on {ds_name}'>")
        for m in models:
            panels_path = metrics_dir / m / "panels.npz"
            if panels_path.exists():
                with np.load(panels_path, allow_pickle=False) as z:
                    panels = {k: z[k] for k in z.files}
                fig = figures.signal_panels(panels, m, fig_dir / f"{m}_panels.png")
                meta = metadata.get(m, {})
                parts.append(
                    f"<h3>{html.escape(m)}: validation examples</h3>"
                    f"<p class=note>{html.escape(str(meta.get('source', '')))}; trained on "
                    f"{meta.get('train_examples', '–')} examples, best validation L1 "
                    f"{_fmt(meta.get('best_val_l1'), 4)}.</p>"
                    f"<img src='figures/{fig.name}' alt='{html.escape(m)} examples'>")
        sections.append("\n".join(parts))

    versions = next((md.get("versions") for md in metadata.values() if md.get("versions")), {})
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    doc = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>denoisebench report</title><style>{CSS}</style></head>
<body>
<h1>denoisebench report</h1>
<p class=note>Which denoiser should I use for this data? Every method is judged on the same
validation examples. SNRi aggregate = 10·log10(Σ noise energy / Σ error energy) over the set;
SNRi mean = mean of per-example SNRi (the two are not comparable with each other).
Brackets: 95 % bootstrap confidence intervals. Highlighted: the best method per dataset.</p>
{''.join(first_screen)}
{''.join(sections)}
<h2>Provenance</h2>
<p class=note>Seed {cfg['seed']}; {html.escape(', '.join(f'{k} {v}' for k, v in versions.items()))};
rendered {stamp}.</p>
</body></html>
"""
    path = out_dir / "index.html"
    atomic_write_text(path, doc)
    log.info("report written to %s", path)
    return path
