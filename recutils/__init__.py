"""Helpers shared by the notebooks of the course *Recommender systems with TensorFlow*.

The top level is the recommender toolkit a learner imports; the notebooks that use each module:

- every notebook: :mod:`~recutils.setup` (the first cell), :mod:`~recutils.reporting` (the
  results file, tables);
- 00-12: :mod:`~recutils.datasets` (MovieLens, its TFDS-style ``tf.data`` view);
- 00-08, 10-12: :mod:`~recutils.splits`, :mod:`~recutils.evaluation`, :mod:`~recutils.baselines`;
- 01-10, 12: :mod:`~recutils.paths` (where logs and reports go);
- 00-08: :mod:`~recutils.recommend` (one user's top-k);
- 00-08, 12: :mod:`~recutils.plotting` (training curves);
- 00, 01, 02, 03, 06, 07, 10, 11: :mod:`~recutils.metrics` (the formulas, ``top_k``);
- 00, 01, 06, 07: :mod:`~recutils.rating_baselines` (global mean, user and item biases);
- 01-05, 07, 08, 11, 12: :mod:`~recutils.keras_callbacks` (validation NDCG, seconds per epoch);
- 03: :mod:`~recutils.sampled_metrics` (the 1-plus-100-negatives protocol);
- 03, 04, 05, 12: :mod:`~recutils.sequences` (histories as windows, leave-last-out);
- 05: :mod:`~recutils.rnn_cells` (the LSTM cell without a forget gate);
- 01-09: :mod:`~recutils.original_designs` (the report designs' records, their table);
- 05, 06, 07, 09: :mod:`~recutils.like_dislike` (the report's per-user like/dislike protocol);
- 00-12: :mod:`~recutils.comparison` (paired intervals over users);
- 09: :mod:`~recutils.tensorboard_logs` (training curves from the logs);
- 10: :mod:`~recutils.streaming` (sharded files through ``tf.data``), :mod:`~recutils.multiworker`
  (local ``TF_CONFIG`` clusters), :mod:`~recutils.serving` (the exported retriever);
- 10, 11: :mod:`~recutils.ann` (faiss indexes);
- 11: :mod:`~recutils.ranking` (candidate lists, their labels, re-ranking, the split one step back
  in time for tuning a ranker), :mod:`~recutils.two_tower` (notebook 02's id model in a few
  lines), :mod:`~recutils.keras_flavours` (which Keras an object belongs to).

The course machinery (running, measuring, mapping and publishing the notebooks) lives apart,
in :mod:`recutils.course`; of it, notebook 09 uses only ``course.runner.course_notebooks``.

The course runs on Keras 2 (``tf_keras``), which TensorFlow Recommenders needs.  The switch
``TF_USE_LEGACY_KERAS=1`` only works if it is set before TensorFlow is imported, so importing
``recutils`` sets it (unless the user set it already).  No submodule imports TensorFlow at
import time: ``recutils`` loads in a fraction of a second and its tests run without it.
Keras 3 (``import keras``, and keras-rs on it) can sit beside it in the same process, never mixed
with Keras 2 objects: :mod:`recutils.keras_flavours` tells the two apart and refuses a mixed model
(notebook 11 shows both side by side).
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

__version__ = "0.1.0"
