"""Model registry: one :class:`ModelSpec` per model *kind* (the ``kind`` of ``models.<name>``).

Each family lives in its own module and provides, besides the architecture, its training
recipe (loss, optimiser, callbacks), the datasets it can train on, and how examples are
presented to it (``transform`` for training batches, ``scaling`` for inference, the model's
input shape). ``build(kind)`` returns the untrained Keras model; GAN kinds return a
:class:`~denoisebench.models.gan.DenoisingGAN` exposing ``.generator`` and ``.discriminator``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import checks

#: (mp, example shape, steps per epoch, jit_compile) -> (compiled model, extra callbacks)
Recipe = Callable[[Mapping[str, Any], Sequence[int], int, bool], tuple[Any, list[Any]]]
Transform = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]
ModelCheck = Callable[[str, Mapping[str, Any], Mapping[str, Any]], list[str]]
#: seed 004's generator: four stride-2 encoder blocks, so windows are multiples of 2**4
GAN_WINDOW_MULTIPLE = 16


def add_channel(mixed: np.ndarray, clean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, *shape)`` -> ``(rows, *shape, 1)``: the channels-last layout of the models."""
    return mixed[..., None], clean[..., None]


def channel_last_shape(shape: Sequence[int]) -> list[int]:
    """Model input shape for examples of ``shape``: one trailing channel axis."""
    return [*shape, 1]


@dataclass(frozen=True)
class ModelSpec:
    """How to build, train and feed one model kind, and what its seed reports."""

    builder: Callable[..., Any]
    recipe: Recipe
    seed_params: int | None  # trainable parameters as the seed reports them (None: no figure)
    source: str  # which seed / paper the architecture comes from
    dataset_kinds: tuple[str, ...]  # dataset kinds it can be trained on
    transform: Transform = add_channel  # numpy (mixed, clean) batch -> (inputs, targets)
    scaling: Mapping[str, Any] = field(default_factory=lambda: {"kind": "none"})
    model_input_shape: Callable[[Sequence[int]], list[int]] = channel_last_shape
    # TensorFlow's oneDNN CPU kernels while training. On for every model: one epoch on 2 cores
    # (BENCHMARKS.md "oneDNN") took 2-6x less time with them for the conv models and 10-20 % less
    # for the recurrent ones, and op determinism still gives identical weights (every kind, 1
    # and 2 threads: tests/e2e/test_determinism.py). A model kind whose kernels misbehave with
    # oneDNN can set False.
    onednn: bool = True
    #: 1-D examples must be a multiple of this many samples (seed 004: four stride-2 blocks)
    window_multiple: int = 1
    #: ``(key path, models.<name> params, its dataset's params) -> problems`` (no Keras)
    checks: ModelCheck = checks.no_errors
    #: (mp, dataset params, seed, first_batch=...) -> the transform of the *training* batches,
    #: when it differs from ``transform`` (issue 15's kinds: a fresh noise draw per batch,
    #: models.modern; ``first_batch``: batches done before a resume); validation batches always
    #: use ``transform``.
    train_transform: Callable[..., Transform] | None = None
    #: scheduling hint: wall microseconds per training example per epoch, one thread of the
    #: 2-core reference machine, at the default params (measured: BENCHMARKS.md W1). Snakemake
    #: starts the longest trainings first (:func:`expected_train_seconds`); wider settings run
    #: longer than the hint says, which only changes the order.
    train_us_per_example: float = 2000.0


def lazy(module: str, name: str) -> Callable[..., Any]:
    """``module.name`` imported on first call: the registry (read when params are validated,
    e.g. while Snakemake parses the workflow) must not import Keras/TensorFlow."""

    def call(*args: Any, **kwargs: Any) -> Any:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{module}"), name)(*args, **kwargs)

    call.__name__ = name
    call.__doc__ = f"Lazy {module}.{name}"
    return call


def _row(module: str, builder: str, recipe: str, **fields: Any) -> ModelSpec:
    """A registry row whose builder and recipe are ``module.builder``/``module.recipe``
    (imported on first use, see :func:`lazy`)."""
    return ModelSpec(builder=lazy(module, builder), recipe=lazy(module, recipe), **fields)


#: dataset kinds of issue 15's 1-D and 2-D models
MODERN_SIGNAL_KINDS = ("multisine", "quadratic", "sine", "folder")
MODERN_IMAGE_KINDS = ("images", "images_blur")

