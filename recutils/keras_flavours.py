"""Which Keras an object belongs to, and a check that a model does not mix the two.

One environment holds both Kerases: with ``TF_USE_LEGACY_KERAS=1`` (set by :func:`recutils.setup.setup`)
``tf.keras`` is Keras 2 (the ``tf_keras`` package, which TensorFlow Recommenders needs), while
``import keras`` is Keras 3 (which keras-rs builds on).  Their layers, models, variables and
symbolic tensors do not mix.  Most mixes fail at once, with messages that do not name the cause
(``The added layer must be an instance of class Layer``, ``'Variable' object has no attribute
'_unique_id'``); one does not fail at all: a keras-rs layer called on a ``tf.keras.Input`` is
traced into Keras 2 ``TFOpLambda`` layers whose weights are constants, so the model trains with
that layer frozen, and only a log line hints at it.  :func:`check_one_keras` catches every case
before training, with a message that says what to change.

The test is by package: an object is Keras 2 if a class it derives from comes from ``tf_keras``,
Keras 3 if one comes from ``keras`` (keras-rs layers derive from ``keras.layers.Layer``).
"""

from __future__ import annotations

from collections.abc import Iterable

KERAS_2 = "Keras 2 (tf_keras)"
KERAS_3 = "Keras 3"
FLAVOURS = (KERAS_2, KERAS_3)


def keras_flavour(obj: object) -> str | None:
    """:data:`KERAS_2`, :data:`KERAS_3`, or ``None`` for an object of neither (a tensor, a number)."""
    for cls in type(obj).__mro__:
        package = cls.__module__.split(".")[0]
        if package == "tf_keras":
            return KERAS_2
        if package == "keras":
            return KERAS_3
    return None


def _parts(model: object) -> Iterable[tuple[str, object]]:
    """The model, its attributes, its layers and its weights (for a functional model, the layers
    of its graph)."""
    yield getattr(model, "name", type(model).__name__), model
    yield from vars(model).items()
    for layer in getattr(model, "submodules", ()) or ():
        yield getattr(layer, "name", type(layer).__name__), layer
    for layer in getattr(model, "layers", ()) or ():
        yield getattr(layer, "name", type(layer).__name__), layer
    for weight in getattr(model, "weights", ()) or ():
        yield getattr(weight, "path", None) or getattr(weight, "name", "weight"), weight


def check_one_keras(model: object, flavour: str | None = None) -> str:
    """Raise a ``TypeError`` if ``model`` mixes Keras 2 and Keras 3 objects; return its Keras.

    Args:
        model: a Keras model or layer (either Keras).
        flavour: the Keras it must be (:data:`KERAS_2` or :data:`KERAS_3`); by default the
            model's own.

    Also catches the silent mix: a Keras 2 functional model whose graph holds ``TFOpLambda``
    layers made from a Keras 3 layer's weights (a keras-rs or Keras 3 layer called on a
    ``tf.keras.Input``).
    """
    if flavour is not None and flavour not in FLAVOURS:
        raise ValueError(f"flavour must be one of {FLAVOURS}, got {flavour!r}.")
    own = keras_flavour(model)
    if own is None:
        raise TypeError(f"{type(model).__name__} is not a Keras model or layer of either Keras.")
    expected = flavour or own
    foreign = sorted({f"{name} ({type(part).__module__}.{type(part).__name__})"
                      for name, part in _parts(model)
                      if keras_flavour(part) not in (None, expected)})
    foreign += sorted(f"{name} (a layer of the other Keras, traced into operations on variables "
                      "this model does not track: they would never train)" for name in _untracked_ops(model))
    if foreign:
        other = KERAS_3 if expected == KERAS_2 else KERAS_2
        build = ("tf.keras (with TF_USE_LEGACY_KERAS=1) and tensorflow_recommenders"
                 if expected == KERAS_2 else "`import keras` and keras_rs")
        raise TypeError(
            f"{getattr(model, 'name', type(model).__name__)} is a {expected} model but holds {other} "
            f"objects: {', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}. The two Kerases do "
            f"not mix: build every layer, input, optimizer and callback of this model with {build}.")
    return expected


def _untracked_ops(model: object) -> list[str]:
    """Names of the ``TFOpLambda`` layers of a Keras 2 functional model that compute with variables the
    model does not track (Keras 3 variables, or TensorFlow ones outside its weights): what a Keras 3
    layer called on a ``tf.keras.Input`` leaves behind."""
    import tensorflow as tf

    tracked = {id(v) for v in getattr(model, "weights", ())}
    names = []
    for layer in getattr(model, "layers", ()) or ():
        if type(layer).__name__ != "TFOpLambda":
            continue
        arguments = []
        for node in getattr(layer, "_inbound_nodes", ()) or ():
            arguments += tf.nest.flatten([getattr(node, "call_args", ()), getattr(node, "call_kwargs", {})])
        if any(keras_flavour(a) == KERAS_3 or (isinstance(a, tf.Variable) and id(a) not in tracked)
               for a in arguments):
            names.append(layer.name)
    return names
