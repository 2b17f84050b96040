"""A Keras RNN cell for notebook 05: the LSTM without its forget gate.

:class:`ModifiedLSTMCell` computes, for input :math:`x_t` and previous output :math:`h_{t-1}`,

.. math::

    i &= \\sigma(W_i [h_{t-1}, x_t] + b_i), \\quad
    \\tilde c = \\tanh(W_c [h_{t-1}, x_t] + b_c), \\quad
    c_t = i \\odot \\tilde c, \\\\
    o &= \\sigma(W_o [h_{t-1}, x_t] + b_o), \\quad h_t = o \\odot \\tanh(c_t).

Without the forget gate, :math:`c_t` does not depend on :math:`c_{t-1}`: the cell's only state is
:math:`h`.  Three gates' weights instead of the LSTM's four.  ``forget_gate=True`` restores the
standard LSTM (:math:`c_t = f \\odot c_{t-1} + i \\odot \\tilde c`, state ``[h, c]``, Keras's gate
order and forget-bias initialisation), so the two can be timed and compared with the same code.

``models=M`` gives each of the ``M`` sequences of a batch its own weights (a leading axis of
length ``M`` on every weight): ``M`` independent networks trained in one graph, e.g. one per
user.  Use it through ``tf.keras.layers.RNN``, which handles masking (a masked step keeps the
previous state).
"""

from __future__ import annotations

import tensorflow as tf

import recutils  # noqa: F401  (sets TF_USE_LEGACY_KERAS=1 before TensorFlow is imported)


def _per_model_initializer(initializer, models: int):
    """Initialise a ``(models, rows, cols)`` weight as ``models`` independent ``(rows, cols)`` draws.

    Keras would treat the leading axis as a convolution's receptive field: variance-scaling
    initialisers (Glorot, He, ...) would divide their variance by ``models``, and ``Orthogonal``
    would orthogonalise one tall ``(models * rows, cols)`` matrix.  Variance scaling is corrected
    by multiplying its scale by ``models``; ``Orthogonal`` becomes a batched QR decomposition.
    Other initialisers (zeros, constants, fixed-scale random) do not depend on the shape's fans.
    """
    if isinstance(initializer, tf.keras.initializers.VarianceScaling):
        return tf.keras.initializers.VarianceScaling(
            scale=initializer.scale * models, mode=initializer.mode,
            distribution=initializer.distribution, seed=initializer.seed)
    if isinstance(initializer, tf.keras.initializers.Orthogonal):
        gain = initializer.get_config()["gain"]

        def orthogonal(shape, dtype=None, **kwargs):
            _, rows, cols = shape
            q, r = tf.linalg.qr(tf.random.normal((models, max(rows, cols), min(rows, cols)), dtype=dtype))
            q *= tf.sign(tf.linalg.diag_part(r))[:, None, :]  # a uniform draw over orthogonal matrices
            return gain * (q if rows >= cols else tf.linalg.matrix_transpose(q))

        return orthogonal
    return initializer


@tf.keras.utils.register_keras_serializable(package="recutils")
class ModifiedLSTMCell(tf.keras.layers.Layer):
    """The LSTM cell without a forget gate (``forget_gate=True``: the standard LSTM cell).

    Args:
        units: the size of ``h`` (and ``c``).
        forget_gate: add the forget gate back, giving the standard LSTM.
        models: if set, each of the ``models`` sequences in a batch has its own weights; the
            batch size must then be ``models`` (sequence ``b`` uses weights ``b``).
        kernel_initializer, recurrent_initializer, bias_initializer: as in Keras's LSTM.
    """

    def __init__(self, units: int, forget_gate: bool = False, models: int | None = None,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive integer, got {units!r}.")
        if models is not None and (isinstance(models, bool) or not isinstance(models, int) or models < 1):
            raise ValueError(f"models must be None or a positive integer, got {models!r}.")
        self.units = units
        self.forget_gate = bool(forget_gate)
        self.models = models
        self.kernel_initializer = tf.keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = tf.keras.initializers.get(recurrent_initializer)
        self.bias_initializer = tf.keras.initializers.get(bias_initializer)
        self.gates = 4 if self.forget_gate else 3

    @property
    def state_size(self):
        """``units`` (the state is ``h``), or ``[units, units]`` (``[h, c]``) with the forget gate."""
        return [self.units, self.units] if self.forget_gate else self.units

    @property
    def output_size(self) -> int:
        return self.units

    def _shape(self, *dims: int) -> tuple[int, ...]:
        return dims if self.models is None else (self.models, *dims)

    def build(self, input_shape) -> None:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("ModifiedLSTMCell needs a known input size (the last axis).")
        width = self.gates * self.units
        self.kernel = self.add_weight(name="kernel", shape=self._shape(int(input_dim), width),
                                      initializer=self._per_model(self.kernel_initializer))
        self.recurrent_kernel = self.add_weight(
            name="recurrent_kernel", shape=self._shape(self.units, width),
            initializer=self._per_model(self.recurrent_initializer))
        self.bias = self.add_weight(name="bias", shape=self._shape(width), initializer=self._bias_init)
        self.built = True

    def _per_model(self, initializer):
        """``initializer`` applied to each model's matrix on its own, in one draw."""
        return initializer if self.models is None else _per_model_initializer(initializer, self.models)

    def _bias_init(self, shape, dtype=None, **kwargs):
        """``bias_initializer``, with the forget gate's bias at 1 (as Keras's ``unit_forget_bias``)."""
        bias = self.bias_initializer(shape, dtype=dtype)
        if not self.forget_gate:
            return bias
        u = self.units
        return tf.concat([bias[..., :u], tf.ones_like(bias[..., u:2 * u]), bias[..., 2 * u:]], axis=-1)

    def _dot(self, x, weights):
        if self.models is None:
            return tf.matmul(x, weights)
        return tf.matmul(x[:, None, :], weights)[:, 0]  # a batch of (1, i) @ (i, j) products

    def call(self, inputs, states, training=None):
        states = tf.nest.flatten(states)
        h_prev = states[0]
        z = self._dot(inputs, self.kernel) + self._dot(h_prev, self.recurrent_kernel) + self.bias
        if self.forget_gate:
            z_i, z_f, z_c, z_o = tf.split(z, 4, axis=-1)
            c = tf.sigmoid(z_f) * states[1] + tf.sigmoid(z_i) * tf.tanh(z_c)
        else:
            z_i, z_c, z_o = tf.split(z, 3, axis=-1)
            c = tf.sigmoid(z_i) * tf.tanh(z_c)
        h = tf.sigmoid(z_o) * tf.tanh(c)
        return h, ([h, c] if self.forget_gate else h)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "units": self.units,
            "forget_gate": self.forget_gate,
            "models": self.models,
            "kernel_initializer": tf.keras.initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": tf.keras.initializers.serialize(self.recurrent_initializer),
            "bias_initializer": tf.keras.initializers.serialize(self.bias_initializer),
        }
