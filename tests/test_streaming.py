"""CSV shards written from real MovieLens 100K and streamed back with tf.data."""

import numpy as np
import pandas as pd
import pytest

from recutils.streaming import COLUMNS, shard_files, stream_shards, throughput, write_shards


def _read_back(files, **options) -> pd.DataFrame:
    batches = list(stream_shards(files, 4096, **options))
    return pd.DataFrame({key: np.concatenate([b[key].numpy() for b in batches]) for key in batches[0]})


@pytest.mark.parametrize("parallel", [False, True])
def test_rows_come_back_in_order_with_their_item_share(ratings, tmp_path, parallel):
    files = write_shards(ratings, tmp_path / "shards", shards=8)
    assert [f.name for f in files] == [f"part-{i:05d}.csv" for i in range(8)]
    assert pd.read_csv(files[0], nrows=0).columns.tolist() == list(COLUMNS)
    back = _read_back(files, parallel=parallel, cache=True)
    assert len(back) == len(ratings)
    assert (back["user_id"].astype(str).to_numpy() == ratings["user_id"].astype(str).to_numpy()).all()
    assert (back["movie_id"].astype(int).to_numpy() == ratings["item_id"].to_numpy()).all()
    assert (back["timestamp"].to_numpy() == ratings["timestamp"].to_numpy()).all()
    share = ratings["item_id"].map(ratings["item_id"].value_counts(normalize=True)).to_numpy()
    np.testing.assert_allclose(back["candidate_probability"].to_numpy(), share, rtol=1e-6)


def test_batches_and_drop_remainder(ratings, tmp_path):
    files = write_shards(ratings.head(1000), tmp_path / "shards", shards=3)
    sizes = [int(b["user_id"].shape[0]) for b in stream_shards(files, 300)]
    assert sizes == [300, 300, 300, 100]
    assert [int(b["user_id"].shape[0]) for b in stream_shards(files, 300, drop_remainder=True)] == [300] * 3


def test_shuffle_is_seeded_and_keeps_every_row(ratings, tmp_path):
    files = write_shards(ratings.head(5000), tmp_path / "shards", shards=4)
    first, again = (_read_back(files, shuffle_buffer=5000, seed=1) for _ in range(2))
    assert (first["movie_id"] == again["movie_id"]).all()
    assert not (first["movie_id"].astype(int).to_numpy() == ratings.head(5000)["item_id"].to_numpy()).all()
    assert sorted(first["movie_id"].astype(int)) == sorted(ratings.head(5000)["item_id"])


def test_rewriting_replaces_the_shards_atomically(ratings, tmp_path, monkeypatch):
    folder = tmp_path / "shards"
    write_shards(ratings, folder, shards=8)
    write_shards(ratings.head(10), folder, shards=2)
    assert len(shard_files(folder)) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["shards"]  # no temporary folder left behind
    written = []

    def full_disk(self, path, **kwargs):
        if written:
            raise OSError("No space left on device")
        written.append(path)

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(OSError, match="No space"):
        write_shards(ratings, folder, shards=8)
    monkeypatch.undo()
    assert len(shard_files(folder)) == 2 and len(_read_back(shard_files(folder))) == 10  # the old shards
    assert [p.name for p in tmp_path.iterdir()] == ["shards"]


def test_bad_input_gets_a_clear_error(ratings, tmp_path):
    with pytest.raises(ValueError, match="no column"):
        write_shards(ratings.drop(columns="timestamp"), tmp_path / "x")
    with pytest.raises(ValueError, match="at least 1"):
        write_shards(ratings, tmp_path / "x", shards=0)
    with pytest.raises(FileNotFoundError, match="write_shards"):
        shard_files(tmp_path / "nothing")
    with pytest.raises(ValueError, match="No files"):
        stream_shards([], 10)


def test_throughput_counts_every_row_of_each_pass(ratings, tmp_path, monkeypatch):
    files = write_shards(ratings.head(3000), tmp_path / "shards", shards=2)
    clock = iter([0.0, 2.0, 10.0, 11.0])  # two passes: 2 s, then 1 s
    monkeypatch.setattr("recutils.streaming.time.perf_counter", lambda: next(clock))
    assert throughput(stream_shards(files, 512), passes=2) == [1500.0, 3000.0]
    monkeypatch.undo()
    with pytest.raises(ValueError, match="at least 1"):
        throughput(stream_shards(files, 512), passes=0)
