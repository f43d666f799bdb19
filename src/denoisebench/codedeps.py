"""Code as a dependency: which package files each pipeline step runs (docs/workflow.md,
"Code dependencies").

A step's code is the import closure of its entry modules inside the package, found with
:mod:`ast` (nothing is imported): every ``import`` and ``from`` statement of a module the
closure imports by name, those inside functions included, and the module-level ones of each
package ``__init__`` passed on the way (what Python runs to import a submodule). Steps that
build or load models also list every module of ``models/`` (the registry imports its
families lazily, by string). Every step adds the command line and the params loader.

* DVC: each stage of ``dvc.yaml`` lists :func:`step_paths` in its ``deps`` (hashes of the
  files; ``.dvcignore`` leaves out ``__pycache__``).
* Snakemake: each rule's ``params.code`` is :func:`fingerprint` (a sha256 of those files'
  bytes), so a changed file reruns exactly the steps that run it (Snakemake's "params"
  rerun trigger).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
NAME = PACKAGE.name

#: step -> the modules that do its work (below the package; ``pkg.*``: every module of pkg)
ENTRY: dict[str, tuple[str, ...]] = {
    "validate": ("workspace",),
    "generate": ("data.generate",),
    "manifest": ("data.generate",),
    "train": ("training", "models.*"),
    "evaluate": ("evaluation", "models.*"),
    "report": ("report",),
}
#: what every step runs before its own code: the command line and the params checks
COMMON = ("cli", "config", "atomic")


def _module_file(module: str) -> Path | None:
    base = PACKAGE.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _imports(path: Path, module_level_only: bool = False) -> frozenset[str]:
    """Package modules named by ``path``'s import statements (relative ones resolved); with
    ``module_level_only`` those outside functions only."""
    rel = path.relative_to(PACKAGE).with_suffix("")
    parts = list(rel.parts[:-1])  # the package a relative import starts from
    tree = ast.parse(path.read_text(encoding="utf-8"))
    if module_level_only:
        nodes = [n for top in tree.body if not isinstance(top, ast.FunctionDef | ast.ClassDef)
                 for n in ast.walk(top)]
    else:
        nodes = list(ast.walk(tree))
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - (node.level - 1)]
                stem = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module and node.module.split(".")[0] == NAME:
                stem = node.module.partition(".")[2]
            else:
                continue
            found.add(stem)
            found.update(f"{stem}.{a.name}" if stem else a.name for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.partition(".")[2] for a in node.names
                         if a.name.split(".")[0] == NAME and "." in a.name)
    return frozenset(m for m in found if m and _module_file(m) is not None)


def _expand(entry: str) -> list[str]:
    if not entry.endswith(".*"):
        return [entry]
    pkg = entry[:-2]
    folder = PACKAGE.joinpath(*pkg.split("."))
    return [pkg] + [f"{pkg}.{f.stem}" for f in sorted(folder.glob("*.py"))
                    if f.stem != "__init__"]


@cache
def closure(entries: tuple[str, ...]) -> frozenset[Path]:
    """The package files Python runs to import ``entries`` and call into them (see the module
    docstring for which import statements count)."""
    full: set[Path] = set()
    init_only: set[Path] = set()
    todo = [(m, False) for e in entries for m in _expand(e)]
    while todo:
        module, parent_only = todo.pop()
        path = _module_file(module)
        if path is None or path in full or (parent_only and path in init_only):
            continue
        (init_only if parent_only else full).add(path)
        todo.extend((m, False) for m in _imports(path, module_level_only=parent_only))
        pieces = module.split(".")
        todo.extend((".".join(pieces[:i]), True) for i in range(1, len(pieces)))
    return frozenset(full | init_only)


#: closures found for the package files as they are now (name, size, mtime of every module):
#: the Snakefile's parse reads this instead of parsing ~50 modules (BENCHMARKS.md, O1)
CACHE = PACKAGE / "__pycache__" / "codedeps.json"


def _signature() -> str:
    digest = hashlib.sha256()
    for f in sorted(PACKAGE.rglob("*.py")):
        st = f.stat()
        digest.update(f"{f.relative_to(PACKAGE)}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


@cache
def _all_step_paths() -> dict[str, tuple[str, ...]]:
    signature = _signature()
    try:
        cached = json.loads(CACHE.read_text(encoding="utf-8"))
        if cached.get("signature") == signature:
            return {k: tuple(v) for k, v in cached["steps"].items()}
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    steps = {step: _step_paths(step) for step in ENTRY}
    try:  # best effort: a read-only installation just parses again next time
        CACHE.parent.mkdir(exist_ok=True)
        tmp = CACHE.with_name(f"{CACHE.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"signature": signature, "steps": steps}), encoding="utf-8")
        os.replace(tmp, CACHE)
    except OSError:
        pass
    return steps


def step_paths(step: str) -> tuple[str, ...]:
    """The package files ``step`` runs, as repository-relative POSIX paths, sorted; a
    concept folder all of whose modules run is named once (``src/denoisebench/models``).

    Raises:
        KeyError: unknown step; the message lists the known ones.
    """
    if step not in ENTRY:
        raise KeyError(f"unknown step {step!r}; expected one of {sorted(ENTRY)}")
    return _all_step_paths()[step]


def _step_paths(step: str) -> tuple[str, ...]:
    files = set(closure(ENTRY[step]))
    files.update(p for m in COMMON if (p := _module_file(m)) is not None)
    root = PACKAGE.parents[1]
    units: set[Path] = set()
    for folder in {f.parent for f in files}:  # a folder whose every module runs: the folder
        mine = {f for f in files if f.parent == folder}
        whole = folder != PACKAGE and mine == set(folder.glob("*.py"))
        units.update([folder] if whole else mine)
    return tuple(sorted(u.relative_to(root).as_posix() for u in units))


def _files(paths: tuple[str, ...]) -> list[Path]:
    root = PACKAGE.parents[1]
    files: list[Path] = []
    for p in paths:
        target = root / p
        files.extend(sorted(target.glob("*.py")) if target.is_dir() else [target])
    return files


@cache
def fingerprint(step: str) -> str:
    """``"<step> sha256:<hex>"`` over the bytes of every ``.py`` file ``step`` runs (see
    :func:`step_paths`): the value of each Snakemake rule's ``params.code``."""
    digest = hashlib.sha256()
    for f in _files(step_paths(step)):
        digest.update(f.relative_to(PACKAGE).as_posix().encode() + b"\0")
        digest.update(f.read_bytes())
    return f"{step} sha256:{digest.hexdigest()[:16]}"
