"""Vectorised 1-D signal generators: one function per dataset kind, one shard at a time.

Every generator takes a dataset's params (a mapping from params.yaml), a number of rows and a
``numpy.random.Generator`` and returns ``(clean, noise)`` as float32 arrays of shape
``(rows, time)``; the mixture is ``clean + noise`` (see :func:`denoisebench.data.generate`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

Generated = tuple[np.ndarray, np.ndarray]


def scale_noise_to_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Scale each row of ``noise`` so that ``clean`` vs ``noise`` has SNR ``snr_db`` exactly.

    SNR = 10 log10(sum clean^2 / sum noise^2) per row (REFERENCE.md, "Metrics"). Arrays are
    ``(rows, time)``; the result has the dtype of ``noise``.

    Raises:
        ValueError: a row of ``noise`` has zero energy.
    """
    p_clean = np.sum(np.square(clean, dtype=np.float64), axis=-1, keepdims=True)
    p_noise = np.sum(np.square(noise, dtype=np.float64), axis=-1, keepdims=True)
    if np.any(p_noise == 0):
        raise ValueError("cannot scale a noise row of zero energy to a target SNR")
    gain = np.sqrt(p_clean / (p_noise * 10.0 ** (snr_db / 10.0)))
    return (noise * gain).astype(noise.dtype)


def multisine(params: Mapping[str, Any], rows: int, rng: np.random.Generator) -> Generated:
    """Seed 004's task: sums of ``n_sines`` sinusoids in white Gaussian noise.

    Frequencies U[fmin_hz, fmax_hz], amplitude 1, phase U[0, 2 pi) if ``random_phase`` else 0
    (the seed's choice), the sum divided by ``n_sines`` if ``normalize`` (as the seed does);
    time t = n / fs for n = 0 .. round(fs * duration_s) - 1. Gaussian noise is scaled per row to
    SNR ``snr_db`` exactly (seed: -2 dB). Returns ``(clean, noise)``, each ``(rows, time)``
    float32.
    """
    fs = float(params["fs"])
    n = round(fs * float(params["duration_s"]))
    k = int(params["n_sines"])
    t = np.arange(n, dtype=np.float64) / fs
    freqs = rng.uniform(params["fmin_hz"], params["fmax_hz"], size=(rows, k, 1))
    if params["random_phase"]:
        phase = rng.uniform(0.0, 2.0 * np.pi, size=(rows, k, 1))
    else:
        phase = np.zeros((rows, k, 1))
    clean = np.sin(2.0 * np.pi * freqs * t + phase).sum(axis=1)
    if params["normalize"]:
        clean /= k
    noise = rng.standard_normal((rows, n))
    noise = scale_noise_to_snr(clean, noise, float(params["snr_db"]))
    return clean.astype(np.float32), noise.astype(np.float32)


#: dataset kind -> generator
GENERATORS: dict[str, Callable[[Mapping[str, Any], int, np.random.Generator], Generated]] = {
    "multisine": multisine,
}


def signal_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    """Shape of one example (without the batch axis) for a generated 1-D dataset."""
    if params["kind"] == "multisine":
        return (round(float(params["fs"]) * float(params["duration_s"])),)
    raise KeyError(f"no signal shape known for dataset kind {params['kind']!r}")
