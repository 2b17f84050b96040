"""recutils.sequences: hand-worked examples on a tiny frame, then the real MovieLens 100K."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recutils.sequences import PAD, leave_last_out_split, sequences_from_frame, training_windows
from recutils.splits import PARTS, IdIndex, Split

# ------------------------------------------------------------------------ hand-worked frame ---
# Items 10, 20, 30, 40, 50 are columns 0..4, so tokens 1..5.  Rows are given out of order.
#   user 6: item 10 at t=10                                  -> tokens 1
#   user 7: 30@100, 10@200, 50@200 (tie: 10 first), 20@300, 40@400 -> tokens 3 1 5 2 4
#   user 8: 20@50, 40@60                                      -> tokens 2 4
#   user 9: no interaction in the frame
TINY = pd.DataFrame({
    "user_id": [7, 8, 7, 6, 7, 8, 7, 7],
    "item_id": [50, 40, 30, 10, 40, 20, 10, 20],
    "rating": [4.0, 3.0, 5.0, 1.0, 2.0, 4.0, 3.0, 5.0],
    "timestamp": [200, 60, 100, 10, 400, 50, 200, 300],
})


@pytest.fixture(scope="module")
def tiny() -> Split:
    """A split whose catalogue is the tiny frame's (users 6-9, items 10-50); all in train."""
    empty = TINY.iloc[:0]
    return Split(name="tiny", train=TINY, valid=empty, test=empty,
                 users=IdIndex(np.array([6, 7, 8, 9]), "user_id"),
                 items=IdIndex(np.array([10, 20, 30, 40, 50]), "item_id"))


@pytest.mark.parametrize("max_len, expected", [
    (3, [[0, 0, 1], [5, 2, 4], [0, 2, 4], [0, 0, 0]]),
    (6, [[0, 0, 0, 0, 0, 1], [0, 3, 1, 5, 2, 4], [0, 0, 0, 0, 2, 4], [0, 0, 0, 0, 0, 0]]),
    (1, [[1], [4], [4], [0]]),
])
def test_sequences_from_frame_by_hand(tiny, max_len, expected):
    seqs = sequences_from_frame(TINY, tiny, max_len)
    assert seqs.dtype == np.int32
    np.testing.assert_array_equal(seqs, expected)


@pytest.mark.parametrize("max_len, expected", [
    # user 7 has 4 transitions: two windows of 3 tokens, newest first, overlapping by one token;
    # user 8 has 1 transition: one left-padded window; user 6 (one item) and user 9 give none.
    (2, [[5, 2, 4], [3, 1, 5], [0, 2, 4]]),
    (3, [[1, 5, 2, 4], [0, 0, 3, 1], [0, 0, 2, 4]]),
    (4, [[3, 1, 5, 2, 4], [0, 0, 0, 2, 4]]),
    (1, [[2, 4], [5, 2], [1, 5], [3, 1], [2, 4]]),
])
def test_training_windows_by_hand(tiny, max_len, expected):
    windows = training_windows(TINY, tiny, max_len)
    assert windows.dtype == np.int32
    np.testing.assert_array_equal(windows, expected)


def test_leave_last_out_by_hand():
    # user 7: 30@100, 10@200, 50@200, 20@300, 40@400; user 8: 20@50, 40@60, 10@60 -> 20, 10, 40.
    frame = pd.concat([TINY[TINY.user_id == 7],
                       pd.DataFrame({"user_id": [8, 8, 8], "item_id": [40, 20, 10],
                                     "rating": [1.0, 2.0, 3.0], "timestamp": [60, 50, 60]})])
    llo = leave_last_out_split(frame)
    assert llo.name == "leave-last-out"
    pairs = {p: sorted(zip(llo.frame(p).user_id, llo.frame(p).item_id)) for p in PARTS}
    assert pairs == {"train": [(7, 10), (7, 30), (7, 50), (8, 20)],
                     "valid": [(7, 20), (8, 10)],
                     "test": [(7, 40), (8, 40)]}


def test_bad_input(tiny):
    for bad in (0, -1, 2.5, 3.0, True, "5"):
        with pytest.raises(ValueError, match="max_len"):
            sequences_from_frame(TINY, tiny, bad)
        with pytest.raises(ValueError, match="max_len"):
            training_windows(TINY, tiny, bad)
    with pytest.raises(ValueError, match="timestamp"):
        sequences_from_frame(TINY.drop(columns="timestamp"), tiny, 3)
    with pytest.raises(KeyError, match="user_id"):
        training_windows(TINY.assign(user_id=TINY.user_id + 100), tiny, 3)
    with pytest.raises(ValueError, match="fewer than 3"):
        leave_last_out_split(TINY)  # users 6 and 8 have 1 and 2 interactions
    with pytest.raises(ValueError, match="empty"):
        leave_last_out_split(TINY.iloc[:0])


# --------------------------------------------------------------------- real MovieLens 100K ---


def _ordered(frame: pd.DataFrame, split: Split) -> pd.DataFrame:
    """The reference order, written with pandas: (user, timestamp, item_id), plus positions."""
    out = frame.sort_values(["user_id", "timestamp", "item_id"], kind="stable").reset_index(drop=True)
    return out.assign(user=split.users.index(out.user_id.to_numpy()),
                      token=split.items.index(out.item_id.to_numpy()) + 1)


