"""Training speed settings: TensorFlow's oneDNN kernels on vs off (T1), and two 1-thread
training jobs side by side vs one 2-thread job after the other (T2), on 2 CPU cores.

    python benchmarks/bench_training.py                  # default params' datasets, 2 epochs
    python benchmarks/bench_training.py --keep DIR       # keep / reuse the prepared copy in DIR
    python benchmarks/bench_training.py --quick          # tiny params (smoke test)

Preparation: the working tree's files are copied (as ``bench_overhead.py`` does; with
``--quick`` ``configs/tiny.yaml`` is merged into params.yaml) and Snakemake generates the
datasets of the measured models. Every measurement is a fresh ``denoisebench train`` process
(the real training path: streaming shards, callbacks, saving), so TensorFlow's process-wide
settings cannot leak between sides.

- T1: per model, the **last epoch's** time as the training log reports it (excludes TensorFlow's
  start-up and the first epoch's tracing) with ``ModelSpec.onednn`` patched on and off in the
  child; sides interleaved, median of the rounds; ratio = off / on (> 1: oneDNN is faster).
- T2: wall time of ``bigru`` + ``conv2d_ae`` (whole processes) trained one after the other with
  ``--threads 2`` vs at the same time with ``--threads 1`` each; ratio = serial / side by side
  (> 1: the rule's ``threads: 1`` gives more throughput).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
from bench_overhead import ENV, copy_repo, sh  # noqa: E402

#: model -> dataset it trains on (default params)
T1_MODELS = {"conv1d_ae": "quadratic", "bigru": "sine", "conv2d_ae": "images",
             "gan_l1": "multisine"}
T2_PAIR = ("bigru", "conv2d_ae")

CHILD = r"""
import dataclasses, sys
import yaml
import denoisebench.models as M
name, onednn, out, overlay, threads = sys.argv[1:6]
kind = yaml.safe_load(open("params.yaml"))["models"][name]["kind"]
M.REGISTRY[kind] = dataclasses.replace(M.REGISTRY[kind], onednn=onednn == "1")
from denoisebench import cli
sys.exit(cli.main(["train", "--model", name, "--params", "params.yaml", "--params", overlay,
                   "--out", out, "--threads", threads, "--log", out + ".log"]))
"""
EPOCH = re.compile(r"epoch (\d+)/(\d+) \(([0-9.]+) s\)")


def train(repo: Path, work: Path, model: str, epochs: int, onednn: bool = True,
          threads: int = 1) -> subprocess.Popen:
    """Start one training process; its log is ``<out>.log``."""
    out = Path(tempfile.mkdtemp(prefix=f"{model}-", dir=work)) / "model"
    overlay = out.parent / "epochs.yaml"
    overlay.write_text(f"models: {{{model}: {{epochs: {epochs}}}}}\n")
    return subprocess.Popen([sys.executable, "-c", CHILD, model, "1" if onednn else "0",
                             str(out), str(overlay), str(threads)], cwd=repo, env=ENV,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> Path:
    _, err = proc.communicate()
    log = Path(proc.args[5] + ".log")  # [python, -c, CHILD, model, onednn, out, ...]
    if proc.returncode:
        raise SystemExit(f"training failed ({proc.returncode}): {err[-2000:]}\n"
                         f"{log.read_text()[-2000:] if log.exists() else ''}")
    return log


def last_epoch_seconds(log: Path) -> float:
    times = [float(m.group(3)) for m in EPOCH.finditer(log.read_text())]
    if not times:
        raise SystemExit(f"{log}: no epoch times in the training log")
    return times[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny params (smoke test)")
    ap.add_argument("--keep", type=Path, help="prepared copy to keep / reuse")
    ap.add_argument("--epochs", type=int, default=None, help="epochs per T1 run (2)")
    ap.add_argument("--repeats", type=int, default=None, help="rounds (3; --quick 1)")
    ap.add_argument("--models", default=",".join(T1_MODELS), help="T1 models, comma-separated")
    a = ap.parse_args()
    epochs = a.epochs or (1 if a.quick else 2)
    repeats = a.repeats or (1 if a.quick else 3)
    models = [m for m in a.models.split(",") if m]
    unknown = sorted(set(models) - set(T1_MODELS))
    if unknown:
        raise SystemExit(f"--models: unknown {unknown}; expected some of {sorted(T1_MODELS)}")
    C.header("bench_training")
    repo = a.keep or Path(tempfile.mkdtemp(prefix="bench-training-"))
    if not (repo / ".prepared").exists():
        repo.mkdir(parents=True, exist_ok=True)
        copy_repo(repo, tiny=a.quick)
        datasets = sorted({T1_MODELS[m] for m in models} | {T1_MODELS[m] for m in T2_PAIR})
        print(f"# preparing: snakemake --cores 2 for {datasets}", flush=True)
        sh(repo, "snakemake", "--cores", "2", *(f"data/{d}/manifest.json" for d in datasets))
        (repo / ".prepared").write_text("ok\n")
    work = Path(tempfile.mkdtemp(prefix="runs-", dir=repo))
    try:
        for model in models:
            runs: dict[str, list[float]] = {"on": [], "off": []}
            for r in range(repeats):
                for side in (("on", "off") if r % 2 == 0 else ("off", "on")):
                    log = finish(train(repo, work, model, epochs, onednn=side == "on"))
                    runs[side].append(last_epoch_seconds(log))
            on, off = C.median(runs["on"]), C.median(runs["off"])
            C.ratio(f"training.onednn_speedup.{model}", off / on, "report",
                    f"epoch {epochs}/{epochs}: off {C.fmt_runs(runs['off'])} s, "
                    f"on {C.fmt_runs(runs['on'])} s")
        serial: list[float] = []
        side_by_side: list[float] = []
        for r in range(repeats):
            for side in (("serial", "side") if r % 2 == 0 else ("side", "serial")):
                t0 = time.perf_counter()
                if side == "serial":
                    for model in T2_PAIR:
                        finish(train(repo, work, model, epochs, threads=2))
                    serial.append(time.perf_counter() - t0)
                else:
                    for proc in [train(repo, work, m, epochs, threads=1) for m in T2_PAIR]:
                        finish(proc)
                    side_by_side.append(time.perf_counter() - t0)
        C.ratio("training.side_by_side_1thread_vs_serial_2thread", C.median(serial)
                / C.median(side_by_side), "report",
                f"{' + '.join(T2_PAIR)}, {epochs} epochs each: serial (2 threads) "
                f"{C.fmt_runs(serial)} s, side by side (1 thread each) "
                f"{C.fmt_runs(side_by_side)} s")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if a.keep is None:
            shutil.rmtree(repo, ignore_errors=True)
    C.footer()


if __name__ == "__main__":
    main()
