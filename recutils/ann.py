r"""Approximate nearest-neighbour (ANN) retrieval by inner product, with faiss.

A two-tower model scores user ``u`` and item ``i`` by the inner product ``q(u) . c(i)``, so
serving its top-k is a maximum-inner-product search (MIPS) over the item vectors.  Three faiss
indexes, all returning the true inner products as scores and row positions of the item matrix:

* ``"exact"``: ``IndexFlatIP``, brute force.  The reference every other index is scored against.
* ``"ivf"``: ``IndexIVFFlat``.  k-means splits the catalogue into ``nlist`` cells; a query scans
  only the ``nprobe`` cells whose centroids score highest.  Item vectors of different lengths
  make plain inner-product cells poor (recall@10 0.84 at ``nprobe=32`` on a million items), so
  the index uses the reduction of MIPS to nearest-neighbour search (Bachrach et al., 2014): an
  extra coordinate :math:`\sqrt{\max_j \lVert c_j \rVert^2 - \lVert c_i \rVert^2}` puts every item
  on one sphere, where inner-product order is distance order and k-means cells fit well.  Queries
  get 0 in that coordinate, which leaves their inner products unchanged; the index adds it itself
  (an ``IndexPreTransform``), so it is searched with ordinary query vectors.
* ``"hnsw"``: ``IndexHNSWFlat`` with the inner product: a navigable small-world graph with ``M``
  links per item, searched greedily with ``ef_search`` candidates.  Accurate on small catalogues;
  on large ones it needs a large ``ef_search`` for MIPS and its build is slow.

(ScaNN, the ANN layer of TensorFlow Recommenders, cannot be used: its TensorFlow ops are built
for another TensorFlow version than the course's.)

:func:`benchmark` measures build time, latency and recall@k against the exact index, and
:func:`synthetic_catalogue` grows a real catalogue to a million vectors to show how they scale::

    index = build_index(item_vectors, "ivf")  # nlist ~ sqrt(n_items), nprobe=16
    scores, positions = search(index, user_vectors, k=10)  # positions: rows of item_vectors
"""

from __future__ import annotations

import time
from collections.abc import Mapping

import faiss
import numpy as np
import pandas as pd

KINDS = ("exact", "ivf", "hnsw")
"""The index kinds :func:`build_index` knows."""

DEFAULT_PARAMS: dict[str, dict] = {
    "exact": {},
    "ivf": {"nlist": None, "nprobe": 16, "seed": 0},
    "hnsw": {"M": 32, "ef_search": 64, "ef_construction": 64},
}
"""Each kind's parameters and their defaults (``nlist=None``: :func:`default_nlist`)."""

_SEARCH_PARAMS = ("nprobe", "ef_search")  # query-time: configurations may share one build
_TRAIN_POINTS_PER_CELL = 64


