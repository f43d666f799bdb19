"""Smoke test of the benchmark scripts: each runs with ``--quick`` and prints its ratio lines
(the JAX ones too: ``jax[cpu]`` is in the dev extra).

No timing assertions: speed claims live in benchmarks/ and BENCHMARKS.md (the timeout only
stops a hung script; bench_training --quick trains four models, minutes on a loaded machine).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXPECTED = {
    "bench_generation.py": ["generation.multisine.vs_python_loop_speedup",
                            "generation.multisine.vs_bare_draw_write",
                            "generation.images_blur.vs_bare_draw_write"],
    "bench_input_pipeline.py": ["input_pipeline.stream_vs_memory_samples_per_s",
                                "input_pipeline.peak_rss_10x_dataset",
                                "training.deterministic_vs_nondeterministic_samples_per_s",
                                "input_pipeline.stream_vs_memory_samples_per_s.jax",
                                "input_pipeline.peak_rss_10x_dataset.jax"],
    "bench_gpu.py": ["gpu.jax.gan_l1_vs_2core_cpu_samples_per_s"],
    "bench_backends.py": ["backends.jax_vs_tensorflow.conv2d_ae"],
    "bench_inference.py": ["inference.denoiser_vs_predict_samples_per_s",
                           "inference.denoiser_vs_lowpass_samples_per_s"],
    "bench_overhead.py": ["overhead.snakemake_noop_seconds", "overhead.dvc_status_seconds"],
    "bench_training.py": [*(f"training.onednn_speedup.{m}"
                            for m in ("conv1d_ae", "bigru", "conv2d_ae", "gan_l1")),
                          "training.side_by_side_1thread_vs_serial_2thread"],
}


@pytest.mark.parametrize("script", sorted(EXPECTED))
def test_benchmark_quick_prints_ratios(script: str) -> None:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    res = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick"],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert res.returncode == 0, res.stderr[-3000:]
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("RATIO ")]
    for name in EXPECTED[script]:
        assert any(ln.startswith(f"RATIO {name}: ") for ln in lines), (name, res.stdout)
    assert "# load at start:" in res.stdout
