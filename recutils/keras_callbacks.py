"""Keras callbacks shared by the model notebooks (imports TensorFlow, with Keras 2 selected)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import tensorflow as tf

import recutils  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before TensorFlow is imported)
from recutils.evaluation import ScoreFn, evaluate
from recutils.splits import Split


class RankingMetrics(tf.keras.callbacks.Callback):
    """Scores the model on a split's part after each epoch and adds the results to the logs.

    ``make_scores()`` returns what :func:`recutils.evaluation.evaluate` takes (a score matrix
    or a ``scores(user_positions)`` function) for the model's *current* weights.  The values
    appear as ``val_ndcg@10`` etc. in ``History``, in TensorBoard (put this callback *before*
    the ``TensorBoard`` callback in the list) and for ``EarlyStopping(monitor="val_ndcg@10",
    mode="max")``.
    """

    def __init__(self, make_scores: Callable[[], object | ScoreFn], split: Split,
                 part: str = "valid", k: int = 10,
                 metrics: Sequence[str] = ("ndcg@10", "recall@10"), prefix: str = "val_"):
        super().__init__()
        self.make_scores, self.split, self.part, self.k = make_scores, split, part, k
        self.metrics, self.prefix = tuple(metrics), prefix

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        result = evaluate(self.make_scores(), self.split, part=self.part, k=self.k)
        if logs is not None:
            for name in self.metrics:
                logs[self.prefix + name] = result[name]



EPOCH_TIMES = ("epoch_seconds", "epoch_cpu_seconds")
"""The keys :class:`EpochTimes` adds to the logs."""


class EpochTimes(tf.keras.callbacks.Callback):
    """Adds each epoch's wall-clock and CPU seconds to the logs (``epoch_seconds``,
    ``epoch_cpu_seconds``).

    Put it *first* in the callback list: Keras calls the callbacks in order, so the time is taken
    before the others' end-of-epoch work (scoring ``valid``, writing TensorBoard) and covers the
    gradient steps alone.
    """

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = (time.perf_counter(), time.process_time())

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs["epoch_seconds"] = time.perf_counter() - self._start[0]
            logs["epoch_cpu_seconds"] = time.process_time() - self._start[1]


def median_after_first(values: Sequence[float]) -> float:
    """The median of per-epoch times without the first epoch, which also builds the graph (all of
    them if there is only one)."""
    values = list(values)
    return float(np.median(values[1:] or values))
