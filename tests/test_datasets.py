"""The MovieLens loader: real counts, verified downloads, safe archives, the offline copy.

The GroupLens path is exercised against a local HTTP server on 127.0.0.1 that serves zips
built from the real MovieLens 100K files (GroupLens itself is not reachable from CI).
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recutils import datasets
from recutils.datasets import (
    GENRES,
    ChecksumError,
    DatasetError,
    DownloadError,
    UnsafeArchiveError,
    download,
    extract_members,
    load_movielens,
)


@pytest.fixture(scope="module")
def ml100k() -> datasets.MovieLens:
    """The real MovieLens 100K, from the course's cache (fetched offline from PyPI if absent)."""
    return load_movielens("100k", verbose=False)


@pytest.fixture(scope="module")
def real_files(ml100k) -> dict[str, bytes]:
    """The cached GroupLens-format files of the real MovieLens 100K."""
    cache = datasets.default_data_dir() / "ml-100k"
    return {name: (cache / name).read_bytes() for name in ("u.data", "u.item", "u.user")}


def make_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return buffer.getvalue()


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class Server:
    """A local HTTP server: ``serve(path, body)`` publishes a body, ``truncate`` cuts it short."""

    def __init__(self):
        self.bodies: dict[str, tuple[bytes, bool]] = {}
        self.requests: list[str] = []
        bodies, requests = self.bodies, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (the name http.server calls)
                requests.append(self.path)
                if self.path not in bodies:
                    self.send_error(404)
                    return
                body, truncated = bodies[self.path]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if truncated else body)
                if truncated:
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def serve(self, path: str, body: bytes, truncated: bool = False) -> str:
        self.bodies[path] = (body, truncated)
        return self.url(path)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def pin(monkeypatch, size: str, url: str, body: bytes) -> None:
    """Point the loader's GroupLens archive for ``size`` at ``url`` with ``body``'s checksum."""
    archive = dataclasses.replace(datasets.ARCHIVES[size], url=url, sha256=sha256(body), size=len(body))
    monkeypatch.setitem(datasets.ARCHIVES, size, archive)


def no_pypi(monkeypatch):
    def refuse(copy):
        raise AssertionError("the PyPI fallback must not be used here")

    monkeypatch.setattr(datasets, "_fetch_pypi_copy", refuse)


# -- the real data -------------------------------------------------------------------------


def test_real_100k_counts(ml100k):
    r = ml100k.ratings
    assert len(r) == 100_000
    assert r["user_id"].nunique() == 943 and len(ml100k.users) == 943
    assert r["item_id"].nunique() == 1_682 and len(ml100k.movies) == 1_682
    assert r.groupby("user_id").size().min() == 20
    assert set(r["rating"].unique()) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert not r.duplicated(["user_id", "item_id"]).any()


