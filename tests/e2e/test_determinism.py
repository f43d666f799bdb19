"""Determinism: every model kind in the registry trains to bitwise-identical weights in two
concurrent processes, at 1 and at 2 intra-op threads (op determinism on, oneDNN on as in
training), on every installed Keras backend (``training.backend``: TensorFlow, JAX, PyTorch),
and the evaluation of a trained model (on TensorFlow, whatever backend trained it) writes
byte-identical metrics twice.

Cost: one model of each kind, 2 epochs of 2 batches of 32 examples (a second epoch checks that
the shuffle order and the optimiser's state are repeatable too, not just one gradient step).
Each training process trains every kind one after the other (``training.train``, the function
``denoisebench train`` calls), so TensorFlow starts 4 times, not 40: two processes side by
side per thread count and backend. Every kind of the registry is picked up automatically: each
needs a model of that kind in params.yaml or, for kinds only the longer configuration trains
(the DnCNNs), in configs/full.yaml, whose entry is then taken whole.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import (
    BACKENDS,
    BIN,
    REPO,
    assert_same_weights,
    generate_datasets,
    spawn,
    subprocess_env,
    tiny_config,
)
from conftest import TRAINING_SAFETY_S as SAFETY_S

from denoisebench import models

pytestmark = pytest.mark.slow
THREADS = (1, 2)
#: thread counts per backend: JAX and PyTorch at 1 thread only, to keep CI's JAX tests within
#: their budget (JAX compiles every kind's step, 10-20 s each on 2 cores); both passed at 2
#: threads too when measured (JAX: 28 of 28, PyTorch: 28 of 28, BENCHMARKS.md "Backends")
THREADS_OF = {"tensorflow": THREADS}
TRAIN_ROWS, VALIDATION_ROWS, BATCH, EPOCHS = 64, 32, 32, 2


#: where a model of each kind is found, in order (configs/full.yaml: the DnCNN kinds)
MODEL_SOURCES = ("params.yaml", "configs/full.yaml")


def _model_of_kind(kind: str) -> tuple[str, dict[str, Any]]:
    """``(name, params)`` of the first model of ``kind`` in :data:`MODEL_SOURCES`."""
    from denoisebench.config import read_yaml

    for source in MODEL_SOURCES:
        for name, mp in read_yaml(REPO / source).get("models", {}).items():
            if mp.get("kind") == kind:
                return name, mp
    raise AssertionError(f"no model of kind {kind!r} in {MODEL_SOURCES}: add one (every kind "
                         "is tested)")


@pytest.fixture(scope="module", params=BACKENDS)
def setup(request: pytest.FixtureRequest,
          tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Tiny config on one backend (every model 2 epochs x 2 batches), its datasets, one model
    name per kind."""
    base = tmp_path_factory.mktemp(f"determinism-{request.param}")
    found = {kind: _model_of_kind(kind) for kind in models.REGISTRY}
    names = {kind: name for kind, (name, _) in found.items()}
    overlay: dict[str, Any] = {
        "training": {"backend": request.param},
        "datasets": {mp["dataset"]: {"train_size": TRAIN_ROWS,
                                     "validation_size": VALIDATION_ROWS}
                     for _, mp in found.values()},
        "models": {name: {**mp, "epochs": EPOCHS, "batch_size": BATCH,
                          "shuffle_buffer": TRAIN_ROWS} for name, mp in found.values()},
    }
    # the GAN: one L1 warm-up epoch, then the adversarial terms
    overlay["models"][names["gan"]]["warmup_epochs"] = 1
    cfg, params = tiny_config(base, overlay)
    generate_datasets(cfg, sorted(set(overlay["datasets"])), base / "data")
    return {"base": base, "cfg": cfg, "params": params, "names": names,
            "backend": request.param}


DRIVER = """
import json, sys
from denoisebench import config, training
params, data, out, threads, names = sys.argv[1:6]
cfg = config.load([params])
for name in json.loads(names):
    training.train(cfg, name, out_dir=f"{out}/{name}", data_dir=data, threads=int(threads))
"""


@pytest.fixture(scope="module")
def trained(setup: dict[str, Any]) -> dict[int, dict[str, Path]]:
    """``{threads: {run: folder}}``: runs ``a`` and ``b`` of every kind, side by side (so that
    determinism cannot hang on scheduling), at each thread count."""
    base, names = setup["base"], sorted(set(setup["names"].values()))
    out: dict[int, dict[str, Path]] = {}
    for threads in THREADS_OF.get(setup["backend"], (1,)):
        folders = {run: base / f"t{threads}{run}" for run in ("a", "b")}
        procs = {run: spawn([sys.executable, "-c", DRIVER, str(setup["params"]),
                             str(base / "data"), str(folder), str(threads), json.dumps(names)],
                            base, base / f"t{threads}{run}.log")
                 for run, folder in folders.items()}
        for run, proc in procs.items():
            rc = proc.wait(timeout=SAFETY_S)
            text = (base / f"t{threads}{run}.log").read_text()[-3000:]
            assert rc == 0, f"training run {run} at {threads} thread(s) failed ({rc}):\n{text}"
        out[threads] = folders
    return out


