"""One minimum Python everywhere: pyproject's ``requires-python``, ruff's ``target-version``,
environment.yml's ``python=`` pin, and what the code and tests need (``tomllib``: 3.11)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
#: the oldest Python the code and the tests run on: tests import ``tomllib`` (new in 3.11)
NEEDED = (3, 11)


def _pyproject() -> dict:
    import tomllib  # 3.11+: if this import fails, requires-python is the thing to fix

    return tomllib.loads((REPO / "pyproject.toml").read_text())


def requires_python_minimum(spec: str) -> tuple[int, int]:
    """``(major, minor)`` of a ``>=X.Y`` specifier (refuses anything else: keep it simple)."""
    m = re.fullmatch(r"\s*>=\s*(\d+)\.(\d+)\s*", spec)
    assert m, f"requires-python {spec!r}; expected a plain '>=X.Y'"
    return int(m[1]), int(m[2])


def test_requires_python_agrees_with_environment_yml_and_ruff() -> None:
    data = _pyproject()
    minimum = requires_python_minimum(data["project"]["requires-python"])
    assert minimum >= NEEDED, (f"requires-python >={minimum[0]}.{minimum[1]}, but the tests "
                               f"import tomllib (Python >= {NEEDED[0]}.{NEEDED[1]})")
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pins = [d for d in env["dependencies"] if isinstance(d, str) and re.match(r"python\b", d)]
    assert len(pins) == 1, f"environment.yml: expected one python pin, found {pins}"
    m = re.fullmatch(r"python\s*=+\s*(\d+)\.(\d+)(\.\*)?", pins[0].strip())
    assert m, f"environment.yml: {pins[0]!r}; expected 'python=X.Y'"
    assert (int(m[1]), int(m[2])) == minimum, (
        f"environment.yml pins {pins[0]!r} but pyproject says requires-python "
        f"{data['project']['requires-python']!r}; make them the same minor version")
    target = data["tool"]["ruff"]["target-version"]
    assert target == f"py{minimum[0]}{minimum[1]}", (
        f"ruff target-version {target!r}; expected py{minimum[0]}{minimum[1]} "
        "(requires-python's minimum)")
    assert sys.version_info[:2] >= minimum


def test_requires_python_parser() -> None:
    assert requires_python_minimum(">=3.11") == (3, 11)
    assert requires_python_minimum(" >= 3.12 ") == (3, 12)
