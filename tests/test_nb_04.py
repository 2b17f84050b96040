"""Notebook 04 (GRU sequence recommender): run it and check the figures it recorded.

Observed at the default settings (seeds 42, 43, 44; mean ± std over the seeds):

* GRU4Rec, canonical test NDCG@10 0.1477 ± 0.0005 (seeds 0.1471, 0.1478, 0.1483; 2.0 ×
  Popularity's 0.0743; 9 of at most 10 epochs, batch_size 256). Earlier defaults (batch_size
  128, 12 epochs) gave 0.1482 ± 0.0036: the floor below covers both.
* GRU4Rec, leave-last-out test (seed 42, all items ranked): HR@10 0.147, NDCG@10 0.076
  (0.164 and 0.086 with the earlier defaults); Popularity on the same protocol 0.050 and 0.025.

Each seed must lie within mean ± max(4 std, floor) of these figures, the floor covering
run-to-run differences between machines and library builds (TensorFlow on CPU is not bitwise
reproducible across thread schedules).
A broken run (with the earlier defaults; every window's targets taken from another, shuffled
window, so inputs and next items no longer belong together) gave canonical NDCG@10 0.0590 /
0.0656 / 0.0557 (mean 0.0601, below Popularity) and leave-last-out HR@10 0.037 (Popularity
0.050), and failed both metric tests.
"""

import pytest
from notebook_runner import SEEDS, assert_near, execute, figures, solutions_ran

from recutils.baselines import Popularity
from recutils.evaluation import evaluate
from recutils.sequences import leave_last_out_split
from recutils.splits import Split, canonical_split

pytestmark = pytest.mark.notebook

NOTEBOOK = "04_gru_sequence_recommender"


@pytest.fixture(scope="module")
def run():
    return execute("04")


def popularity(split: Split) -> dict[str, float]:
    """Popularity fitted on train+valid and scored on test: the floor on the same protocol."""
    return evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")


def test_canonical_ndcg_clears_popularity(run, ratings):
    floor = popularity(canonical_split(ratings))["ndcg@10"]
    ndcg = figures(run, "GRU4Rec", "canonical", "ndcg@10")
    assert ndcg.mean() >= 1.25 * floor, f"GRU4Rec NDCG@10 {ndcg} < 1.25 x Popularity {floor:.4f}"
    assert_near(ndcg, 0.1477, 0.0005, floor=0.01)
    # The number of epochs was chosen on valid, within the range the notebook tried (1..10).
    rows = run.results.query("model == 'GRU4Rec'")
    assert rows["params.epochs"].between(1, 10).all() and rows["params.epochs"].nunique() == 1


def test_leave_last_out_beats_popularity(run, ratings):
    floor = popularity(leave_last_out_split(ratings))
    # One seed only, so the bands are floors: about 2.5 binomial standard errors over 943 users.
    for metric, observed, band in (("hit_rate@10", 0.147, 0.03), ("ndcg@10", 0.076, 0.02)):
        value = figures(run, "GRU4Rec", "leave-last-out", metric, seeds={42})
        assert value[0] > floor[metric], (
            f"leave-last-out {metric} {value[0]:.4f} <= Popularity {floor[metric]:.4f}")
        assert_near(value, observed, 0.0, floor=band)


def test_tensorboard_has_the_loss_and_the_validation_metric(run):
    logs = run.reports / "tensorboard" / NOTEBOOK
    assert list((logs / "gru-train" / "train").glob("events.out.tfevents*"))
    assert list((logs / "gru-train" / "validation").glob("events.out.tfevents*"))  # val_ndcg@10
    for seed in SEEDS:
        assert list((logs / f"gru-final-seed{seed}" / "train").glob("events.out.tfevents*"))


def test_the_solutions_ran(run):
    assert solutions_ran(run.executed) >= 3
