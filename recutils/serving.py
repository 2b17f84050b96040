"""Serve a two-tower model: its query tower as a SavedModel beside a faiss index of the items.

:func:`export_retriever` writes one folder::

    query_model/     SavedModel; signature "serving_default": user_id (1-D string) -> query_vector
    items.faiss      the item index (recutils.ann), rows in the order of item_ids.npy
    item_ids.npy     the item ids, as strings
    user_ids.npy     the users the export knows, as strings
    manifest.json    format, default k, dimension, index kind and parameters, counts, and the
                     SHA-256 of every file above (the loader refuses a corrupt export)

:meth:`Retriever.load` checks it and :meth:`Retriever.recommend` answers a batch of users with
one call of the query tower and one index search.  From the command line, in a fresh process::

    python -m recutils.serving EXPORT_DIR --users 1 2 3 -k 10 --repeat 5

prints one JSON object: load time, the time of one batched request and of single-user requests,
and the recommendations.  Ids are strings throughout (the towers look up string ids): ``1`` and
``"1"`` name the same user.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import pandas as pd

from recutils import ann
from recutils.datasets import sha256_of
from recutils.paths import atomic_folder

FORMAT = 1
MANIFEST = "manifest.json"
QUERY_MODEL = "query_model"
INDEX, ITEM_IDS, USER_IDS = "items.faiss", "item_ids.npy", "user_ids.npy"
SIGNATURE, INPUT, OUTPUT = "serving_default", "user_id", "query_vector"
_REQUIRED = (INDEX, ITEM_IDS, USER_IDS, f"{QUERY_MODEL}/saved_model.pb")


class ExportError(RuntimeError):
    """An export is missing, incomplete or corrupt; the message says how to fix it."""


def export_retriever(path: str | os.PathLike, query_model, item_ids: Sequence, item_vectors: np.ndarray,
                     user_ids: Sequence, index_kind: str = "ivf", k: int = 10, **index_params) -> Path:
    """Write the query tower, an index of the item vectors and the known ids to the folder ``path``.

    The export is written to a temporary folder beside ``path`` and renamed into place when it is
    complete: an existing export at ``path`` is replaced only then, and kept if anything fails.

    Args:
        path: the export folder (must not exist, be empty, or hold an earlier export).
        query_model: a Keras model called as ``query_model({"user_id": tf.constant([...])})``
            (string ids) returning one query vector per id, e.g. a TFRS user tower.
        item_ids: one id per row of ``item_vectors`` (stored as strings).
        item_vectors: ``(n_items, dim)`` candidate vectors from the item tower.
        user_ids: the users the export serves (stored as strings); others are refused.
        index_kind: ``"ivf"``, ``"hnsw"`` or ``"exact"`` (see :mod:`recutils.ann`).
        k: the default number of recommendations per user.
        **index_params: parameters of the index (:data:`recutils.ann.DEFAULT_PARAMS`).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        ValueError: inconsistent ids or vectors, a bad ``k`` or index parameter, a query tower
            whose vectors do not match the items' dimension, or ``path`` holding something else.
    """
    import tensorflow as tf

    path = Path(path)
    vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)
    items, users = _ids(item_ids, "item_ids"), _ids(user_ids, "user_ids")
    if vectors.ndim != 2 or len(vectors) != len(items):
        raise ValueError(f"item_vectors must have one row per item id ({len(items):,}), got shape "
                         f"{vectors.shape}.")
    if not 1 <= k <= len(items):
        raise ValueError(f"k={k} must be between 1 and the number of items ({len(items):,}).")
    params = ann.resolve_params(index_kind, index_params, len(items))
    if path.exists() and not (path.is_dir() and (not any(path.iterdir()) or (path / MANIFEST).exists())):
        raise ValueError(f"{path} exists and is not a retriever export: choose another path or remove it.")
    tower = _query_tower(tf, query_model)
    sample = tower.serve(tf.constant(users[:8]))[OUTPUT]
    if sample.shape.rank != 2 or sample.shape[1] != vectors.shape[1]:
        raise ValueError(f"The query tower returns vectors of shape {tuple(sample.shape)} for "
                         f"{min(8, len(users))} users, but the item vectors are {vectors.shape[1]}-d: "
                         "export the two towers of one model.")
    index = ann.build_index(vectors, index_kind, **params)

    with atomic_folder(path) as tmp:
        tf.saved_model.save(tower, str(tmp / QUERY_MODEL), signatures={SIGNATURE: tower.serve})
        faiss.write_index(index, str(tmp / INDEX))
        np.save(tmp / ITEM_IDS, items)
        np.save(tmp / USER_IDS, users)
        manifest = {
            "format": FORMAT, "k": k, "dimension": int(vectors.shape[1]),
            "index": {"kind": index_kind, "params": params},
            "items": len(items), "users": len(users),
            "query_model": {"signature": SIGNATURE, "input": INPUT, "output": OUTPUT},
            "files": {name: sha256_of(tmp / name) for name in _files(tmp)},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return path


def _query_tower(tf, model):
    """A ``tf.Module`` holding ``model``, with a serving function from string ids to vectors
    (the class is made here, once TensorFlow has been imported)."""

    class QueryTower(tf.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=INPUT)])
        def serve(self, user_id):
            return {OUTPUT: tf.cast(self.model({INPUT: user_id}), tf.float32)}

    return QueryTower(model)


def _ids(ids: Sequence, name: str) -> np.ndarray:
    """``ids`` as a 1-D array of unique strings."""
    out = np.asarray(ids).astype(str)
    if out.ndim != 1 or out.size == 0:
        raise ValueError(f"{name} must be a non-empty list of ids, got shape {out.shape}.")
    values, counts = np.unique(out, return_counts=True)
    if (counts > 1).any():
        raise ValueError(f"{name} repeats ids {values[counts > 1][:5].tolist()}: each id must appear once.")
    return out


def _files(folder: Path) -> list[str]:
    """Every file under ``folder``, as sorted POSIX paths relative to it."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


