"""The HTML report: contents from a tiny evaluation.

The evaluation runs for real (baselines tuned on train, bounds, SNR sweep) on tiny generated
data, with the model replaced by a stub so that no TensorFlow is needed. The headless-Chromium
render of the real tiny pipeline run's report is ``tests/e2e/test_report_browser.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import signal

from denoisebench import evaluation, report
from denoisebench.config import read_yaml
from denoisebench.data import generate
from denoisebench.evaluation import bounds

REPO = Path(__file__).resolve().parents[3]


# --------------------------------------------------------------------------- a tiny run


class StubDenoiser:
    """Stands in for :class:`denoisebench.inference.Denoiser`: a fixed Butterworth lowpass."""

    def __init__(self, folder: Any, batch_size: int = 1024) -> None:
        self.metadata = {"trainable_params": 1234, "seed_params": 282_177}
        self._sos = signal.butter(2, 50.0, fs=256.0, output="sos")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return signal.sosfiltfilt(self._sos, x, axis=-1).astype(np.float32)


def tiny_config() -> dict[str, Any]:
    base = read_yaml(REPO / "params.yaml")
    ds = {**base["datasets"]["multisine"], "train_size": 120, "validation_size": 60,
          "train_shards": 1, "validation_shards": 1}
    ev = {**base["evaluation"], "bootstrap": 200, "panels": 2, "tune_examples": 60,
          "sweep": {"snr_min_db": -10.0, "snr_max_db": 20.0, "step_db": 10.0, "examples": 20}}
    models = {"net_a": {"kind": "gan_l1", "dataset": "tiny"},
              "net_b": {"kind": "gan", "dataset": "tiny"}}
    return {"seed": 7, "datasets": {"tiny": ds}, "models": models, "evaluation": ev}


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder with generated data, evaluated stub models and a rendered report."""
    root = tmp_path_factory.mktemp("report")
    cfg = tiny_config()
    ds = cfg["datasets"]["tiny"]
    data = generate.dataset_root("tiny", root / "data")
    for split in ("train", "validation"):
        generate.generate_shard("tiny", ds, cfg["seed"], split, 0, data)
    generate.build_manifest("tiny", ds, cfg["seed"], data)
    mp = pytest.MonkeyPatch()
    import denoisebench.inference as inference

    mp.setattr(inference, "Denoiser", StubDenoiser)
    try:
        for i, m in enumerate(cfg["models"]):
            evaluation.evaluate(cfg, m, model_dir=root / "models" / m, data_dir=root / "data",
                                out_dir=root / "metrics")
            folder = root / "models" / m
            folder.mkdir(parents=True, exist_ok=True)
            pd.DataFrame({"epoch": [0, 1, 2], "l1": [0.3, 0.25, 0.2 - i / 100],
                          "val_l1": [0.28, 0.24, 0.22]}).to_csv(folder / "history.csv",
                                                                 index=False)
            (folder / "metadata.json").write_text(json.dumps(
                {"trainable_params": 1234, "seed_params": 282_177, "source": "stub",
                 "train_examples": 120, "best_val_l1": 0.22, "epochs_this_run": 3,
                 "train_seconds_this_run": 41.5,
                 **({"backend": "jax"} if i == 0 else {})}))  # net_b: written before backends
    finally:
        mp.undo()
    report.render(cfg, root / "metrics", root / "models", root / "reports")
    return root


def test_metrics_have_baselines_bounds_and_limit(tiny_report: Path) -> None:
    cfg = tiny_config()
    m = json.loads((tiny_report / "metrics/net_a.json").read_text())
    assert list(m) == evaluation.method_names(cfg, "net_a")
    assert list(m)[:2] == ["net_a", "lowpass"] and list(m)[-1] == "cramer_rao"
    for name, s in m.items():
        for v in s.values():  # DVC metrics stay numeric
            assert isinstance(v, int | float | list), (name, v)
        if name == "cramer_rao":
            assert s["snri_db_agg"] == pytest.approx(10 * np.log10(256 / 9))
            continue
        assert s["n"] == 60
        lo, hi = s["snri_db_agg_ci"]
        assert lo <= s["snri_db_agg"] <= hi, name
    assert m["savgol"]["tuned_on_train"] == 60 and m["savgol"]["window"] % 2 == 1
    assert m["nls"]["fitted_params"] == 9 and m["oracle_ls"]["fitted_params"] == 6
    # the stub is a lowpass: between the seed's lowpass and the limit
    assert m["lowpass"]["snri_db_agg"] < m["net_a"]["snri_db_agg"] < m["nls"]["snri_db_agg"]
    ex = pd.read_parquet(tiny_report / "metrics/net_a/examples.parquet")
    assert set(ex["method"]) == set(m) - {"cramer_rao"} and len(ex) == 60 * (len(m) - 1)
    assert set(ex["kind"]) == {"model", "baseline", "oracle", "parametric"}
    sub = ex[ex["method"] == "wavelet"]
    assert np.isclose(10 * np.log10(sub["noise_energy"].sum() / sub["error_energy"].sum()),
                      m["wavelet"]["snri_db_agg"])


