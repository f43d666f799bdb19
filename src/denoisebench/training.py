"""Train one model of params.yaml on its dataset's shards and save the denoiser.

Keras callbacks do the bookkeeping: ``BackupAndRestore`` (an interrupted run resumes at the
last finished epoch), ``EarlyStopping`` on validation L1 with the best weights restored,
``CSVLogger`` (``history.csv``; the training curves, also written in dvclive's layout).

A resumed run ends with the weights of an uninterrupted one, bit for bit: early stopping and
the backup are the resumable ones of :mod:`denoisebench.callbacks` (which also holds the
``DENOISEBENCH_TEST_KILL_AT`` fault-injection hook), and epoch ``e`` streams its examples in the
order of ``(seed, e)``.

The model, its loss and optimiser come from the model kind's recipe in
:mod:`denoisebench.models` (one module per family).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import backend, inference, models
from . import config as cfgmod
from .atomic import atomic_write_text
from .callbacks import consistent_backup, kill_hook, resumable_early_stopping
from .data import pipeline
from .data.generate import resolve_root
from .data.shards import DatasetReader, sha256_file

log = logging.getLogger(__name__)


def _epoch_logger(name: str, epochs: int) -> Any:
    import keras

    class EpochLog(keras.callbacks.Callback):
        """One log line per epoch: the rule's log file shows progress and timings."""

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.t0 = time.perf_counter()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            dt = time.perf_counter() - self.t0
            vals = " ".join(f"{k}={v:.5g}" for k, v in sorted((logs or {}).items()))
            log.info("%s epoch %d/%d (%.1f s): %s", name, epoch + 1, epochs, dt, vals)

    return EpochLog()


FINGERPRINT = "fingerprint.json"
BACKUP_FILES = ("latest.weights.h5", "training_metadata.json")


def _backup_epoch(weights: Path, metadata: Path) -> int | None:
    """Epochs recorded by one Keras backup (weights + metadata), or None when either file is
    missing or damaged (e.g. the process was killed while writing it)."""
    import h5py

    try:
        epoch = json.loads(metadata.read_text(encoding="utf-8"))["epoch"]
        with h5py.File(weights, "r") as fh:  # read every array: truncation shows here
            arrays: list[Any] = []
            fh.visititems(lambda _, obj: arrays.append(obj[()])
                          if isinstance(obj, h5py.Dataset) else None)
    except (OSError, ValueError, KeyError, TypeError, RuntimeError):
        return None
    return epoch if isinstance(epoch, int) and epoch >= 0 else None


def resumable_epochs(work: Path, fingerprint: str) -> int | None:
    """Finished epochs an interrupted run left in ``work/backup`` that this run can resume
    from, or None (start afresh): no backup, one made with other params or data, or damaged
    beyond the previous copy (``*.bkp``, which is then put back in place)."""
    backup = work / "backup"
    if not backup.is_dir():
        return None
    try:
        same = (work / FINGERPRINT).read_text(encoding="utf-8") == fingerprint
    except OSError:
        same = False
    if not same:
        log.warning("%s: made with other params or data; starting afresh", backup)
        return None
    latest = [backup / f for f in BACKUP_FILES]
    done = _backup_epoch(*latest)
    if done is None:
        previous = [backup / f"{f}.bkp" for f in BACKUP_FILES]
        done = _backup_epoch(*previous)
        if done is None:
            log.warning("%s: backup unreadable (killed while saving?); starting afresh", backup)
            return None
        log.warning("%s: latest backup unreadable; resuming from the previous one", backup)
        for src, dst in zip(previous, latest, strict=True):
            shutil.copyfile(src, dst)
    return done


