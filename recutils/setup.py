"""The first cell of every notebook calls :func:`setup`: Keras 2 checked, seeds set, versions shown.

TensorFlow Recommenders needs Keras 2.  TensorFlow 2.16+ ships Keras 3 as ``tf.keras`` unless
``TF_USE_LEGACY_KERAS=1`` is set *before TensorFlow is first imported*, in which case
``tf.keras`` is the ``tf_keras`` package (Keras 2).  Importing :mod:`recutils` sets the variable;
:func:`setup` then verifies that it took effect and stops with the fix if it did not.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys

PACKAGES = ("tensorflow", "tf-keras", "tensorflow-recommenders", "numpy", "pandas", "scipy",
            "matplotlib")


class KerasVersionError(RuntimeError):
    """``tf.keras`` is Keras 3, which TensorFlow Recommenders cannot use."""


def keras_version(tf_module) -> str:
    """The version of the Keras behind ``tf.keras``: ``tf_keras``'s (2.x) or Keras 3's."""
    if tf_module.keras.Model.__module__.startswith("tf_keras"):
        import tf_keras

        return tf_keras.__version__
    import keras

    return keras.__version__


def check_keras2(tf_module) -> None:
    """Raise :class:`KerasVersionError` with the fix if ``tf.keras`` is not Keras 2."""
    version = keras_version(tf_module)
    if not version.startswith("2."):
        raise KerasVersionError(
            f"tf.keras is Keras {version}, but this course needs Keras 2 "
            "(tf_keras) for TensorFlow Recommenders. TensorFlow was imported before "
            "TF_USE_LEGACY_KERAS=1 was set. Fix: restart the kernel and run the setup cell "
            "first (or `import recutils` before `import tensorflow`); check that tf-keras is "
            "installed (`pip install tf-keras`)."
        )


def versions() -> dict[str, str]:
    """Python and the course's main packages, with their installed versions."""
    out = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def setup(seed: int = 42, verbose: bool = True):
    """Select Keras 2, import TensorFlow, seed Python, NumPy and TensorFlow; return ``tf``.

    Raises:
        KerasVersionError: TensorFlow was already imported with Keras 3.
    """
    os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out
    import tensorflow as tf

    check_keras2(tf)
    tf.keras.utils.set_random_seed(seed)
    if verbose:
        vs = versions()
        vs["keras (tf.keras)"] = keras_version(tf)
        print("  ".join(f"{k} {v}" for k, v in vs.items()))
        print(f"Seed {seed}; running on {'Colab' if in_colab() else platform.node() or 'this machine'}.")
    return tf


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def colab_requirements(tf_version: str) -> list[str]:
    """What Colab lacks for this course, matched to the TensorFlow that Colab already has.

    Colab ships TensorFlow (with a GPU build) and most of the scientific stack; installing our
    pinned ``tensorflow-cpu`` there would replace it.  So only ``tf-keras`` of the same
    minor version, TensorFlow Recommenders and faiss (notebook 10's nearest-neighbour index) are
    added.
    """
    major, minor = tf_version.split(".")[:2]
    return [f"tf-keras=={major}.{minor}.*", "tensorflow-recommenders==0.7.7", "faiss-cpu==1.15.*"]


def install_colab_requirements() -> list[str]:
    """On Colab, pip-install :func:`colab_requirements`; elsewhere do nothing.  Returns the list."""
    if not in_colab():
        return []
    reqs = colab_requirements(importlib.metadata.version("tensorflow"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *reqs], check=True)
    return reqs
