r"""The sampled ranking protocol of Neural Collaborative Filtering (He et al., WWW 2017).

**Leave-one-out**: each user's newest interaction is held out
(:func:`recutils.sequences.leave_last_out_split` gives it as the ``test`` part and the one
before it as ``valid``).  To score a model, the held-out item is ranked against
``n_negatives = 99`` items **the user never interacted with** (in any part), drawn uniformly
without replacement, once, with a fixed seed, and shared by every model (the paper ships them
as ``test.negative``).  With ``rank`` the 0-based position of the held-out item among those 100:

* ``hit_rate@k`` :math:`= 1` if :math:`\mathrm{rank} < k`, else 0;
* ``ndcg@k`` :math:`= 1 / \log_2(\mathrm{rank} + 2)` if :math:`\mathrm{rank} < k`, else 0

(with one relevant item, IDCG is 1), averaged over users.  **Ties** count against the held-out
item: a negative scored equal to it is ranked above it, so a constant model scores 0 rather
than whatever a tie-breaking rule hands it.

Krichene and Rendle (KDD 2020) showed that these *sampled* metrics are not the full-ranking
metrics of :mod:`recutils.metrics` at a smaller scale: with 99 negatives out of ``N`` items,
``hit_rate@10`` behaves like a full-ranking hit rate at about ``10 N / 100``, and the order
of two models can differ between the two protocols.  Course notebook 03 shows both.
"""

from __future__ import annotations

import numpy as np

from recutils.evaluation import ScoreFn, _checked
from recutils.splits import Split

_STREAM = 99_000_017  # see sample_negatives


def sample_negatives(split: Split, n_negatives: int = 99, seed: int = 0,
                     chunk_users: int = 1024) -> np.ndarray:
    """For every user, ``n_negatives`` distinct items the user never interacted with.

    Items the user has in ``train``, ``valid`` or ``test`` are never drawn.  Each row is a
    uniform random sample without replacement, **in random order**, so ``negatives[:, :m]`` is
    itself a uniform sample of ``m`` negatives (handy to vary the sample size).

    Args:
        split: fixes the users (rows) and the item positions returned.
        n_negatives: negatives per user (99 in the NCF paper).
        seed: the sample depends only on the split and this seed.
        chunk_users: users drawn at once (bounds memory to ``chunk_users x n_items`` floats).

    Returns:
        ``(split.n_users, n_negatives)`` int64 item positions (columns of the split's matrices).

    Raises:
        ValueError: ``n_negatives`` is not positive, or some user has fewer unseen items than that.
    """
    if int(n_negatives) != n_negatives or n_negatives < 1:
        raise ValueError(f"n_negatives must be a positive integer, got {n_negatives!r}.")
    known = split.matrix("train+valid+test").tocsr()
    unseen = split.n_items - np.diff(known.indptr)
    if (unseen < n_negatives).any():
        worst = int(np.argmin(unseen))
        raise ValueError(
            f"User {split.users.ids[worst]} has only {unseen[worst]} items they never interacted "
            f"with, fewer than n_negatives={n_negatives}: lower n_negatives."
        )
    # Keyed by the seed and a constant, so the draw is not the same stream as a plain
    # np.random.default_rng(seed) that a caller may use for something else.
    rng = np.random.default_rng([seed, _STREAM])
    out = np.empty((split.n_users, n_negatives), dtype=np.int64)
    for start in range(0, split.n_users, chunk_users):
        block = known[start:start + chunk_users].tocoo()
        # Random keys, +inf for the items the user knows: the n smallest keys are a uniform
        # sample without replacement of the unseen items, in random order.
        keys = rng.random((block.shape[0], split.n_items))
        keys[block.row, block.col] = np.inf
        out[start:start + block.shape[0]] = np.argsort(keys, axis=1, kind="stable")[:, :n_negatives]
    return out


def sampled_ranks(model: np.ndarray | ScoreFn, split: Split, negatives: np.ndarray,
                  part: str = "test", batch_size: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """The 0-based rank of each user's held-out item among itself and the user's negatives.

    Args:
        model: a ``(n_users, n_items)`` score matrix, or a function from user positions to
            their score rows (as :func:`recutils.evaluation.evaluate` takes).  Higher is better.
        split: a leave-one-out split: at most one interaction per user in ``part``.
        negatives: from :func:`sample_negatives` (or any subset of its columns).
        part: the held-out part (``"valid"`` or ``"test"``).
        batch_size: users scored at once when ``model`` is a function.

    Returns:
        ``(users, ranks)``: the positions of the users with a held-out item, and their ranks
        (0 = the held-out item beats every negative; ties count against it).

    Raises:
        ValueError: a user holds out more than one item, ``negatives`` has the wrong shape, or a
            user's negatives contain their held-out item.
    """
    relevant = split.matrix(part).tocsr()
    per_user = np.diff(relevant.indptr)
    if (per_user > 1).any():
        raise ValueError(
            f"{int((per_user > 1).sum())} users have more than one {part!r} interaction; the "
            "sampled protocol holds out one item per user: use "
            "recutils.sequences.leave_last_out_split."
        )
    negatives = np.asarray(negatives)
    if negatives.ndim != 2 or negatives.shape[0] != split.n_users or negatives.shape[1] < 1:
        raise ValueError(f"negatives must have shape ({split.n_users}, n_negatives), got "
                         f"{negatives.shape}.")
    users = np.flatnonzero(per_user == 1)
    if users.size == 0:
        raise ValueError(f"The {part!r} part of the split is empty: nothing to evaluate.")
    held_out = relevant.indices[relevant.indptr[users]]
    neg = negatives[users]
    if (neg == held_out[:, None]).any():
        raise ValueError("Some users' negatives contain their held-out item: sample the negatives "
                         "with sample_negatives() on this split.")
    if callable(model):
        scores = np.concatenate([_checked(model(users[i:i + batch_size]), users[i:i + batch_size], split)
                                 for i in range(0, users.size, batch_size)])
    else:
        scores = _checked(np.asarray(model), np.arange(split.n_users), split)[users]
    scores = np.asarray(scores, dtype=np.float64)
    if np.isnan(scores).any():
        raise ValueError("Some scores are NaN: check the model's output.")
    rows = np.arange(users.size)
    positive = scores[rows, held_out]
    ranks = (scores[rows[:, None], neg] >= positive[:, None]).sum(axis=1)
    return users, ranks


def metrics_from_ranks(ranks: np.ndarray, k: int = 10) -> dict[str, float]:
    """``hit_rate@k`` and ``ndcg@k`` (module docstring) from 0-based ranks, and ``users``."""
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}.")
    ranks = np.asarray(ranks)
    if ranks.size == 0:
        raise ValueError("No ranks to score.")
    hit = ranks < k
    return {
        f"hit_rate@{k}": float(hit.mean()),
        f"ndcg@{k}": float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()),
        "users": int(ranks.size),
    }


def evaluate_sampled(model: np.ndarray | ScoreFn, split: Split, negatives: np.ndarray,
                     part: str = "test", k: int = 10, batch_size: int = 2048) -> dict[str, float]:
    """The NCF protocol's ``hit_rate@k`` and ``ndcg@k`` of ``model`` on ``split``'s ``part``.

    Example::

        loo = leave_last_out_split(data.ratings)
        negatives = sample_negatives(loo, 99, seed=0)
        evaluate_sampled(model.scores, loo, negatives)   # {"hit_rate@10": ..., "ndcg@10": ...}
    """
    _, ranks = sampled_ranks(model, split, negatives, part=part, batch_size=batch_size)
    return metrics_from_ranks(ranks, k=k)
