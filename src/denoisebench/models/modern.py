"""What the modern denoisers (issue 15: :mod:`.resnet`, :mod:`.unet`) share: the training recipe
(loss, optimiser and learning-rate schedule) and the *fresh-noise* training transform.

Recipe (:func:`compile_modern`). Loss ``loss: mse`` or ``l1`` on the denoised output in signal
units (pixel intensities for images); Adam at ``learning_rate`` with ``schedule``:

* ``cosine``: :class:`keras.optimizers.schedules.CosineDecay` from ``learning_rate`` to
  ``learning_rate * min_lr_ratio`` over all ``epochs x steps_per_epoch`` steps (Loshchilov &
  Hutter 2017, SGDR without restarts), after ``warmup_epochs`` of linear warm-up (Keras'
  ``warmup_steps``);
* ``step``: halved every ``lr_step_epochs`` epochs (staircase, as the seeds' recipes);
* ``constant``.

The ``l1`` metric (mean absolute error, signal units) is always tracked: the project's early
stopping (:mod:`denoisebench.training`: ``EarlyStopping(monitor="val_l1", patience,
restore_best_weights=True)``) watches it on the validation split, as for every other model.

Fresh noise (:func:`fresh_noise_transform`). The shards hold one noisy copy of each clean
example; these models see a *new* noise draw of each clean training example in every batch,
drawn by the dataset's own noise law (:mod:`denoisebench.data.signals`,
:mod:`denoisebench.data.images`) from its params, so an epoch over 16,000 shard rows is 16,000
new mixtures (the data-augmentation form of "fresh synthetic data pays more than epochs").
Deterministic: batch ``n`` of the run (its index in the training stream,
:mod:`denoisebench.data.pipeline`; a run resumed after ``e`` epochs of ``s`` steps starts at
``e s``) draws from ``numpy.random.default_rng([seed, FRESH_NOISE_STREAM, n])``, so two runs
with the same params, resumed or not, on any backend, give the same batches (and, with op
determinism, the same weights). The
validation split is never touched: its mixtures stay those of the shards, as for every model.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]

#: second word of the fresh-noise SeedSequence (keeps its stream apart from the generators')
FRESH_NOISE_STREAM = 15
#: dataset kinds whose noise law :func:`redraw_noise` knows from params
NOISE_LAWS = ("multisine", "quadratic", "sine", "images", "images_blur")
LOSSES = ("mse", "l1")
SCHEDULES = ("cosine", "step", "constant")


# --------------------------------------------------------------------------- fresh noise
def redraw_noise(kind: str, ds: Mapping[str, Any], mixed: np.ndarray, clean: np.ndarray,
                 rng: np.random.Generator) -> np.ndarray:
    """A new noisy copy of ``clean`` by the noise law of dataset kind ``kind``.

    Args:
        kind: the dataset's kind; ``folder`` (noise law unknown) *remixes*: example ``i``
            gets the recorded noise ``mixed - clean`` of example ``perm[i]`` of the same batch
            (its marginal law kept, its pairing with the clean signal new).
        ds: the dataset's params (``snr_db``, ``noise_std``, ``noise_amplitude``, the blur
            and noise ranges, ``clip``).
        mixed, clean: ``(rows, *shape)`` float32, signal units; ``mixed`` is the shards' mixture
            (kept where ``clean`` is NaN: a missing target of the ``sine`` kind).
        rng: the batch's generator.

    Returns:
        ``(rows, *shape)`` float32 mixture.

    Raises:
        KeyError: a dataset kind without a known noise law, other than ``folder``.
    """
    mixed = np.asarray(mixed, np.float32)
    clean = np.asarray(clean, np.float32)
    if kind == "multisine":
        from ..data.signals import scale_noise_to_snr

        noise = scale_noise_to_snr(clean, rng.standard_normal(clean.shape), float(ds["snr_db"]))
        out = clean + noise
    elif kind == "quadratic":
        out = clean + float(ds["noise_std"]) * rng.standard_normal(clean.shape)
    elif kind == "sine":
        amp = float(ds["noise_amplitude"])
        out = np.where(np.isnan(clean), mixed, clean + rng.uniform(-amp, amp, clean.shape))
    elif kind == "images":
        from ..data.images import add_gaussian_noise

        out = add_gaussian_noise(clean, float(ds["noise_std"]), rng, bool(ds.get("clip", True)))
    elif kind == "images_blur":
        from ..data.images import blur_and_noise

        rows = len(clean)
        sigma = rng.uniform(ds["blur_sigma_min"], ds["blur_sigma_max"], size=rows)
        r = rng.uniform(ds["noise_range_min"], ds["noise_range_max"], size=rows)
        out = blur_and_noise(clean, sigma, r, rng, bool(ds.get("clip", False)))
    elif kind == "folder":
        noise = mixed - clean
        out = clean + noise[rng.permutation(len(clean))]
        out = np.where(np.isfinite(out), out, mixed)
    else:
        raise KeyError(f"no noise law known for dataset kind {kind!r}; expected one of "
                       f"{[*NOISE_LAWS, 'folder']}")
    return np.asarray(out, np.float32)


def fresh_noise_transform(ds: Mapping[str, Any], seed: int,
                          base: Transform | None = None, first_batch: int = 0) -> Transform:
    """Training transform: ``(mixed, clean)`` -> ``base(new mixed, clean)``, a new noise draw
    per batch (:func:`redraw_noise`; see the module doc for the seeding). Batch ``n`` draws
    from ``(seed, FRESH_NOISE_STREAM, first_batch + n)``: the input pipeline passes each
    batch's index in its stream as ``batch=n`` (the transform is ``numbered``), so whatever
    Keras reads ahead or restarts, a batch gets its noise; a run resumed after ``e`` epochs of
    ``s`` steps passes ``first_batch = e s`` and draws the uninterrupted run's noise. Called
    without ``batch``, it counts its own calls from 0. ``base`` defaults to adding the channel
    axis: ``(rows, *shape)`` -> ``(rows, *shape, 1)``."""
    from . import add_channel

    base = base or add_channel
    kind = str(ds["kind"])
    counter = [0]

    def transform(mixed: np.ndarray, clean: np.ndarray,
                  batch: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        if batch is None:
            batch, counter[0] = counter[0], counter[0] + 1
        rng = np.random.default_rng([int(seed), FRESH_NOISE_STREAM, int(first_batch) + batch])
        return base(redraw_noise(kind, ds, mixed, clean, rng), np.asarray(clean, np.float32))

    transform.__name__ = f"fresh_noise_{kind}"
    transform.numbered = True  # type: ignore[attr-defined]
    return transform


def train_transform(mp: Mapping[str, Any], ds: Mapping[str, Any], seed: int,
                    first_batch: int = 0) -> Transform:
    """The registry's training-transform factory of the modern kinds: fresh noise when
    ``mp["fresh_noise"]`` (default True; batches counted from ``first_batch``), else the plain
    channel axis."""
    from . import add_channel

    if not mp.get("fresh_noise", True):
        return add_channel
    return fresh_noise_transform(ds, seed, first_batch=first_batch)


# --------------------------------------------------------------------------- recipe
def lr_schedule(mp: Mapping[str, Any], steps_per_epoch: int) -> Any:
    """The learning rate of ``mp`` (see the module doc): a Keras schedule or a float.

    Raises:
        ValueError: unknown ``schedule``.
    """
    import keras

    lr = float(mp["learning_rate"])
    kind = str(mp.get("schedule", "cosine"))
    steps = max(1, int(steps_per_epoch))
    if kind == "cosine":
        warmup = int(round(float(mp.get("warmup_epochs", 0)) * steps))
        total = max(1, int(mp["epochs"]) * steps - warmup)
        if warmup:
            return keras.optimizers.schedules.CosineDecay(
                lr * 0.1, total, alpha=float(mp.get("min_lr_ratio", 0.01)),
                warmup_target=lr, warmup_steps=warmup)
        return keras.optimizers.schedules.CosineDecay(lr, total,
                                                      alpha=float(mp.get("min_lr_ratio", 0.01)))
    if kind == "step":
        from . import halving_schedule

        return halving_schedule(lr, int(mp.get("lr_step_epochs", 1)), steps)
    if kind == "constant":
        return lr
    raise ValueError(f"unknown schedule {kind!r}; expected one of {list(SCHEDULES)}")


def compile_modern(model: Any, mp: Mapping[str, Any], steps_per_epoch: int,
                   jit_compile: bool) -> Any:
    """Compile ``model`` with ``mp``'s loss (``mse`` / ``l1``), Adam on :func:`lr_schedule`
    (``clipnorm`` 1: a guard against the first steps' large gradients at high rates) and the
    ``l1`` metric that early stopping watches. Returns the model.

    Raises:
        ValueError: unknown ``loss`` or ``schedule``.
    """
    import keras

    loss = str(mp.get("loss", "mse"))
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {list(LOSSES)}")
    model.compile(optimizer=keras.optimizers.Adam(lr_schedule(mp, steps_per_epoch),
                                                  clipnorm=1.0),
                  loss="mse" if loss == "mse" else "mae",
                  metrics=[keras.metrics.MeanAbsoluteError(name="l1")],
                  jit_compile=jit_compile)
    return model


def int_list(values: Sequence[Any]) -> list[int]:
    """``values`` as a list of ints (params may give them as YAML numbers)."""
    return [int(v) for v in values]


# --------------------------------------------------------------------------- geometry
# (Keras-free: models/checks.py's params checks use these while Snakemake parses the workflow.)
def dilation_levels(length: int, kernel_size: int = 3) -> int:
    """Smallest ``m`` such that dilations ``1, 2, ..., 2^(m-1)`` between an undilated stem and
    head (:func:`dncnn1d_receptive_field`) see ``2 length - 1`` samples: every output sample
    then sees the whole window, wherever it lies in it."""
    m = 0
    while dncnn1d_receptive_field([2 ** j for j in range(m)], kernel_size) < 2 * length - 1:
        m += 1
    return m


def dncnn1d_dilations(length: int, depth: int, kernel_size: int = 3) -> list[int]:
    """Dilations of the ``depth`` dilated layers of :func:`~.resnet.build_dncnn1d`: ``2^(i mod
    m)``, ``m = min(depth, dilation_levels(length, kernel_size))`` (WaveNet / TCN cycles:
    1, 2, 4, ..., then again from 1)."""
    m = max(1, min(int(depth), dilation_levels(length, kernel_size)))
    return [2 ** (i % m) for i in range(int(depth))]


def dncnn1d_receptive_field(dilations: Sequence[int], kernel_size: int = 3) -> int:
    """Input samples one output sample of the 1-D residual dilated CNN depends on: the stem,
    the dilated layers and the head, ``1 + (kernel_size - 1) (2 + sum(dilations))``."""
    return 1 + (int(kernel_size) - 1) * (2 + sum(int(d) for d in dilations))


def unet_receptive_field(depth: int, kernel_size: int, convs_per_level: int = 1) -> int:
    """Receptive field (samples, per axis) of :func:`~.unet.build_unet1d` / ``build_unet2d``,
    on the path through the bottleneck: at level ``i`` (stride ``2^i``) the encoder's
    ``convs_per_level`` convolutions and its strided convolution, the decoder's transposed
    convolution (``ceil(k / 2)`` taps at stride ``2^(i+1)``) and its ``convs_per_level``
    convolutions; ``convs_per_level`` convolutions at the bottleneck (stride ``2^depth``); the
    head's 1-tap convolution adds nothing. An upper bound of the measured field (the stride-2
    taps' alignment may trim a few samples; tests/unit/models/test_modern_models.py measures it)."""
    k = int(kernel_size)
    reach = 0  # samples either side, times 2: total span - 1
    for i in range(int(depth)):
        reach += (k - 1) * 2 ** i * convs_per_level  # encoder convolutions at stride 2^i
        reach += (k - 1) * 2 ** i  # the strided convolution (taps at stride 2^i)
        reach += (-(-k // 2) - 1) * 2 ** (i + 1)  # transposed convolution: ceil(k/2) taps
        reach += (k - 1) * 2 ** i * convs_per_level  # decoder convolutions at stride 2^i
    reach += (k - 1) * 2 ** int(depth) * convs_per_level
    return 1 + reach


def unet_padding(length: int, depth: int) -> tuple[int, int]:
    """Zeros the U-Nets add before and after an axis of ``length`` samples to reach the next
    multiple of ``2^depth`` (cropped off again at the output): any length works."""
    total = (-int(length)) % (2 ** int(depth))
    return total // 2, total - total // 2
