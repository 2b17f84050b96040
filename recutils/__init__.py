"""Helpers shared by the notebooks of the course *Recommender systems with TensorFlow*.

The course runs on Keras 2 (``tf_keras``), which TensorFlow Recommenders needs.  The switch
``TF_USE_LEGACY_KERAS=1`` only works if it is set before TensorFlow is imported, so importing
``recutils`` sets it (unless the user set it already).  No submodule imports TensorFlow at
import time: ``recutils`` loads in a fraction of a second and its tests run without it.
"""

import os

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

__version__ = "0.1.0"
