"""Notebook 02's id two-tower model, for the notebooks that build on it (imports TensorFlow
Recommenders, with Keras 2 selected).

Notebook 02 builds the model step by step (its ``IdTower`` and ``TwoTowerModel``, ``ids`` design);
this is the same model in a few lines for notebooks whose subject is what comes after retrieval:
one vector per user and per film, a dot product, TFRS's in-batch softmax with the logQ correction,
Adagrad, batches shuffled once and cached.  Ids are the split's row and column positions, so no
lookup layer is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import tensorflow as tf
import tensorflow_recommenders as tfrs

import recutils  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before TensorFlow is imported)
from recutils.splits import Split


class IdTwoTower(tfrs.Model):
    """A user and a film embedding table trained with ``tfrs.tasks.Retrieval`` (logQ-corrected)."""

    def __init__(self, n_users: int, n_items: int, dim: int):
        super().__init__()
        self.user_model = tf.keras.layers.Embedding(n_users, dim)
        self.item_model = tf.keras.layers.Embedding(n_items, dim)
        self.task = tfrs.tasks.Retrieval()

    def compute_loss(self, features: dict, training: bool = False) -> tf.Tensor:
        return self.task(self.user_model(features["user"]), self.item_model(features["item"]),
                         candidate_sampling_probability=features["item_share"])

    def scores(self) -> np.ndarray:
        """Every user's score for every film (rows and columns in the split's order)."""
        return self.user_model.embeddings.numpy() @ self.item_model.embeddings.numpy().T


def retrieval_batches(frame: pd.DataFrame, split: Split, batch_size: int, seed: int,
                      columns: Sequence[str] = ()) -> tf.data.Dataset:
    """The interactions of ``frame`` as batches of user and item positions, each with its item's
    share of ``frame`` (the sampling probability of the logQ correction) and the frame's ``columns``
    (e.g. ``("rating",)``); shuffled once with ``seed`` and cached, so every epoch sees the same
    batches (as in notebook 02).

    Raises:
        ValueError: ``frame`` is empty.
    """
    if frame.empty:
        raise ValueError("No interactions to train on: the frame is empty.")
    frame = frame.sample(frac=1.0, random_state=seed)
    users, items = split.encode(frame)
    share = frame["item_id"].map(frame["item_id"].value_counts(normalize=True)).to_numpy(np.float32)
    extra = {name: frame[name].to_numpy(np.float32) for name in columns}
    return tf.data.Dataset.from_tensor_slices(
        {"user": users, "item": items, "item_share": share, **extra}).batch(batch_size).cache()


def fit_id_two_tower(frame: pd.DataFrame, split: Split, seed: int, dim: int = 32, epochs: int = 10,
                     batch_size: int = 1024, learning_rate: float = 0.1) -> IdTwoTower:
    """An :class:`IdTwoTower` trained on ``frame`` with notebook 02's settings (its chosen size
    32 and 10 epochs, batches of 1,024, Adagrad 0.1), weights and batches drawn from ``seed``."""
    tf.keras.utils.set_random_seed(seed)
    model = IdTwoTower(split.n_users, split.n_items, dim)
    model.compile(optimizer=tf.keras.optimizers.Adagrad(learning_rate))
    model.fit(retrieval_batches(frame, split, batch_size, seed), epochs=epochs, verbose=0)
    return model
