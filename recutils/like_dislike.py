"""The like/dislike protocol of the original designs of notebooks 05, 06 and 07.

The report behind those notebooks classifies each (user, film) as liked or not and scores the
share of right answers on each user's held-out 30%. The course keeps one version of that
protocol so that its four models (the modified LSTM, the LSTM, the RBM, the autoencoder) and the
majority baselines are scored on the same rows:

- :func:`study_split`: a seeded sample of users, each user's newest ``max_ratings`` ratings in
  time order, the oldest 70% to fit (its newest fifth as ``valid``), the newest 30% to ``test``;
  the split is named ``"per-user-70-30"``;
- :func:`liked`: a rating of :data:`LIKE_THRESHOLD` stars or more is a like;
- :func:`per_user_accuracy`: each user's share of right like/dislike answers on a part (the
  report's accuracy, averaged over users so that every user counts once); :func:`like_accuracy`
  gives the same as metrics to record, with the per-user values that paired comparisons need;
- :func:`majority_baselines`: *always like*, and each user's own majority of ``train+valid``;
- :func:`collaborative_frame`: what a collaborative model (RBM, autoencoder) may train on:
  every rating of the data set except the study's held-out rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recutils.evaluation import RankingResult
from recutils.splits import IdIndex, Split, validated_ratings

LIKE_THRESHOLD = 4
"""Stars from which a rating counts as a like (4 and 5 of 5)."""

SPLIT_NAME = "per-user-70-30"


def liked(ratings: pd.DataFrame) -> np.ndarray:
    """1.0 for each rating of at least :data:`LIKE_THRESHOLD` stars, else 0.0."""
    return (ratings["rating"].to_numpy() >= LIKE_THRESHOLD).astype(np.float32)


def study_split(ratings: pd.DataFrame, n_users: int | None = 300, max_ratings: int = 100, seed: int = 42,
                test_frac: float = 0.3, valid_frac: float = 0.2) -> Split:
    """The per-user 70/30 split of the like/dislike study (see the module docstring).

    Args:
        ratings: the ratings (``user_id``, ``item_id``, ``rating``, ``timestamp``).
        n_users: users drawn at random (with ``seed``); ``None``: every user.
        max_ratings: each user's newest ratings kept.
        test_frac: each user's newest share held out for ``test``.
        valid_frac: the newest share of the rest held out for ``valid``.

    Raises:
        ValueError: ``n_users`` or ``max_ratings`` below 1, or more users asked for than there are.
    """
    ratings = validated_ratings(ratings)
    all_users = np.unique(ratings["user_id"])
    if max_ratings < 1 or (n_users is not None and not 1 <= n_users <= len(all_users)):
        raise ValueError(f"n_users must be from 1 to {len(all_users):,} (or None for all) and max_ratings "
                         f"at least 1; got n_users={n_users}, max_ratings={max_ratings}.")
    chosen = all_users if n_users is None else np.sort(
        np.random.default_rng(seed).choice(all_users, n_users, replace=False))
    rated = ratings[ratings["user_id"].isin(chosen)].sort_values(["user_id", "timestamp", "item_id"],
                                                                  ignore_index=True)
    rated = rated[rated.groupby("user_id").cumcount(ascending=False) < max_ratings]  # the newest
    n = rated.groupby("user_id")["item_id"].transform("size").to_numpy()  # each row's user's count
    pos = rated.groupby("user_id").cumcount().to_numpy()  # 0 = the user's oldest rating kept
    n_test = np.round(test_frac * n).astype(int)
    n_valid = np.round(valid_frac * (n - n_test)).astype(int)
    part = np.where(pos >= n - n_test, 2, np.where(pos >= n - n_test - n_valid, 1, 0))
    frames = {p: rated[part == i].reset_index(drop=True) for i, p in enumerate(("train", "valid", "test"))}
    return Split(name=SPLIT_NAME, **frames, users=IdIndex(chosen, "user_id"),
                 items=IdIndex(np.unique(ratings["item_id"]), "item_id"),
                 dataset=str(ratings.attrs.get("dataset", "unknown")))


def per_user_accuracy(frame: pd.DataFrame, predicted_like: np.ndarray) -> pd.Series:
    """Each user's share of right like/dislike answers over the rows of ``frame``.

    Args:
        frame: rows of a part of :func:`study_split` (``user_id``, ``rating``).
        predicted_like: one prediction per row, boolean or 0/1.

    Raises:
        ValueError: a prediction count that differs from the rows', or a NaN prediction.
    """
    predicted = np.asarray(predicted_like, dtype=float)
    if predicted.shape != (len(frame),):
        raise ValueError(f"{predicted.shape} predictions for {len(frame):,} rows: give one per row.")
    if np.isnan(predicted).any():
        raise ValueError(f"{int(np.isnan(predicted).sum())} predictions are NaN.")
    right = (predicted > 0.5) == (liked(frame) > 0.5)
    users = pd.Index(frame["user_id"].to_numpy(), name="user_id")
    return pd.Series(right, index=users).groupby(level=0).mean().rename("accuracy")


def like_accuracy(frame: pd.DataFrame, predicted_like: np.ndarray) -> RankingResult:
    """``{"accuracy": mean over users}`` of :func:`per_user_accuracy`, with each user's value in
    ``.per_user``: pass it to ``record_metrics`` or ``record_design`` as ``metrics``."""
    per_user = per_user_accuracy(frame, predicted_like).to_frame()
    return RankingResult({"accuracy": float(per_user["accuracy"].mean())}, per_user=per_user)


def majority_baselines(split: Split, part: str = "test") -> dict[str, RankingResult]:
    """The accuracy (as :func:`like_accuracy`) of *AlwaysLike* and of *UserMajority* (each user's
    more frequent answer in ``train+valid``; a tie counts as like) on ``part``."""
    frame = split.frame(part)
    fitted = split.frame("train+valid")
    likes_more = (pd.Series(liked(fitted), index=fitted["user_id"]).groupby(level=0).mean() >= 0.5)
    user_majority = likes_more.reindex(frame["user_id"]).fillna(True).to_numpy()
    return {"AlwaysLike": like_accuracy(frame, np.ones(len(frame))),
            "UserMajority": like_accuracy(frame, user_majority)}


def collaborative_frame(ratings: pd.DataFrame, split: Split, held_out: str = "valid+test") -> pd.DataFrame:
    """Every rating except the ``held_out`` rows of ``split``: what a model that learns from all
    users (an RBM, an autoencoder) may train on when it is scored on those rows."""
    out = split.frame(held_out)
    key = pd.MultiIndex.from_frame(ratings[["user_id", "item_id"]])
    drop = key.isin(pd.MultiIndex.from_frame(out[["user_id", "item_id"]]))
    return ratings[~drop].reset_index(drop=True)
