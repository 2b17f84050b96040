"""Non-neural baselines: the floor every neural notebook must clear, and often a high one.

Each baseline is fitted on a binary ``users x items`` interaction matrix (``split.matrix(...)``)
and returns scores for any users with ``scores(user_positions)``, ready for
:func:`recutils.evaluation.evaluate`.  Dacrema et al. (RecSys 2019) found that such baselines,
tuned, beat most of the neural recommenders they re-ran.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import secrets
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp

from recutils import evaluation, metrics
from recutils.evaluation import evaluate, grid_search
from recutils.paths import data_dir
from recutils.splits import Split


class Popularity:
    """Recommends the items with the most interactions in training, the same list to everyone."""

    def fit(self, interactions: sp.spmatrix) -> Popularity:
        self.counts_ = np.asarray(sp.csr_matrix(interactions).sum(axis=0), dtype=np.float64).ravel()
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.counts_, (len(users), self.counts_.size)).copy()


class ItemKNN:
    """Item-based k-nearest neighbours with cosine similarity (Sarwar et al. 2001).

    ``sim(i, j) = x_i . x_j / (|x_i| |x_j| + shrink)`` over the items' user columns; each item
    keeps its ``neighbours`` most similar items; a user's score for ``j`` sums the similarities
    of ``j`` to the items the user interacted with.
    """

    def __init__(self, neighbours: int = 100, shrink: float = 0.0):
        self.neighbours = neighbours
        self.shrink = shrink

    def fit(self, interactions: sp.spmatrix) -> ItemKNN:
        x = sp.csr_matrix(interactions, dtype=np.float64)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=0)).ravel())
        sim = (x.T @ x).toarray()
        sim /= np.outer(norms, norms) + self.shrink + 1e-12
        np.fill_diagonal(sim, 0.0)
        if self.neighbours < sim.shape[0]:
            # Keep the `neighbours` largest similarities in each column, zero the rest.
            cut = np.argpartition(-sim, self.neighbours, axis=0)[self.neighbours:]
            np.put_along_axis(sim, cut, 0.0, axis=0)
        self.x_, self.similarity_ = x, sim
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.x_[users] @ self.similarity_)


class EASE:
    """Embarrassingly Shallow Autoencoder (Steck 2019), solved in closed form.

    ``B = argmin |X - XB|^2 + l2 |B|^2`` subject to ``diag(B) = 0``, whose solution is
    ``P = (X^T X + l2 I)^-1`` and ``B_ij = -P_ij / P_jj`` (``B_jj = 0``).  Scores are ``X B``.
    """

    def __init__(self, l2: float = 500.0):
        self.l2 = l2

    def fit(self, interactions: sp.spmatrix) -> EASE:
        x = sp.csr_matrix(interactions, dtype=np.float64)
        gram = (x.T @ x).toarray()
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = -p / np.diag(p)
        np.fill_diagonal(b, 0.0)
        self.x_, self.weights_ = x, b
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.x_[users] @ self.weights_)


BASELINE_GRIDS: dict[str, dict[str, list]] = {
    "Popularity": {},
    "ItemKNN": {"neighbours": [100, 200, 400, 600, 800, 1200], "shrink": [0.0, 10.0]},
    "EASE": {"l2": [50.0, 100.0, 200.0, 500.0, 1000.0]},
}
"""The validation grids that :func:`evaluate_baselines` searches."""


def evaluate_baselines(split: Split, k: int = 10, grids: dict[str, dict[str, list]] | None = None,
                       cache: bool = True) -> pd.DataFrame:
    """Tune each baseline on ``valid`` (fitted on ``train``), refit it on ``train+valid`` with
    the best parameters, and score it on ``test``: the protocol every model follows.

    Returns one row per baseline (index: model name) with the test metrics, ``params`` and
    ``train_seconds`` of the final fit, and in ``attrs["per_user"]`` each baseline's per-user
    test metrics (for paired comparisons).  Takes about 5 s on ML-100K.

    With ``cache``, the table is kept in ``<data>/baselines/`` under a key made of the split's
    interactions, ``k``, the grids and the source code that computes it, so the notebooks that
    follow reuse it instead of computing the same figures again; any change to one of these gives
    a new key.  Delete the folder to recompute.
    """
    grids = BASELINE_GRIDS if grids is None else grids
    path = data_dir() / "baselines" / f"{_cache_key(split, k, grids)}.pkl" if cache else None
    if path is not None and path.is_file():
        try:
            with open(path, "rb") as f:
                return pickle.load(f)
        except Exception:  # a damaged or foreign file: computed again and replaced below
            pass
    classes = {"Popularity": Popularity, "ItemKNN": ItemKNN, "EASE": EASE}
    rows, per_user = {}, {}
    for name, grid in grids.items():
        cls = classes[name]
        best, _ = grid_search(lambda **p: cls(**p).fit(split.matrix("train")).scores, grid, split,
                              metric=f"ndcg@{k}", k=k)
        start = time.perf_counter()
        model = cls(**best).fit(split.matrix("train+valid"))
        seconds = time.perf_counter() - start
        result = evaluate(model.scores, split, part="test", k=k)
        rows[name] = {**result, "params": best, "train_seconds": seconds}
        per_user[name] = result.per_user
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.attrs["per_user"] = per_user
    if path is not None:
        try:
            _write_atomically(table, path)
        except OSError:  # a read-only data folder: the table is still returned, only not kept
            pass
    return table


def _cache_key(split: Split, k: int, grids: dict[str, dict[str, list]]) -> str:
    """A digest of everything the baselines' table depends on."""
    digest = hashlib.sha256()
    for part in ("train", "valid", "test"):
        digest.update(pd.util.hash_pandas_object(split.frame(part), index=False).to_numpy().tobytes())
    for ids in (split.users.ids, split.items.ids):
        digest.update(np.ascontiguousarray(ids).tobytes())
    digest.update(repr((k, sorted((name, sorted(grid.items())) for name, grid in grids.items()))).encode())
    for module in (sys.modules[__name__], evaluation, metrics):
        digest.update(inspect.getsource(module).encode())
    digest.update(f"{np.__version__} {pd.__version__} {scipy.__version__}".encode())
    return digest.hexdigest()[:24]


def _write_atomically(table: pd.DataFrame, path: Path) -> None:
    """Pickle ``table`` to ``path`` through a temporary file in the same folder, so a reader never
    sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}-{secrets.token_hex(8)}")
    try:
        with open(tmp, "wb") as f:
            pickle.dump(table, f)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