def write_history(src: Path, dst: Path) -> list[dict[str, str]]:
    """Copy the CSVLogger history, keeping each epoch once (its last row): a run killed
    between logging an epoch and backing it up logs that epoch again when it resumes.
    Returns the rows written."""
    with open(src, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_epoch = {row["epoch"]: row for row in rows}
    kept = sorted(by_epoch.values(), key=lambda r: int(r["epoch"]))
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(kept)
    atomic_write_text(dst, buf.getvalue())
    return kept


def git_without_commits() -> bool:
    """Whether the working directory lies in a git repository that has no commit yet."""
    from scmrepo.exceptions import SCMError
    from scmrepo.git import Git

    try:
        with Git() as scm:
            return bool(scm.no_commits)
    except SCMError:  # not a git repository (dvclive then works without one)
        return False


def open_dvclive(folder: Path) -> Any:
    """A fresh dvclive ``Live`` writing to ``folder`` (no DVC experiment, no dvc.yaml).

    In a git repository without commits (a fresh ``git init``), dvclive 3.49 reads ``HEAD``
    while it sets up its DVC integration and fails with ``SCMError: Empty git repo``; we use
    none of that integration (no experiment, no dvc.yaml), so there it is skipped and dvclive
    writes its files as it does outside git (tests/unit/test_training_empty_git.py)."""
    from dvclive import Live

    class LiveWithoutGitHistory(Live):  # type: ignore[misc]
        def _init_dvc(self) -> None:  # dvclive's own, when it finds no git repository
            self._dvc_file = self._init_dvc_file()

    shutil.rmtree(folder, ignore_errors=True)
    cls = LiveWithoutGitHistory if git_without_commits() else Live
    return cls(dir=str(folder), save_dvc_exp=False, dvcyaml=False, report=None)


def write_dvclive(rows: list[dict[str, str]], live: Any) -> None:
    """Write the training curves in dvclive's Keras layout (``plots/metrics/{train,eval}/*.tsv``,
    ``metrics.json``) from the deduplicated history, one step per epoch. (dvclive's own
    ``resume`` restarts at step 0 after a kill in the first epochs and repeats steps logged
    before the backup; rebuilding from the history keeps both files in step.)"""
    from dvclive.utils import standardize_metric_name

    for row in rows:
        for key, value in row.items():
            if key != "epoch" and value not in ("", None):
                live.log_metric(standardize_metric_name(key, "dvclive.keras"), float(value))
        live.next_step()
    live.end()


def _checked_inputs(cfg: Mapping[str, Any], name: str, data_dir: str | Path
                    ) -> tuple[Mapping[str, Any], str, Mapping[str, Any], DatasetReader]:
    """``models.<name>``'s params, its dataset's name and params, and a reader whose every shard
    has been checked: a damaged dataset fails fast, before the backend starts, with ``<file>:
    <check> failed ...`` instead of deep inside the input pipeline.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: a shard fails its manifest checks.
    """
    mp = cfg["models"].get(name)
    if mp is None:
        raise cfgmod.ConfigError(f"params: unknown model {name!r}; expected one of "
                                 f"{sorted(cfg['models'])}")
    ds_name, ds = cfgmod.dataset_of(cfg, name)
    reader = DatasetReader(resolve_root(ds_name, ds, data_dir))
    for split in ("train", "validation"):
        reader.verify_split(split)
    return mp, ds_name, ds, reader


def train(
    cfg: Mapping[str, Any],
    name: str,
    out_dir: str | Path | None = None,
    data_dir: str | Path = "data",
    threads: int | None = None,
    on_epoch: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Train ``models.<name>`` and save it to ``out_dir`` (default ``models/<name>``).

    Writes ``model.keras`` (the denoiser; a GAN's generator), ``metadata.json``,
    ``history.csv`` and ``dvclive/``. An interrupted run (even ``kill -9``) resumes from
    ``out_dir/.work/backup`` at the last finished epoch. Returns the metadata.

    Raises:
        ConfigError: unknown model.
        DataIntegrityError: the dataset's shards fail their manifest checks.
    """
    mp, ds_name, ds, reader = _checked_inputs(cfg, name, data_dir)
    out = Path(out_dir or Path("models") / name)
    out.mkdir(parents=True, exist_ok=True)
    live = open_dvclive(out / "dvclive")  # now: a dvclive problem fails before training
    setup = _backend(cfg, mp["kind"], threads)  # before Keras is imported
    import keras

    tcfg = cfg.get("training", {})
    val_ds, model, recipe_callbacks = _build(cfg, mp, reader, setup)

    # Logs live beside the backup while training (Snakemake deletes declared outputs before a
    # rerun, which would lose a resumed run's history); they are copied into place at the end.
    work = out / ".work"
    done = _start_work(work, json.dumps(
        {"model": dict(mp), "dataset": ds_name, "seed": cfg["seed"], "training": dict(tcfg),
         "manifest_sha256": sha256_file(reader.manifest_path)}, sort_keys=True, default=str))
    train_ds, steps = _train_stream(cfg, mp, ds, reader, done)
    callbacks = _callbacks(keras, name, mp, work, recipe_callbacks, on_epoch, done)
    log.info("training %s (%s) on %s: %d train / %d validation examples, %d epochs, batch %d, "
             "%s backend, %s%s", name, mp["kind"], ds_name, reader.rows("train"),
             reader.rows("validation"), mp["epochs"], mp["batch_size"], setup.backend,
             setup.precision, "" if done is None else f" (resuming after epoch {done})")
    t0 = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=int(mp["epochs"]),
                        steps_per_epoch=steps, callbacks=callbacks, shuffle=False, verbose=0)
    seconds = time.perf_counter() - t0
    denoiser = getattr(model, "generator", model)
    val_l1 = [float(v) for v in history.history.get("val_l1", [])]
    epochs_run = len(val_l1)
    rows = write_history(work / "history.csv", out / "history.csv")
    val_l1_all = [float(r["val_l1"]) for r in rows if r.get("val_l1")] or val_l1  # resumed too
    meta = _metadata(cfg, name, reader, model, epochs_run, val_l1_all, seconds)
    meta.update(setup.describe())
    inference.save(denoiser, out, meta)
    write_dvclive(rows, live)
    shutil.rmtree(work, ignore_errors=True)
    log.info("saved %s to %s (%.1f s, best val_l1 %s)", name, out, seconds, meta["best_val_l1"])
    return meta


def _backend(cfg: Mapping[str, Any], kind: str, threads: int | None) -> backend.Setup:
    """``training.backend`` chosen (before Keras is imported) and configured: threads, seed,
    determinism, precision, jit (docs/design.md "Keras backends")."""
    tcfg = cfg.get("training", {})
    deterministic = bool(tcfg.get("deterministic", True))
    backend.select(tcfg.get("backend", backend.DEFAULT), deterministic,
                   onednn=models.spec(kind).onednn)
    return backend.configure(threads, cfg["seed"], deterministic,
                             tcfg.get("mixed_precision", False), tcfg.get("jit_compile", False))


def _build(cfg: Mapping[str, Any], mp: Mapping[str, Any], reader: DatasetReader,
           setup: backend.Setup) -> tuple[Any, Any, list[Any]]:
    """``(validation stream, compiled model, the recipe's callbacks)``: the model built and
    compiled in ``setup``'s scope (several GPUs) with its ``jit_compile``."""
    spec = models.spec(mp["kind"])
    batch = int(mp["batch_size"])
    steps = pipeline.steps(reader, "train", batch)
    val_ds = pipeline.stream(reader, "validation", max(batch, 256), shuffle=False,
                             transform=spec.transform)
    with setup.scope():
        model, recipe_callbacks = spec.recipe(mp, reader.shape, steps, setup.jit_compile)
    return val_ds, model, recipe_callbacks


def _train_stream(cfg: Mapping[str, Any], mp: Mapping[str, Any], ds: Mapping[str, Any],
                  reader: DatasetReader, done: int | None) -> tuple[Any, int]:
    """``(train stream, steps per epoch)``: the epochs left after ``done``, streamed as one
    dataset (epoch ``e`` in the order of ``(seed, e)``, whether the run resumes or not), each
    batch through the kind's training transform (``ds``: the dataset's params)."""
    batch, epochs = int(mp["batch_size"]), int(mp["epochs"])
    steps = pipeline.steps(reader, "train", batch)
    spec = models.spec(mp["kind"])
    transform = (spec.train_transform(mp, ds, cfg["seed"], first_batch=(done or 0) * steps)
                 if spec.train_transform else spec.transform)
    # nothing left (killed after the last backup): one epoch all the same, for Keras' build
    # probe only
    todo = list(range(done or 0, epochs)) or [epochs - 1]
    train_ds = pipeline.stream(reader, "train", batch, shuffle=True,
                               shuffle_buffer=int(mp["shuffle_buffer"]), seed=cfg["seed"],
                               transform=transform, epochs=todo)
    return train_ds, steps


def _start_work(work: Path, fingerprint: str) -> int | None:
    """Set up the work folder of a run with this ``fingerprint``: kept when its backup can be
    resumed (returns the epochs done), else emptied (returns None)."""
    done = resumable_epochs(work, fingerprint)
    if done is None:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    atomic_write_text(work / FINGERPRINT, fingerprint)
    return done


def _callbacks(keras: Any, name: str, mp: Mapping[str, Any], work: Path,
               recipe_callbacks: list[Any], on_epoch: Callable[[int], None] | None,
               done: int | None) -> list[Any]:
    """The recipe's callbacks, then logging, early stopping (resuming after ``done`` epochs),
    the CSV log, ``on_epoch``, the backup and, when ``$DENOISEBENCH_TEST_KILL_AT`` is set, the
    kill hook."""
    callbacks: list[Any] = [
        _epoch_logger(name, int(mp["epochs"])),
        resumable_early_stopping(work / "backup", done, monitor="val_l1", mode="min",
                                 patience=int(mp["patience"]), restore_best_weights=True),
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=True),
    ]
    callbacks[:0] = recipe_callbacks
    if on_epoch is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda e, _: on_epoch(e)))
    # last, so that the logs of an epoch are written before its backup
    # (double_checkpoint: a kill while the backup is written leaves the previous one usable)
    callbacks.append(consistent_backup(work / "backup"))
    hook = kill_hook()
    if hook is not None:
        callbacks.append(hook)
    return callbacks


def _metadata(cfg: Mapping[str, Any], name: str, reader: DatasetReader, model: Any,
              epochs_run: int, val_l1_all: list[float], seconds: float) -> dict[str, Any]:
    """``metadata.json`` of a trained model (see :func:`denoisebench.inference.read_metadata`)."""
    mp = cfg["models"][name]
    ds_name = mp["dataset"]
    spec = models.spec(mp["kind"])
    return {
        "model": name,
        "kind": mp["kind"],
        "dataset": ds_name,
        "fs": reader.fs,
        "window": reader.shape[0],
        "input_shape": list(reader.shape),
        "model_input_shape": list(spec.model_input_shape(reader.shape)),
        "scaling": dict(spec.scaling),
        "trainable_params": models.count_trainable(model),
        "seed_params": spec.seed_params,
        "source": spec.source,
        "train_examples": reader.rows("train"),
        "epochs_this_run": epochs_run,
        "best_val_l1": float(np.nanmin(val_l1_all)) if val_l1_all else None,
        "train_seconds_this_run": round(seconds, 1),
        "samples_per_second": round(reader.rows("train") * epochs_run / seconds, 1)
        if epochs_run else None,
        "seed": cfg["seed"],
        "versions": backend.versions(),
    }
