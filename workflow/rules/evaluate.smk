# Judge one model, the classical baselines and the reference bounds on the same validation
# examples (denoisebench.evaluation.evaluate dispatches on the dataset's modality). 1-D models
# also get the SNR sweep (denoisebench.evaluation.sweep), which needs the model itself and so
# belongs here; image models get seed 003's robustness figure instead. cost.json: every method's
# inference time (wall time: the one output that differs between two runs).
# `priority`: an evaluation starts as soon as its model is trained, before the trainings still
# queued (they are below 1000). Left after them, the evaluations all ran at the end, two of one
# dataset side by side, each computing the baselines the shared store would have given the
# second (BENCHMARKS.md W1).
from denoisebench import evaluation as dbeval

SIGNAL_MODELS = dbeval.models_of(config, images=False)
IMAGE_MODELS = dbeval.models_of(config, images=True)


rule evaluate:
    input:
        model_dataset_manifest,
        model="models/{model}/model.keras",
        metadata="models/{model}/metadata.json",
    output:
        metrics="metrics/{model}.json",
        examples="metrics/{model}/examples.parquet",
        panels="metrics/{model}/panels.npz",
        sweep="metrics/{model}/sweep.csv",
        cost="metrics/{model}/cost.json",
    wildcard_constraints:
        model=dbeval.any_of(SIGNAL_MODELS),
    params:
        param_keys=lambda w: param_keys("evaluate", model=w.model),
        param_values=lambda w: param_values("evaluate", model=w.model),
        dvc_plots=lambda w: dbeval.sweep_plot(config, w.model),
        code=dbcode.fingerprint("evaluate"),
    conda:
        "../../environment.yml"
    log:
        "logs/evaluate/{model}.log",
    threads: 1
    priority: 1000
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "denoisebench evaluate --model {wildcards.model} --threads {threads} --log {log}"


# Image models: the same step with seed 003's robustness figure in place of the SNR sweep.
use rule evaluate as evaluate_images with:
    output:
        metrics="metrics/{model}.json",
        examples="metrics/{model}/examples.parquet",
        panels="metrics/{model}/panels.npz",
        robustness="metrics/{model}/robustness.npz",
        cost="metrics/{model}/cost.json",
    wildcard_constraints:
        model=dbeval.any_of(IMAGE_MODELS),
    params:
        param_keys=lambda w: param_keys("evaluate", model=w.model),
        param_values=lambda w: param_values("evaluate", model=w.model),
        code=dbcode.fingerprint("evaluate"),
