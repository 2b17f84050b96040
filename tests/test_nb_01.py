"""Notebook 01 (matrix factorisation): run it and check the figures it recorded.

Observed at the default settings (seeds 42, 43, 44; mean ± std over the seeds):

* BiasedMF, random 80/20 split, test RMSE 0.9045 ± 0.0009 (MAE 0.7143); canonical 0.9643 ± 0.0009.
* BiasedMF ranked by predicted rating, canonical test NDCG@10 0.0256 ± 0.0011 (0.35 × Popularity).
* ImplicitMF (the notebook's ranker), canonical test NDCG@10 0.1260 ± 0.0038 (1.70 × Popularity).
* GenreNet classifier, random-split test accuracy 0.4487 ± 0.0029 (majority class 0.3416);
  RMSE of its expected rating 0.9222 ± 0.0010, of its most likely rating 1.0809 ± 0.0019.

Each seed must lie within mean ± max(4 std, floor) of these figures, the floors covering
run-to-run differences between machines and library builds.
A broken run (training ratings shuffled, the ranker's training user ids shuffled) gave RMSE
1.1260, ImplicitMF NDCG@10 0.0669 (Popularity 0.0743) and accuracy 0.3415 (majority 0.3416),
and failed the three metric tests.
"""

import numpy as np
import pytest
from notebook_runner import assert_near, execute, figures, solutions_ran

from recutils.baselines import Popularity
from recutils.evaluation import evaluate
from recutils.splits import canonical_split, random_split

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def run():
    return execute("01")


def test_biased_mf_rmse_on_the_random_split(run):
    rmse = figures(run, "BiasedMF", "random-80-20", "rmse")
    assert rmse.mean() <= 0.92, f"BiasedMF random 80/20 test RMSE {rmse.mean():.4f} > 0.92"
    assert_near(rmse, 0.9045, 0.0009, floor=0.006)
    assert_near(figures(run, "BiasedMF", "canonical", "rmse"), 0.9643, 0.0009, floor=0.008)


def test_the_ranker_clears_popularity_and_the_rating_model_does_not(run, ratings):
    split = canonical_split(ratings)
    popularity = evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")["ndcg@10"]
    ranker = figures(run, "ImplicitMF", "canonical", "ndcg@10")
    assert ranker.mean() >= 1.25 * popularity, (
        f"ImplicitMF NDCG@10 {ranker.mean():.4f} < 1.25 x Popularity {popularity:.4f}")
    assert_near(ranker, 0.1260, 0.0038, floor=0.01)
    # The notebook's pitfall: ranking by predicted rating is worse than popularity.
    by_rating = figures(run, "BiasedMF", "canonical", "ndcg@10")
    assert by_rating.mean() < popularity
    assert_near(by_rating, 0.0256, 0.0011, floor=0.006)


def test_the_deep_classifier_beats_the_majority_class(run, ratings):
    split = random_split(ratings)
    majority = split.frame("train+valid")["rating"].mode()[0]
    majority_share = float(np.mean(split.test["rating"] == majority))
    accuracy = figures(run, "GenreNet-classification", "random-80-20", "accuracy")
    assert np.all(accuracy > majority_share + 0.05), f"accuracy {accuracy} vs majority {majority_share:.4f}"
    assert_near(accuracy, 0.4487, 0.0029, floor=0.01)
    # The expected rating is a better RMSE estimate than the most likely rating.
    expected = figures(run, "GenreNet-classification", "random-80-20", "rmse")
    stars = figures(run, "GenreNet-classification", "random-80-20", "rmse_stars")
    assert np.all(expected < stars)
    assert_near(expected, 0.9222, 0.0010, floor=0.008)


def test_the_solutions_ran(run):
    assert solutions_ran(run.executed) >= 3