def test_real_100k_schema(ml100k):
    r, m, u = ml100k.ratings, ml100k.movies, ml100k.users
    assert dict(r.dtypes.astype(str)) == {"user_id": "int32", "item_id": "int32",
                                          "rating": "float32", "timestamp": "int64"}
    assert r.attrs["dataset"] == "ml-100k"
    assert list(m.columns) == ["item_id", "title", "release_year", "genres"]
    toy = m.set_index("item_id").loc[1]
    assert toy["title"] == "Toy Story (1995)" and toy["release_year"] == 1995
    assert toy["genres"] == ("Animation", "Children's", "Comedy")
    assert list(u.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert u.set_index("user_id").loc[1].to_dict() == {
        "age": 24, "gender": "M", "occupation": "technician", "zip_code": "85711"}
    assert set(u["gender"]) == {"M", "F"}
    genres = ml100k.genre_matrix()
    assert genres.shape == (1_682, len(GENRES)) and genres.sum(axis=1).min() >= 1
    assert "source" in repr(ml100k) and "100,000 ratings" in repr(ml100k)


def test_unknown_size_is_refused(tmp_path):
    with pytest.raises(DatasetError, match="Unknown MovieLens size '10m'"):
        load_movielens("10m", data_dir=tmp_path)


# -- downloads -----------------------------------------------------------------------------


def test_download_good_file(server, tmp_path):
    body = b"x" * 3_000_000
    dest = download(server.serve("/f.zip", body), tmp_path / "f.zip", sha256(body))
    assert dest.read_bytes() == body
    assert [p.name for p in tmp_path.iterdir()] == ["f.zip"]  # no temporary file left


def test_download_truncated_keeps_nothing(server, tmp_path):
    body = b"y" * 1_000_000
    with pytest.raises(DownloadError, match="broke off after 500,000 of 1,000,000 bytes"):
        download(server.serve("/t.zip", body, truncated=True), tmp_path / "t.zip", sha256(body))
    assert list(tmp_path.iterdir()) == []


def test_download_wrong_checksum_keeps_nothing(server, tmp_path):
    with pytest.raises(ChecksumError, match="expected 0000"):
        download(server.serve("/w.zip", b"not the archive"), tmp_path / "w.zip", "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_download_404_is_a_download_error(server, tmp_path):
    with pytest.raises(DownloadError, match="404"):
        download(server.url("/missing.zip"), tmp_path / "m.zip", "0" * 64)
    assert list(tmp_path.iterdir()) == []


# -- the GroupLens path, end to end --------------------------------------------------------


def test_grouplens_zip_is_verified_and_cached(server, tmp_path, monkeypatch, real_files, ml100k, capsys):
    body = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()} | {"ml-100k/README": b"readme"})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", body), body)
    no_pypi(monkeypatch)
    data = load_movielens("100k", data_dir=tmp_path)
    assert "loaded from GroupLens" in capsys.readouterr().out
    assert data.source.startswith("GroupLens (http://127.0.0.1")
    pd.testing.assert_frame_equal(data.ratings, ml100k.ratings)
    manifest = json.loads((tmp_path / "ml-100k" / "MANIFEST.json").read_text())
    assert manifest["files"]["u.data"] == sha256(real_files["u.data"])
    # The second load reads the cache: no new request.
    load_movielens("100k", data_dir=tmp_path, verbose=False)
    assert server.requests == ["/ml-100k.zip"]


def test_grouplens_wrong_checksum_fails_clearly_without_fallback(server, tmp_path, monkeypatch, real_files):
    good = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", good[:-10] + b"0123456789"), good)
    with pytest.raises(ChecksumError, match="nothing was kept"):
        load_movielens("100k", data_dir=tmp_path, offline_fallback=False, verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_grouplens_truncated_download_fails_clearly(server, tmp_path, monkeypatch, real_files):
    body = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", body, truncated=True), body)
    with pytest.raises(DatasetError, match="(?s)Could not download MovieLens 100k.*broke off.*Fix:"):
        load_movielens("100k", data_dir=tmp_path, offline_fallback=False, verbose=False)
    assert list(tmp_path.iterdir()) == []


def test_path_traversal_member_is_refused(server, tmp_path, monkeypatch, real_files):
    body = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()} | {"ml-100k/../../evil.txt": b"x"})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", body), body)
    data_dir = tmp_path / "data"
    with pytest.raises(UnsafeArchiveError, match="evil.txt"):
        load_movielens("100k", data_dir=data_dir, verbose=False)
    assert not any(p.name == "evil.txt" for p in tmp_path.rglob("*"))
    assert not (data_dir / "ml-100k").exists()


@pytest.mark.parametrize("member", ["/etc/passwd", "C:/evil.txt", "..\\evil.txt"])
def test_absolute_and_windows_members_are_refused(tmp_path, member):
    path = tmp_path / "a.zip"
    path.write_bytes(make_zip({"ml-100k/u.data": b"1\t1\t5\t0\n", member: b"x"}))
    with pytest.raises(UnsafeArchiveError):
        extract_members(path, "ml-100k", ["u.data"])


