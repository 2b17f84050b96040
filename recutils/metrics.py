r"""Accuracy metrics, vectorised with NumPy (no Python loop over users).

Rating metrics, over ``n`` predictions :math:`\hat r` of true ratings :math:`r`:

* ``rmse`` :math:`= \sqrt{\tfrac1n \sum (r - \hat r)^2}`;  ``mae`` :math:`= \tfrac1n \sum |r - \hat r|`.

Ranking metrics, computed per user from a **full ranking** of the catalogue (every item the
user has not interacted with before, best score first, ties broken by lower item position),
then averaged over the users with at least one relevant (held-out) item.  For a user with
``R`` relevant items and ``hit_j = 1`` when the item at rank ``j`` is relevant:

* ``precision@k`` :math:`= \tfrac1k \sum_{j\le k} hit_j`
* ``recall@k`` :math:`= \tfrac1R \sum_{j\le k} hit_j`
* ``ndcg@k`` :math:`= \mathrm{DCG}/\mathrm{IDCG}`, with
  :math:`\mathrm{DCG} = \sum_{j\le k} hit_j / \log_2(j+1)` and
  :math:`\mathrm{IDCG} = \sum_{j\le \min(k,R)} 1/\log_2(j+1)` (binary relevance)
* ``hit_rate@k`` :math:`= 1` if any :math:`hit_j = 1` for :math:`j\le k`, else 0
* ``map@k`` :math:`= \tfrac1R \sum_{j\le k} hit_j \cdot \mathrm{precision@}j` (TREC's
  convention, as in ``ranx``: divided by all ``R`` relevant items, not by ``min(k, R)``)
* ``mrr`` :math:`= 1/\mathrm{rank}` of the first relevant item in the full ranking (no cut-off)

and two beyond-accuracy metrics:

* ``coverage@k`` = share of the catalogue that appears in at least one user's top-k (not
  averaged per user);
* ``popularity@k`` (only when item popularities ``p_i`` are given, e.g. the share of users
  who interacted with item ``i`` in training) :math:`= \tfrac1k \sum_{j\le k} p_{i_j}`, averaged
  over users: how mainstream the recommendations are (lower reaches further into the long tail).
"""

from __future__ import annotations

import numbers

import numpy as np
import scipy.sparse as sp


def rmse(y_true, y_pred) -> float:
    """Root mean squared error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((y_true - y_pred) ** 2)))


def mae(y_true, y_pred) -> float:
    """Mean absolute error."""
    y_true, y_pred = _pair(y_true, y_pred)
    return float(np.mean(np.abs(y_true - y_pred)))


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    y_pred = np.asarray(y_pred, dtype=np.float64).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{y_true.size} true values but {y_pred.size} predictions.")
    if y_true.size == 0:
        raise ValueError("No ratings to score: both arrays are empty.")
    if not np.isfinite(y_pred).all():
        raise ValueError("Some predictions are NaN or infinite: check the model's output.")
    return y_true, y_pred


def check_k(k, n_items: int) -> int:
    """``k`` as an ``int`` if it is a whole number from 1 to ``n_items`` (the catalogue's size).

    Raises:
        ValueError: ``k`` is not a whole number, is below 1, or is larger than the catalogue
            (a top-k list longer than the catalogue cannot be filled).
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise ValueError(f"k must be a whole number (the length of the top-k list), got {k!r}.")
    if k < 1:
        raise ValueError(f"k must be at least 1 (the length of the top-k list), got {k}.")
    if k > n_items:
        raise ValueError(f"k = {k} is larger than the catalogue ({n_items:,} items): a top-{k} list "
                         f"cannot be filled. Use a k from 1 to {n_items:,}.")
    return int(k)


def top_k(scores: np.ndarray, k: int, exclude: sp.spmatrix | None = None) -> np.ndarray:
    """Positions of each row's ``k`` best-scored items, best first (ties: lower position first).

    ``exclude`` (same shape, non-zero = excluded) marks items never to recommend.

    Raises:
        ValueError: ``k`` is not from 1 to the number of items (see :func:`check_k`).
    """
    scores = _masked(scores, exclude)
    k = check_k(k, scores.shape[1])
    # A partial sort: the k-th best score of each row, then the k items that beat it or tie with it
    # at the lowest positions, then those k sorted. The same lists as a stable full argsort, 4 to 5
    # times faster on a users x catalogue matrix (every evaluation of the course goes through here).
    kth = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]
    above = scores > kth
    tied = scores == kth
    chosen = above | (tied & (np.cumsum(tied, axis=1) <= k - above.sum(axis=1, keepdims=True)))
    positions = np.nonzero(chosen)[1].reshape(len(scores), k)  # ascending within each row
    order = np.argsort(-np.take_along_axis(scores, positions, axis=1), axis=1, kind="stable")
    return np.take_along_axis(positions, order, axis=1)


def _masked(scores: np.ndarray, exclude: sp.spmatrix | None) -> np.ndarray:
    scores = np.array(scores, dtype=np.float64, copy=True)
    if scores.ndim != 2:
        raise ValueError(f"Scores must be a users x items matrix, got shape {scores.shape}.")
    if np.isnan(scores).any():
        raise ValueError("Some scores are NaN: check the model's output.")
    if exclude is not None:
        ex = sp.coo_matrix(exclude)
        scores[ex.row, ex.col] = -np.inf
    return scores