REGISTRY: dict[str, ModelSpec] = {
    "gan": _row("gan", "build_gan", "recipe_gan",
        seed_params=282_177, source="seed 004 (GAN-trained 1-D conv autoencoder, generator)",
        dataset_kinds=("multisine", "folder"), window_multiple=GAN_WINDOW_MULTIPLE,
        train_us_per_example=4300),
    "gan_l1": _row("gan", "build_generator", "recipe_l1",
        seed_params=282_177, source="seed 004 generator trained on L1 alone (ablation)",
        dataset_kinds=("multisine", "folder"), window_multiple=GAN_WINDOW_MULTIPLE,
        train_us_per_example=3700),
    "conv1d_ae": _row("conv1d", "build_conv1d_ae", "recipe_conv1d_ae",
        seed_params=28_737, source="seed 000 (Conv1D/Conv1DTranspose autoencoder, min-max, BCE)",
        dataset_kinds=("quadratic", "folder"), transform=lazy("conv1d", "minmax_transform"),
        scaling={"kind": "minmax"}, checks=checks.conv1d_errors,
        train_us_per_example=1100),
    "rnn": _row("rnn", "build_rnn", "recipe_recurrent",
        seed_params=991, source="seed 001 (SimpleRNN(30) + Dense, masked L1)",
        dataset_kinds=("sine", "folder"),
        train_us_per_example=350),
    "birnn": _row("rnn", "build_birnn", "recipe_recurrent",
        seed_params=1_981, source="seed 001 (bidirectional SimpleRNN(30) + Dense, masked L1; "
                                  "Keras count)",
        dataset_kinds=("sine", "folder"),
        train_us_per_example=680),
    "gru": _row("rnn", "build_gru", "recipe_recurrent",
        seed_params=3_001, source="GRU(30) + Dense, masked L1 (seed 001's cell, one direction)",
        dataset_kinds=("sine", "folder"),
        train_us_per_example=660),
    "bigru": _row("rnn", "build_bigru", "recipe_recurrent",
        seed_params=6_001, source="seed 001 (bidirectional GRU(30) + Dense, masked L1)",
        dataset_kinds=("sine", "folder"),
        train_us_per_example=1360),
    "dense_ae": _row("dense", "build_dense_ae", "recipe_dense",
        seed_params=50_992, source="seed 002 (dense autoencoder 784-32-784)",
        dataset_kinds=("images", "images_blur"), transform=lazy("dense", "flatten"),
        model_input_shape=lazy("dense", "flat_shape"),
        train_us_per_example=65),
    "conv2d_ae": _row("conv2d", "build_conv2d_ae", "recipe_conv2d",
        seed_params=4_385, source="seed 002 (convolutional autoencoder, Gaussian noise)",
        dataset_kinds=("images", "images_blur"),
        train_us_per_example=450),
    "conv2d_ae_blur": _row("conv2d", "build_conv2d_ae", "recipe_conv2d",
        seed_params=4_385, source="seed 003 (convolutional autoencoder, blur + uniform noise)",
        dataset_kinds=("images_blur",),
        train_us_per_example=420),
    # issue 15: modern denoisers (models/resnet.py, models/unet.py, recipe in models/modern.py)
    "dncnn1d": _row("resnet", "build_dncnn1d", "recipe_dncnn1d",
        seed_params=None, source="residual dilated CNN (DnCNN residual learning, Zhang et al. "
                                 "2017; TCN-style dilations)",
        dataset_kinds=MODERN_SIGNAL_KINDS, checks=checks.dncnn1d_errors,
        train_transform=lazy("modern", "train_transform")),
    "unet1d": _row("unet", "build_unet1d", "recipe_unet1d",
        seed_params=None, source="1-D U-Net after Wave-U-Net (Stoller et al. 2018), residual "
                                 "output",
        dataset_kinds=MODERN_SIGNAL_KINDS, checks=checks.odd_kernel_errors,
        train_transform=lazy("modern", "train_transform"),
        train_us_per_example=2100),
    "spectral1d": _row("spectral", "build_spectral1d", "recipe_spectral1d",
        seed_params=None, source="spectral residual CNN: DnCNN residual learning (Zhang et al. "
                                 "2017) over the zero-padded whole-window DFT, complex spectral "
                                 "mapping (Tan & Wang 2020)",
        dataset_kinds=MODERN_SIGNAL_KINDS, checks=checks.odd_kernel_errors,
        train_transform=lazy("modern", "train_transform"),
        train_us_per_example=2300),
    "dncnn2d": _row("resnet", "build_dncnn2d", "recipe_dncnn2d",
        seed_params=None, source="DnCNN (Zhang et al. 2017)",
        dataset_kinds=MODERN_IMAGE_KINDS, train_transform=lazy("modern", "train_transform")),
    "unet2d": _row("unet", "build_unet2d", "recipe_unet2d",
        seed_params=None, source="small 2-D U-Net (Ronneberger et al. 2015), residual output",
        dataset_kinds=MODERN_IMAGE_KINDS, train_transform=lazy("modern", "train_transform"),
        train_us_per_example=2000),
}


