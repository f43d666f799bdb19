"""Reference bounds reproduce the reference figures of docs/tasks.md on small draws (cheap ones
only: the blind NLS fit runs on 120 examples) and the true frequencies replay exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from denoisebench.data import generate, signals
from denoisebench.data.shards import DatasetReader
from denoisebench.evaluation import bounds

MULTISINE = {"kind": "multisine", "fs": 256, "duration_s": 1.0, "n_sines": 3, "fmin_hz": 10.0,
             "fmax_hz": 64.0, "random_phase": True, "normalize": True, "snr_db": -2.0}
QUADRATIC = {"kind": "quadratic", "length": 150, "fs": 100.0, "x_start": -0.5,
             "a_range": [0.5, 2.0], "h_range": [-0.3, 0.8], "k_range": [-0.5, 0.5],
             "noise_std": 0.05}
SINE = {"kind": "sine", "length": 100, "period": 60, "max_offset": 100, "noise_amplitude": 0.35}


def agg_snri(clean: np.ndarray, mixed: np.ndarray, est: np.ndarray,
             rows: np.ndarray | None = None) -> float:
    rows = np.arange(len(clean)) if rows is None else rows
    return float(10 * np.log10(np.sum((mixed[rows] - clean[rows]) ** 2)
                               / np.sum((est[rows] - clean[rows]) ** 2)))


def boot_ci(clean: np.ndarray, mixed: np.ndarray, est: np.ndarray) -> tuple[float, float]:
    """95 % bootstrap interval of the aggregate SNRi, widened by 0.1 dB (docs/judging.md's own
    interval on >= 2,000 examples)."""
    noise = np.sum((mixed - clean) ** 2, axis=1)
    err = np.sum((est - clean) ** 2, axis=1)
    idx = np.random.default_rng(0).integers(0, len(clean), (500, len(clean)))
    vals = 10 * np.log10(noise[idx].sum(1) / err[idx].sum(1))
    return float(np.percentile(vals, 2.5)) - 0.1, float(np.percentile(vals, 97.5)) + 0.1


@pytest.fixture(scope="module")
def multisine() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    clean, noise = signals.multisine(MULTISINE, 400, np.random.default_rng(11))
    freqs, _ = signals.multisine_tones(MULTISINE, 400, np.random.default_rng(11))
    return clean.astype(np.float64), (clean + noise).astype(np.float64), freqs


def test_cramer_rao_figures() -> None:
    assert bounds.cramer_rao_snri_db(256, 9) == pytest.approx(14.54, abs=0.01)  # REF 14.55
    assert bounds.cramer_rao_snri_db(256, 6) == pytest.approx(16.3, abs=0.05)
    assert bounds.cramer_rao_snri_db(150, 3) == pytest.approx(16.99, abs=0.01)
    assert bounds.limit(MULTISINE, 256) == {"snri_db_agg": bounds.cramer_rao_snri_db(256, 9),
                                            "fitted_params": 9, "samples": 256}
    assert bounds.limit(SINE, 100) is None  # uniform noise: no Cramér–Rao figure
    with pytest.raises(ValueError, match="fitted_params"):
        bounds.cramer_rao_snri_db(5, 9)


def test_oracle_ls_with_true_frequencies(multisine) -> None:
    clean, mixed, freqs = multisine
    est = bounds.oracle_sinusoids(mixed, freqs, 256.0)
    lo, hi = boot_ci(clean, mixed, est)
    assert lo <= 16.3 <= hi  # docs/judging.md: 16.3 dB = 10 log10(256 / 6)
    # noiseless: the true frequencies reproduce the clean signal
    # (to float32 precision: the generator computes the sine in float32)
    np.testing.assert_allclose(bounds.oracle_sinusoids(clean, freqs, 256.0), clean, atol=1e-4)


def test_oracle_wiener(multisine) -> None:
    clean, mixed, _ = multisine
    lo, hi = boot_ci(clean, mixed, bounds.oracle_wiener(clean, mixed, "dft"))
    assert lo <= 11.4 <= hi  # docs/judging.md: "oracle DFT Wiener" 11.4 dB
    # the DCT variant (the pipeline's) avoids the wrap-around jump: a little better here ...
    assert agg_snri(clean, mixed, bounds.oracle_wiener(clean, mixed)) > hi - 0.1
    # ... and far better on a smooth, non-periodic signal
    qc, qn = signals.quadratic(QUADRATIC, 200, np.random.default_rng(4))
    qc, qm = qc.astype(np.float64), (qc + qn).astype(np.float64)
    assert agg_snri(qc, qm, bounds.oracle_wiener(qc, qm)) > \
        agg_snri(qc, qm, bounds.oracle_wiener(qc, qm, "dft")) + 5
    with pytest.raises(ValueError, match="transform"):
        bounds.oracle_wiener(qc, qm, "wavelet")


def test_blind_nls_fit(multisine) -> None:
    clean, mixed, freqs = multisine
    rows = slice(0, 120)
    est, found = bounds.nls_sinusoids(mixed[rows], 3, 256.0)
    assert est.shape == (120, 256) and found.shape == (120, 3)
    snri = agg_snri(clean[rows], mixed[rows], est)
    # docs/judging.md: 14.2 dB; never above the oracle's 16.3 (that would be a bug)
    assert 13.0 < snri < 15.5
    # most examples: every frequency found within 0.5 Hz
    close = np.abs(np.sort(found, 1) - np.sort(freqs[rows], 1)).max(axis=1) < 0.5
    assert close.mean() > 0.85
    # noiseless single tone: exact
    t = np.arange(256) / 256.0
    one = np.sin(2 * np.pi * 23.3 * t + 0.4)[None, :]
    est1, f1 = bounds.nls_sinusoids(one, 1, 256.0)
    assert f1[0, 0] == pytest.approx(23.3, abs=1e-6)
    np.testing.assert_allclose(est1, one, atol=1e-6)


def test_ls_quadratic_fit() -> None:
    clean, noise = signals.quadratic(QUADRATIC, 400, np.random.default_rng(3))
    clean, mixed = clean.astype(np.float64), (clean + noise).astype(np.float64)
    lo, hi = boot_ci(clean, mixed, bounds.ls_polynomial(mixed, 2))
    assert lo <= 17.0 <= hi  # docs/judging.md: 17.0 dB (3 parameters, N = 150)
    np.testing.assert_allclose(bounds.ls_polynomial(clean, 2), clean, atol=1e-5)


def test_ls_sine_known_period() -> None:
    clean, noise = signals.sine(SINE, 1000, np.random.default_rng(5))
    mae = np.abs(bounds.ls_sine_known_period(clean + noise, 60) - clean).mean()
    assert mae == pytest.approx(0.023, abs=0.002)  # docs/judging.md: 0.023 (identity 0.175)


def test_references_by_kind(multisine) -> None:
    clean, mixed, freqs = multisine
    names = [r.name for r in bounds.references(MULTISINE, clean, freqs)]
    assert names == bounds.reference_names(MULTISINE) == ["oracle_wiener", "oracle_ls", "nls"]
    assert [r.name for r in bounds.references(MULTISINE, clean, None)] == ["oracle_wiener",
                                                                           "nls"]
    assert bounds.reference_names(SINE) == ["oracle_wiener", "ls_sine", "minimax_sine"]
    assert bounds.reference_names(QUADRATIC) == ["oracle_wiener", "ls_quadratic"]
    assert bounds.reference_names({"kind": "folder"}) == ["oracle_wiener"]
    # the oracle looks up the rows it is given
    refs = {r.name: r for r in bounds.references(MULTISINE, clean, freqs)}
    rows = np.array([5, 17, 3])
    np.testing.assert_allclose(refs["oracle_ls"].fn(mixed[rows], rows),
                               bounds.oracle_sinusoids(mixed[rows], freqs[rows], 256.0))


def test_true_frequencies_replay_the_shards(tmp_path: Path) -> None:
    params = {**MULTISINE, "train_size": 30, "validation_size": 25, "train_shards": 1,
              "validation_shards": 2, "format": "parquet"}
    root = tmp_path / "ms"
    for split, shards in (("train", 1), ("validation", 2)):
        for i in range(shards):
            generate.generate_shard("ms", params, 5, split, i, root)
    generate.build_manifest("ms", params, 5, root)
    reader = DatasetReader(root)
    freqs = bounds.true_multisine_frequencies("ms", params, 5, reader)
    assert freqs.shape == (25, 3)
    clean = reader.read("validation", "clean")
    # (to float32 precision: the generator computes the sine in float32)
    np.testing.assert_allclose(bounds.oracle_sinusoids(clean, freqs, 256.0), clean, atol=1e-4)
    # other params (or someone else's data): no frequencies, no oracle
    assert bounds.true_multisine_frequencies("ms", params, 6, reader) is None
    assert bounds.true_multisine_frequencies("ms", {**params, "fmax_hz": 60.0}, 5,
                                             reader) is None
