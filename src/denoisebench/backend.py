"""The one module that knows the Keras backends: TensorFlow (default), JAX and PyTorch.

Everything backend-specific lives here (docs/design.md "Keras backends"): choosing the backend
before Keras is imported (``KERAS_BACKEND``), threads, seeding and determinism, mixed
precision, ``jit_compile``, several GPUs, the library versions recorded beside a model, and the
GAN's training step in each backend's form. The models, the input pipeline
(:mod:`denoisebench.data.pipeline`) and the callbacks are written once in Keras 3 for all three.

Import this module before Keras: it sets ``TF_CPP_MIN_LOG_LEVEL`` and
``TF_ENABLE_ONEDNN_OPTS`` (quiet TensorFlow start-up lines, docs/workflow.md).
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

log = logging.getLogger(__name__)

BACKENDS = ("tensorflow", "jax", "torch")
DEFAULT = "tensorflow"
ENV = "KERAS_BACKEND"
#: pip extra / package that provides each backend (README "GPU")
INSTALL = {"tensorflow": "tensorflow-cpu (installed by make)", "jax": "pip install 'jax[cpu]'"
           " (dev extra), GPU: pip install -e '.[jax-cuda]'",
           "torch": "pip install -e '.[torch]' (CPU build: pip install torch --index-url "
                    "https://download.pytorch.org/whl/cpu)"}
POLICIES = ("mixed_float16", "mixed_bfloat16")
#: compute capability from which ``mixed_precision: true`` picks bfloat16 (Hopper, sm_90)
BFLOAT16_FROM = (9, 0)


class BackendError(RuntimeError):
    """The requested backend cannot be used in this process (not installed, or Keras was
    already imported with another backend)."""


def backend_errors(cfg: Mapping[str, Any]) -> list[str]:
    """Params check (no import): ``training.backend`` is installed. Unknown names are the
    schema's to report."""
    name = cfg.get("training", {}).get("backend", DEFAULT)
    if name in BACKENDS and importlib.util.find_spec(name) is None:
        return [f"training.backend: {name!r} is not installed in this environment (no module "
                f"{name!r}); install it ({INSTALL[name]}) or choose one of "
                f"{[b for b in BACKENDS if importlib.util.find_spec(b) is not None]}"]
    return []


def select(name: str | None = None, deterministic: bool = False,
           onednn: bool | None = None) -> str:
    """Make ``name`` the Keras backend of this process; call it before Keras is imported.

    Args:
        name: ``tensorflow``, ``jax`` or ``torch``; ``None``: ``$KERAS_BACKEND``, else
            TensorFlow.
        deterministic: JAX on GPU: ``--xla_gpu_deterministic_ops``; PyTorch on GPU: cuBLAS'
            deterministic workspace (``CUBLAS_WORKSPACE_CONFIG``).
        onednn: TensorFlow only: its oneDNN CPU kernels on or off (``TF_ENABLE_ONEDNN_OPTS``);
            ``None`` leaves the setting. Measured (BENCHMARKS.md T1): 2-6x faster training of
            the conv models on a 2-core CPU, op determinism kept.

    Returns:
        The backend name.

    Raises:
        BackendError: unknown name, or Keras already imported with another backend.
    """
    name = name or os.environ.get(ENV) or DEFAULT
    if name not in BACKENDS:
        raise BackendError(f"Keras backend {name!r} is not supported; expected one of "
                           f"{list(BACKENDS)}")
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if current != name:
            raise BackendError(f"Keras backend {name!r} requested, but Keras was already "
                               f"imported with backend {current!r} in this process (Keras "
                               "fixes its backend at import); run the step in a new process")
        return name
    os.environ[ENV] = name
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)  # "no TPU" notices
    if name == "tensorflow" and onednn is not None and "tensorflow" not in sys.modules:
        os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if onednn else "0"
    flags = os.environ.get("XLA_FLAGS", "").split()
    if name == "jax" and deterministic and "--xla_gpu_deterministic_ops=true" not in flags:
        os.environ["XLA_FLAGS"] = " ".join([*flags, "--xla_gpu_deterministic_ops=true"])
    if name == "torch" and deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    return name


@dataclass(frozen=True)
class Setup:
    """What :func:`configure` decided for this process."""

    backend: str
    precision: str  # Keras dtype policy: float32, mixed_float16 or mixed_bfloat16
    jit_compile: bool  # what to pass to ``Model.compile``
    devices: tuple[str, ...]  # e.g. ("cpu",) or ("gpu:0", "gpu:1")
    scope: Callable[[], Any]  # context manager to build and compile models in

    def describe(self) -> dict[str, Any]:
        """The metadata entries (``metadata.json``) of this set-up."""
        return {"backend": self.backend, "precision": self.precision,
                "jit_compile": self.jit_compile, "devices": list(self.devices)}


