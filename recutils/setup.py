"""The first cell of every notebook calls :func:`setup`: Keras 2 checked, seeds set, versions shown.

TensorFlow Recommenders needs Keras 2.  TensorFlow 2.16+ ships Keras 3 as ``tf.keras`` unless
``TF_USE_LEGACY_KERAS=1`` is set *before TensorFlow is first imported*, in which case
``tf.keras`` is the ``tf_keras`` package (Keras 2).  Importing :mod:`recutils` sets the variable;
:func:`setup` then verifies that it took effect and stops with the fix if it did not.

TensorFlow 2.21's C++ core writes start-up notes straight to the process's standard error, below
Python, before its own log level (``TF_CPP_MIN_LOG_LEVEL``) applies: that oneDNN is on, that
no CUDA driver or GPU was found, which CPU instructions it was not built for.  In a notebook they
land, in red, under the first TensorFlow cell.  :func:`setup` imports TensorFlow and probes its
devices with that stream redirected to a temporary file, keeps the notes it recognises (all
harmless; :data:`STARTUP_NOTES` says what each means) in :data:`startup_notes`, and writes every
other line back to standard error, so nothing unexpected is hidden.

After start-up, TensorFlow's C++ log obeys ``TF_CPP_MIN_LOG_LEVEL``, which :func:`setup` sets to 3
unless it is set already.  Level 2 would still show, during training of the sequence models,
"oneDNN supports DT_BOOL only on platforms with AVX-512. Falling back to the default Eigen-based
implementation": a note that a few boolean operations (the padding masks) run on TensorFlow's
own kernels, logged at error level though nothing fails.  A real failure raises a Python
exception whatever the level; set the variable to 0 before the setup cell to see every message.
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
import tempfile

PACKAGES = ("tensorflow", "tf-keras", "tensorflow-recommenders", "tensorflow-datasets", "numpy",
            "pandas", "scipy", "matplotlib")

STARTUP_NOTES: dict[str, str] = {
    "absl::InitializeLog()": "TensorFlow's C++ logging writes to standard error until it is set up",
    "oneDNN custom operations are on": ("Intel's oneDNN kernels are used on the CPU; sums may round "
                                        "differently in the last digits (TF_ENABLE_ONEDNN_OPTS=0: off)"),
    "Could not find cuda drivers": "no NVIDIA driver on this machine: TensorFlow runs on the CPU",
    "failed call to cuInit": "CUDA libraries are installed but no GPU answered: TensorFlow runs on the CPU",
    "cpu_feature_guard.cc": "this CPU has instructions the TensorFlow wheel was not compiled for",
    "To enable the following instructions": "(the list of those instructions)",
}
"""The start-up lines of TensorFlow's C++ core that :func:`setup` keeps off the screen (a piece of
each), with what they mean.  None of them is an error."""

startup_notes: list[str] = []
"""The start-up lines :func:`setup` kept off the screen in this process, as TensorFlow wrote them."""


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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # TensorFlow's C++ log below fatal: see the docstring
    tf, gpus = import_tensorflow_quietly()
    check_keras2(tf)
    tf.keras.utils.set_random_seed(seed)
    if verbose:
        vs = versions()
        vs["keras (tf.keras)"] = keras_version(tf)
        print("  ".join(f"{k} {v}" for k, v in vs.items()))
        names = ", ".join(g.name for g in gpus)
        device = f"{len(gpus)} GPU(s): {names}" if gpus else "the CPU (no GPU found)"
        where = "Colab" if in_colab() else platform.node() or "this machine"
        print(f"Seed {seed}; TensorFlow runs on {device}; machine: {where}.")
    return tf


def import_tensorflow_quietly():
    """Import TensorFlow and list its GPUs with the process's standard error sent to a file.

    Returns ``(tf, gpus)``.  The lines TensorFlow wrote that match :data:`STARTUP_NOTES` are
    appended to :data:`startup_notes`; any other line is written back to standard error.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")  # the CUDA probe logs here, not at import
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            for line in capture.read().decode("utf-8", errors="replace").splitlines():
                if any(note in line for note in STARTUP_NOTES):
                    startup_notes.append(line)
                elif line.strip():
                    print(line, file=sys.stderr)
    return tf, gpus


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def colab_requirements(tf_version: str) -> list[str]:
    """What Colab lacks for this course, matched to the TensorFlow that Colab already has.

    Colab ships TensorFlow (with a GPU build) and most of the scientific stack; installing our
    pinned ``tensorflow-cpu`` there would replace it.  So only ``tf-keras`` of the same
    minor version, TensorFlow Recommenders, faiss (notebook 10's nearest-neighbour index) and
    keras-rs (on the Keras 3 that Colab's TensorFlow brings) are added.
    """
    major, minor = tf_version.split(".")[:2]
    return [f"tf-keras=={major}.{minor}.*", "tensorflow-recommenders==0.7.7", "faiss-cpu==1.15.*",
            "keras-rs==0.4.0"]


def install_colab_requirements() -> list[str]:
    """On Colab, pip-install :func:`colab_requirements`; elsewhere do nothing.  Returns the list."""
    if not in_colab():
        return []
    reqs = colab_requirements(importlib.metadata.version("tensorflow"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", *reqs], check=True)
    return reqs
