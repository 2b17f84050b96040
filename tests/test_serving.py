"""recutils.serving: export a user tower with an item index, load it in a fresh process, serve.

The towers hold real MovieLens 100K vectors (a rank-32 truncated SVD of the training
interactions): the user tower is a ``StringLookup`` and an ``Embedding`` whose rows are the SVD
user vectors, as in a TFRS id tower, so the right answer is NumPy's brute-force top-k.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ["TF_USE_LEGACY_KERAS"] = "1"
import tensorflow as tf  # noqa: E402

from recutils import ann, serving  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
K = 10


class UserTower(tf.keras.Model):
    """``features["user_id"]`` (string) through ``StringLookup`` and ``Embedding``."""

    def __init__(self, user_ids: np.ndarray, user_vectors: np.ndarray):
        super().__init__()
        self.lookup = tf.keras.layers.StringLookup(vocabulary=user_ids, mask_token=None)
        self.embedding = tf.keras.layers.Embedding(len(user_ids) + 1, user_vectors.shape[1])
        self({"user_id": tf.constant(user_ids[:1])})  # builds the embedding
        self.embedding.set_weights([np.vstack([np.zeros_like(user_vectors[:1]), user_vectors])])

    def call(self, features: dict) -> tf.Tensor:
        return self.embedding(self.lookup(features["user_id"]))


@pytest.fixture(scope="module")
def tower(split, svd_vectors) -> UserTower:
    return UserTower(split.users.ids.astype(str), svd_vectors[0])


def brute_force_top(split, svd_vectors, users: list[str], k: int = K) -> dict[str, list[str]]:
    """NumPy's exact top-k item ids (strings) for each user id."""
    user_vectors, item_vectors = svd_vectors
    rows = split.users.index(np.array(users, dtype=int))
    scores = user_vectors[rows].astype(np.float64) @ item_vectors.T.astype(np.float64)
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return {u: split.items.ids[t].astype(str).tolist() for u, t in zip(users, top, strict=True)}


@pytest.fixture(scope="module")
def exact_export(tmp_path_factory, split, svd_vectors, tower) -> Path:
    path = tmp_path_factory.mktemp("exports") / "exact"
    return serving.export_retriever(path, tower, split.items.ids, svd_vectors[1], split.users.ids,
                                    index_kind="exact", k=K)


def test_cli_in_a_fresh_process_answers_with_the_exact_top_k(exact_export, split, svd_vectors):
    users = ["1", "2", "500", "943"]
    command = [sys.executable, "-m", "recutils.serving", str(exact_export), "--users", *users,
               "--repeat", "2"]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout)  # stdout is one JSON object, nothing else
    assert result["recommendations"] == brute_force_top(split, svd_vectors, users)
    assert result["requests"] == 2 * len(users)
    assert 0 < result["single_ms_p50"] <= result["single_ms_p95"]
    assert result["load_seconds"] > 0 and result["batch_seconds"] > 0


def test_loaded_ivf_export_serves_a_batch_in_one_frame(tmp_path, split, svd_vectors, tower):
    path = serving.export_retriever(tmp_path / "ivf", tower, split.items.ids, svd_vectors[1], split.users.ids)
    manifest = json.loads((path / serving.MANIFEST).read_text())
    assert manifest["index"] == {"kind": "ivf", "params": {"nlist": 32, "nprobe": 16, "seed": 0}}
    assert (manifest["items"], manifest["users"], manifest["dimension"], manifest["k"]) == (1682, 943, 32, 10)
    retriever = serving.Retriever.load(path)
    users = split.users.ids.astype(str).tolist()
    frame = retriever.recommend(users)
    assert list(frame.columns) == ["user_id", "rank", "item_id", "score"]
    assert len(frame) == K * len(users)
    assert frame["user_id"].tolist() == np.repeat(users, K).tolist()
    assert frame["rank"].tolist() == list(range(1, K + 1)) * len(users)
    approx = frame["item_id"].to_numpy().reshape(len(users), K)
    exact = np.array(list(brute_force_top(split, svd_vectors, users).values()))
    assert ann.recall_at_k(approx, exact) >= 0.9
    user_vectors, item_vectors = svd_vectors
    true = (user_vectors[split.users.index(frame["user_id"].astype(int))]
            * item_vectors[split.items.index(frame["item_id"].astype(int))]).sum(axis=1)
    np.testing.assert_allclose(frame["score"], true, rtol=1e-4, atol=1e-5)
    mixed = retriever.recommend([1, "2"], k=3)  # ints and strings name the same users
    assert mixed.equals(retriever.recommend(["1", "2"], k=3)) and len(mixed) == 6


