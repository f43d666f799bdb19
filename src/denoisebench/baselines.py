"""Classical baselines judged on the same examples as the learned models.

Each baseline is a thin wrapper over scipy.signal. The lowpass is seed 004's: a Butterworth
designed by ``scipy.signal.buttord(wp=64, ws=100, gpass=0.05, gstop=60, fs=256)`` (order 9,
-3 dB at about 74 Hz), applied forward and backward (``sosfiltfilt``, zero phase).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import signal


@dataclass(frozen=True)
class Lowpass:
    """A designed Butterworth lowpass: second-order sections, order and -3 dB cutoff (Hz)."""

    sos: np.ndarray
    order: int
    cutoff_hz: float
    fs: float
    info: dict[str, Any] = field(default_factory=dict)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Filter along the last axis, zero phase; ``x`` is ``(..., time)``, same shape out.

        Raises:
            ValueError: the signal is too short for ``sosfiltfilt``'s padding.
        """
        return signal.sosfiltfilt(self.sos, np.asarray(x, dtype=np.float64), axis=-1)


def design_lowpass(spec: Mapping[str, Any], fs: float) -> Lowpass:
    """Design the Butterworth lowpass described by a ``datasets.<name>.lowpass`` mapping.

    ``design: buttord`` uses ``scipy.signal.buttord(passband_hz, stopband_hz, gpass_db,
    gstop_db, fs=fs)`` for the order and cutoff (seed 004); ``design: butter`` takes
    ``cutoff_hz`` and ``order`` directly.

    Raises:
        ValueError: an edge at or above Nyquist (``fs / 2``), or an unknown design.
    """
    nyq = fs / 2
    if spec["design"] == "buttord":
        wp, ws = float(spec["passband_hz"]), float(spec["stopband_hz"])
        if not 0 < wp < ws < nyq:
            raise ValueError(f"lowpass: need 0 < passband_hz ({wp}) < stopband_hz ({ws}) < "
                             f"Nyquist ({nyq} Hz)")
        order, wn = signal.buttord(wp, ws, float(spec["gpass_db"]), float(spec["gstop_db"]), fs=fs)
        order, cutoff = int(order), float(wn)
    elif spec["design"] == "butter":
        order, cutoff = int(spec["order"]), float(spec["cutoff_hz"])
        if not 0 < cutoff < nyq:
            raise ValueError(f"lowpass: cutoff_hz {cutoff} must lie in (0, Nyquist = {nyq} Hz)")
    else:
        raise ValueError(f"lowpass: unknown design {spec['design']!r}; expected buttord or butter")
    sos = signal.butter(order, cutoff, btype="lowpass", fs=fs, output="sos")
    info = {"design": spec["design"], "order": order, "cutoff_hz": cutoff}
    return Lowpass(sos, order, cutoff, fs, info)


def run_baselines(
    dataset: Mapping[str, Any], mixed: np.ndarray
) -> dict[str, tuple[np.ndarray, dict]]:
    """Every classical baseline of a 1-D dataset on ``mixed`` ``(batch, time)``.

    Returns ``{name: (estimate (batch, time), settings)}``; the lowpass is always first.
    """
    lp = design_lowpass(dataset["lowpass"], float(dataset["fs"]))
    return {"lowpass": (lp(mixed), lp.info)}