def test_archive_missing_a_member_says_so(tmp_path):
    path = tmp_path / "a.zip"
    path.write_bytes(make_zip({"ml-100k/u.data": b"1\t1\t5\t0\n"}))
    with pytest.raises(DatasetError, match="not a complete MovieLens archive"):
        extract_members(path, "ml-100k", ["u.data", "u.item"])


def test_corrupt_cache_is_detected_and_refetched(server, tmp_path, monkeypatch, real_files, ml100k, capsys):
    body = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", body), body)
    no_pypi(monkeypatch)
    load_movielens("100k", data_dir=tmp_path, verbose=False)
    (tmp_path / "ml-100k.zip").unlink()  # force a second download
    u_data = tmp_path / "ml-100k" / "u.data"
    u_data.write_bytes(u_data.read_bytes()[:1000])  # a partial file
    data = load_movielens("100k", data_dir=tmp_path)
    assert "u.data does not match its checksum: fetching the data again" in capsys.readouterr().out
    assert len(data.ratings) == 100_000 and server.requests == ["/ml-100k.zip"] * 2


def test_cache_without_manifest_is_refetched(server, tmp_path, monkeypatch, real_files, capsys):
    body = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", body), body)
    (tmp_path / "ml-100k").mkdir()
    (tmp_path / "ml-100k" / "u.data").write_bytes(real_files["u.data"])
    data = load_movielens("100k", data_dir=tmp_path)
    assert "is incomplete" in capsys.readouterr().out and len(data.ratings) == 100_000


def test_corrupt_zip_in_the_data_folder_is_downloaded_again(server, tmp_path, monkeypatch, real_files):
    body = make_zip({f"ml-100k/{n}": c for n, c in real_files.items()})
    pin(monkeypatch, "100k", server.serve("/ml-100k.zip", body), body)
    (tmp_path / "ml-100k.zip").write_bytes(body[:5000])
    assert len(load_movielens("100k", data_dir=tmp_path, verbose=False).ratings) == 100_000
    assert (tmp_path / "ml-100k.zip").read_bytes() == body


# -- the offline copy on PyPI ---------------------------------------------------------------


def test_pypi_fallback_when_grouplens_is_unreachable(server, tmp_path, monkeypatch, ml100k, capsys):
    monkeypatch.setitem(datasets.ARCHIVES, "100k",
                        dataclasses.replace(datasets.ARCHIVES["100k"], url=server.url("/gone.zip")))
    data = load_movielens("100k", data_dir=tmp_path)
    out = capsys.readouterr().out
    assert "GroupLens is unreachable" in out and "loaded from PyPI (recbole-1.2.1" in out
    assert data.source.startswith("PyPI (recbole-1.2.1-py3-none-any.whl")
    pd.testing.assert_frame_equal(data.ratings, ml100k.ratings)
    pd.testing.assert_frame_equal(data.users, ml100k.users)


def test_pypi_conversion_restores_grouplens_titles():
    files = datasets.convert_recbole_100k(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n196\t242\t3\t881250949\n",
        "item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n"
        "1\tToy Story\t1995\tAnimation Children's Comedy\n267\tunkonwn\t\tunknown\n",
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        "1\t24\tM\ttechnician\t85711\n",
    )
    assert files["u.data"] == b"196\t242\t3\t881250949\n"
    assert files["u.item"] == (b"1|Toy Story (1995)||||0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
                               b"267|unknown||||1|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0|0\n")
    assert files["u.user"] == b"1|24|M|technician|85711\n"


# -- ML-1M ---------------------------------------------------------------------------------


