"""Judge a denoiser: the model, the classical baselines and the reference bounds on the same
validation examples (docs/judging.md; outputs in docs/design.md "Outputs").

One :func:`evaluate` for every dataset; it dispatches on the dataset kind's modality
(:mod:`denoisebench.data.kinds`) to :mod:`.signals` (SNR metrics, filters, bounds, SNR
sweep) or :mod:`.images` (PSNR/SSIM, image filters, robustness sweep). Both share the judge
loop and the output writer of :mod:`.common`. The helpers below are what the Snakemake rules
(``workflow/rules/evaluate.smk``) read at parse time.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import config as cfgmod
from ..data import kinds


def evaluate(
    cfg: Mapping[str, Any],
    name: str,
    model_dir: str | Path | None = None,
    data_dir: str | Path = "data",
    out_dir: str | Path = "metrics",
) -> dict[str, Any]:
    """Evaluate ``models.<name>`` on its dataset's validation split; write its outputs and
    return the metrics mapping (see :func:`.signals.evaluate_signals`,
    :func:`.images.evaluate_images`).

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: the validation shards fail their checks.
        ModelLoadError: the model folder is incomplete.
    """
    _, ds = cfgmod.dataset_of(cfg, name)
    if kinds.is_image(ds):  # seeds 002/003: PSNR/SSIM, image filters
        from .images import evaluate_images

        return evaluate_images(cfg, name, model_dir, data_dir, out_dir)
    from .signals import evaluate_signals

    return evaluate_signals(cfg, name, model_dir, data_dir, out_dir)


def models_of(cfg: Mapping[str, Any], images: bool) -> list[str]:
    """The models of image datasets (``images=True``) or of 1-D datasets (the rest), in params
    order: Snakemake's evaluate rules split on this (only 1-D models have an SNR sweep)."""
    return [m for m, p in cfg["models"].items()
            if kinds.is_image(cfg["datasets"][p["dataset"]]) == images]


def any_of(names: Iterable[str]) -> str:
    """A regular expression matching exactly one of ``names`` (Snakemake wildcard constraint;
    ``(?!)``, which matches nothing, for none)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


def method_names(cfg: Mapping[str, Any], name: str) -> list[str]:
    """The methods a 1-D model's evaluation reports, in order, without running anything: the
    model, its dataset's baselines and references, then the limit where the kind has one.

    These are the columns of ``metrics/<model>/sweep.csv`` (besides ``snr_in_db`` and the
    intervals), fixed by the params so that ``dvc plots`` definitions can name them; a
    reference that cannot run (no true frequencies) leaves its column empty. Snakemake asks
    for them while it parses the workflow, so only light modules are imported here.
    """
    from . import baselines, bounds

    _, ds = cfgmod.dataset_of(cfg, name)
    names = [name]
    names += [b for b in baselines.NAMES if b != "lowpass" or ds.get("lowpass")]
    names += bounds.reference_names(ds)
    if bounds.limit_params(ds) is not None:
        names.append(bounds.LIMIT)
    return names


def sweep_plot(cfg: Mapping[str, Any], name: str) -> dict[str, dict[str, Any]]:
    """The ``dvc plots`` definition of ``metrics/<name>/sweep.csv``: SNRi against input SNR,
    one line per method (``denoisebench export-dvc`` reads it from the rule's params)."""
    return {f"metrics/{name}/sweep.csv": {
        "x": "snr_in_db", "y": method_names(cfg, name),
        "title": f"{name}: SNR improvement against input SNR",
        "x_label": "input SNR (dB)", "y_label": "aggregate SNRi (dB)"}}