def test_cost_json_times_every_method(tiny_report: Path) -> None:
    m = json.loads((tiny_report / "metrics/net_a.json").read_text())
    cost = json.loads((tiny_report / "metrics/net_a/cost.json").read_text())
    assert list(cost["methods"]) == [k for k in m if k != "cramer_rao"]
    for name, c in cost["methods"].items():
        assert c["examples"] == 60 and c["infer_s_per_1000"] > 0, name
    assert "infer_s_per_1000" not in json.dumps(m)  # wall times stay out of the metrics
    assert m["savgol"]["tuned_params"] == 2 and "tuned_params" not in m["lowpass"]


def test_sweep_csv(tiny_report: Path) -> None:
    sw = pd.read_csv(tiny_report / "metrics/net_a/sweep.csv")
    assert list(sw["snr_in_db"]) == [-10.0, 0.0, 10.0, 20.0]
    names = evaluation.method_names(tiny_config(), "net_a")
    for n in names[:-1]:
        assert {n, f"{n}_ci_low", f"{n}_ci_high"} <= set(sw.columns)
        assert (sw[f"{n}_ci_low"] <= sw[n] + 1e-4).all()
        assert (sw[n] <= sw[f"{n}_ci_high"] + 1e-4).all()
    assert list(sw["cramer_rao"]) == pytest.approx([bounds.cramer_rao_snri_db(256, 9)] * 4,
                                                   abs=1e-4)
    # the oracle LS keeps its ~10 log10(256 / 6) = 16.3 dB at every input SNR
    assert sw["oracle_ls"].between(14.0, 18.5).all()
    # the same baseline curves in every model's sweep
    other = pd.read_csv(tiny_report / "metrics/net_b/sweep.csv")
    pd.testing.assert_series_equal(sw["savgol"], other["savgol"])


def test_report_first_screen(tiny_report: Path) -> None:
    html = (tiny_report / "reports/index.html").read_text()
    first = html[: html.index("<h2")]  # everything before the first dataset section
    for text in ("Use <b>", "below the limit", "Cramér–Rao bound", "blind NLS sinusoid fit",
                 "oracle LS fit", "Savitzky–Golay, tuned", "net_a", "net_b", "class=summary"):
        assert text in first, text
    for text in ("inference (s / 1,000)", "training (s)", "<td>1,234</td><td>41.5</td>",
                 "2 tuned", "9 fitted", "Why <code>net_b</code> trails <code>net_a</code>",
                 "Blau"):
        assert text in first, text
    for png in ("tiny_snri.png", "tiny_cost.png", "tiny_sweep.png", "tiny_training.png",
                "net_a_panels.png"):
        data = (tiny_report / "reports/figures" / png).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert f"figures/{png}" in html
    assert "http://" not in html and "https://" not in html and "<script" not in html
    assert "Keras backend: jax (net_a); tensorflow (net_b)" in html  # training.backend


def test_sections_drawn_in_processes_match_one_process(tiny_report: Path) -> None:
    """``render(workers=2)`` (the report rule's two threads) draws the datasets' sections in
    two processes: the page and every figure are byte for byte those of one process."""
    cfg = tiny_config()
    cfg["datasets"]["tiny_b"] = cfg["datasets"]["tiny"]
    cfg["models"]["net_b"]["dataset"] = "tiny_b"  # two sections: the pool has work to share
    pages = {}
    for workers in (1, 2):
        out = tiny_report / f"reports-{workers}"
        report.render(cfg, tiny_report / "metrics", tiny_report / "models", out, workers=workers)
        page = (out / "index.html").read_text()
        pages[workers] = (page[: page.index("rendered ")],
                          {p.name: p.read_bytes() for p in sorted((out / "figures").iterdir())})
    assert "id='ds-tiny_b'" in pages[2][0]
    assert {"net_a_panels.png", "net_b_panels.png", "tiny_b_snri.png"} <= set(pages[2][1])
    assert pages[1] == pages[2]
    with pytest.raises(ValueError, match="workers must be at least 1, got 0"):
        report.render(cfg, tiny_report / "metrics", tiny_report / "models",
                      tiny_report / "reports-0", workers=0)


def test_verdict_above_the_limit_says_why_it_can_be() -> None:
    """A model past the Cramér–Rao bound (configs/full.yaml's multisine_spectral: 14.89 dB
    against 14.54) is told apart from one below it, with the reason, not a negative gap."""
    from denoisebench.report.signals import verdict

    def table(snri: float) -> pd.DataFrame:
        return pd.DataFrame([
            {"method": "net", "label": "net", "kind": "model", "snri_db_agg": snri,
             "snri_lo": snri - 0.2, "snri_hi": snri + 0.2, "mae": 0.08},
            {"method": "bandpass", "label": "band-pass", "kind": "baseline", "snri_db_agg": 4.5,
             "snri_lo": 4.4, "snri_hi": 4.6, "mae": 0.24}])

    limit = ("Cramér–Rao bound, p = 9", 14.54)
    best, below = verdict(table(13.82), limit)
    assert best == "net" and "0.72 dB below the limit (Cramér–Rao bound, p = 9, 14.54 dB)" in below
    _, above = verdict(table(14.89), limit)
    assert "0.35 dB above the limit" in above and "unbiased" in above and "-0." not in above
