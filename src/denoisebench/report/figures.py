"""Matplotlib figures of the report (PNG, Agg backend, no network, no fonts fetched)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from ..data.shards import atomic_write_bytes  # noqa: E402

COLORS = {"clean": "#1b9e77", "mixed": "#999999", "lowpass": "#7570b3"}
MODEL_COLOR = "#d95f02"


def save(fig: plt.Figure, path: Path) -> Path:
    """Save ``fig`` as PNG atomically and close it."""
    atomic_write_bytes(Path(path), lambda tmp: fig.savefig(tmp, format="png", dpi=110,
                                                          bbox_inches="tight"))
    plt.close(fig)
    return Path(path)


def spectrum_db(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """One-sided magnitude spectrum ``(freqs Hz, 20 log10 |X| dB)`` of a ``(time,)`` signal."""
    mag = np.abs(np.fft.rfft(x)) / len(x)
    return np.fft.rfftfreq(len(x), d=1.0 / fs), 20 * np.log10(np.maximum(mag, 1e-8))


def signal_panels(panels: Mapping[str, np.ndarray], model: str, path: Path) -> Path:
    """Seed 004's view: per example, clean / mixed / denoised / lowpass in time, and spectra.

    ``panels`` is the content of ``metrics/<model>/panels.npz``: ``clean``, ``mixed``
    ``(examples, time)``, ``est_<method>`` and ``fs``.
    """
    clean, mixed = panels["clean"], panels["mixed"]
    fs = float(panels["fs"]) if np.isfinite(panels["fs"]) else 1.0
    methods = [str(m) for m in panels["methods"]]
    cols = ["clean", "mixed", *methods]
    n = len(clean)
    t = np.arange(clean.shape[1]) / fs
    fig, axes = plt.subplots(n, len(cols) + 1, figsize=(3.0 * (len(cols) + 1), 1.9 * n),
                             squeeze=False, sharex="col")
    for i in range(n):
        series = {"clean": clean[i], "mixed": mixed[i],
                  **{m: panels[f"est_{m}"][i] for m in methods}}
        lim = 1.1 * np.nanmax(np.abs(mixed[i]))
        for j, name in enumerate(cols):
            ax = axes[i, j]
            color = COLORS.get(name, MODEL_COLOR)
            if name not in ("clean", "mixed"):
                ax.plot(t, clean[i], color=COLORS["clean"], lw=0.8, alpha=0.6)
            ax.plot(t, series[name], color=color, lw=0.9)
            ax.set_ylim(-lim, lim)
            if i == 0:
                ax.set_title(name if name != model else f"{model} (denoised)", fontsize=9)
            if i == n - 1:
                ax.set_xlabel("time (s)")
            ax.tick_params(labelsize=7)
        ax = axes[i, -1]
        for name in cols:
            f, db = spectrum_db(np.nan_to_num(series[name]), fs)
            ax.plot(f, db, lw=0.8, color=COLORS.get(name, MODEL_COLOR), label=name,
                    alpha=0.5 if name == "mixed" else 0.9)
        ax.set_ylim(-70, 0)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.set_title("magnitude spectrum (dB)", fontsize=9)
            ax.legend(fontsize=6, loc="upper right")
        if i == n - 1:
            ax.set_xlabel("frequency (Hz)")
    fig.suptitle(f"{model}: validation examples (green: clean target)", fontsize=10)
    return save(fig, path)


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


def snri_bars(table: pd.DataFrame, path: Path, title: str) -> Path:
    """Aggregate SNRi with 95 % intervals per method (rows of the summary table)."""
    fig, ax = plt.subplots(figsize=(6.5, 0.45 * len(table) + 1.2))
    y = np.arange(len(table))
    lo = table["snri_db_agg"] - table["snri_lo"]
    hi = table["snri_hi"] - table["snri_db_agg"]
    colors = [COLORS.get(m, MODEL_COLOR) for m in table["method"]]
    ax.barh(y, table["snri_db_agg"], xerr=[lo, hi], color=colors, capsize=3)
    ax.set_yticks(y, table["label"], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(0, color="k", lw=0.6)
    ax.set_xlabel("SNR improvement, aggregate (dB)")
    ax.set_title(title, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)

