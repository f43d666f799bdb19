# Validation, shared helpers and the overlay-params hand-over for every rule.
from snakemake.utils import validate

from denoisebench import config as dbconfig
from denoisebench.data import generate as dbgen


validate(config, "../schemas/params.schema.yaml")
dbconfig.validate(config, source="snakemake config")

# Steps read params.yaml; under --configfile/--config overlays the merged configuration is
# handed to every step instead (see denoisebench.config.hand_over), so the shell commands stay
# identical to dvc.yaml's and rerun triggers follow the params values.
dbconfig.hand_over(config)


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
