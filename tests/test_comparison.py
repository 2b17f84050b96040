"""The paired comparison: a hand-worked example, scipy's bootstrap and t-test, real baselines."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from recutils.baselines import EASE, ItemKNN, Popularity
from recutils.comparison import bootstrap_interval, compare, comparison_table, mean_over_seeds
from recutils.evaluation import evaluate


@pytest.fixture(scope="module")
def per_user(split):
    """Real per-user test metrics of the three baselines, with the settings 00 tunes on valid."""
    history = split.matrix("train+valid")
    models = {"Popularity": Popularity().fit(history),
              "ItemKNN": ItemKNN(neighbours=600, shrink=0.0).fit(history),
              "EASE": EASE(l2=100.0).fit(history)}
    return {name: evaluate(model.scores, split, "test").per_user for name, model in models.items()}


def test_hand_worked_bootstrap():
    # Differences 0 and 1: a resample of two users has mean 0, 0.5 or 1 with probabilities
    # 1/4, 1/2, 1/4, so its 2.5% and 97.5% quantiles are 0 and 1.
    assert bootstrap_interval([0.0, 1.0], resamples=10_000) == (0.0, 1.0)
    # Every user gains the same: no spread, the interval is that one value.
    assert bootstrap_interval([0.25] * 50) == pytest.approx((0.25, 0.25))


@pytest.mark.parametrize("bad, message", [([1.0], "at least two"), ([0.1, np.nan], "NaN"),
                                          ([[0.1, 0.2]], "one difference per user")])
def test_bootstrap_refuses_what_it_cannot_use(bad, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_interval(bad)
    with pytest.raises(ValueError, match="strictly between"):
        bootstrap_interval([0.1, 0.2], confidence=1.0)


def test_per_user_metrics_average_to_evaluate(split, per_user):
    ease = EASE(l2=100.0).fit(split.matrix("train+valid"))
    summary = evaluate(ease.scores, split, "test")
    assert len(per_user["EASE"]) == summary["users"] == 943
    for metric, value in per_user["EASE"].mean().items():
        assert value == pytest.approx(summary[metric], abs=1e-12), metric
    assert per_user["EASE"].index.name == "user_id" and per_user["EASE"].index.is_unique


def test_agrees_with_scipy_on_real_figures(per_user):
    ease, knn = per_user["EASE"]["ndcg@10"].to_numpy(), per_user["ItemKNN"]["ndcg@10"].to_numpy()
    ours = compare(per_user["EASE"], per_user["ItemKNN"], names=("EASE", "ItemKNN"))
    theirs = stats.bootstrap((ease, knn), lambda a, b, axis: np.mean(a - b, axis=axis), paired=True,
                             method="percentile", n_resamples=10_000, random_state=1, vectorized=True)
    interval = theirs.confidence_interval
    # Two Monte Carlo estimates of the same quantiles: equal to well within the interval's width.
    assert ours.low == pytest.approx(interval.low, abs=0.001)
    assert ours.high == pytest.approx(interval.high, abs=0.001)
    assert ours.p_value == pytest.approx(stats.ttest_rel(ease, knn).pvalue, rel=1e-12)
    assert ours.difference == pytest.approx(ease.mean() - knn.mean())


def test_real_differences_are_told_from_noise(per_user):
    ease_vs_pop = compare(per_user["EASE"], per_user["Popularity"], names=("EASE", "Popularity"))
    assert ease_vs_pop.real and ease_vs_pop.verdict == "EASE better" and ease_vs_pop.low > 0.03
    ease_vs_knn = compare(per_user["EASE"], per_user["ItemKNN"], names=("EASE", "ItemKNN"))
    # The figures the README states (deterministic: tuned baselines, seeded resampling).
    assert (round(ease_vs_knn.difference, 4), round(ease_vs_knn.low, 4), round(ease_vs_knn.high, 4)) == (
        0.0117, 0.0036, 0.0200)
    assert round(ease_vs_knn.p_value, 4) == 0.0047 and ease_vs_knn.real
    # EASE against itself with noise no larger than a per-user NDCG step: not a real difference.
    noisy = per_user["EASE"].copy()
    noisy["ndcg@10"] += np.random.default_rng(0).normal(0, 0.05, len(noisy))
    assert not compare(noisy, per_user["EASE"]).real
    assert "EASE better" in str(ease_vs_pop) and "paired bootstrap over 943 users" in str(ease_vs_pop)


def test_unpaired_users_are_refused(per_user):
    with pytest.raises(ValueError, match="different users .*score both on the same split"):
        compare(per_user["EASE"].iloc[:-5], per_user["ItemKNN"])
    shuffled = per_user["ItemKNN"].sample(frac=1.0, random_state=0)  # same users, other order: fine
    assert compare(per_user["EASE"], shuffled).difference == pytest.approx(
        compare(per_user["EASE"], per_user["ItemKNN"]).difference)


def test_seeds_are_averaged_user_by_user(per_user):
    a, b = per_user["EASE"], per_user["ItemKNN"].loc[per_user["EASE"].index]
    both = mean_over_seeds([a, b.sample(frac=1.0, random_state=1)])
    pd.testing.assert_frame_equal(both, (a + b) / 2)
    with pytest.raises(ValueError, match="different users"):
        mean_over_seeds([a, b.iloc[:10]])


def test_comparison_table_against_a_reference(per_user):
    table = comparison_table(per_user, reference="ItemKNN")
    assert list(table.index) == ["EASE", "ItemKNN", "Popularity"]
    assert table.loc["Popularity", "verdict"] == "ItemKNN better"
    assert table.loc["ItemKNN", "verdict"] == "reference"
    assert table.loc["EASE", "low"] < table.loc["EASE", "− ItemKNN"] < table.loc["EASE", "high"]
    with pytest.raises(KeyError, match="No model 'GRU'"):
        comparison_table(per_user, reference="GRU")