def ranking_metrics(scores: np.ndarray, relevant: sp.spmatrix, k: int = 10,
                    exclude: sp.spmatrix | None = None,
                    item_popularity: np.ndarray | None = None) -> dict[str, float]:
    """All ranking metrics of the module docstring for one users x items score matrix.

    Args:
        scores: ``(n_users, n_items)``; higher is better.
        relevant: same shape, non-zero where an item is relevant (held out) for a user.
        k: the cut-off.
        exclude: same shape, non-zero where an item must not be ranked (already seen).
        item_popularity: ``(n_items,)`` popularity of each item; adds ``popularity@k``.

    Returns:
        ``{"precision@k", "recall@k", "ndcg@k", "hit_rate@k", "map@k", "mrr", "coverage@k",
        "users"}`` (and ``"popularity@k"``); users without relevant items are left out of
        every average.
    """
    return summarise(*per_user_ranking_metrics(scores, relevant, k, exclude, item_popularity))


def per_user_ranking_metrics(scores: np.ndarray, relevant: sp.spmatrix, k: int = 10,
                             exclude: sp.spmatrix | None = None, item_popularity: np.ndarray | None = None
                             ) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    """The ranking metrics of :func:`ranking_metrics` for each user, before averaging.

    Returns ``(rows, metrics, coverage)``: the row positions of the users with a relevant item;
    for each metric but coverage one value per such user, in ``rows`` order; and coverage@k, a
    property of all the lists together.  :func:`summarise` turns them into
    :func:`ranking_metrics`' figures; paired comparisons (:mod:`recutils.comparison`) resample
    the per-user values.
    """
    return _per_user(scores, relevant, k, exclude, item_popularity)


def summarise(rows: np.ndarray, per_user: dict[str, np.ndarray], coverage: float) -> dict[str, float]:
    """The averages over users that :func:`ranking_metrics` reports, in its order."""
    k = next(int(name.split("@")[1]) for name in per_user if name.startswith("ndcg@"))
    means = {name: float(np.mean(values)) for name, values in per_user.items()}
    result = {name: means[name] for name in (f"precision@{k}", f"recall@{k}", f"ndcg@{k}", f"hit_rate@{k}",
                                             f"map@{k}", "mrr")}
    result |= {f"coverage@{k}": coverage, "users": int(rows.size)}
    if f"popularity@{k}" in means:
        result[f"popularity@{k}"] = means[f"popularity@{k}"]
    return result


def _per_user(scores, relevant, k, exclude, item_popularity
              ) -> tuple[np.ndarray, dict[str, np.ndarray], float]:
    if scores.shape != relevant.shape:
        raise ValueError(f"scores {scores.shape} and relevant {relevant.shape} differ in shape.")
    k = check_k(k, scores.shape[1])
    rel = sp.csr_matrix(relevant, dtype=bool)
    n_rel = np.asarray(rel.sum(axis=1)).ravel()
    keep = n_rel > 0
    if not keep.any():
        raise ValueError("No user has a relevant item: nothing to evaluate.")
    masked = _masked(scores, exclude)
    top = top_k(masked, k)
    coverage = float(np.unique(top).size / scores.shape[1])
    masked, top, rel, n_rel = masked[keep], top[keep], rel[keep], n_rel[keep]
    rel_dense = rel.toarray()
    hits = np.take_along_axis(rel_dense, top, axis=1).astype(np.float64)
    ranks = np.arange(1, k + 1)
    discounts = 1.0 / np.log2(ranks + 1)
    n_hits = hits.sum(axis=1)
    idcg = np.cumsum(discounts)[np.minimum(n_rel, k) - 1]
    precision_at_j = np.cumsum(hits, axis=1) / ranks
    per_user = {
        f"precision@{k}": n_hits / k,
        f"recall@{k}": n_hits / n_rel,
        f"ndcg@{k}": (hits @ discounts) / idcg,
        f"hit_rate@{k}": (n_hits > 0).astype(np.float64),
        f"map@{k}": (hits * precision_at_j).sum(axis=1) / n_rel,
        "mrr": 1.0 / _first_relevant_rank(masked, rel_dense),
    }
    if item_popularity is not None:
        per_user[f"popularity@{k}"] = np.asarray(item_popularity, dtype=np.float64)[top].mean(axis=1)
    return np.flatnonzero(keep), per_user, coverage


def _first_relevant_rank(scores: np.ndarray, relevant: np.ndarray) -> np.ndarray:
    """1-based rank of each row's first relevant item in the full (tie-broken) ranking."""
    rel_scores = np.where(relevant, scores, -np.inf)
    best = rel_scores.max(axis=1, keepdims=True)
    # The first relevant item is the lowest position among those tied at the best score.
    first_pos = np.argmax(relevant & (scores == best), axis=1)[:, None]
    positions = np.arange(scores.shape[1])[None, :]
    ahead = (scores > best) | ((scores == best) & (positions < first_pos))
    return ahead.sum(axis=1) + 1