@pytest.mark.parametrize("max_len", [1, 20, 50, 800])
def test_sequences_on_movielens_match_a_per_user_reference(split, max_len):
    seqs = sequences_from_frame(split.frame("train"), split, max_len)
    assert seqs.shape == (943, max_len)
    ref = _ordered(split.frame("train"), split)
    expected = np.zeros_like(seqs)
    for user, group in ref.groupby("user"):
        newest = group.token.to_numpy()[-max_len:]
        expected[user, max_len - newest.size:] = newest  # left padding, newest in the last column
    np.testing.assert_array_equal(seqs, expected)
    # Token = item column + 1: the newest token of every user maps back to that user's newest item.
    newest_items = split.items.ids[seqs[:, -1] - 1]
    np.testing.assert_array_equal(newest_items, ref.groupby("user").item_id.last().to_numpy())
    # Left padding: once a row has a real token, every later column does too.
    real = seqs != PAD
    assert (np.diff(real.astype(int), axis=1) >= 0).all()
    if max_len == 800:  # longer than every history: each row holds the user's whole train part
        np.testing.assert_array_equal(real.sum(axis=1), np.diff(split.matrix("train").indptr))


@pytest.mark.parametrize("max_len", [1, 7, 50])
def test_windows_cover_every_transition_once(split, max_len):
    frame = split.frame("train")
    windows = training_windows(frame, split, max_len)
    n = np.diff(split.matrix("train").indptr)
    per_user = -(-(n - 1) // max_len)  # ceil((n - 1) / max_len)
    assert len(windows) == per_user.sum()
    owner = np.repeat(np.arange(split.n_users), per_user)  # windows are grouped by user
    inputs, targets = windows[:, :-1], windows[:, 1:]
    pairs = (inputs != PAD) & (targets != PAD)
    got = pd.DataFrame({"user": np.broadcast_to(owner[:, None], pairs.shape)[pairs],
                        "prev": inputs[pairs], "next": targets[pairs]})
    ref = _ordered(frame, split)
    same_user = ref.user.to_numpy()[1:] == ref.user.to_numpy()[:-1]
    expected = pd.DataFrame({"user": ref.user.to_numpy()[1:][same_user],
                             "prev": ref.token.to_numpy()[:-1][same_user],
                             "next": ref.token.to_numpy()[1:][same_user]})
    assert len(got) == len(expected) == 79_926 - 943
    key = ["user", "prev", "next"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True),
                                  expected.sort_values(key).reset_index(drop=True), check_dtype=False)
    # Padding only on the left, and only in a user's oldest window (the last of its group).
    real = windows != PAD
    assert (np.diff(real.astype(int), axis=1) >= 0).all()
    oldest = np.cumsum(per_user)[per_user > 0] - 1
    padded = np.flatnonzero(~real.all(axis=1))
    assert np.isin(padded, oldest).all()
    # The newest window of each user is the user's newest max_len + 1 tokens.
    newest = np.cumsum(per_user)[per_user > 0] - per_user[per_user > 0]
    np.testing.assert_array_equal(windows[newest],
                                  sequences_from_frame(frame, split, max_len + 1)[per_user > 0])


def test_no_future_in_train_windows_or_histories(split):
    for part, later in (("train", ("valid", "test")), ("train+valid", ("test",))):
        frame = split.frame(part)
        windows = training_windows(frame, split, 50)
        owner = np.repeat(np.arange(split.n_users),
                          -(-(np.diff(split.matrix(part).indptr) - 1) // 50))
        history = sequences_from_frame(frame, split, 50)
        for users, tokens in ((np.broadcast_to(owner[:, None], windows.shape), windows),
                              (np.broadcast_to(np.arange(split.n_users)[:, None], history.shape), history)):
            real = tokens != PAD
            u, i = users[real], tokens[real] - 1
            assert np.asarray(split.matrix(part)[u, i]).all()  # every token is from `part`
            for p in later:  # and none is a later (held-out) interaction
                assert not np.asarray(split.matrix(p)[u, i]).any()


def test_leave_last_out_on_movielens(ratings):
    llo = leave_last_out_split(ratings)
    sizes = {p: len(llo.frame(p)) for p in PARTS}
    assert sizes == {"train": 100_000 - 2 * 943, "valid": 943, "test": 943}
    assert (llo.n_users, llo.n_items) == (943, 1682)
    for p in ("valid", "test"):
        assert llo.frame(p).user_id.nunique() == 943
    ref = _ordered(ratings, llo)
    last = ref.groupby("user_id").tail(1).set_index("user_id").item_id
    second = ref.groupby("user_id").nth(-2).set_index("user_id").item_id
    pd.testing.assert_series_equal(llo.test.set_index("user_id").item_id.sort_index(), last.sort_index())
    pd.testing.assert_series_equal(llo.valid.set_index("user_id").item_id.sort_index(), second.sort_index())
    # Disjoint and complete, and ordered in time per user.
    parts = pd.concat([llo.frame(p) for p in PARTS])
    assert len(parts) == 100_000 and not parts.duplicated(["user_id", "item_id"]).any()
    times = {p: llo.frame(p).groupby("user_id").timestamp for p in PARTS}
    assert (times["test"].min() >= times["valid"].max()).all()
    assert (times["valid"].min() >= times["train"].max()).all()