def configure(threads: int | None = None, seed: int = 0, deterministic: bool = True,
              mixed_precision: bool | str = False, jit_compile: bool = False) -> Setup:
    """Configure Keras on the selected backend (:func:`select`) for one training or inference
    process.

    Args:
        threads: intra-op threads (the Snakemake rule's ``threads``); ``None``: the backend's
            default (all cores).
        seed: seeds Python, numpy and the backend (``keras.utils.set_random_seed``).
        deterministic: repeatable kernels: TensorFlow's op determinism (bitwise-repeatable
            training on CPU; ops without a deterministic kernel raise), PyTorch's
            ``use_deterministic_algorithms``; JAX's CPU kernels are deterministic as they are.
        mixed_precision: ``False`` (float32), ``"mixed_float16"``, ``"mixed_bfloat16"``, or
            ``True``: bfloat16 on a GPU of compute capability >= 9.0 (Hopper), else float16
            (docs/workflow.md "GPU notes"). Every model's last layer stays float32.
        jit_compile: TensorFlow: XLA; PyTorch: ``torch.compile``. JAX always compiles each
            step with ``jax.jit`` (without it, JAX dispatches op by op).

    Returns:
        The :class:`Setup`; several GPUs are used through ``tf.distribute.MirroredStrategy``
        (its scope in ``Setup.scope``) or ``keras.distribution.DataParallel`` (JAX); PyTorch
        trains on one GPU.
    """
    import keras

    name = keras.backend.backend()
    if name == "jax" and threads:
        _jax_cpu_threads(int(threads))
    gpus, capability = _gpus(name)
    _threads_and_determinism(name, threads, deterministic)
    keras.utils.set_random_seed(int(seed))
    precision = _policy(mixed_precision, bool(gpus), capability)
    keras.mixed_precision.set_global_policy(precision)
    scope: Callable[[], Any] = contextlib.nullcontext
    if len(gpus) > 1 and name == "tensorflow":
        import tensorflow as tf

        scope = tf.distribute.MirroredStrategy().scope
    elif len(gpus) > 1 and name == "jax":
        keras.distribution.set_distribution(keras.distribution.DataParallel(
            devices=keras.distribution.list_devices("gpu")))
    elif len(gpus) > 1:
        log.warning("%d GPUs visible: Keras' PyTorch backend trains on one; use jax or "
                    "tensorflow for several", len(gpus))
    jit = True if name == "jax" else bool(jit_compile)
    return Setup(name, precision, jit, tuple(gpus) or ("cpu",), scope)


def _jax_cpu_threads(threads: int) -> None:
    """Size JAX's CPU thread pools to ``threads``. XLA sizes them from the CPU affinity mask
    when the CPU client starts (``XLA_FLAGS`` no longer limits them, measured with JAX 0.10),
    so the mask is narrowed while the client starts, then every thread gets the whole mask
    back (nothing stays pinned: two 1-thread trainings side by side use both cores). No
    effect when the client already runs in this process."""
    import jax

    allowed = os.sched_getaffinity(0)
    if threads >= len(allowed):
        return
    os.sched_setaffinity(0, sorted(allowed)[:threads])
    try:
        jax.devices("cpu")
    finally:
        for tid in os.listdir("/proc/self/task"):
            with contextlib.suppress(OSError):  # a thread that ended meanwhile
                os.sched_setaffinity(int(tid), allowed)


def _gpus(name: str) -> tuple[list[str], tuple[int, int] | None]:
    """``(["gpu:0", ...], compute capability of the first)`` as the backend sees them."""
    if name == "tensorflow":
        import tensorflow as tf

        found = tf.config.list_physical_devices("GPU")
        cc = tf.config.experimental.get_device_details(found[0]).get("compute_capability") \
            if found else None
    elif name == "jax":
        import jax

        found = [d for d in jax.devices() if d.platform == "gpu"]
        text = getattr(found[0], "compute_capability", None) if found else None
        cc = tuple(int(p) for p in str(text).split(".")[:2]) if text else None
    else:
        import torch

        found = list(range(torch.cuda.device_count()))
        cc = torch.cuda.get_device_capability(0) if found else None
    return [f"gpu:{i}" for i in range(len(found))], (tuple(cc) if cc else None)


def _policy(mixed: bool | str, gpu: bool, capability: Sequence[int] | None) -> str:
    """The dtype policy of ``training.mixed_precision`` (see :func:`configure`)."""
    if mixed in POLICIES:
        return str(mixed)
    if not mixed:
        return "float32"
    hopper = gpu and capability is not None and tuple(capability) >= BFLOAT16_FROM
    return "mixed_bfloat16" if hopper else "mixed_float16"


