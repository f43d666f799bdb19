"""Generation speed: the project's shard generator against a per-sample Python loop (seed 000's
style) and against the bare cost of drawing the same random numbers and writing the same
Parquet bytes.

    python benchmarks/bench_generation.py            # multisine 10^6 samples, images_blur 40,000
    python benchmarks/bench_generation.py --quick    # small sizes (smoke test)

Sides run interleaved in one process, ``--repeats`` rounds (the order reversed every other
round), medians reported. The Python loop is timed for its generation and, apart, for writing
its samples as the project writes a shard; the speed-up is reported both ways ("loop + same
Parquet" and "generation only").
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

from denoisebench.data import generate, kinds, shards  # noqa: E402

SEED = 20261126


def dataset_params(name: str, rows: int, shard_rows: int, **over: object) -> dict:
    p = dict(yaml.safe_load((C.ROOT / "params.yaml").read_text())["datasets"][name])
    p.update(over, train_size=rows, train_shards=math.ceil(rows / shard_rows))
    return p


def project(name: str, p: dict, out: Path) -> int:
    """generate.generate_shard for every train shard into the empty folder ``out``; returns the
    bytes written."""
    for i in range(generate.n_shards(p, "train")):
        generate.generate_shard(name, p, SEED, "train", i, out)
    return sum(f.stat().st_size for f in out.rglob("*.parquet"))


def project_generate_only(name: str, p: dict) -> None:
    """What generate_shard computes before it writes: the generator and the mixture, per shard
    (same seeds and sizes), nothing written."""
    for i in range(generate.n_shards(p, "train")):
        offset, rows = generate.shard_rows(p, "train", i)
        rng = np.random.default_rng(generate.shard_seed(SEED, name, "train", i))
        clean, noise = kinds.generate(p, rows, rng, split="train", offset=offset)
        clean + noise  # noqa: B018 (the mixture generate_shard writes)


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


def bare_write_seconds(src: Path, dst: Path) -> float:
    """Write the very tables the project wrote (read back from its shards one at a time,
    untimed) with the project's writer settings (``shards.PARQUET_WRITE_OPTIONS``): the bare
    cost of producing those Parquet bytes. Returns the seconds spent in ``pq.write_table``."""
    shutil.rmtree(dst, ignore_errors=True)
    total = 0.0
    for f in sorted(src.rglob("*.parquet")):
        table = pq.read_table(f)
        target = dst / f.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        total += C.timed(lambda t=table, d=target: pq.write_table(
            t, d, **shards.PARQUET_WRITE_OPTIONS))
        del table
    shutil.rmtree(dst, ignore_errors=True)
    return total


def python_loop_multisine(p: dict, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Seed 000's generation loop (``for j in range(num_samples): for i in range(...):
    ... ys.append(y_val)``, ``samples.append(...)``, one array at the end) applied to the
    multisine recipe: per example ``np.random`` draws of the tones and of the Gaussian noise
    (the seed adds noise per sample with ``np.random.normal``), an inner per-sample loop
    summing ``math.sin`` terms into a list, the per-example SNR scaling in Python, samples
    appended to lists and converted once. It does not build the seed's ``xs`` list nor print
    progress (the project stores neither). Returns ``(clean, noise)`` float32."""
    legacy = np.random.RandomState(SEED)  # what the seed's np.random.* functions draw from
    fs, k = float(p["fs"]), int(p["n_sines"])
    n = round(fs * float(p["duration_s"]))
    snr = 10 ** (float(p["snr_db"]) / 10)
    samples_clean, samples_noise = [], []
    for _ in range(rows):
        freqs = legacy.uniform(p["fmin_hz"], p["fmax_hz"], k)
        phase = legacy.uniform(0.0, 2 * math.pi, k)
        ys = []
        for i in range(n):
            t = i / fs
            v = 0.0
            for j in range(k):
                v += math.sin(2 * math.pi * freqs[j] * t + phase[j])
            ys.append(v / k)
        noise = legacy.normal(0.0, 1.0, n)
        pc = sum(y * y for y in ys)
        pn = sum(float(x) * float(x) for x in noise)
        g = math.sqrt(pc / (pn * snr))
        samples_clean.append(ys)
        samples_noise.append([float(x) * g for x in noise])
    return np.array(samples_clean, np.float32), np.array(samples_noise, np.float32)


