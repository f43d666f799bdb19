"""Results shared by the evaluations of one dataset's models (docs/judging.md, "Shared
baseline results").

Every model of a dataset is judged against the same classical baselines and references on
the same validation examples, so their tuning, their estimates, their SNR-sweep estimates
and BM3D's subset rows are the same for every model. The first evaluate job of a dataset
computes them; the others read them back from a content-addressed store under
``.denoisebench/cache/evaluation/``. On the default params this saves about 350 s of the
2-core run (BENCHMARKS.md, "W1").

A value's key is a sha256 of everything it depends on: the package's evaluation code
(:func:`denoisebench.codedeps.fingerprint`), the dataset's ``manifest.json`` (the sha256 of
every shard), the dataset's params, ``evaluation`` and ``seed``, the versions of the numerical
libraries, and the call's own inputs (arrays by dtype, shape and bytes; settings by value). A
change to any of them misses the store, so a cached value is always the one the computation
would give: the metrics files are byte-identical with and without the store (tested). A
baseline's inference time is the one measured when its estimate was computed, in an evaluate
job with the same thread settings.

Values are pickled: the store is this workspace's private state (like Snakemake's
``.snakemake/``), written only by this module, each file atomically. ``make clean`` removes
it; ``DENOISEBENCH_EVAL_CACHE=0`` turns it off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
from collections.abc import Callable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ..atomic import atomic_write_bytes

log = logging.getLogger(__name__)

#: ``0`` turns the store off (every evaluation computes everything itself)
ENV = "DENOISEBENCH_EVAL_CACHE"
#: where the store lives, relative to the project folder (the step's working directory)
ROOT = Path(".denoisebench/cache/evaluation")
#: libraries whose version is part of every key
LIBRARIES = ("numpy", "scipy", "scikit-image", "PyWavelets", "bm3d")

T = TypeVar("T")


def _feed(h: Any, value: Any) -> None:
    """Feed ``value`` into hash ``h`` unambiguously (type-tagged, length-prefixed)."""
    if isinstance(value, np.ndarray):
        a = np.ascontiguousarray(value)
        h.update(f"nd{a.dtype.str}{a.shape}".encode())
        h.update(a.view(np.uint8).reshape(-1).data if a.size else b"")
    elif isinstance(value, Mapping):
        h.update(f"map{len(value)}".encode())
        for k in sorted(value, key=str):
            _feed(h, str(k))
            _feed(h, value[k])
    elif isinstance(value, list | tuple):
        h.update(f"seq{len(value)}".encode())
        for v in value:
            _feed(h, v)
    else:  # str, int, float (repr is exact), bool, None, numpy scalars
        text = f"{type(value).__name__}:{value!r}"
        h.update(f"{len(text)}:{text}".encode())


def digest(*parts: Any) -> str:
    """sha256 (hex) of ``parts`` (arrays, mappings, sequences, scalars)."""
    h = hashlib.sha256()
    _feed(h, parts)
    return h.hexdigest()


def _versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            out[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            out[lib] = None
    return out


class SharedResults:
    """The store of one dataset's shared evaluation results.

    Args:
        salt: what every value of this dataset depends on (see the module doc);
            :meth:`for_dataset` builds it.
        root: folder of the store (default :data:`ROOT`); ``None`` with ``enabled=False``.
        enabled: default: ``$DENOISEBENCH_EVAL_CACHE`` is not ``0``.
    """

    def __init__(self, salt: str, root: Path | None = None, enabled: bool | None = None):
        self.salt = salt
        self.root = Path(root) if root is not None else ROOT
        self.enabled = os.environ.get(ENV, "1") != "0" if enabled is None else enabled
        self.hits = 0
        self.misses = 0

    @classmethod
    def for_dataset(cls, cfg: Mapping[str, Any], ds_name: str, ds: Mapping[str, Any],
                    manifest_path: Path) -> SharedResults:
        """The store for dataset ``ds_name``: its salt covers the evaluation code, the
        manifest's bytes, the dataset's params, ``evaluation``, ``seed`` and library versions.

        Raises:
            OSError: the manifest cannot be read.
        """
        from .. import codedeps

        salt = digest("denoisebench-shared-v1", codedeps.fingerprint("evaluate"),
                      hashlib.sha256(Path(manifest_path).read_bytes()).hexdigest(),
                      ds_name, json.dumps(ds, sort_keys=True, default=str),
                      json.dumps(cfg["evaluation"], sort_keys=True, default=str),
                      int(cfg["seed"]), _versions())
        return cls(salt)

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        """The value stored under ``key`` (hashed with the salt), else ``compute()``, stored.

        ``compute`` must be a pure function of ``key`` and the salt. An unreadable or
        truncated entry is recomputed and replaced.
        """
        if not self.enabled:
            return compute()
        path = self.root / f"{digest(self.salt, key)}.pkl"
        try:
            with open(path, "rb") as f:
                value = pickle.load(f)
            self.hits += 1
            return value
        except FileNotFoundError:
            pass
        except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ValueError) as exc:
            log.warning("%s: unreadable shared result (%s); computing it again", path, exc)
        value = compute()
        self.misses += 1
        blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            atomic_write_bytes(path, lambda tmp: tmp.write_bytes(blob))
        except OSError as exc:  # a read-only or full disk only costs the saving
            log.warning("%s: cannot store a shared result (%s)", path, exc)
        return value

    def estimator(self, name: str, settings: Mapping[str, Any],
                  fn: Callable[[np.ndarray, np.ndarray], np.ndarray],
                  ) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
        """``fn(x, rows)`` of method ``name`` with ``settings``, its results shared: for a
        method whose estimate depends only on ``x``, ``rows``, its settings and the dataset."""
        def shared_fn(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
            return self.get(("estimate", name, dict(settings), x, np.asarray(rows)),
                            lambda: fn(x, rows))
        return shared_fn

    def summary(self) -> str:
        """``"N shared results reused, M computed"`` for the log."""
        if not self.enabled:
            return f"shared results off (${ENV}=0)"
        return (f"{self.hits} shared result(s) reused, {self.misses} computed "
                f"({self.root})")