def _ml1m_from_100k_slice(server, tmp_path, monkeypatch, ml100k) -> tuple[datasets.MovieLens, pd.DataFrame]:
    """ML-1M's '::' files written from a slice of the real 100K data, served and loaded as 1M;
    returns the loaded data and the slice's ratings, movies and users."""
    ratings = ml100k.ratings.head(500)
    movies = ml100k.movies[ml100k.movies["item_id"].isin(ratings["item_id"])
                           & (ml100k.movies["genres"].map(lambda g: "unknown" not in g))]
    ratings = ratings[ratings["item_id"].isin(movies["item_id"])]
    users = ml100k.users[ml100k.users["user_id"].isin(ratings["user_id"])]
    occupations = list(datasets.OCCUPATIONS_1M)
    groups = np.asarray(datasets.AGE_BUCKETS)  # 1M records age groups, by their lower bound
    users = users.assign(age=groups[np.searchsorted(groups, users["age"], side="right") - 1])
    files = {
        "ratings.dat": "".join(f"{u}::{i}::{int(r)}::{t}\n"
                               for u, i, r, t in ratings.itertuples(index=False)),
        "movies.dat": "".join(f"{i}::{t}::{'|'.join(g)}\n" for i, t, g in
                              movies[["item_id", "title", "genres"]].itertuples(index=False)),
        "users.dat": "".join(f"{u}::{g}::{a}::{j % len(occupations)}::{z}\n" for j, (u, a, g, _, z)
                             in enumerate(users.itertuples(index=False))),
    }
    body = make_zip({f"ml-1m/{n}": c.encode("latin-1") for n, c in files.items()})
    pin(monkeypatch, "1m", server.serve("/ml-1m.zip", body), body)
    return load_movielens("1m", data_dir=tmp_path, verbose=False), (ratings, movies, users)


def test_1m_format_is_parsed(server, tmp_path, monkeypatch, ml100k):
    """ML-1M's '::' files, written from a slice of the real 100K data, parse back to it."""
    data, (ratings, movies, users) = _ml1m_from_100k_slice(server, tmp_path, monkeypatch, ml100k)
    occupations = list(datasets.OCCUPATIONS_1M)
    assert data.ratings.attrs["dataset"] == "ml-1m"
    pd.testing.assert_frame_equal(data.ratings, ratings.reset_index(drop=True), check_like=False,
                                  check_index_type=False)
    assert data.movies["genres"].tolist() == movies["genres"].tolist()
    assert data.movies["title"].tolist() == movies["title"].tolist()
    assert data.users["occupation"].tolist() == [occupations[j % 21] for j in range(len(users))]
    assert data.users["age"].dtype == np.int16


def test_1m_unreachable_has_no_offline_fallback(server, tmp_path, monkeypatch):
    monkeypatch.setitem(datasets.ARCHIVES, "1m",
                        dataclasses.replace(datasets.ARCHIVES["1m"], url=server.url("/gone.zip")))
    with pytest.raises(DatasetError, match=r"(?s)Could not download MovieLens 1m.*save it as .*ml-1m.zip"):
        load_movielens("1m", data_dir=tmp_path, verbose=False)


# -- the TensorFlow view -------------------------------------------------------------------


def test_tf_dataset_has_tfds_feature_names_and_values(ml100k):
    from recutils.datasets import TFDS_GENRES, to_tf_dataset, to_tf_movies

    first = ml100k.ratings.iloc[:3]
    batch = next(iter(to_tf_dataset(first, ml100k).batch(3)))
    assert {"user_id", "movie_id", "movie_title", "user_rating", "timestamp", "movie_genres",
            "user_gender", "bucketized_user_age", "user_occupation_text", "user_zip_code",
            "raw_user_age", "user_occupation_label"} == set(batch)
    row = first.iloc[0].to_dict()
    row["user_id"], row["item_id"] = int(first["user_id"].iloc[0]), int(first["item_id"].iloc[0])
    user = ml100k.users.set_index("user_id").loc[row["user_id"]]
    movie = ml100k.movies.set_index("item_id").loc[row["item_id"]]
    assert batch["user_id"][0].numpy() == str(row["user_id"]).encode()
    assert batch["movie_id"][0].numpy() == str(row["item_id"]).encode()
    assert batch["movie_title"][0].numpy().decode() == movie["title"]
    assert batch["user_rating"][0].numpy() == row["rating"]
    assert batch["timestamp"][0].numpy() == row["timestamp"]
    assert bool(batch["user_gender"][0].numpy()) == (user["gender"] == "M")
    assert batch["user_zip_code"][0].numpy().decode() == user["zip_code"]
    tfds_names = [g.replace("Children's", "Children").replace("unknown", "Unknown") for g in movie["genres"]]
    assert [TFDS_GENRES[g] for g in batch["movie_genres"][0].numpy()] == tfds_names
    age = batch["bucketized_user_age"][0].numpy()
    assert age in datasets.AGE_BUCKETS and age <= user["age"]
    movies = next(iter(to_tf_movies(ml100k).batch(2000)))
    assert movies["movie_title"].shape[0] == 1_682


