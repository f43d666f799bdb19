"""Shared fixtures and helpers: quiet TensorFlow, a temporary copy of the repository for
end-to-end runs, subprocess helpers with safety-net timeouts (``tests/unit/`` mirrors the
package, ``tests/e2e/`` runs snakemake, dvc or the CLI end to end)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from denoisebench.callbacks import KILL_ENV

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
#: a small multisine dataset's params (seed 004's kind at 256 Hz, 1 s), for unit tests
SMALL_MULTISINE: dict[str, Any] = {
    "kind": "multisine", "fs": 256, "duration_s": 1.0, "n_sines": 3, "fmin_hz": 10.0,
    "fmax_hz": 64.0, "random_phase": True, "normalize": True, "snr_db": -2.0,
    "train_size": 40, "validation_size": 10, "train_shards": 2, "validation_shards": 1,
    "format": "parquet", "lowpass": {"design": "buttord", "passband_hz": 64.0,
                                     "stopband_hz": 100.0, "gpass_db": 0.05, "gstop_db": 60.0},
}


def installed(module: str) -> bool:
    """Whether ``module`` can be imported here (without importing it)."""
    return importlib.util.find_spec(module) is not None


#: the Keras backends the training tests run on (``training.backend``): TensorFlow (default),
#: JAX (``jax[cpu]``, in the dev extra: CI runs it) and PyTorch (optional ``torch`` extra; not
#: installed by ``make``, so its cases skip there)
BACKENDS = [pytest.param(b, id=b, marks=pytest.mark.skipif(
    not installed(b), reason=f"Keras backend {b!r} not installed ({how})"))
    for b, how in (("tensorflow", "make setup"), ("jax", "pip install -e '.[dev]'"),
                   ("torch", "pip install -e '.[torch]'"))]


#: a committer for the scratch git repositories of the tests
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}


def git(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``git ARGS`` in ``cwd`` as the test committer (not checked; output captured)."""
    return subprocess.run(["git", *args], cwd=cwd, env={**os.environ, **GIT_ENV}, check=False,
                          capture_output=True, text=True)


def copy_files(dest: Path) -> Path:
    """Copy the repository's tracked and untracked-not-ignored files to ``dest`` (no git)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO,
                           check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        src = REPO / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


def copy_repo(dest: Path) -> Path:
    """Copy the repository's tracked and untracked-not-ignored files to ``dest`` and make it a
    git repository with one commit (DVC and dvclive need one)."""
    copy_files(dest)
    env = {**os.environ, **GIT_ENV}
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "copy"]):
        subprocess.run(cmd, cwd=dest, check=True, env=env)
    return dest


def params_with(path: str, value: Any) -> dict[str, Any]:
    """The repository's params.yaml with the value at dotted ``path`` replaced by ``value``."""
    from denoisebench.config import read_yaml

    cfg = read_yaml(REPO / "params.yaml")
    *parents, last = path.split(".")
    node = cfg
    for p in parents:
        node = node[p]
    node[last] = value
    return cfg


def tiny_params(dest: Path) -> None:
    """Merge ``configs/tiny.yaml`` into ``dest/params.yaml`` (same keys, tiny sizes)."""
    from denoisebench.config import deep_merge, read_yaml

    merged = deep_merge(read_yaml(dest / "params.yaml"), read_yaml(dest / "configs/tiny.yaml"))
    (dest / "params.yaml").write_text(yaml.safe_dump(merged, sort_keys=False))
    subprocess.run(["git", "commit", "-qam", "tiny params"], cwd=dest, check=True,
                   env={**os.environ, **GIT_ENV})


