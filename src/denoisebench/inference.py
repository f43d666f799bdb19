"""The one inference path: a saved denoiser, its metadata, scaling and batched ``predict``.

A model folder holds ``model.keras`` (the denoiser alone: for a GAN, its generator) and
``metadata.json`` (fs, window length, input shape, scaling). Both evaluation and the
``denoise`` command go through :class:`Denoiser`, so they cannot disagree.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write_text

MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"


class ModelLoadError(ValueError):
    """A model folder is missing its files or its metadata is unusable."""


def scale(x: np.ndarray, scaling: Mapping[str, Any]) -> tuple[np.ndarray, Any]:
    """Apply a model's input scaling to ``x`` ``(batch, ...)``; return ``(scaled, state)``.

    ``{"kind": "none"}`` passes through; ``{"kind": "minmax"}`` maps each example to [0, 1]
    by its own min and max (seed 000) and returns them as ``state`` for :func:`unscale`.

    Raises:
        ValueError: unknown scaling kind.
    """
    kind = scaling.get("kind", "none")
    if kind == "none":
        return x, None
    if kind == "minmax":
        axes = tuple(range(1, x.ndim))
        lo = np.nanmin(x, axis=axes, keepdims=True)
        span = np.nanmax(x, axis=axes, keepdims=True) - lo
        span = np.where(span > 0, span, 1.0)
        return (x - lo) / span, (lo, span)
    raise ValueError(f"unknown scaling kind {kind!r}; expected 'none' or 'minmax'")


def unscale(y: np.ndarray, scaling: Mapping[str, Any], state: Any) -> np.ndarray:
    """Map model outputs back to signal units (inverse of :func:`scale`)."""
    if scaling.get("kind", "none") == "minmax":
        lo, span = state
        return y * span + lo
    return y


def save(model: Any, folder: Path, metadata: Mapping[str, Any]) -> None:
    """Save ``model`` and ``metadata`` into ``folder``, each atomically (temporary name, rename)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".tmp-{MODEL_FILE}"
    model.save(tmp)
    tmp.replace(folder / MODEL_FILE)
    atomic_write_text(folder / METADATA_FILE, json.dumps(dict(metadata), indent=1, sort_keys=True))


def read_metadata(folder: Path) -> dict[str, Any]:
    """Read ``folder/metadata.json``.

    Raises:
        ModelLoadError: missing or invalid, or lacking ``input_shape``/``scaling``.
    """
    path = Path(folder) / METADATA_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelLoadError(f"{path}: model metadata missing; is {folder} a trained model "
                             "folder (models/<name>)?") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelLoadError(f"{path}: unreadable model metadata ({exc})") from exc
    for key in ("input_shape", "scaling"):
        if key not in meta:
            raise ModelLoadError(f"{path}: required field {key!r} missing")
    return meta


class Denoiser:
    """A trained denoiser ready for batched inference.

    ``Denoiser(folder)(x)`` takes ``(batch, *input_shape)`` in signal units (for 1-D models
    ``(batch, time)``) and returns the same shape, denoised, in signal units (float32).
    Loading uses Keras ``safe_mode=True``: no Lambda layers or code from files.

    Raises (at construction):
        ModelLoadError: missing files, unusable metadata, a damaged model file, or a model
            that safe loading refuses (Lambda layers, unregistered custom objects).
    """

    def __init__(self, folder: str | Path, batch_size: int = 1024) -> None:
        import keras

        from .models import import_custom_layers

        import_custom_layers()
        self.folder = Path(folder)
        self.metadata = read_metadata(self.folder)
        path = self.folder / MODEL_FILE
        if not path.exists():
            raise ModelLoadError(f"{path}: model file missing")
        try:
            self.model = keras.saving.load_model(path, compile=False, safe_mode=True)
        except Exception as exc:  # Keras raises ValueError, TypeError, OSError, zip errors...
            text = str(exc)
            if "safe_mode" in text or "Lambda" in text:
                raise ModelLoadError(
                    f"{path}: refused by safe loading: the model contains Python code (e.g. a "
                    "Lambda layer); denoisebench loads models with Keras safe_mode=True and never "
                    "runs code from a model file. Build models from Keras layers or layers "
                    "registered with @keras.saving.register_keras_serializable") from exc
            first = text.strip().splitlines()[0] if text.strip() else ""
            raise ModelLoadError(f"{path}: cannot load the model ({type(exc).__name__}: "
                                 f"{first}); retrain it or restore it (`dvc checkout`)") from exc
        self.input_shape = tuple(self.metadata["input_shape"])
        self.scaling = self.metadata["scaling"]
        self.fs = self.metadata.get("fs")
        self.batch_size = batch_size

    @property
    def window(self) -> int:
        """Samples per window (1-D models): the model's fixed input length."""
        return int(self.input_shape[0])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float32)
        if x.shape[1:] != self.input_shape:
            raise ValueError(f"{self.folder}: input rows of shape {x.shape[1:]}; the model takes "
                             f"{self.input_shape}")
        if len(x) == 0:
            return x.copy()
        scaled, state = scale(x, self.scaling)
        model_in = self.metadata.get("model_input_shape", [*self.input_shape, 1])
        out = np.empty_like(scaled)
        for start in range(0, len(x), self.batch_size):
            chunk = scaled[start:start + self.batch_size]
            pred = self.model.predict_on_batch(chunk.reshape((len(chunk), *model_in)))
            out[start:start + len(chunk)] = np.asarray(pred, np.float32).reshape(chunk.shape)
        return unscale(out, self.scaling, state).astype(np.float32)
