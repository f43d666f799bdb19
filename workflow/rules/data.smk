# One job per shard (clean, noise, mixed of one row range), gathered by the manifest.
# Data before everything else (`priority`; trainings follow, longest first, below 1000): a few
# seconds a job, and every training waits on it. Left to itself the scheduler filled free
# cores with the trainings already possible and generated the last multisine shard 7 minutes,
# the quadratic manifest 20 minutes into a 30-minute default run, so the longest trainings
# started last (BENCHMARKS.md W1).


rule generate_shard:
    output:
        clean="data/{dataset}/{split}/clean/part-{shard}{ext}",
        noise="data/{dataset}/{split}/noise/part-{shard}{ext}",
        mixed="data/{dataset}/{split}/mixed/part-{shard}{ext}",
    wildcard_constraints:
        dataset=GENERATED_DATASETS,
        split="train|validation",
        shard=r"\d{5}",
        ext=r"\.parquet|\.npy",
    params:
        param_keys=lambda w: param_keys("generate", dataset=w.dataset),
        param_values=lambda w: param_values("generate", dataset=w.dataset),
        code=dbcode.fingerprint("generate"),
    conda:
        "../../environment.yml"
    log:
        "logs/generate/{dataset}/{split}-{shard}{ext}.log",
    threads: 1
    priority: 1000
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "denoisebench generate --dataset {wildcards.dataset} --split {wildcards.split} "
        "--shard {wildcards.shard} --log {log}"


rule manifest:
    input:
        dataset_shards,
    output:
        "data/{dataset}/manifest.json",
    wildcard_constraints:
        dataset=GENERATED_DATASETS,
    params:
        param_keys=lambda w: param_keys("manifest", dataset=w.dataset),
        param_values=lambda w: param_values("manifest", dataset=w.dataset),
        code=dbcode.fingerprint("manifest"),
    conda:
        "../../environment.yml"
    log:
        "logs/manifest/{dataset}.log",
    threads: 1
    priority: 1000
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "denoisebench manifest --dataset {wildcards.dataset} --log {log}"
