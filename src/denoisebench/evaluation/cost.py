"""What each judged method costs to run: inference time per 1,000 examples (docs/judging.md,
"Cost").

Every method is timed in the evaluation process, one after the other, with the same thread
settings (the evaluate step's ``--threads``; the Snakemake rule gives it one thread): wall
time of the call that produces its validation estimates (``time.perf_counter``), divided by
the examples it ran on, times 1,000; a method whose call takes under a quarter of a second is
called up to five times and timed by its fastest call. A learned model is called once on one
batch before it is timed (Keras traces its graph on the first call: a one-off cost, not
inference). Tuning the classical filters on training examples is not inference and is not
counted.

The times go to ``metrics/<model>/cost.json``, not ``metrics/<model>.json``: wall times differ
from run to run, and the metrics file is promised byte-identical when an evaluation is
repeated (tests/e2e/test_determinism.py)::

    {"threads": 1, "methods": {"<method>": {"infer_s_per_1000": 0.84, "examples": 1000}, ...}}
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

#: ``{method: (seconds, examples)}`` as measured
Timings = dict[str, tuple[float, int]]


#: a call faster than this (s) is repeated and the fastest kept (:func:`timed`)
QUICK_S = 0.25
#: calls of a quick method, in all
QUICK_REPEATS = 5


def timed(fn: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
          warmup: int = 0) -> tuple[np.ndarray, float]:
    """``(fn(x), wall seconds of that call)``; first, when ``warmup`` > 0, an untimed call on
    ``x[:warmup]`` (a model's graph tracing). A call under :data:`QUICK_S` is repeated, up to
    :data:`QUICK_REPEATS` calls in all, and the fastest is kept: other processes on a shared
    machine only ever add time, and a quick method is the most exposed to them."""
    if warmup > 0 and len(x):
        fn(x[:warmup])
    t0 = time.perf_counter()
    out = fn(x)
    best = time.perf_counter() - t0
    for _ in range(QUICK_REPEATS - 1 if best < QUICK_S else 0):
        t0 = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - t0)
    return out, best


def per_1000(seconds: float, examples: int) -> float | None:
    """Seconds per 1,000 examples (None for no examples), rounded to 4 significant digits."""
    if examples <= 0:
        return None
    return float(f"{1000.0 * seconds / examples:.4g}")


def threads() -> int | None:
    """TensorFlow's intra-op threads in this process (the ``--threads`` of the step; 0: TF's
    default, all cores), or None when TensorFlow is not loaded."""
    tf = sys.modules.get("tensorflow")
    if tf is None:
        return None
    try:
        return int(tf.config.threading.get_intra_op_parallelism_threads())
    except (AttributeError, RuntimeError):
        return None


def cost_json(timings: Mapping[str, tuple[float, int]]) -> str:
    """The text of ``cost.json`` (see the module doc) for ``{method: (seconds, examples)}``."""
    doc: dict[str, Any] = {"threads": threads(), "methods": {
        m: {"infer_s_per_1000": per_1000(s, n), "examples": int(n)}
        for m, (s, n) in timings.items()}}
    return json.dumps(doc, indent=1) + "\n"
