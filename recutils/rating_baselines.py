"""Non-neural rating predictors: the floor every rating model (RMSE, MAE) is shown beside.

* :class:`GlobalMean` predicts the mean training rating for every (user, item).
* :class:`UserItemBias` predicts ``mu + b_u + b_i``, the baseline estimate of Koren (2010),
  fitted by alternating least squares with the defaults of the Surprise library's
  ``BaselineOnly`` (10 sweeps, ``reg_i = 10``, ``reg_u = 15``), so its figures can be set
  beside Surprise's published tables.

Both take user and item **positions** of a :class:`recutils.splits.Split` (as
:func:`recutils.evaluation.evaluate_ratings` passes them).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from recutils.evaluation import evaluate_ratings
from recutils.splits import Split


def _training_ratings(split: Split, part: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frame = split.frame(part)
    if frame.empty:
        raise ValueError(f"The {part!r} part of the split has no ratings to fit on.")
    users, items = split.encode(frame)
    return users, items, frame["rating"].to_numpy(dtype=np.float64)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator``, 0 where the denominator is 0 (no ratings, no regulariser)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator), where=denominator > 0)


class GlobalMean:
    """Predicts the mean rating of the training part for everyone."""

    def fit(self, split: Split, part: str = "train") -> GlobalMean:
        """Fit on ``split``'s ``part`` (e.g. ``"train"`` or ``"train+valid"``)."""
        self.mean_ = float(_training_ratings(split, part)[2].mean())
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """The mean rating, once per (user, item) pair."""
        return np.full(np.shape(users), self.mean_)


class UserItemBias:
    """``r_ui ≈ mu + b_u + b_i`` with L2-regularised biases, fitted by alternating least squares.

    Each sweep sets ``b_i = sum_u (r_ui - mu - b_u) / (reg_item + n_i)`` and then
    ``b_u = sum_i (r_ui - mu - b_i) / (reg_user + n_u)``: the closed-form minimiser of the
    squared error plus ``reg_item * b_i**2 + reg_user * b_u**2`` for one side given the other.
    """

    def __init__(self, reg_user: float = 15.0, reg_item: float = 10.0, sweeps: int = 10):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.sweeps = sweeps

    def fit(self, split: Split, part: str = "train") -> UserItemBias:
        """Fit on ``split``'s ``part``; users or items without ratings there keep bias 0."""
        users, items, ratings = _training_ratings(split, part)
        self.mean_ = float(ratings.mean())
        n_u = np.bincount(users, minlength=split.n_users)
        n_i = np.bincount(items, minlength=split.n_items)
        self.user_bias_ = np.zeros(split.n_users)
        self.item_bias_ = np.zeros(split.n_items)
        residual = ratings - self.mean_
        for _ in range(self.sweeps):
            self.item_bias_ = _ratio(np.bincount(items, residual - self.user_bias_[users], split.n_items),
                                     self.reg_item + n_i)
            self.user_bias_ = _ratio(np.bincount(users, residual - self.item_bias_[items], split.n_users),
                                     self.reg_user + n_u)
        return self

    def predict(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """``mu + b_u + b_i`` for each (user position, item position) pair."""
        return self.mean_ + self.user_bias_[users] + self.item_bias_[items]


def evaluate_rating_baselines(split: Split, part: str = "test") -> pd.DataFrame:
    """RMSE and MAE of :class:`GlobalMean` and :class:`UserItemBias` on ``split``'s ``part``,
    each fitted on every earlier part (``train+valid`` for ``test``).

    Returns one row per baseline (index: model name) with ``rmse``, ``mae`` and
    ``train_seconds``.
    """
    history = split.history_before(part)
    rows = {}
    for model in (GlobalMean(), UserItemBias()):
        start = time.perf_counter()
        model.fit(split, history)
        seconds = time.perf_counter() - start
        rows[type(model).__name__] = {**evaluate_ratings(model.predict, split, part),
                                      "train_seconds": seconds}
    return pd.DataFrame.from_dict(rows, orient="index")
