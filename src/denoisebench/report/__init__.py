"""The HTML report: ``reports/index.html`` with PNG figures under ``reports/figures/``.

Self-contained (inline CSS, local images, no scripts, no external requests: it opens
offline; tests/e2e/test_report_browser.py renders it in headless Chromium). Read from the
pipeline's outputs only: ``metrics/<model>.json``, ``metrics/<model>/cost.json``,
``metrics/<model>/{panels.npz,sweep.csv}`` (1-D),
``metrics/<model>/robustness.npz`` (images), ``models/<model>/history.csv`` and
``models/<model>/metadata.json``.

The first screen answers, per dataset, "which denoiser should I use, and how far is it from
the limit" (:mod:`.signals` for 1-D data, :mod:`.images` for images); the dataset sections
follow with every metric, the figures, SNR sweeps and training curves.
"""

from __future__ import annotations

import datetime as _dt
import html
import json
import logging
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from ..atomic import atomic_write_text
from ..data import kinds
from . import images as image_report
from . import notes
from . import signals as signal_report

log = logging.getLogger(__name__)

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1200px;padding:0 1rem;color:#222;line-height:1.45}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2.2rem}
table{border-collapse:collapse;margin:.8rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.28rem .5rem;text-align:right;white-space:nowrap}
th{white-space:normal}td:first-child,td.settings{white-space:normal}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
tr.model td{font-weight:600}tr.best td{background:#e3f4e3}
tr.oracle td,tr.parametric td,tr.limit td{color:#555;font-style:italic}
tr.group td{background:#fafafa;color:#666;font-size:.8rem;text-align:left;font-style:normal}
td.settings,th.settings{text-align:left}td.settings{font-size:.8rem;color:#444}
table.summary .ci{display:block}
td code{font-size:.8em}
.ci{color:#777;font-size:.75em}.note{color:#555;font-size:.9rem}
p.verdict{font-size:1.02rem;margin:.4rem 0}
nav{font-size:.9rem;color:#555}nav a{margin-right:.8rem}
img{max-width:100%;border:1px solid #eee;margin:.4rem 0}
code{background:#f4f4f4;padding:0 .2rem}
"""


def _read_outputs(cfg: Mapping[str, Any], metrics_dir: Path, models_dir: Path,
                  ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """``({model: metrics}, {model: metadata})`` of every model in params.

    Raises:
        FileNotFoundError: a model's metrics file is missing (run ``evaluate`` first).
    """
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
    return results, metadata


def _backends(metadata: Mapping[str, Mapping[str, Any] | None]) -> str:
    """The Keras backend every model was trained on (``metadata.json``'s ``backend``): one
    name, or ``"jax (gan); tensorflow (bigru, ...)"`` when they differ."""
    by_backend: dict[str, list[str]] = {}
    for m, md in metadata.items():
        if md:
            by_backend.setdefault(md.get("backend", "tensorflow"), []).append(m)
    if len(by_backend) == 1:
        return next(iter(by_backend))
    return "; ".join(f"{b} ({', '.join(ms)})" for b, ms in sorted(by_backend.items()))


def _section(ds_name: str, ds: Mapping[str, Any], models: Sequence[str],
             results: Mapping[str, Mapping[str, Any]], metadata: Mapping[str, Mapping[str, Any]],
             metrics_dir: Path, models_dir: Path, fig_dir: Path) -> tuple[str, str]:
    """One dataset's ``(first-screen summary, full section)`` HTML, its figures written."""
    modality = image_report if kinds.is_image(ds) else signal_report  # PSNR/SSIM or SNR
    return modality.section(ds_name, ds, models, results, metadata, metrics_dir, models_dir,
                            fig_dir)


def _draw(cfg: Mapping[str, Any], by_dataset: Mapping[str, Sequence[str]],
          results: Mapping[str, Mapping[str, Any]], metadata: Mapping[str, Mapping[str, Any]],
          dirs: tuple[Path, Path, Path], workers: int) -> list[tuple[str, str]]:
    """Each dataset's ``(first-screen summary, full section)``, drawn in ``workers``
    processes (spawned: a fresh interpreter each, whatever threads the parent runs)."""
    calls = [(d, cfg["datasets"][d], ms, {m: results[m] for m in ms},
              {m: metadata[m] for m in ms}, *dirs) for d, ms in by_dataset.items()]
    workers = min(workers, len(calls))
    if workers <= 1:
        return [_section(*c) for c in calls]
    with ProcessPoolExecutor(workers, multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(_section, *zip(*calls, strict=True)))


def _page(cfg: Mapping[str, Any], datasets: Sequence[str], first_screen: Sequence[str],
          sections: Sequence[str], metadata: Mapping[str, Mapping[str, Any]]) -> str:
    """The whole HTML page: introduction, navigation, summaries, sections, provenance."""
    versions = next((md.get("versions") for md in metadata.values() if md.get("versions")), {})
    trained_on = _backends(metadata)
    confidence = f"{100 * float(cfg['evaluation']['confidence']):g} %"
    nav = "Datasets: " + " ".join(f"<a href='#ds-{html.escape(d)}'>{html.escape(d)}</a>"
                                  for d in datasets)
    stamp = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>denoisebench report</title><style>{CSS}</style></head>
<body>
<h1>denoisebench report</h1>
<p class=note>Which denoiser should I use for this data, and how far is it from the limit?
All methods are judged on the same validation examples: learned models, classical filters
tuned on the training split, and references that say what the signal model allows (oracles
know the truth, parametric fits know the model; the Cramér–Rao limit 10·log10(N / p) bounds
any unbiased estimator of p signal parameters). SNRi aggregate = 10·log10(Σ noise energy /
Σ error energy) over the set. Brackets: {confidence} bootstrap intervals. Highlighted: the
best deployable method.</p>
<nav>{nav}</nav>
{''.join(first_screen)}
{''.join(sections)}
<h2>Provenance</h2>
<p class=note>Seed {cfg['seed']}; {html.escape(', '.join(f'{k} {v}' for k, v in versions.items()))};
Keras backend: {html.escape(trained_on or '–')}; rendered {stamp}.</p>
</body></html>
"""


def render(
    cfg: Mapping[str, Any],
    metrics_dir: str | Path = "metrics",
    models_dir: str | Path = "models",
    out_dir: str | Path = "reports",
    workers: int = 1,
) -> Path:
    """Render ``out_dir/index.html`` and its figures from the pipeline's outputs.

    ``workers`` > 1 draws the datasets' sections (nearly all of the time: matplotlib) in that
    many processes; the HTML and the figures are the same as with one.

    Raises:
        FileNotFoundError: a model's metrics file is missing (run ``evaluate`` first).
        ValueError: ``workers`` is below 1.
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    metrics_dir, models_dir, out_dir = Path(metrics_dir), Path(models_dir), Path(out_dir)
    fig_dir = out_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    results, metadata = _read_outputs(cfg, metrics_dir, models_dir)
    by_dataset: dict[str, list[str]] = {}
    for m, mp in cfg["models"].items():
        by_dataset.setdefault(mp["dataset"], []).append(m)

    drawn = _draw(cfg, by_dataset, results, metadata, (metrics_dir, models_dir, fig_dir), workers)
    first_screen = [head + notes.perception_distortion(
        {m: cfg["models"][m]["kind"] for m in models})
        for (head, _), models in zip(drawn, by_dataset.values(), strict=True)]
    sections = [body if f"id='ds-{d}'" in body else f"<section id='ds-{d}'>{body}</section>"
                for d, (_, body) in zip(by_dataset, drawn, strict=True)]
    doc = _page(cfg, list(by_dataset), first_screen, sections, metadata)
    path = out_dir / "index.html"
    atomic_write_text(path, doc)
    log.info("report written to %s", path)
    return path
