"""The instructors' command, ``pytest --nbmake notebooks/``, executes a course notebook.

The notebook tests run every notebook through papermill (to read its recorded metrics); this
checks once, on notebook 00, that the nbmake route works too (plugin, kernel, working folder).
"""

import os
import subprocess
import sys

import pytest
from notebook_runner import notebook_path

pytestmark = pytest.mark.notebook


def test_pytest_nbmake_runs_notebook_00(tmp_path):
    env = {**os.environ, "RECUTILS_REPORTS_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbmake", "-p", "no:cacheprovider", "-q",
         str(notebook_path("00"))],
        capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 passed" in proc.stdout
    assert (tmp_path / "results.jsonl").exists()  # the notebook really ran and recorded
