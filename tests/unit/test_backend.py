"""denoisebench.backend without training: the params check of ``training.backend``, one
backend per process, the precision policy of ``training.mixed_precision``."""

from __future__ import annotations

import pytest
from conftest import REPO

from denoisebench import backend
from denoisebench.config import ConfigError, read_yaml, validate


def test_uninstalled_backend_is_refused_before_any_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """``training.backend: torch`` without torch installed: the params check names the key,
    the value, how to install it and the installed choices."""
    real = backend.importlib.util.find_spec
    monkeypatch.setattr(backend.importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    cfg = read_yaml(REPO / "params.yaml")
    cfg["training"]["backend"] = "torch"
    with pytest.raises(ConfigError) as info:
        validate(cfg)
    msg = str(info.value)
    assert "training.backend: 'torch' is not installed" in msg, msg
    assert "pip install -e '.[torch]'" in msg and "'tensorflow'" in msg, msg
    cfg["training"]["backend"] = "tensorflow"
    validate(cfg)


def test_one_backend_per_process() -> None:
    """Keras fixes its backend at import: asking for another one afterwards is refused with
    the reason, asking for the same one is fine."""
    import keras

    current = keras.backend.backend()
    assert backend.select(current) == current
    other = next(b for b in backend.BACKENDS if b != current)
    with pytest.raises(backend.BackendError, match=f"'{other}' requested, but Keras was "
                                                   f"already imported with backend '{current}'"):
        backend.select(other)
    with pytest.raises(backend.BackendError, match="expected one of"):
        backend.select("mxnet")


@pytest.mark.parametrize(("mixed", "gpu", "capability", "policy"), [
    (False, True, (9, 0), "float32"),
    (True, True, (9, 0), "mixed_bfloat16"),  # Hopper
    (True, True, (10, 0), "mixed_bfloat16"),
    (True, True, (8, 0), "mixed_float16"),  # Ampere: float16 unless asked
    (True, False, None, "mixed_float16"),
    ("mixed_bfloat16", True, (8, 6), "mixed_bfloat16"),
    ("mixed_float16", True, (9, 0), "mixed_float16"),
])
def test_precision_policy(mixed: bool | str, gpu: bool, capability: tuple[int, int] | None,
                          policy: str) -> None:
    assert backend._policy(mixed, gpu, capability) == policy
