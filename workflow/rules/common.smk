# Validation, shared helpers and the overlay-params hand-over for every rule.
import hashlib
import os
from pathlib import Path

import yaml
from snakemake.utils import validate

from denoisebench import config as dbconfig
from denoisebench.data import generate as dbgen


validate(config, "../schemas/params.schema.yaml")
dbconfig.validate(config, source="snakemake config")

# Steps read params.yaml. When Snakemake runs with --configfile/--config overlays, the merged
# configuration is written once and handed to every step through DENOISEBENCH_PARAMS, so the
# shell commands stay identical to dvc.yaml's and rerun triggers follow the params values.
if config != dbconfig.read_yaml("params.yaml"):
    _text = yaml.safe_dump(dict(config), sort_keys=True)
    _merged = Path(".denoisebench") / f"params-{hashlib.sha256(_text.encode()).hexdigest()[:12]}.yaml"
    if not _merged.exists():
        from denoisebench.data.shards import atomic_write_text

        atomic_write_text(_merged, _text)
    os.environ["DENOISEBENCH_PARAMS"] = str(_merged)
else:
    os.environ.pop("DENOISEBENCH_PARAMS", None)


def param_keys(step, **wildcards):
    """The params keys a step reads (DVC lists them; Snakemake reruns when their values change)."""
    return dbconfig.rule_param_keys(step, config, **wildcards)


def param_values(step, **wildcards):
    return {k: dbconfig.get(config, k) for k in param_keys(step, **wildcards)}


def dataset_shards(wildcards):
    ds = config["datasets"][wildcards.dataset]
    return [str(p) for p in dbgen.expected_shards(ds, dbgen.dataset_root(wildcards.dataset))]


def model_dataset_manifest(wildcards):
    return f"data/{config['models'][wildcards.model]['dataset']}/manifest.json"
