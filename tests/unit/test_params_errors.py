"""Reliability: malformed params are refused by key path and allowed values.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import REPO, params_with

from denoisebench.config import ConfigError, read_yaml, validate

# --------------------------------------------------------------------------- params

BASE = read_yaml(REPO / "params.yaml")


def changed(path: str, value: Any) -> dict[str, Any]:
    return params_with(path, value)


WRONG_KIND_MODEL = {"kind": "dense_ae", "dataset": "multisine", "epochs": 2, "batch_size": 8,
                    "optimizer": "adam", "learning_rate": 1e-3, "patience": 3,
                    "shuffle_buffer": 10}

# (key, value, key path named, allowed values named)
PARAM_CASES: list[tuple[str, Any, str, str]] = [
    ("models.gan_l1.epochs", "3", "models.gan_l1.epochs", "not of type 'integer'"),
    ("models.gan_l1.epochs", 2.5, "models.gan_l1.epochs", "not of type 'integer'"),
    ("models.gan_l1.epochs", True, "models.gan_l1.epochs", "not of type 'integer'"),
    ("models.gan_l1.batch_size", 0, "models.gan_l1.batch_size", "minimum of 1"),
    ("models.gan_l1.shuffle_buffer", -1, "models.gan_l1.shuffle_buffer", "minimum of 1"),
    ("models.gan_l1.generator_lr", 0, "models.gan_l1.generator_lr", "minimum of 0"),
    ("models.gan_l1.generator_lr", float("inf"), "models.gan_l1.generator_lr", "finite"),
    ("models.gan_l1.patience", None, "models.gan_l1.patience", "not of type 'integer'"),
    ("models.gan_l1.kind", "transformer", "models.gan_l1.kind", "expected one of ["),
    ("models.gan_l1.dataset", "nosuch", "models.gan_l1.dataset", "expected one of ['"),
    ("models.gan_l1.optimizer", "sgd", "models.gan_l1", "allowed keys: ['batch_size'"),
    ("models.wrong_kind", WRONG_KIND_MODEL, "models.wrong_kind.dataset",
     "expected a dataset of kind ["),
    ("datasets.multisine.fs", "256", "datasets.multisine.fs", "not of type 'number'"),
    ("datasets.multisine.fs", -256, "datasets.multisine.fs", "minimum of 0"),
    ("datasets.multisine.duration_s", 0, "datasets.multisine.duration_s", "minimum of 0"),
    ("datasets.multisine.duration_s", 0.01, "datasets.multisine.duration_s", "at least 8"),
    ("datasets.multisine.n_sines", 0, "datasets.multisine.n_sines", "minimum of 1"),
    ("datasets.multisine.validation_size", -10, "datasets.multisine.validation_size",
     "minimum of 1"),
    ("datasets.multisine.validation_shards", 0, "datasets.multisine.validation_shards",
     "minimum of 1"),
    ("datasets.multisine.validation_shards", 5000, "datasets.multisine.validation_shards",
     "expected at most"),
    ("datasets.multisine.fmin_hz", 64.0, "datasets.multisine.fmin_hz",
     "must be below datasets.multisine.fmax_hz"),
    ("datasets.multisine.fmin_hz", 100.0, "datasets.multisine.fmin_hz", "must be below"),
    ("datasets.multisine.fmax_hz", 128.0, "datasets.multisine.fmax_hz", "below Nyquist"),
    ("datasets.multisine.lowpass", {"design": "butter", "cutoff_hz": 128.0, "order": 4},
     "datasets.multisine.lowpass.cutoff_hz", "below Nyquist (fs/2 = 128.0 Hz)"),
    ("datasets.multisine.lowpass.stopband_hz", 300.0, "datasets.multisine.lowpass.stopband_hz",
     "below Nyquist"),
    ("datasets.multisine.lowpass.passband_hz", 100.0, "datasets.multisine.lowpass.passband_hz",
     "must be below stopband_hz"),
    ("datasets.multisine.lowpass.design", "chebyshev", "datasets.multisine.lowpass.design",
     "expected one of ['buttord', 'butter']"),
    ("datasets.multisine.snr_db", float("nan"), "datasets.multisine.snr_db", "finite"),
    ("datasets.multisine.snr_db", 100, "datasets.multisine.snr_db", "maximum of 60"),
    ("datasets.multisine.format", "hdf5", "datasets.multisine.format",
     "expected one of ['parquet', 'npy']"),
    ("evaluation.bootstrap", 10, "evaluation.bootstrap", "minimum of 100"),
    ("evaluation.panels", 0, "evaluation.panels", "minimum of 1"),
    ("evaluation.batch_size", "big", "evaluation.batch_size", "not of type 'integer'"),
    ("training.deterministic", "yes", "training.deterministic", "not of type 'boolean'"),
    ("training.gpu", True, "training", "allowed keys: ['backend', 'deterministic'"),
    ("training.backend", "mxnet", "training.backend",
     "expected one of ['tensorflow', 'jax', 'torch']"),
    ("training.mixed_precision", "fp16", "training.mixed_precision",
     "expected one of [False, True, 'mixed_float16', 'mixed_bfloat16']"),
    ("seed", 1.5, "seed", "not of type 'integer'"),
]


@pytest.mark.parametrize(("key", "value", "named", "allowed"), PARAM_CASES,
                         ids=[f"{c[0]}={c[1]!r}" for c in PARAM_CASES])
def test_malformed_params_name_key_and_allowed_values(key: str, value: Any, named: str,
                                                       allowed: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate(changed(key, value))
    msg = str(info.value)
    lines = [ln for ln in msg.splitlines() if ln.strip().startswith(named + ":")]
    assert lines, msg
    assert any(allowed in ln for ln in lines), msg
