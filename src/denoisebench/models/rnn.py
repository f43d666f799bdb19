"""Seed 001: recurrent denoisers of noisy sines (RNN, bidirectional RNN, GRU, bidirectional GRU).

Architecture (seed 001, in PyTorch there): one recurrent layer of 30 units over the whole
sequence, then a per-step ``Linear(units * directions -> 1)`` and ``tanh``. In Keras:
``SimpleRNN``/``GRU(30, return_sequences=True)`` (optionally ``Bidirectional``, concatenated),
an optional ``Dropout`` on the recurrent outputs, ``Dense(1, tanh)``. Trainable parameters
(docs/models.md ("rnn", "birnn", "gru", "bigru"); Keras' GRU uses ``reset_after=True``): RNN 991,
BiRNN 1,981, GRU 3,001, BiGRU 6,001. Input and output ``(batch, time, 1)`` in signal units (any
``time``).

The seed passes ``dropout=0.1`` to its bidirectional RNN and GRU; PyTorch applies that
dropout only *between* stacked layers, so with one layer it does nothing (PyTorch warns).
``dropout`` here is the nearest Keras reading: dropout on the recurrent layer's outputs before
the head (0 reproduces the seed's effective training).

Loss (seed 001): L1, computed only over present targets (:func:`masked_l1`), so a dataset
with missing (NaN) clean values trains without NaN losses or gradients.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
from keras import layers, ops

#: kind -> (cell, bidirectional)
KINDS: dict[str, tuple[str, bool]] = {
    "rnn": ("rnn", False),
    "birnn": ("rnn", True),
    "gru": ("gru", False),
    "bigru": ("gru", True),
}


def build_recurrent(kind: str, length: int | None = None, units: int = 30,
                    dropout: float = 0.0) -> Any:
    """The recurrent denoiser of ``kind`` (see :data:`KINDS`): ``(batch, length, 1)`` ->
    ``(batch, length, 1)`` in (-1, 1) (tanh). ``length=None`` accepts any length.

    Raises:
        KeyError: unknown kind.
        ValueError: ``dropout`` outside [0, 1).
    """
    if kind not in KINDS:
        raise KeyError(f"unknown recurrent kind {kind!r}; expected one of {sorted(KINDS)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must lie in [0, 1), got {dropout}")
    cell, bidirectional = KINDS[kind]
    cls = layers.SimpleRNN if cell == "rnn" else layers.GRU
    inputs = keras.Input(shape=(length, 1), name="mixed")
    rec = cls(units, return_sequences=True, name=cell)
    if bidirectional:
        rec = layers.Bidirectional(rec, merge_mode="concat", name=f"bi{cell}")
    x = rec(inputs)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(1, activation="tanh", name="head", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=kind)


def build_rnn(length: int | None = None, units: int = 30, dropout: float = 0.0) -> Any:
    """Seed 001's RNN: SimpleRNN(30) + Dense(1, tanh), 991 trainable parameters."""
    return build_recurrent("rnn", length, units, dropout)


def build_birnn(length: int | None = None, units: int = 30, dropout: float = 0.0) -> Any:
    """Seed 001's bidirectional RNN: 2 x SimpleRNN(30) + Dense(1, tanh), 1,981 parameters."""
    return build_recurrent("birnn", length, units, dropout)


def build_gru(length: int | None = None, units: int = 30, dropout: float = 0.0) -> Any:
    """A one-directional GRU(30) + Dense(1, tanh), 3,001 parameters (between seed 001's steps)."""
    return build_recurrent("gru", length, units, dropout)


def build_bigru(length: int | None = None, units: int = 30, dropout: float = 0.0) -> Any:
    """Seed 001's bidirectional GRU: 2 x GRU(30) + Dense(1, tanh), 6,001 parameters."""
    return build_recurrent("bigru", length, units, dropout)


@keras.saving.register_keras_serializable(package="denoisebench")
def masked_l1(y_true: Any, y_pred: Any) -> Any:
    """L1 over the present (non-NaN) targets only, one value per example.

    Args:
        y_true: ``(batch, ...)`` targets, NaN where missing.
        y_pred: ``(batch, ...)`` predictions.

    Returns:
        ``(batch,)``: example i's sum of |y_pred - y_true| over its present values, times
        batch / (present values in the batch), so the batch mean (Keras' loss reduction, and
        :class:`keras.metrics.MeanMetricWrapper`) is exactly the mean absolute error over every
        present value of the batch: the seed's ``L1(pred[mask], out[mask])``. Without NaN it
        is the plain per-example mean absolute error.

    A missing target contributes nothing, not even to the gradient: NaN is replaced by 0
    *before* the difference (``tf.where``), since ``where(mask, y_pred - nan, 0)`` would still
    back-propagate ``0 * nan = nan``.
    """
    y_pred = ops.cast(y_pred, "float32")
    y_true = ops.cast(y_true, "float32")
    present = ops.logical_not(ops.isnan(y_true))
    safe_true = ops.where(present, y_true, ops.zeros_like(y_true))
    safe_pred = ops.where(present, y_pred, ops.zeros_like(y_pred))
    err = ops.abs(safe_pred - safe_true)
    batch = ops.shape(err)[0]
    err = ops.reshape(err, (batch, -1))
    count = ops.sum(ops.cast(present, "float32"))
    scale = ops.cast(batch, "float32") / ops.maximum(count, 1.0)
    return ops.sum(err, axis=1) * scale


def recipe_recurrent(mp: Mapping[str, Any], shape: Sequence[int], steps_per_epoch: int,
                     jit_compile: bool) -> tuple[Any, list[Any]]:
    """Seed 001's training: Adam (``learning_rate``, halved every ``lr_halving_epochs``),
    masked L1 loss; the ``l1`` metric is masked too. The seed trains full-batch, 200-300 steps.

    The model kind is ``mp["kind"]``; ``units`` and ``dropout`` come from ``mp``.
    """
    from . import halving_schedule

    model = build_recurrent(mp["kind"], int(shape[0]), int(mp["units"]), float(mp["dropout"]))
    lr = halving_schedule(float(mp["learning_rate"]), int(mp["lr_halving_epochs"]),
                          steps_per_epoch)
    model.compile(optimizer=keras.optimizers.Adam(lr), loss=masked_l1,
                  metrics=[keras.metrics.MeanMetricWrapper(masked_l1, name="l1")],
                  jit_compile=jit_compile)
    return model, []
