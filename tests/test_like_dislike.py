"""The like/dislike protocol of the original designs (recutils.like_dislike), on real ML-100K."""

import numpy as np
import pandas as pd
import pytest

from recutils.like_dislike import (
    SPLIT_NAME,
    collaborative_frame,
    like_accuracy,
    liked,
    majority_baselines,
    per_user_accuracy,
    study_split,
)
from recutils.reporting import load_per_user, load_results, record_metrics


@pytest.fixture(scope="module")
def study(ratings):
    return study_split(ratings)


def test_each_user_is_split_70_30_in_time_order(study):
    assert study.name == SPLIT_NAME and study.n_users == 300
    fit, test = study.frame("train+valid"), study.test
    counts = fit.groupby("user_id").size().add(test.groupby("user_id").size(), fill_value=0)
    assert counts.max() == 100 and set(test["user_id"]) == set(study.users.ids)
    share = test.groupby("user_id").size() / counts
    assert share.between(0.25, 0.35).all()
    # Every test rating is at least as new as the user's newest fitted one.
    assert (test.groupby("user_id")["timestamp"].min()
            >= fit.groupby("user_id")["timestamp"].max().reindex(test["user_id"].unique())).all()


def test_the_same_seed_draws_the_same_users_and_another_does_not(ratings, study):
    assert np.array_equal(study_split(ratings).users.ids, study.users.ids)
    assert not np.array_equal(study_split(ratings, seed=0).users.ids, study.users.ids)


def test_accuracy_by_hand():
    frame = pd.DataFrame({"user_id": [1, 1, 1, 2], "rating": [5, 4, 2, 3]})
    assert liked(frame).tolist() == [1, 1, 0, 0]
    accuracy = per_user_accuracy(frame, [1, 0, 0, 1])
    assert accuracy.to_dict() == {1: pytest.approx(2 / 3), 2: 0.0}
    result = like_accuracy(frame, [1, 0, 0, 1])
    assert result == {"accuracy": pytest.approx(1 / 3)} and result.per_user["accuracy"].equals(accuracy)


def test_majority_baselines_on_real_data(study):
    baselines = {name: result.per_user["accuracy"] for name, result in majority_baselines(study).items()}
    always = baselines["AlwaysLike"]
    assert always.index.tolist() == sorted(study.users.ids)
    expected = pd.Series(liked(study.test), index=study.test["user_id"]).groupby(level=0).mean()
    assert np.allclose(always, expected)
    # A user's own majority is never worse than the worse of always-like and always-dislike.
    assert (baselines["UserMajority"] >= np.minimum(always, 1 - always) - 1e-12).all()
    assert baselines["UserMajority"].mean() > always.mean()


def test_recorded_per_user_accuracy_reads_back(tmp_path, monkeypatch, study):
    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path))
    result = majority_baselines(study)["UserMajority"]
    record_metrics("05_x", "UserMajority", study, result)
    back = load_per_user(load_results(tmp_path / "results.jsonl").iloc[0])
    assert np.allclose(back["accuracy"], result.per_user["accuracy"].loc[back.index])


def test_collaborative_models_never_see_the_held_out_rows(ratings, study):
    frame = collaborative_frame(ratings, study)
    held = study.frame("valid+test")
    assert len(frame) == len(ratings) - len(held)
    assert frame.merge(held, on=["user_id", "item_id"]).empty
    assert len(collaborative_frame(ratings, study, held_out="test")) == len(ratings) - len(study.test)


@pytest.mark.parametrize("bad, message", [([1, 0], "predictions for"), ([1, np.nan, 0, 0], "NaN")])
def test_bad_predictions_are_refused(bad, message):
    frame = pd.DataFrame({"user_id": [1, 1, 1, 2], "rating": [5, 4, 2, 3]})
    with pytest.raises(ValueError, match=message):
        per_user_accuracy(frame, bad)


@pytest.mark.parametrize("kwargs", [{"n_users": 0}, {"n_users": 10_000}, {"max_ratings": 0}])
def test_nonsense_sizes_are_refused(ratings, kwargs):
    with pytest.raises(ValueError, match="n_users must be from 1 to 943"):
        study_split(ratings, **kwargs)
