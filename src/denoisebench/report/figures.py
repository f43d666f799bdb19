"""Matplotlib figures of the report (PNG, Agg backend, no network, no fonts fetched)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from ..atomic import atomic_write_bytes  # noqa: E402

COLORS = {"clean": "#1b9e77", "mixed": "#999999", "lowpass": "#7570b3"}
MODEL_COLOR = "#d95f02"
#: colours by method kind (models warm, baselines cool, references dark)
KIND_PALETTES = {
    "model": ["#d95f02", "#e7298a", "#a6761d", "#e6ab02", "#b2182b", "#f46d43"],
    "baseline": ["#1f78b4", "#6a3d9a", "#66a61e", "#a6cee3", "#8da0cb", "#386cb0", "#b2df8a"],
    "oracle": ["#01665e", "#35978f", "#8c510a"],
    "parametric": ["#252525", "#525252", "#737373"],
    "limit": ["#000000"],
}


def read_history(path: Path) -> pd.DataFrame | None:
    """``history.csv`` with one row per epoch (a resumed run's repeated epochs: last wins)."""
    if not path.exists():
        return None
    h = pd.read_csv(path)
    return h.drop_duplicates("epoch", keep="last").sort_values("epoch") if "epoch" in h else None


def training_html(ds_name: str, models: Sequence[str], models_dir: Path,
                  fig_dir: Path) -> list[str]:
    """The "Training curves" part of a dataset's section (none when no model has a
    ``history.csv``); the figure is ``<dataset>_training.png``."""
    histories = {m: h for m in models
                 if (h := read_history(models_dir / m / "history.csv")) is not None}
    if not histories:
        return []
    fig = training_curves(histories, fig_dir / f"{ds_name}_training.png")
    return [f"<h3>Training curves</h3><img src='figures/{fig.name}' "
            f"alt='training curves on {ds_name}'>"]


def save(fig: plt.Figure, path: Path, trim: bool = True) -> Path:
    """Save ``fig`` as PNG atomically and close it.

    ``trim`` crops the page to the drawn artists (``bbox_inches="tight"``: one more layout
    pass over every axis); :func:`signal_panels`, the report's largest figures (about 30 axes
    each, laid out by ``tight_layout``), pass False.
    """
    atomic_write_bytes(Path(path), lambda tmp: fig.savefig(
        tmp, format="png", dpi=110, bbox_inches="tight" if trim else None))
    plt.close(fig)
    return Path(path)


def spectrum_db(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided amplitude spectrum of a ``(time,)`` signal through a Hann window.

    Returns ``(freqs (time // 2 + 1,) Hz, level dB)`` with level = 20 log10(2 |X_k| / sum w):
    a sinusoid of amplitude A on a bin reads 20 log10 A (coherent-gain normalisation). The
    window (``scipy.signal.get_window("hann", n)``, periodic) keeps the leakage of a tone
    between bins about 31 dB below it instead of the rectangular window's 13 dB, so the noise
    floor between tones is visible.
    """
    from scipy.signal import get_window

    x = np.asarray(x, dtype=np.float64)
    w = get_window("hann", len(x))
    mag = 2.0 * np.abs(np.fft.rfft(x * w)) / np.sum(w)
    return np.fft.rfftfreq(len(x), d=1.0 / fs), 20 * np.log10(np.maximum(mag, 1e-8))


def method_color(name: str, kind: str, index: int = 0) -> str:
    """Colour of a method by its kind (model, baseline, oracle, parametric, limit)."""
    if name in COLORS:
        return COLORS[name]
    palette = KIND_PALETTES.get(kind, KIND_PALETTES["model"])
    return palette[index % len(palette)]


def color_map(methods: Sequence[str], kinds: Mapping[str, str]) -> dict[str, str]:
    """One colour per method, by kind and order within the kind; pass the same map to every
    figure of a dataset so that a method keeps its colour."""
    counts: dict[str, int] = {}
    out = {}
    for m in methods:
        if m in COLORS:
            out[m] = COLORS[m]
            continue
        kind = kinds.get(m, "model")
        counts[kind] = counts.get(kind, -1) + 1
        out[m] = method_color(m, kind, counts[kind])
    return out


def _time_row(axes: Sequence[Any], t: np.ndarray, span: int, series: Mapping[str, np.ndarray],
              cols: Sequence[str], cmap: Mapping[str, str], titles: Mapping[str, str] | None,
              x_label: str | None) -> None:
    """One example's time panels: each column's signal (over the clean target, faint), on the
    mixture's range; ``titles`` on the first row, ``x_label`` on the last."""
    mixed = series["mixed"]
    lo, hi = float(np.nanmin(mixed[:span])), float(np.nanmax(mixed[:span]))
    pad = 0.08 * (hi - lo) + 1e-9
    for ax, name in zip(axes, cols, strict=True):
        if name not in ("clean", "mixed"):
            ax.plot(t, series["clean"][:span], color=COLORS["clean"], lw=2.0, alpha=0.45)
        ax.plot(t, series[name][:span], color=cmap[name], lw=1.0)
        ax.set_ylim(lo - pad, hi + pad)
        if titles is not None:
            ax.set_title(titles[name], fontsize=8)
        if x_label is not None:
            ax.set_xlabel(x_label, fontsize=8)
        ax.tick_params(labelsize=7)


def _spectra(ax: Any, series: Mapping[str, np.ndarray], shown: Sequence[str], fs: float,
             cmap: Mapping[str, str], labels: Mapping[str, str], first: bool,
             x_label: str | None) -> None:
    """One example's overlaid Hann-windowed amplitude spectra (:func:`spectrum_db`)."""
    for name in shown:
        f, db = spectrum_db(np.nan_to_num(series[name]), fs)
        ax.plot(f, db, lw=0.8, color=cmap[name],
                label=labels.get(name, name), alpha=0.5 if name == "mixed" else 0.9)
    ax.set_ylim(-70, 0)
    ax.tick_params(labelsize=7)
    if first:
        ax.set_title("amplitude spectrum, Hann (dB)", fontsize=8)
        ax.legend(fontsize=6, loc="upper right")
    if x_label is not None:
        ax.set_xlabel(x_label, fontsize=8)


def signal_panels(panels: Mapping[str, np.ndarray], model: str, path: Path,
                  methods: Sequence[str] | None = None,
                  labels: Mapping[str, str] | None = None,
                  colors: Mapping[str, str] | None = None,
                  axis: tuple[str, str, float] | None = None) -> Path:
    """Seed 004's view: per example, clean / mixed / each method in time, and spectra.

    Args:
        panels: the content of ``metrics/<model>/panels.npz``: ``clean``, ``mixed``
            ``(examples, time)``, ``est_<method>``, ``methods``, ``kinds`` and ``fs``.
        model: the model's name (its column is titled "denoised").
        methods: the methods to draw, in order (default: every method in ``panels``).
        labels: column titles by method.
        colors: colour by method (default: :func:`color_map` of the panels' methods).
        axis: ``(x label, frequency label, x of the first sample)``; default: time in s and
            Hz from ``fs`` (samples and cycles / sample when ``fs`` is 1), starting at 0.

    The time panels of examples longer than 200 samples show the first quarter (at least 64
    samples), on the range of the mixture. The last column overlays the Hann-windowed
    amplitude spectra (:func:`spectrum_db`) of the whole mixed, clean, model and first
    baseline signals.
    """
    clean, mixed = panels["clean"], panels["mixed"]
    fs = float(panels["fs"]) if np.isfinite(panels["fs"]) else 1.0
    all_methods = [str(m) for m in panels["methods"]]
    kinds = dict(zip(all_methods, [str(k) for k in panels["kinds"]], strict=False)) \
        if "kinds" in panels else {}
    methods = [m for m in (methods or all_methods) if f"est_{m}" in panels]
    labels = dict(labels or {})
    cmap = {**color_map(all_methods, kinds), **(colors or {}), "clean": COLORS["clean"],
            "mixed": COLORS["mixed"]}
    cols = ["clean", "mixed", *methods]
    n = len(clean)
    # long examples: the time panels show the first quarter (at least 64 samples), so that
    # waveforms stay readable; the spectra use the whole example
    span = clean.shape[1] if clean.shape[1] <= 200 else max(64, clean.shape[1] // 4)
    x_label, f_label, x0 = axis or (("time (s)", "frequency (Hz)", 0.0) if fs != 1.0
                                    else ("sample", "cycles / sample", 0.0))
    t = x0 + np.arange(span) / fs
    fig, axes = plt.subplots(n, len(cols) + 1, figsize=(2.55 * (len(cols) + 1), 1.75 * n + 0.6),
                             squeeze=False, sharex="col")
    spectra = ["mixed", "clean", *[m for m in methods if m == model][:1],
               *[m for m in methods if kinds.get(m) == "baseline"][:1]]
    for i in range(n):
        series = {"clean": clean[i], "mixed": mixed[i],
                  **{m: panels[f"est_{m}"][i] for m in methods}}
        titles = ({c: f"{model} (denoised)" if c == model else labels.get(c, c) for c in cols}
                  if i == 0 else None)
        _time_row(axes[i, :-1], t, span, series, cols, cmap, titles,
                  x_label if i == n - 1 else None)
        _spectra(axes[i, -1], series, spectra, fs, cmap, labels, first=i == 0,
                 x_label=f_label if i == n - 1 else None)
    zoom = f"; time: first {span} of {clean.shape[1]} samples" if span < clean.shape[1] else ""
    fig.suptitle(f"{model}: validation examples (green: clean target{zoom})", fontsize=10)
    fig.tight_layout()
    return save(fig, path, trim=False)


def training_curves(histories: Mapping[str, pd.DataFrame], path: Path) -> Path:
    """Training and validation L1 per epoch, one colour per model (``history.csv`` frames)."""
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    cmap = plt.get_cmap("tab10")
    for i, (name, h) in enumerate(histories.items()):
        x = h["epoch"] + 1
        if "l1" in h:
            ax.plot(x, h["l1"], color=cmap(i), ls="--", lw=1, label=f"{name} train L1")
        if "val_l1" in h:
            ax.plot(x, h["val_l1"], color=cmap(i), lw=1.5, marker="o", ms=3,
                    label=f"{name} validation L1")
    ax.set_xlabel("epoch")
    ax.set_ylabel("L1 (MAE, signal units)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title("training curves", fontsize=10)
    return save(fig, path)


def snri_bars(table: pd.DataFrame, path: Path, title: str,
              limit: tuple[str, float] | None = None,
              colors: Mapping[str, str] | None = None) -> Path:
    """Aggregate SNRi with 95 % intervals per method (rows of the summary table: ``method``,
    ``label``, ``kind``, ``snri_db_agg``, ``snri_lo``, ``snri_hi``); references hatched, the
    limit ``(label, dB)`` as a dashed vertical line."""
    fig, ax = plt.subplots(figsize=(7.0, 0.36 * len(table) + 1.3))
    y = np.arange(len(table))
    lo = table["snri_db_agg"] - table["snri_lo"]
    hi = table["snri_hi"] - table["snri_db_agg"]
    kinds = list(table["kind"]) if "kind" in table else ["model"] * len(table)
    cmap = {**color_map(list(table["method"]), dict(zip(table["method"], kinds, strict=True))),
            **(colors or {})}
    bars = ax.barh(y, table["snri_db_agg"], xerr=[lo, hi], color=[cmap[m] for m in
                                                                  table["method"]], capsize=3)
    for bar, kind in zip(bars, kinds, strict=True):
        if kind in ("oracle", "parametric"):
            bar.set_hatch("//")
            bar.set_alpha(0.55)
    ax.set_yticks(y, table["label"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.6)
    if limit is not None:
        ax.axvline(limit[1], color="k", ls="--", lw=1.2, label=f"{limit[0]} ({limit[1]:.2f} dB)")
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel("SNR improvement, aggregate (dB)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)


def sweep_figure(curves: Mapping[str, pd.DataFrame], kinds: Mapping[str, str],
                 labels: Mapping[str, str], path: Path, title: str,
                 train_snr_db: float | None = None, limit: tuple[str, float] | None = None,
                 colors: Mapping[str, str] | None = None) -> Path:
    """SNRi (aggregate) against input SNR, one line per method, with shaded 95 % intervals.

    Args:
        curves: ``{method: frame}`` with ``snr_in_db``, ``<method>``, ``<method>_ci_low`` and
            ``<method>_ci_high`` columns (``metrics/<model>/sweep.csv``).
        kinds: ``{method: kind}``: models thick, baselines thin, oracles dotted,
            parametric fits dash-dotted.
        labels: legend labels by method.
        train_snr_db: the dataset's SNR (a dotted vertical line).
        limit: ``(label, dB)``: a dashed black horizontal line.
    """
    fig, ax = plt.subplots(figsize=(8.2, 4.6))
    cmap = {**color_map(list(curves), kinds), **(colors or {})}
    for m, df in curves.items():
        if m not in df or df[m].isna().all():
            continue
        kind = kinds.get(m, "model")
        color = cmap[m]
        style = {"model": dict(lw=2.2, marker="o", ms=3.5),
                 "baseline": dict(lw=1.1, marker=".", ms=4),
                 "oracle": dict(lw=1.2, ls=":"),
                 "parametric": dict(lw=1.5, ls="-.")}.get(kind, dict(lw=1))
        ax.plot(df["snr_in_db"], df[m], color=color, label=labels.get(m, m), **style)
        if f"{m}_ci_low" in df:
            ax.fill_between(df["snr_in_db"], df[f"{m}_ci_low"], df[f"{m}_ci_high"],
                            color=color, alpha=0.15, lw=0)
    if limit is not None:
        ax.axhline(limit[1], color="k", ls="--", lw=1.2, label=f"{limit[0]} ({limit[1]:.2f} dB)")
    if train_snr_db is not None:
        ax.axvline(train_snr_db, color="0.4", ls=":", lw=1)
        ax.annotate("dataset SNR", (train_snr_db, 1.0), xycoords=("data", "axes fraction"),
                    xytext=(3, -12), textcoords="offset points", fontsize=7, color="0.3")
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("input SNR (dB)")
    ax.set_ylabel("SNR improvement, aggregate (dB)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False)
    fig.tight_layout()
    return save(fig, path)


#: marker of each kind of method in the quality-against-cost figure (references hollow)
COST_MARKERS = {"model": "o", "baseline": "s", "oracle": "D", "parametric": "D",
                "reference": "D"}


#: where a point's label may go, tried in order: (dx, dy) in points from the point; the
#: farther ones get a leader line
LABEL_SPOTS = tuple((dx, dy) for r in (1, 2.6, 4.2)
                    for dx, dy in ((7, 0), (-7, 0), (0, 7), (0, -7), (7, 8), (7, -8), (-7, 8),
                                   (-7, -8)) for dx, dy in [(dx * r, dy * r)])


def _align(dx: float, dy: float) -> tuple[str, str]:
    return ("left" if dx > 0 else "right" if dx < 0 else "center",
            "bottom" if dy > 0 else "top" if dy < 0 else "center")


def place_labels(ax: Any, xy: Sequence[tuple[float, float]], labels: Sequence[str]) -> None:
    """Label each point ``xy`` (data coordinates) at the first of :data:`LABEL_SPOTS` whose
    text box overlaps neither another label, nor a marker (5 display units around a point), nor
    the axes' edge; where every spot clashes, at the one with the fewest clashes."""
    renderer = ax.figure.canvas.get_renderer()
    points = [ax.transData.transform(p) for p in xy]
    frame = ax.get_window_extent(renderer)
    taken: list[Any] = []
    for (x, y), label, own in zip(xy, labels, points, strict=True):
        best: tuple[int, Any, Any] | None = None
        for dx, dy in LABEL_SPOTS:
            ha, va = _align(dx, dy)
            far = abs(dx) > 8 or abs(dy) > 9
            text = ax.annotate(label, (x, y), xytext=(dx, dy), textcoords="offset points",
                               ha=ha, va=va, fontsize=7, color="0.15",
                               arrowprops={"arrowstyle": "-", "color": "0.6", "lw": 0.5,
                                           "shrinkA": 0, "shrinkB": 4} if far else None)
            # the text alone (an Annotation's own extent includes its leader line)
            text.update_positions(renderer)
            box = Text.get_window_extent(text, renderer).expanded(1.04, 1.15)
            clashes = (sum(box.overlaps(b) for b in taken)
                       + sum(box.padded(5).contains(*p) for p in points if p is not own)
                       + 10 * (not (frame.contains(box.x0, box.y0)
                                    and frame.contains(box.x1, box.y1))))
            if best is None or clashes < best[0]:
                if best is not None:
                    best[1].remove()
                best = (clashes, text, box)
            else:
                text.remove()
            if clashes == 0:
                break
        assert best is not None
        taken.append(best[2])


def cost_scatter(points: pd.DataFrame, path: Path, title: str, y_label: str,
                 limit: tuple[str, float] | None = None,
                 colors: Mapping[str, str] | None = None) -> Path:
    """Quality against inference cost: one labelled point per method.

    Args:
        points: rows with ``method``, ``kind`` (model, baseline, oracle, parametric,
            reference), ``x`` (seconds per 1,000 examples, > 0: a log axis) and ``y`` (the
            dataset's headline metric); other rows are not drawn.
        y_label: the metric's name and unit.
        limit: ``(label, value)``: a dashed horizontal line.
        colors: colour by method (default: :func:`color_map`).
    """
    pts = points[np.isfinite(points["x"]) & (points["x"] > 0) & np.isfinite(points["y"])]
    fig, ax = plt.subplots(figsize=(7.6, 4.4))
    cmap = {**color_map(list(pts["method"]), dict(zip(pts["method"], pts["kind"], strict=True))),
            **(colors or {})}
    for _, r in pts.iterrows():
        hollow = r["kind"] not in ("model", "baseline")
        ax.scatter(r["x"], r["y"], marker=COST_MARKERS.get(r["kind"], "o"), s=46, zorder=3,
                   facecolors="none" if hollow else cmap[r["method"]],
                   edgecolors=cmap[r["method"]], linewidths=1.4)
    ax.set_xscale("log")
    if limit is not None:
        ax.axhline(limit[1], color="k", ls="--", lw=1.0, label=f"{limit[0]} ({limit[1]:.2f})")
        ax.legend(fontsize=7, loc="best")
    if len(pts):
        lo, hi = float(pts["x"].min()), float(pts["x"].max())
        ax.set_xlim(lo / 4.0, hi * 4.0)  # room for the labels
        ylo, yhi = float(pts["y"].min()), float(pts["y"].max())
        pad = 0.08 * (yhi - ylo) + 1e-9
        ax.set_ylim(ylo - pad, max(yhi, limit[1] if limit else yhi) + pad)
    fig.canvas.draw()
    place_labels(ax, list(zip(pts["x"], pts["y"], strict=True)),
                 [str(r.get("label", r["method"])) for _, r in pts.iterrows()])
    ax.set_xlabel("inference time per 1,000 examples (s, log scale; same process and threads)")
    ax.set_ylabel(y_label)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    return save(fig, path)
