"""recutils.splits on the real MovieLens 100K ratings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recutils.sequences import leave_last_out_split
from recutils.splits import PARTS, IdIndex, Split, canonical_split, global_time_split, random_split


def _counts(split: Split) -> pd.DataFrame:
    """Interactions per user (rows) and part (columns)."""
    return pd.DataFrame({p: split.frame(p).groupby("user_id").size() for p in PARTS}).fillna(0).astype(int)


# ------------------------------------------------------------------------------- canonical ---

def test_canonical_sizes(split):
    sizes = {p: len(split.frame(p)) for p in PARTS}
    assert sizes == {"train": 79_926, "valid": 10_037, "test": 10_037}  # as documented
    assert sum(sizes.values()) == 100_000
    assert (split.n_users, split.n_items) == (943, 1682)


def test_canonical_has_no_leakage_in_time(split):
    times = {p: split.frame(p).groupby("user_id")["timestamp"] for p in PARTS}
    first = {p: g.min() for p, g in times.items()}
    last = {p: g.max() for p, g in times.items()}
    # For every user: every test time >= every valid and train time; every valid >= every train.
    assert (first["test"] >= last["valid"]).all()
    assert (first["test"] >= last["train"]).all()
    assert (first["valid"] >= last["train"]).all()
    # Not trivially true: shuffling the part labels breaks it.
    shuffled = pd.concat([split.frame(p) for p in PARTS]).sample(frac=1.0, random_state=0)
    fake_test = shuffled.iloc[:10_037].groupby("user_id")["timestamp"].min()
    fake_train = shuffled.iloc[20_074:].groupby("user_id")["timestamp"].max()
    common = fake_test.index.intersection(fake_train.index)
    assert not (fake_test[common] >= fake_train[common]).all()


def test_canonical_parts_are_disjoint_and_complete(split, ratings):
    parts = pd.concat([split.frame(p).assign(part=p) for p in PARTS], ignore_index=True)
    assert not parts.duplicated(["user_id", "item_id"]).any()
    key = ["user_id", "item_id", "rating", "timestamp"]
    pd.testing.assert_frame_equal(parts[key].sort_values(key).reset_index(drop=True),
                                  ratings[key].sort_values(key).reset_index(drop=True))


def test_canonical_every_user_in_every_part_with_the_rounding_rule(split):
    counts = _counts(split)
    assert len(counts) == 943
    assert (counts > 0).all().all()
    n = counts.sum(axis=1).to_numpy()
    # n_test = max(1, floor(0.1 n + 0.5)), in exact integer arithmetic: floor((n + 5) / 10).
    expected = np.maximum(1, (n + 5) // 10)
    np.testing.assert_array_equal(counts["test"].to_numpy(), expected)
    np.testing.assert_array_equal(counts["valid"].to_numpy(), expected)
    np.testing.assert_array_equal(counts["train"].to_numpy(), n - 2 * expected)
    # ML-100K users have 20 to 737 ratings, so the rule is exercised at both ends of rounding.
    assert ((n % 10) == 5).any() and ((n % 10) == 4).any()


def test_canonical_rounding_on_small_users(ratings):
    # Users cut down to 3..25 interactions: the max(1, ...) floor and half-up rounding matter.
    sizes = pd.Series(np.arange(3, 26), index=ratings["user_id"].unique()[:23])
    small = ratings[ratings["user_id"].isin(sizes.index)]
    small = small[small.groupby("user_id").cumcount() < small["user_id"].map(sizes)]
    counts = _counts(canonical_split(small))
    n = counts.sum(axis=1)
    np.testing.assert_array_equal(n.sort_values().to_numpy(), np.arange(3, 26))
    expected = np.maximum(1, (n.to_numpy() + 5) // 10)
    np.testing.assert_array_equal(counts["test"].to_numpy(), expected)
    np.testing.assert_array_equal(counts["valid"].to_numpy(), expected)


def test_canonical_is_deterministic(split, ratings):
    again = canonical_split(ratings)
    shuffled = canonical_split(ratings.sample(frac=1.0, random_state=123).reset_index(drop=True))
    for other in (again, shuffled):
        for p in PARTS:
            pd.testing.assert_frame_equal(split.frame(p), other.frame(p))
        np.testing.assert_array_equal(split.users.ids, other.users.ids)
        np.testing.assert_array_equal(split.items.ids, other.items.ids)


def test_canonical_breaks_time_ties_by_item_id(ratings):
    # One user, all interactions at the same second: the highest item ids are the newest.
    one = ratings[ratings["user_id"] == ratings["user_id"].iloc[0]].copy()
    one["timestamp"] = 0
    s = canonical_split(one.sample(frac=1.0, random_state=1))
    assert s.train["item_id"].max() < s.valid["item_id"].min()
    assert s.valid["item_id"].max() < s.test["item_id"].min()


def test_canonical_errors(ratings):
    with pytest.raises(ValueError, match="empty"):
        canonical_split(ratings.iloc[:0])
    with pytest.raises(ValueError, match="timestamp"):
        canonical_split(ratings.drop(columns="timestamp"))
    user = int(ratings["user_id"].iloc[0])
    few = pd.concat([ratings[ratings["user_id"] != user],
                     ratings[ratings["user_id"] == user].iloc[:2]])
    with pytest.raises(ValueError, match="fewer than 3 interactions") as err:
        canonical_split(few)
    assert str(user) in str(err.value)
    assert "Drop them first" in str(err.value)
    # The suggested fix works.
    fixed = few[few.groupby("user_id").item_id.transform("size") >= 3]
    assert canonical_split(fixed).n_users == 942


@pytest.mark.parametrize("column", ["user_id", "item_id", "rating", "timestamp"])
@pytest.mark.parametrize("make_split", [canonical_split, random_split, leave_last_out_split])
def test_a_nan_is_refused_with_the_fix(ratings, column, make_split):
    broken = ratings.astype({column: "float64"})
    broken.loc[broken.index[1234], column] = np.nan
    with pytest.raises(ValueError, match=rf"1 row with a missing \(NaN\) {column} \(the first is row 1234\)"
                                         rf".*dropna\(subset=\['{column}'\]\)"):
        make_split(broken)
    assert make_split(broken.dropna(subset=[column]).astype({column: ratings[column].dtype}))  # the fix works


def _rerated(ratings: pd.DataFrame, films_per_user: int = 3) -> pd.DataFrame:
    """The real ratings with, for every user, a later re-rating of the first films they rated."""
    again = ratings.groupby("user_id").head(films_per_user).copy()
    again["timestamp"] = ratings.groupby("user_id")["timestamp"].transform("max").loc[again.index] + 60
    again["rating"] = 6 - again["rating"]
    return pd.concat([ratings, again], ignore_index=True)


@pytest.mark.parametrize("make_split", [canonical_split, random_split, leave_last_out_split])
def test_repeated_pairs_keep_the_newest_and_never_straddle_parts(ratings, make_split, capsys):
    rerated = _rerated(ratings)
    split = make_split(rerated)
    printed = capsys.readouterr().out
    assert "2,829 repeated (user, item) rows dropped: each pair keeps its newest interaction" in printed
    assert sum(len(split.frame(p)) for p in PARTS) == 100_000
    parts = pd.concat([split.frame(p).assign(part=p) for p in PARTS])
    assert not parts.duplicated(["user_id", "item_id"]).any()
    newest = parts.merge(rerated.iloc[100_000:], on=["user_id", "item_id"], suffixes=("", "_again"))
    assert len(newest) == 2_829 and (newest["rating"] == newest["rating_again"]).all()  # the re-rating won


def test_the_real_ratings_have_no_repeated_pairs(ratings, capsys):
    canonical_split(ratings)
    assert "repeated" not in capsys.readouterr().out


def test_without_the_policy_repeated_pairs_land_in_train_and_test(ratings):
    """Why the policy exists: splitting the re-rated frame as it is puts pairs in both parts."""
    from recutils.splits import _make

    df = _rerated(ratings).sort_values(["user_id", "timestamp", "item_id"], kind="stable")
    df = df.reset_index(drop=True)
    n = df.groupby("user_id")["item_id"].transform("size").to_numpy()
    from_end = n - 1 - df.groupby("user_id").cumcount().to_numpy()
    n_held = np.maximum(1, np.floor(n * 0.1 + 0.5))
    naive = _make("naive", df, np.where(from_end < n_held, 2, np.where(from_end < 2 * n_held, 1, 0)))
    both = naive.train.merge(naive.test, on=["user_id", "item_id"])
    assert len(both) > 2_000


# ---------------------------------------------------------------------------------- random ---

def test_random_split_fractions(ratings):
    s = random_split(ratings, test_frac=0.2, valid_frac=0.1, seed=0)
    assert (len(s.train), len(s.valid), len(s.test)) == (70_000, 10_000, 20_000)
    parts = pd.concat([s.frame(p) for p in PARTS])
    assert not parts.duplicated(["user_id", "item_id"]).any()
    assert len(parts) == 100_000
    assert s.name == "random-80-20"


def test_random_split_seeds(ratings):
    a, b = random_split(ratings, seed=5), random_split(ratings, seed=5)
    c = random_split(ratings, seed=6)
    for p in PARTS:
        pd.testing.assert_frame_equal(a.frame(p), b.frame(p))
    key = ["user_id", "item_id"]
    overlap = a.test[key].merge(c.test[key]).shape[0]
    # Two independent 20% samples share about 20% of their ratings (4,000), not all 20,000.
    assert 3_000 < overlap < 5_000


# ------------------------------------------------------------------------- ids and matrices ---

def test_id_index(split):
    np.testing.assert_array_equal(split.items.index(split.items.ids), np.arange(1682))
    assert split.users.index([split.users.ids[10]])[0] == 10
    with pytest.raises(KeyError, match="99999"):
        split.items.index([1, 99999])
    with pytest.raises(KeyError, match="user_id"):
        split.users.index([0])  # ML-100K user ids start at 1
    # An id between two known ids is unknown too, not matched to a neighbour.
    idx = IdIndex(np.array([10, 20, 30]), "item_id")
    with pytest.raises(KeyError, match=r"\[25\]"):
        idx.index([25])
    with pytest.raises(KeyError, match=r"\[31\]"):
        idx.index([31])


def test_split_matrix(split):
    train = split.matrix("train")
    assert train.shape == (943, 1682)
    assert train.nnz == 79_926
    assert train.max() == 1.0
    both = split.matrix("train+valid")
    assert both.nnz == 79_926 + 10_037
    assert (both - train - split.matrix("valid")).nnz == 0
    ratings = split.matrix("test", values="rating")
    assert ratings.sum() == pytest.approx(split.test["rating"].sum())
    # Row u, column i are users.ids[u], items.ids[i].
    row = split.test.iloc[0]
    u, i = split.users.index([row.user_id])[0], split.items.index([row.item_id])[0]
    assert ratings[u, i] == row.rating
    assert split.matrix("train") is train  # cached


def test_split_frame_parts(split):
    assert len(split.frame("train+valid")) == 89_963
    with pytest.raises(ValueError, match="Unknown part"):
        split.frame("validation")
    with pytest.raises(ValueError, match="Unknown part"):
        split.matrix("train+tset")
    assert split.history_before("test") == "train+valid"
    assert split.history_before("valid") == "train"


# ------------------------------------------------------------------------------ global time ---


def test_global_time_split_has_one_cut_off_for_everyone(ratings, capsys):
    split = global_time_split(ratings)
    printed = capsys.readouterr().out
    assert "17,137 held-out interactions of users or items with no earlier interaction dropped" in printed
    times = {p: split.frame(p)["timestamp"] for p in PARTS}
    # For all users at once: everything in valid after everything in train, test after valid.
    assert times["train"].max() < times["valid"].min() and times["valid"].max() < times["test"].min()
    # The canonical split has no such order across users (that is why this one exists).
    canonical = canonical_split(ratings)
    assert canonical.train["timestamp"].max() > canonical.test["timestamp"].min()
    sizes = {p: len(split.frame(p)) for p in PARTS}
    assert sizes == {"train": 79_999, "valid": 1_520, "test": 1_344}
    assert (split.summary().loc["test", "users"], split.summary().loc["valid", "users"]) == (66, 80)


def test_global_time_split_scores_only_users_and_items_seen_before(ratings):
    split = global_time_split(ratings)
    for part, before in (("valid", "train"), ("test", "train+valid")):
        seen = split.frame(before)
        held = split.frame(part)
        assert held["user_id"].isin(seen["user_id"]).all() and held["item_id"].isin(seen["item_id"]).all()
    keys = [set(zip(split.frame(p)["user_id"], split.frame(p)["item_id"])) for p in PARTS]
    assert not (keys[0] & keys[1] or keys[0] & keys[2] or keys[1] & keys[2])
    again = global_time_split(ratings.sample(frac=1.0, random_state=3))
    pd.testing.assert_frame_equal(again.test, split.test)


def test_global_time_split_errors(ratings):
    with pytest.raises(ValueError, match="sum below 1"):
        global_time_split(ratings, valid_frac=0.5, test_frac=0.5)
    with pytest.raises(ValueError, match="empty"):
        global_time_split(ratings.iloc[:0])
