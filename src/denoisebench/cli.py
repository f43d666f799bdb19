"""Command line: ``denoisebench <step>``; every Snakemake rule and DVC stage calls one step.

Steps read their settings from params.yaml (and any ``--params`` overlays) and validate them
before doing any work, so the DVC path (``dvc exp run -S key=value``), which bypasses
Snakemake's ``validate``, is checked too.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import config as cfgmod


def _load(args: argparse.Namespace) -> dict[str, Any]:
    """Params from ``--params`` files, else ``$DENOISEBENCH_PARAMS`` (set by the Snakefile when
    it runs with overlays), else params.yaml; validated before any work."""
    env = os.environ.get(cfgmod.PARAMS_ENV)
    return cfgmod.load(args.params or [env or cfgmod.DEFAULT_PARAMS])


def cmd_validate(args: argparse.Namespace) -> int:
    if args.stage:  # dvc.yaml's first stage: refuse, and put params.yaml back
        from . import workspace

        return workspace.validate_stage()
    cfg = _load(args)
    print(f"ok: {len(cfg['datasets'])} dataset(s), {len(cfg['models'])} model(s)")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from .data import generate

    cfg = _load(args)
    ds = _dataset(cfg, args.dataset)
    t0 = time.perf_counter()
    paths = generate.generate_shard(args.dataset, ds, cfg["seed"], args.split, int(args.shard),
                                    generate.dataset_root(args.dataset, args.data_dir))
    logging.info("wrote %s (%.2f s)", ", ".join(map(str, paths)), time.perf_counter() - t0)
    return 0


def cmd_manifest(args: argparse.Namespace) -> int:
    from .data import generate

    cfg = _load(args)
    ds = _dataset(cfg, args.dataset)
    if ds["kind"] == "folder":
        raise cfgmod.ConfigError(f"datasets.{args.dataset} is a folder dataset: write its manifest "
                                 f"with `denoisebench datasets manifest {ds['path']}`")
    path = generate.build_manifest(args.dataset, ds, cfg["seed"],
                                   generate.dataset_root(args.dataset, args.data_dir))
    logging.info("wrote %s", path)
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from . import training

    cfg = _load(args)
    training.train(cfg, args.model, out_dir=args.out, data_dir=args.data_dir, threads=args.threads)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from . import evaluation, tfsetup

    cfg = _load(args)
    tfsetup.configure(args.threads, cfg["seed"], deterministic=False)
    evaluation.evaluate(cfg, args.model, model_dir=args.model_dir, data_dir=args.data_dir,
                        out_dir=args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    cfg = _load(args)
    report.render(cfg, args.metrics_dir, args.models_dir, args.out)
    return 0


def cmd_export_dvc(args: argparse.Namespace) -> int:
    from . import dvcexport

    text = dvcexport.export(Path(args.snakefile), Path(args.workdir))
    if args.check:
        current = Path(args.output).read_text() if Path(args.output).exists() else ""
        if current != text:
            print(f"{args.output} is stale: run `denoisebench export-dvc`", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    from .data.shards import atomic_write_text

    atomic_write_text(Path(args.output), text)
    print(f"wrote {args.output}")
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from . import workspace

    workdir = Path(args.workdir)
    if args.check:
        problems = workspace.baseline_problems(workdir)
        for p in problems:
            print(f"not a DVC baseline: {p}", file=sys.stderr)
        if problems:
            print("run `snakemake --cores all` (it records dvc.lock when it ends) or "
                  "`denoisebench baseline` if the outputs are right for params.yaml",
                  file=sys.stderr)
            return 1
        print("ok: the workspace matches dvc.lock")
        return 0
    return 0 if workspace.record_baseline(None, workdir) else 1


def cmd_sync(args: argparse.Namespace) -> int:
    from . import dvcexport

    return dvcexport.sync_snakemake(Path(args.workdir), dry_run=args.dry_run)


def _dataset(cfg: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in cfg["datasets"]:
        raise cfgmod.ConfigError(f"params: unknown dataset {name!r}; expected one of "
                                 f"{sorted(cfg['datasets'])}")
    return cfg["datasets"][name]


def redirect_output(path: Path) -> None:
    """Point this process's stdout and stderr (file descriptors 1 and 2, so native libraries'
    output too) at ``path``, truncated; the folder is created (DVC, unlike Snakemake, does not
    create log folders)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def build_parser() -> argparse.ArgumentParser:
    """The ``denoisebench`` argument parser (one subcommand per pipeline step)."""
    parser = argparse.ArgumentParser(
        prog="denoisebench",
        description="Reproducible benchmark of learned denoisers against classical filters.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def step(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("--params", action="append", metavar="FILE",
                       help="params file(s), later ones override (default: params.yaml)")
        p.add_argument("--log", metavar="FILE",
                       help="send all output (also TensorFlow's) to FILE, creating its folder")
        p.set_defaults(func=func)
        return p

    p = step("validate", cmd_validate, "validate params.yaml and report problems by key path")
    p.add_argument("--stage", action="store_true",
                   help="as dvc.yaml's first stage: write the stamp every stage depends on; on "
                        "error put params.yaml's changed keys back to dvc.lock's values")
    p = step("generate", cmd_generate, "generate one shard (clean, noise, mixed) of a dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", required=True, choices=["train", "validation"])
    p.add_argument("--shard", required=True, help="shard index (e.g. 00003)")
    p.add_argument("--data-dir", default="data")
    p = step("manifest", cmd_manifest, "hash a dataset's shards and write its manifest.json")
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-dir", default="data")
    p = step("train", cmd_train, "train one model (resumes an interrupted run)")
    p.add_argument("--model", required=True)
    p.add_argument("--out", default=None, help="model folder (default models/<model>)")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--threads", type=int, default=None, help="TensorFlow intra-op threads")
    p = step("evaluate", cmd_evaluate, "judge a model and the baselines on the validation split")
    p.add_argument("--model", required=True)
    p.add_argument("--model-dir", default=None)
    p.add_argument("--data-dir", default="data")
    p.add_argument("--out", default="metrics")
    p.add_argument("--threads", type=int, default=None)
    p = step("report", cmd_report, "render reports/index.html from the metrics")
    p.add_argument("--metrics-dir", default="metrics")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--out", default="reports")
    p = sub.add_parser("export-dvc", help="write dvc.yaml from the Snakemake graph")
    p.add_argument("--snakefile", default="Snakefile")
    p.add_argument("--workdir", default=".")
    p.add_argument("--output", default="dvc.yaml")
    p.add_argument("--check", action="store_true", help="exit 1 if dvc.yaml is stale")
    p.set_defaults(func=cmd_export_dvc)
    p = sub.add_parser("baseline", help="record the workspace's outputs in dvc.lock (what "
                                        "Snakemake's onsuccess handler does), or --check it")
    p.add_argument("--workdir", default=".")
    p.add_argument("--check", action="store_true",
                   help="exit 1 and say why when `dvc exp run` cannot use the workspace")
    p.set_defaults(func=cmd_baseline)
    p = sub.add_parser("sync", help="after dvc checkout/exp apply: mark Snakemake's outputs "
                                    "up to date (only when `dvc status` is clean)")
    p.add_argument("--workdir", default=".")
    p.add_argument("--dry-run", action="store_true")
    p.set_defaults(func=cmd_sync)
    from .denoise import add_denoise_parser

    add_denoise_parser(sub)
    from .byod import add_datasets_parser

    add_datasets_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``denoisebench`` console script; returns the exit code."""
    from .data.shards import DataIntegrityError
    from .inference import ModelLoadError

    args = build_parser().parse_args(argv)
    caller_stderr = None
    if getattr(args, "log", None):
        caller_stderr = os.dup(2)  # errors also go where the caller sees them (DVC shows no log)
        redirect_output(Path(args.log))
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        datefmt="%H:%M:%S")
    try:
        return int(args.func(args) or 0)
    except (cfgmod.ConfigError, DataIntegrityError, ModelLoadError, FileNotFoundError,
            KeyError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"error: {msg}", file=sys.stderr)
        if caller_stderr is not None:
            sys.stderr.flush()
            os.write(caller_stderr, f"error: {msg}\n".encode(errors="replace"))
        return 2


if __name__ == "__main__":
    sys.exit(main())
