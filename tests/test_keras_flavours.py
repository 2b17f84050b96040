"""Keras 2 (tf_keras, for TFRS) and Keras 3 (keras, keras-rs) in one process: telling their objects
apart, and a clear error for a model that mixes them, including the mix Keras itself lets through."""

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from recutils.keras_flavours import KERAS_2, KERAS_3, check_one_keras, keras_flavour
from recutils.paths import project_root
from recutils.setup import keras_version

keras = pytest.importorskip("keras")
keras_rs = pytest.importorskip("keras_rs")


def test_every_object_is_told_by_the_package_of_its_classes():
    assert keras_flavour(tf.keras.layers.Dense(2)) == KERAS_2
    assert keras_flavour(tf.keras.Sequential([tf.keras.layers.Dense(2)])) == KERAS_2
    assert keras_flavour(keras.layers.Dense(2)) == KERAS_3
    assert keras_flavour(keras_rs.layers.FeatureCross()) == KERAS_3  # keras-rs builds on Keras 3
    assert keras_flavour(tf.constant(1.0)) is None and keras_flavour(3) is None
    assert keras_version(tf).startswith("2.") and keras.__version__.startswith("3.")


def test_a_model_of_one_keras_passes():
    two = tf.keras.Sequential([tf.keras.Input((4,)), tf.keras.layers.Dense(1)])
    inputs = keras.Input((4,))
    three = keras.Model(inputs, keras.layers.Dense(1)(keras_rs.layers.FeatureCross()(inputs)))
    assert check_one_keras(two) == KERAS_2
    assert check_one_keras(three, KERAS_3) == KERAS_3
    with pytest.raises(ValueError, match="flavour must be one of"):
        check_one_keras(two, "Keras 4")
    with pytest.raises(TypeError, match="not a Keras model"):
        check_one_keras(np.zeros(3))


def test_a_keras_2_model_holding_a_keras_rs_layer_is_refused_by_name():
    class Ranker(tf.keras.Model):
        def __init__(self):
            super().__init__()
            self.cross = keras_rs.layers.FeatureCross()  # Keras 3, inside a Keras 2 model
            self.out = tf.keras.layers.Dense(1)

        def call(self, x):
            return self.out(self.cross(x))

    ranker = Ranker()
    ranker(tf.ones((2, 4)))
    mixed = r"Keras 2 \(tf_keras\) model but holds Keras 3 objects: .*FeatureCross"
    with pytest.raises(TypeError, match=mixed):
        check_one_keras(ranker)
    # What Keras itself says, later, in fit: nothing that names the cause.
    ranker.compile(optimizer=tf.keras.optimizers.Adam(), loss="mse")
    with pytest.raises(AttributeError, match="_unique_id"):
        ranker.fit(tf.ones((4, 4)), tf.ones((4, 1)), verbose=0)


def test_the_silent_mix_is_caught_before_it_trains_a_frozen_layer():
    """A keras-rs layer called on a tf.keras.Input raises nothing: Keras 2 traces it into operations
    on constants, and fit leaves its weights where they started. check_one_keras refuses it."""
    inputs = tf.keras.Input((4,))
    cross = keras_rs.layers.FeatureCross()
    model = tf.keras.Model(inputs, tf.keras.layers.Dense(1)(cross(inputs)))  # no error from Keras
    before = [w.numpy().copy() for w in cross.weights]
    model.compile(optimizer=tf.keras.optimizers.SGD(0.1), loss="mse")
    model.fit(np.random.default_rng(0).normal(size=(64, 4)), np.ones((64, 1)), epochs=2, verbose=0)
    assert all(np.array_equal(b, w.numpy()) for b, w in zip(before, cross.weights))  # frozen
    with pytest.raises(TypeError, match="would never train"):
        check_one_keras(model)


def test_the_keras_3_in_batch_softmax_is_tfrs_retrieval_loss():
    """The README's mapping: TFRS's Retrieval task (logQ-corrected in-batch softmax, summed) is
    keras-rs's SamplingProbabilityCorrection plus Keras 3's CategoricalCrossentropy(reduction="sum")."""
    import tensorflow_recommenders as tfrs

    rng = np.random.default_rng(0)
    queries, candidates = rng.normal(size=(8, 5)).astype("float32"), rng.normal(size=(8, 5)).astype("float32")
    probability = rng.uniform(0.01, 0.2, size=8).astype("float32")
    expected = float(tfrs.tasks.Retrieval()(queries, candidates, candidate_sampling_probability=probability))
    scores = keras.ops.matmul(queries, keras.ops.transpose(candidates))
    scores = keras_rs.layers.SamplingProbabilityCorrection()(scores, probability)
    loss = keras.losses.CategoricalCrossentropy(from_logits=True, reduction="sum")(keras.ops.eye(8), scores)
    assert float(loss) == pytest.approx(expected, rel=1e-5)


def test_feature_cross_is_the_tfrs_cross_layer_given_the_same_weights():
    import tensorflow_recommenders as tfrs

    x = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
    ours, theirs = keras_rs.layers.FeatureCross(), tfrs.layers.dcn.Cross()
    ours(x), theirs(x)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(np.asarray(ours(x)), theirs(x).numpy(), rtol=1e-6, atol=1e-6)


def _mapping_rows(text: str) -> list[str]:
    """The rows of the TFRS -> Keras 3 / keras-rs table in a Markdown text."""
    head = "| TFRS / tf_keras | Keras 3 / keras-rs | note |"
    assert head in text
    rows = []
    for line in text.split(head, 1)[1].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_notebook_11_and_the_readme_hold_the_same_mapping_table():
    notebook = nbformat.read(project_root() / "notebooks" / "11_retrieval_then_ranking.ipynb", as_version=4)
    cell = next(c for c in notebook.cells if c.get("id") == "keras3-table")
    readme = (project_root() / "README.md").read_text()
    assert _mapping_rows(cell.source) == _mapping_rows(readme)
    assert len(_mapping_rows(readme)) >= 10
