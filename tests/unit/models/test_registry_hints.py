"""The registry's scheduling hint (models.expected_train_seconds): Snakemake starts the longest
trainings first, so the hint must order the default models like their measured times."""

from __future__ import annotations

from conftest import REPO

from denoisebench import config, models


def test_expected_train_seconds_orders_the_default_models() -> None:
    cfg = config.load([str(REPO / "params.yaml")])
    est = {n: models.expected_train_seconds(mp, cfg["datasets"][mp["dataset"]])
           for n, mp in cfg["models"].items()}
    # measured in the default run (BENCHMARKS.md W1): the GAN ~206 s, dense_ae ~19 s
    assert est["gan"] > est["gan_l1"] > est["bigru"] > est["rnn"] > est["dense_ae"] > 0
    assert max(est, key=est.get) == "gan"


def test_no_hint_without_rows_or_kind() -> None:
    assert models.expected_train_seconds({"kind": "gan", "epochs": 3}, {"kind": "folder"}) == 0
    assert models.expected_train_seconds({"kind": "nope", "epochs": 3}, {"train_size": 10}) == 0
    assert models.expected_train_seconds({"kind": "gan", "epochs": 2},
                                         {"train_size": 1000}) == 2 * 1000 * 4300e-6


def test_train_priority_keeps_the_order_from_milliseconds_to_hours() -> None:
    """Integer seconds tied every training of the tiny test params at 0; the log scale keeps
    them apart, stays below the data jobs' and evaluations' 1,000 and follows the hint."""
    cfg = config.load([str(REPO / "params.yaml"), str(REPO / "configs" / "tiny.yaml")])
    hint = {n: models.expected_train_seconds(mp, cfg["datasets"][mp["dataset"]])
            for n, mp in cfg["models"].items()}
    prio = {n: models.train_priority(mp, cfg["datasets"][mp["dataset"]])
            for n, mp in cfg["models"].items()}
    assert max(hint.values()) < 3 and len(set(prio.values())) == len(set(hint.values())), prio
    ranked = sorted(hint, key=hint.get)
    assert [prio[n] for n in ranked] == sorted(prio.values())
    # one gan epoch: 4.3 ms an example; 4.3 ms, 275 s (the default gan), 5 days, 136 years
    for rows, expected in ((0, 0), (1, 72), (64_000, 544), (10**8, 863), (10**12, 999)):
        assert models.train_priority({"kind": "gan", "epochs": 1}, {"train_size": rows}) \
            == expected, rows
