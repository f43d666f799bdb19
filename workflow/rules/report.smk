# Render the HTML report (reports/index.html, self-contained, offline) from every model's
# metrics, panels, SNR sweep and training history. Its figures also go into Snakemake's own
# report: `snakemake --report report.html` (captions in workflow/report/*.rst).

report: "../report/workflow.rst"


rule report:
    input:
        metrics=expand("metrics/{model}.json", model=config["models"]),
        panels=expand("metrics/{model}/panels.npz", model=config["models"]),
        sweeps=expand("metrics/{model}/sweep.csv", model=SIGNAL_MODELS),
        robustness=expand("metrics/{model}/robustness.npz", model=IMAGE_MODELS),
        cost=expand("metrics/{model}/cost.json", model=config["models"]),
        history=expand("models/{model}/history.csv", model=config["models"]),
    output:
        html="reports/index.html",
        figures=report(
            directory("reports/figures"),
            patterns=["{figure}.png"],
            caption="../report/figures.rst",
            category="Figures",
            labels={"figure": "{figure}"},
        ),
    params:
        param_keys=param_keys("report"),
        param_values=param_values("report"),
        code=dbcode.fingerprint("report"),
    conda:
        "../../environment.yml"
    log:
        "logs/report.log",
    threads: 2  # the datasets' figures drawn side by side; the last job: the cores are free
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "denoisebench report --threads {threads} --log {log}"