# -- against tensorflow_datasets' own builder (read without downloading anything) ------------


def _spec_differences(ours, builder_name: str) -> list[str]:
    """Where our element_spec and the TFDS builder's features differ: names, dtypes, shapes;
    plus the one documented difference (movie_genres is ragged), checked to be only that."""
    import tensorflow as tf
    import tensorflow_datasets as tfds

    theirs = tfds.builder(builder_name).info.features.get_tensor_spec()
    problems = [f"{name}: only in TFDS" for name in set(theirs) - set(ours)]
    problems += [f"{name}: only ours" for name in set(ours) - set(theirs)]
    for name in set(ours) & set(theirs):
        mine, spec = ours[name], theirs[name]
        if (mine.dtype, mine.shape) != (spec.dtype, spec.shape):
            problems.append(f"{name}: ours {mine.dtype} {mine.shape}, TFDS {spec.dtype} {spec.shape}")
        elif type(mine) is not type(spec) and not (
                name == "movie_genres" and isinstance(mine, tf.RaggedTensorSpec) and mine.ragged_rank == 0):
            problems.append(f"{name}: ours {type(mine).__name__}, TFDS {type(spec).__name__}")
    return problems


def test_element_spec_matches_tfds_100k_ratings_and_movies(ml100k):
    from recutils.datasets import to_tf_dataset, to_tf_movies

    assert _spec_differences(to_tf_dataset(ml100k.ratings.head(10), ml100k).element_spec,
                             "movielens/100k-ratings") == []
    assert _spec_differences(to_tf_movies(ml100k).element_spec, "movielens/100k-movies") == []


def test_element_spec_matches_tfds_1m_ratings(server, tmp_path, monkeypatch, ml100k):
    from recutils.datasets import to_tf_dataset, to_tf_movies

    data, _ = _ml1m_from_100k_slice(server, tmp_path, monkeypatch, ml100k)
    assert _spec_differences(to_tf_dataset(data.ratings, data).element_spec, "movielens/1m-ratings") == []
    assert _spec_differences(to_tf_movies(data).element_spec, "movielens/1m-movies") == []


def test_a_changed_feature_is_caught(ml100k):
    """The spec comparison can fail: a dataset with a feature cast to another type is reported."""
    from recutils.datasets import to_tf_dataset

    ds = to_tf_dataset(ml100k.ratings.head(10), ml100k).map(
        lambda x: {**x, "user_rating": x["user_rating"] * 1.0 + 0.0, "timestamp": x["timestamp"] // 1,
                   "user_gender": x["user_gender"], "movie_id": x["movie_id"],
                   "bucketized_user_age": x["bucketized_user_age"] > 30})
    assert _spec_differences(ds.element_spec, "movielens/100k-ratings") == [
        "bucketized_user_age: ours <dtype: 'bool'> (), TFDS <dtype: 'float32'> ()"]


def _tfds_rows(parse, folder: Path, builder_name: str, every: int) -> tuple[list[int], list[dict]]:
    """Every ``every``-th example that TFDS's own parser makes of GroupLens files, encoded by the
    builder's features as ``tfds.load`` would store them."""
    import tensorflow_datasets as tfds

    features = tfds.builder(builder_name).info.features
    rows, examples = [], []
    for row, example in parse(str(folder)):
        if row % every == 0:
            rows.append(row)
            examples.append(features.encode_example(example))
    return rows, examples


