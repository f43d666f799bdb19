# Judge one model and the classical baselines on the same validation examples.


rule evaluate:
    input:
        model_dataset_manifest,
        model="models/{model}/model.keras",
        metadata="models/{model}/metadata.json",
    output:
        metrics="metrics/{model}.json",
        examples="metrics/{model}/examples.parquet",
        panels="metrics/{model}/panels.npz",
    params:
        param_keys=lambda w: param_keys("evaluate", model=w.model),
        param_values=lambda w: param_values("evaluate", model=w.model),
    conda:
        "../../environment.yml"
    log:
        "logs/evaluate/{model}.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "denoisebench evaluate --model {wildcards.model} --threads {threads} --log {log}"
