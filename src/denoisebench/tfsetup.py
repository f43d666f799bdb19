"""TensorFlow process set-up: quiet logs, threads, determinism, precision, device strategy.

Import this module before TensorFlow: it sets ``TF_CPP_MIN_LOG_LEVEL`` and
``TF_ENABLE_ONEDNN_OPTS`` (docs/workflow.md: silences the start-up lines).
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def select_onednn(enabled: bool) -> bool:
    """Turn TensorFlow's oneDNN CPU kernels on or off for this process; must run before
    TensorFlow is imported (returns False, changing nothing, if it already is).

    Training turns it on for every model kind (``ModelSpec.onednn``). Measured on a 2-core
    CPU (BENCHMARKS.md): one epoch of the seed-004 GAN streaming 24,000 multisine signals took
    23.7 s with oneDNN against 95-147 s without; seed 000's conv AE about 4x and seed 002's conv
    AE about 2x faster, the recurrent models 10-20 %. Op determinism still gives identical
    weights (tests/e2e/test_determinism.py: every model kind, at 1 and 2 threads).
    Other processes (evaluation, ``denoise``) keep it off by default: TensorFlow 2.21 prints an
    unsilenceable start-up line when it is on.
    """
    import sys

    if "tensorflow" in sys.modules:
        return False
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if enabled else "0"
    return True


def configure(
    threads: int | None = None,
    seed: int = 0,
    deterministic: bool = True,
    mixed_precision: bool = False,
) -> Any:
    """Configure TensorFlow/Keras for one training or inference process.

    Args:
        threads: intra-op threads (the Snakemake rule's ``threads``); ``None`` keeps TF's default.
        seed: seeds Python, numpy and TF through ``keras.utils.set_random_seed``.
        deterministic: ``tf.config.experimental.enable_op_determinism`` (bitwise-repeatable
            training on CPU, docs/workflow.md; ops without a deterministic kernel raise).
        mixed_precision: the ``mixed_float16`` global policy (GPU; outputs stay float32).

    Returns:
        A ``tf.distribute`` strategy: ``MirroredStrategy`` over all GPUs when more than one is
        visible, otherwise the default strategy.
    """
    import keras
    import tensorflow as tf

    if threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(threads))
            tf.config.threading.set_inter_op_parallelism_threads(min(2, int(threads)))
        except RuntimeError:  # already initialised in this process
            pass
    keras.utils.set_random_seed(int(seed))
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def versions() -> dict[str, str]:
    """Versions of the libraries that decide numerical results (for metadata and the report)."""
    import platform

    import keras
    import numpy
    import scipy
    import tensorflow as tf

    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
    }
