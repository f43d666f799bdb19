"""Workflow overhead: a no-op ``snakemake --cores 2`` when everything is up to date, and
``dvc status``, in a prepared copy of the repository or in the user's own checkout.

    python benchmarks/bench_overhead.py --checkout .     # the user's case: a checkout after
                                                         # `make run` (default params, real outputs)
    python benchmarks/bench_overhead.py                  # prepare (tiny pipeline run), measure
    python benchmarks/bench_overhead.py --keep DIR       # keep / reuse the prepared copy in DIR
    python benchmarks/bench_overhead.py --quick          # no pipeline run: dry-run timings

Preparation: the working tree's files (``git ls-files -co --exclude-standard``) are copied,
``configs/tiny.yaml`` is merged *into params.yaml* (so that DVC's params and Snakemake's agree),
``git init`` + a first commit, and ``snakemake --cores 2`` builds everything (its onsuccess
handler records dvc.lock). Both commands are then timed, interleaved, median of rounds. A
``--checkout`` is measured as it is; it must be up to date ("Nothing to be done").
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

BIN = Path(sys.executable).parent
ENV = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
       "TF_CPP_MIN_LOG_LEVEL": "3", "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x",
       "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@x"}


def sh(cwd: Path, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, cwd=cwd, env=ENV, capture_output=True, text=True)
    if check and r.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout[-2000:]}\n"
                         f"{r.stderr[-4000:]}")
    return r


def merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def copy_repo(dst: Path, tiny: bool = True) -> None:
    """The working tree's files into ``dst`` (a new git repository); ``tiny``: configs/tiny.yaml
    merged into params.yaml."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=C.ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    for rel in files:
        src = C.ROOT / rel
        if src.is_file():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst / rel)
    if tiny:
        params = yaml.safe_load((dst / "params.yaml").read_text())
        over = yaml.safe_load((dst / "configs" / "tiny.yaml").read_text())
        (dst / "params.yaml").write_text(yaml.safe_dump(merge(params, over), sort_keys=False))
    sh(dst, "git", "init", "-q")
    sh(dst, "git", "add", "-A")
    sh(dst, "git", "commit", "-qm", "bench copy")


def prepare(dst: Path) -> None:
    copy_repo(dst)
    print("# preparing: snakemake --cores 2 on tiny params (minutes on a loaded machine)",
          flush=True)
    sh(dst, "denoisebench", "export-dvc", check=False)  # dvc.yaml of the merged params' graph
    sh(dst, "snakemake", "--cores", "2")
    (dst / ".prepared").write_text("ok\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="no pipeline run: dry-run timings")
    ap.add_argument("--keep", type=Path, default=None, help="prepared copy to keep / reuse")
    ap.add_argument("--checkout", type=Path, default=None,
                    help="measure this checkout as it is (after `make run`)")
    ap.add_argument("--repeats", type=int, default=None)
    a = ap.parse_args()
    reps = a.repeats or (1 if a.quick else 5)
    C.header("bench_overhead")
    work = a.keep or Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    try:
        if a.checkout is not None:
            repo = a.checkout.resolve()
            snake = ("snakemake", "--cores", "2")
            dry = sh(repo, "snakemake", "--cores", "2", "-n")
            if "Nothing to be done" not in dry.stdout + dry.stderr:
                raise SystemExit(f"{repo} is not up to date: run `make run` there first")
        elif a.quick:
            shutil.rmtree(work / "repo", ignore_errors=True)
            repo = work / "repo"
            copy_repo(repo)
            snake = ("snakemake", "--cores", "2", "-n", "--quiet")
        else:
            repo = work / "repo"
            if not (repo / ".prepared").exists():
                shutil.rmtree(repo, ignore_errors=True)
                prepare(repo)
            snake = ("snakemake", "--cores", "2")
            dry = sh(repo, "snakemake", "--cores", "2", "-n")
            print("# snakemake -n: " + (dry.stdout.strip().splitlines() or ["(no output)"])[-1])
        st = sh(repo, "dvc", "status", check=False)
        print("# dvc status: " + (st.stdout.strip().replace("\n", " | ")[:300] or "(empty)"))
        runs = C.interleave({
            "snakemake": lambda: sh(repo, *snake, check=False),
            "dvc": lambda: sh(repo, "dvc", "status", check=False),
        }, reps)
        ts, td = C.median(runs["snakemake"]), C.median(runs["dvc"])
        what = ("dry run on a fresh copy (--quick)" if a.quick else
                f"the checkout {repo}, up to date" if a.checkout else "everything up to date")
        print(f"{what}: {' '.join(snake)} {C.fmt_runs(runs['snakemake'])} s, dvc status "
              f"{C.fmt_runs(runs['dvc'])} s")
        C.ratio("overhead.snakemake_noop_seconds", ts, "<= 3 s", what)
        C.ratio("overhead.dvc_status_seconds", td, "<= 2 s", what)
    finally:
        if a.keep is None and a.checkout is None:
            shutil.rmtree(work, ignore_errors=True)
    C.footer()


if __name__ == "__main__":
    main()
