"""Rating baselines: hand-worked biases, and real figures that a broken fit cannot reach."""

import numpy as np
import pandas as pd
import pytest

from recutils.rating_baselines import GlobalMean, UserItemBias, evaluate_rating_baselines
from recutils.splits import Split, canonical_split, random_split


def _tiny_split() -> Split:
    """Two users, four items; per user the first two ratings (by time) are the train part:
    user 1 rates items 10 and 20 with 4 and 5, user 2 with 2 and 3."""
    frame = pd.DataFrame({"user_id": [1, 1, 1, 1, 2, 2, 2, 2],
                          "item_id": [10, 20, 30, 40, 10, 20, 30, 40],
                          "rating": np.array([4, 5, 3, 3, 2, 3, 3, 3], dtype="float32"),
                          "timestamp": [0, 1, 2, 3, 0, 1, 2, 3]})
    return canonical_split(frame)


def test_global_mean_is_the_training_mean():
    split = _tiny_split()
    model = GlobalMean().fit(split)
    assert model.mean_ == pytest.approx(split.train["rating"].mean())
    assert model.predict(np.array([0, 1]), np.array([1, 0])).tolist() == [model.mean_] * 2


def test_unregularised_biases_solve_the_additive_model():
    # Ratings 4,5 (user 1) and 2,3 (user 2) are exactly mu + b_u + b_i: without regularisation
    # alternating least squares recovers them.
    split = _tiny_split()
    model = UserItemBias(reg_user=0.0, reg_item=0.0, sweeps=50).fit(split)
    users, items = split.encode(split.train)
    np.testing.assert_allclose(model.predict(users, items), split.train["rating"], atol=1e-6)
    assert model.user_bias_[0] - model.user_bias_[1] == pytest.approx(2.0)
    assert model.item_bias_[1] - model.item_bias_[0] == pytest.approx(1.0)


def test_regularisation_shrinks_the_biases():
    split = _tiny_split()
    free = UserItemBias(reg_user=0.0, reg_item=0.0).fit(split)
    shrunk = UserItemBias(reg_user=100.0, reg_item=100.0).fit(split)
    assert np.abs(shrunk.user_bias_).max() < 0.1 * np.abs(free.user_bias_).max()


def test_empty_part_is_refused(ratings):
    split = canonical_split(ratings)
    empty = Split("empty", split.train.iloc[:0], split.valid, split.test, split.users, split.items)
    with pytest.raises(ValueError, match="'train' part of the split has no ratings"):
        GlobalMean().fit(empty)


def test_real_figures_on_both_splits(ratings):
    # Measured: canonical test 1.227 / 0.999, random 80/20 test 1.124 / 0.940 (Surprise reports
    # 0.944 for BaselineOnly on ML-100K, 5-fold).
    canonical = evaluate_rating_baselines(canonical_split(ratings))
    random = evaluate_rating_baselines(random_split(ratings))
    assert canonical.loc["UserItemBias", "rmse"] == pytest.approx(0.999, abs=0.005)
    assert random.loc["UserItemBias", "rmse"] == pytest.approx(0.940, abs=0.005)
    assert random.loc["GlobalMean", "rmse"] == pytest.approx(1.124, abs=0.005)
    assert (canonical["mae"] < canonical["rmse"]).all()


def test_biases_learned_from_shuffled_ratings_do_not_beat_the_mean(ratings):
    """The failing case the real-figures test guards against: no signal, no gain."""
    shuffled = ratings.assign(rating=np.random.default_rng(0).permutation(ratings["rating"].to_numpy()))
    table = evaluate_rating_baselines(random_split(shuffled))
    assert table.loc["UserItemBias", "rmse"] > table.loc["GlobalMean", "rmse"] - 0.01
