# Train one model on its dataset's shards (streams through tf.data; resumes after a kill).


rule train:
    input:
        model_dataset_manifest,
    output:
        model="models/{model}/model.keras",
        metadata="models/{model}/metadata.json",
        history="models/{model}/history.csv",
        dvclive=directory("models/{model}/dvclive"),
    params:
        param_keys=lambda w: param_keys("train", model=w.model),
        param_values=lambda w: param_values("train", model=w.model),
        code=dbcode.fingerprint("train"),
    conda:
        "../../environment.yml"
    log:
        "logs/train/{model}.log",
    # One thread per training job: on 2 cores two 1-thread trainings side by side finished in
    # 41-46 s what one 2-thread job after the other took 54-68 s for (bigru + conv2d_ae, 2 epochs
    # each; BENCHMARKS.md): these small models scale poorly across threads. Bigger machines:
    # `--set-threads train=N`.
    threads: 1
    priority: train_priority
    resources:
        mem_mb=4000,
        runtime=240,
        gpu=1,  # local `gpu` profile: one training job per GPU; profiles map it for Slurm
    shell:
        "denoisebench train --model {wildcards.model} --threads {threads} --log {log}"
