"""Training input pipeline: ``data.pipeline.stream`` from Parquet shards against ``model.fit``
on the same arrays in memory (same model, batch and epochs), peak memory when the dataset on
disk grows 10x, on each Keras backend, and the cost of TensorFlow's op determinism
(``training.deterministic``).

    python benchmarks/bench_input_pipeline.py           # 3,000 rows per epoch, 3 rounds
    python benchmarks/bench_input_pipeline.py --backends jax
    python benchmarks/bench_input_pipeline.py --quick   # small sizes (smoke test)

Each backend runs in its own process (tf.data on TensorFlow, the pipeline's PyDataset on JAX
and PyTorch); its ratio lines carry the backend's name (TensorFlow's keep the plain names).

Model: seed 004's generator (``models.build("gan_l1")``, 282,177 params) compiled by the
project's ``gan_l1`` recipe (Adam, L1), batch 50. Each memory figure and each determinism
setting is measured in its own child process (peak RSS = VmHWM of that child).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

SEED = 20261126
BATCH = 50


def make_dataset(root: Path, rows: int, shard_rows: int, val_rows: int = 100) -> Path:
    from denoisebench.data import generate

    p = dict(yaml.safe_load((C.ROOT / "params.yaml").read_text())["datasets"]["multisine"])
    p.update(train_size=rows, train_shards=max(1, math.ceil(rows / shard_rows)),
             validation_size=val_rows, validation_shards=1)
    for split in ("train", "validation"):
        for i in range(generate.n_shards(p, split)):
            generate.generate_shard("multisine", p, SEED, split, i, root)
    generate.build_manifest("multisine", p, SEED, root)
    return root


def _model(rows: int, deterministic: bool):
    from denoisebench import backend, models

    setup = backend.configure(None, SEED, deterministic)
    mp = yaml.safe_load((C.ROOT / "params.yaml").read_text())["models"]["gan_l1"]
    model, _ = models.spec("gan_l1").recipe(mp, (256,), -(-rows // BATCH), setup.jit_compile)
    return model


def _name(base: str, backend: str) -> str:
    """A ratio's name on ``backend`` (TensorFlow's keep the names of before)."""
    return base if backend == "tensorflow" else f"{base}.{backend}"


def child_memory(root: Path) -> dict:
    """Verify every shard (as training does), then stream one full epoch without a model."""
    from denoisebench.data import pipeline
    from denoisebench.data.shards import DatasetReader

    reader = DatasetReader(root)
    reader.verify_split("train")
    ds = pipeline.stream(reader, "train", BATCH, shuffle=True, shuffle_buffer=6000, seed=SEED)
    n = sum(int(x.shape[0]) for x, _ in ds)
    return {"rows": n, "vmhwm_kb": C.vmhwm_kb()}


def child_determinism(rows: int, deterministic: bool, epochs: int) -> dict:
    import numpy as np

    model = _model(rows, deterministic)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 256, 1)).astype(np.float32)
    y = rng.standard_normal((rows, 256, 1)).astype(np.float32)
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)  # warm-up (tracing)
    t = C.timed(lambda: model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0))
    return {"samples_per_s": rows * epochs / t}


def run_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _quick_end(backend: str) -> None:
    if backend == "tensorflow":
        C.ratio("training.deterministic_vs_nondeterministic_samples_per_s", float("nan"),
                "none", "skipped in --quick")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--rows", type=int, default=None, help="training rows per epoch (4,000)")
    ap.add_argument("--repeats", type=int, default=None)
    ap.add_argument("--backends", default="tensorflow,jax,torch",
                    help="Keras backends, each in its own process (those installed)")
    ap.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--backend", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child or a.backend:
        from denoisebench import backend

        backend.select(a.backend or None, onednn=True)  # as training (every ModelSpec)
    if a.child:
        if a.child[0] == "memory":
            res = child_memory(Path(a.child[1]))
        else:
            res = child_determinism(int(a.child[1]), a.child[2] == "1", int(a.child[3]))
        print(json.dumps(res))
        return
    if not a.backend:
        C.header("bench_input_pipeline")
        for name in a.backends.split(","):
            if importlib.util.find_spec(name) is None:
                print(f"# {name}: not installed; skipped", flush=True)
                continue
            print(f"# ---- backend {name}", flush=True)
            subprocess.run([sys.executable, __file__, "--backend", name, *sys.argv[1:]],
                           check=True, env={**os.environ, "KERAS_BACKEND": name})
        C.footer()
        return
    measure(a)


def measure(a: argparse.Namespace) -> None:
    """P1 and P2 on ``a.backend`` (this process), P3 on TensorFlow."""
    rows = a.rows or (100 if a.quick else 3_000)
    reps = a.repeats or (1 if a.quick else 3)
    mem_rows, mem_shard = (2_000, 500) if a.quick else (24_000, 6_000)  # default: 4 x 6,000
    with tempfile.TemporaryDirectory(prefix="bench-pipe-") as tmp:
        tmp_p = Path(tmp)
        # ---- throughput: streaming vs in-memory, one process, interleaved

        from denoisebench.data import pipeline
        from denoisebench.data.shards import DatasetReader

        root = make_dataset(tmp_p / "thr", rows, max(rows // 4, 1))
        reader = DatasetReader(root)
        model_s, model_m = _model(rows, True), _model(rows, True)
        ds = pipeline.stream(reader, "train", BATCH, shuffle=True, shuffle_buffer=6000,
                             seed=SEED)
        x = reader.read("train", "mixed")[..., None]
        y = reader.read("train", "clean")[..., None]
        model_s.fit(ds, epochs=1, verbose=0)  # warm-up: tracing, shard checks
        model_m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        runs = C.interleave({
            "stream": lambda: model_s.fit(ds, epochs=1, verbose=0),
            "memory": lambda: model_m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0),
        }, reps)
        ts, tm = C.median(runs["stream"]), C.median(runs["memory"])
        print(f"[{a.backend}] fit gan_l1 generator, {rows} rows/epoch, batch {BATCH}, "
              "deterministic ops: "
              f"stream {C.fmt_runs(runs['stream'])} s, in memory {C.fmt_runs(runs['memory'])} s "
              f"-> {rows / ts:,.0f} vs {rows / tm:,.0f} samples/s")
        C.ratio(_name("input_pipeline.stream_vs_memory_samples_per_s", a.backend), tm / ts,
                ">= 0.95")
        # bare stream rate (no model)
        t_iter = C.median([C.timed(lambda: sum(1 for _ in ds)) for _ in range(reps)])
        print(f"stream alone (no model): {rows / t_iter:,.0f} samples/s")



        if a.quick:
            C.ratio(_name("input_pipeline.peak_rss_10x_dataset", a.backend), float("nan"),
                    "<= 1.2", "skipped in --quick")
            return _quick_end(a.backend)
        # ---- peak memory when the dataset grows 10x (child process per measurement)
        small = make_dataset(tmp_p / "small", mem_rows, mem_shard)
        big = make_dataset(tmp_p / "big", mem_rows * 10, mem_shard)
        mem: dict[str, list[int]] = {"small": [], "big": []}
        for r in range(reps):
            for name, rt in ((("small", small), ("big", big)) if r % 2 == 0
                             else (("big", big), ("small", small))):
                mem[name].append(run_child("memory", str(rt))["vmhwm_kb"])
        ms, mb = C.median(mem["small"]), C.median(mem["big"])
        print(f"peak RSS streaming one epoch (verify + stream): {mem_rows} rows "
              f"{ms / 1024:.0f} MiB {mem['small']}, {mem_rows * 10} rows {mb / 1024:.0f} MiB "
              f"{mem['big']} (kB)")
        C.ratio(_name("input_pipeline.peak_rss_10x_dataset", a.backend), mb / ms, "<= 1.2")
    if a.backend != "tensorflow":
        return

    # ---- determinism: child per setting, interleaved
    drows, depochs = (200, 1) if a.quick else (3_000, 1)
    det: dict[str, list[float]] = {"1": [], "0": []}
    for r in range(reps):
        for flag in (("1", "0") if r % 2 == 0 else ("0", "1")):
            det[flag].append(run_child("det", str(drows), flag, str(depochs))["samples_per_s"])
    d1, d0 = C.median(det["1"]), C.median(det["0"])
    print(f"fit in memory, {drows} rows: deterministic {d1:,.0f} samples/s {C.fmt_runs(det['1'])}"
          f", non-deterministic {d0:,.0f} samples/s {C.fmt_runs(det['0'])}")
    C.ratio("training.deterministic_vs_nondeterministic_samples_per_s", d1 / d0,
            "none (cost of training.deterministic: true)")


if __name__ == "__main__":
    main()
