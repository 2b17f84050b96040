"""Score any model on a split the same way: the course's single evaluation protocol.

A ranking model is given to :func:`evaluate` as a ``users x items`` score matrix (rows and
columns in the split's order) or as a function ``scores(user_positions) -> matrix``.  It is
scored on one part of the split: every item the user interacted with in the earlier parts
(``train`` for ``valid``; ``train`` and ``valid`` for ``test``) is excluded from the ranking,
and every interaction in the part is relevant.  Besides accuracy, ``popularity@k`` reports how
mainstream the top-k are: the mean share of users who interacted with a recommended item in
the parts the model was fitted on.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pandas as pd

from recutils.metrics import check_k, mae, per_user_ranking_metrics, rmse, summarise
from recutils.splits import Split

ScoreFn = Callable[[np.ndarray], np.ndarray]


class RankingResult(dict):
    """What :func:`evaluate` returns: the metrics averaged over users (this dict) and, as
    ``per_user``, each user's values (a frame indexed by raw ``user_id``, a column per metric
    but coverage), from which :mod:`recutils.comparison` builds paired intervals.

    :func:`recutils.reporting.record_metrics` saves ``per_user`` beside the record.  A copy of
    the dict (``dict(result)``, ``{**result}``) keeps only the averages.
    """

    def __init__(self, metrics: Mapping[str, float], per_user: pd.DataFrame):
        super().__init__(metrics)
        self.per_user = per_user


def evaluate(model: np.ndarray | ScoreFn, split: Split, part: str = "test", k: int = 10,
             batch_size: int = 2048) -> RankingResult:
    """Ranking metrics (see :mod:`recutils.metrics`) of ``model`` on ``split``'s ``part``: their
    averages over the part's users, and each user's values in ``.per_user``.

    Args:
        model: a ``(n_users, n_items)`` score matrix, or a function that takes an array of user
            positions and returns their score rows.  Higher scores rank first.
        split: the split; its ``users``/``items`` fix the matrix order.
        part: ``"valid"`` while choosing hyper-parameters, ``"test"`` once, at the end.
        k: the cut-off for the @k metrics.
        batch_size: users scored at once when ``model`` is a function (bounds memory).

    Raises:
        ValueError: ``k`` is not a whole number from 1 to the number of items, the part is
            empty, or the model's scores have the wrong shape or contain NaNs.
    """
    k = check_k(k, split.n_items)
    users, scores, relevant, seen, popularity = _score(model, split, part, batch_size)
    rows, per_user, coverage = per_user_ranking_metrics(scores, relevant[users], k=k, exclude=seen[users],
                                                        item_popularity=popularity)
    frame = pd.DataFrame(per_user, index=pd.Index(split.users.ids[users[rows]], name="user_id"))
    return RankingResult(summarise(rows, per_user, coverage), per_user=frame)


def _score(model: np.ndarray | ScoreFn, split: Split, part: str, batch_size: int):
    """The users of ``part``, their score rows, and the matrices :func:`evaluate` needs."""
    relevant = split.matrix(part)
    seen = split.matrix(split.history_before(part))
    users = np.flatnonzero(np.diff(relevant.indptr) > 0)
    if users.size == 0:
        raise ValueError(f"The {part!r} part of the split is empty: nothing to evaluate.")
    if callable(model):
        scores = np.concatenate([_checked(model(users[i:i + batch_size]), users[i:i + batch_size], split)
                                 for i in range(0, users.size, batch_size)])
    else:
        scores = _checked(np.asarray(model), np.arange(split.n_users), split)[users]
    popularity = np.asarray(seen.sum(axis=0)).ravel() / split.n_users  # share of users, per item
    return users, scores, relevant, seen, popularity


def _checked(scores: np.ndarray, users: np.ndarray, split: Split) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.shape != (users.size, split.n_items):
        raise ValueError(
            f"The model returned scores of shape {scores.shape}; expected ({users.size}, "
            f"{split.n_items}): one row per user asked for, one column per item of the split."
        )
    return scores


def evaluate_ratings(predict: Callable[[np.ndarray, np.ndarray], np.ndarray], split: Split,
                     part: str = "test") -> dict[str, float]:
    """RMSE and MAE of ``predict(user_positions, item_positions)`` on the ratings of ``part``."""
    frame = split.frame(part)
    if frame.empty:
        raise ValueError(f"The {part!r} part of the split is empty: nothing to evaluate.")
    users, items = split.encode(frame)
    pred = np.asarray(predict(users, items), dtype=np.float64).ravel()
    return {"rmse": rmse(frame["rating"], pred), "mae": mae(frame["rating"], pred)}


def grid_search(fit: Callable[..., np.ndarray | ScoreFn], grid: Mapping[str, Iterable],
                split: Split, metric: str = "ndcg@10", k: int = 10) -> tuple[dict, pd.DataFrame]:
    """Try every combination of ``grid``; score each on the **validation** part.

    ``fit(**params)`` trains on the split's train part and returns what :func:`evaluate`
    takes.  Returns the best parameters by ``metric`` and a table of all runs (with seconds).
    The test part is never touched here.
    """
    names = list(grid)
    combos = [dict(zip(names, values)) for values in itertools.product(*(grid[n] for n in names))]
    rows = []
    for params in combos:
        start = time.perf_counter()
        result = evaluate(fit(**params), split, part="valid", k=k)
        rows.append({**params, metric: result[metric], "seconds": time.perf_counter() - start})
    table = pd.DataFrame(rows)
    return combos[int(table[metric].idxmax())], table


def grid_edges(best: Mapping, grid: Mapping[str, Iterable]) -> list[str]:
    """The parameters whose chosen value is the smallest or largest of the values tried.

    Only numeric grids of three or more values count (two values are a yes/no choice, and one
    is no choice). A value on its grid's edge means the grid, not the data, may have picked it:
    a larger (or smaller) value could have been better, so extend the grid past it.
    """
    edges = []
    for name, values in grid.items():
        values = list(values)
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numeric and len(values) >= 3 and best[name] in (min(values), max(values)):
            edges.append(name)
    return edges
