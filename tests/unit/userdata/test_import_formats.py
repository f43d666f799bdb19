"""``datasets import`` beyond WAV: NPY, CSV and Parquet recordings, the ``mixed/`` alias,
resampled content (a 1 kHz tone at 48 kHz imported at 8 kHz keeps its frequency and
amplitude), and silent windows (pauses) kept (:mod:`denoisebench.userdata.importer`). Their
evaluation (``snr_skipped``): ``tests/unit/evaluation/test_snr_skipped.py``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from denoisebench.cli import main
from denoisebench.data.shards import DatasetReader
from denoisebench.userdata import importer

FS = 256
WINDOW = 64


def pair_signals(n: int, channels: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(channels, n)`` clean tones and noisy = clean + white noise (float32)."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / FS
    clean = np.stack([0.3 * np.sin(2 * np.pi * rng.uniform(5, 40) * t + rng.uniform(0, 6))
                      for _ in range(channels)]).astype(np.float32)
    noisy = (clean + 0.1 * rng.standard_normal(clean.shape)).astype(np.float32)
    return clean, noisy


def write_npy(path: Path, x: np.ndarray) -> None:
    np.save(path, x)  # (rows, n): one signal per row


def write_csv(path: Path, x: np.ndarray) -> None:
    pd.DataFrame({f"ch{i}": row for i, row in enumerate(x)}).to_csv(path, index=False)


def write_parquet(path: Path, x: np.ndarray, fs: float | None = None) -> None:
    table = pa.table({f"ch{i}": pa.array(row) for i, row in enumerate(x)})
    if fs is not None:
        table = table.replace_schema_metadata({"denoisebench.fs": str(fs)})
    pq.write_table(table, path)


WRITERS = {"npy": write_npy, "csv": write_csv, "parquet": write_parquet}


@pytest.mark.parametrize("fmt", ["npy", "csv", "parquet"])
@pytest.mark.parametrize("noisy_folder", ["noisy", "mixed"])
def test_import_npy_csv_parquet_and_mixed_alias(tmp_path: Path, fmt: str,
                                                noisy_folder: str) -> None:
    src = tmp_path / "rec"
    sig = {}
    for k, name in enumerate(("a", "b", "c")):
        clean, noisy = pair_signals(4 * WINDOW + 10, 2, k)  # 4 windows per channel
        for folder, x in (("clean", clean), (noisy_folder, noisy)):
            (src / folder).mkdir(parents=True, exist_ok=True)
            WRITERS[fmt](src / folder / f"{name}.{fmt}", x)
        sig[name] = (clean, noisy)
    dest = tmp_path / "ds"
    assert main(["datasets", "import", str(src), "-o", str(dest), "--window", str(WINDOW),
                 "--fs", str(FS), "--validation-fraction", "0.34", "--seed", "1"]) == 0
    reader = DatasetReader(dest)
    rec = reader.manifest["params"]["recordings"]
    assert reader.fs == FS and reader.manifest["shape"] == [WINDOW]
    for split in ("train", "validation"):
        names = sorted(rec[split])
        assert names, rec
        for name in names:
            assert rec[split][name]["channels"] == 2 and rec[split][name]["windows"] == 8
            assert rec[split][name]["noisy"].endswith(f"{noisy_folder}/{name}.{fmt}")
        # the windows are the recordings' samples, file by file, channel by channel
        want_clean = np.concatenate([sig[n][0][:, : 4 * WINDOW].reshape(-1, WINDOW)
                                     for n in names])
        want_noisy = np.concatenate([sig[n][1][:, : 4 * WINDOW].reshape(-1, WINDOW)
                                     for n in names])
        tol = 1e-6 if fmt == "csv" else 0  # CSV goes through decimal text
        np.testing.assert_allclose(reader.read(split, "clean"), want_clean, rtol=0, atol=tol)
        np.testing.assert_allclose(reader.read(split, "mixed"), want_noisy, rtol=0, atol=tol)


@pytest.mark.parametrize("fmt", ["wav", "parquet"])
def test_resampled_tone_keeps_frequency_and_amplitude(tmp_path: Path, fmt: str) -> None:
    """A 1 kHz tone (amplitude 0.5) recorded at 48 kHz, imported at 8 kHz."""
    fs_in, fs_out, f0, amp, seconds = 48_000, 8_000, 1_000.0, 0.5, 1.0
    t = np.arange(int(fs_in * seconds)) / fs_in
    clean = (amp * np.sin(2 * np.pi * f0 * t)).astype(np.float32)
    noise = (0.05 * np.random.default_rng(0).standard_normal(len(t))).astype(np.float32)
    src = tmp_path / "rec"
    for name in ("a", "b"):
        for folder, x in (("clean", clean), ("noisy", clean + noise)):
            (src / folder).mkdir(parents=True, exist_ok=True)
            if fmt == "wav":
                sf.write(src / folder / f"{name}.wav", x, fs_in, subtype="FLOAT")
            else:
                write_parquet(src / folder / f"{name}.parquet", x[None], fs=fs_in)
    window = 800  # 0.1 s at 8 kHz: 100 cycles, 1 kHz falls on FFT bin 100
    importer.import_recordings(src, tmp_path / "ds", window, fs=fs_out, validation_fraction=0.5)
    reader = DatasetReader(tmp_path / "ds")
    assert reader.fs == fs_out
    rec = reader.manifest["params"]["recordings"]
    assert all(r["fs"] == fs_in for split in rec.values() for r in split.values())
    x = reader.read("train", "clean").astype(np.float64)
    assert x.shape == (int(fs_out * seconds) // window, window)
    inner = x[1:-1]  # away from the resampler's edges
    spectrum = np.abs(np.fft.rfft(inner, axis=1))
    freqs = np.fft.rfftfreq(window, 1 / fs_out)
    assert np.all(freqs[np.argmax(spectrum, axis=1)] == f0)
    # amplitude: the peak bin gives amp * window / 2; the RMS gives amp / sqrt(2)
    np.testing.assert_allclose(spectrum[:, 100] * 2 / window, amp, rtol=0.01)
    np.testing.assert_allclose(np.sqrt(np.mean(inner**2, axis=1)), amp / np.sqrt(2), rtol=0.01)
    # the noise survives too, at its level (white noise keeps the share below 4 kHz)
    noise_out = reader.read("train", "noise").astype(np.float64)[1:-1]
    assert 0.05 / np.sqrt(6) * 0.8 < np.std(noise_out) < 0.05 / np.sqrt(6) * 1.2


def write_paused(src: Path, pauses: dict[str, list[int]], windows: int = 6) -> None:
    """WAV pairs ``<name>``: ``windows`` windows of tones plus noise, the clean signal silent
    (zero) in the windows listed in ``pauses[name]``, the noise everywhere."""
    for k, (name, silent) in enumerate(pauses.items()):
        clean, noisy = pair_signals(windows * WINDOW, 1, 10 + k)
        noise = noisy - clean
        for w in silent:
            clean[:, w * WINDOW:(w + 1) * WINDOW] = 0.0
        for folder, x in (("clean", clean), ("noisy", clean + noise)):
            (src / folder).mkdir(parents=True, exist_ok=True)
            sf.write(src / folder / f"{name}.wav", x[0], FS, subtype="FLOAT")


def test_import_keeps_silent_windows(tmp_path: Path) -> None:
    src = tmp_path / "rec"
    write_paused(src, {"a": [0, 3], "b": [5]})
    path = importer.import_recordings(src, tmp_path / "ds", WINDOW, validation_fraction=0.5)
    rec = json.loads(path.read_text())["params"]["recordings"]
    by_name = {n: r for split in rec.values() for n, r in split.items()}
    assert {n: (r["windows"], r["silent"], r["dropped"]) for n, r in by_name.items()} == {
        "a": (6, 2, 0), "b": (6, 1, 0)}
    reader = DatasetReader(tmp_path / "ds")
    clean = np.concatenate([reader.read(s, "clean") for s in ("train", "validation")])
    mixed = np.concatenate([reader.read(s, "mixed") for s in ("train", "validation")])
    silent = ~np.any(clean != 0, axis=1)
    assert silent.sum() == 3 and np.all(np.any(mixed[silent] != 0, axis=1))  # noise kept
    # `datasets manifest` accepts the folder again (a pause is data, not damage)
    assert main(["datasets", "manifest", str(tmp_path / "ds")]) == 0
