"""Generation speed: the project's shard generator against a per-sample Python loop (seed 000's
style) and against the bare cost of drawing the same random numbers and writing the same
Parquet bytes.

    python benchmarks/bench_generation.py            # multisine 10^6 samples, images_blur 40,000
    python benchmarks/bench_generation.py --quick    # small sizes (smoke test)

Sides run interleaved in one process, ``--repeats`` rounds, medians reported.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

from denoisebench.data import generate, shards  # noqa: E402

SEED = 20261126


def dataset_params(name: str, rows: int, shard_rows: int, **over: object) -> dict:
    p = dict(yaml.safe_load((C.ROOT / "params.yaml").read_text())["datasets"][name])
    p.update(over, train_size=rows, train_shards=math.ceil(rows / shard_rows))
    return p


def project(name: str, p: dict, out: Path) -> int:
    """generate.generate_shard for every train shard; returns bytes written."""
    shutil.rmtree(out, ignore_errors=True)
    for i in range(generate.n_shards(p, "train")):
        generate.generate_shard(name, p, SEED, "train", i, out)
    return sum(f.stat().st_size for f in out.rglob("*.parquet"))


def bare_draws(name: str, p: dict) -> None:
    """Only the random numbers the generator draws, shard by shard (same generator, sizes)."""
    for i in range(generate.n_shards(p, "train")):
        _, rows = generate.shard_rows(p, "train", i)
        rng = np.random.default_rng(generate.shard_seed(SEED, name, "train", i))
        if p["kind"] == "multisine":
            k, n = int(p["n_sines"]), round(float(p["fs"]) * float(p["duration_s"]))
            rng.uniform(p["fmin_hz"], p["fmax_hz"], size=(rows, k))
            rng.uniform(0.0, 2 * np.pi, size=(rows, k))
            rng.standard_normal((rows, n))
        else:  # images_blur
            rng.uniform(0, 1, size=rows)
            rng.uniform(0, 1, size=rows)
            rng.uniform(-1.0, 1.0, size=(rows, 28, 28))


def bare_write(src: Path, dst: Path) -> None:
    """Write the same tables (read back from the project's shards, untimed) with the same
    writer settings: the bare cost of producing those Parquet bytes."""
    tables = [(f.relative_to(src), pq.read_table(f)) for f in sorted(src.rglob("*.parquet"))]
    shutil.rmtree(dst, ignore_errors=True)

    def write() -> None:
        for rel, t in tables:
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(t, dst / rel, compression="zstd", write_statistics=False)
    return write


def python_loop_multisine(p: dict, rows: int, out: Path) -> None:
    """Seed 000's style: per example np.random draws, a per-sample inner loop appending to
    lists, samples appended to a list, converted and written at the end."""
    rng_f = np.random
    fs, k = float(p["fs"]), int(p["n_sines"])
    n = round(fs * float(p["duration_s"]))
    samples_clean, samples_noise = [], []
    for _ in range(rows):
        freqs = rng_f.uniform(p["fmin_hz"], p["fmax_hz"], k)
        phase = rng_f.uniform(0.0, 2 * math.pi, k)
        ys = []
        for i in range(n):
            t = i / fs
            v = 0.0
            for j in range(k):
                v += math.sin(2 * math.pi * freqs[j] * t + phase[j])
            ys.append(v / k)
        noise = rng_f.normal(0.0, 1.0, n)
        pc = sum(y * y for y in ys)
        pn = sum(float(x) * float(x) for x in noise)
        g = math.sqrt(pc / (pn * 10 ** (float(p["snr_db"]) / 10)))
        samples_clean.append(ys)
        samples_noise.append([float(x) * g for x in noise])
    clean = np.array(samples_clean, np.float32)
    noise = np.array(samples_noise, np.float32)
    ids = np.arange(rows)
    for kind, arr in (("clean", clean), ("noise", noise), ("mixed", clean + noise)):
        shards.write_shard(out / f"{kind}.parquet", ids, arr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--samples", type=int, default=None, help="multisine samples (10^6)")
    ap.add_argument("--image-samples", type=int, default=None,
                    help="images_blur rows (40,000; at most 240,000 with Fashion-MNIST)")
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args()
    n_ms = a.samples or (4_000 if a.quick else 1_000_000)
    n_im = a.image_samples or (400 if a.quick else 40_000)
    n_loop = 100 if a.quick else 2_000
    reps = a.repeats or (1 if a.quick else 3)
    C.header("bench_generation")
    tmp = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    try:
        # ---- multisine
        p = dataset_params("multisine", n_ms, 25_000)
        raw = n_ms * 256 * 4 * 3
        out, out2, loop_out = tmp / "ms", tmp / "ms_bare", tmp / "loop"
        loop_out.mkdir()
        sizes: list[int] = []
        proj_t: list[float] = []
        draw_t: list[float] = []
        write_t: list[float] = []
        loop_t: list[float] = []
        for _r in range(reps):
            proj_t.append(C.timed(lambda: sizes.append(project("multisine", p, out))))
            draw_t.append(C.timed(lambda: bare_draws("multisine", p)))
            write_t.append(C.timed(bare_write(out, out2)))
            shutil.rmtree(out2, ignore_errors=True)
            loop_t.append(C.timed(lambda: python_loop_multisine(p, n_loop, loop_out)))
        tp, td, tw, tl = (C.median(x) for x in (proj_t, draw_t, write_t, loop_t))
        per_proj, per_loop = tp / n_ms, tl / n_loop
        print(f"multisine: {n_ms} samples in {p['train_shards']} shards; project "
              f"{C.fmt_runs(proj_t)} s, draws {C.fmt_runs(draw_t)} s, writes "
              f"{C.fmt_runs(write_t)} s; python loop {n_loop} samples {C.fmt_runs(loop_t)} s")
        print(f"multisine: {n_ms / tp:,.0f} samples/s, {raw / tp / 1e6:.1f} MB/s float32 "
              f"(clean+noise+mixed), {sizes[-1] / tp / 1e6:.1f} MB/s Parquet on disk "
              f"({sizes[-1] / 1e6:.1f} MB)")
        C.ratio("generation.multisine.vs_python_loop_speedup", per_loop / per_proj, ">= 100",
                f"per sample: loop {per_loop * 1e6:.1f} us, project {per_proj * 1e6:.2f} us")
        C.ratio("generation.multisine.vs_bare_draw_write", tp / (td + tw), "<= 2",
                f"project {tp:.2f} s vs draws {td:.2f} s + Parquet writes {tw:.2f} s")
        shutil.rmtree(out, ignore_errors=True)

        # ---- images_blur
        try:
            source = "synthetic" if a.quick else "fashion_mnist"
            pi = dataset_params("images_blur", n_im, 20_000, source=source)
            out, out2 = tmp / "im", tmp / "im_bare"
            proj_t, draw_t, write_t = [], [], []
            for _r in range(reps):
                proj_t.append(C.timed(lambda: sizes.append(project("images_blur", pi, out))))
                draw_t.append(C.timed(lambda: bare_draws("images_blur", pi)))
                write_t.append(C.timed(bare_write(out, out2)))
                shutil.rmtree(out2, ignore_errors=True)
            tp, td, tw = (C.median(x) for x in (proj_t, draw_t, write_t))
            raw = n_im * 784 * 4 * 3
            print(f"images_blur ({source}): {n_im} rows; project {C.fmt_runs(proj_t)} s, draws "
                  f"{C.fmt_runs(draw_t)} s, writes {C.fmt_runs(write_t)} s")
            print(f"images_blur: {n_im / tp:,.0f} samples/s, {raw / tp / 1e6:.1f} MB/s float32, "
                  f"{sizes[-1] / tp / 1e6:.1f} MB/s Parquet on disk; 10^6 rows extrapolated: "
                  f"{1e6 * tp / n_im:.0f} s")
            C.ratio("generation.images_blur.vs_bare_draw_write", tp / (td + tw), "<= 2",
                    f"project {tp:.2f} s vs draws {td:.2f} s + Parquet writes {tw:.2f} s")
        except Exception as exc:  # another developer's module: report, do not hide
            print(f"images_blur: not usable here ({type(exc).__name__}: {exc})")
            C.ratio("generation.images_blur.vs_bare_draw_write", float("nan"), "<= 2",
                    "not measured")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    C.footer()


if __name__ == "__main__":
    main()
