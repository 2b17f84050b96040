"""recutils.ann on real MovieLens 100K vectors: a rank-32 truncated SVD of the training
interactions gives every user and item a vector whose inner products rank items as a trained
two-tower model would (popular items first, then each user's taste)."""

import numpy as np
import pytest

from recutils import ann

K = 10


@pytest.fixture(scope="module")
def exact_top(svd_vectors) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force top-K with NumPy: ``(scores, positions)`` per user."""
    users, items = svd_vectors
    scores = users.astype(np.float64) @ items.T.astype(np.float64)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :K]
    return np.take_along_axis(scores, top, axis=1), top


def test_exact_index_equals_numpy_brute_force(svd_vectors, exact_top):
    users, items = svd_vectors
    scores, ids = ann.search(ann.build_index(items, "exact"), users, K)
    np.testing.assert_array_equal(ids, exact_top[1])
    np.testing.assert_allclose(scores, exact_top[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_approximate_indexes_reach_recall_09_at_their_defaults(svd_vectors, exact_top, kind):
    users, items = svd_vectors
    scores, ids = ann.search(ann.build_index(items, kind), users, K)
    assert ann.recall_at_k(ids, exact_top[1]) >= 0.9
    # The scores are the true inner products (IVF's extra coordinate must not leak into them).
    true = np.einsum("ud,ukd->uk", users, items[ids])
    np.testing.assert_allclose(scores, true, rtol=1e-4, atol=1e-5)
    assert (np.diff(scores, axis=1) <= 1e-6).all(), "scores must come best first"


def test_ivf_probing_every_cell_is_exact_and_probing_one_is_not(svd_vectors, exact_top):
    users, items = svd_vectors
    index = ann.build_index(items, "ivf", nlist=16, nprobe=16)
    assert ann.recall_at_k(ann.search(index, users, K)[1], exact_top[1]) == 1.0
    ann.configure(index, {"nprobe": 1})
    assert ann.recall_at_k(ann.search(index, users, K)[1], exact_top[1]) < 0.9


def test_ivf_build_is_reproducible_and_seeded(svd_vectors):
    users, items = svd_vectors
    ids = [ann.search(ann.build_index(items, "ivf", nprobe=2, seed=s), users, K)[1] for s in (0, 0, 1)]
    np.testing.assert_array_equal(ids[0], ids[1])
    assert not np.array_equal(ids[0], ids[2])


def test_default_nlist_follows_sqrt_n_and_faiss_minimum():
    assert ann.default_nlist(1_682) == 32
    assert ann.default_nlist(1_000_000) == 1024
    assert ann.default_nlist(100) == 2  # 100 // 39: k-means needs 39 points per cell
    assert ann.default_nlist(10) == 1


@pytest.mark.parametrize(("approx", "exact", "expected"), [
    ([[1, 2, 3]], [[1, 2, 3]], 1.0),
    ([[3, 1, 2]], [[1, 2, 3]], 1.0),  # order within the top-k does not matter
    ([[4, 5, 6]], [[1, 2, 3]], 0.0),
    ([[1, 2, 9], [3, 4, 5]], [[1, 2, 3], [3, 4, 5]], (2 / 3 + 1) / 2),
    ([[-1, 1]], [[1, -1]], 0.5),  # -1 (nothing found) never counts
])
def test_recall_at_k_on_hand_cases(approx, exact, expected):
    assert ann.recall_at_k(np.array(approx), np.array(exact)) == pytest.approx(expected)


def test_benchmark_reports_every_config_and_shares_builds(svd_vectors):
    users, items = svd_vectors
    configs = {"exact": {"kind": "exact"}, "ivf 1": {"kind": "ivf", "nlist": 16, "nprobe": 1},
               "ivf all": {"kind": "ivf", "nlist": 16, "nprobe": 16}, "hnsw": {"kind": "hnsw", "M": 16}}
    table = ann.benchmark(items, users, K, configs, single_queries=5)
    assert list(table.columns) == ["items", "config", "kind", "params", "build_s", "ms_per_query_batch",
                                   "ms_single_query_p50", f"recall@{K}"]
    assert list(table["config"]) == list(configs)
    assert (table["items"] == len(items)).all()
    recall = table.set_index("config")[f"recall@{K}"]
    assert recall["exact"] == 1.0 and recall["ivf all"] == 1.0 and recall["ivf 1"] < 0.9
    assert table.loc[1, "build_s"] == table.loc[2, "build_s"]  # nprobe is set on one build
    assert table.loc[2, "params"] == "nlist=16, nprobe=16"
    assert (table[["build_s", "ms_per_query_batch", "ms_single_query_p50"]] > 0).all().all()


def test_synthetic_catalogue_shape_seed_and_chunks(svd_vectors):
    _, items = svd_vectors
    a = ann.synthetic_catalogue(items, 5_000, noise=0.5, seed=3)
    assert a.shape == (5_000, items.shape[1]) and a.dtype == np.float32
    np.testing.assert_array_equal(a, ann.synthetic_catalogue(items, 5_000, noise=0.5, seed=3, chunk=999))
    assert not np.array_equal(a, ann.synthetic_catalogue(items, 5_000, noise=0.5, seed=4))
    copies = ann.synthetic_catalogue(items, 300, noise=0.0)  # no noise: copies of real items
    assert (np.abs(copies[:, None, :] - items[None, :, :]).max(axis=2).min(axis=1) == 0).all()


def test_synthetic_noise_is_scaled_to_each_dimensions_spread():
    base = np.array([[0.0, 0.0], [100.0, 1000.0]], dtype=np.float32)  # std per dimension: 50, 500
    grown = ann.synthetic_catalogue(base, 20_000, noise=0.01, seed=0)
    nearest = base[np.argmin(((grown[:, None, :] - base[None]) ** 2).sum(axis=2), axis=1)]
    np.testing.assert_allclose((grown - nearest).std(axis=0), [0.5, 5.0], rtol=0.05)


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: ann.build_index(x[0], "exact"), "non-empty 2-D"),
    (lambda x: ann.build_index(x[:0], "exact"), "non-empty 2-D"),
    (lambda x: ann.build_index(np.where(x == x[0, 0], np.nan, x), "exact"), "NaN"),
    (lambda x: ann.build_index(x, "annoy"), "Unknown index kind 'annoy'"),
    (lambda x: ann.build_index(x, "ivf", ef_search=10), r"Unknown parameter\(s\) \['ef_search'\]"),
    (lambda x: ann.build_index(x, "ivf", nlist=len(x) + 1), "nlist=1683 must be between 1"),
    (lambda x: ann.search(ann.build_index(x, "exact"), x, len(x) + 1), "k=1683 must be between 1"),
    (lambda x: ann.search(ann.build_index(x, "exact"), x[:, :5], 3), "dimension 5"),
    (lambda x: ann.recall_at_k(np.zeros((2, 3)), np.zeros((2, 4))), "same shape"),
    (lambda x: ann.synthetic_catalogue(x, 0), "at least one vector"),
    (lambda x: ann.synthetic_catalogue(x, 10, noise=-1), "noise=-1 must be >= 0"),
    (lambda x: ann.benchmark(x, x[:3], 2, {"no kind": {"nlist": 4}}), "'no kind' has no 'kind'"),
])
def test_bad_inputs_raise_clear_errors(svd_vectors, call, message):
    with pytest.raises(ValueError, match=message):
        call(svd_vectors[1])
