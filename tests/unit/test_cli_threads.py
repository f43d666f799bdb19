"""`--threads` of the steps Snakemake runs with ``{threads}`` (train, evaluate, report) is
checked by argparse before any work: a value below 1 or not an integer exits 2 naming it,
instead of being ignored (train, evaluate: ``0`` meant the backend's default) or failing
later in a traceback (report's process pool)."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.mark.parametrize("step", [["report", "--out", "never-written"],
                                  ["train", "--model", "gan", "--out", "never-written"],
                                  ["evaluate", "--model", "gan", "--out", "never-written"]],
                         ids=["report", "train", "evaluate"])
@pytest.mark.parametrize("threads", ["0", "-1", "two"])
def test_cli_refuses_bad_threads(step: list[str], threads: str,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from denoisebench.cli import main

    with pytest.raises(SystemExit) as exc:
        main([*step, "--threads", threads])
    assert exc.value.code == 2
    assert f"expected an integer of at least 1, got '{threads}'" in capsys.readouterr().err
    assert not Path("never-written").exists()