def test_unknown_users_and_empty_requests_are_refused(exact_export):
    retriever = serving.Retriever.load(exact_export)
    with pytest.raises(ValueError, match=r"Unknown user id\(s\) \['0', 'x'\].*knows 943 users"):
        retriever.recommend(["1", "x", 0])
    with pytest.raises(ValueError, match="No user ids given"):
        retriever.recommend([])
    with pytest.raises(ValueError, match="k=1683 must be between 1"):
        retriever.recommend(["1"], k=1683)


def test_cli_reports_errors_on_stderr(exact_export, capsys):
    with pytest.raises(SystemExit, match=r"error: Unknown user id\(s\) \['99999'\]"):
        serving.main([str(exact_export), "--users", "1", "99999"])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("damaged", [serving.INDEX, serving.USER_IDS,
                                     "query_model/variables/variables.data-00000-of-00001"])
def test_a_corrupt_file_is_detected_before_loading(tmp_path, exact_export, damaged):
    copy = Path(shutil.copytree(exact_export, tmp_path / "copy"))
    data = bytearray((copy / damaged).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / damaged).write_bytes(bytes(data))
    with pytest.raises(serving.ExportError, match=rf"\['{damaged}'\] do not match their SHA-256.*re-export"):
        serving.Retriever.load(copy)


def test_missing_export_manifest_or_file_is_reported(tmp_path, exact_export):
    with pytest.raises(serving.ExportError, match="No retriever export at"):
        serving.Retriever.load(tmp_path / "nowhere")
    copy = Path(shutil.copytree(exact_export, tmp_path / "copy"))
    (copy / serving.ITEM_IDS).unlink()
    with pytest.raises(serving.ExportError, match=r"incomplete: \['item_ids.npy'\] missing; re-export"):
        serving.Retriever.load(copy)
    (copy / serving.MANIFEST).unlink()
    with pytest.raises(serving.ExportError, match="not a complete export.*re-export"):
        serving.Retriever.load(copy)


def test_export_replaces_an_old_export_only_when_complete(tmp_path, split, svd_vectors, tower, monkeypatch):
    path = tmp_path / "retriever"
    args = (tower, split.items.ids, svd_vectors[1], split.users.ids)
    serving.export_retriever(path, *args, index_kind="exact", k=5)
    serving.export_retriever(path, *args, index_kind="exact", k=7)
    assert json.loads((path / serving.MANIFEST).read_text())["k"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retriever"]  # no temporary folder left

    def broken_write(*_):
        raise OSError("disk full")

    monkeypatch.setattr(serving.faiss, "write_index", broken_write)
    with pytest.raises(OSError, match="disk full"):
        serving.export_retriever(path, *args, index_kind="exact", k=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["retriever"]
    assert len(serving.Retriever.load(path).recommend(["1"])) == 7  # the old export, intact


def test_export_refuses_bad_inputs(tmp_path, split, svd_vectors, tower):
    items, users = split.items.ids, split.users.ids
    with pytest.raises(ValueError, match="the item vectors are 16-d"):
        serving.export_retriever(tmp_path / "a", tower, items, svd_vectors[1][:, :16], users)
    with pytest.raises(ValueError, match="one row per item id"):
        serving.export_retriever(tmp_path / "a", tower, items[:-1], svd_vectors[1], users)
    with pytest.raises(ValueError, match=r"item_ids repeats ids \['1'\]"):
        serving.export_retriever(tmp_path / "a", tower, np.r_[items[:1], items[:-1]], svd_vectors[1], users)
    with pytest.raises(ValueError, match="Unknown index kind"):
        serving.export_retriever(tmp_path / "a", tower, items, svd_vectors[1], users, index_kind="scann")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(ValueError, match="is not a retriever export"):
        serving.export_retriever(tmp_path / "notes", tower, items, svd_vectors[1], users)
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]
