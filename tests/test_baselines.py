"""The seed's lowpass filter design and behaviour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from denoisebench.baselines import design_lowpass

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
