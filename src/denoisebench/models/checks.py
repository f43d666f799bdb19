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


def no_errors(p: str, model: Mapping[str, Any], ds: Mapping[str, Any]) -> list[str]:
    """The kind has no checks of its own beyond the schema."""
    return []
