"""Vectorised 1-D signal generators: one function per dataset kind, one shard at a time.

Every generator takes a dataset's params (a mapping from params.yaml), a number of rows and a
``numpy.random.Generator`` and returns ``(clean, noise)`` as float32 arrays of shape
``(rows, time)``; the mixture is ``clean + noise`` (see :func:`denoisebench.data.generate`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

Generated = tuple[np.ndarray, np.ndarray]
#: rows per block of :func:`multisine` (its float64 work arrays: block x n_sines x time)
MULTISINE_BLOCK_ROWS = 256


def scale_noise_to_snr(clean: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """Scale each row of ``noise`` so that ``clean`` vs ``noise`` has SNR ``snr_db`` exactly.

    SNR = 10 log10(sum clean^2 / sum noise^2) per row (docs/judging.md, "Metrics"). Arrays are
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


def multisine_tones(
    params: Mapping[str, Any], rows: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The first draws of :func:`multisine`: frequencies (Hz) and phases (rad), each
    ``(rows, n_sines)`` float64.

    Exposed so that an oracle can recover a shard's true frequencies by replaying its
    SeedSequence (:func:`denoisebench.evaluation.bounds.true_multisine_frequencies`) instead of
    storing them: the shards stay the interface, and the same params give the same draws.
    """
    k = int(params["n_sines"])
    freqs = rng.uniform(params["fmin_hz"], params["fmax_hz"], size=(rows, k))
    if params["random_phase"]:
        phase = rng.uniform(0.0, 2.0 * np.pi, size=(rows, k))
    else:
        phase = np.zeros((rows, k))
    return freqs, phase


def multisine(params: Mapping[str, Any], rows: int, rng: np.random.Generator) -> Generated:
    """Seed 004's task: sums of ``n_sines`` sinusoids in white Gaussian noise.

    Frequencies U[fmin_hz, fmax_hz], amplitude 1, phase U[0, 2 pi) if ``random_phase`` else 0
    (the seed's choice), the sum divided by ``n_sines`` if ``normalize`` (as the seed does);
    time t = n / fs for n = 0 .. round(fs * duration_s) - 1. Gaussian noise is scaled per row to
    SNR ``snr_db`` exactly (seed: -2 dB). Returns ``(clean, noise)``, each ``(rows, time)``
    float32.

    Rows are computed in blocks of :data:`MULTISINE_BLOCK_ROWS` into preallocated buffers, so
    the float64 temporaries (rows x n_sines x time) stay in cache instead of being allocated
    (and page-faulted) for the whole shard; every value is computed by the same operations in
    the same order as a whole-shard evaluation, and the noise is drawn in the same order from
    the same stream, so the output does not depend on the block size.
    """
    fs = float(params["fs"])
    n = round(fs * float(params["duration_s"]))
    k = int(params["n_sines"])
    snr_db = float(params["snr_db"])
    t = np.arange(n, dtype=np.float64) / fs
    freqs, phase = multisine_tones(params, rows, rng)
    omega = 2.0 * np.pi * freqs  # (rows, k): the left-to-right order of 2 pi f t + phase
    clean = np.empty((rows, n), np.float32)
    noise = np.empty((rows, n), np.float32)
    block = max(1, min(rows, MULTISINE_BLOCK_ROWS))
    arg = np.empty((block, k, n), np.float64)
    sines = np.empty((block, k, n), np.float32)
    sum64 = np.empty((block, n), np.float64)
    noise64 = np.empty((block, n), np.float64)
    for lo in range(0, rows, block):
        m = min(block, rows - lo)
        a, s, c, z = arg[:m], sines[:m], sum64[:m], noise64[:m]
        # phase in float64, sine in float32: ~20x cheaper than a float64 sine (BENCHMARKS.md),
        # with an argument error below 3e-5 rad for 1 s at 64 Hz, far under the float32 storage
        np.multiply(omega[lo:lo + m, :, None], t, out=a)
        a += phase[lo:lo + m, :, None]
        np.sin(a, out=s, dtype=np.float32, casting="same_kind")  # rounds, then float32 sine
        c[...] = s[:, 0]  # the float64 sum over the tones, in numpy's order (tone by tone)
        for j in range(1, k):
            np.add(c, s[:, j], out=c)
        if params["normalize"]:
            c /= k
        rng.standard_normal(out=z)  # the stream continues block to block: same draws
        clean[lo:lo + m] = c
        noise[lo:lo + m] = scale_noise_to_snr(c, z, snr_db)
    return clean, noise


def quadratic(params: Mapping[str, Any], rows: int, rng: np.random.Generator) -> Generated:
    """Seed 000's task widened: random quadratics y = a (x - h)^2 + k in white Gaussian noise.

    x = x_start + n / fs for n = 0 .. length - 1 (seed: x = 0.01 i, i = -50 .. 99, i.e.
    ``x_start`` -0.5, ``fs`` 100 samples per unit x, ``length`` 150); a, h, k are drawn per row
    uniformly from ``a_range``, ``h_range``, ``k_range`` (each ``[low, high]``; zero-width ranges
    [1, 1], [0, 0], [0, 0] give the seed's y = x^2 for every row). Noise: ``noise_std`` * N(0, 1)
    (seed: 0.05). Returns ``(clean, noise)``, each ``(rows, length)`` float32, in the units of y.
    """
    n = int(params["length"])
    fs = float(params["fs"])
    # (x_start fs + n) / fs as index times step: bit-for-bit the seed's x = i * 0.01
    x = (float(params["x_start"]) * fs + np.arange(n, dtype=np.float64)) * (1.0 / fs)
    a, h, k = (rng.uniform(*params[key], size=(rows, 1)) for key in ("a_range", "h_range",
                                                                      "k_range"))
    clean = a * (x - h) ** 2 + k
    noise = float(params["noise_std"]) * rng.standard_normal((rows, n))
    return clean.astype(np.float32), noise.astype(np.float32)


def sine(params: Mapping[str, Any], rows: int, rng: np.random.Generator) -> Generated:
    """Seed 001's task: sin(2 pi (t + offset) / period) in uniform noise.

    t = 0 .. length - 1 samples (seed: 100), ``period`` in samples (seed: 60), integer offset
    drawn per row uniformly from 0 .. ``max_offset`` inclusive (seed: 100, Python's
    ``random.randint``); noise uniform in [-noise_amplitude, noise_amplitude] (seed: 0.35).
    Returns ``(clean, noise)``, each ``(rows, length)`` float32. Missing targets
    (``missing_fraction``) are applied after mixing, by :func:`missing_targets`.
    """
    n = int(params["length"])
    offset = rng.integers(0, int(params["max_offset"]), size=(rows, 1), endpoint=True)
    clean = np.sin(2.0 * np.pi * (np.arange(n) + offset) / float(params["period"]))
    amp = float(params["noise_amplitude"])
    noise = rng.uniform(-amp, amp, size=(rows, n))
    return clean.astype(np.float32), noise.astype(np.float32)


def missing_targets(clean: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    """A copy of ``clean`` ``(rows, ...)`` with ``round(fraction * clean.size)`` values, drawn
    without replacement, set to NaN (seed 001's missing targets; the mixture keeps them).

    Raises:
        ValueError: ``fraction`` outside [0, 1).
    """
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"missing_fraction must lie in [0, 1), got {fraction}")
    out = np.array(clean, copy=True)
    flat = out.reshape(-1)
    flat[rng.choice(flat.size, size=round(fraction * flat.size), replace=False)] = np.nan
    return out


def multisine_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    """One multisine example: ``fs * duration_s`` samples."""
    return (round(float(params["fs"]) * float(params["duration_s"])),)


def length_shape(params: Mapping[str, Any]) -> tuple[int, ...]:
    """One example of the kinds with a ``length`` (quadratic, sine): ``length`` samples."""
    return (int(params["length"]),)


def multisine_errors(p: str, ds: Mapping[str, Any]) -> list[str]:
    """Checks of a ``multisine`` dataset (seed 004) beyond the schema: the band below Nyquist
    and at least 8 samples; ``p`` is ``datasets.<name>``."""
    errors = []
    fs = ds.get("fs")
    if ds["fmin_hz"] >= ds["fmax_hz"]:
        errors.append(f"{p}.fmin_hz: {ds['fmin_hz']} must be below {p}.fmax_hz "
                      f"({ds['fmax_hz']})")
    if ds["fmax_hz"] >= fs / 2:
        errors.append(f"{p}.fmax_hz: {ds['fmax_hz']} Hz must be below Nyquist "
                      f"(fs/2 = {fs / 2} Hz)")
    if round(fs * ds["duration_s"]) < 8:
        errors.append(f"{p}.duration_s: fs * duration_s = {fs * ds['duration_s']} "
                      "samples; expected at least 8")
    return errors


def curve_errors(p: str, ds: Mapping[str, Any]) -> list[str]:
    """Checks of the ``quadratic`` and ``sine`` kinds (seeds 000, 001): every ``*_range`` is
    ``[low, high]`` with low <= high (the lowpass' padding: the baselines' own check)."""
    errors = []
    for key in ("a_range", "h_range", "k_range"):
        if key in ds and ds[key][0] > ds[key][1]:
            errors.append(f"{p}.{key}: low {ds[key][0]} exceeds high {ds[key][1]}; expected "
                          "[low, high]")
    return errors
