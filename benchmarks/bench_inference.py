"""Inference: ``inference.Denoiser(folder)(x)`` (the evaluation / ``denoise`` path) against bare
``model.predict`` on the same in-memory arrays, and against the lowpass baseline
(``baselines.design_lowpass`` of the multisine dataset) on the same data.

    python benchmarks/bench_inference.py           # 20,000 multisine rows, 5 rounds
    python benchmarks/bench_inference.py --quick   # small sizes (smoke test)

Model: seed 004's generator (``models.build("gan_l1")``, untrained weights: throughput does not
depend on them), saved and reloaded through ``inference.save`` / ``Denoiser``; batch 1,000
(``evaluation.batch_size``) on both sides.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (smoke test)")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args()
    rows = a.rows or (500 if a.quick else 20_000)
    reps = a.repeats or (1 if a.quick else 5)
    C.header("bench_inference")
    from denoisebench import backend, inference, models

    backend.select(None)  # $KERAS_BACKEND, else TensorFlow (as evaluate and denoise)
    from denoisebench.evaluation import baselines

    params = yaml.safe_load((C.ROOT / "params.yaml").read_text())
    ds = params["datasets"]["multisine"]
    batch = int(params["evaluation"]["batch_size"])
    backend.configure(None, 0, True)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((rows, 256)).astype(np.float32)
    with tempfile.TemporaryDirectory(prefix="bench-inf-") as tmp:
        inference.save(models.build("gan_l1"), Path(tmp),
                       {"input_shape": [256], "model_input_shape": [256, 1],
                        "scaling": {"kind": "none"}, "fs": 256})
        den = inference.Denoiser(tmp, batch_size=batch)
        model = den.model
        lowpass = baselines.design_lowpass(ds["lowpass"], float(ds["fs"]))
        x3 = x[..., None]
        den(x[:batch])  # warm-up (tracing) on both paths
        model.predict(x3[:batch], batch_size=batch, verbose=0)
        runs = C.interleave({
            "denoiser": lambda: den(x),
            "predict": lambda: model.predict(x3, batch_size=batch, verbose=0),
            "lowpass": lambda: lowpass(x),
        }, reps)
    td, tp, tl = (C.median(runs[k]) for k in ("denoiser", "predict", "lowpass"))
    print(f"{rows} rows x 256, batch {batch}: Denoiser {C.fmt_runs(runs['denoiser'])} s, "
          f"model.predict {C.fmt_runs(runs['predict'])} s, lowpass {C.fmt_runs(runs['lowpass'])} s")
    print(f"samples/s: Denoiser {rows / td:,.0f}, model.predict {rows / tp:,.0f}, "
          f"lowpass (order {lowpass.order}, sosfiltfilt) {rows / tl:,.0f}")
    C.ratio("inference.denoiser_vs_predict_samples_per_s", tp / td, ">= 0.9")
    C.ratio("inference.denoiser_vs_lowpass_samples_per_s", tl / td, "report only",
            "(< 1: the network is slower than the filter)")
    C.footer()


if __name__ == "__main__":
    main()
