"""Explanations the report places beside a result that could be mistaken for a bug."""

from __future__ import annotations

import html
from collections.abc import Mapping

#: Blau & Michaeli (2018), cited wherever the note appears (docs/models.md "gan")
PERCEPTION_DISTORTION = (
    "Blau &amp; Michaeli, “The perception-distortion tradeoff”, CVPR 2018")


def perception_distortion(kinds: Mapping[str, str]) -> str:
    """Why an adversarially trained model trails its L1-only twin on SNR, for a dataset whose
    models (``{name: kind}``) include one of kind ``gan``; "" otherwise.

    The adversarial loss rewards outputs distributed like clean signals (perceptual quality),
    the L1 loss rewards a small error (distortion). Blau & Michaeli (2018) prove the two cannot
    both be optimal: below some distortion every estimator's outputs are distributed unlike
    the clean signals, so moving toward realistic outputs costs SNR; for squared error an
    estimator with perfect perceptual quality can need up to twice the minimum MSE (3 dB).
    """
    gans = [m for m, k in kinds.items() if k == "gan"]
    if not gans:
        return ""
    twins = [m for m, k in kinds.items() if k == "gan_l1"]
    names = ", ".join(f"<code>{html.escape(m)}</code>" for m in gans)
    versus = " trails L1-trained models"
    if twins:
        versus = (" trails " + ", ".join(f"<code>{html.escape(m)}</code>" for m in twins)
                  + " (the same generator trained on L1 alone)")
    return (
        f"<p class=note><b>Why {names}{versus} on SNR: expected, not a bug.</b> Its "
        "adversarial loss rewards outputs that a discriminator cannot tell from clean signals "
        "(perceptual quality); L1 rewards a small error (distortion), which is what SNR, MAE "
        "and SI-SDR measure. The perception–distortion trade-off "
        f"({PERCEPTION_DISTORTION}) shows that no denoiser can be best at both: past a "
        "point, every gain in realism costs distortion (for squared error, perfect realism "
        "can cost up to twice the minimum MSE, 3 dB of SNR). Judge the adversarial model by "
        "its panels and spectra, and its twin by these columns.</p>")
