"""The plumbing of a two-stage recommender: candidates from a retrieval model, a ranker's lists.

A retrieval model scores the whole catalogue; :func:`candidates` keeps each user's ``n`` best
films among those the user has not seen, :func:`candidate_labels` marks which of them the user
interacted with in a later part, and :func:`rerank` puts the ranker's order on top of the
retrieval order, so that :func:`recutils.evaluation.evaluate` scores the two stages together.

The ranker learns from lists whose labels come *after* the retrieval model's history.  On the
canonical split that is ``train`` -> ``valid`` for the final ranker (scored on ``test``);
:func:`shifted_back` gives the same arrangement one step earlier for tuning: retrieval on the
older part of ``train``, labels from its newest part, scored on ``valid``.
"""

from __future__ import annotations

import numpy as np

from recutils.metrics import top_k
from recutils.splits import Split, time_ordered


def shifted_back(split: Split, share: float = 0.125) -> Split:
    """The split one step back in time, for tuning a ranker without touching ``test``.

    Per user, the newest ``share`` of the ``train`` interactions (``max(1, round(n * share))``,
    ordered by time, ties by item id, as :func:`recutils.splits.canonical_split` orders them)
    becomes ``valid``, the older ones ``train``, and ``split``'s ``valid`` becomes ``test``.
    The users and items (the matrices' rows and columns) stay those of ``split``.  The default
    ``share`` makes the new ``valid`` about as large as the canonical one (10% of all ratings
    is 12.5% of the 80% in ``train``).

    Raises:
        ValueError: ``share`` is not in (0, 1), or a user has fewer than 2 ``train`` interactions.
    """
    if not 0 < share < 1:
        raise ValueError(f"share={share!r} must be between 0 and 1, e.g. 0.125.")
    train = time_ordered(split.train)
    groups = train.groupby("user_id", sort=False)
    n = groups["item_id"].transform("size").to_numpy()
    if (n < 2).any():
        users = np.unique(train["user_id"].to_numpy()[n < 2])
        raise ValueError(f"{users.size} users have fewer than 2 train interactions "
                         f"(e.g. {users[:5].tolist()}): they cannot keep an older and a newer part.")
    newest = (n - 1 - groups.cumcount().to_numpy()) < np.maximum(1, np.floor(n * share + 0.5))
    return Split(name=f"{split.name}, shifted back", train=train[~newest].reset_index(drop=True),
                 valid=train[newest].reset_index(drop=True), test=split.valid, users=split.users,
                 items=split.items, dataset=split.dataset)


def candidates(scores: np.ndarray, split: Split, part: str, n: int) -> np.ndarray:
    """Each user's ``n`` best-scored items (column positions, best first), leaving out the items
    of the history a model may see when ``part`` is scored (``split.history_before(part)``).

    Raises:
        ValueError: ``scores`` is not ``split.n_users x split.n_items``, or ``n`` is not from 1 to
            the number of items (see :func:`recutils.metrics.top_k`).
    """
    scores = np.asarray(scores)
    if scores.shape != (split.n_users, split.n_items):
        raise ValueError(f"Scores of shape {scores.shape}: expected users x items "
                         f"({split.n_users}, {split.n_items}) in the split's order.")
    return top_k(scores, n, exclude=split.matrix(split.history_before(part)))


def candidate_labels(split: Split, part: str, candidate_items: np.ndarray) -> np.ndarray:
    """1.0 where a user's candidate is one of the user's interactions in ``part``, else 0.0
    (``float32``, the shape of ``candidate_items``)."""
    _check_candidates(split, candidate_items)
    truth = split.matrix(part)
    rows = np.arange(len(candidate_items))[:, None]
    return np.asarray(truth[rows, candidate_items].todense(), dtype=np.float32)


def candidate_recall(split: Split, part: str, candidate_items: np.ndarray) -> float:
    """The share of ``part``'s interactions that are among the users' candidates: the Recall@N
    of the candidate stage, the most any ranker of these lists can reach."""
    return float(candidate_labels(split, part, candidate_items).sum() / len(split.frame(part)))


def rerank(scores: np.ndarray, candidate_items: np.ndarray, ranker_scores: np.ndarray) -> np.ndarray:
    """The retrieval ``scores`` with each user's candidates moved above every other item, in the
    ranker's order: what :func:`recutils.evaluation.evaluate` scores as the two-stage system.

    Raises:
        ValueError: the three arrays do not agree in shape, or the ranker's scores are not finite.
    """
    scores = np.asarray(scores, dtype=np.float64)
    ranker_scores = np.asarray(ranker_scores, dtype=np.float64)
    if candidate_items.shape != ranker_scores.shape or len(candidate_items) != len(scores):
        raise ValueError(f"Candidates {candidate_items.shape}, ranker scores {ranker_scores.shape} and "
                         f"retrieval scores {scores.shape} must have one row per user, one column per "
                         "candidate.")
    if not np.isfinite(ranker_scores).all():
        raise ValueError("Some ranker scores are NaN or infinite: check the ranker's output.")
    # Above every retrieval score: the ranker's scores shifted past the largest gap there can be.
    lift = np.abs(scores).max() + np.abs(ranker_scores).max() + 1.0
    out = scores.copy()
    np.put_along_axis(out, candidate_items, lift + ranker_scores, axis=1)
    return out


def _check_candidates(split: Split, candidate_items: np.ndarray) -> None:
    if candidate_items.ndim != 2 or len(candidate_items) != split.n_users:
        raise ValueError(f"Candidates of shape {candidate_items.shape}: expected one row per user "
                         f"({split.n_users}) and one column per candidate.")
    if candidate_items.size and (candidate_items.min() < 0 or candidate_items.max() >= split.n_items):
        raise ValueError(f"Candidate columns must be item positions from 0 to {split.n_items - 1}.")
