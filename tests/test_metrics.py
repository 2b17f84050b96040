"""recutils.metrics: hand-worked examples, edge cases, and agreement with ranx."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

from recutils.metrics import mae, ranking_metrics, rmse, top_k

# --------------------------------------------------------------------------------------------
# A hand-worked example: 3 users, 6 items, k = 3.
#
# user 0: scores [.9 .8 .7 .6 .5 .4], item 0 seen (excluded), relevant {2, 5}  (R = 2)
#         ranking 1 2 3 4 5           -> top-3 [1 2 3], hits [0 1 0]
# user 1: scores [.1 .5 .5 .2 .3 .0], nothing excluded, relevant {0, 2, 4}     (R = 3)
#         items 1 and 2 tie at .5: the lower position (1) ranks first
#         ranking 1 2 4 3 0 5         -> top-3 [1 2 4], hits [0 1 1]
#         (had the tie gone the other way: hits [1 0 1], mrr 1, another ndcg and map)
# user 2: scores [.6 .5 .4 .3 .2 .1], item 0 seen (excluded), relevant {4}     (R = 1)
#         ranking 1 2 3 4 5           -> top-3 [1 2 3], hits [0 0 0]; item 4 is 4th overall
#
# With L = 1/log2(3) (the discount of rank 2) and 1/log2(4) = 1/2 (rank 3):
#                 user 0            user 1                        user 2
# precision@3     1/3               2/3                           0
# recall@3        1/2               2/3                           0
# ndcg@3          L/(1+L)           (L+1/2)/(1+L+1/2)             0
# hit_rate@3      1                 1                             0
# map@3           (1/2)(1/2)=1/4    (1/3)(1/2+2/3)=7/18           0
# mrr             1/2               1/2                           1/4  (full ranking, no cut-off)
#
# Means: precision 1/3, recall 7/18, ndcg (L/(1+L) + (L+.5)/(1.5+L))/3 ~= 0.305858,
# hit_rate 2/3, map (1/4+7/18)/3 = 23/108, mrr (1/2+1/2+1/4)/3 = 5/12.
# coverage@3: the top-3 lists cover items {1, 2, 3, 4} = 4 of 6 = 2/3.
# --------------------------------------------------------------------------------------------

L = 1.0 / math.log2(3)

HAND_SCORES = np.array([
    [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
    [0.1, 0.5, 0.5, 0.2, 0.3, 0.0],
    [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
])
HAND_RELEVANT = sp.csr_matrix(np.array([
    [0, 0, 1, 0, 0, 1],
    [1, 0, 1, 0, 1, 0],
    [0, 0, 0, 0, 1, 0],
]))
HAND_EXCLUDE = sp.csr_matrix(np.array([
    [1, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0],
    [1, 0, 0, 0, 0, 0],
]))
HAND_PER_USER = [
    {"precision@3": 1 / 3, "recall@3": 1 / 2, "ndcg@3": L / (1 + L), "hit_rate@3": 1.0,
     "map@3": 1 / 4, "mrr": 1 / 2},
    {"precision@3": 2 / 3, "recall@3": 2 / 3, "ndcg@3": (L + 0.5) / (1.5 + L), "hit_rate@3": 1.0,
     "map@3": 7 / 18, "mrr": 1 / 2},
    {"precision@3": 0.0, "recall@3": 0.0, "ndcg@3": 0.0, "hit_rate@3": 0.0,
     "map@3": 0.0, "mrr": 1 / 4},
]
HAND_MEAN = {
    "precision@3": 1 / 3, "recall@3": 7 / 18,
    "ndcg@3": (L / (1 + L) + (L + 0.5) / (1.5 + L)) / 3,
    "hit_rate@3": 2 / 3, "map@3": 23 / 108, "mrr": 5 / 12, "coverage@3": 2 / 3, "users": 3,
}


def test_hand_example_top_k():
    top = top_k(HAND_SCORES, 3, exclude=HAND_EXCLUDE)
    np.testing.assert_array_equal(top, [[1, 2, 3], [1, 2, 4], [1, 2, 3]])


def test_hand_example_means():
    result = ranking_metrics(HAND_SCORES, HAND_RELEVANT, k=3, exclude=HAND_EXCLUDE)
    assert set(result) == set(HAND_MEAN)
    assert result["ndcg@3"] == pytest.approx(0.305858, abs=1e-6)  # the number, not only the formula
    for name, expected in HAND_MEAN.items():
        assert result[name] == pytest.approx(expected, abs=1e-12), name


@pytest.mark.parametrize("user", range(3))
def test_hand_example_per_user(user):
    result = ranking_metrics(HAND_SCORES[[user]], HAND_RELEVANT[[user]], k=3,
                             exclude=HAND_EXCLUDE[[user]])
    for name, expected in HAND_PER_USER[user].items():
        assert result[name] == pytest.approx(expected, abs=1e-12), name
    assert result["users"] == 1


def test_more_relevant_items_than_k():
    # One user, k = 3, relevant {0, 1, 3, 5} (R = 4 > k): top-3 [0 1 2], hits [1 1 0].
    # recall 2/4; ndcg (1 + L)/(1 + L + 1/2) (IDCG stops at k);
    # map (1/R)(1/1 + 2/2) = 1/2 (TREC: divided by R = 4, not by min(k, R) = 3, which gives 2/3).
    scores = np.array([[0.9, 0.8, 0.7, 0.6, 0.5, 0.4]])
    relevant = sp.csr_matrix(np.array([[1, 1, 0, 1, 0, 1]]))
    result = ranking_metrics(scores, relevant, k=3)
    assert result["precision@3"] == pytest.approx(2 / 3, abs=1e-12)
    assert result["recall@3"] == pytest.approx(1 / 2, abs=1e-12)
    assert result["ndcg@3"] == pytest.approx((1 + L) / (1.5 + L), abs=1e-12)
    assert result["map@3"] == pytest.approx(1 / 2, abs=1e-12)
    assert result["mrr"] == 1.0


def test_seen_items_are_excluded():
    # Without the exclusion, user 0's top-3 is [0 1 2] and user 2's mrr is 1/5, not 1/4.
    top = top_k(HAND_SCORES, 3)
    np.testing.assert_array_equal(top[[0, 2]], [[0, 1, 2], [0, 1, 2]])
    unexcluded = ranking_metrics(HAND_SCORES[[2]], HAND_RELEVANT[[2]], k=3)
    assert unexcluded["mrr"] == pytest.approx(1 / 5)

    # An excluded item never appears, however high its score.
    rng = np.random.default_rng(0)
    scores = rng.random((50, 40))
    exclude = sp.random(50, 40, density=0.3, random_state=1, format="csr")
    scores[exclude.toarray() != 0] += 10.0
    top = top_k(scores, 10, exclude=exclude)
    assert not np.take_along_axis(exclude.toarray() != 0, top, axis=1).any()


def test_ties_broken_by_lower_item_position():
    scores = np.zeros((1, 6))
    np.testing.assert_array_equal(top_k(scores, 6), [[0, 1, 2, 3, 4, 5]])
    # Relevant item 4 tied with all others: 5th in the ranking.
    relevant = sp.csr_matrix(np.array([[0, 0, 0, 0, 1, 0]]))
    assert ranking_metrics(scores, relevant, k=3)["mrr"] == pytest.approx(1 / 5)
    # Tied with item 1 at the top and behind the strictly better item 5: rank 3.
    scores = np.array([[0.0, 0.7, 0.0, 0.7, 0.0, 0.9]])
    relevant = sp.csr_matrix(np.array([[0, 0, 0, 1, 0, 0]]))
    assert ranking_metrics(scores, relevant, k=3)["mrr"] == pytest.approx(1 / 3)


def test_mrr_matches_the_full_ranking_with_many_ties():
    # Integer scores in 0..4 tie a lot; the first relevant rank must follow top_k's order.
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 5, size=(60, 30)).astype(float)
    relevant = sp.csr_matrix(rng.random((60, 30)) < 0.1)
    exclude = sp.csr_matrix((rng.random((60, 30)) < 0.2) & ~relevant.toarray())
    full = top_k(scores, 30, exclude=exclude)
    rel = relevant.toarray()
    users = np.flatnonzero(rel.any(axis=1))
    first = np.argmax(np.take_along_axis(rel, full, axis=1)[users], axis=1) + 1
    result = ranking_metrics(scores, relevant, k=5, exclude=exclude)
    assert result["mrr"] == pytest.approx(np.mean(1.0 / first), abs=1e-12)
    assert result["users"] == users.size


def test_users_without_relevant_items_are_left_out():
    # A 4th user with no relevant item: every per-user average is unchanged.
    scores = np.vstack([HAND_SCORES, [[0.0, 0.0, 0.0, 0.9, 0.8, 0.7]]])
    relevant = sp.vstack([HAND_RELEVANT, sp.csr_matrix((1, 6))]).tocsr()
    exclude = sp.vstack([HAND_EXCLUDE, sp.csr_matrix((1, 6))]).tocsr()
    result = ranking_metrics(scores, relevant, k=3, exclude=exclude)
    assert result["users"] == 3
    for name in ("precision@3", "recall@3", "ndcg@3", "hit_rate@3", "map@3", "mrr"):
        assert result[name] == pytest.approx(HAND_MEAN[name], abs=1e-12), name


def test_ranking_metrics_errors():
    with pytest.raises(ValueError, match="differ in shape"):
        ranking_metrics(HAND_SCORES[:, :5], HAND_RELEVANT, k=3)
    with pytest.raises(ValueError, match="No user has a relevant item"):
        ranking_metrics(HAND_SCORES, sp.csr_matrix(HAND_SCORES.shape), k=3)
    nan_scores = HAND_SCORES.copy()
    nan_scores[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        ranking_metrics(nan_scores, HAND_RELEVANT, k=3)
    with pytest.raises(ValueError, match="users x items"):
        top_k(HAND_SCORES[0], 3)


def test_perfect_and_worst_rankings():
    # Scores = relevance: every relevant item first, so ndcg, hit rate, mrr and map are 1
    # whenever R <= k; reversed scores put every relevant item last.
    rng = np.random.default_rng(3)
    rel = rng.random((40, 50)) < 0.08
    rel[np.arange(40), rng.integers(0, 50, 40)] = True
    relevant = sp.csr_matrix(rel)
    n_rel = rel.sum(axis=1)
    best = ranking_metrics(rel.astype(float), relevant, k=10)
    assert best["ndcg@10"] == pytest.approx(1.0)
    assert best["hit_rate@10"] == 1.0
    assert best["mrr"] == 1.0
    assert best["recall@10"] == pytest.approx(np.mean(np.minimum(n_rel, 10) / n_rel))
    worst = ranking_metrics(-rel.astype(float), relevant, k=10)
    assert worst["ndcg@10"] == 0.0
    assert worst["mrr"] == pytest.approx(np.mean(1.0 / (50 - n_rel + 1)))


# --------------------------------------------------------------------------------------------
# Rating metrics.  y_true [3 4 5 1], y_pred [2.5 4 3 2]: errors .5, 0, 2, -1
# rmse = sqrt((.25 + 0 + 4 + 1)/4) = sqrt(1.3125) ~= 1.145644;  mae = (.5 + 0 + 2 + 1)/4 = .875
# --------------------------------------------------------------------------------------------


def test_rmse_and_mae_by_hand():
    y_true, y_pred = [3, 4, 5, 1], [2.5, 4, 3, 2]
    assert rmse(y_true, y_pred) == pytest.approx(math.sqrt(1.3125), abs=1e-12)
    assert rmse(y_true, y_pred) == pytest.approx(1.145644, abs=1e-6)
    assert mae(y_true, y_pred) == pytest.approx(0.875, abs=1e-12)
    assert rmse(y_true, y_true) == 0.0
    # Column vectors and flat lists are the same ratings.
    assert rmse(np.array(y_true)[:, None], y_pred) == rmse(y_true, y_pred)


@pytest.mark.parametrize("metric", [rmse, mae])
def test_rating_metric_errors(metric):
    with pytest.raises(ValueError, match="3 true values but 2 predictions"):
        metric([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="empty"):
        metric([], [])
    with pytest.raises(ValueError, match="NaN or infinite"):
        metric([1, 2, 3], [1, np.nan, 3])
    with pytest.raises(ValueError, match="NaN or infinite"):
        metric([1, 2, 3], [1, np.inf, 3])


# --------------------------------------------------------------------------------------------
# Agreement with ranx, an independent implementation.
# --------------------------------------------------------------------------------------------


def test_agrees_with_ranx():
    ranx = pytest.importorskip("ranx")
    n_users, n_items, k = 200, 300, 10
    rng = np.random.default_rng(2024)
    # Continuous scores: no ties, since ranx breaks ties its own way.
    scores = rng.random((n_users, n_items))
    # Relevant sets of 1..40 items (users 0..9 get none: they must be left out), and 0..30
    # further items per user already seen (excluded), disjoint from the relevant ones.
    n_rel = rng.integers(1, 41, n_users)
    n_rel[:10] = 0
    n_seen = rng.integers(0, 31, n_users)
    order = np.argsort(rng.random((n_users, n_items)), axis=1)
    position = np.argsort(order, axis=1)  # item -> its place in the user's random shuffle
    rel = position < n_rel[:, None]
    seen = (position >= n_rel[:, None]) & (position < (n_rel + n_seen)[:, None])

    ours = ranking_metrics(scores, sp.csr_matrix(rel), k=k, exclude=sp.csr_matrix(seen))

    users = np.flatnonzero(rel.any(axis=1))
    qrels = ranx.Qrels({str(u): {str(i): 1 for i in np.flatnonzero(rel[u])} for u in users})
    # The full ranking of every item the user has not seen (for mrr, no cut-off).
    run = ranx.Run({str(u): {str(i): float(scores[u, i]) for i in np.flatnonzero(~seen[u])}
                    for u in users})
    theirs = ranx.evaluate(qrels, run, [f"precision@{k}", f"recall@{k}", f"ndcg@{k}",
                                        f"hit_rate@{k}", f"map@{k}", "mrr"])
    assert ours["users"] == users.size == n_users - 10
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(float(value), abs=1e-9), name
    # Guard against an agreement that holds only because everything is 0 or 1.
    assert 0.0 < ours[f"ndcg@{k}"] < 1.0 and 0.0 < ours["mrr"] < 1.0

    # ranx's "hit_rate" is the share of users with a hit in the top k (not a hit count):
    # the same thing as ours, checked here against a direct count.
    top = top_k(scores[users], k, exclude=sp.csr_matrix(seen[users]))
    direct = np.take_along_axis(rel[users], top, axis=1).any(axis=1).mean()
    assert float(theirs[f"hit_rate@{k}"]) == pytest.approx(direct, abs=1e-12)


def test_popularity_of_the_recommendations_by_hand():
    scores = np.array([[0.9, 0.8, 0.1, 0.0], [0.0, 0.1, 0.8, 0.9]])
    relevant = sp.csr_matrix(np.array([[0, 0, 1, 0], [1, 0, 0, 0]]))
    popularity = np.array([0.5, 0.3, 0.1, 0.0])
    # Top 2: items 0, 1 (mean 0.4) and items 3, 2 (mean 0.05): 0.225 on average.
    m = ranking_metrics(scores, relevant, k=2, item_popularity=popularity)
    assert m["popularity@2"] == pytest.approx(0.225)
    assert "popularity@2" not in ranking_metrics(scores, relevant, k=2)
