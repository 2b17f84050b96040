"""Interactions as CSV shards on disk, streamed back with ``tf.data`` (never held in pandas).

:func:`write_shards` writes a ratings frame as ``part-00000.csv``, ``part-00001.csv``, ... with
the columns of :data:`COLUMNS`, one header line each, and a ``candidate_probability`` column: the
item's share of the interactions written (the logQ correction of notebook 02).  The folder is
written atomically: a reader sees the old shards or the new ones, never half of them.

:func:`stream_shards` reads them back as batches of tensors.  Its switches (parallel reads and
parsing, ``cache``, ``prefetch``) are the ones notebook 10 measures; a batch is parsed with one
vectorised ``tf.io.decode_csv`` call, never row by row.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from recutils.paths import atomic_folder

COLUMNS = ("user_id", "item_id", "timestamp", "candidate_probability")
"""The columns of every shard, in order (ids are written as integers and read as strings)."""


def write_shards(frame: pd.DataFrame, directory: str | os.PathLike, shards: int = 8) -> list[Path]:
    """Write ``frame`` (columns ``user_id``, ``item_id``, ``timestamp``) as ``shards`` CSV files.

    Rows go to the shards in turn (row ``r`` to shard ``r % shards``), so the shards differ in size
    by at most one row; the order of the rows within ``frame`` is kept.  An existing ``directory``
    is replaced only once every new shard has been written.

    Returns:
        The shard paths, sorted.
    """
    missing = {"user_id", "item_id", "timestamp"} - set(frame.columns)
    if missing:
        raise ValueError(f"The frame has no column {sorted(missing)}: pass a ratings frame "
                         "(recutils.datasets.load_movielens(...).ratings or a part of a split).")
    if frame.empty:
        raise ValueError("The frame is empty: there are no interactions to write.")
    if shards < 1:
        raise ValueError(f"shards must be at least 1, not {shards}.")
    table = pd.DataFrame({
        "user_id": frame["user_id"].to_numpy(),
        "item_id": frame["item_id"].to_numpy(),
        "timestamp": frame["timestamp"].to_numpy(np.int64),
        "candidate_probability": frame["item_id"].map(frame["item_id"].value_counts(normalize=True))
                                                .to_numpy(np.float64),
    })
    with atomic_folder(directory) as tmp:
        for shard in range(shards):
            table.iloc[shard::shards].to_csv(tmp / f"part-{shard:05d}.csv", index=False,
                                             float_format="%.9g")
    return shard_files(directory)


def shard_files(directory: str | os.PathLike) -> list[Path]:
    """The shards of ``directory``, sorted; a clear error if there are none."""
    files = sorted(Path(directory).glob("part-*.csv"))
    if not files:
        raise FileNotFoundError(f"No shards (part-*.csv) in {directory}: write them first with "
                                "recutils.streaming.write_shards(frame, directory).")
    return files


def stream_shards(files: Sequence[str | os.PathLike], batch_size: int, *, parallel: bool = False,
                  cache: bool = False, prefetch: bool = True, shuffle_buffer: int = 0,
                  seed: int | None = None, drop_remainder: bool = False):
    """Batches of the interactions in ``files``: dicts of ``user_id`` and ``movie_id`` (strings),
    ``timestamp`` (int64) and ``candidate_probability`` (float32) tensors.

    Args:
        files: CSV shards written by :func:`write_shards`.
        batch_size: rows per batch.
        parallel: read the shards and parse the batches on parallel threads
            (``num_parallel_calls=AUTOTUNE``); otherwise one thread does both.  Off by default: on a
            2-core machine reading local files it costs more than it saves (notebook 10 measures it);
            it pays with many cores or with files on remote storage.
        cache: keep the parsed batches in memory after the first pass (the first epoch still reads
            the files; later epochs see the same batches in the same order).
        prefetch: prepare the next batches while the model trains on the current one.
        shuffle_buffer: rows shuffled in a buffer of this size before batching (0: file order).
        seed: the shuffle's seed.
        drop_remainder: drop a last, smaller batch (distributed training wants equal batches).
    """
    import tensorflow as tf

    if not files:
        raise ValueError("No files to stream: pass the list that write_shards returned.")
    autotune = tf.data.AUTOTUNE if parallel else None
    names = tf.data.Dataset.from_tensor_slices([str(f) for f in files])
    # one row from each shard in turn: the rows come back in the order write_shards was given them
    lines = names.interleave(lambda name: tf.data.TextLineDataset(name).skip(1), cycle_length=len(files),
                             num_parallel_calls=autotune, deterministic=True if parallel else None)
    if shuffle_buffer:
        lines = lines.shuffle(shuffle_buffer, seed=seed)
    batches = lines.batch(batch_size, drop_remainder=drop_remainder).map(parse_lines,
                                                                         num_parallel_calls=autotune)
    if cache:
        batches = batches.cache()
    return batches.prefetch(tf.data.AUTOTUNE) if prefetch else batches


def throughput(dataset, passes: int = 2) -> list[float]:
    """Examples per second of each of ``passes`` full passes over ``dataset`` (batches of dicts).

    The batches are consumed inside TensorFlow (``Dataset.reduce``), so the figure is the input
    pipeline's own speed, without a Python loop's cost per batch.
    """
    import tensorflow as tf

    if passes < 1:
        raise ValueError(f"passes must be at least 1, not {passes}.")
    rates = []
    for _ in range(passes):
        start = time.perf_counter()
        rows = dataset.reduce(tf.constant(0, tf.int64),
                              lambda n, batch: n + tf.shape(batch["user_id"], out_type=tf.int64)[0])
        seconds = time.perf_counter() - start
        if int(rows) == 0:
            raise ValueError("The dataset is empty: there is nothing to time.")
        rates.append(int(rows) / seconds)
    return rates


def parse_lines(lines):
    """Shard lines (one string, or a batch of them) as a dict of tensors of :func:`stream_shards`'s
    features, with one ``decode_csv`` call; every field is required.  Map it over batches, not
    over single lines (notebook 10 measures the difference)."""
    import tensorflow as tf

    required = [tf.constant([], dtype) for dtype in (tf.string, tf.string, tf.int64, tf.float32)]
    user, item, timestamp, probability = tf.io.decode_csv(lines, record_defaults=required)
    return {"user_id": user, "movie_id": item, "timestamp": timestamp, "candidate_probability": probability}
