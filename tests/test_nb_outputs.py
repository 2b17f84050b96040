"""Every notebook's executed outputs are free of TensorFlow's C++ log lines and of Keras's epoch logs.

The notebooks ran already in this session (the tests of each notebook, cached), so this costs
nothing more in a full run; run alone, it executes them.
"""

import re

import nbformat
import pytest
from notebook_runner import execute
from test_setup import NATIVE_LOG

from recutils.course.runner import course_notebooks

pytestmark = pytest.mark.notebook


@pytest.mark.parametrize("notebook", [p.stem for p in course_notebooks()])
def test_no_tensorflow_cpp_log_lines_in_the_outputs(notebook):
    cells = nbformat.read(execute(notebook[:2]).executed, as_version=4).cells
    noisy = {}
    for cell in cells:
        for output in cell.get("outputs", []):
            text = output.get("text", "") + "".join(output.get("traceback", []))
            if NATIVE_LOG.search(text):
                noisy[cell.get("id")] = NATIVE_LOG.search(text).group(0)
    assert noisy == {}, f"{notebook}: TensorFlow's C++ log lines in cells {noisy}"


KERAS_PROGRESS = re.compile(r"^Epoch \d+/\d+$|^\s*\d+/\d+ - \d+m?s - |\d+m?s/step$", re.MULTILINE)
"""Keras's own progress: ``verbose=2`` prints two such lines per epoch, ``verbose=1`` a bar per step."""


@pytest.mark.parametrize("notebook", [p.stem for p in course_notebooks()])
def test_no_keras_progress_lines_in_the_outputs(notebook):
    """Training curves belong in figures and tuning results in tables, not in epoch logs."""
    cells = nbformat.read(execute(notebook[:2]).executed, as_version=4).cells
    noisy = {cell.get("id"): len(KERAS_PROGRESS.findall(output.get("text", "")))
             for cell in cells for output in cell.get("outputs", [])
             if KERAS_PROGRESS.search(output.get("text", ""))}
    assert noisy == {}, f"{notebook}: Keras progress lines in cells {noisy}"
