"""The Keras callbacks that make a resumed training exact, and the kill test hook.

A resumed run ends with the weights of an uninterrupted one, bit for bit (with
``training.deterministic``), wherever the kill fell (tests/e2e/test_resume.py): the backup holds
the model's and every optimiser's variables (Adam's moments and step count, hence the learning
rate schedule); early stopping's state (best value, epoch, patience count, best weights) is
saved beside it for the same epoch (:func:`resumable_early_stopping`); the backup is written so
that a kill at any instant leaves one consistent epoch (:func:`consistent_backup`); and epoch
``e`` streams its examples in an order drawn from ``(seed, e)`` alone
(:func:`denoisebench.data.pipeline.stream`'s ``epochs``). A kill mid-epoch redoes that epoch
from its start.

Test hook (fault injection, no effect unless set): ``DENOISEBENCH_TEST_KILL_AT=E:B`` makes the
training process SIGKILL itself after batch ``B`` of epoch ``E`` (both 0-based), ``E:end`` right
after epoch ``E``'s backup; a third field ``:group`` kills its whole process group (under
Snakemake: Snakemake and the job die together).

Keras is imported inside the functions: :mod:`denoisebench.training` selects oneDNN before
TensorFlow loads.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_npz, atomic_write_text

log = logging.getLogger(__name__)

EARLY_STOPPING = "early_stopping-{epochs}.npz"  # in the backup folder, per finished epochs
KILL_ENV = "DENOISEBENCH_TEST_KILL_AT"


def resumable_early_stopping(folder: Path, resume_after: int | None, **kwargs: Any) -> Any:
    """An ``EarlyStopping(**kwargs)`` whose state survives a kill (see the class)."""
    import keras

    class ResumableEarlyStopping(keras.callbacks.EarlyStopping):
        """``EarlyStopping`` whose state survives a kill: after each epoch it saves ``best``,
        ``best_epoch``, ``wait`` and the best weights to ``backup/early_stopping-<n>.npz``
        (``n`` finished epochs, as the backup's metadata counts them; this epoch's and the
        previous one kept, since the backup can fall back one epoch), and a run resuming after
        ``n`` epochs loads them. Without it a resumed run would forget the best epoch before
        the kill and restore other weights at the end."""

        def on_train_begin(self, logs: Any = None) -> None:
            super().on_train_begin(logs)
            path = folder / EARLY_STOPPING.format(epochs=resume_after or 0)
            if not resume_after:
                return
            if not path.exists():  # a backup from before this class: resume, forgetting it
                log.warning("%s missing: early stopping forgets the epochs before the resume",
                            path)
                return
            with np.load(path) as z:
                self.wait, self.stopped_epoch = int(z["wait"]), int(z["stopped_epoch"])
                self.best_epoch = int(z["best_epoch"])
                self.best = float(z["best"]) if bool(z["has_best"]) else None
                count = int(z["n_weights"])
                self.best_weights = [z[f"w{i}"] for i in range(count)] if count >= 0 else None

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            super().on_epoch_end(epoch, logs)
            arrays: dict[str, Any] = {
                "wait": np.int64(self.wait), "stopped_epoch": np.int64(self.stopped_epoch),
                "best_epoch": np.int64(self.best_epoch),
                "has_best": np.bool_(self.best is not None),
                "best": np.float64(self.best if self.best is not None else np.nan),
                "n_weights": np.int64(-1 if self.best_weights is None
                                      else len(self.best_weights))}
            arrays.update({f"w{i}": w for i, w in enumerate(self.best_weights or [])})
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write_npz(folder / EARLY_STOPPING.format(epochs=epoch + 1), arrays)
            (folder / EARLY_STOPPING.format(epochs=epoch - 1)).unlink(missing_ok=True)

    return ResumableEarlyStopping(**kwargs)


def consistent_backup(backup_dir: Path) -> Any:
    """A ``BackupAndRestore`` into ``backup_dir`` (epoch backups, double checkpoint) that a
    kill cannot leave inconsistent (see the class)."""
    import keras

    class ConsistentBackup(keras.callbacks.BackupAndRestore):
        """``BackupAndRestore`` written so that a kill at any instant leaves the latest or the
        previous backup whole and consistent. Keras writes the new weights and then the
        metadata in place: a kill between the two leaves new weights labelled with the
        previous epoch, which :func:`denoisebench.training.resumable_epochs` cannot tell
        apart. Here the latest metadata is removed before the weights are written (the latest
        backup reads as incomplete, so the previous one is used) and written atomically after
        them."""

        def _save_model(self) -> None:
            Path(self.backup_dir).mkdir(parents=True, exist_ok=True)
            weights, meta = Path(self._weights_path), Path(self._training_metadata_path)
            for src, dst in ((weights, self._prev_weights_path),
                             (meta, self._prev_training_metadata_path)):
                if self.double_checkpoint and src.exists():
                    shutil.copyfile(src, dst)
            meta.unlink(missing_ok=True)
            self.model.save_weights(filepath=str(weights), overwrite=True)
            atomic_write_text(meta, json.dumps({"epoch": self._current_epoch,
                                                "batch": self._last_batch_seen}))

    return ConsistentBackup(str(backup_dir), double_checkpoint=True)


def kill_hook() -> Any:
    """The callback of ``$DENOISEBENCH_TEST_KILL_AT`` (module doc), or None when unset."""
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return None
    import keras

    epoch_s, batch_s, *rest = spec.split(":")
    at_epoch, at_batch = int(epoch_s), None if batch_s == "end" else int(batch_s)
    group = rest == ["group"]

    def kill() -> None:
        log.warning("%s=%s: SIGKILL now", KILL_ENV, spec)
        logging.shutdown()
        if group:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        os.kill(os.getpid(), signal.SIGKILL)

    class KillAt(keras.callbacks.Callback):
        epoch = -1

        def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
            self.epoch = epoch

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            if at_batch is not None and (self.epoch, batch) == (at_epoch, at_batch):
                kill()

        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if at_batch is None and epoch == at_epoch:
                kill()

    return KillAt()
