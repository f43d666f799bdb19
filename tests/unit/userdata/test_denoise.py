"""``denoisebench denoise``: formats, resampling, overlap-add exactness, bad inputs."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from denoisebench import inference
from denoisebench.cli import add_denoise_parser
from denoisebench.userdata import files
from denoisebench.userdata.denoise import DenoiseInputError, denoise_files, denoise_signal
from denoisebench.userdata.windows import crossfade, overlap_add

WINDOW = 16
FS = 256


def _save_model(folder: Path, shape: tuple[int, ...], gain: float = 1.0,
                scaling: str = "none", fs: float | None = FS) -> Path:
    import keras

    layers = [keras.Input((*shape, 1))]
    layers.append(keras.layers.Identity() if gain == 1.0 else keras.layers.Rescaling(gain))
    meta = {"fs": fs, "window": shape[0], "input_shape": list(shape),
            "model_input_shape": [*shape, 1], "scaling": {"kind": scaling}}
    inference.save(keras.Sequential(layers), folder, meta)
    return folder


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    return {
        "identity": _save_model(root / "identity", (WINDOW,)),
        "minmax": _save_model(root / "minmax", (WINDOW,), scaling="minmax"),
        "double": _save_model(root / "double", (WINDOW,), gain=2.0),
        "image": _save_model(root / "image", (8, 8), fs=None),
        "image_double": _save_model(root / "image_double", (8, 8), gain=2.0, fs=None),
    }


@pytest.fixture(scope="module")
def identity(models: dict[str, Path]) -> inference.Denoiser:
    return inference.Denoiser(models["identity"])


def cli(*argv: str | Path) -> int:
    parser = argparse.ArgumentParser()
    add_denoise_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["denoise", *map(str, argv)])
    return args.func(args)


def signal(n: int, seed: int = 0) -> np.ndarray:
    return (0.3 * np.random.default_rng(seed).standard_normal(n)).astype(np.float32)


# --- overlap-add ----------------------------------------------------------------------------

@pytest.mark.parametrize("window", [2, 3, 8, 9, 16])
def test_crossfade_sums_to_one(window: int) -> None:
    weights, hop = crossfade(window)
    assert hop == window // 2
    np.testing.assert_allclose(weights[:hop] + weights[hop:2 * hop], 1.0, atol=1e-7)


@pytest.mark.parametrize("n", [1, 2, 7, 15, 16, 17, 31, 32, 33, 100, 257, 1001])
def test_identity_model_gives_input_back_at_any_length(identity: inference.Denoiser,
                                                       n: int) -> None:
    x = signal(n, seed=n)
    y = denoise_signal(identity, x)
    assert y.shape == x.shape and y.dtype == np.float32
    assert np.abs(y - x).max() < 1e-5


@pytest.mark.parametrize("window", [2, 5, 16])
@pytest.mark.parametrize("block", [1, 3, 1000])
def test_overlap_add_streams_in_blocks(window: int, block: int) -> None:
    x = signal(10 * window + 3)
    batches: list[int] = []

    def fn(frames: np.ndarray) -> np.ndarray:
        batches.append(len(frames))
        return frames

    y = overlap_add(fn, x, window, block_windows=block)
    assert np.abs(y - x).max() < 1e-6
    assert max(batches) <= block


def test_linear_model_is_applied_everywhere(models: dict[str, Path]) -> None:
    x = signal(101)
    np.testing.assert_allclose(denoise_signal(inference.Denoiser(models["double"]), x), 2 * x,
                               atol=1e-5)
    np.testing.assert_allclose(denoise_signal(inference.Denoiser(models["minmax"]), x), x,
                               atol=1e-5)


# --- formats --------------------------------------------------------------------------------

def test_wav_int16_round_trip_is_exact(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.random.default_rng(1).integers(-20000, 20000, 300).astype(np.int16)
    sf.write(tmp_path / "in.wav", x, FS, subtype="PCM_16")
    assert cli("--model", models["identity"], tmp_path / "in.wav", "-o", tmp_path / "out.wav") == 0
    y, fs = sf.read(tmp_path / "out.wav", dtype="int16")
    assert fs == FS and sf.info(tmp_path / "out.wav").subtype == "PCM_16"
    np.testing.assert_array_equal(y, x)


def test_wav_int16_clips(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.array([-30000, -100, 0, 100, 30000] * 10, np.int16)
    sf.write(tmp_path / "in.wav", x, FS, subtype="PCM_16")
    assert cli("--model", models["double"], tmp_path / "in.wav", "-o", tmp_path / "out.wav") == 0
    y, _ = sf.read(tmp_path / "out.wav", dtype="int16")
    np.testing.assert_array_equal(y, np.clip(2 * x.astype(np.int32), -32768, 32767))


def test_wav_float32_multichannel(models: dict[str, Path], tmp_path: Path) -> None:
    x = np.stack([signal(77, 1), 3 * signal(77, 2)], axis=1)  # float stays float (> 1 kept)
    sf.write(tmp_path / "in.wav", x, FS, subtype="FLOAT")
    assert cli("--model", models["double"], tmp_path / "in.wav", "-o", tmp_path / "out.wav") == 0
    y, fs = sf.read(tmp_path / "out.wav", dtype="float32", always_2d=True)
    assert fs == FS and y.shape == x.shape and sf.info(tmp_path / "out.wav").subtype == "FLOAT"
    np.testing.assert_allclose(y, 2 * x, atol=1e-5)


@pytest.mark.parametrize("shape", [(50,), (3, 40)])
def test_npy_round_trip(models: dict[str, Path], tmp_path: Path, shape: tuple[int, ...]) -> None:
    x = signal(int(np.prod(shape))).reshape(shape)
    np.save(tmp_path / "in.npy", x)
    assert cli("--model", models["identity"], tmp_path / "in.npy", "-o", tmp_path / "out.npy") == 0
    y = np.load(tmp_path / "out.npy")
    assert y.shape == shape and y.dtype == np.float32
    np.testing.assert_allclose(y, x, atol=1e-5)


def test_parquet_fixed_size_list_column(models: dict[str, Path], tmp_path: Path) -> None:
    x = signal(4 * 40).reshape(4, 40)
    column = pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), 40)
    table = pa.table({"id": pa.array(np.arange(4)), "signal": column})
    pq.write_table(table.replace_schema_metadata({"k": "v"}), tmp_path / "in.parquet")
    assert cli("--model", models["double"], tmp_path / "in.parquet",
               "-o", tmp_path / "out.parquet") == 0
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.schema.field("signal").type == column.type and out.schema.metadata == {b"k": b"v"}
    assert out.column("id").to_pylist() == [0, 1, 2, 3]
    np.testing.assert_allclose(np.stack(out.column("signal").to_numpy(zero_copy_only=False)),
                               2 * x, atol=1e-5)


def test_parquet_one_signal_per_row_any_length(models: dict[str, Path], tmp_path: Path) -> None:
    rows = [signal(n, n) for n in (5, 16, 70)]
    pq.write_table(pa.table({"name": ["a", "b", "c"],
                             "signal": pa.array(rows, type=pa.list_(pa.float32()))}),
                   tmp_path / "in.parquet")
    assert cli("--model", models["identity"], tmp_path / "in.parquet",
               "-o", tmp_path / "out.parquet") == 0
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column("name").to_pylist() == ["a", "b", "c"]
    for got, want in zip(out.column("signal").to_pylist(), rows, strict=True):
        np.testing.assert_allclose(got, want, atol=1e-5)


def test_parquet_float_columns(models: dict[str, Path], tmp_path: Path) -> None:
    pq.write_table(pa.table({"t": np.arange(30), "a": signal(30, 1), "b": signal(30, 2)}),
                   tmp_path / "in.parquet")
    assert cli("--model", models["double"], tmp_path / "in.parquet",
               "-o", tmp_path / "out.parquet") == 0
    out = pq.read_table(tmp_path / "out.parquet")
    np.testing.assert_array_equal(out.column("t").to_numpy(), np.arange(30))
    np.testing.assert_allclose(out.column("b").to_numpy(), 2 * signal(30, 2), atol=1e-5)


@pytest.mark.parametrize("header", [True, False])
def test_csv_one_signal_per_column(models: dict[str, Path], tmp_path: Path,
                                   header: bool) -> None:
    df = pd.DataFrame({"left": signal(45, 1), "right": signal(45, 2)})
    df.to_csv(tmp_path / "in.csv", index=False, header=header)
    assert cli("--model", models["identity"], tmp_path / "in.csv", "-o", tmp_path / "out.csv") == 0
    out = pd.read_csv(tmp_path / "out.csv", header=0 if header else None)
    assert out.shape == df.shape
    if header:
        assert list(out.columns) == ["left", "right"]
    np.testing.assert_allclose(out.to_numpy(), df.to_numpy(), atol=1e-6)


def test_several_inputs_go_to_a_folder(models: dict[str, Path], tmp_path: Path) -> None:
    np.save(tmp_path / "a.npy", signal(20))
    pd.DataFrame({"x": signal(20)}).to_csv(tmp_path / "b.csv", index=False)
    assert cli("--model", models["identity"], tmp_path / "a.npy", tmp_path / "b.csv",
               "-o", tmp_path / "out") == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.npy", "b.csv"]


# --- resampling -----------------------------------------------------------------------------

def test_other_sample_rate_is_resampled_and_back(models: dict[str, Path], tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    fs_in = 2 * FS
    t = np.arange(3 * fs_in) / fs_in
    x = (0.5 * np.sin(2 * np.pi * 7.0 * t)).astype(np.float32)  # well inside the model's band
    sf.write(tmp_path / "in.wav", x, fs_in, subtype="FLOAT")
    assert cli("--model", models["identity"], tmp_path / "in.wav", "-o", tmp_path / "out.wav") == 0
    assert "resampling from 512 Hz" in capsys.readouterr().err
    y, fs = sf.read(tmp_path / "out.wav", dtype="float32")
    assert fs == fs_in and y.shape == x.shape
    assert np.abs(y - x)[50:-50].max() < 2e-3
    assert np.sqrt(np.mean((y - x) ** 2)) < 5e-3


def test_fs_option_for_formats_without_a_rate(models: dict[str, Path], tmp_path: Path) -> None:
    t = np.arange(1000) / 1000.0
    x = np.sin(2 * np.pi * 5.0 * t).astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    assert cli("--model", models["identity"], "--fs", "1000", tmp_path / "in.npy",
               "-o", tmp_path / "out.npy") == 0
    y = np.load(tmp_path / "out.npy")
    assert y.shape == x.shape and np.abs(y - x)[50:-50].max() < 5e-3


# --- images ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 8), (5, 8, 8), (5, 8, 8, 1)])
def test_npy_images(models: dict[str, Path], tmp_path: Path, shape: tuple[int, ...]) -> None:
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    np.save(tmp_path / "in.npy", x)
    assert cli("--model", models["image_double"], tmp_path / "in.npy",
               "-o", tmp_path / "out.npy") == 0
    y = np.load(tmp_path / "out.npy")
    assert y.shape == shape
    np.testing.assert_allclose(y, np.clip(2 * x, 0, 1), atol=1e-6)


def test_png_images(models: dict[str, Path], tmp_path: Path) -> None:
    import matplotlib.image as mpimg

    x = np.random.default_rng(0).integers(0, 256, (8, 8)).astype(np.uint8)
    mpimg.imsave(tmp_path / "in.png", np.stack([x, x, x, np.full_like(x, 255)], -1))
    assert cli("--model", models["image"], tmp_path / "in.png", "-o", tmp_path / "out.png") == 0
    y = mpimg.imread(tmp_path / "out.png")
    np.testing.assert_allclose(y[..., 0], x / 255.0, atol=1e-6)


def test_image_of_wrong_size_is_rejected(models: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "in.npy", np.zeros((9, 9), np.float32))
    assert cli("--model", models["image"], tmp_path / "in.npy", "-o", tmp_path / "out.npy") == 2
    assert "9x9" in capsys.readouterr().err and not (tmp_path / "out.npy").exists()


# --- bad inputs -----------------------------------------------------------------------------

def _bad(models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str],
         src: Path, dst: Path, *expected: str) -> None:
    assert cli("--model", models["identity"], src, "-o", dst) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    for text in expected:
        assert text in err
    assert not dst.exists() or dst == src
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("suffix", [".wav", ".npy", ".parquet", ".csv"])
def test_empty_file(models: dict[str, Path], tmp_path: Path,
                    capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    src = tmp_path / f"in{suffix}"
    src.write_bytes(b"")
    _bad(models, tmp_path, capsys, src, tmp_path / f"out{suffix}", str(src), "empty")


def test_file_without_samples(models: dict[str, Path], tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    sf.write(tmp_path / "in.wav", np.zeros(0, np.int16), FS, subtype="PCM_16")
    np.save(tmp_path / "in.npy", np.zeros(0, np.float32))
    _bad(models, tmp_path, capsys, tmp_path / "in.wav", tmp_path / "out.wav", "no samples")
    _bad(models, tmp_path, capsys, tmp_path / "in.npy", tmp_path / "out.npy", "no samples")


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_samples(models: dict[str, Path], tmp_path: Path,
                            capsys: pytest.CaptureFixture[str], value: float) -> None:
    x = signal(40)
    x[23] = value
    np.save(tmp_path / "in.npy", x)
    _bad(models, tmp_path, capsys, tmp_path / "in.npy", tmp_path / "out.npy",
         "in.npy", "sample 23")
    pd.DataFrame({"a": signal(40), "b": x}).to_csv(tmp_path / "in.csv", index=False)
    _bad(models, tmp_path, capsys, tmp_path / "in.csv", tmp_path / "out.csv",
         "in.csv", "column 'b'", "sample 23")


@pytest.mark.parametrize("suffix", [".wav", ".npy", ".parquet", ".csv"])
def test_mislabelled_file(models: dict[str, Path], tmp_path: Path,
                          capsys: pytest.CaptureFixture[str], suffix: str) -> None:
    src = tmp_path / f"in{suffix}"
    src.write_text("this is not a signal, just text\n")
    _bad(models, tmp_path, capsys, src, tmp_path / f"out{suffix}", str(src))


def test_output_equal_to_input(models: dict[str, Path], tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    x = signal(30)
    np.save(tmp_path / "in.npy", x)
    _bad(models, tmp_path, capsys, tmp_path / "in.npy", tmp_path / "." / "in.npy", "overwrite")
    np.testing.assert_array_equal(np.load(tmp_path / "in.npy"), x)


def test_unknown_or_mismatched_extension(models: dict[str, Path], tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "in.mp3").write_bytes(b"ID3")
    _bad(models, tmp_path, capsys, tmp_path / "in.mp3", tmp_path / "out.mp3", "unknown extension")
    np.save(tmp_path / "in.npy", signal(30))
    _bad(models, tmp_path, capsys, tmp_path / "in.npy", tmp_path / "out.wav", "format")


def test_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "in.npy", signal(30))
    assert cli("--model", tmp_path / "nope", tmp_path / "in.npy", "-o", tmp_path / "o.npy") == 2
    assert "metadata" in capsys.readouterr().err


def test_one_bad_input_means_no_output_at_all(models: dict[str, Path], tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "a.npy", signal(30))
    bad = signal(30)
    bad[4] = np.nan
    np.save(tmp_path / "b.npy", bad)
    assert cli("--model", models["identity"], tmp_path / "a.npy", tmp_path / "b.npy",
               "-o", tmp_path / "out") == 2
    assert "b.npy" in capsys.readouterr().err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_short_input_is_padded_with_a_notice(models: dict[str, Path], tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    x = signal(WINDOW // 2 + 1)
    np.save(tmp_path / "in.npy", x)
    assert cli("--model", models["identity"], tmp_path / "in.npy", "-o", tmp_path / "out.npy") == 0
    assert "shorter than the model's window" in capsys.readouterr().err
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), x, atol=1e-5)


def test_api_raises_denoise_input_error(models: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(DenoiseInputError, match="no such file"):
        denoise_files(models["identity"], [tmp_path / "missing.wav"], tmp_path / "o.wav")
    assert issubclass(DenoiseInputError, ValueError)
    assert issubclass(DenoiseInputError, files.SignalFileError)
