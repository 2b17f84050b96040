"""recutils.sampled_metrics: the NCF paper's leave-one-out protocol with sampled negatives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recutils.baselines import EASE
from recutils.evaluation import evaluate
from recutils.sampled_metrics import evaluate_sampled, metrics_from_ranks, sample_negatives, sampled_ranks
from recutils.sequences import leave_last_out_split
from recutils.splits import Split, canonical_split


@pytest.fixture(scope="module")
def loo(ratings) -> Split:
    """Leave-one-out on the real ML-100K ratings: each user's newest interaction is `test`."""
    return leave_last_out_split(ratings)


@pytest.fixture(scope="module")
def negatives(loo) -> np.ndarray:
    return sample_negatives(loo, 99, seed=0)


@pytest.fixture(scope="module")
def tiny() -> Split:
    """Three users, six items, three interactions each: small enough to rank by hand."""
    rows = [(1, 1, 1), (1, 2, 2), (1, 3, 3),  # user 1 holds out item 3 (position 2)
            (2, 2, 1), (2, 4, 2), (2, 5, 3),  # user 2 holds out item 5 (position 4)
            (3, 1, 1), (3, 4, 2), (3, 6, 3)]  # user 3 holds out item 6 (position 5)
    frame = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    frame["rating"] = 4.0
    return leave_last_out_split(frame)


def test_hand_worked_example(tiny):
    # Two negatives per user, each among the items the user never touched.
    negatives = np.array([[3, 4], [0, 2], [1, 2]])
    scores = np.zeros((3, 6))
    scores[0, [2, 3, 4]] = [0.5, 0.9, 0.1]  # held out 0.5: one negative above -> rank 1
    scores[1, [4, 0, 2]] = [0.7, 0.2, 0.3]  # held out 0.7 beats both -> rank 0
    scores[2, [5, 1, 2]] = [0.4, 0.4, 0.8]  # a tie counts against the held-out item -> rank 2
    users, ranks = sampled_ranks(scores, tiny, negatives)
    assert users.tolist() == [0, 1, 2] and ranks.tolist() == [1, 0, 2]
    at2 = evaluate_sampled(scores, tiny, negatives, k=2)
    assert at2["hit_rate@2"] == pytest.approx(2 / 3)
    assert at2["ndcg@2"] == pytest.approx((1 / np.log2(3) + 1 + 0) / 3)  # 0.5436
    at1 = evaluate_sampled(scores, tiny, negatives, k=1)
    assert at1["hit_rate@1"] == pytest.approx(1 / 3) and at1["ndcg@1"] == pytest.approx(1 / 3)
    # The validation part is scored the same way (held out: positions 1, 3 and 3).
    scores[0, 1] = 1.0  # beats 0.9 and 0.1 -> rank 0
    scores[2, 3] = 0.5  # below 0.8, above 0.4 -> rank 1; user 2's position 3 scores 0 -> rank 2
    _, valid_ranks = sampled_ranks(scores, tiny, negatives, part="valid")
    assert valid_ranks.tolist() == [0, 2, 1]


def test_tiny_negatives_are_the_unseen_items(tiny):
    # Every user touched 3 of 6 items, so 3 negatives are exactly the other three.
    negatives = sample_negatives(tiny, 3, seed=1)
    assert [sorted(row) for row in negatives.tolist()] == [[3, 4, 5], [0, 2, 5], [1, 2, 4]]


def test_ranks_match_a_loop_over_users(loo, negatives):
    """Cross-check against a plain per-user ranking (random scores with ties)."""
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 50, size=(loo.n_users, loo.n_items)).astype(float)  # many ties
    users, ranks = sampled_ranks(scores, loo, negatives)
    test = loo.matrix("test").tocsr()
    expected = []
    for u in users:
        held_out = test.indices[test.indptr[u]]
        candidates = np.concatenate([negatives[u], [held_out]])  # held-out last: ties go against it
        order = np.argsort(-scores[u, candidates], kind="stable")
        expected.append(int(np.flatnonzero(candidates[order] == held_out)[0]))
    assert ranks.tolist() == expected
    result = metrics_from_ranks(ranks, k=10)
    hits = np.array(expected) < 10
    assert result["hit_rate@10"] == pytest.approx(hits.mean())
    assert result["ndcg@10"] == pytest.approx(np.mean(np.where(hits, 1 / np.log2(np.array(expected) + 2), 0)))
    assert result["users"] == loo.n_users


