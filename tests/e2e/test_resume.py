"""Resume is exact: a training killed with SIGKILL and resumed ends with the weights of an
uninterrupted run, bit for bit (op determinism on), whether the kill fell mid-epoch, right
after an epoch's backup or after the last backup; through ``denoisebench train`` on every
installed Keras backend (``training.backend``: the backup, early stopping's saved state and
the stream order are backend-neutral Keras), and through Snakemake's own path
(``--rerun-incomplete`` after Snakemake and its job were killed).

Where the kill falls is drawn from a seeded generator (``KILL_SEED``): reproducible, and a
different point is one constant away. The kill itself is ``DENOISEBENCH_TEST_KILL_AT`` (see
:mod:`denoisebench.callbacks`): the training process SIGKILLs itself (or its process group)
after a given batch or right after a given epoch's backup, so that the point is exact on a
loaded machine too; nothing runs at the kill (no handler, no clean-up).

The model is the GAN (``gan``): two optimisers, an L1 warm-up epoch then adversarial epochs,
early stopping with the best weights restored: every piece of state a resume must bring back.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import (
    BACKENDS,
    BIN,
    KILL_ENV,
    assert_same_weights,
    copy_repo,
    generate_datasets,
    run,
    run_any,
    spawn,
    subprocess_env,
    tiny_config,
    tiny_params,
)
from conftest import TRAINING_SAFETY_S as SAFETY_S

from denoisebench import training
from denoisebench.config import read_yaml

pytestmark = pytest.mark.slow
KILL_SEED = 20261202
MODEL, EPOCHS, TRAIN_ROWS, BATCH = "gan", 3, 100, 25
STEPS = TRAIN_ROWS // BATCH  # 4 batches per epoch
_rng = random.Random(KILL_SEED)
# (scenario, kill spec "epoch:batch" or "epoch:end", finished epochs the rerun resumes after)
_mid_epoch, _mid_batch = _rng.randrange(1, EPOCHS), _rng.randrange(0, STEPS - 1)
_after = _rng.randrange(0, EPOCHS - 1)
SCENARIOS: list[tuple[str, str, int]] = [
    ("mid-epoch", f"{_mid_epoch}:{_mid_batch}", _mid_epoch),
    ("after-backup", f"{_after}:end", _after + 1),
    ("after-last-backup", f"{EPOCHS - 1}:end", EPOCHS),
]


def _kill_env(kill: str | None) -> dict[str, str] | None:
    return {KILL_ENV: kill} if kill else None


@pytest.fixture(scope="module", params=BACKENDS)
def runs(request: pytest.FixtureRequest,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The uninterrupted run and, per scenario, the killed run and its resumption (started
    side by side: each result must not depend on what else runs), on one backend."""
    base = tmp_path_factory.mktemp(f"resume-{request.param}")
    cfg, params = tiny_config(base, {
        "training": {"backend": request.param},
        "datasets": {"multisine": {"train_size": TRAIN_ROWS, "validation_size": 50}},
        "models": {MODEL: {"epochs": EPOCHS, "warmup_epochs": 1, "batch_size": BATCH,
                           "shuffle_buffer": 50}}})  # two permuted blocks per epoch
    generate_datasets(cfg, ["multisine"], base / "data")

    def start(out: str, kill: str | None) -> subprocess.Popen:
        cmd = [str(BIN / "denoisebench"), "train", "--model", MODEL, "--params", str(params),
               "--data-dir", str(base / "data"), "--out", str(base / out), "--threads", "1"]
        return spawn(cmd, base, base / f"{out}{'-killed' if kill else ''}.log", _kill_env(kill))

    first = {"reference": start("reference", None)}
    first.update({name: start(name, kill) for name, kill, _ in SCENARIOS})
    codes = {name: proc.wait(timeout=SAFETY_S) for name, proc in first.items()}
    backups: dict[str, int | None] = {}
    saved = {name: (base / name / "model.keras").exists() for name, _, _ in SCENARIOS}
    for name, _, _ in SCENARIOS:
        work = base / name / ".work"
        fingerprint = (work / training.FINGERPRINT).read_text()
        backups[name] = training.resumable_epochs(work, fingerprint)  # as the rerun sees it
    second = {name: start(name, None) for name, _, _ in SCENARIOS}
    resumed = {name: proc.wait(timeout=SAFETY_S) for name, proc in second.items()}
    return {"base": base, "codes": codes, "backups": backups, "resumed": resumed,
            "saved_before_resume": saved}


def _log(base: Path, name: str) -> str:
    return (base / f"{name}.log").read_text(errors="replace")


