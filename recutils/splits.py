"""The splits every notebook uses, so every model is scored on the same held-out interactions.

* :func:`canonical_split` — per user, by time: the course's protocol for every ranking model.
* :func:`global_time_split` — one cut-off date for all users: a second protocol, which does
  not reward continuing the rating session a user's training data ends in.
* :func:`random_split` — ratings shuffled globally: only for rating-prediction figures that
  compare with published RMSE tables (Surprise's 80/20 and 5-fold tables use random splits).

Both return a :class:`Split`, which also fixes the row/column order of every user-by-item
matrix in the course: row ``u`` is ``split.users.ids[u]``, column ``i`` is ``split.items.ids[i]``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

PARTS = ("train", "valid", "test")
RATING_COLUMNS = ("user_id", "item_id", "rating", "timestamp")


@dataclass(frozen=True)
class IdIndex:
    """Sorted raw ids and their positions (the rows or columns of the course's matrices)."""

    ids: np.ndarray
    kind: str = "id"

    def __len__(self) -> int:
        return len(self.ids)

    def index(self, raw_ids) -> np.ndarray:
        """Positions of ``raw_ids``; a clear ``KeyError`` names any id that is not known."""
        raw = np.asarray(raw_ids)
        pos = np.searchsorted(self.ids, raw)
        pos = np.minimum(pos, len(self.ids) - 1)
        bad = self.ids[pos] != raw
        if bad.any():
            unknown = np.unique(raw[bad])[:5].tolist()
            raise KeyError(
                f"Unknown {self.kind} {unknown}{' ...' if bad.sum() > 5 else ''}: known "
                f"{self.kind}s are {len(self.ids):,} ids from {self.ids[0]} to {self.ids[-1]}."
            )
        return pos


@dataclass(frozen=True)
class Split:
    """Train, validation and test interactions over one fixed catalogue of users and items."""

    name: str
    train: pd.DataFrame
    valid: pd.DataFrame
    test: pd.DataFrame
    users: IdIndex
    items: IdIndex
    dataset: str = "unknown"
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.items)

    def frame(self, part: str) -> pd.DataFrame:
        """One part, or several joined by ``+`` (``"train+valid"``), in the ratings schema."""
        names = part.split("+")
        unknown = [n for n in names if n not in PARTS]
        if unknown:
            raise ValueError(f"Unknown part {unknown}; parts are {PARTS}, joined with '+'.")
        if len(names) == 1:
            return getattr(self, names[0])
        return pd.concat([getattr(self, n) for n in names], ignore_index=True)

    def history_before(self, part: str) -> str:
        """The parts a model may have seen when ``part`` is scored: ``train`` for ``valid``,
        ``train+valid`` for ``test``.  Their items are excluded from that part's rankings."""
        return {"train": "train", "valid": "train", "test": "train+valid"}[part]

    def encode(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Row and column positions of a frame's ``user_id`` and ``item_id``."""
        return self.users.index(frame["user_id"].to_numpy()), self.items.index(frame["item_id"].to_numpy())

    def matrix(self, part: str = "train", values: str | None = None) -> sp.csr_matrix:
        """The ``n_users x n_items`` sparse matrix of a part: 1.0 per interaction, or the
        column ``values`` (e.g. ``"rating"``).  Cached, so calling it twice costs nothing."""
        key = (part, values)
        if key not in self._cache:
            df = self.frame(part)
            rows, cols = self.encode(df)
            data = np.ones(len(df), np.float32) if values is None else df[values].to_numpy(np.float32)
            m = sp.csr_matrix((data, (rows, cols)), shape=(self.n_users, self.n_items), dtype=np.float32)
            m.sum_duplicates()
            self._cache[key] = m
        return self._cache[key]

    def summary(self) -> pd.DataFrame:
        """Interactions, users and items per part."""
        return pd.DataFrame(
            {p: {"interactions": len(f), "users": f.user_id.nunique(), "items": f.item_id.nunique()}
             for p in PARTS for f in [getattr(self, p)]}
        ).T


def validated_ratings(ratings: pd.DataFrame) -> pd.DataFrame:
    """The ratings checked for what would corrupt a split, with repeated (user, item) pairs resolved.

    Duplicates policy: a user who interacted with an item more than once keeps only the **newest**
    of those rows (largest ``timestamp``; among equal timestamps the last row of the frame), and
    the number of rows dropped is printed.  Without it a re-rating could land in ``train`` and
    its pair in ``test``, where it would count as relevant yet be excluded from the ranking.

    Returns the frame itself when nothing was dropped, else a copy without the older rows.

    Raises:
        ValueError: a user, item or timestamp column is missing, the frame is empty, or a user
            id, item id, timestamp or rating is missing (NaN); the message says how to fix it.
    """
    missing = [c for c in ("user_id", "item_id", "timestamp") if c not in ratings]
    if missing:
        raise ValueError(f"The ratings frame lacks the columns {missing}; expected {RATING_COLUMNS}.")
    if ratings.empty:
        raise ValueError("The ratings frame is empty: there is nothing to split.")
    for column in [c for c in RATING_COLUMNS if c in ratings]:
        nan = ratings[column].isna().to_numpy()
        if nan.any():
            raise ValueError(
                f"The ratings frame has {nan.sum():,} row{'s' if nan.sum() > 1 else ''} with a missing (NaN) "
                f"{column} (the first is "
                f"row {np.flatnonzero(nan)[0]}), which a split cannot place. Drop them first, e.g. "
                f"ratings.dropna(subset=[{column!r}]), or fill them with a real value.")
    by_time = np.argsort(ratings["timestamp"].to_numpy(), kind="stable")
    pairs = pd.DataFrame({"u": ratings["user_id"].to_numpy()[by_time],
                          "i": ratings["item_id"].to_numpy()[by_time]})
    older = np.empty(len(ratings), dtype=bool)
    older[by_time] = pairs.duplicated(keep="last").to_numpy()
    if not older.any():
        return ratings
    print(f"{older.sum():,} repeated (user, item) rows dropped: each pair keeps its newest interaction "
          f"({(~older).sum():,} rows left).")
    kept = ratings[~older]
    kept.attrs = dict(ratings.attrs)
    return kept


def time_ordered(ratings: pd.DataFrame) -> pd.DataFrame:
    """The ratings checked (:func:`validated_ratings`: no NaNs, each (user, item) pair once) and
    sorted by user, then time, ties by item id: the course's deterministic order of each user's
    history (a fresh index).

    Raises:
        ValueError: as :func:`validated_ratings`.
    """
    ratings = validated_ratings(ratings)
    order = np.lexsort((ratings["item_id"].to_numpy(), ratings["timestamp"].to_numpy(),
                        ratings["user_id"].to_numpy()))
    return ratings.iloc[order].reset_index(drop=True)


def _make(name: str, ratings: pd.DataFrame, part: np.ndarray) -> Split:
    frames = {p: ratings[part == i].reset_index(drop=True) for i, p in enumerate(PARTS)}
    return Split(
        name=name,
        **frames,
        users=IdIndex(np.unique(ratings["user_id"].to_numpy()), "user_id"),
        items=IdIndex(np.unique(ratings["item_id"].to_numpy()), "item_id"),
        dataset=str(ratings.attrs.get("dataset", "unknown")),
    )


def canonical_split(ratings: pd.DataFrame, valid_frac: float = 0.1, test_frac: float = 0.1) -> Split:
    """Per user, by time: the newest ``test_frac`` of each user's interactions to test, the
    ``valid_frac`` before them to validation, the rest to train.

    Each user's interactions are ordered by ``timestamp``, ties broken by ``item_id``, so the
    split is the same on every machine.  For a user with ``n`` interactions,
    ``n_test = max(1, floor(n * test_frac + 0.5))`` (round half up) and likewise ``n_valid``;
    train keeps the remaining ``n - n_test - n_valid`` (at least one).  On ML-100K that gives
    79,926 / 10,037 / 10,037 interactions.

    Raises:
        ValueError: the frame is empty, lacks columns, or a user has fewer than 3 interactions.
    """
    df = time_ordered(ratings)
    groups = df.groupby("user_id", sort=False)
    n = groups["item_id"].transform("size").to_numpy()
    too_few = np.unique(df["user_id"].to_numpy()[n < 3])
    if too_few.size:
        raise ValueError(
            f"{too_few.size} users have fewer than 3 interactions (e.g. {too_few[:5].tolist()}), "
            "so they cannot have one in each part. Drop them first, e.g. "
            "ratings[ratings.groupby('user_id').item_id.transform('size') >= 3]."
        )
    from_end = n - 1 - groups.cumcount().to_numpy()
    n_test = np.maximum(1, np.floor(n * test_frac + 0.5)).astype(int)
    n_valid = np.maximum(1, np.floor(n * valid_frac + 0.5)).astype(int)
    part = np.where(from_end < n_test, 2, np.where(from_end < n_test + n_valid, 1, 0))
    return _make("canonical", df, part)


def random_split(ratings: pd.DataFrame, test_frac: float = 0.2, valid_frac: float = 0.1,
                 seed: int = 42) -> Split:
    """Ratings shuffled with ``seed``: ``test_frac`` of all ratings to test, ``valid_frac`` of
    all to validation (for tuning), the rest to train.

    With the defaults, train+valid is the 80% and test the 20% of a classic random 80/20 split,
    the protocol behind published ML-100K RMSE tables.  A user or item may appear in test only.
    The ratings are checked as by :func:`validated_ratings` (repeated pairs: the newest kept).
    """
    ratings = validated_ratings(ratings)
    n = len(ratings)
    perm = np.random.default_rng(seed).permutation(n)
    n_test, n_valid = int(round(n * test_frac)), int(round(n * valid_frac))
    part = np.zeros(n, dtype=int)
    part[perm[:n_test]] = 2
    part[perm[n_test:n_test + n_valid]] = 1
    df = ratings.reset_index(drop=True)
    return _make(f"random-{round(100 * (1 - test_frac))}-{round(100 * test_frac)}", df, part)


def global_time_split(ratings: pd.DataFrame, valid_frac: float = 0.1, test_frac: float = 0.1) -> Split:
    """One cut-off date for everyone: the newest ``test_frac`` of all interactions to test, the
    ``valid_frac`` before them to validation, the rest to train.  Named ``"global-time"``.

    Unlike :func:`canonical_split`, no part holds anything that happened before an interaction
    of an earlier part, for any user: the model is fitted on the past and scored on the future,
    as a deployed recommender is, and cannot learn from other users' later sessions.  The cuts
    fall between two timestamps (interactions in the same second stay in one part).  Held-out
    interactions of users or items that have none in the earlier parts are dropped (a model
    cannot rank for a user, or an item, it has never seen), and how many is printed.

    Raises:
        ValueError: as :func:`validated_ratings`; or the fractions leave a part empty.
    """
    if not (0 < valid_frac and 0 < test_frac and valid_frac + test_frac < 1):
        raise ValueError(f"valid_frac {valid_frac} and test_frac {test_frac} must be positive and "
                         "sum below 1.")
    df = time_ordered(ratings)
    times = np.sort(df["timestamp"].to_numpy())
    n = times.size
    test_start = times[n - max(1, int(round(n * test_frac)))]
    valid_start = times[n - max(1, int(round(n * (test_frac + valid_frac))))]
    if not times[0] < valid_start < test_start:
        raise ValueError("The cut-off dates leave a part empty: use larger fractions or more data.")
    ts = df["timestamp"].to_numpy()
    part = np.where(ts >= test_start, 2, np.where(ts >= valid_start, 1, 0))
    dropped = 0
    for held in (1, 2):  # keep users and items seen before the part
        before = (part >= 0) & (part < held)
        known_users = np.isin(df["user_id"].to_numpy(), np.unique(df["user_id"].to_numpy()[before]))
        known_items = np.isin(df["item_id"].to_numpy(), np.unique(df["item_id"].to_numpy()[before]))
        cold = (part == held) & ~(known_users & known_items)
        dropped += int(cold.sum())
        part = np.where(cold, -1, part)
    if dropped:
        print(f"global-time split: {dropped:,} held-out interactions of users or items with no earlier "
              "interaction dropped.")
    kept = part >= 0
    return _make("global-time", df[kept].reset_index(drop=True), part[kept])