def _plain(value) -> np.ndarray:
    """A feature value as NumPy, text as UTF-8 bytes (TFDS encodes strings when it stores them)."""
    value = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
    if value.dtype.kind in "OU":
        return np.asarray(value.item().encode("utf-8") if isinstance(value.item(), str) else value.item())
    return value


def _assert_same_values(ours: dict, theirs: list[dict]) -> None:
    assert set(ours) == set(theirs[0])
    for name in theirs[0]:
        for i, example in enumerate(theirs):
            mine, expected = _plain(ours[name][i]), _plain(example[name])
            assert mine.dtype == expected.dtype and np.array_equal(mine, expected), (name, i, mine, expected)


def test_values_match_tfds_own_parser_on_the_real_100k_files(ml100k):
    """TFDS's parser run on the course's (checksum-verified) GroupLens files gives the values
    that to_tf_dataset gives, feature by feature, on every 25th of the 100,000 ratings."""
    from tensorflow_datasets.structured import movielens_parsing

    from recutils.datasets import to_tf_dataset
    from recutils.paths import data_dir

    rows, theirs = _tfds_rows(movielens_parsing.parse_100k_ratings_data, data_dir() / "ml-100k",
                              "movielens/100k-ratings", every=25)
    assert len(rows) == 4_000
    ours = next(iter(to_tf_dataset(ml100k.ratings.iloc[rows], ml100k).batch(len(rows))))
    _assert_same_values({k: v.to_list() if hasattr(v, "to_list") else v for k, v in ours.items()}, theirs)


def test_values_match_tfds_own_parser_on_1m_files(server, tmp_path, monkeypatch, ml100k):
    from tensorflow_datasets.structured import movielens_parsing

    from recutils.datasets import to_tf_dataset

    data, _ = _ml1m_from_100k_slice(server, tmp_path, monkeypatch, ml100k)
    rows, theirs = _tfds_rows(movielens_parsing.parse_1m_ratings_data, tmp_path / "ml-1m",
                              "movielens/1m-ratings", every=1)
    ours = next(iter(to_tf_dataset(data.ratings.iloc[rows], data).batch(len(rows))))
    _assert_same_values({k: v.to_list() if hasattr(v, "to_list") else v for k, v in ours.items()}, theirs)


def test_class_names_are_tfds_own():
    import tensorflow_datasets as tfds

    features = tfds.builder("movielens/100k-ratings").info.features
    assert features["movie_genres"].feature.names == list(datasets.TFDS_GENRES)
    assert features["user_occupation_label"].names == list(datasets.TFDS_OCCUPATIONS)
    with pytest.raises(KeyError, match="Unknown occupation 'astronaut'"):
        datasets.tfds_occupation_label("astronaut")


def test_ratings_survive_the_round_trip_through_tf_data(ml100k):
    from recutils.datasets import compare_ratings, ratings_fingerprint, ratings_from_tf, to_tf_dataset

    back = ratings_from_tf(to_tf_dataset(ml100k.ratings, ml100k))
    table = compare_ratings({"loader": ml100k.ratings, "tf.data": back.sample(frac=1.0, random_state=0)})
    assert table["ratings"].tolist() == [100_000, 100_000] and table["movies"].tolist() == [1_682, 1_682]
    assert table["sha256"].nunique() == 1
    changed = back.copy()
    changed.loc[0, "rating"] = 1 + changed.loc[0, "rating"] % 5  # one star more (5 becomes 1)
    assert ratings_fingerprint(changed) != ratings_fingerprint(ml100k.ratings)


def test_tf_dataset_refuses_an_empty_frame(ml100k):
    with pytest.raises(ValueError, match="empty"):
        datasets.tfds_features(ml100k.ratings.iloc[:0], ml100k)


def test_cache_files_are_not_committed():
    ignored = (Path(__file__).resolve().parent.parent / ".gitignore").read_text()
    assert "data/*" in ignored and "!data/README.md" in ignored
