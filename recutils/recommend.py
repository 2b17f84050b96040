"""The "recommend for one user" view that every model notebook shows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recutils.datasets import MovieLens
from recutils.evaluation import ScoreFn
from recutils.metrics import top_k
from recutils.splits import Split


def user_history(split: Split, data: MovieLens, user_id: int, n: int = 10,
                 part: str = "train+valid") -> pd.DataFrame:
    """The user's ``n`` most recent interactions in ``part``, newest first, with titles."""
    frame = split.frame(part)
    hist = frame[frame["user_id"] == user_id]
    if hist.empty:
        split.users.index([user_id])  # raises a clear KeyError for an unknown user
        raise ValueError(f"User {user_id} has no interactions in {part!r}.")
    hist = hist.sort_values(["timestamp", "item_id"], ascending=False).head(n)
    out = hist.merge(data.movies[["item_id", "title", "genres"]], on="item_id", how="left")
    out["date"] = pd.to_datetime(out["timestamp"], unit="s").dt.date
    return out[["date", "item_id", "title", "rating", "genres"]].reset_index(drop=True)


def recommend(model: np.ndarray | ScoreFn, split: Split, data: MovieLens, user_id: int,
              k: int = 10, part: str = "test") -> pd.DataFrame:
    """A model's top-``k`` for one user, ranked as :func:`recutils.evaluation.evaluate` ranks
    them for ``part`` (seen items excluded), with titles and whether the user in fact
    interacted with the item in ``part`` (``hit``)."""
    pos = split.users.index([user_id])
    scores = model(pos) if callable(model) else np.asarray(model)[pos]
    seen = split.matrix(split.history_before(part))[pos]
    items = split.items.ids[top_k(np.asarray(scores, dtype=np.float64), k, exclude=seen)[0]]
    held_out = set(split.frame(part).query("user_id == @user_id")["item_id"])
    titles = data.movies.set_index("item_id").loc[items, ["title", "genres"]].reset_index()
    titles.insert(0, "rank", np.arange(1, len(items) + 1))
    titles["hit"] = titles["item_id"].isin(held_out)
    return titles
