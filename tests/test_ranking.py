"""recutils.ranking (the two-stage plumbing) and recutils.two_tower, on the real MovieLens 100K."""

from __future__ import annotations

import numpy as np
import pytest

from recutils.baselines import Popularity
from recutils.evaluation import evaluate
from recutils.metrics import top_k
from recutils.ranking import candidate_labels, candidate_recall, candidates, rerank, shifted_back


@pytest.fixture(scope="module")
def back(split):
    return shifted_back(split)


def test_shifted_back_moves_every_part_one_step_earlier(split, back):
    assert back.test.equals(split.valid)
    assert len(back.train) + len(back.valid) == len(split.train)
    assert (back.users.ids == split.users.ids).all() and (back.items.ids == split.items.ids).all()
    newest_early = back.train.groupby("user_id")["timestamp"].max()
    oldest_late = back.valid.groupby("user_id")["timestamp"].min()
    assert (newest_early <= oldest_late.reindex(newest_early.index)).all()  # no user's past after its future
    per_user = split.train.groupby("user_id").size()
    expected = np.maximum(1, np.floor(per_user * 0.125 + 0.5)).astype(int)
    assert back.valid.groupby("user_id").size().reindex(per_user.index).equals(expected)
    assert abs(len(back.valid) - len(split.valid)) / len(split.valid) < 0.1  # about as large as valid


@pytest.mark.parametrize("share", [0.0, 1.0, -0.5])
def test_shifted_back_refuses_a_share_outside_0_1(split, share):
    with pytest.raises(ValueError, match="between 0 and 1"):
        shifted_back(split, share)


def test_candidates_leave_out_the_history_and_follow_the_scores(split):
    scores = Popularity().fit(split.matrix("train")).scores(np.arange(split.n_users))
    lists = candidates(scores, split, "valid", 50)
    assert lists.shape == (split.n_users, 50)
    assert split.matrix("train")[np.arange(split.n_users)[:, None], lists].sum() == 0
    assert (lists == top_k(scores, 50, exclude=split.matrix("train"))).all()
    test_lists = candidates(scores, split, "test", 50)  # history: train+valid
    assert split.matrix("train+valid")[np.arange(split.n_users)[:, None], test_lists].sum() == 0
    with pytest.raises(ValueError, match="expected users x items"):
        candidates(scores[:, :10], split, "valid", 5)
    with pytest.raises(ValueError):
        candidates(scores, split, "valid", 0)


def test_labels_and_recall_count_the_part_s_interactions_among_the_candidates(split):
    scores = Popularity().fit(split.matrix("train")).scores(np.arange(split.n_users))
    lists = candidates(scores, split, "valid", 100)
    labels = candidate_labels(split, "valid", lists)
    assert labels.shape == lists.shape and set(np.unique(labels)) <= {0.0, 1.0}
    valid = set(zip(*split.encode(split.valid)))
    user, position = np.argwhere(labels > 0)[0]
    assert (user, lists[user, position]) in valid
    assert candidate_recall(split, "valid", lists) == pytest.approx(labels.sum() / len(split.valid))
    everything = np.tile(np.arange(split.n_items), (split.n_users, 1))
    assert candidate_recall(split, "valid", everything) == 1.0
    with pytest.raises(ValueError, match="one row per user"):
        candidate_labels(split, "valid", lists[:5])


def test_rerank_puts_the_candidates_on_top_in_the_ranker_s_order(split):
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(split.n_users, split.n_items))
    lists = candidates(scores, split, "valid", 20)
    ranker = rng.normal(size=lists.shape) * 100  # any scale, any sign
    out = rerank(scores, lists, ranker)
    top = top_k(out, 20)
    expected = np.take_along_axis(lists, np.argsort(-ranker, axis=1), axis=1)
    assert (top == expected).all()
    others = np.ones_like(scores, bool)
    np.put_along_axis(others, lists, False, axis=1)
    assert (out[others] == scores[others]).all()  # the rest keeps the retrieval order
    with pytest.raises(ValueError, match="NaN"):
        rerank(scores, lists, np.full(lists.shape, np.nan))
    with pytest.raises(ValueError, match="one row per user"):
        rerank(scores, lists, ranker[:, :5])


def test_the_id_two_tower_model_learns(split):
    """Three epochs on train beat Popularity on valid (observed 0.1190 against 0.0657). With the
    films of the training interactions shuffled against their users, it fell to 0.0146 and failed."""
    from recutils.two_tower import fit_id_two_tower

    model = fit_id_two_tower(split.train, split, seed=42, epochs=3)
    learned = evaluate(model.scores(), split, part="valid")["ndcg@10"]
    popularity = evaluate(Popularity().fit(split.matrix("train")).scores, split, part="valid")["ndcg@10"]
    assert learned > popularity + 0.01
