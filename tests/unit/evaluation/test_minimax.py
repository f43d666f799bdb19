"""The Chebyshev (minimax) sinusoid fit of the ``sine`` task (docs/judging.md "Minimax
sinusoid with known period"): the maximum-likelihood fit under uniform noise beats least
squares there and loses to it under Gaussian noise."""

from __future__ import annotations

import numpy as np
import pytest

from denoisebench.data import signals
from denoisebench.evaluation import bounds, minimax

SINE = {"kind": "sine", "length": 100, "period": 60, "max_offset": 100, "noise_amplitude": 0.35}


def errors(clean: np.ndarray, est: np.ndarray) -> tuple[float, float]:
    """``(MAE, MSE)`` over every sample."""
    return float(np.mean(np.abs(est - clean))), float(np.mean((est - clean) ** 2))


def test_minimax_beats_least_squares_on_uniform_noise_only() -> None:
    """Seed 001's task (uniform noise +-0.35): measured MAE 0.0069 (minimax) against 0.0223
    (LS) on 2,000 examples; under Gaussian noise of std 0.2 the order flips (0.064 against
    0.023): the check tells the two fits apart, and the L-infinity fit from a broken one."""
    clean, noise = signals.sine(SINE, 300, np.random.default_rng(5))
    clean = clean.astype(np.float64)
    mixed = clean + noise
    mm = errors(clean, minimax.minimax_sine_known_period(mixed, 60))
    ls = errors(clean, bounds.ls_sine_known_period(mixed, 60))
    assert mm[0] < 0.5 * ls[0] and mm[1] < 0.25 * ls[1], (mm, ls)
    assert mm[0] == pytest.approx(0.007, abs=0.002)
    gauss = clean + 0.2 * np.random.default_rng(6).standard_normal(clean.shape)
    mm = errors(clean, minimax.minimax_sine_known_period(gauss, 60))
    ls = errors(clean, bounds.ls_sine_known_period(gauss, 60))
    assert mm[0] > 1.5 * ls[0] and mm[1] > 2.0 * ls[1], (mm, ls)


def test_chebyshev_fit_is_the_minimax_solution() -> None:
    """Exact on a noiseless sinusoid; on noisy rows its largest residual is never above least
    squares', and it is reached at p + 1 = 3 samples at least (Chebyshev's alternation)."""
    clean, noise = signals.sine(SINE, 20, np.random.default_rng(8))
    clean = clean.astype(np.float64)
    np.testing.assert_allclose(minimax.minimax_sine_known_period(clean, 60), clean, atol=1e-7)
    mixed = clean + noise
    resid_mm = np.abs(mixed - minimax.minimax_sine_known_period(mixed, 60))
    resid_ls = np.abs(mixed - bounds.ls_sine_known_period(mixed, 60))
    worst = resid_mm.max(axis=1)
    assert (worst <= resid_ls.max(axis=1) + 1e-9).all()
    assert (np.sum(resid_mm >= worst[:, None] - 1e-7, axis=1) >= 3).all()


def test_missing_samples_are_left_out() -> None:
    clean, noise = signals.sine(SINE, 3, np.random.default_rng(9))
    mixed = (clean + noise).astype(np.float64)
    gappy = mixed.copy()
    gappy[0, 10:30] = np.nan
    gappy[2, :] = np.nan
    out = minimax.minimax_sine_known_period(gappy, 60)
    design = minimax.sine_design(100, 60)
    keep = np.isfinite(gappy[0])
    alone = minimax.chebyshev_fit(gappy[0:1, keep], design[keep])
    np.testing.assert_allclose(out[0, keep], alone[0], atol=1e-9)
    assert np.isfinite(out[0]).all()  # the fit covers the gap
    np.testing.assert_allclose(out[1], minimax.minimax_sine_known_period(mixed[1:2], 60)[0])
    assert np.isnan(out[2]).all()
    with pytest.raises(ValueError, match="design"):
        minimax.chebyshev_fit(mixed, design[:50])


def test_minimax_is_the_sine_reference() -> None:
    clean, noise = signals.sine(SINE, 4, np.random.default_rng(2))
    refs = {r.name: r for r in bounds.references(SINE, clean)}
    assert list(refs) == bounds.reference_names(SINE) == ["oracle_wiener", "ls_sine",
                                                          "minimax_sine"]
    assert refs["minimax_sine"].kind == "parametric"
    assert refs["minimax_sine"].settings == {"fitted_params": 2, "period": 60.0}
    x = (clean + noise).astype(np.float64)
    np.testing.assert_allclose(refs["minimax_sine"].fn(x, np.arange(4)),
                               minimax.minimax_sine_known_period(x, 60))
