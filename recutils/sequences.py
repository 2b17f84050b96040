"""Per-user interaction sequences for the sequential recommenders (GRU, LSTM, ...).

Each user's interactions are ordered by ``timestamp``, ties broken by ``item_id`` (the order
:func:`recutils.splits.canonical_split` uses), and written as **tokens**: an item at column
``i`` of the split's matrices is token ``i + 1``, so that token ``0`` is free for padding
(``tf.keras.layers.Embedding(n_items + 1, ..., mask_zero=True)``).  Sequences are padded on
the **left**, so the last column always holds the user's newest interaction.

* :func:`sequences_from_frame` — one row per user: the newest ``max_len`` tokens, for scoring.
* :func:`training_windows` — every user's whole history cut into overlapping windows of
  ``max_len + 1`` tokens, so teacher forcing sees every transition exactly once.
* :func:`leave_last_out_split` — the next-item protocol: each user's last interaction is the
  test part, the one before it the validation part.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from recutils.splits import IdIndex, Split, time_ordered

PAD = 0
"""The padding token; item column ``i`` is token ``i + 1``."""


def _ordered_tokens(frame: pd.DataFrame, split: Split) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """User positions and tokens sorted by (user, timestamp, item_id), and each rating's
    distance from its user's newest rating (0 = newest)."""
    missing = [c for c in ("user_id", "item_id", "timestamp") if c not in frame]
    if missing:
        raise ValueError(f"The frame lacks the columns {missing}; sequences need user_id, item_id "
                         "and timestamp.")
    users, items = split.encode(frame)
    order = np.lexsort((frame["item_id"].to_numpy(), frame["timestamp"].to_numpy(), users))
    users, tokens = users[order], items[order].astype(np.int32) + 1
    ends = np.cumsum(np.bincount(users, minlength=split.n_users))  # one past each user's last
    from_end = ends[users] - 1 - np.arange(users.size)
    return users, tokens, from_end


def _check_max_len(max_len: int) -> None:
    if isinstance(max_len, bool) or not isinstance(max_len, numbers.Integral) or max_len < 1:
        raise ValueError(f"max_len must be a positive integer, got {max_len!r}.")


def sequences_from_frame(frame: pd.DataFrame, split: Split, max_len: int) -> np.ndarray:
    """Each user's newest ``max_len`` interactions in ``frame`` as tokens, left-padded with 0.

    Args:
        frame: interactions in the ratings schema, e.g. ``split.frame("train+valid")``.
        split: fixes the row order (``split.users``) and the tokens (``split.items`` + 1).
        max_len: the number of columns; older interactions are dropped.

    Returns:
        ``(split.n_users, max_len)`` int32; row ``u`` is user ``split.users.ids[u]``, all zeros
        for a user without interactions in ``frame``.
    """
    _check_max_len(max_len)
    users, tokens, from_end = _ordered_tokens(frame, split)
    keep = from_end < max_len
    out = np.zeros((split.n_users, max_len), dtype=np.int32)
    out[users[keep], max_len - 1 - from_end[keep]] = tokens[keep]
    return out


def training_windows(frame: pd.DataFrame, split: Split, max_len: int) -> np.ndarray:
    """Every user's history in ``frame`` cut into windows of ``max_len + 1`` tokens.

    Windows are cut from the newest interaction backwards and overlap by one token, so each
    transition (item -> next item) appears in exactly one window: ``windows[:, :-1]`` are the
    inputs and ``windows[:, 1:]`` the targets of teacher forcing.  A user's oldest window is
    left-padded with 0; users with fewer than two interactions give no window.

    Returns:
        ``(n_windows, max_len + 1)`` int32, grouped by user (split order), newest window first.
    """
    _check_max_len(max_len)
    users, tokens, from_end = _ordered_tokens(frame, split)
    width = max_len + 1
    n = np.bincount(users, minlength=split.n_users)
    n_windows = np.maximum(0, (n - 2) // max_len + 1)  # ceil((n - 1) / max_len) transitions' worth
    first_row = np.cumsum(n_windows) - n_windows
    # A rating at distance f from the newest sits in window f // max_len at column
    # width - 1 - f % max_len; a rating at a window boundary is also the first column of the
    # next (older) window.
    window = from_end // max_len
    col = width - 1 - from_end % max_len
    boundary = (from_end % max_len == 0) & (from_end > 0)
    window = np.concatenate([window, window[boundary] - 1])
    col = np.concatenate([col, np.zeros(boundary.sum(), dtype=col.dtype)])
    users = np.concatenate([users, users[boundary]])
    tokens = np.concatenate([tokens, tokens[boundary]])
    keep = window < n_windows[users]  # drops a lone oldest token already in the window before
    out = np.zeros((int(n_windows.sum()), width), dtype=np.int32)
    out[first_row[users[keep]] + window[keep], col[keep]] = tokens[keep]
    return out


def leave_last_out_split(ratings: pd.DataFrame) -> Split:
    """The next-item protocol as a :class:`~recutils.splits.Split`: per user, ordered as in
    :func:`~recutils.splits.canonical_split`, the last interaction is ``test``, the second to
    last ``valid``, and all earlier ones ``train``.  Named ``"leave-last-out"``.

    Raises:
        ValueError: the frame is empty, lacks columns, or a user has fewer than 3 interactions.
    """
    df = time_ordered(ratings)
    user_ids = df["user_id"].to_numpy()
    ids, starts, counts = np.unique(user_ids, return_index=True, return_counts=True)
    if (counts < 3).any():
        few = ids[counts < 3]
        raise ValueError(f"{few.size} users have fewer than 3 interactions (e.g. {few[:5].tolist()}), "
                         "so they cannot have one in each part.")
    from_end = np.repeat(starts + counts, counts) - 1 - np.arange(len(df))
    part = np.minimum(from_end, 2)  # 0 = last (test), 1 = second to last (valid), 2 = train
    frames = {name: df[part == p].reset_index(drop=True)
              for name, p in (("train", 2), ("valid", 1), ("test", 0))}
    return Split(name="leave-last-out", **frames, users=IdIndex(ids, "user_id"),
                 items=IdIndex(np.unique(df["item_id"].to_numpy()), "item_id"),
                 dataset=str(ratings.attrs.get("dataset", "unknown")))
