"""Keras 2 must be what tf.keras is in the course environment; the Colab branch installs the right things."""

import importlib.metadata
import os
import re
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
                                                         "faiss-cpu==1.15.*", "keras-rs==0.4.0"]


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


# TensorFlow's C++ log lines (absl's format: severity, date, time, thread, file:line]) and the
# start-up notes that come before absl is set up.
NATIVE_LOG = re.compile(
    r"^[IWEF]\d{4} [\d:.]+\s+\d+ [\w/.-]+\.(cc|h):\d+\]|absl::InitializeLog|oneDNN|cuInit", re.MULTILINE)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, **extra}


def test_plain_tensorflow_start_up_is_noisy_here():
    """What setup hides exists on this machine: without it, the lines reach standard error."""
    code = "import tensorflow as tf; tf.config.list_physical_devices()"
    proc = subprocess.run([sys.executable, "-c", code],
                          capture_output=True, text=True, env=_env(TF_CPP_MIN_LOG_LEVEL="2"), timeout=300)
    assert NATIVE_LOG.search(proc.stderr), proc.stderr


def test_setup_keeps_tensorflows_start_up_notes_off_the_screen():
    code = ("from recutils.setup import setup, startup_notes\n"
            "tf = setup(verbose=True)\nprint(len(startup_notes), 'notes')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=_env(),
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not NATIVE_LOG.search(proc.stderr + proc.stdout), proc.stderr
    assert int(proc.stdout.split()[-2]) >= 1  # kept, not lost: the notebook can show them
    assert "TensorFlow runs on the CPU (no GPU found)" in proc.stdout


def test_an_unknown_start_up_line_still_reaches_standard_error(tmp_path):
    fake = tmp_path / "tensorflow"
    fake.mkdir()
    (fake / "__init__.py").write_text(
        "import os, types\n"
        "os.write(2, b'I0000 00:00:1.1  7 port.cc:153] oneDNN custom operations are on.\\n')\n"
        "os.write(2, b'E0000 00:00:1.2  7 new.cc:1] something new went wrong\\n')\n"
        "config = types.SimpleNamespace(list_physical_devices=lambda kind=None: [])\n")
    code = ("from recutils.setup import import_tensorflow_quietly, startup_notes\n"
            "tf, gpus = import_tensorflow_quietly()\nprint(len(startup_notes), gpus)")
    path = os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(PYTHONPATH=path), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "something new went wrong" in proc.stderr and "oneDNN" not in proc.stderr
    assert proc.stdout.split() == ["1", "[]"]


def test_one_tensorflow_distribution_is_installed():
    """tensorflow and tensorflow-cpu install into the same folder: with both, which file wins is
    undefined.  The course depends on `tensorflow` alone."""
    providers = importlib.metadata.packages_distributions().get("tensorflow", [])
    assert sorted(set(providers)) == ["tensorflow"], f"the tensorflow package comes from {providers}"