def default_nlist(n_items: int) -> int:
    """IVF cells for ``n_items`` vectors: the power of two nearest ``sqrt(n_items)`` (1,024 for a
    million), at most ``n_items / 39`` so that k-means has faiss's minimum of 39 points per cell."""
    target = 2 ** int(round(np.log2(max(np.sqrt(n_items), 1))))
    return int(max(1, min(target, n_items // 39)))


def resolve_params(kind: str, params: Mapping, n_items: int) -> dict:
    """``params`` completed with the kind's defaults for ``n_items`` vectors (``nlist=None``
    becomes :func:`default_nlist`).

    Raises:
        ValueError: unknown kind or parameter name, or ``nlist`` outside ``1..n_items``.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown index kind {kind!r}: choose one of {KINDS}.")
    unknown = sorted(set(params) - set(DEFAULT_PARAMS[kind]))
    if unknown:
        allowed = ", ".join(DEFAULT_PARAMS[kind]) or "none"
        raise ValueError(f"Unknown parameter(s) {unknown} for a {kind!r} index; it takes: {allowed}.")
    resolved = {**DEFAULT_PARAMS[kind], **params}
    if kind == "ivf":
        nlist = default_nlist(n_items) if resolved["nlist"] is None else int(resolved["nlist"])
        if not 1 <= nlist <= n_items:
            raise ValueError(f"nlist={nlist} must be between 1 and the number of vectors ({n_items:,}); "
                             f"nlist=None picks {default_nlist(n_items)}.")
        resolved["nlist"] = nlist
    return resolved


def build_index(vectors: np.ndarray, kind: str = "ivf", **params) -> faiss.Index:
    """An inner-product index over ``vectors``; searching it returns row positions of ``vectors``.

    Args:
        vectors: ``(n_items, dim)`` item vectors (converted to contiguous float32).
        kind: ``"exact"``, ``"ivf"`` or ``"hnsw"`` (see the module docstring).
        **params: the kind's parameters, defaults in :data:`DEFAULT_PARAMS`.  ``"ivf"``:
            ``nlist`` (cells), ``nprobe`` (cells scanned per query), ``seed`` (of the k-means
            training sample, at most 64 vectors per cell).  ``"hnsw"``: ``M`` (links per item),
            ``ef_search`` and ``ef_construction`` (candidates kept when searching and building).

    Raises:
        ValueError: unknown kind or parameter, or ``vectors`` not a finite, non-empty 2-D array.
    """
    x = _as_matrix(vectors, "vectors")
    n, dim = x.shape
    p = resolve_params(kind, params, n)
    if kind == "exact":
        index = faiss.IndexFlatIP(dim)
        index.add(x)
    elif kind == "ivf":
        index = _ivf_on_sphere(x, p["nlist"], p["seed"])
    else:
        index = faiss.IndexHNSWFlat(dim, int(p["M"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(p["ef_construction"])
        index.add(x)
    configure(index, p)
    return index


def _ivf_on_sphere(x: np.ndarray, nlist: int, seed: int) -> faiss.Index:
    """IVF over the items lifted onto a sphere by one extra coordinate (module docstring)."""
    n, dim = x.shape
    norms = np.einsum("ij,ij->i", x, x)
    lifted = np.empty((n, dim + 1), dtype=np.float32)
    lifted[:, :dim] = x
    lifted[:, dim] = np.sqrt(norms.max() - norms)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim + 1), dim + 1, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.seed = seed
    sample = _TRAIN_POINTS_PER_CELL * nlist
    rng = np.random.default_rng(seed)
    ivf.train(lifted if n <= sample else lifted[np.sort(rng.choice(n, size=sample, replace=False))])
    ivf.add(lifted)
    return faiss.IndexPreTransform(faiss.RemapDimensionsTransform(dim, dim + 1, False), ivf)


def configure(index: faiss.Index, params: Mapping) -> None:
    """Set the query-time parameters found in ``params`` (``nprobe``, ``ef_search``) on ``index``."""
    if "nprobe" in params:
        faiss.extract_index_ivf(index).nprobe = int(params["nprobe"])
    if "ef_search" in params:
        index.hnsw.efSearch = int(params["ef_search"])


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` highest inner products per query: ``(scores, positions)``, both ``(n_queries, k)``,
    best first.  A position is ``-1`` where an approximate index found fewer than ``k`` items.

    Raises:
        ValueError: ``k`` outside ``1..index.ntotal``, or queries not a finite 2-D array of the
            index's dimension.
    """
    q = _as_matrix(queries, "queries")
    if q.shape[1] != index.d:
        raise ValueError(f"The queries have dimension {q.shape[1]} but the index holds {index.d}-d vectors.")
    if not 1 <= k <= index.ntotal:
        raise ValueError(f"k={k} must be between 1 and the number of indexed items ({index.ntotal:,}).")
    return index.search(q, k)


def recall_at_k(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean over queries (rows) of ``|approx top-k ∩ exact top-k| / k``.  Any ids (positions,
    strings); an integer ``-1`` (nothing found) never counts."""
    approx, exact = np.asarray(approx_ids), np.asarray(exact_ids)
    if approx.ndim != 2 or approx.shape != exact.shape or approx.size == 0:
        raise ValueError(f"Expected two non-empty (n_queries, k) arrays of the same shape, got "
                         f"{approx.shape} and {exact.shape}.")
    found = (approx[:, :, None] == exact[:, None, :]).any(axis=2)
    if np.issubdtype(approx.dtype, np.integer):
        found &= approx >= 0
    return float(found.mean())


def benchmark(item_vectors: np.ndarray, queries: np.ndarray, k: int, configs: Mapping[str, dict],
              single_queries: int = 200) -> pd.DataFrame:
    """Build time, latency and recall@k of each index configuration on one catalogue.

    Args:
        item_vectors: ``(n_items, dim)`` catalogue.
        queries: ``(n_queries, dim)`` query vectors.
        k: the cut-off.
        configs: ``{name: {"kind": ..., **params}}``.  Configurations that differ only in a
            query-time parameter (``nprobe``, ``ef_search``) share one build (and its time).
        single_queries: single-query searches (cycling through ``queries``) whose median time
            is the single-query latency.

    Returns:
        One row per configuration: ``items``, ``config``, ``kind``, ``params``, ``build_s``,
        ``ms_per_query_batch`` (all queries in one call, divided by their number),
        ``ms_single_query_p50`` and ``recall@k`` against the exact top-k.
    """
    x, q = _as_matrix(item_vectors, "item_vectors"), _as_matrix(queries, "queries")
    if single_queries < 1:
        raise ValueError(f"single_queries={single_queries}: time at least one single query.")
    exact, exact_build_s = _timed(build_index, x, "exact")
    (_, truth), exact_batch_s = _timed(search, exact, q, k)
    built = {("exact",): (exact, exact_build_s)}
    rows = []
    for name, config in configs.items():
        if "kind" not in config:
            raise ValueError(f"Configuration {name!r} has no 'kind': give one of {KINDS}.")
        kind = config["kind"]
        params = resolve_params(kind, {p: v for p, v in config.items() if p != "kind"}, len(x))
        key = (kind, *((p, v) for p, v in sorted(params.items()) if p not in _SEARCH_PARAMS))
        if key not in built:
            built[key] = _timed(build_index, x, kind, **params)
        index, build_s = built[key]
        configure(index, params)
        if kind == "exact":  # the reference search above, not run twice
            ids, batch_s = truth, exact_batch_s
        else:
            (_, ids), batch_s = _timed(search, index, q, k)
        single = [_timed(index.search, q[i % len(q)][None, :], k)[1] for i in range(single_queries)]
        rows.append({
            "items": len(x), "config": name, "kind": kind,
            "params": ", ".join(f"{p}={v}" for p, v in params.items() if p != "seed") or "-",
            "build_s": build_s, "ms_per_query_batch": 1e3 * batch_s / len(q),
            "ms_single_query_p50": 1e3 * float(np.median(single)), f"recall@{k}": recall_at_k(ids, truth),
        })
    return pd.DataFrame(rows)


def _timed(fn, *args, **kwargs):
    """``(fn(*args, **kwargs), seconds it took)``."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def synthetic_catalogue(item_vectors: np.ndarray, size: int, noise: float = 0.5, seed: int = 0,
                        chunk: int = 65_536) -> np.ndarray:
    """A **synthetic** catalogue of ``size`` vectors grown from a real one, to try indexes at scale.

    Each synthetic vector is a randomly chosen real vector plus Gaussian noise whose standard
    deviation is ``noise`` times the real vectors' standard deviation in that dimension, so the
    catalogue keeps the clustered shape of real embeddings; none of its vectors is a real item.
    The noise is drawn ``chunk`` rows at a time (the result does not depend on ``chunk``): beside
    the float32 result, memory holds one int32 per row for the chosen real vectors.

    Raises:
        ValueError: ``item_vectors`` not a finite, non-empty 2-D array, ``size < 1`` or ``noise < 0``.
    """
    base = _as_matrix(item_vectors, "item_vectors")
    if size < 1:
        raise ValueError(f"size={size}: the synthetic catalogue needs at least one vector.")
    if noise < 0:
        raise ValueError(f"noise={noise} must be >= 0 (it scales a standard deviation).")
    scale = noise * base.std(axis=0)
    rng = np.random.default_rng(seed)
    chosen = rng.integers(0, len(base), size, dtype=np.int32)
    out = np.empty((size, base.shape[1]), dtype=np.float32)
    for start in range(0, size, chunk):
        stop = min(start + chunk, size)
        noise_block = rng.standard_normal((stop - start, base.shape[1]), dtype=np.float32) * scale
        out[start:stop] = base[chosen[start:stop]] + noise_block
    return out


def _as_matrix(values: np.ndarray, name: str) -> np.ndarray:
    """``values`` as a C-contiguous float32 matrix; a clear error unless it is finite, non-empty 2-D."""
    x = np.ascontiguousarray(values, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (rows x dimensions), got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or infinite values: check the model that produced them.")
    return x
