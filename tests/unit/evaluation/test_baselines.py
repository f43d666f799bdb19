"""The seed's lowpass filter design and behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from denoisebench.evaluation.baselines import design_lowpass

SEED_SPEC = {"design": "buttord", "passband_hz": 64.0, "stopband_hz": 100.0,
             "gpass_db": 0.05, "gstop_db": 60.0}


def test_seed_lowpass_is_order_9() -> None:
    lp = design_lowpass(SEED_SPEC, fs=256.0)
    order, wn = signal.buttord(64, 100, 0.05, 60, fs=256)
    assert lp.order == order == 9
    assert lp.cutoff_hz == pytest.approx(wn)
    assert 70 < lp.cutoff_hz < 78  # about 74 Hz
    w, h = signal.sosfreqz(lp.sos, worN=[64.0, 100.0], fs=256.0)
    gain_db = 20 * np.log10(np.abs(h))
    assert gain_db[0] > -0.05 - 1e-6 and gain_db[1] < -60 + 1e-6


def test_zero_phase_and_attenuation() -> None:
    fs, t = 256.0, np.arange(256) / 256.0
    low = np.sin(2 * np.pi * 20 * t)
    high = np.sin(2 * np.pi * 110 * t)
    lp = design_lowpass(SEED_SPEC, fs)
    out = lp((low + high)[None, :])[0]
    # zero phase: the in-band sine comes through without delay (away from the edges)
    np.testing.assert_allclose(out[32:-32], low[32:-32], atol=0.02)


def test_butter_design_and_nyquist_error() -> None:
    lp = design_lowpass({"design": "butter", "cutoff_hz": 50.0, "order": 4}, 256.0)
    assert lp.order == 4 and lp.cutoff_hz == 50.0
    with pytest.raises(ValueError, match="Nyquist"):
        design_lowpass({"design": "butter", "cutoff_hz": 128.0, "order": 4}, 256.0)


# --------------------------------------------------------------------------- tuned baselines

MULTISINE = {"kind": "multisine", "fs": 256, "duration_s": 1.0, "n_sines": 3, "fmin_hz": 10.0,
             "fmax_hz": 64.0, "random_phase": True, "normalize": True, "snr_db": -2.0,
             "lowpass": SEED_SPEC}


def _draw(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from denoisebench.data import signals

    clean, noise = signals.multisine(MULTISINE, rows, np.random.default_rng(seed))
    return clean.astype(np.float64), (clean + noise).astype(np.float64)


def _snri(clean: np.ndarray, mixed: np.ndarray, est: np.ndarray) -> float:
    return float(10 * np.log10(np.sum((mixed - clean) ** 2) / np.sum((est - clean) ** 2)))


def test_every_grid_point_applies() -> None:
    from denoisebench.evaluation import baselines

    x = _draw(3, 0)[1]
    for method in baselines.TUNED:
        grid = baselines.search_space(method, 256, 256.0)
        assert len(grid) >= 10, method
        for settings in grid:
            out = baselines.apply(method, x, settings, 256.0)
            assert out.shape == x.shape and np.isfinite(out).all(), (method, settings)


def test_tuned_lowpass_reproduces_reference() -> None:
    """REFERENCE: best tuned Butterworth (order 2, 52 Hz) 3.7 dB; order 4 at 64 Hz 3.2 dB."""
    from denoisebench.evaluation import baselines

    train_clean, train_mixed = _draw(300, 1)
    clean, mixed = _draw(400, 2)
    order2 = [g for g in baselines.search_space("lowpass_tuned", 256, 256.0) if g["order"] == 2]
    s2, _ = baselines.tune("lowpass_tuned", train_clean, train_mixed, 256.0, order2)
    assert 44 <= s2["cutoff_hz"] <= 58
    assert _snri(clean, mixed, baselines.apply("lowpass_tuned", mixed, s2, 256.0)) == \
        pytest.approx(3.7, abs=0.25)
    assert _snri(clean, mixed, baselines.butterworth(mixed, 256.0, 4, cutoff_hz=64.0)) == \
        pytest.approx(3.2, abs=0.25)
    # the full grid (order 1 included) is at least as good
    s, train_snri = baselines.tune("lowpass_tuned", train_clean, train_mixed, 256.0)
    assert _snri(clean, mixed, baselines.apply("lowpass_tuned", mixed, s, 256.0)) >= 3.6
    assert train_snri > 3.6 and isinstance(s["order"], int)


def test_tuning_uses_only_what_it_is_given() -> None:
    """Tuning is a pure function of the (train) examples handed to it: the chosen settings
    minimise the total squared error over them, whatever validation looks like."""
    from denoisebench.evaluation import baselines

    train_clean, train_mixed = _draw(40, 3)
    grid = baselines.search_space("savgol", 256, 256.0)
    best, _ = baselines.tune("savgol", train_clean, train_mixed, 256.0, grid)
    errors = [baselines.squared_error(train_clean, baselines.apply("savgol", train_mixed, g,
                                                                   256.0)) for g in grid]
    assert best == grid[int(np.argmin(errors))]


def test_build_order_and_settings() -> None:
    from denoisebench.evaluation import baselines

    train_clean, train_mixed = _draw(40, 4)
    tuned = baselines.tune_all(train_clean, train_mixed, 256.0)
    built = baselines.build(MULTISINE, tuned, 40)
    assert [b.name for b in built] == list(baselines.NAMES)
    for b in built:
        assert all(isinstance(v, int | float) for v in b.settings.values()), b
        if b.name != "lowpass":
            assert b.settings["tuned_on_train"] == 40
    assert built[0].settings == {"order": 9, "cutoff_hz": pytest.approx(73.99, abs=0.1)}
    # no lowpass spec (e.g. a dataset kind without the seed's filter): tuned ones only
    names = [b.name for b in baselines.build({**MULTISINE, "lowpass": None}, tuned)]
    assert names == list(baselines.TUNED)
    # NaN targets (missing values) are left out of the criterion
    holed = train_clean.copy()
    holed[:, ::7] = np.nan
    assert np.isfinite(baselines.squared_error(holed, train_mixed))
    s, _ = baselines.tune("wiener", holed, train_mixed, 256.0)
    assert s["window"] % 2 == 1


def test_wavelet_and_wiener_wrappers() -> None:
    from denoisebench.evaluation import baselines

    clean, mixed = _draw(50, 5)
    for est in (baselines.wavelet_shrink(mixed, 4, 4, 0.5, 0), baselines.wiener(mixed, 5),
                baselines.savgol(mixed, 11, 3)):
        assert est.shape == mixed.shape
        assert _snri(clean, mixed, est) > 1.0
    with pytest.raises(ValueError, match="dwt_max_level"):
        baselines.wavelet_shrink(mixed, 8, 9, 1.0, 0)