#: modules defining registered custom Keras layers: imported before a saved model is loaded
CUSTOM_LAYER_MODULES = ("spectral",)


def import_custom_layers() -> None:
    """Import the modules whose layers are registered with
    ``keras.saving.register_keras_serializable`` (:data:`CUSTOM_LAYER_MODULES`), so that
    ``keras.saving.load_model(..., safe_mode=True)`` finds them (imports Keras)."""
    import importlib

    for module in CUSTOM_LAYER_MODULES:
        importlib.import_module(f"{__name__}.{module}")


def window_multiple(kind: str | None) -> int:
    """The number of samples a 1-D example of model ``kind`` must be a multiple of (1: any
    length; unknown kinds: 1, the schema reports them)."""
    return REGISTRY[kind].window_multiple if kind in REGISTRY else 1


def spec(kind: str) -> ModelSpec:
    """The :class:`ModelSpec` of ``kind``.

    Raises:
        KeyError: unknown kind; the message lists the known ones.
    """
    try:
        return REGISTRY[kind]
    except KeyError:
        raise KeyError(f"unknown model kind {kind!r}; expected one of {sorted(REGISTRY)}") from None


def expected_train_seconds(mp: Mapping[str, Any], ds: Mapping[str, Any]) -> float:
    """Expected training time (s) of ``models.<name>`` params ``mp`` on a dataset with params
    ``ds``: epochs x training rows x the kind's :attr:`ModelSpec.train_us_per_example`; 0 when
    the rows are not in the params (folder datasets) or the kind is unknown. A scheduling hint,
    not a promise."""
    spec = REGISTRY.get(mp.get("kind"))
    rows = ds.get("train_size")
    if spec is None or not isinstance(rows, int):
        return 0.0
    return float(mp.get("epochs", 1)) * rows * spec.train_us_per_example * 1e-6


def train_priority(mp: Mapping[str, Any], ds: Mapping[str, Any]) -> int:
    """The ``train`` rule's Snakemake priority: 0..999 (the data jobs have 1,000), rising with
    :func:`expected_train_seconds` on a log scale, ``round(100 log10(1 + 1000 s))``, so that
    trainings of milliseconds (tiny test params) and of hours (``configs/full.yaml``) both
    keep their order: longest first (docs/workflow.md "Rules, resources and logs")."""
    seconds = expected_train_seconds(mp, ds)
    return min(999, round(100 * float(np.log10(1.0 + 1000.0 * seconds))))


def build(kind: str, **kwargs: Any) -> Any:
    """Build the untrained model of ``kind`` (see :data:`REGISTRY`).

    Raises:
        KeyError: unknown kind.
    """
    return spec(kind).builder(**kwargs)


def model_errors(cfg: Mapping[str, Any]) -> list[str]:
    """Every model's checks, in params order: a known dataset whose kind the model kind can
    train on, the kind's own checks, warm-up epochs within ``epochs``."""
    errors: list[str] = []
    datasets = cfg.get("datasets", {})
    for name, model in cfg.get("models", {}).items():
        p = f"models.{name}"
        ds_name = model.get("dataset")
        if ds_name not in datasets:
            errors.append(f"{p}.dataset: {ds_name!r} is not a dataset in params; "
                          f"expected one of {sorted(datasets)}")
            continue
        spec = REGISTRY.get(model.get("kind"))
        allowed = spec.dataset_kinds if spec else ()
        ds_kind = datasets[ds_name].get("kind")
        if ds_kind not in allowed:
            errors.append(f"{p}.dataset: model kind {model.get('kind')!r} cannot train on dataset "
                          f"{ds_name!r} of kind {ds_kind!r}; expected a dataset of kind "
                          f"{list(allowed)}")
        if spec:
            errors += spec.checks(p, model, datasets[ds_name])
        if "warmup_epochs" in model and model["warmup_epochs"] > model["epochs"]:
            errors.append(f"{p}.warmup_epochs: {model['warmup_epochs']} exceeds {p}.epochs "
                          f"({model['epochs']})")
    return errors


def count_trainable(model: Any) -> int:
    """Trainable parameters of a Keras model (the denoiser only, for a GAN: its generator)."""
    target = getattr(model, "generator", model)
    return int(sum(np.prod(w.shape) for w in target.trainable_weights))


def halving_schedule(lr: float, halving_epochs: int, steps_per_epoch: int) -> Any:
    """Learning rate ``lr`` halved every ``halving_epochs`` epochs (staircase; seed 004)."""
    import keras

    return keras.optimizers.schedules.ExponentialDecay(
        lr, decay_steps=max(1, halving_epochs * steps_per_epoch), decay_rate=0.5, staircase=True
    )
