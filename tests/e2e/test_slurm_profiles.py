"""What the Slurm profiles would submit, from a dry run (no Slurm needed): with
``workflow/profiles/slurm-gpu`` every ``train`` job asks for one GPU in the ``gpu`` partition
and no other job asks for any; with ``workflow/profiles/slurm`` no job does. The sbatch GPU
options come from the Slurm executor plugin's own ``set_gres_string``, applied to the
resources Snakemake prints for each job."""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import copy_repo, run
from snakemake_executor_plugin_slurm.utils import set_gres_string

from denoisebench.config import read_yaml

JOB = re.compile(r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", re.MULTILINE)


class Resources(dict):
    """What the plugin reads: ``job.resources.get(key)`` and ``job.resources.<key>``."""

    def __getattr__(self, key: str) -> Any:
        return self[key]


def planned_jobs(out: str) -> list[tuple[str, Resources]]:
    """``(rule, resources)`` of every job in a ``snakemake -n`` output."""
    jobs = []
    for rule, text in JOB.findall(out):
        res = Resources()
        for item in text.split(", "):
            key, value = item.split("=", 1)
            res[key] = int(value) if value.isdigit() else value
        jobs.append((rule, res))
    return jobs


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_repo(tmp_path_factory.mktemp("profiles"))


def sbatch_options(rule: str, res: Resources) -> tuple[str, str]:
    return set_gres_string(SimpleNamespace(name=rule, resources=res)).strip(), str(
        res.get("slurm_partition"))


def test_slurm_gpu_profile_requests_one_gpu_per_training_job(repo: Path) -> None:
    out = run(["snakemake", "-n", "--profile", "workflow/profiles/slurm-gpu"], repo).stdout
    jobs = planned_jobs(out)
    models = read_yaml(repo / "params.yaml")["models"]
    trains = [(r, res) for r, res in jobs if r == "train"]
    assert len(trains) == len(models), out[-3000:]
    for rule, res in jobs:
        gres, partition = sbatch_options(rule, res)
        if rule == "train":
            assert (gres, partition) == ("--gpus=1", "gpu"), (rule, res)
        else:
            assert (gres, partition) == ("", "debug"), (rule, res)
    assert {r for r, _ in jobs} >= {"generate_shard", "manifest", "evaluate", "report"}


def test_slurm_profile_requests_no_gpu(repo: Path) -> None:
    out = run(["snakemake", "-n", "--profile", "workflow/profiles/slurm"], repo).stdout
    jobs = planned_jobs(out)
    assert any(r == "train" for r, _ in jobs), out[-3000:]
    for rule, res in jobs:
        assert sbatch_options(rule, res) == ("", "debug"), (rule, res)
