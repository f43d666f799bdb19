"""The image section of the report: BM3D judged on a subset (its size, interval and the model
on the same images shown), the deblurring oracle kept out of "best", the cost columns, and
the notice when the optional bm3d package was missing. Synthetic metrics: no evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from denoisebench.report import images

DS = {"kind": "images_blur", "source": "synthetic", "blur_sigma_min": 0.0,
      "blur_sigma_max": 2.0, "noise_range_min": 0.01, "noise_range_max": 1.5}


def row(psnr: float, n: int = 100, **extra: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"n": n}
    for key, v in (("psnr_db", psnr), ("ssim", psnr / 40), ("mse", 0.01), ("mae", 0.05)):
        out[key], out[f"{key}_ci"] = v, [v - 0.1, v + 0.1]
    return {**out, **extra}


def metrics(bm3d: bool) -> dict[str, Any]:
    m: dict[str, Any] = {"net": row(17.0, params=4385, seed_params=4385),
                         "gaussian": row(15.1, sigma=0.9, tuned_params=1,
                                         tuned_on_train_images=500),
                         "noisy": row(6.0)}
    if bm3d:
        paired = {"validation_images": 100, "model_psnr_db_same_images": 16.8,
                  "model_psnr_db_same_images_ci": [16.1, 17.5],
                  "model_ssim_same_images": 0.5, "model_ssim_same_images_ci": [0.4, 0.6]}
        m["bm3d"] = row(18.0, 10, sigma_psd=0.31, tuned_params=2, tuned_on_train_images=5,
                        psnr_db_minus_model=1.2, psnr_db_minus_model_ci=[0.9, 1.5], **paired)
        m["bm3d_deblurring"] = row(21.0, 10, psnr_db_minus_model=4.2,
                                   psnr_db_minus_model_ci=[3.9, 4.6], **paired)
    return m


def render(tmp_path: Path, bm3d: bool) -> str:
    (tmp_path / "metrics" / "net").mkdir(parents=True)
    (tmp_path / "metrics" / "net" / "cost.json").write_text(json.dumps({"threads": 1, "methods": {
        "net": {"infer_s_per_1000": 0.25, "examples": 100},
        "gaussian": {"infer_s_per_1000": 0.0312, "examples": 100},
        "bm3d": {"infer_s_per_1000": 312.0, "examples": 10}}}))
    meta = {"net": {"trainable_params": 4385, "seed_params": 4385,
                    "train_seconds_this_run": 61.2, "epochs_this_run": 6}}
    head, body = images.section("blur", DS, ["net"], {"net": metrics(bm3d)}, meta,
                                tmp_path / "metrics", tmp_path / "models", tmp_path)
    return head + body


def test_subset_rows_are_visible(tmp_path: Path) -> None:
    html = render(tmp_path, bm3d=True)
    # judged on all images, not the subset's bm3d (18 dB) nor the oracle (21 dB)
    assert "Best PSNR on all 100 images: <b>net</b>" in html
    assert "<tr class='oracle'><td>bm3d_deblurring</td>" in html
    oracle_row = html[html.index("<td>bm3d_deblurring</td>"):]
    assert "background" not in oracle_row[: oracle_row.index("</tr>")]  # never "best"
    assert "judged on 10 of the 100 validation images" in html
    assert "<b>net</b> 16.80 dB, against it bm3d +1.20 dB" in html
    assert "[+0.90, +1.50]" in html and "bm3d_deblurring +4.20 dB" in html
    bm3d_row = html[html.index("<td>bm3d</td>"):]
    bm3d_row = bm3d_row[: bm3d_row.index("</tr>")]
    assert "<td>10</td>" in bm3d_row and "2 tuned" in bm3d_row and "312" in bm3d_row
    assert "background" not in bm3d_row  # its subset mean is not compared with the rest
    assert "sigma_psd 0.31" in bm3d_row and "model_" not in bm3d_row
    net_row = html[html.index("<td>net</td>"):]
    net_row = net_row[: net_row.index("</tr>")]
    assert "4,385" in net_row and "61.2" in net_row and "0.25" in net_row
    assert "inference (s / 1,000)" in html and (tmp_path / "blur_cost.png").exists()
    assert "bm3d (10 images)" not in html  # labels are in the figure, not the page


def test_missing_bm3d_is_explained(tmp_path: Path) -> None:
    html = render(tmp_path, bm3d=False)
    assert "BM3D: no row" in html and "non-commercial" in html
    assert "bm3d_deblurring" not in html
