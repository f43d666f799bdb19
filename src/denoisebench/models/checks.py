"""Params checks of the model kinds (no Keras import: they run when params are validated,
e.g. while Snakemake parses the workflow). Each :class:`~denoisebench.models.ModelSpec` names
its own; :func:`denoisebench.models.model_errors` asks every model of a configuration."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def conv1d_dilation_errors(rates: Any, key: str = "dilation_rates") -> list[str]:
    """Problems with a ``conv1d_ae``'s dilation rates (empty when usable), each starting with
    ``key``: four positive integers, mirrored ``[a, b, b, a]``, so that each Conv1DTranspose
    gives back the ``(kernel_size - 1) x dilation`` samples its mirror Conv1D took off and the
    output is as long as the input. (Here, not in ``models.conv1d``: no Keras import.)"""
    rates = list(rates)
    if len(rates) != 4 or not all(isinstance(r, int) and not isinstance(r, bool) and r >= 1
                                  for r in rates):
        return [f"{key}: {rates!r}; expected 4 positive integers [a, b, b, a]"]
    if rates != rates[::-1]:
        return [f"{key}: {rates!r} is not mirrored; expected [a, b, b, a] (the decoder's "
                f"dilations mirror the encoder's, e.g. {rates[:2] + rates[1::-1]!r}) so that "
                "the output is as long as the input"]
    return []


def conv1d_encoder_shrink(rates: Sequence[int], kernel_size: int = 3) -> int:
    """Samples a ``conv1d_ae``'s encoder takes off the signal: its two valid convolutions,
    ``(kernel_size - 1) x (a + b)`` for dilation rates ``[a, b, b, a]``."""
    return (kernel_size - 1) * (int(rates[0]) + int(rates[1]))


def conv1d_errors(p: str, model: Mapping[str, Any], ds: Mapping[str, Any]) -> list[str]:
    """Checks of a ``conv1d_ae`` model (seed 000): mirrored dilations, and signals (where
    params give their length) that outlast the encoder's two valid kernel-3 convolutions."""
    rates = model["dilation_rates"]
    errors = conv1d_dilation_errors(rates, f"{p}.dilation_rates")
    shrink = conv1d_encoder_shrink(rates) if not errors else 0
    if not errors and isinstance(ds.get("length"), int) and ds["length"] <= shrink:
        errors.append(f"{p}.dilation_rates: {rates!r} shortens the signal by {shrink} samples "
                      f"in the encoder; expected signals longer than that, but the length of "
                      f"dataset {model['dataset']!r} is {ds['length']}")
    return errors


def signal_length(ds: Mapping[str, Any]) -> int | None:
    """Samples of one 1-D example of dataset ``ds``, where known before training: from params
    for a generated kind (:mod:`denoisebench.data.kinds`), from ``manifest.json`` for a folder.
    None for images, and for a folder whose manifest is unreadable (its own check says so)."""
    # imported here: data.folder imports the model registry (no import cycle)
    from ..data import kinds
    from ..data.shards import DataIntegrityError, load_manifest

    row = kinds.KINDS.get(ds.get("kind"))
    if row is None or row.modality != kinds.SIGNAL:
        return None
    if row.shape is not None:
        return int(row.shape(ds)[0])
    try:
        shape = load_manifest(ds["path"])["shape"]
    except (DataIntegrityError, OSError):
        return None
    return int(shape[0]) if len(shape) == 1 else None


def odd_kernel_errors(p: str, model: Mapping[str, Any], ds: Mapping[str, Any]) -> list[str]:
    """Checks of ``unet1d`` and ``spectral1d`` (issue 15, :mod:`.unet`, :mod:`.spectral`): an
    odd ``kernel_size`` ("same" padding centred on each sample). Both take any window length
    (the U-Net pads inside, the spectral CNN works on the DFT of the window)."""
    k = model.get("kernel_size", 3)
    if k % 2 == 0:
        return [f"{p}.kernel_size: {k} is even; expected an odd kernel (\"same\" padding "
                "centred on each sample)"]
    return []


def dncnn1d_errors(p: str, model: Mapping[str, Any], ds: Mapping[str, Any]) -> list[str]:
    """Checks of ``dncnn1d`` (issue 15, :mod:`.resnet`): an odd kernel, and enough dilated
    blocks that the receptive field covers the whole window (where its length is known,
    :func:`signal_length`)."""
    from .modern import dilation_levels, dncnn1d_dilations, dncnn1d_receptive_field

    errors = odd_kernel_errors(p, model, ds)
    length = signal_length(ds) if not errors else None
    if not length:
        return errors
    k = model.get("kernel_size", 3)
    need = dilation_levels(length, k)
    if model["depth"] < need:
        rf = dncnn1d_receptive_field(dncnn1d_dilations(length, model["depth"], k), k)
        errors.append(f"{p}.depth: {model['depth']} dilated blocks see {rf} samples, less "
                      f"than the whole {length}-sample window needs ({2 * length - 1}); "
                      f"expected depth >= {need} (dilations 1, 2, ..., {2 ** (need - 1)})")
    return errors


def no_errors(p: str, model: Mapping[str, Any], ds: Mapping[str, Any]) -> list[str]:
    """The kind has no checks of its own beyond the schema."""
    return []
