"""One workspace for Snakemake and DVC (docs/workflow.md, "One workspace").

Snakemake builds the outputs; DVC compares them with ``dvc.lock`` before an experiment. Three
pieces keep the two in step:

* :func:`record_baseline`, called by the Snakefile's ``onsuccess:`` and ``onerror:`` handlers:
  every job of the run that is now up to date (it ran, or it was current) is recorded in
  ``dvc.lock`` with ``dvc commit -f <stages>``, so ``dvc exp run -S key=value`` reruns only the
  stages whose params or deps changed. Runs under ``--configfile``/``--config`` overlays are
  not recorded: their outputs do not belong to ``params.yaml``'s values.
* :func:`validate_stage`, the command of the first DVC stage (``validate``) that every other
  stage depends on through a constant stamp file: a bad ``-S`` value is refused before any
  stage removes its outputs, and ``params.yaml`` is put back as it was.
* :func:`baseline_problems`: why the workspace is not a baseline (no ``dvc.lock``, outputs
  that differ from it), for ``denoisebench baseline --check``.

The reverse direction (DVC restored files, Snakemake must not rerun them) is
:func:`denoisebench.dvcexport.sync_snakemake`.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from . import config as cfgmod

#: Output of the ``validate`` stage; every other DVC stage lists it in its ``deps``. Its bytes
#: never change, so a params change reruns only the stages that read the changed key.
STAMP = Path(".denoisebench/params.validated")
STAMP_TEXT = "params.yaml passed `denoisebench validate`; every dvc.yaml stage depends on this.\n"
VALIDATE_STAGE = "validate"
LOCK = Path("dvc.lock")
log = logging.getLogger(__name__)


def write_stamp(root: Path = Path(".")) -> Path:
    """Write :data:`STAMP` below ``root`` (atomically; same bytes every time)."""
    path = root / STAMP
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_text(encoding="utf-8") == STAMP_TEXT:
        return path
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(STAMP_TEXT, encoding="utf-8")
    os.replace(tmp, path)
    return path


# --------------------------------------------------------------------------- Snakemake -> DVC


def stage_name(job: Any) -> str:
    """``rule-wildcard-values`` (e.g. ``generate_shard-multisine-train-00000-parquet``; DVC
    reserves ``@`` for its own ``foreach`` stages)."""
    wc = job.wildcards_dict
    if not wc:
        return job.rule.name
    return f"{job.rule.name}-{'-'.join(str(v).lstrip('.') for v in wc.values())}"


def _dvc_stages(root: Path) -> set[str]:
    try:
        doc = cfgmod.safe_load((root / "dvc.yaml").read_text(encoding="utf-8")) or {}
    except OSError:
        return set()
    return set(doc.get("stages", {}))


def _is_dvc_repo(root: Path) -> bool:
    return (root / ".dvc").is_dir() and (root / "dvc.yaml").is_file()


def up_to_date_stages(workflow: Any) -> tuple[list[str], list[str]]:
    """The DVC stage names of the jobs of a finished Snakemake run that are up to date (they
    ran, or they needed no run), and those of the jobs that are not (failed or never started).

    ``workflow`` is Snakemake's ``workflow`` object inside an ``onsuccess:``/``onerror:``
    handler; stage names follow :func:`stage_name`.
    """
    dag = workflow.dag
    done, pending = [], []
    for job in dag.jobs:
        if job.rule.name == "all":
            continue
        current = (not dag.needrun(job)) or dag.finished(job)
        (done if current else pending).append(stage_name(job))
    return sorted(done), sorted(pending)


def record_baseline(stages: Iterable[str] | None, root: Path = Path("."),
                    overlays: bool = False) -> int:
    """Record ``stages`` (``None``: every stage of dvc.yaml) in ``dvc.lock`` with
    ``dvc commit -f``, together with the ``validate`` stage and its stamp.

    Returns the number of stages recorded (0 when nothing was recorded: not a DVC project,
    overlays in use, or no stage of the run is in dvc.yaml). Failures of ``dvc commit`` are
    reported on stderr and return 0: the run's own result stands either way.
    """
    if not _is_dvc_repo(root):
        return 0
    if overlays:
        print("denoisebench: dvc.lock not updated: this run used --configfile/--config overlays, "
              "so its outputs do not match params.yaml. `dvc exp run` would replace them with "
              "dvc.lock's versions; run `snakemake` on params.yaml first.", file=sys.stderr)
        return 0
    known = _dvc_stages(root)
    wanted = known if stages is None else {s for s in stages if s in known}
    missing = [] if stages is None else sorted(set(stages) - known)
    if missing:
        print(f"denoisebench: {len(missing)} job(s) are not stages of dvc.yaml (e.g. "
              f"{missing[0]}); run `denoisebench export-dvc` and commit dvc.yaml",
              file=sys.stderr)
    if not wanted:
        return 0
    write_stamp(root)
    wanted.add(VALIDATE_STAGE)
    t0 = time.perf_counter()
    try:
        _commit(root, sorted(wanted))
    except Exception as exc:  # noqa: BLE001 - the run succeeded; say why the lock was not
        print(f"denoisebench: dvc.lock not updated ({type(exc).__name__}: {exc}); run "
              "`denoisebench baseline` to retry", file=sys.stderr)
        return 0
    print(f"denoisebench: recorded {len(wanted)} stage(s) in dvc.lock "
          f"({time.perf_counter() - t0:.1f} s); `dvc exp run -S key=value` now reruns only what "
          "the change touches.", file=sys.stderr)
    return len(wanted)


def _commit(root: Path, names: list[str]) -> None:
    """``dvc commit --force <names>`` in one pass: DVC's CLI collects the whole index once per
    target (3 min for 44 stages on 2 loaded cores), this collects it once (7 s of CPU) and
    writes dvc.lock once. Outputs are hashed and cached, never relinked, so their bytes and
    modification times stay as Snakemake left them. Uses DVC's Stage API (dvc pinned in
    pyproject.toml)."""
    from dvc.repo import Repo

    with Repo(str(root)) as repo, repo.lock:
        by_name = {stage.addressing: stage for stage in repo.index.stages}
        stages = [by_name[name] for name in names]
        for stage in stages:
            stage.save(allow_missing=False)
            stage.commit(allow_missing=False, relink=False)
        stages[0].dvcfile.dump_stages(stages, update_pipeline=False)


def on_snakemake_finished(workflow: Any, config: Mapping[str, Any]) -> None:
    """The Snakefile's ``onsuccess:``/``onerror:`` handler: record the run's up-to-date jobs."""
    overlays = bool(os.environ.get(cfgmod.PARAMS_ENV))
    if not overlays:
        try:
            overlays = cfgmod.read_yaml(cfgmod.DEFAULT_PARAMS) != dict(config)
        except cfgmod.ConfigError:
            overlays = True
    done, _ = up_to_date_stages(workflow)
    record_baseline(done, overlays=overlays)


# --------------------------------------------------------------------------- the validate stage


def _lock_params(root: Path) -> tuple[dict[str, Any] | None, str]:
    """The last validated params: the values ``dvc.lock`` recorded for the ``validate`` stage,
    else params.yaml as git's HEAD has it; ``(None, "")`` when neither exists."""
    try:
        lock = cfgmod.safe_load((root / LOCK).read_text(encoding="utf-8")) or {}
        stage = lock.get("stages", {}).get(VALIDATE_STAGE, {})
        values = stage.get("params", {}).get(str(cfgmod.DEFAULT_PARAMS))
        if isinstance(values, dict):
            return values, "dvc.lock recorded"
    except (OSError, yaml.YAMLError):
        pass
    proc = subprocess.run(["git", "show", f"HEAD:{cfgmod.DEFAULT_PARAMS}"], cwd=root,
                          capture_output=True, text=True)
    if proc.returncode == 0:
        try:
            values = yaml.safe_load(proc.stdout)
        except yaml.YAMLError:
            values = None
        if isinstance(values, dict):
            return values, "git's HEAD has"
    return None, ""


