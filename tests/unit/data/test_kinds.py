"""The dataset-kind registry: one row per kind the params schema allows, each with its
modality, generator, example shape and checks."""

from __future__ import annotations

import numpy as np
import pytest
import yaml
from conftest import REPO

from denoisebench import evaluation, models
from denoisebench.data import kinds


def _schema_enum(definition: str) -> list[str]:
    schema = yaml.safe_load((REPO / "workflow/schemas/params.schema.yaml").read_text())
    return schema["$defs"][definition]["properties"]["kind"]["enum"]


def test_registry_has_every_kind_the_schema_allows() -> None:
    assert sorted(kinds.KINDS) == sorted(_schema_enum("dataset"))
    assert sorted(models.REGISTRY) == sorted(_schema_enum("model"))


def test_modalities_and_shapes() -> None:
    assert kinds.IMAGE_KINDS == ("images", "images_blur")
    assert kinds.is_image({"kind": "images_blur"}) and not kinds.is_image({"kind": "folder"})
    assert kinds.example_shape({"kind": "images"}) == (28, 28)
    assert kinds.example_shape({"kind": "multisine", "fs": 256, "duration_s": 1.0}) == (256,)
    with pytest.raises(KeyError, match="no signal shape"):
        kinds.example_shape({"kind": "folder"})


def test_folder_datasets_are_not_generated() -> None:
    with pytest.raises(KeyError, match="cannot be generated"):
        kinds.generate({"kind": "folder"}, 1, np.random.default_rng(0), split="train", offset=0)


def test_window_multiple_is_the_gan_generators() -> None:
    assert models.window_multiple("gan") == models.window_multiple("gan_l1") == 16
    assert models.window_multiple("bigru") == 1 and models.window_multiple(None) == 1


def test_models_split_by_modality() -> None:
    cfg = {"datasets": {"a": {"kind": "images"}, "b": {"kind": "sine"}},
           "models": {"m1": {"dataset": "b"}, "m2": {"dataset": "a"}}}
    assert evaluation.models_of(cfg, images=True) == ["m2"]
    assert evaluation.models_of(cfg, images=False) == ["m1"]
