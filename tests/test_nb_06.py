"""Notebook 06 (restricted Boltzmann machines): run it and check the figures it recorded.

Observed at the default settings (seeds 42, 43, 44; mean ± std over the seeds), canonical
split, test part:

* SoftmaxRBM (rating RBM with shared weights), RMSE 0.9866 ± 0.0012 (UserItemBias 0.9992);
  its ranking by expected rating, NDCG@10 0.0293 ± 0.0008 (0.39 × Popularity).
* BinaryRBM (implicit feedback), NDCG@10 0.1216 ± 0.0035 (1.64 × Popularity's 0.0743).

Each seed must lie within mean ± max(4 std, floor) of these figures, the floors covering
run-to-run differences between machines and library builds.
A broken run (the training ratings shuffled across all rated pairs, and the rows of the
watched-films matrix shuffled across users) gave SoftmaxRBM RMSE 1.2108 ± 0.0001 and BinaryRBM
NDCG@10 0.0672 ± 0.0027, and failed these tests.
"""

import numpy as np
import pytest
from notebook_runner import SEEDS, assert_near, execute, figure_count, figures, solutions_ran

from recutils.baselines import Popularity
from recutils.evaluation import evaluate
from recutils.rating_baselines import evaluate_rating_baselines

pytestmark = pytest.mark.notebook

NOTEBOOK = "06_restricted_boltzmann_machine"


@pytest.fixture(scope="module")
def run():
    return execute("06")


def test_the_softmax_rbm_beats_the_bias_baseline_on_rmse(run, split):
    bias = evaluate_rating_baselines(split).loc["UserItemBias", "rmse"]
    rbm = figures(run, "SoftmaxRBM", "canonical", "rmse")
    assert rbm.mean() < bias, f"SoftmaxRBM test RMSE {rbm.mean():.4f} >= UserItemBias {bias:.4f}"
    assert np.all(rbm < bias), f"a seed does not beat UserItemBias ({bias:.4f}): {rbm}"
    assert_near(rbm, 0.9866, 0.0012, floor=0.006)


def test_the_binary_rbm_clears_popularity_and_the_rating_rbm_does_not(run, split):
    popularity = evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")["ndcg@10"]
    ranker = figures(run, "BinaryRBM", "canonical", "ndcg@10")
    assert ranker.mean() >= 1.25 * popularity, (
        f"BinaryRBM NDCG@10 {ranker.mean():.4f} < 1.25 x Popularity {popularity:.4f}")
    assert_near(ranker, 0.1216, 0.0035, floor=0.01)
    # The notebook's third pitfall: ranking by expected rating is worse than popularity.
    by_rating = figures(run, "SoftmaxRBM", "canonical", "ndcg@10")
    assert by_rating.mean() < popularity
    assert_near(by_rating, 0.0293, 0.0008, floor=0.006)


def test_training_was_logged_and_drawn(run):
    logs = run.reports / "tensorboard" / NOTEBOOK
    for name in ("softmax-paper", "binary-train", *(f"softmax-final-seed{s}" for s in sorted(SEEDS))):
        assert list((logs / name / "train").glob("events.out.tfevents.*")), f"no TensorBoard log for {name}"
    assert list((logs / "binary-train" / "validation").glob("events.out.tfevents.*"))
    assert figure_count(run.executed) >= 3


def test_the_solutions_ran(run):
    assert solutions_ran(run.executed) >= 3
