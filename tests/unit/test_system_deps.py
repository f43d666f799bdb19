"""``scripts/install-system-deps.sh`` fails loudly (exit 1, naming the package) when a system
package cannot be installed, installs each package on its own (one failure never hides the
other), and under ``CI=true`` refuses to skip. ``id``, ``dpkg`` and ``apt-get`` are stubs on
PATH: nothing is installed for real."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "install-system-deps.sh"

STUBS = {
    "id": '#!/bin/sh\necho "$STUB_UID"\n',
    # dpkg -s PKG: installed when listed in $STUB_DB
    "dpkg": '#!/bin/sh\n[ "$1" = -s ] && grep -qx "$2" "$STUB_DB"\n',
    # apt-get update (fails if $STUB_UPDATE_FAILS); apt-get install ... PKG: fails for the
    # packages in $STUB_BROKEN, else records PKG in $STUB_DB; every call is logged
    "apt-get": """#!/bin/sh
echo "$*" >> "$STUB_LOG"
if [ "$1" = update ]; then [ -z "${STUB_UPDATE_FAILS:-}" ]; exit $?; fi
for last; do :; done
case " $STUB_BROKEN " in *" $last "*) echo "E: Unable to locate package $last" >&2; exit 100;; esac
echo "$last" >> "$STUB_DB"
""",
}


def run_script(tmp_path: Path, uid: int = 0, broken: str = "", update_fails: bool = False,
               ci: bool = True) -> tuple[subprocess.CompletedProcess, list[str], set[str]]:
    stubs = tmp_path / "bin"
    stubs.mkdir(exist_ok=True)
    for name, text in STUBS.items():
        (stubs / name).write_text(text)
        (stubs / name).chmod(0o755)
    db, log = tmp_path / "installed", tmp_path / "apt.log"
    db.write_text("")
    log.write_text("")
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "DENOISEBENCH_NO_APT")}
    env.update(PATH=f"{stubs}{os.pathsep}/usr/bin{os.pathsep}/bin", STUB_UID=str(uid),
               STUB_DB=str(db), STUB_LOG=str(log), STUB_BROKEN=broken)
    if update_fails:
        env["STUB_UPDATE_FAILS"] = "1"
    if ci:
        env["CI"] = "true"
    proc = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True,
                          timeout=60)
    return proc, log.read_text().splitlines(), set(db.read_text().split())


def test_installs_each_package_on_its_own(tmp_path: Path) -> None:
    proc, calls, installed = run_script(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert installed == {"dataset-fashion-mnist", "chromium"}
    installs = [c for c in calls if c.startswith("install")]
    assert len(installs) == 2 and installs[0].endswith("dataset-fashion-mnist")


@pytest.mark.parametrize("broken", ["chromium", "dataset-fashion-mnist"])
def test_a_package_that_cannot_be_installed_fails_the_script(tmp_path: Path,
                                                             broken: str) -> None:
    proc, _, installed = run_script(tmp_path, broken=broken)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert f"could not install {broken}" in proc.stderr
    # the other one is still installed
    assert installed == {"dataset-fashion-mnist", "chromium"} - {broken}


def test_failing_apt_update_fails_the_script(tmp_path: Path) -> None:
    proc, _, installed = run_script(tmp_path, update_fails=True)
    assert proc.returncode == 1 and "apt-get update failed" in proc.stderr
    assert not installed


def test_not_root_is_an_error_in_ci_and_a_warning_elsewhere(tmp_path: Path) -> None:
    proc, calls, _ = run_script(tmp_path, uid=1000, ci=True)
    assert proc.returncode == 1 and "CI=true" in proc.stderr and not calls
    proc, calls, _ = run_script(tmp_path, uid=1000, ci=False)
    assert proc.returncode == 0 and "WARNING" in proc.stderr and not calls
    assert "dataset-fashion-mnist" in proc.stderr and "chromium" in proc.stderr
