# Validation, shared helpers and the overlay-params hand-over for every rule.
import re

from snakemake.utils import validate

from denoisebench import codedeps as dbcode  # params.code: a changed package file reruns its steps
from denoisebench import config as dbconfig
from denoisebench import workspace as dbworkspace
from denoisebench import models as dbmodels
from denoisebench.data import generate as dbgen


dbconfig.validate(config, source="snakemake config")  # dotted key paths + allowed values first
validate(config, "../schemas/params.schema.yaml")

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


def train_priority(wildcards):
    """Longest trainings first (denoisebench.models.train_priority), below the data jobs' and
    the evaluations' 1000: on 2 cores the run then ends on short jobs, not on a training
    started last (BENCHMARKS.md W1)."""
    mp = config["models"][wildcards.model]
    return dbmodels.train_priority(mp, config["datasets"][mp["dataset"]])


def model_dataset_manifest(wildcards):
    """data/<dataset>/manifest.json, or <path>/manifest.json for a folder dataset (the user's
    files: a source of the graph, never an output)."""
    name = config["models"][wildcards.model]["dataset"]
    return (dbgen.resolve_root(name, config["datasets"][name]) / "manifest.json").as_posix()


# {dataset} wildcard of the generate/manifest rules: generated datasets only ("(?!)" matches
# nothing), so no rule ever claims a folder dataset's files, even below data/.
GENERATED_DATASETS = "|".join(
    re.escape(n) for n, d in config["datasets"].items() if d["kind"] != "folder"
) or "(?!)"
