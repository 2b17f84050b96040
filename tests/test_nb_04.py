"""Notebook 04 (GRU sequence recommender): run it and check the figures it recorded.

Observed at the default settings (seeds 42, 43, 44; mean ± std over the seeds):

* GRU4Rec, canonical test NDCG@10 0.1482 ± 0.0036 (seeds 0.1444, 0.1516, 0.1486; 2.0 ×
  Popularity's 0.0743; an earlier run with batch_size 256 gave 0.1495 ± 0.0034).
* GRU4Rec, leave-last-out test (seed 42, all items ranked): HR@10 0.164, NDCG@10 0.086;
  Popularity on the same protocol 0.050 and 0.025.

Each seed must lie within mean ± max(4 std, floor) of these figures, the floor covering
run-to-run differences between machines and library builds (TensorFlow on CPU is not bitwise
reproducible across thread schedules).
A broken run (every window's targets taken from another, shuffled window, so inputs and next
items no longer belong together) gave canonical NDCG@10 0.0590 / 0.0656 / 0.0557 (mean 0.0601,
below Popularity) and leave-last-out HR@10 0.037 (Popularity 0.050), and failed both metric tests.
"""

import nbformat
import numpy as np
import pytest
from notebook_runner import execute

from recutils.baselines import Popularity
from recutils.datasets import load_movielens
from recutils.evaluation import evaluate
from recutils.sequences import leave_last_out_split
from recutils.splits import Split, canonical_split

pytestmark = pytest.mark.notebook

SEEDS = {42, 43, 44}
NOTEBOOK = "04_gru_sequence_recommender"


@pytest.fixture(scope="module")
def run():
    return execute("04")


@pytest.fixture(scope="module")
def ratings():
    return load_movielens("100k", verbose=False).ratings


def figures(run, split: str, metric: str, seeds: set[int] = SEEDS) -> np.ndarray:
    """One value per seed of a metric GRU4Rec recorded on a split's test part."""
    rows = run.results.query("model == 'GRU4Rec' and split == @split and part == 'test'")
    assert set(rows["seed"]) == seeds, f"GRU4Rec on {split}: seeds {sorted(rows['seed'])}"
    return rows[metric].to_numpy(dtype=float)


def popularity(split: Split) -> dict[str, float]:
    """Popularity fitted on train+valid and scored on test: the floor on the same protocol."""
    return evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")


def assert_near(values: np.ndarray, mean: float, std: float, floor: float) -> None:
    """Every seed within mean ± max(4 std, floor) of the figure observed when the test was written."""
    band = max(4 * std, floor)
    assert np.all(np.abs(values - mean) <= band), f"{values} outside {mean} ± {band:.4f}"


def test_canonical_ndcg_clears_popularity(run, ratings):
    floor = popularity(canonical_split(ratings))["ndcg@10"]
    ndcg = figures(run, "canonical", "ndcg@10")
    assert ndcg.mean() >= 1.25 * floor, f"GRU4Rec NDCG@10 {ndcg} < 1.25 x Popularity {floor:.4f}"
    assert_near(ndcg, 0.1482, 0.0036, floor=0.01)
    # The number of epochs was chosen on valid, within the range the notebook tried (1..12).
    rows = run.results.query("model == 'GRU4Rec'")
    assert rows["params.epochs"].between(1, 12).all() and rows["params.epochs"].nunique() == 1


def test_leave_last_out_beats_popularity(run, ratings):
    floor = popularity(leave_last_out_split(ratings))
    # One seed only, so the bands are floors: about 2.5 binomial standard errors over 943 users.
    for metric, observed, band in (("hit_rate@10", 0.164, 0.03), ("ndcg@10", 0.086, 0.02)):
        value = figures(run, "leave-last-out", metric, seeds={42})
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
    nb = nbformat.read(run.executed, as_version=4)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 3
    for cell in solutions:
        assert cell.source.startswith("# Solution to exercise")
        assert cell.metadata["jupyter"]["source_hidden"] is True
        assert cell.outputs, f"{cell.id} produced no output"
        assert not [o for o in cell.outputs if o.output_type == "error"], f"{cell.id} failed"