def write_like_project(out: Path, clean: np.ndarray, noise: np.ndarray) -> None:
    """The loop's samples written as the project writes a shard (clean, noise, mixed)."""
    ids = np.arange(len(clean))
    for kind, arr in (("clean", clean), ("noise", noise), ("mixed", clean + noise)):
        shards.write_shard(out / f"{kind}.parquet", ids, arr)


def rounds(sides: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """``reps`` rounds of every side, the order reversed every other round; each side returns
    its own seconds (so set-up such as clearing an output folder stays untimed). Every side
    starts after an (untimed) ``os.sync()``: without it, the side that writes while another
    side's hundreds of MB still wait for writeback is throttled by the kernel, which measured
    the bare writes up to 2x slower than the same writes inside the project."""
    out: dict[str, list[float]] = {k: [] for k in sides}
    for r in range(reps):
        for k in (list(sides) if r % 2 == 0 else list(sides)[::-1]):
            os.sync()
            out[k].append(sides[k]())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--samples", type=int, default=None, help="multisine samples (10^6)")
    ap.add_argument("--image-samples", type=int, default=None,
                    help="images_blur rows (40,000; at most 240,000 with Fashion-MNIST)")
    ap.add_argument("--loop-samples", type=int, default=None,
                    help="samples of the seed-000-style Python loop (2,000)")
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args()
    n_ms = a.samples or (4_000 if a.quick else 1_000_000)
    n_im = a.image_samples or (400 if a.quick else 40_000)
    n_loop = a.loop_samples or (100 if a.quick else 2_000)
    reps = a.repeats or (1 if a.quick else 3)
    C.header("bench_generation")
    print(f"# Parquet writer settings: {shards.PARQUET_WRITE_OPTIONS}")
    tmp = Path(tempfile.mkdtemp(prefix="bench-gen-"))
    try:
        # ---- multisine
        p = dataset_params("multisine", n_ms, 25_000)
        raw = n_ms * 256 * 4 * 3
        out, out2, loop_out = tmp / "ms", tmp / "ms_bare", tmp / "loop"
        sizes: list[int] = []
        loop_write_t: list[float] = []
        # warm-up, untimed: first pyarrow writes and numpy calls pay one-off set-up costs
        project("multisine", dataset_params("multisine", 500, 500), tmp / "warm")
        write_like_project(loop_out, *python_loop_multisine(p, 5))

        def ms_project() -> float:
            shutil.rmtree(out, ignore_errors=True)  # the previous round's shards, untimed
            t0 = time.perf_counter()
            sizes.append(project("multisine", p, out))
            return time.perf_counter() - t0

        def ms_loop() -> float:  # generation; the writes are timed apart, right after
            box: list[tuple[np.ndarray, np.ndarray]] = []
            t = C.timed(lambda: box.append(python_loop_multisine(p, n_loop)))
            shutil.rmtree(loop_out, ignore_errors=True)
            loop_write_t.append(C.timed(lambda: write_like_project(loop_out, *box[0])))
            return t

        runs = rounds({"project": ms_project,
                       "generate_only": lambda: C.timed(
                           lambda: project_generate_only("multisine", p)),
                       "draws": lambda: C.timed(lambda: bare_draws("multisine", p)),
                       "writes": lambda: bare_write_seconds(out, out2),
                       "loop": ms_loop}, reps)
        tp, tg, td, tw, tl, tlw = (C.median(x) for x in (
            runs["project"], runs["generate_only"], runs["draws"], runs["writes"], runs["loop"],
            loop_write_t))
        per_proj, per_gen = tp / n_ms, tg / n_ms
        per_loop, per_loop_w = tl / n_loop, tlw / n_loop
        print(f"multisine: {n_ms} samples in {p['train_shards']} shards; project "
              f"{C.fmt_runs(runs['project'])} s (generation alone "
              f"{C.fmt_runs(runs['generate_only'])} s), draws {C.fmt_runs(runs['draws'])} s, "
              f"writes {C.fmt_runs(runs['writes'])} s; python loop {n_loop} samples "
              f"{C.fmt_runs(runs['loop'])} s + Parquet writes {C.fmt_runs(loop_write_t)} s")
        print(f"multisine: {n_ms / tp:,.0f} samples/s, {raw / tp / 1e6:.1f} MB/s float32 "
              f"(clean+noise+mixed), {sizes[-1] / tp / 1e6:.1f} MB/s Parquet on disk "
              f"({sizes[-1] / 1e6:.1f} MB); generation alone {n_ms / tg:,.0f} samples/s")
        best = {k: min(v) for k, v in runs.items()}  # least disturbed rounds (shared cores)
        best_lw = min(loop_write_t)
        C.ratio("generation.multisine.vs_python_loop_speedup",
                (per_loop + per_loop_w) / per_proj, ">= 100",
                f"loop + same Parquet, per sample: loop {per_loop * 1e6:.1f} + "
                f"{per_loop_w * 1e6:.1f} us, project {per_proj * 1e6:.2f} us; best rounds "
                f"{(best['loop'] + best_lw) / n_loop / (best['project'] / n_ms):.3g}")
        C.ratio("generation.multisine.vs_python_loop_generation_only_speedup",
                per_loop / per_gen, ">= 100",
                f"no writes, per sample: loop {per_loop * 1e6:.1f} us, project "
                f"{per_gen * 1e6:.2f} us; best rounds "
                f"{best['loop'] / n_loop / (best['generate_only'] / n_ms):.3g}")
        C.ratio("generation.multisine.vs_bare_draw_write", tp / (td + tw), "<= 2",
                f"project {tp:.2f} s vs draws {td:.2f} s + Parquet writes {tw:.2f} s; best "
                f"rounds {best['project'] / (best['draws'] + best['writes']):.3g}")
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(loop_out, ignore_errors=True)

        # ---- images_blur
        try:
            source = "synthetic" if a.quick else "fashion_mnist"
            pi = dataset_params("images_blur", n_im, 20_000, source=source)
            out, out2 = tmp / "im", tmp / "im_bare"
            project_generate_only("images_blur", pi)  # loads (and caches) the source, untimed

            def im_project() -> float:
                shutil.rmtree(out, ignore_errors=True)
                t0 = time.perf_counter()
                sizes.append(project("images_blur", pi, out))
                return time.perf_counter() - t0

            runs = rounds({"project": im_project,
                           "draws": lambda: C.timed(lambda: bare_draws("images_blur", pi)),
                           "writes": lambda: bare_write_seconds(out, out2)}, reps)
            tp, td, tw = (C.median(runs[k]) for k in ("project", "draws", "writes"))
            raw = n_im * 784 * 4 * 3
            print(f"images_blur ({source}): {n_im} rows; project {C.fmt_runs(runs['project'])} "
                  f"s, draws {C.fmt_runs(runs['draws'])} s, writes {C.fmt_runs(runs['writes'])} s")
            print(f"images_blur: {n_im / tp:,.0f} samples/s, {raw / tp / 1e6:.1f} MB/s float32, "
                  f"{sizes[-1] / tp / 1e6:.1f} MB/s Parquet on disk ({sizes[-1] / 1e6:.1f} MB); "
                  f"10^6 rows extrapolated: {1e6 * tp / n_im:.0f} s")
            best = {k: min(v) for k, v in runs.items()}
            C.ratio("generation.images_blur.vs_bare_draw_write", tp / (td + tw), "<= 2",
                    f"project {tp:.2f} s vs draws {td:.2f} s + Parquet writes {tw:.2f} s; "
                    f"best rounds {best['project'] / (best['draws'] + best['writes']):.3g}")
        except Exception as exc:  # report, do not hide
            print(f"images_blur: not usable here ({type(exc).__name__}: {exc})")
            C.ratio("generation.images_blur.vs_bare_draw_write", float("nan"), "<= 2",
                    "not measured")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    C.footer()


if __name__ == "__main__":
    main()
