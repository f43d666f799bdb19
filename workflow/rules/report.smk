# Render the HTML report from every model's metrics, panels and training history.


rule report:
    input:
        metrics=expand("metrics/{model}.json", model=config["models"]),
        panels=expand("metrics/{model}/panels.npz", model=config["models"]),
        history=expand("models/{model}/history.csv", model=config["models"]),
    output:
        html="reports/index.html",
        figures=directory("reports/figures"),
    params:
        param_keys=param_keys("report"),
        param_values=param_values("report"),
    conda:
        "../../environment.yml"
    log:
        "logs/report.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "denoisebench report --log {log}"