def run(cmd: list[str], cwd: Path, timeout: int = 2400) -> subprocess.CompletedProcess:
    """Run a command with the virtual environment's bin first on PATH (:func:`subprocess_env`);
    fail with its output."""
    proc = subprocess.run(cmd, cwd=cwd, env=subprocess_env(), capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                             f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy on tiny params after a full `snakemake --cores 2` run (shared by tests)."""
    dest = copy_repo(tmp_path_factory.mktemp("repo"))
    tiny_params(dest)
    run(["snakemake", "--cores", "2"], dest)
    return dest


# --------------------------------------------------------------------------- reliability helpers

SAFETY_S = 600  # a hung subprocess fails the test instead of hanging the suite
#: the training tests' safety net (a loaded 2-core machine ran the determinism fixture past 900 s)
TRAINING_SAFETY_S = 2400


def subprocess_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This environment with the venv's ``bin`` first on PATH, no params hand-over, no kill
    hook (``$DENOISEBENCH_TEST_KILL_AT``), plus ``extra``."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    env.pop("DENOISEBENCH_PARAMS", None)
    env.pop(KILL_ENV, None)
    return {**env, **(extra or {})}


def spawn(cmd: list[str], cwd: Path, log: Path,
          extra_env: Mapping[str, str] | None = None) -> subprocess.Popen:
    """Start ``cmd`` in its own process group, output to ``log`` (environment:
    :func:`subprocess_env` with ``extra_env``)."""
    with open(log, "wb") as fh:
        return subprocess.Popen(cmd, cwd=cwd, env=subprocess_env(extra_env), stdout=fh,
                                stderr=subprocess.STDOUT, start_new_session=True)


def run_any(cmd: list[str], cwd: Path, timeout: int = SAFETY_S) -> subprocess.CompletedProcess:
    """Run a command that may fail; return it with stdout and stderr."""
    return subprocess.run(cmd, cwd=cwd, env=subprocess_env(), capture_output=True, text=True,
                          timeout=timeout)


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the process group of ``proc`` (started by :func:`spawn`) and reap it."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)


def wait_for(cond: Callable[[], bool], proc: subprocess.Popen | None = None,
              poll: float = 0.02, what: str = "condition") -> None:
    """Poll ``cond`` until true; fail if ``proc`` exits first (or after the safety net)."""
    deadline = time.monotonic() + SAFETY_S
    while not cond():
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"safety net: no {what} after {SAFETY_S} s")
        time.sleep(poll)


def write_params(path: Path, overlay: dict[str, Any]) -> Path:
    """Write a params overlay file; return its path."""
    path.write_text(yaml.safe_dump(overlay, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def dataset_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository copy on tiny params with the multisine dataset generated by Snakemake."""
    repo = copy_repo(tmp_path_factory.mktemp("reliability"))
    tiny_params(repo)
    run(["snakemake", "--cores", "2", "data/multisine/manifest.json"], repo)
    return repo




@pytest.fixture(scope="session")
def keras_module() -> Any:
    import keras  # (this conftest quietens TensorFlow's start-up)

    return keras


def model_weights(folder: Path) -> list[Any]:
    """The weights of ``folder/model.keras`` (loaded without compiling)."""
    import keras

    return keras.saving.load_model(folder / "model.keras", compile=False).get_weights()


def assert_same_weights(got: Path, want: Path, min_arrays: int = 2) -> None:
    """``got/model.keras`` has the weights of ``want/model.keras``, bit for bit (at least
    ``min_arrays`` arrays, each of the same dtype and shape)."""
    import numpy as np

    wg, ww = model_weights(got), model_weights(want)
    assert len(wg) == len(ww) >= min_arrays, (got, len(wg), len(ww))
    for i, (g, w) in enumerate(zip(wg, ww, strict=True)):
        assert g.dtype == w.dtype and g.shape == w.shape, (got, i)
        assert np.array_equal(g, w), (f"{got}: weight {i} {g.shape} differs from {want}'s by "
                                      f"up to {np.max(np.abs(g - w)):.3g}")


def tiny_config(dest: Path, overlay: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """params.yaml merged with configs/tiny.yaml and ``overlay``, validated and written to
    ``dest/params.yaml``; returns ``(config, path)`` (for ``train``/``evaluate`` in-process or
    ``denoisebench ... --params path``)."""
    from denoisebench.config import deep_merge, read_yaml, validate

    cfg = validate(deep_merge(deep_merge(read_yaml(REPO / "params.yaml"),
                                         read_yaml(REPO / "configs/tiny.yaml")), overlay))
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "params.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return cfg, dest / "params.yaml"


def generate_datasets(cfg: dict[str, Any], names: list[str], data_dir: Path) -> Path:
    """Generate datasets ``names`` of ``cfg`` into ``data_dir/<name>`` in this process (what the
    Snakemake rules do, without a process per shard); returns ``data_dir``."""
    from denoisebench.data import generate

    for name in names:
        ds, root = cfg["datasets"][name], data_dir / name
        if (root / "manifest.json").exists():
            continue
        for split in ("train", "validation"):
            for i in range(generate.n_shards(ds, split)):
                generate.generate_shard(name, ds, cfg["seed"], split, i, root)
        generate.build_manifest(name, ds, cfg["seed"], root)
    return data_dir


#: an image source that is neither a named source nor a path (a typo of fashion_mnist)
SOURCE_TYPO = "fashion-mnsit"


def assert_names_key_value_and_expected(msg: str, key: str, value: str) -> None:
    """``msg`` refuses ``key: value`` and names the image sources it expects."""
    assert f"{key}: {value!r}" in msg, msg
    for expected in ("'fashion_mnist'", "'mnist'", "'synthetic'", ".npz", "IDX"):
        assert expected in msg, (expected, msg)
