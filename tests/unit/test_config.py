"""Malformed params are rejected before any work, with the key path and what was expected."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from denoisebench.config import ConfigError, load, read_yaml, validate

BASE = read_yaml(Path(__file__).resolve().parents[2] / "params.yaml")


def with_change(path: str, value: Any) -> dict[str, Any]:
    cfg = copy.deepcopy(BASE)
    *parents, last = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    if value is DELETE:
        del node[last]
    else:
        node[last] = value
    return cfg


DELETE = object()

CASES = [
    ("models.gan.epochs", "ten", "models.gan.epochs"),
    ("models.gan.epochs", 0, "models.gan.epochs"),
    ("models.gan.batch_size", -5, "models.gan.batch_size"),
    ("models.gan.generator_lr", float("nan"), "models.gan.generator_lr"),
    ("models.gan.warmup_epochs", 99, "models.gan.warmup_epochs"),
    ("models.gan.kind", "unet", "models.gan.kind"),
    ("models.gan.dataset", "nosuch", "models.gan.dataset"),
    ("models.gan.colour", "red", "models.gan"),
    ("datasets.multisine.fs", 0, "datasets.multisine.fs"),
    ("datasets.multisine.train_size", 0, "datasets.multisine.train_size"),
    ("datasets.multisine.train_shards", 10**9, "datasets.multisine.train_shards"),
    ("datasets.multisine.fmin_hz", 70.0, "datasets.multisine.fmin_hz"),
    ("datasets.multisine.fmax_hz", 200.0, "datasets.multisine.fmax_hz"),
    ("datasets.multisine.format", "csv", "datasets.multisine.format"),
    ("datasets.multisine.kind", "audio", "datasets.multisine.kind"),
    ("datasets.multisine.lowpass.passband_hz", 130.0, "datasets.multisine.lowpass.passband_hz"),
    ("datasets.multisine.random_phase", "yes", "datasets.multisine.random_phase"),
    ("evaluation.confidence", 1.5, "evaluation.confidence"),
    ("seed", -1, "seed"),
    ("seed", DELETE, "seed"),
    ("unknown_section", {}, "unknown_section"),
]


@pytest.mark.parametrize(("path", "value", "named"), CASES, ids=[c[0] for c in CASES])
def test_rejected_with_key_path(path: str, value: Any, named: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate(with_change(path, value))
    assert named in str(info.value), str(info.value)


def test_default_params_valid() -> None:
    cfg = load([Path(__file__).resolve().parents[2] / "params.yaml"])
    assert set(cfg["models"]) >= {"gan", "gan_l1"}


def test_messages_list_allowed_values() -> None:
    with pytest.raises(ConfigError, match=r"expected one of \['multisine'"):
        validate(with_change("datasets.multisine.kind", "audio"))
    with pytest.raises(ConfigError, match="allowed keys"):
        validate(with_change("models.gan.colour", "red"))


def test_unreadable_and_invalid_yaml(tmp_path: Path) -> None:
    bad = tmp_path / "p.yaml"
    bad.write_text("seed: [1, 2\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load([bad])
    with pytest.raises(ConfigError, match="cannot read"):
        load([tmp_path / "missing.yaml"])
    bad.write_text(yaml.safe_dump([1, 2]))
    with pytest.raises(ConfigError, match="mapping"):
        load([bad])


def test_target_read_as_configfile_gets_a_hint() -> None:
    """`snakemake --configfile configs/full.yaml metrics/x.json` merges the metrics file into
    the config (its method names become top-level keys): the error says how to fix the call."""
    cfg = {**copy.deepcopy(BASE), "savgol": {"snri_db_agg": 3.4}}
    with pytest.raises(ConfigError, match=r"(?s)unknown key\(s\) \['savgol'\].*name the "
                                          r"targets before it"):
        validate(cfg, source="snakemake config")
    with pytest.raises(ConfigError) as plain:
        validate(cfg)  # params.yaml itself: no Snakemake command line to blame
    assert "--configfile" not in str(plain.value)