def _threads_and_determinism(name: str, threads: int | None, deterministic: bool) -> None:
    if name == "tensorflow":
        import tensorflow as tf

        if threads:
            try:
                tf.config.threading.set_intra_op_parallelism_threads(int(threads))
                tf.config.threading.set_inter_op_parallelism_threads(min(2, int(threads)))
            except RuntimeError:  # already initialised in this process
                pass
        if deterministic:
            tf.config.experimental.enable_op_determinism()
    elif name == "torch":
        import torch

        if threads:
            torch.set_num_threads(int(threads))
            with contextlib.suppress(RuntimeError):  # only before the first parallel work
                torch.set_num_interop_threads(min(2, int(threads)))
        torch.use_deterministic_algorithms(bool(deterministic))
        torch.backends.cudnn.benchmark = not deterministic


def versions() -> dict[str, str]:
    """Versions of the libraries that decide numerical results (for metadata and the report):
    Python, numpy, scipy, the backend's library and Keras."""
    import platform

    import keras
    import numpy
    import scipy

    name = keras.backend.backend()
    lib = importlib.import_module(name)
    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, name: lib.__version__, "keras": keras.__version__}


# --------------------------------------------------------------------------- GAN steps
# The seed-004 GAN (models/gan.py) takes two gradients from one forward pass: the
# discriminator's loss with respect to the discriminator's variables, the generator's loss with
# respect to the generator's, both at the same point; then one MultiOptimizer (the generator's
# and the discriminator's Adam, ``gan.optimizer``) applies both. Each backend differentiates in
# its own way (keras-io's "Customizing what happens in fit()" guides for TensorFlow, JAX and
# PyTorch show the three forms).


def gan_train_step(gan: Any, *args: Any) -> Any:
    """``gan.train_step``: ``(data)`` on TensorFlow and PyTorch, ``(state, data)`` on JAX."""
    import keras

    step = {"tensorflow": _tf_train_step, "jax": _jax_train_step,
            "torch": _torch_train_step}[keras.backend.backend()]
    return step(gan, *args)


def gan_test_step(gan: Any, *args: Any) -> Any:
    """``gan.test_step``: the generator's L1 (stateless on JAX)."""
    import keras

    if keras.backend.backend() == "jax":
        return _jax_test_step(gan, *args)
    mixed, clean = args[0][:2]
    return gan.record_test(clean, gan.generator(mixed, training=False))


def _forward(gan: Any, mixed: Any, clean: Any, gate: Any) -> tuple[Any, ...]:
    denoised = gan.generator(mixed, training=True)
    p_real = gan.discriminator(clean, training=True)
    p_fake = gan.discriminator(denoised, training=True)
    return gan.losses_of(clean, denoised, p_real, p_fake, gate)


def _tf_train_step(gan: Any, data: Any) -> dict[str, Any]:
    import tensorflow as tf

    g_vars, d_vars = gan.generator.trainable_variables, gan.discriminator.trainable_variables
    with tf.GradientTape() as d_tape, tf.GradientTape() as g_tape:
        g_loss, d_loss, l1, g_adv = _forward(gan, *data[:2], gan.adversarial_on)
        g_scaled, d_scaled = gan.optimizer.scale_loss(g_loss), gan.optimizer.scale_loss(d_loss)
    grads = g_tape.gradient(g_scaled, g_vars) + d_tape.gradient(d_scaled, d_vars)
    gan.optimizer.apply(grads, g_vars + d_vars)
    return gan.record_train(l1, g_adv, d_loss)


def _torch_train_step(gan: Any, data: Any) -> dict[str, Any]:
    import torch

    g_vars, d_vars = gan.generator.trainable_variables, gan.discriminator.trainable_variables
    g_loss, d_loss, l1, g_adv = _forward(gan, *data[:2], gan.adversarial_on)
    # torch.autograd.grad rather than loss.backward(): two losses of one graph, each with
    # respect to its own network (backward would add both into the shared .grad fields)
    g_grads = torch.autograd.grad(gan.optimizer.scale_loss(g_loss), [v.value for v in g_vars],
                                  retain_graph=True)
    d_grads = torch.autograd.grad(gan.optimizer.scale_loss(d_loss), [v.value for v in d_vars])
    with torch.no_grad():
        gan.optimizer.apply([*g_grads, *d_grads], g_vars + d_vars)
    return gan.record_train(l1, g_adv, d_loss)


