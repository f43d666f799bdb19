"""Train one model of params.yaml on its dataset's shards and save the denoiser.

Keras callbacks do the bookkeeping: ``BackupAndRestore`` (an interrupted run resumes at the
last finished epoch), ``EarlyStopping`` on validation L1 with the best weights restored,
``CSVLogger`` (``history.csv``) and dvclive's ``DVCLiveCallback`` for the training curves.
The model, its loss and optimiser come from the model kind's recipe in
:mod:`denoisebench.models` (one module per family).
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from . import config as cfgmod
from . import inference, models, tfsetup
from .data import pipeline
from .data.generate import dataset_root
from .data.shards import DatasetReader

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
    import keras
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    mp = cfg["models"].get(name)
    if mp is None:
        raise cfgmod.ConfigError(f"params: unknown model {name!r}; expected one of "
                                 f"{sorted(cfg['models'])}")
    ds_name, ds = cfgmod.dataset_of(cfg, name)
    out = Path(out_dir or Path("models") / name)
    out.mkdir(parents=True, exist_ok=True)
    tcfg = cfg.get("training", {})
    strategy = tfsetup.configure(threads, cfg["seed"], tcfg.get("deterministic", True),
                                 tcfg.get("mixed_precision", False))
    spec = models.spec(mp["kind"])
    reader = DatasetReader(dataset_root(ds_name, data_dir))
    batch = int(mp["batch_size"])
    steps = pipeline.steps(reader, "train", batch)
    train_ds = pipeline.stream(reader, "train", batch, shuffle=True,
                               shuffle_buffer=int(mp["shuffle_buffer"]), seed=cfg["seed"],
                               transform=spec.transform)
    val_ds = pipeline.stream(reader, "validation", max(batch, 256), shuffle=False,
                             transform=spec.transform)
    with strategy.scope():
        model, recipe_callbacks = spec.recipe(mp, reader.shape, steps,
                                              bool(tcfg.get("jit_compile", False)))

    # Logs live beside the backup while training (Snakemake deletes declared outputs before a
    # rerun, which would lose a resumed run's history); they are copied into place at the end.
    work = out / ".work"
    resuming = (work / "backup").exists()
    if not resuming:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    live_dir = work / "dvclive"
    callbacks: list[Any] = [
        _epoch_logger(name, int(mp["epochs"])),
        keras.callbacks.EarlyStopping(monitor="val_l1", mode="min", patience=int(mp["patience"]),
                                      restore_best_weights=True),
        keras.callbacks.CSVLogger(str(work / "history.csv"), append=True),
        DVCLiveCallback(live=Live(dir=str(live_dir), save_dvc_exp=False, dvcyaml=False,
                                  resume=resuming, report=None)),
    ]
    callbacks[:0] = recipe_callbacks
    if on_epoch is not None:
        callbacks.append(keras.callbacks.LambdaCallback(on_epoch_end=lambda e, _: on_epoch(e)))
    # last, so that the logs of an epoch are written before its backup
    callbacks.append(keras.callbacks.BackupAndRestore(str(work / "backup")))
    log.info("training %s (%s) on %s: %d train / %d validation examples, %d epochs, batch %d%s",
             name, mp["kind"], ds_name, reader.rows("train"), reader.rows("validation"),
             mp["epochs"], batch, " (resuming)" if resuming else "")
    t0 = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=int(mp["epochs"]),
                        callbacks=callbacks, shuffle=False, verbose=0)
    seconds = time.perf_counter() - t0
    denoiser = getattr(model, "generator", model)
    val_l1 = [float(v) for v in history.history.get("val_l1", [])]
    epochs_run = len(val_l1)
    meta = {
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
        "best_val_l1": float(np.min(val_l1)) if val_l1 else None,
        "train_seconds_this_run": round(seconds, 1),
        "samples_per_second": round(reader.rows("train") * epochs_run / seconds, 1)
        if epochs_run else None,
        "seed": cfg["seed"],
        "versions": tfsetup.versions(),
    }
    inference.save(denoiser, out, meta)
    shutil.copyfile(work / "history.csv", out / "history.csv")
    shutil.rmtree(out / "dvclive", ignore_errors=True)
    shutil.copytree(live_dir, out / "dvclive")
    shutil.rmtree(work, ignore_errors=True)
    log.info("saved %s to %s (%.1f s, best val_l1 %s)", name, out, seconds, meta["best_val_l1"])
    return meta
