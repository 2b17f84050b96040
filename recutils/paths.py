"""Where the course keeps its data cache and its reports.

Both default to folders of the course checkout (``data/`` and ``reports/``), found from this
package's location when it is installed in editable mode (``pip install -e .``), and otherwise
under the current working directory (as on Colab).  The environment variables
``RECUTILS_DATA_DIR`` and ``RECUTILS_REPORTS_DIR`` override them; the tests use that to write
into temporary folders.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def project_root() -> Path:
    """The course checkout that holds this package, or the working directory if there is none."""
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file() and (here / "notebooks").is_dir():
        return here
    return Path.cwd()


def data_dir() -> Path:
    """The folder where datasets are cached (``$RECUTILS_DATA_DIR`` or ``<course>/data``)."""
    return Path(os.environ.get("RECUTILS_DATA_DIR") or project_root() / "data")


def reports_dir() -> Path:
    """The folder where results, TensorBoard logs and executed notebooks go
    (``$RECUTILS_REPORTS_DIR`` or ``<course>/reports``)."""
    return Path(os.environ.get("RECUTILS_REPORTS_DIR") or project_root() / "reports")


def tensorboard_dir(notebook: str, run: str) -> Path:
    """``<reports>/tensorboard/<notebook>/<run>``: where a notebook's TensorBoard logs go, so
    ``tensorboard --logdir reports/tensorboard`` shows every run of the course in one view.

    The run starts afresh: logs that an earlier execution wrote under the same name are
    removed, so a re-run notebook shows each run once (not two curves drawn over each other).
    """
    path = reports_dir() / "tensorboard" / notebook / run
    shutil.rmtree(path, ignore_errors=True)
    return path