@pytest.mark.parametrize("threads", THREADS)
@pytest.mark.parametrize("kind", sorted(models.REGISTRY))
def test_training_is_bitwise_deterministic(setup: dict[str, Any],
                                           trained: dict[int, dict[str, Path]],
                                           kind: str, threads: int) -> None:
    """Two concurrent runs give identical weights and curves, with oneDNN on (every model
    kind trains with it on TensorFlow)."""
    if threads not in trained:
        pytest.skip(f"{setup['backend']} at {threads} threads: not in CI's budget (THREADS_OF)")
    assert setup["cfg"]["training"]["deterministic"] is True
    name = setup["names"][kind]
    assert models.spec(kind).onednn
    runs = trained[threads]
    assert_same_weights(runs["b"] / name, runs["a"] / name)
    ha, hb = ((runs[r] / name / "history.csv").read_text() for r in ("a", "b"))
    assert ha == hb and len(ha.splitlines()) == EPOCHS + 1, (ha, hb)
    meta = json.loads((runs["a"] / name / "metadata.json").read_text())
    assert meta["kind"] == kind and meta["epochs_this_run"] == EPOCHS
    assert meta["backend"] == setup["backend"] and setup["backend"] in meta["versions"]


# one 1-D model (baselines, references, NLS fits, SNR sweep) and one image model (image
# baselines tuned on training images, robustness sweep): the two evaluation paths
EVALUATED = ("gan_l1", "conv2d_ae")


@pytest.mark.parametrize("kind", EVALUATED)
def test_evaluation_writes_identical_bytes(setup: dict[str, Any],
                                           trained: dict[int, dict[str, Path]],
                                           kind: str) -> None:
    """``denoisebench evaluate`` twice, side by side, on the same model: the same bytes in
    ``metrics/<model>.json``, ``examples.parquet`` and ``sweep.csv``; the same arrays in the
    ``.npz`` files (a zip member records the time it was written, so not their bytes).

    The first run computes everything itself (the shared store off); the second fills an
    empty store (evaluation/shared.py) and a third, after it, reads every baseline result
    back from it: all three write the same files."""
    if setup["backend"] != "tensorflow":  # evaluation runs on TensorFlow whatever trained
        pytest.skip("evaluation runs on TensorFlow: its determinism is tested once (a JAX "
                    "model on TensorFlow: test_backends.py)")
    name = setup["names"][kind]
    base = setup["base"]
    store_cwd = base / f"store-{name}"
    store_cwd.mkdir()

    def evaluate(run: str, store: bool) -> subprocess.Popen:
        return subprocess.Popen(
            [str(BIN / "denoisebench"), "evaluate", "--params", str(setup["params"]),
             "--model", name, "--model-dir", str(trained[1]["a"] / name),
             "--data-dir", str(base / "data"), "--out", str(base / f"{run}-{name}"),
             "--threads", "1"], cwd=store_cwd if store else base,
            env=subprocess_env(None if store else {"DENOISEBENCH_EVAL_CACHE": "0"}),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    outputs = []
    for batch in ([("e1", False), ("e2", True)], [("e3", True)]):
        procs = [evaluate(run, store) for run, store in batch]
        for proc in procs:
            outputs.append(proc.communicate(timeout=SAFETY_S)[0].decode(errors="replace"))
            assert proc.returncode == 0, outputs[-1][-3000:]
    assert "shared results off" in outputs[0], outputs[0][-2000:]
    assert " 0 shared result(s) reused" in outputs[1], outputs[1][-2000:]
    assert " 0 computed" in outputs[2] and " 0 shared result(s) reused" not in outputs[2], (
        outputs[2][-2000:])
    _assert_same_outputs(base / f"e1-{name}", base / f"e2-{name}", name)
    _assert_same_outputs(base / f"e1-{name}", base / f"e3-{name}", name)


def _assert_same_outputs(one: Path, two: Path, name: str) -> None:
    """The evaluation outputs in ``one`` and ``two`` are the same (cost.json: same methods)."""
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert Path(f"{name}.json") in files and Path(name, "examples.parquet") in files
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    for rel in files:
        if rel.name == "cost.json":  # wall times (evaluation.cost): the same methods, not times
            ca, cb = (json.loads((d / rel).read_text()) for d in (one, two))
            assert list(ca["methods"]) == list(cb["methods"]) and ca["threads"] == cb["threads"]
            continue
        if rel.suffix == ".npz":
            with np.load(one / rel) as za, np.load(two / rel) as zb:
                assert sorted(za.files) == sorted(zb.files), rel
                for key in za.files:
                    assert np.array_equal(za[key], zb[key], equal_nan=za[key].dtype.kind == "f"
                                          ), f"{rel}: {key}"
        else:
            assert (one / rel).read_bytes() == (two / rel).read_bytes(), rel
    metrics = json.loads((one / f"{name}.json").read_text())
    assert list(metrics)[0] == name
