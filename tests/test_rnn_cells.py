"""recutils.rnn_cells: the LSTM cell without a forget gate, checked against NumPy and Keras."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from recutils.rnn_cells import ModifiedLSTMCell

INPUT_DIM, UNITS, STEPS, BATCH = 5, 4, 6, 3


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def reference(x: np.ndarray, kernel: np.ndarray, recurrent: np.ndarray, bias: np.ndarray,
              forget_gate: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The cell's equations in float64 NumPy, one step at a time: all outputs h, and the last c.

    ``W_g [h, x] = x @ kernel_g + h @ recurrent_g``, gates in the order i, (f,) c~, o.
    """
    u = recurrent.shape[0]
    h = np.zeros((x.shape[0], u))
    c = np.zeros((x.shape[0], u))
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        if forget_gate:
            i, f, c_tilde, o = (sigmoid(z[:, :u]), sigmoid(z[:, u:2 * u]), np.tanh(z[:, 2 * u:3 * u]),
                                sigmoid(z[:, 3 * u:]))
            c = f * c + i * c_tilde
        else:
            i, c_tilde, o = sigmoid(z[:, :u]), np.tanh(z[:, u:2 * u]), sigmoid(z[:, 2 * u:])
            c = i * c_tilde
        h = o * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1), c


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(BATCH, STEPS, INPUT_DIM)).astype(np.float32)


def rnn(cell: tf.keras.layers.Layer, **kwargs) -> tf.keras.layers.RNN:
    return tf.keras.layers.RNN(cell, return_sequences=True, **kwargs)


@pytest.mark.parametrize("forget_gate", [False, True])
def test_outputs_match_the_equations_in_numpy(x, forget_gate):
    tf.keras.utils.set_random_seed(1)
    layer = rnn(ModifiedLSTMCell(UNITS, forget_gate=forget_gate, bias_initializer="random_normal"),
                return_state=True)
    out, *states = layer(x)
    cell = layer.cell
    expected_h, expected_c = reference(x.astype(np.float64), cell.kernel.numpy(),
                                       cell.recurrent_kernel.numpy(), cell.bias.numpy(), forget_gate)
    np.testing.assert_allclose(out.numpy(), expected_h, atol=1e-6)
    np.testing.assert_allclose(states[0].numpy(), expected_h[:, -1], atol=1e-6)
    if forget_gate:
        np.testing.assert_allclose(states[1].numpy(), expected_c, atol=1e-6)
    else:
        assert len(states) == 1, "without the forget gate the only state is h"
    # Not a vacuous check: the outputs move from step to step.
    assert np.abs(np.diff(expected_h, axis=1)).max() > 1e-2


def test_the_forget_gate_variant_is_keras_lstm(x):
    """forget_gate=True is the standard LSTM: Keras's LSTMCell with the same weights agrees."""
    tf.keras.utils.set_random_seed(2)
    ours = rnn(ModifiedLSTMCell(UNITS, forget_gate=True, bias_initializer="random_normal"))
    keras = rnn(tf.keras.layers.LSTMCell(UNITS))
    ours(x), keras(x)
    keras.set_weights(ours.get_weights())
    np.testing.assert_allclose(ours(x).numpy(), keras(x).numpy(), atol=1e-6)


def test_three_gates_weights_instead_of_four():
    inputs = tf.keras.Input((None, INPUT_DIM))
    counts = {name: tf.keras.Model(inputs, layer(inputs)).count_params() for name, layer in {
        "modified": tf.keras.layers.RNN(ModifiedLSTMCell(UNITS)),
        "modified+forget": tf.keras.layers.RNN(ModifiedLSTMCell(UNITS, forget_gate=True)),
        "lstm": tf.keras.layers.LSTM(UNITS),
    }.items()}
    per_gate = UNITS * (INPUT_DIM + UNITS) + UNITS
    assert counts == {"modified": 3 * per_gate, "modified+forget": 4 * per_gate, "lstm": 4 * per_gate}


def test_models_gives_each_sequence_its_own_weights(x):
    """models=M equals M separate cells, each with its slice of the stacked weights."""
    tf.keras.utils.set_random_seed(3)
    stacked = rnn(ModifiedLSTMCell(UNITS, models=BATCH, bias_initializer="random_normal"))
    out = stacked(x).numpy()
    cell = stacked.cell
    assert cell.kernel.shape == (BATCH, INPUT_DIM, 3 * UNITS)
    for b in range(BATCH):
        expected, _ = reference(x[b:b + 1].astype(np.float64), cell.kernel.numpy()[b],
                                cell.recurrent_kernel.numpy()[b], cell.bias.numpy()[b])
        np.testing.assert_allclose(out[b:b + 1], expected, atol=1e-6)


