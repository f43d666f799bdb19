"""Metric functions against hand-computed values."""

from __future__ import annotations

import numpy as np

from denoisebench.evaluation import metrics


def test_per_example_hand_values() -> None:
    clean = np.array([[1.0, -1.0, 1.0, -1.0]])
    mixed = clean + np.array([[1.0, 1.0, 1.0, 1.0]])  # noise energy 4, signal energy 4
    est = clean + np.array([[0.5, 0.0, -0.5, 0.0]])  # error energy 0.5
    v = metrics.per_example(clean, mixed, est)
    np.testing.assert_allclose(v["snr_in_db"], 0.0)
    np.testing.assert_allclose(v["snr_out_db"], 10 * np.log10(4 / 0.5))
    np.testing.assert_allclose(v["snri_db"], 10 * np.log10(8))
    np.testing.assert_allclose(v["mse"], 0.5 / 4)
    np.testing.assert_allclose(v["mae"], 1.0 / 4)
    # SI-SDR: <est, clean> = 4 + 0.5 - 0.5 = 4 -> alpha 1, residual energy 0.5
    np.testing.assert_allclose(v["si_sdr_db"], 10 * np.log10(4 / 0.5))


def test_si_sdr_scale_invariant() -> None:
    rng = np.random.default_rng(0)
    clean = rng.standard_normal((4, 64))
    est = clean + 0.1 * rng.standard_normal((4, 64))
    a = metrics.per_example(clean, clean, est)["si_sdr_db"]
    b = metrics.per_example(clean, clean, 3.0 * est)["si_sdr_db"]
    np.testing.assert_allclose(a, b)


def test_nan_targets_ignored() -> None:
    clean = np.array([[1.0, np.nan, 1.0]])
    mixed = np.array([[2.0, 5.0, 2.0]])
    est = np.array([[1.5, 100.0, 1.5]])
    v = metrics.per_example(clean, mixed, est)
    np.testing.assert_allclose(v["mae"], 0.5)
    np.testing.assert_allclose(v["snri_db"], 10 * np.log10(2 / 0.5))


def test_aggregate_differs_from_mean() -> None:
    noise = np.array([1.0, 1.0])
    err = np.array([0.01, 1.0])
    assert metrics.aggregate_snri_db(noise, err) == 10 * np.log10(2 / 1.01)
    summary = metrics.summarize({
        "snri_db": 10 * np.log10(noise / err), "snr_in_db": np.zeros(2), "snr_out_db": np.zeros(2),
        "mse": err, "mae": err, "si_sdr_db": np.zeros(2), "noise_energy": noise,
        "error_energy": err}, resamples=200)
    assert summary["snri_db_mean"] == 10.0  # (20 + 0) / 2
    assert abs(summary["snri_db_agg"] - 2.9671) < 1e-3  # 10 log10(2 / 1.01)


def test_bootstrap_interval_covers_estimate() -> None:
    rng = np.random.default_rng(1)
    n = 500
    noise = rng.uniform(1, 2, n)
    err = noise * 10 ** (-rng.normal(6, 1, n) / 10)
    vals = metrics.per_example(np.ones((n, 1)), np.ones((n, 1)), np.ones((n, 1)))
    vals.update(noise_energy=noise, error_energy=err, snri_db=10 * np.log10(noise / err))
    s = metrics.summarize(vals, resamples=500, seed=3)
    lo, hi = s["snri_db_agg_ci"]
    assert lo < s["snri_db_agg"] < hi and hi - lo < 0.5
    lo, hi = s["snri_db_mean_ci"]
    assert lo < 6.0 < hi