class Retriever:
    """A loaded export: ``recommend(user_ids, k)`` returns each user's top-k items."""

    def __init__(self, path: Path, manifest: dict, saved_model, index: faiss.Index, item_ids: np.ndarray,
                 user_ids: np.ndarray):
        self.path, self.manifest, self.index = path, manifest, index
        self.item_ids, self.user_ids = item_ids, user_ids
        self._saved_model = saved_model  # keeps the signature's variables alive
        self._query = saved_model.signatures[SIGNATURE]
        self._known = np.sort(user_ids)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Retriever:
        """Load an export of :func:`export_retriever`, after checking every file's SHA-256.

        Raises:
            ExportError: the folder, its manifest or a file is missing, or a file does not match
                its checksum; the message says to re-export.
        """
        import tensorflow as tf

        path = Path(path)
        fix = "re-export it with recutils.serving.export_retriever"
        if not path.is_dir():
            raise ExportError(f"No retriever export at {path}: export one with "
                              "recutils.serving.export_retriever, or check the path.")
        try:
            manifest = json.loads((path / MANIFEST).read_text())
            files = manifest["files"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ExportError(f"{path} is not a complete export ({MANIFEST}: {exc}): {fix}.") from exc
        if manifest.get("format") != FORMAT:
            raise ExportError(f"{path} has export format {manifest.get('format')}, this code reads "
                              f"format {FORMAT}: {fix}.")
        missing = [name for name in dict.fromkeys((*_REQUIRED, *files))
                   if name not in files or not (path / name).is_file()]
        if missing:
            raise ExportError(f"{path} is incomplete: {missing[:5]} missing; {fix}.")
        corrupt = [name for name, digest in files.items() if sha256_of(path / name) != digest]
        if corrupt:
            raise ExportError(f"{path}: {corrupt[:5]} do not match their SHA-256 in {MANIFEST} (corrupt "
                              f"or modified since export): {fix}.")
        index = faiss.read_index(str(path / INDEX))
        item_ids = np.load(path / ITEM_IDS, allow_pickle=False)
        user_ids = np.load(path / USER_IDS, allow_pickle=False)
        saved_model = tf.saved_model.load(str(path / QUERY_MODEL))
        return cls(path, manifest, saved_model, index, item_ids, user_ids)

    def recommend(self, user_ids: Sequence, k: int | None = None) -> pd.DataFrame:
        """Top-``k`` items (default: the export's ``k``) for each user, best first.

        One call of the query tower for the whole batch, one index search.

        Returns:
            Columns ``user_id``, ``rank`` (1 = best), ``item_id`` (strings) and ``score`` (the
            inner product); ``k`` rows per user, in request order.  An approximate index that
            finds fewer than ``k`` items for a user returns fewer rows for that user.

        Raises:
            ValueError: no user ids, an unknown user id, or ``k`` outside ``1..n_items``.
        """
        import tensorflow as tf

        users = np.asarray(user_ids).astype(str).ravel()
        if users.size == 0:
            raise ValueError("No user ids given: pass at least one user id to recommend for.")
        pos = np.minimum(np.searchsorted(self._known, users), len(self._known) - 1)
        unknown = users[self._known[pos] != users]
        if unknown.size:
            shown = sorted(set(unknown.tolist()))
            raise ValueError(f"Unknown user id(s) {shown[:10]}{' ...' if len(shown) > 10 else ''}: "
                             f"this export knows {len(self._known):,} users (ids such as "
                             f"{str(self._known[0])!r}); re-export with these users to serve them.")
        k = self.manifest["k"] if k is None else k
        vectors = self._query(**{INPUT: tf.constant(users)})[OUTPUT].numpy()
        scores, positions = ann.search(self.index, vectors, k)
        found = positions.ravel() >= 0
        return pd.DataFrame({
            "user_id": np.repeat(users, k)[found],
            "rank": np.tile(np.arange(1, k + 1), len(users))[found],
            "item_id": self.item_ids[positions.ravel()[found]],
            "score": scores.ravel()[found],
        })


def main(argv: Sequence[str] | None = None) -> None:
    """The command line: load an export, answer one request, print one JSON object.

    ``load_seconds`` is :meth:`Retriever.load` (TensorFlow already imported, which
    ``import_seconds`` measures); after one warm-up request, ``batch_seconds`` is one request for
    all users and ``single_ms_p50``/``single_ms_p95`` are over ``requests`` single-user requests
    (each user alone, ``--repeat`` times).  ``recommendations`` come from the batched request.
    """
    parser = argparse.ArgumentParser(
        prog="python -m recutils.serving",
        description="Load a retriever export in this process, answer one request and print one JSON "
                    "object with the timings and the recommendations.")
    parser.add_argument("export_dir", help="folder written by export_retriever")
    parser.add_argument("--users", nargs="+", required=True, help="user ids (as the tower knows them)")
    parser.add_argument("-k", type=int, default=None, help="recommendations per user (default: the export's)")
    parser.add_argument("--repeat", type=int, default=5, help="times each user is asked alone (default 5)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    users = list(dict.fromkeys(args.users))  # a user named twice is answered once
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    start = time.perf_counter()
    import tensorflow  # noqa: F401 (timed on its own: the largest part of a cold start)

    import_seconds = time.perf_counter() - start
    try:
        start = time.perf_counter()
        retriever = Retriever.load(args.export_dir)
        load_seconds = time.perf_counter() - start
        retriever.recommend(users[:1], args.k)  # warm-up
        start = time.perf_counter()
        batch = retriever.recommend(users, args.k)
        batch_seconds = time.perf_counter() - start
        single = []
        for _ in range(args.repeat):
            for user in users:
                start = time.perf_counter()
                retriever.recommend([user], args.k)
                single.append(1e3 * (time.perf_counter() - start))
    except (ExportError, ValueError) as exc:
        sys.exit(f"error: {exc}")
    result = {
        "import_seconds": round(import_seconds, 4), "load_seconds": round(load_seconds, 4),
        "requests": len(single), "batch_seconds": round(batch_seconds, 6),
        "single_ms_p50": round(float(np.percentile(single, 50)), 4),
        "single_ms_p95": round(float(np.percentile(single, 95)), 4),
        "recommendations": {str(u): g.sort_values("rank")["item_id"].tolist()
                            for u, g in batch.groupby("user_id", sort=False)},
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
