"""What the Slurm profiles would submit, from a dry run (no Slurm needed): with
``workflow/profiles/slurm-gpu`` every ``train`` job asks for one GPU in the ``gpu`` partition
and no other job asks for any; with ``workflow/profiles/slurm`` no job does. The sbatch GPU
options come from the Slurm executor plugin's own ``set_gres_string``, applied to the
resources Snakemake prints for each job. The GPU profiles (``gpu``, ``slurm-gpu``) hand their
jobs the training backend and precision of ``workflow/profiles/gpu/training.yaml``; the CPU
profiles leave params.yaml's."""

from __future__ import annotations

import re
import shutil
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


def dry_run(repo: Path, profile: str) -> tuple[str, list[dict[str, Any]]]:
    """``snakemake -n --profile <profile>``: its output and the ``training`` block of each
    params file it handed over to the jobs (none: the jobs read params.yaml)."""
    shutil.rmtree(repo / ".denoisebench", ignore_errors=True)
    out = run(["snakemake", "-n", "--profile", f"workflow/profiles/{profile}"], repo).stdout
    handed = sorted((repo / ".denoisebench").glob("params-*.yaml"))
    return out, [read_yaml(p)["training"] for p in handed]


@pytest.mark.parametrize("profile", ["gpu", "slurm-gpu"])
def test_gpu_profiles_train_on_the_gpu_backend(repo: Path, profile: str) -> None:
    _, training = dry_run(repo, profile)
    assert len(training) == 1, training
    assert training[0]["backend"] == "jax" and training[0]["mixed_precision"] is True, training
    assert training[0]["deterministic"] == read_yaml(repo / "params.yaml")["training"][
        "deterministic"]


def test_slurm_gpu_profile_requests_one_gpu_per_training_job(repo: Path) -> None:
    out, _ = dry_run(repo, "slurm-gpu")
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
    out, training = dry_run(repo, "slurm")
    assert training == []  # params.yaml's backend (TensorFlow), no overlay
    jobs = planned_jobs(out)
    assert any(r == "train" for r, _ in jobs), out[-3000:]
    for rule, res in jobs:
        assert sbatch_options(rule, res) == ("", "debug"), (rule, res)