def test_negatives_are_distinct_unseen_and_seeded(loo, negatives):
    assert negatives.shape == (loo.n_users, 99)
    assert all(len(set(row)) == 99 for row in negatives.tolist())
    known = loo.matrix("train+valid+test").toarray() > 0
    assert not np.take_along_axis(known, negatives, axis=1).any()
    assert np.array_equal(negatives, sample_negatives(loo, 99, seed=0))
    assert not np.array_equal(negatives, sample_negatives(loo, 99, seed=1))
    # Rows are in random order, so a prefix of a larger sample is the same sample.
    assert np.array_equal(sample_negatives(loo, 499, seed=0)[:, :99], negatives)


def test_negatives_are_uniform_over_each_users_unseen_items(loo, negatives):
    """Each unseen item has probability 99 / n_unseen(u) of being drawn for user u; the item
    counts over all users must match those expectations (a chi-square per degree of freedom
    near 1; a sampler biased to low positions or to popular items is far off)."""
    unseen = loo.matrix("train+valid+test").toarray() == 0
    expected = (unseen * (99 / unseen.sum(axis=1, keepdims=True))).sum(axis=0)
    observed = np.bincount(negatives.ravel(), minlength=loo.n_items)
    keep = expected > 5
    chi2 = ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum() / keep.sum()
    assert 0.8 < chi2 < 1.3
    # The same statistic for a sample biased to low positions: far away.
    biased = np.argsort(np.where(unseen, np.arange(loo.n_items), loo.n_items), axis=1)[:, :99]
    observed = np.bincount(biased.ravel(), minlength=loo.n_items)
    assert ((observed[keep] - expected[keep]) ** 2 / expected[keep]).sum() / keep.sum() > 10


def test_constant_oracle_and_random_models(loo, negatives):
    constant = np.ones((loo.n_users, loo.n_items))
    assert evaluate_sampled(constant, loo, negatives) == {"hit_rate@10": 0.0, "ndcg@10": 0.0, "users": 943}
    oracle = loo.matrix("test").toarray()
    assert evaluate_sampled(oracle, loo, negatives) == {"hit_rate@10": 1.0, "ndcg@10": 1.0, "users": 943}
    # Random scores: the held-out item is in the top 10 of 100 with probability 0.1
    # (standard error over 943 users: 0.0098).
    noise = np.random.default_rng(3).random((loo.n_users, loo.n_items))
    assert evaluate_sampled(noise, loo, negatives)["hit_rate@10"] == pytest.approx(0.10, abs=0.03)


def test_sampled_versus_full_ranking_on_ease(loo, negatives):
    """A real model: sampled HR@10 is far above the full-ranking HR@10 and close to the full
    HR@168 (10 of 100 candidates ~ 168 of 1,682), the rule of thumb of Krichene and Rendle."""
    scores = EASE(l2=100.0).fit(loo.matrix("train+valid")).scores(np.arange(loo.n_users))
    sampled = evaluate_sampled(scores, loo, negatives)
    full = evaluate(scores, loo, part="test", k=10)
    wide = evaluate(scores, loo, part="test", k=168)
    assert sampled["hit_rate@10"] > 4 * full["hit_rate@10"]
    assert sampled["hit_rate@10"] == pytest.approx(wide["hit_rate@168"], abs=0.05)
    # A score function gives the same figures as the matrix.
    as_function = evaluate_sampled(lambda users: scores[users], loo, negatives, batch_size=300)
    assert as_function == sampled


def test_clear_errors(ratings, loo, negatives, tiny):
    with pytest.raises(ValueError, match="one item per user"):
        evaluate_sampled(np.zeros((943, 1682)), canonical_split(ratings), negatives)
    with pytest.raises(ValueError, match="negatives must have shape"):
        evaluate_sampled(np.zeros((loo.n_users, loo.n_items)), loo, negatives[:10])
    with pytest.raises(ValueError, match="contain their held-out item"):
        evaluate_sampled(np.zeros((3, 6)), tiny, np.array([[2, 3], [0, 2], [1, 2]]))
    with pytest.raises(ValueError, match="fewer than n_negatives=1000"):
        sample_negatives(loo, 1000)
    with pytest.raises(ValueError, match="positive integer"):
        sample_negatives(loo, 0)
    with pytest.raises(ValueError, match="expected \\(943, 1682\\)"):
        evaluate_sampled(np.zeros((943, 10)), loo, negatives)
    with pytest.raises(ValueError, match="NaN"):
        evaluate_sampled(np.full((loo.n_users, loo.n_items), np.nan), loo, negatives)
    with pytest.raises(ValueError, match="k must be a positive integer"):
        metrics_from_ranks(np.array([0, 1]), k=0)