def _leaves(tree: Any, prefix: tuple[Any, ...] = ()) -> dict[tuple[Any, ...], Any]:
    if isinstance(tree, Mapping) and tree:
        out: dict[tuple[Any, ...], Any] = {}
        for k, v in tree.items():
            out.update(_leaves(v, (*prefix, k)))
        return out
    return {prefix: tree}


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """Key paths whose value differs between two params trees (added and removed ones too)."""
    a, b = _leaves(old), _leaves(new)
    return sorted((k for k in set(a) | set(b) if a.get(k, KeyError) != b.get(k, KeyError)),
                  key=lambda k: tuple(map(str, k)))


def _restore(path: Path, good: Mapping[str, Any], keys: list[tuple[Any, ...]]) -> None:
    """Put the values of ``keys`` back to ``good``'s in ``path``, in the style DVC writes
    (ruamel round trip, comments kept), so the file is byte for byte what it was."""
    from dvc.utils.serialize import modify_yaml

    good_leaves = _leaves(good)
    with modify_yaml(str(path)) as doc:
        for key in keys:
            node = doc
            for part in key[:-1]:
                node = node[part]
            if key in good_leaves:
                node[key[-1]] = good_leaves[key]
            else:
                node.pop(key[-1], None)


def validate_stage(params: Path = cfgmod.DEFAULT_PARAMS, root: Path = Path(".")) -> int:
    """The ``validate`` DVC stage: check ``params`` before any other stage runs.

    Valid: write :data:`STAMP` and return 0. Invalid: print the errors, put the changed keys of
    ``params`` back to the values ``dvc.lock`` recorded (without a lock: git's HEAD), so a
    refused ``dvc exp run -S`` leaves params.yaml as the user had it, and return 2. Nothing
    else is touched.
    """
    try:
        cfgmod.load([params])
    except cfgmod.ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        good, origin = _lock_params(root)
        if good is None:
            print(f"{params} left as it is: neither dvc.lock nor git has params to put back",
                  file=sys.stderr)
            return 2
        try:
            current = cfgmod.read_yaml(params)
        except cfgmod.ConfigError:
            return 2
        keys = changed_keys(good, current)
        if keys:
            _restore(params, good, keys)
            print(f"{params}: put back as {origin} it "
                  f"({', '.join(cfgmod.key_path(k) for k in keys)}); no other stage ran and "
                  "no output was touched", file=sys.stderr)
        return 2
    write_stamp(root)
    return 0


# --------------------------------------------------------------------------- status


def baseline_problems(root: Path = Path(".")) -> list[str]:
    """Why ``dvc exp run`` cannot use the workspace as its baseline (empty: it can).

    DVC checks out ``dvc.lock``'s versions of every output before its first stage: outputs it
    has no record of are deleted, outputs that differ are replaced.
    """
    if not (root / LOCK).exists():
        if any((root / d).exists() for d in ("data", "models", "metrics", "reports")):
            return ["dvc.lock is missing but outputs exist"]
        return []
    proc = subprocess.run(["dvc", "status", "--json"], cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        return [f"`dvc status` failed: {proc.stderr.strip()}"]
    changed = json.loads(proc.stdout or "{}")
    problems = []
    for stage, entries in sorted(changed.items()):
        for entry in entries:
            if isinstance(entry, dict) and "changed outs" in entry:
                problems.append(f"{stage}: outputs differ from dvc.lock "
                                f"({', '.join(sorted(entry['changed outs']))})")
    return problems
