"""Per-backend CPU training speed: samples/s of every model kind on TensorFlow, JAX and PyTorch,
side by side in one run, at the default params' model settings.

    python benchmarks/bench_backends.py                   # every installed backend, all kinds
    python benchmarks/bench_backends.py --kinds gan,conv2d_ae --repeats 3
    python benchmarks/bench_backends.py --quick           # one kind, few steps (smoke test)

The measurement is ``bench_gpu.py``'s (one child process per backend: ``--warmup`` steps to
compile, then ``--steps`` timed steps of ``Model.fit`` on the project's streaming pipeline, at
each model's own ``batch_size``), with ``--threads`` intra-op threads (1, as the ``train``
rule) and no GPU. Rounds alternate the backends' order; the table gives the median of the
rounds and each backend's ratio to TensorFlow (> 1: faster than TensorFlow).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import bench_gpu as G  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backends", default="tensorflow,jax,torch")
    ap.add_argument("--kinds", default=None, help="model kinds, comma-separated (all)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--configfile", default="", help="overlay of params.yaml (none)")
    ap.add_argument("--quick", action="store_true", help="one kind, few steps (smoke test)")
    a = ap.parse_args()
    if a.quick:
        a.kinds, a.steps, a.warmup, a.repeats = a.kinds or "conv2d_ae", 4, 1, 1
    a.batch, a.mixed_precision = 0, "false"
    backends = [b for b in a.backends.split(",") if b and G._installed(b)]
    _, kinds = G.settings(a.configfile or None)
    wanted = a.kinds.split(",") if a.kinds else sorted(kinds)
    C.header("bench_backends")
    print(f"# backends {backends}, {a.threads} thread(s), {a.steps} timed steps after "
          f"{a.warmup}, {a.repeats} round(s)", flush=True)
    rates: dict[tuple[str, str], list[float]] = {}
    batch: dict[str, int] = {}
    for r in range(a.repeats):
        for b in (backends if r % 2 == 0 else backends[::-1]):
            rows = G.run_child(a, b, wanted, 0, time.monotonic() + 7200, threads=a.threads)
            for row in rows[1:]:
                if "error" in row:
                    print(f"# {b} {row['kind']}: {row['error']}", flush=True)
                    continue
                rates.setdefault((b, row["kind"]), []).append(row["samples_per_s"])
                batch[row["kind"]] = row["batch"]
                print(f"# round {r + 1} {b} {row['kind']}: {row['samples_per_s']:,.1f} "
                      f"samples/s (l1 {row['l1_first']:.4g} -> {row['l1_last']:.4g})",
                      flush=True)
    print("| kind | batch | " + " | ".join(f"{b} samples/s" for b in backends) + " | "
          + " | ".join(f"{b} / tensorflow" for b in backends if b != "tensorflow") + " |")
    for kind in wanted:
        med = {b: statistics.median(rates[(b, kind)]) if (b, kind) in rates else float("nan")
               for b in backends}
        cells = [f"{med[b]:,.0f} {C.fmt_runs(rates.get((b, kind), []))}" for b in backends]
        ratios = {b: med[b] / med.get("tensorflow", float("nan")) for b in backends
                  if b != "tensorflow"}
        print(f"| {kind} | {batch.get(kind, '–')} | " + " | ".join(cells) + " | "
              + " | ".join(f"{v:.2f}" for v in ratios.values()) + " |")
        for b, v in ratios.items():
            C.ratio(f"backends.{b}_vs_tensorflow.{kind}", v, "report",
                    f"{med[b]:,.0f} vs {med.get('tensorflow', float('nan')):,.0f} samples/s")
    C.footer()


if __name__ == "__main__":
    main()
