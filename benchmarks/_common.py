"""Shared helpers of the benchmark scripts: timing, medians, machine facts, ratio lines.

Every script prints one ``RATIO <name>: <value> (target ...)`` line per claim, measured side by
side in one run (interleaved, repeated, median), plus the machine load at start and end.
"""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def load() -> str:
    """``uptime``'s load averages (other users share these cores)."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "load " + " ".join(f"{v:.2f}" for v in os.getloadavg())


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, {platform.python_version()}"


def header(title: str) -> None:
    print(f"# {title}")
    print(f"# machine: {machine()}")
    print(f"# load at start: {load()}", flush=True)


def footer() -> None:
    print(f"# load at end: {load()}", flush=True)


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def interleave(sides: dict[str, Callable[[], object]], repeats: int) -> dict[str, list[float]]:
    """Run every side once per round, ``repeats`` rounds, alternating the order each round;
    return the seconds of each run per side."""
    names = list(sides)
    out: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for n in (names if r % 2 == 0 else names[::-1]):
            out[n].append(timed(sides[n]))
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def fmt_runs(xs: list[float]) -> str:
    return "[" + ", ".join(f"{x:.3g}" for x in xs) + "]"


def ratio(name: str, value: float, target: str, detail: str = "") -> None:
    """The line the smoke test looks for."""
    print(f"RATIO {name}: {value:.3g} (target {target}){'  ' + detail if detail else ''}",
          flush=True)


def vmhwm_kb() -> int:
    """Peak resident set of this process (kB), from /proc/self/status."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
