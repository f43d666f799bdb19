"""Load, merge and validate ``params.yaml``: the single source of configuration.

Structural rules (types, ranges, unknown keys) live in the JSON Schema
``workflow/schemas/params.schema.yaml``; rules that JSON Schema cannot express (a frequency
range ordered, a cutoff below Nyquist, a model bound to a dataset of the kind it needs) live
here. Both the Snakemake path (``validate`` in the Snakefile, then every step) and the DVC
path (every step) run :func:`validate`, so a ``dvc exp run -S key=value`` cannot bypass it.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_RELPATH = Path("workflow") / "schemas" / "params.schema.yaml"
DEFAULT_PARAMS = Path("params.yaml")



class ConfigError(ValueError):
    """A params file is missing, unreadable or invalid; the message names file and key path."""


def schema_path() -> Path:
    """The project's schema: ``workflow/schemas/params.schema.yaml`` below the working
    directory (steps run in the project root), else beside the package's source tree."""
    local = SCHEMA_RELPATH
    return local if local.exists() else PROJECT_ROOT / SCHEMA_RELPATH


def _schema() -> dict[str, Any]:
    with open(schema_path(), encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def deep_merge(base: Mapping[str, Any], overlay: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``base`` updated recursively by ``overlay`` (overlay wins; neither is modified)."""
    out = copy.deepcopy(dict(base))
    for key, value in overlay.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def read_yaml(path: str | Path) -> dict[str, Any]:
    """Read one YAML mapping.

    Raises:
        ConfigError: the file is missing, is not valid YAML or is not a mapping.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read params file ({exc.strerror})") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, got {type(data).__name__}")
    return data


def key_path(parts: Iterable[Any]) -> str:
    """Format a JSON path as ``models.gan.epochs`` (list indices as ``[i]``)."""
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def _schema_errors(cfg: Mapping[str, Any]) -> list[str]:
    schema = _schema()
    validator_cls = jsonschema.validators.validator_for(schema)
    validator = validator_cls(schema)
    messages = []
    for err in validator.iter_errors(cfg):
        # descend into if/then and $ref branches to the most specific message
        leaves = [err]
        while leaves and leaves[0].context:
            leaves = sorted(leaves[0].context, key=jsonschema.exceptions.relevance)
        leaf = leaves[0]
        path = key_path(leaf.absolute_path)
        if leaf.validator == "additionalProperties" and isinstance(leaf.instance, dict):
            allowed = sorted(leaf.schema.get("properties", {}))
            extra = sorted(set(leaf.instance) - set(allowed))
            messages.append(f"{path}: unknown key(s) {extra}; allowed keys: {allowed}")
        elif leaf.validator in ("enum", "const"):
            allowed = leaf.validator_value
            messages.append(f"{path}: {leaf.instance!r} is not allowed; expected one of {allowed}"
                            if leaf.validator == "enum"
                            else f"{path}: {leaf.instance!r} is not allowed; expected {allowed!r}")
        else:
            messages.append(f"{path}: {leaf.message}")
    return sorted(set(messages))


def _has_nan(value: Any, path: list[Any], out: list[str]) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        out.append(f"{key_path(path)}: {value!r} is not a finite number")
    elif isinstance(value, dict):
        for k, v in value.items():
            _has_nan(v, [*path, k], out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _has_nan(v, [*path, i], out)


#: model kinds whose input length must be a multiple of this (seed 004: 4 stride-2 blocks)
WINDOW_MULTIPLE = {"gan": 16, "gan_l1": 16}


def _folder_errors(name: str, ds: Mapping[str, Any], models: Mapping[str, Any]) -> list[str]:
    """Checks of a folder dataset (``kind: folder``; see :mod:`denoisebench.byod`): its folder
    and manifest exist (also at Snakemake parse time), the manifest's fs equals ``fs``, and its
    example length suits every model bound to it."""
    from .data.shards import DataIntegrityError, load_manifest

    p, root = f"datasets.{name}", Path(ds["path"])
    generated = Path("data").resolve()
    if generated == root.resolve() or generated in root.resolve().parents:
        return [f"{p}.path: {ds['path']!r} lies inside data/, the generated datasets' folder "
                f"(`make clean` deletes it); keep your own data elsewhere, e.g. recordings/{name}"]
    if not root.is_dir():
        where = "" if root.is_absolute() else f" (relative to {Path.cwd()})"
        return [f"{p}.path: folder {ds['path']!r} not found{where}; expected a dataset folder "
                "made by `denoisebench datasets import` or `denoisebench datasets manifest`"]
    try:
        manifest = load_manifest(root)
    except DataIntegrityError as exc:
        return [f"{p}.path: {exc}"]
    errors = []
    mfs, shape = manifest.get("fs"), manifest["shape"]
    if not isinstance(mfs, int | float) or not math.isclose(mfs, ds["fs"], rel_tol=1e-9):
        errors.append(f"{p}.fs: {ds['fs']} Hz, but {root / 'manifest.json'} records fs {mfs!r}; "
                      f"expected the same (`denoisebench datasets manifest {root} --fs HZ`)")
    if len(shape) != 1:
        errors.append(f"{p}.path: examples of shape {shape}; a folder dataset holds 1-D signals")
    for m, mp in models.items():
        if mp.get("dataset") == name and len(shape) == 1:
            errors += _modern_errors(f"models.{m}", mp, int(shape[0]))
        k = WINDOW_MULTIPLE.get(mp.get("kind"))
        if mp.get("dataset") == name and k and shape[0] % k:
            errors.append(f"models.{m}.dataset: model kind {mp['kind']!r} takes examples of a "
                          f"multiple of {k} samples; {name!r} has {shape[0]} (import again with "
                          f"`datasets import --window N`)")
    return errors


def _curve_errors(p: str, ds: Mapping[str, Any]) -> list[str]:
    """Checks of the ``quadratic`` and ``sine`` kinds (seeds 000, 001): every ``*_range`` is
    ``[low, high]`` with low <= high, and the lowpass' zero-phase padding fits the signal."""
    from .tuning import padlen

    errors = []
    for key in ("a_range", "h_range", "k_range"):
        if key in ds and ds[key][0] > ds[key][1]:
            errors.append(f"{p}.{key}: low {ds[key][0]} exceeds high {ds[key][1]}; expected "
                          "[low, high]")
    lp = ds.get("lowpass", {})
    if lp.get("design") == "butter" and ds["length"] <= padlen(lp["order"]):
        errors.append(f"{p}.lowpass.order: order {lp['order']} needs signals longer than "
                      f"{padlen(lp['order'])} samples (sosfiltfilt's padding); {p}.length is "
                      f"{ds['length']}")
    return errors


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


def _conv1d_errors(p: str, model: Mapping[str, Any], ds: Mapping[str, Any]) -> list[str]:
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


def _modern_errors(p: str, model: Mapping[str, Any], length: int | None) -> list[str]:
    """Checks of issue 15's 1-D kinds (models/resnet.py, models/unet.py): odd kernels, and a
    ``dncnn1d`` deep enough that its receptive field covers the window (``length`` samples,
    None when params do not give it). The U-Nets pad inside: any length works."""
    kind = model.get("kind")
    if kind not in ("dncnn1d", "unet1d"):
        return []
    k = model.get("kernel_size", 3)
    if k % 2 == 0:
        return [f"{p}.kernel_size: {k} is even; expected an odd kernel (\"same\" padding "
                "centred on each sample)"]
    if kind == "dncnn1d" and length:
        from .models.modern import dilation_levels, dncnn1d_dilations, dncnn1d_receptive_field

        need = dilation_levels(length, k)
        if model["depth"] < need:
            rf = dncnn1d_receptive_field(dncnn1d_dilations(length, model["depth"], k), k)
            return [f"{p}.depth: {model['depth']} dilated blocks see {rf} samples, less than "
                    f"the whole {length}-sample window needs ({2 * length - 1}); expected "
                    f"depth >= {need} (dilations 1, 2, ..., {2 ** (need - 1)})"]
    return []


def _semantic_errors(cfg: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    datasets = cfg.get("datasets", {})
    for name, ds in datasets.items():
        p = f"datasets.{name}"
        kind = ds.get("kind")
        fs = ds.get("fs")
        if kind == "multisine":
            if ds["fmin_hz"] >= ds["fmax_hz"]:
                errors.append(f"{p}.fmin_hz: {ds['fmin_hz']} must be below {p}.fmax_hz "
                              f"({ds['fmax_hz']})")
            if ds["fmax_hz"] >= fs / 2:
                errors.append(f"{p}.fmax_hz: {ds['fmax_hz']} Hz must be below Nyquist "
                              f"(fs/2 = {fs / 2} Hz)")
            if round(fs * ds["duration_s"]) < 8:
                errors.append(f"{p}.duration_s: fs * duration_s = {fs * ds['duration_s']} "
                              "samples; expected at least 8")
        if kind in ("images", "images_blur"):
            from .data.images import param_errors

            errors += param_errors(p, ds)
        if kind == "folder":
            errors += _folder_errors(name, ds, cfg.get("models", {}))
        if kind in ("quadratic", "sine"):
            errors += _curve_errors(p, ds)
        for split in ("train", "validation"):
            size, shards = ds.get(f"{split}_size"), ds.get(f"{split}_shards")
            if isinstance(size, int) and isinstance(shards, int) and shards > size:
                errors.append(f"{p}.{split}_shards: {shards} shards for {size} examples; "
                              f"expected at most {p}.{split}_size shards")
        lp = ds.get("lowpass")
        if lp and fs:
            nyq = fs / 2
            edges = ([("cutoff_hz", lp["cutoff_hz"])] if lp["design"] == "butter"
                     else [("passband_hz", lp["passband_hz"]), ("stopband_hz", lp["stopband_hz"])])
            for key, hz in edges:
                if hz >= nyq:
                    errors.append(f"{p}.lowpass.{key}: {hz} Hz must be below Nyquist "
                                  f"(fs/2 = {nyq} Hz)")
            if lp["design"] == "buttord" and lp["passband_hz"] >= lp["stopband_hz"]:
                errors.append(f"{p}.lowpass.passband_hz: {lp['passband_hz']} must be below "
                              f"stopband_hz ({lp['stopband_hz']})")
    for name, model in cfg.get("models", {}).items():
        p = f"models.{name}"
        ds_name = model.get("dataset")
        if ds_name not in datasets:
            errors.append(f"{p}.dataset: {ds_name!r} is not a dataset in params; "
                          f"expected one of {sorted(datasets)}")
            continue
        from .models import REGISTRY

        allowed = REGISTRY[model["kind"]].dataset_kinds if model.get("kind") in REGISTRY else ()
        ds_kind = datasets[ds_name].get("kind")
        if ds_kind not in allowed:
            errors.append(f"{p}.dataset: model kind {model.get('kind')!r} cannot train on dataset "
                          f"{ds_name!r} of kind {ds_kind!r}; expected a dataset of kind "
                          f"{list(allowed)}")
        if model.get("kind") == "conv1d_ae":
            errors += _conv1d_errors(p, model, datasets[ds_name])
        if ds_kind in ("multisine", "quadratic", "sine"):
            from .data.signals import signal_shape

            errors += _modern_errors(p, model, signal_shape(datasets[ds_name])[0])
        if "warmup_epochs" in model and model["warmup_epochs"] > model["epochs"]:
            errors.append(f"{p}.warmup_epochs: {model['warmup_epochs']} exceeds {p}.epochs "
                          f"({model['epochs']})")
    sweep = cfg.get("evaluation", {}).get("sweep")
    if sweep and sweep["snr_max_db"] < sweep["snr_min_db"]:
        errors.append(f"evaluation.sweep.snr_max_db: {sweep['snr_max_db']} must not be below "
                      f"evaluation.sweep.snr_min_db ({sweep['snr_min_db']})")
    return errors


def validate(cfg: Mapping[str, Any], source: str = "params") -> dict[str, Any]:
    """Validate a merged configuration; return it unchanged as a plain dict.

    Raises:
        ConfigError: listing every problem as ``<source>: <key path>: <what was expected>``.
    """
    errors: list[str] = []
    _has_nan(dict(cfg), [], errors)
    errors += _schema_errors(cfg)
    if not errors:
        errors += _semantic_errors(cfg)
    if errors:
        lines = "\n  ".join(errors)
        raise ConfigError(f"{source}: invalid parameters:\n  {lines}")
    return dict(cfg)


def load(paths: Iterable[str | Path] | None = None) -> dict[str, Any]:
    """Read ``params.yaml`` (or the given files, later ones overriding earlier), then validate.

    Raises:
        ConfigError: see :func:`read_yaml` and :func:`validate`.
    """
    paths = [Path(p) for p in (paths or [DEFAULT_PARAMS])]
    cfg: dict[str, Any] = {}
    for path in paths:
        cfg = deep_merge(cfg, read_yaml(path))
    return validate(cfg, source=" + ".join(str(p) for p in paths))


PARAMS_ENV = "DENOISEBENCH_PARAMS"


def hand_over(cfg: Mapping[str, Any], base: str | Path = DEFAULT_PARAMS,
              folder: str | Path = ".denoisebench") -> Path | None:
    """Make the steps of this workflow run see ``cfg`` (Snakemake's merged configuration).

    When ``cfg`` equals ``base`` (plain ``snakemake``), ``$DENOISEBENCH_PARAMS`` is unset and
    steps read params.yaml. Under ``--configfile``/``--config`` overlays, the merged
    configuration is written once to ``folder/params-<hash>.yaml`` (atomically) and named in
    ``$DENOISEBENCH_PARAMS``, which child processes (and cluster jobs, which re-read the
    Snakefile) inherit. Returns that file, or None.
    """
    import hashlib
    import os

    from .data.shards import atomic_write_text

    if dict(cfg) == read_yaml(base):
        os.environ.pop(PARAMS_ENV, None)
        return None
    text = yaml.safe_dump(dict(cfg), sort_keys=True)
    path = Path(folder) / f"params-{hashlib.sha256(text.encode()).hexdigest()[:12]}.yaml"
    if not path.exists():
        atomic_write_text(path, text)
    os.environ[PARAMS_ENV] = str(path)
    return path


def get(cfg: Mapping[str, Any], dotted: str) -> Any:
    """Look up ``a.b.c`` in nested mappings.

    Raises:
        ConfigError: a key on the path is missing.
    """
    node: Any = cfg
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise ConfigError(f"params: missing key {dotted!r}")
        node = node[part]
    return node


def dataset_of(cfg: Mapping[str, Any], model: str) -> tuple[str, dict[str, Any]]:
    """Return ``(dataset name, dataset params)`` that ``model`` is bound to.

    Raises:
        ConfigError: unknown model name.
    """
    if model not in cfg["models"]:
        raise ConfigError(f"params: unknown model {model!r}; expected one of "
                          f"{sorted(cfg['models'])}")
    name = cfg["models"][model]["dataset"]
    return name, cfg["datasets"][name]


def rule_param_keys(step: str, cfg: Mapping[str, Any], **wildcards: str) -> list[str]:
    """The params keys a pipeline step reads: Snakemake reruns on them, DVC lists them.

    ``step`` is one of ``generate``, ``manifest``, ``train``, ``evaluate``, ``report``.
    """
    if step in ("generate", "manifest"):
        return ["seed", f"datasets.{wildcards['dataset']}"]
    if step == "train":
        ds, _ = dataset_of(cfg, wildcards["model"])
        return ["seed", "training", f"models.{wildcards['model']}", f"datasets.{ds}"]
    if step == "evaluate":
        ds, _ = dataset_of(cfg, wildcards["model"])
        return ["seed", "evaluation", f"models.{wildcards['model']}", f"datasets.{ds}"]
    if step == "report":
        return ["seed", "evaluation"]
    raise ValueError(f"unknown step {step!r}")
