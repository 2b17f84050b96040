"""Keras 2 must be what tf.keras is in the course environment; the Colab branch installs the right things."""

import os
import subprocess
import sys
import types

import pytest

from recutils import setup as course_setup


def _python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env}, timeout=300)


def test_importing_recutils_first_makes_tf_keras_keras_2():
    env = {k: v for k, v in os.environ.items() if k != "TF_USE_LEGACY_KERAS"}
    code = ("import recutils, tensorflow as tf\n"
            "from recutils.setup import keras_version\nprint(keras_version(tf))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    version = proc.stdout.strip().splitlines()[-1]
    assert version.startswith("2."), f"tf.keras is Keras {version}"


def test_tfrs_imports_in_the_course_environment():
    proc = _python("import recutils, tensorflow_recommenders as tfrs; print(tfrs.__version__)")
    assert proc.returncode == 0, proc.stderr


def test_check_keras2_stops_with_the_fix_when_keras_3_is_active():
    proc = _python("import tensorflow as tf\nfrom recutils.setup import check_keras2\ncheck_keras2(tf)",
                   TF_USE_LEGACY_KERAS="0")
    assert proc.returncode != 0
    assert "KerasVersionError" in proc.stderr and "TF_USE_LEGACY_KERAS" in proc.stderr


def test_setup_seeds_tensorflow_reproducibly():
    code = ("from recutils.setup import setup\n"
            "tf = setup(seed=7, verbose=False); a = tf.random.uniform([3]).numpy()\n"
            "tf = setup(seed=7, verbose=False); b = tf.random.uniform([3]).numpy()\n"
            "assert (a == b).all(), (a, b); print('ok')")
    proc = _python(code)
    assert proc.returncode == 0 and "ok" in proc.stdout, proc.stderr


def test_colab_requirements_match_colabs_tensorflow():
    assert course_setup.colab_requirements("2.19.0") == ["tf-keras==2.19.*", "tensorflow-recommenders==0.7.7",
                                                         "faiss-cpu==1.15.*"]


def test_colab_branch_installs_without_touching_tensorflow(monkeypatch):
    calls = []
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setattr(course_setup.subprocess, "run", lambda cmd, check: calls.append(cmd))
    installed = course_setup.install_colab_requirements()
    assert calls and calls[0][:4] == [sys.executable, "-m", "pip", "install"]
    assert installed[0].startswith("tf-keras==") and not any(r.startswith("tensorflow==") for r in calls[0])


def test_outside_colab_nothing_is_installed(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.setattr(course_setup.subprocess, "run", lambda *a, **k: pytest.fail("pip was called"))
    assert course_setup.install_colab_requirements() == []
