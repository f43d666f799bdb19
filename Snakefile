# denoisebench: generate shards -> train every model -> evaluate against the baselines -> report.
# The graph lives here; every rule is thin and calls `denoisebench <step>` (see src/denoisebench/cli.py).
# dvc.yaml is generated from this graph: `denoisebench export-dvc` (tests fail when it is stale).

configfile: "params.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "reports/index.html",
    default_target: True


# After every run on params.yaml, record the up-to-date jobs in dvc.lock (denoisebench.workspace):
# `dvc exp run -S key=value` then reruns only the stages the change touches.
onsuccess:
    dbworkspace.on_snakemake_finished(workflow, config)


onerror:
    dbworkspace.on_snakemake_finished(workflow, config)
