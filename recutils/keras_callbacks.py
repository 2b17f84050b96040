"""Keras callbacks shared by the model notebooks (imports TensorFlow, with Keras 2 selected)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

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
