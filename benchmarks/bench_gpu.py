"""GPU check: every model kind trained for a fixed number of steps under JAX and PyTorch, with
samples/s, peak GPU memory and the ratio to a 2-core CPU run of the same steps.

    python benchmarks/bench_gpu.py                       # jax and torch, seed-scale settings
    python benchmarks/bench_gpu.py --backends jax --kinds gan,gan_l1 --batch 512
    python benchmarks/bench_gpu.py --quick               # small and fast (smoke test)

Needs only Keras, numpy, scipy, pandas, pyarrow and PyYAML beside the backend (no Snakemake,
DVC, dvclive or TensorFlow on its path): it imports the project's model registry and recipes,
its data generators and its input pipeline from ``src/`` and nothing else. A GPU machine
without Keras gets it from wheels carried in the ignored ``.wheels/`` folder
(``scripts/gpu-wheels.sh`` fills it; BENCHMARKS.md "GPU" says how to run it there).

Each backend runs in its own child process (Keras fixes its backend per process): for each
model kind (one model of that kind from params.yaml, or configs/full.yaml,
overlaid by ``--configfile``, default configs/seed_scale.yaml), it generates ``(warm-up +
steps) x batch`` training rows of its dataset, compiles the kind's recipe, trains ``--warmup``
steps (compilation), then times ``--steps`` steps of ``Model.fit`` on the project's streaming
pipeline. The loss (the ``l1`` metric every kind tracks) must fall from the first steps to the
last. The CPU reference is the same measurement (``--cpu-steps`` steps) in a child limited to 2
cores with no GPU visible, for ``--cpu-kinds`` (default ``gan``) at the kind's own batch and at
``--big-batch`` (512): the ratios are measured side by side in one run, and those first, in
case ``--time-limit`` cuts the rest. Without a GPU the main figures are CPU figures, and the
script says so. It exits 1 when a kind's loss did not fall or a kind failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

KIND_SOURCES = ("params.yaml", "configs/full.yaml")
SEED = 20261126
#: rows of 28 x 28 images_blur come in 4 noisy copies per source image
ROW_MULTIPLE = {"images_blur": 4}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated recursively by ``over`` (as denoisebench.config.deep_merge, which this
    script does not import: it would need jsonschema)."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def settings(configfile: str | None) -> tuple[dict[str, Any], dict[str, tuple[str, dict]]]:
    """``(datasets, {kind: (model name, model params)})`` of params.yaml (+ the opt-in models
    of issue 15) overlaid by ``configfile``."""
    import yaml

    read = lambda rel: yaml.safe_load((ROOT / rel).read_text()) or {}  # noqa: E731
    cfg = read("params.yaml")
    for extra in KIND_SOURCES[1:]:
        for name, mp in read(extra).get("models", {}).items():
            # a partial entry (e.g. `gan: {epochs: 12}`) overrides a default model: not a kind
            if "kind" in mp and mp["kind"] not in {m["kind"] for m in cfg["models"].values()}:
                cfg["models"][name] = mp
    if configfile:
        cfg = merge(cfg, read(configfile))
    kinds: dict[str, tuple[str, dict]] = {}
    for name, mp in cfg["models"].items():
        kinds.setdefault(mp["kind"], (name, mp))
    return cfg["datasets"], kinds


def make_data(root: Path, name: str, ds: dict[str, Any], rows: int) -> Any:
    """A fresh dataset ``name`` of ``rows`` training rows (images: procedural shapes)."""
    from denoisebench.data import generate
    from denoisebench.data.shards import DatasetReader

    m = ROW_MULTIPLE.get(ds["kind"], 1)
    rows = -(-rows // m) * m
    ds = {**ds, "train_size": rows, "validation_size": 4 * m, "train_shards": 1,
          "validation_shards": 1}
    if ds["kind"] in ("images", "images_blur"):
        ds["source"] = "synthetic"
    for split in ("train", "validation"):
        generate.generate_shard(name, ds, SEED, split, 0, root)
    generate.build_manifest(name, ds, SEED, root)
    return DatasetReader(root)


class LossLog:
    """Records the ``l1`` of the first and the last ``k`` of ``total`` steps, over several
    ``fit`` calls (``offset``: steps before this call), and no other (a float() per step would
    sync the device at every step)."""

    def __init__(self, total: int, k: int = 3) -> None:
        import keras

        outer = self

        class Cb(keras.callbacks.Callback):
            def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
                step = outer.offset + batch
                if step < k or step >= total - k:
                    outer.values.append((step, float((logs or {})["l1"])))

        self.values: list[tuple[int, float]] = []
        self.callback, self.k, self.total, self.offset = Cb(), k, total, 0

    def first_last(self) -> tuple[float, float]:
        first = [v for s, v in self.values if s < self.k]
        last = [v for s, v in self.values if s >= self.total - self.k]
        return sum(first) / len(first), sum(last) / len(last)


def peak_memory(backend: str) -> int | None:
    """Peak bytes the GPU allocated in this process (None on CPU)."""
    if backend == "torch":
        import torch

        return int(torch.cuda.max_memory_allocated()) if torch.cuda.is_available() else None
    if backend == "jax":
        import jax

        dev = jax.local_devices()[0]
        stats = dev.memory_stats() if dev.platform == "gpu" else None
        return int(stats.get("peak_bytes_in_use", 0)) if stats else None
    return None


def measure(kind: str, name: str, mp: dict[str, Any], datasets: dict[str, Any], work: Path,
            batch: int, warmup: int, steps: int, setup: Any) -> dict[str, Any]:
    """Train one kind ``warmup`` then ``steps`` steps; its figures."""
    from denoisebench import models
    from denoisebench.data import pipeline

    ds = datasets[mp["dataset"]]
    mp = {**mp, "batch_size": batch, "epochs": 1}
    reader = make_data(work / name, mp["dataset"], ds, (warmup + steps) * batch)
    spec = models.spec(kind)
    total = pipeline.steps(reader, "train", batch)
    model, callbacks = spec.recipe(mp, reader.shape, total, setup.jit_compile)
    transform = (spec.train_transform(mp, ds, SEED) if spec.train_transform else spec.transform)
    stream = pipeline.stream(reader, "train", batch, shuffle=True, shuffle_buffer=batch,
                             seed=SEED, transform=transform, epochs=[0])
    log = LossLog(warmup + steps)
    t0 = time.perf_counter()
    model.fit(stream, epochs=1, steps_per_epoch=warmup, callbacks=[*callbacks, log.callback],
              verbose=0, shuffle=False)
    compile_s = time.perf_counter() - t0
    log.offset = warmup
    t0 = time.perf_counter()
    model.fit(stream, epochs=1, steps_per_epoch=steps, callbacks=[*callbacks, log.callback],
              verbose=0, shuffle=False)
    seconds = time.perf_counter() - t0
    first, last = log.first_last()
    return {"kind": kind, "model": name, "batch": batch, "steps": steps,
            "samples_per_s": steps * batch / seconds, "seconds": seconds,
            "warmup_s": compile_s, "params": models.count_trainable(model),
            "l1_first": first, "l1_last": last, "loss_falls": last < first,
            "peak_gpu_bytes": peak_memory(setup.backend)}


def child(args: argparse.Namespace) -> None:
    """One backend, one process: print one JSON line per kind."""
    if args.cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.cores])
    from denoisebench import backend

    backend.select(args.backend, onednn=True)  # as training: every ModelSpec has it on
    setup = backend.configure(args.threads or args.cores or None, SEED, deterministic=False,
                              mixed_precision=_precision(args.mixed_precision))
    datasets, kinds = settings(args.configfile)
    print(json.dumps({"backend": setup.backend, "devices": setup.devices,
                      "precision": setup.precision,
                      "versions": backend.versions()}), flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-gpu-") as tmp:
        for label in args.kinds.split(","):
            kind, _, at = label.partition("@")  # "gan@512": gan at batch 512
            name, mp = kinds[kind]
            batch = int(at or args.batch or mp["batch_size"])
            try:
                row = measure(kind, name, mp, datasets, Path(tmp), batch, args.warmup,
                              args.steps, setup)
            except Exception as exc:  # report and go on: one kind must not hide the others
                row = {"kind": kind, "error": f"{type(exc).__name__}: {exc}"[:300]}
            print(json.dumps({**row, "label": label}), flush=True)


def run_child(args: argparse.Namespace, backend: str, kinds: list[str], cores: int,
              deadline: float, threads: int = 0) -> list[dict[str, Any]]:
    """Start a child (``cores``: pinned to that many cores, no GPU, ``--cpu-steps`` steps;
    ``threads``: the backend's threads, unpinned); its JSON lines (the first is the set-up;
    a child stopped by the deadline gives the lines it printed)."""
    env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
    if cores:  # the CPU reference: no GPU visible
        env.update(JAX_PLATFORMS="cpu", CUDA_VISIBLE_DEVICES="")
    cmd = [sys.executable, __file__, "--child", "--backend", backend, "--kinds", ",".join(kinds),
           "--steps", str(args.cpu_steps if cores else args.steps),
           "--warmup", str(1 if cores else args.warmup), "--cores", str(cores),
           "--batch", str(args.batch or 0), "--configfile", args.configfile or "",
           "--mixed-precision", "false" if cores else args.mixed_precision,
           "--threads", str(threads)]
    try:
        out = subprocess.run(cmd, env=env, capture_output=True, text=True,
                             timeout=max(10.0, deadline - time.monotonic()))
        text, err = out.stdout, out.stderr
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout or b""
        text, err = out.decode() if isinstance(out, bytes) else out, "time limit reached"
        print(f"# {backend}: time limit reached; figures so far follow", flush=True)
    rows = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
    if not rows:
        print(f"# {backend}: no result ({err.strip()[-500:]})", flush=True)
    return rows


def report(backend: str, rows: list[dict[str, Any]], cpu: dict[str, dict[str, Any]]) -> None:
    head, results = rows[0], rows[1:]
    gpu = any(d.startswith("gpu") for d in head["devices"])
    print(f"# {backend}: devices {head['devices']} ({'GPU' if gpu else 'no GPU found: CPU'}"
          f" figures), {head['precision']}, versions {head['versions']}", flush=True)
    for r in cpu.values():
        if "error" not in r:
            print(f"# {backend} 2-core CPU reference: {r['kind']} batch {r['batch']}: "
                  f"{r['samples_per_s']:,.1f} samples/s ({r['steps']} steps)", flush=True)
    print(f"| {backend} | kind | batch | samples/s | warm-up s | l1 first -> last | "
          "peak GPU MiB | vs 2-core CPU |")
    for r in results:
        if "error" in r:
            print(f"| {backend} | {r['kind']} | – | failed: {r['error']} |")
            continue
        ref = cpu.get(r["label"])
        ratio = r["samples_per_s"] / ref["samples_per_s"] if ref and "error" not in ref \
            else float("nan")
        mem = "–" if r["peak_gpu_bytes"] is None else f"{r['peak_gpu_bytes'] / 2**20:,.0f}"
        print(f"| {backend} | {r['kind']} | {r['batch']} | {r['samples_per_s']:,.0f} | "
              f"{r['warmup_s']:.1f} | {r['l1_first']:.4g} -> {r['l1_last']:.4g}"
              f"{'' if r['loss_falls'] else ' (NOT falling)'} | {mem} | {ratio:.3g} |")
        big = "@" in r["label"]
        name = f"{r['kind']}_big_batch" if big else r["kind"]
        target = ">= 20" if r["kind"] == "gan" and big else "report"
        C.ratio(f"gpu.{backend}.{name}_vs_2core_cpu_samples_per_s", ratio, target,
                f"batch {r['batch']}, {'GPU' if gpu else 'CPU only'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="jax,torch")
    ap.add_argument("--kinds", default=None, help="model kinds, comma-separated (all)")
    ap.add_argument("--cpu-kinds", default="gan", help="kinds of the 2-core CPU reference")
    ap.add_argument("--big-batch", type=int, default=512,
                    help="the CPU-reference kinds also at this GPU-sized batch (0: no)")
    ap.add_argument("--batch", type=int, default=0, help="batch of every kind (0: its own)")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--cpu-steps", type=int, default=5, help="timed steps of the CPU reference")
    ap.add_argument("--configfile", default="configs/seed_scale.yaml")
    ap.add_argument("--mixed-precision", default="false",
                    help="false, true, mixed_float16 or mixed_bfloat16 (GPU run only)")
    ap.add_argument("--time-limit", type=float, default=480.0, help="seconds for all children")
    ap.add_argument("--quick", action="store_true", help="small and fast (smoke test)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--backend", help=argparse.SUPPRESS)
    ap.add_argument("--cores", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        a.configfile = a.configfile or None
        return child(a)
    if a.quick:
        a.backends = ",".join(b for b in a.backends.split(",") if b != "torch"
                              or _installed("torch")) or "jax"
        a.kinds, a.cpu_kinds, a.steps, a.warmup = a.kinds or "gan_l1", "", 3, 1
        a.batch, a.big_batch = a.batch or 16, 0
    _, kinds = settings(a.configfile or None)
    wanted = a.kinds.split(",") if a.kinds else sorted(kinds)
    C.header("bench_gpu")
    failed = run_all(a, wanted)
    C.footer()
    if failed and not a.quick:
        print(f"# FAILED (loss not falling, or an error): {failed}", flush=True)
        sys.exit(1)


def run_all(a: argparse.Namespace, wanted: list[str]) -> list[str]:
    """Phase 1, per backend: the CPU-reference kinds (at their own batch and ``--big-batch``)
    on the device, then on 2 CPU cores; phase 2, per backend: every other kind. So the target
    figure (the GAN at a GPU-sized batch) comes first when time runs short. Returns the kinds
    whose loss did not fall or that failed."""
    deadline = time.monotonic() + a.time_limit
    backends = [b for b in a.backends.split(",") if b]
    for b in [b for b in backends if not _installed(b)]:
        print(f"# {b}: not installed; skipped", flush=True)
    backends = [b for b in backends if _installed(b)]
    first = [k for k in a.cpu_kinds.split(",") if k in wanted]
    first += [f"{k}@{a.big_batch}" for k in first if a.big_batch]
    rest = [k for k in wanted if k not in first]
    failed: list[str] = []
    for phase, kinds in (("reference kinds", first), ("other kinds", rest)):
        for b in backends if kinds else []:
            print(f"# ---- {b}: {phase}", flush=True)
            rows = run_child(a, b, kinds, 0, deadline)
            cpu = run_child(a, b, kinds, 2, deadline) if rows and phase == "reference kinds" \
                else []
            if rows:
                report(b, rows, {r["label"]: r for r in cpu[1:]})
            failed += [f"{b}:{r['label']}" for r in rows[1:]
                       if "error" in r or not r.get("loss_falls")]
            missing = [k for k in kinds if k not in {r["label"] for r in rows[1:]}]
            if missing:
                print(f"# {b}: not measured (time limit): {missing}", flush=True)
    return failed


def _precision(text: str) -> bool | str:
    return {"false": False, "true": True}.get(text.lower(), text)


def _installed(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


if __name__ == "__main__":
    main()
