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
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_RELPATH = Path("workflow") / "schemas" / "params.schema.yaml"
DEFAULT_PARAMS = Path("params.yaml")



#: libyaml's safe loader where PyYAML has it (5-10x faster: the Snakefile's parse reads the
#: schema and params.yaml; BENCHMARKS.md, O1), else PyYAML's own
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load(text)`` through :data:`SAFE_LOADER` (plain types only).

    Raises:
        yaml.YAMLError: not valid YAML.
    """
    loader = SAFE_LOADER(text)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


class ConfigError(ValueError):
    """A params file is missing, unreadable or invalid; the message names file and key path."""


def schema_path() -> Path:
    """The project's schema: ``workflow/schemas/params.schema.yaml`` below the working
    directory (steps run in the project root), else beside the package's source tree."""
    local = SCHEMA_RELPATH
    return local if local.exists() else PROJECT_ROOT / SCHEMA_RELPATH


def _schema() -> dict[str, Any]:
    with open(schema_path(), encoding="utf-8") as fh:
        return safe_load(fh.read())


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
        data = safe_load(text)
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


def _semantic_errors(cfg: Mapping[str, Any]) -> list[str]:
    """What JSON Schema cannot express, asked of each owner: every dataset's kind
    (:mod:`denoisebench.data.kinds`) and lowpass baseline
    (:mod:`denoisebench.evaluation.lowpass`), every model's spec
    (:func:`denoisebench.models.model_errors`), the SNR sweep's range, and an installed
    ``training.backend`` (:mod:`denoisebench.backend`)."""
    from .backend import backend_errors
    from .data.kinds import dataset_errors
    from .evaluation.lowpass import lowpass_errors, padlen_errors
    from .models import model_errors

    errors: list[str] = []
    for name, ds in cfg.get("datasets", {}).items():
        p = f"datasets.{name}"
        errors += dataset_errors(name, ds, cfg)
        errors += padlen_errors(p, ds)
        errors += lowpass_errors(p, ds)
    errors += model_errors(cfg)
    sweep = cfg.get("evaluation", {}).get("sweep")
    if sweep and sweep["snr_max_db"] < sweep["snr_min_db"]:
        errors.append(f"evaluation.sweep.snr_max_db: {sweep['snr_max_db']} must not be below "
                      f"evaluation.sweep.snr_min_db ({sweep['snr_min_db']})")
    return errors + backend_errors(cfg)


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
        hint = ("\n(Snakemake reads every path after --configfile as a config file: name the "
                "targets before it, `snakemake TARGET ... --configfile FILE`)"
                if source == "snakemake config"
                and any(e.startswith("<top level>: unknown key") for e in errors) else "")
        raise ConfigError(f"{source}: invalid parameters:\n  {lines}{hint}")
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

    from .atomic import atomic_write_text

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
