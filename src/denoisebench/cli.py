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


def _positive_int(text: str) -> int:
    """argparse type: an integer of at least 1 (argparse reports the error and exits 2)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer of at least 1, got {text!r}")
    return value


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
    from . import backend

    cfg = _load(args)
    backend.select(None)  # $KERAS_BACKEND, else TensorFlow: any backend reads any model
    backend.configure(args.threads, cfg["seed"], deterministic=False)
    from . import evaluation

    evaluation.evaluate(cfg, args.model, model_dir=args.model_dir, data_dir=args.data_dir,
                        out_dir=args.out)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from . import report

    cfg = _load(args)
    report.render(cfg, args.metrics_dir, args.models_dir, args.out, workers=args.threads)
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
    from .atomic import atomic_write_text

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


def cmd_tune_lowpass(args: argparse.Namespace) -> int:
    """Tune ``datasets.<name>.lowpass`` on its train split; print the best settings and the
    runner-ups (paste the best into params.yaml)."""
    from .evaluation import lowpass

    cfg = cfgmod.load(args.params)
    ds = _dataset(cfg, args.dataset)
    clean, mixed = lowpass.train_split(args.dataset, ds, int(cfg["seed"]), args.rows)
    fs = float(ds["fs"])
    orders = [o for o in args.orders if lowpass.padlen(o) < clean.shape[1]]
    res = lowpass.tune_lowpass(clean, mixed, fs, lowpass.default_cutoffs(fs), orders,
                               args.criterion)
    print(f"{args.dataset}: {len(clean)} train rows, fs {fs}; best by {res.criterion}: "
          f"order {res.order}, cutoff_hz {res.cutoff_hz:.6g}")
    print(f"{'cutoff_hz':>12} {'order':>5} {'mse':>11} {'mae':>9} {'snri_agg_db':>11}")
    for cutoff, order, mse, mae, snri in res.table[:args.top]:
        print(f"{cutoff:12.6g} {order:5d} {mse:11.4g} {mae:9.4f} {snri:11.2f}")
    return 0


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
    """The ``denoisebench`` argument parser (one subcommand per pipeline step, plus the
    commands for a user's own data)."""
    parser = argparse.ArgumentParser(
        prog="denoisebench",
        description="Reproducible benchmark of learned denoisers against classical filters.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_steps(sub)
    _add_dvc(sub)
    add_denoise_parser(sub)
    add_datasets_parser(sub)
    _add_tune_lowpass(sub)
    return parser


def _step(sub: Any, name: str, func: Any, help: str) -> argparse.ArgumentParser:
    """A pipeline step's subcommand, with the ``--params`` and ``--log`` every step takes."""
    p = sub.add_parser(name, help=help, description=help)
    p.add_argument("--params", action="append", metavar="FILE",
                   help="params file(s), later ones override (default: params.yaml)")
    p.add_argument("--log", metavar="FILE",
                   help="send all output (also TensorFlow's) to FILE, creating its folder")
    p.set_defaults(func=func)
    return p


def _add_steps(sub: Any) -> None:
    """The pipeline steps that Snakemake rules and DVC stages call."""
    p = _step(sub, "validate", cmd_validate, "validate params.yaml and report problems by key "
                                             "path")
    p.add_argument("--stage", action="store_true",
                   help="as dvc.yaml's first stage: write the stamp every stage depends on; on "
                        "error put params.yaml's changed keys back to dvc.lock's values")
    p = _step(sub, "generate", cmd_generate, "generate one shard (clean, noise, mixed) of a "
                                             "dataset")
    p.add_argument("--dataset", required=True)
    p.add_argument("--split", required=True, choices=["train", "validation"])
    p.add_argument("--shard", required=True, help="shard index (e.g. 00003)")
    p.add_argument("--data-dir", default="data")
    p = _step(sub, "manifest", cmd_manifest, "hash a dataset's shards and write its "
                                             "manifest.json")
    p.add_argument("--dataset", required=True)
    p.add_argument("--data-dir", default="data")
    p = _step(sub, "train", cmd_train, "train one model (resumes an interrupted run)")
    p.add_argument("--model", required=True)
    p.add_argument("--out", default=None, help="model folder (default models/<model>)")
    p.add_argument("--data-dir", default="data")
    p.add_argument("--threads", type=_positive_int, default=None,
                   help="intra-op threads of the Keras backend (default: its own)")
    p = _step(sub, "evaluate", cmd_evaluate, "judge a model and the baselines on the validation "
                                             "split")
    p.add_argument("--model", required=True)
    p.add_argument("--model-dir", default=None)
    p.add_argument("--data-dir", default="data")
    p.add_argument("--out", default="metrics")
    p.add_argument("--threads", type=_positive_int, default=None)
    p = _step(sub, "report", cmd_report, "render reports/index.html from the metrics")
    p.add_argument("--metrics-dir", default="metrics")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--out", default="reports")
    p.add_argument("--threads", type=_positive_int, default=1,
                   help="processes drawing the datasets' sections (default 1)")


def _add_dvc(sub: Any) -> None:
    """``export-dvc`` and ``sync``: the DVC side of the workflow."""
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


def add_denoise_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register the ``denoise`` subcommand on ``subparsers`` (from ``add_subparsers``).

    Sets ``func`` to :func:`denoisebench.userdata.commands.cmd_denoise`; returns the new subparser.
    """
    p = subparsers.add_parser(
        "denoise", help="apply a trained denoiser to your own files",
        description="Denoise signal files (.wav, .npy, .parquet, .csv) or, with an image "
                    "model, images (.npy, .png); each output has its input's format.")
    p.add_argument("--model", required=True, metavar="FOLDER",
                   help="trained model folder, e.g. models/gan")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files to denoise")
    p.add_argument("-o", "--output", required=True, metavar="OUTPUT",
                   help="output file; a folder when there are several inputs")
    p.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sample rate of inputs that carry none (.npy, .csv, .parquet); "
                        "default: the model's")
    p.add_argument("--batch-size", type=int, default=1024, help="windows per predict call")
    from .userdata.commands import cmd_denoise

    p.set_defaults(func=cmd_denoise)
    return p


def add_datasets_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``denoisebench datasets {manifest,import}`` on ``subparsers``.

    Returns the ``datasets`` subparser.
    """
    from .data.shards import FORMATS
    from .models import GAN_WINDOW_MULTIPLE
    from .userdata.commands import cmd_datasets_import, cmd_datasets_manifest

    p = subparsers.add_parser(
        "datasets", help="bring your own data: import recordings, check a dataset folder",
        description="Folder datasets (datasets.<name>.kind: folder): "
                    "{train,validation}/{clean,mixed}[/noise]/*.parquet|*.npy plus manifest.json.")
    sub = p.add_subparsers(dest="datasets_command", required=True, metavar="ACTION")
    m = sub.add_parser(
        "manifest", help="check a dataset folder and write its manifest.json",
        description="Pair clean/mixed(/noise) shards by file name, check rows, lengths, float32 "
                    "and finite values, and write PATH/manifest.json (sha256 of every shard).")
    m.add_argument("path", metavar="PATH", help="dataset folder")
    m.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="sample rate in Hz (default: the one the existing manifest records)")
    m.add_argument("--convert", action="store_true",
                   help="rewrite shards that are not float32 in place as float32")
    m.set_defaults(func=cmd_datasets_manifest)
    i = sub.add_parser(
        "import", help="cut paired clean/noisy recordings into a dataset folder",
        description="SRC/clean/<name>.wav + SRC/noisy/<name>.wav (or mixed/; also .npy, .csv, "
                    ".parquet) -> DEST in the dataset layout, windows of N samples, split by "
                    "recording.")
    i.add_argument("src", metavar="SRC", help="folder with clean/ and noisy/ recordings")
    i.add_argument("-o", "--output", required=True, metavar="DEST",
                   help="new dataset folder (must not exist or be empty)")
    i.add_argument("--window", type=int, required=True, metavar="N",
                   help="samples per example (the model's input length; gan/gan_l1: a "
                        f"multiple of {GAN_WINDOW_MULTIPLE})")
    i.add_argument("--hop", type=int, default=None, metavar="N",
                   help="samples between windows (default: N, no overlap)")
    i.add_argument("--validation-fraction", type=float, default=0.2, metavar="F",
                   help="share of recordings (not windows) for validation (default 0.2)")
    i.add_argument("--fs", type=float, default=None, metavar="HZ",
                   help="dataset sample rate; recordings at other rates are resampled "
                        "(default: the recordings' common rate)")
    i.add_argument("--seed", type=int, default=0, help="seed of the train/validation draw")
    i.add_argument("--format", choices=sorted(FORMATS), default="parquet")
    i.add_argument("--shard-rows", type=int, default=10_000, metavar="R",
                   help="examples per shard file")
    i.set_defaults(func=cmd_datasets_import)
    return p


def _add_tune_lowpass(sub: Any) -> None:
    """``tune-lowpass``: the grid search behind the ``butter`` lowpass settings in params.yaml
    (:mod:`denoisebench.evaluation.lowpass`)."""
    p = sub.add_parser("tune-lowpass", help="tune a dataset's Butterworth lowpass on its train "
                                            "split and print the best settings",
                       description="Exhaustive search of cutoff_hz x order on train examples "
                                   "(never validation); paste the best into params.yaml.")
    p.add_argument("--dataset", required=True)
    p.add_argument("--params", nargs="+", default=["params.yaml"])
    p.add_argument("--rows", type=int, default=4000, help="training rows used (default 4000)")
    p.add_argument("--orders", type=int, nargs="+", default=list(range(1, 9)))
    p.add_argument("--criterion", choices=("mse", "mae"), default="mse")
    p.add_argument("--top", type=int, default=8)
    p.set_defaults(func=cmd_tune_lowpass)


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