@pytest.mark.parametrize(("scenario", "kill", "done"), SCENARIOS, ids=[s[0] for s in SCENARIOS])
def test_killed_training_resumes_bitwise(runs: dict[str, Any], scenario: str, kill: str,
                                         done: int) -> None:
    base = runs["base"]
    assert runs["codes"]["reference"] == 0, _log(base, "reference")[-3000:]
    killed_log = _log(base, f"{scenario}-killed")
    assert runs["codes"][scenario] == -signal.SIGKILL, killed_log[-3000:]
    assert f"{KILL_ENV}={kill}: SIGKILL now" in killed_log
    assert not runs["saved_before_resume"][scenario]  # killed before the model was saved
    assert runs["backups"][scenario] == done, killed_log[-3000:]

    log = _log(base, scenario)
    assert runs["resumed"][scenario] == 0, log[-3000:]
    assert f"(resuming after epoch {done})" in log, log[-3000:]
    assert_same_weights(base / scenario, base / "reference", min_arrays=10)
    # the curves too: every epoch once, the same values as without the kill
    assert ((base / scenario / "history.csv").read_text()
            == (base / "reference" / "history.csv").read_text())
    assert not (base / scenario / ".work").exists()


def test_snakemake_rerun_incomplete_resumes_bitwise(tmp_path: Path) -> None:
    """Snakemake and its training job die together (SIGKILL to the process group, as when the
    node or the terminal goes): Snakemake refuses to go on until ``--rerun-incomplete`` (after
    ``--unlock``: the killed Snakemake's lock remains), which deletes the declared outputs and
    reruns the job; the job resumes from its backup (under
    ``models/<model>/.work``, not an output) and ends with the uninterrupted run's weights."""
    repo = copy_repo(tmp_path / "repo")
    tiny_params(repo)
    params = read_yaml(repo / "params.yaml")
    params["models"][MODEL].update(epochs=EPOCHS, warmup_epochs=1)
    (repo / "params.yaml").write_text(json.dumps(params))  # JSON is YAML
    run(["snakemake", "--cores", "2", "data/multisine/manifest.json"], repo)
    steps = -(-params["datasets"]["multisine"]["train_size"]
              // params["models"][MODEL]["batch_size"])
    rng = random.Random(KILL_SEED + 1)
    kill = f"{rng.randrange(1, EPOCHS)}:{rng.randrange(0, steps - 1)}:group"
    target = f"models/{MODEL}/model.keras"
    reference = spawn([str(BIN / "denoisebench"), "train", "--model", MODEL, "--threads", "1",
                       "--out", str(tmp_path / "reference")], repo, tmp_path / "reference.log")
    killed = subprocess.run(["snakemake", "--cores", "1", target], cwd=repo,
                            env=subprocess_env(_kill_env(kill)), capture_output=True, text=True,
                            timeout=SAFETY_S, start_new_session=True)  # its own group
    train_log = (repo / f"logs/train/{MODEL}.log").read_text()
    assert killed.returncode == -signal.SIGKILL, killed.stdout[-2000:] + killed.stderr[-2000:]
    assert f"{KILL_ENV}={kill}: SIGKILL now" in train_log
    assert (repo / f"models/{MODEL}/.work/backup").is_dir()

    refused = run_any(["snakemake", "--cores", "1", target], repo, timeout=SAFETY_S)
    out = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "IncompleteFilesException" in out, out[-3000:]

    run(["snakemake", "--unlock", target], repo)  # the killed Snakemake's lock remains
    run(["snakemake", "--cores", "1", "--rerun-incomplete", target], repo)
    done = int(kill.split(":")[0])
    assert f"(resuming after epoch {done})" in (repo / f"logs/train/{MODEL}.log").read_text()
    assert reference.wait(timeout=SAFETY_S) == 0, (tmp_path / "reference.log").read_text()[-3000:]
    assert_same_weights(repo / f"models/{MODEL}", tmp_path / "reference", min_arrays=10)
    assert not (repo / f"models/{MODEL}/.work").exists()
    shutil.rmtree(tmp_path / "reference")


def test_epoch_order_depends_on_seed_and_epoch_only(tmp_path: Path) -> None:
    """Epoch ``e`` of the training stream is the same batches whether the stream starts at
    epoch 0 (an uninterrupted run) or at ``e`` (a run resumed there), and another epoch is
    another order."""
    from denoisebench.data import pipeline
    from denoisebench.data.shards import DatasetReader

    cfg, _ = tiny_config(tmp_path, {"datasets": {"multisine": {
        "train_size": 40, "validation_size": 10, "train_shards": 2}}})
    generate_datasets(cfg, ["multisine"], tmp_path / "data")
    reader = DatasetReader(tmp_path / "data/multisine")

    def epochs(which: list[int]) -> list[np.ndarray]:
        ds = pipeline.stream(reader, "train", 8, shuffle=True, shuffle_buffer=16, seed=5,
                             epochs=which)
        return [x.numpy() for x, _ in ds]

    steps = pipeline.steps(reader, "train", 8)
    whole = epochs([0, 1, 2])
    assert len(whole) == 3 * steps
    resumed = epochs([1, 2])
    for a, b in zip(whole[steps:], resumed, strict=True):
        assert np.array_equal(a, b)
    assert not np.array_equal(np.concatenate(whole[:steps]), np.concatenate(whole[steps:2 * steps]))