def _positions(outer: Sequence[Any], inner: Sequence[Any]) -> list[int]:
    """Where each variable of ``inner`` sits in ``outer`` (by identity)."""
    where = {id(v): i for i, v in enumerate(outer)}
    return [where[id(v)] for v in inner]


def _put(values: Sequence[Any], positions: Sequence[int], new: Sequence[Any]) -> list[Any]:
    out = list(values)
    for i, v in zip(positions, new, strict=True):
        out[i] = v
    return out


def _jax_parts(gan: Any) -> tuple[list[int], list[int], list[int], list[int], int]:
    """Positions of the generator's and the discriminator's trainable and non-trainable
    variables in the GAN's lists (the trainer's state), and of the adversarial gate."""
    tr, nt = gan.trainable_variables, gan.non_trainable_variables
    g, d = gan.generator, gan.discriminator
    return (_positions(tr, g.trainable_variables), _positions(tr, d.trainable_variables),
            _positions(nt, g.non_trainable_variables), _positions(nt, d.non_trainable_variables),
            _positions(nt, [gan.adversarial_on])[0])


def _jax_train_step(gan: Any, state: Sequence[Any], data: Any) -> tuple[Any, tuple[Any, ...]]:
    """Stateless: every variable comes in ``state`` (trainable, non-trainable, optimiser,
    metrics) and goes out updated. ``state[2]`` holds *both* optimisers' variables: the JAX
    trainer gathers ``gan.optimizer.variables`` only, so the GAN's optimiser is one
    ``keras.optimizers.MultiOptimizer`` over the two (models/gan.py)."""
    import jax
    import keras

    trainable, non_trainable, opt_vars, metric_vars = state
    mixed, clean = data[:2]
    gi, di, gn, dn, gate = _jax_parts(gan)
    opt_map = list(zip(gan.optimizer.variables, opt_vars, strict=True))

    def forward(g_tr: list[Any], d_tr: list[Any]) -> tuple[Any, Any]:
        denoised, g_nt = gan.generator.stateless_call(
            g_tr, [non_trainable[i] for i in gn], mixed, training=True)
        p_real, d_nt = gan.discriminator.stateless_call(
            d_tr, [non_trainable[i] for i in dn], clean, training=True)
        p_fake, d_nt = gan.discriminator.stateless_call(d_tr, d_nt, denoised, training=True)
        g_loss, d_loss, l1, g_adv = gan.losses_of(clean, denoised, p_real, p_fake,
                                               non_trainable[gate])
        with keras.StatelessScope(state_mapping=opt_map):  # a loss scale lives there
            scaled = (gan.optimizer.scale_loss(g_loss), gan.optimizer.scale_loss(d_loss))
        return scaled, (g_nt, d_nt, l1, g_adv, d_loss)

    scaled, pullback, (g_nt, d_nt, l1, g_adv, d_loss) = jax.vjp(
        forward, [trainable[i] for i in gi], [trainable[i] for i in di], has_aux=True)
    one, zero = jax.numpy.ones_like(scaled[0]), jax.numpy.zeros_like(scaled[0])
    g_grads, _ = pullback((one, zero))
    _, d_grads = pullback((zero, one))
    grads = _put(_put(trainable, gi, g_grads), di, d_grads)
    trainable, opt_vars = gan.optimizer.stateless_apply(opt_vars, grads, trainable)
    non_trainable = _put(_put(non_trainable, gn, g_nt), dn, d_nt)
    logs, metric_vars = _jax_record(gan, metric_vars, gan.record_train, l1, g_adv, d_loss)
    return logs, (trainable, non_trainable, opt_vars, metric_vars)


def _jax_test_step(gan: Any, state: Sequence[Any], data: Any) -> tuple[Any, tuple[Any, ...]]:
    trainable, non_trainable, metric_vars = state
    mixed, clean = data[:2]
    gi, _, gn, _, _ = _jax_parts(gan)
    denoised, _ = gan.generator.stateless_call(
        [trainable[i] for i in gi], [non_trainable[i] for i in gn], mixed, training=False)
    logs, metric_vars = _jax_record(gan, metric_vars, gan.record_test, clean, denoised)
    return logs, (trainable, non_trainable, metric_vars)


def _jax_record(gan: Any, metric_vars: Sequence[Any], record: Callable[..., Any],
                *args: Any) -> tuple[Any, list[Any]]:
    """``record(*args)`` (the GAN's metric updates) on the metric values of the state."""
    import keras

    refs = gan.metrics_variables
    with keras.StatelessScope(state_mapping=list(zip(refs, metric_vars, strict=True))) as scope:
        logs = record(*args)
    new = [scope.get_current_value(r) for r in refs]
    return logs, [v if n is None else n for v, n in zip(metric_vars, new, strict=True)]
