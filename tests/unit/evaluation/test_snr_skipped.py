"""Silent clean examples (pauses): the per-example SNR means skip them and count them
(``snr_skipped``, :mod:`denoisebench.evaluation.metrics`) while the aggregate figures include
them, for every method judged (:func:`denoisebench.evaluation.signals.judge`)."""

from __future__ import annotations

import numpy as np
import pytest

from denoisebench.evaluation import metrics
from denoisebench.evaluation import signals as evaluation

WINDOW = 64


def test_silent_examples_skipped_in_snr_means_and_counted() -> None:
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((10, WINDOW))
    clean[[2, 7]] = 0.0  # two pauses
    mixed = clean + 0.5 * rng.standard_normal(clean.shape)
    est = clean + 0.1 * rng.standard_normal(clean.shape)
    values = metrics.per_example(clean, mixed, est)
    for key in metrics.SNR_KEYS:
        assert np.isnan(values[key][[2, 7]]).all() and np.isfinite(np.delete(values[key],
                                                                             [2, 7])).all()
    assert np.isfinite(values["mse"]).all() and np.isfinite(values["mae"]).all()
    s = metrics.summarize(values, resamples=200)
    assert s["n"] == 10 and s["snr_skipped"] == 2
    keep = np.ones(10, bool)
    keep[[2, 7]] = False
    for key, name in (("snri_db_mean", "snri_db"), ("snr_out_db", "snr_out_db"),
                      ("si_sdr_db", "si_sdr_db"), ("snr_in_db", "snr_in_db")):
        assert s[key] == pytest.approx(np.mean(values[name][keep]))
        lo, hi = s[f"{key}_ci"]
        assert np.isfinite([lo, hi]).all() and lo <= s[key] <= hi
    # the aggregate and the mean errors include the pauses
    noise, err = np.sum((mixed - clean) ** 2, 1), np.sum((est - clean) ** 2, 1)
    assert s["snri_db_agg"] == pytest.approx(10 * np.log10(noise.sum() / err.sum()))
    assert s["mse"] == pytest.approx(np.mean(err / WINDOW))
    # without pauses nothing changes: nothing skipped
    assert metrics.summarize(metrics.per_example(clean[keep], mixed[keep], est[keep]),
                             resamples=50)["snr_skipped"] == 0


def test_judge_reports_the_skip_count_for_every_method() -> None:
    rng = np.random.default_rng(1)
    clean = rng.standard_normal((8, WINDOW))
    clean[0] = 0.0
    mixed = clean + 0.3 * rng.standard_normal(clean.shape)
    summaries, frame = evaluation.judge(clean, mixed, {"m": mixed * 0.9, "copy": mixed},
                                        np.arange(8), 0.95, 100, 0)
    assert {k: s["snr_skipped"] for k, s in summaries.items()} == {"m": 1, "copy": 1}
    assert frame["snri_db"].isna().sum() == 2 and frame["mse"].notna().all()