def test_per_model_initialisation_is_independent_and_correctly_scaled():
    """Each model's weights are drawn as if alone: Glorot's scale, orthogonal recurrent matrices."""
    tf.keras.utils.set_random_seed(4)
    models, input_dim, units = 200, 19, 8
    cell = ModifiedLSTMCell(units, models=models)
    cell.build((models, input_dim))
    kernel, recurrent = cell.kernel.numpy(), cell.recurrent_kernel.numpy()
    glorot_std = np.sqrt(2.0 / (input_dim + 3 * units))
    assert abs(kernel.std() - glorot_std) < 0.05 * glorot_std
    assert not np.allclose(kernel[0], kernel[1])
    gram = recurrent @ recurrent.transpose(0, 2, 1)  # (units, 3 units): orthonormal rows per model
    np.testing.assert_allclose(gram, np.broadcast_to(np.eye(units), gram.shape), atol=1e-5)
    assert not np.allclose(recurrent[0], recurrent[1])


def test_forget_bias_starts_at_one_like_keras():
    cell = ModifiedLSTMCell(UNITS, forget_gate=True)
    cell.build((None, INPUT_DIM))
    bias = cell.bias.numpy()
    np.testing.assert_array_equal(bias[UNITS:2 * UNITS], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[UNITS:2 * UNITS]), 0.0)


def test_saves_and_reloads(tmp_path, x):
    tf.keras.utils.set_random_seed(5)
    inputs = tf.keras.Input((None, INPUT_DIM))
    model = tf.keras.Model(inputs, tf.keras.layers.RNN(ModifiedLSTMCell(UNITS, models=None))(inputs))
    path = tmp_path / "modified_lstm.keras"
    model.save(path)
    loaded = tf.keras.models.load_model(path)  # the class is found through its registration
    assert isinstance(loaded.layers[-1].cell, ModifiedLSTMCell)
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(), atol=1e-7)

    cell = ModifiedLSTMCell(7, forget_gate=True, models=3, kernel_initializer="he_normal")
    config = tf.keras.layers.serialize(cell)
    assert config["registered_name"] == "recutils>ModifiedLSTMCell"
    clone = tf.keras.layers.deserialize(config)
    assert (clone.units, clone.forget_gate, clone.models) == (7, True, 3)
    assert isinstance(clone.kernel_initializer, tf.keras.initializers.HeNormal)


@pytest.mark.parametrize("forget_gate", [False, True])
@pytest.mark.parametrize("padding", ["left", "right"])
def test_masked_padding_leaves_the_final_state_unchanged(x, padding, forget_gate):
    tf.keras.utils.set_random_seed(6)
    layer = tf.keras.layers.RNN(ModifiedLSTMCell(UNITS, forget_gate=forget_gate), return_sequences=True,
                                return_state=True)
    pad = np.full((BATCH, 4, INPUT_DIM), 3.0, np.float32)  # non-zero junk: only the mask hides it
    padded = np.concatenate([pad, x] if padding == "left" else [x, pad], axis=1)
    real = np.s_[:, 4:] if padding == "left" else np.s_[:, :STEPS]
    mask = np.zeros(padded.shape[:2], bool)
    mask[real] = True
    outputs, *states = layer(x)
    masked_outputs, *masked_states = layer(padded, mask=mask)
    for state, masked_state in zip(states, masked_states, strict=True):
        np.testing.assert_allclose(masked_state.numpy(), state.numpy(), atol=1e-6)
    np.testing.assert_allclose(masked_outputs.numpy()[real], outputs.numpy(), atol=1e-6)
    # Without the mask the padding changes what follows it: the real steps after left padding,
    # the final state after right padding.
    unmasked_outputs, unmasked_h, *_ = layer(padded)
    if padding == "left":
        assert not np.allclose(unmasked_outputs.numpy()[real], outputs.numpy(), atol=1e-3)
    else:
        assert not np.allclose(unmasked_h.numpy(), states[0].numpy(), atol=1e-3)


def test_embedding_mask_reaches_the_cell():
    """With Embedding(mask_zero=True), left-padded token sequences end in the same state."""
    tf.keras.utils.set_random_seed(7)
    model = tf.keras.Sequential([tf.keras.layers.Embedding(10, 3, mask_zero=True),
                                 tf.keras.layers.RNN(ModifiedLSTMCell(UNITS))])
    short, padded = np.array([[4, 2, 7]]), np.array([[0, 0, 4, 2, 7]])
    np.testing.assert_allclose(model(padded).numpy(), model(short).numpy(), atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"units": 0}, {"units": 2.5}, {"units": 4, "models": 0},
                                    {"units": 4, "models": True}])
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        ModifiedLSTMCell(**kwargs)
