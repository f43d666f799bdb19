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

Values are stored as ``.npz`` files read with ``allow_pickle=False``: the arrays, plus the
nesting (mappings, sequences, tuples) and the scalars, with their numpy types, as JSON; nothing
is unpickled. The store is this workspace's private state (like Snakemake's ``.snakemake/``),
each file written atomically. ``make clean`` removes it; ``DENOISEBENCH_EVAL_CACHE=0`` turns
it off.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import zipfile
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


#: the entry of a stored ``.npz`` that holds the value's JSON tree
TREE = "__tree__"


def _encode(value: Any, arrays: dict[str, np.ndarray]) -> Any:
    """``value`` as a JSON tree; its arrays go to ``arrays`` (referenced by name).

    Raises:
        TypeError: a type the store does not keep (the value is then computed, not stored).
    """
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays are not stored")
        name = f"a{len(arrays)}"
        arrays[name] = value
        return {"nd": name}
    if isinstance(value, np.generic):
        return {"np": value.dtype.str, "v": value.item()}
    if isinstance(value, bool | int | float | str) or value is None:
        return {"py": value}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("mapping keys must be strings")
        return {"map": {k: _encode(v, arrays) for k, v in value.items()}}
    if isinstance(value, tuple | list):
        return {"tuple" if isinstance(value, tuple) else "list":
                [_encode(v, arrays) for v in value]}
    raise TypeError(f"{type(value).__name__} is not stored")


def _decode(node: Mapping[str, Any], arrays: Any) -> Any:
    """The value of a JSON tree written by :func:`_encode`."""
    if "nd" in node:
        return arrays[node["nd"]]
    if "np" in node:
        return np.dtype(node["np"]).type(node["v"])
    if "py" in node:
        return node["py"]
    if "map" in node:
        return {k: _decode(v, arrays) for k, v in node["map"].items()}
    if "tuple" in node:
        return tuple(_decode(v, arrays) for v in node["tuple"])
    return [_decode(v, arrays) for v in node["list"]]


def dumps(value: Any) -> bytes:
    """``value`` (arrays, numpy and Python scalars, str-keyed mappings, lists, tuples) as the
    bytes of an ``.npz`` file.

    Raises:
        TypeError: a type the store does not keep.
    """
    arrays: dict[str, np.ndarray] = {}
    tree = json.dumps(_encode(value, arrays))
    buf = io.BytesIO()
    np.savez(buf, **arrays, **{TREE: np.frombuffer(tree.encode(), np.uint8)})
    return buf.getvalue()


def loads(blob: bytes) -> Any:
    """The value of :func:`dumps`'s bytes, read with ``allow_pickle=False``.

    Raises:
        ValueError, OSError, KeyError, zipfile.BadZipFile: not such a file.
    """
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    tree = json.loads(arrays.pop(TREE).tobytes().decode())
    return _decode(tree, arrays)


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
        path = self.root / f"{digest(self.salt, key)}.npz"
        try:
            value = loads(path.read_bytes())
            self.hits += 1
            return value
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError,
                zipfile.BadZipFile) as exc:
            log.warning("%s: unreadable shared result (%s); computing it again", path, exc)
        value = compute()
        self.misses += 1
        try:
            blob = dumps(value)
        except TypeError as exc:  # not storable: computed each time
            log.warning("shared result of %s not stored (%s)", key[0], exc)
            return value
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
