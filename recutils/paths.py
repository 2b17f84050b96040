"""Where the course keeps its data cache and its reports.

Both default to folders of the course checkout (``data/`` and ``reports/``), found from this
package's location when it is installed in editable mode (``pip install -e .``), and otherwise
under the current working directory (as on Colab).  The environment variables
``RECUTILS_DATA_DIR`` and ``RECUTILS_REPORTS_DIR`` override them; the tests use that to write
into temporary folders.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def atomic_folder(path: str | os.PathLike) -> Iterator[Path]:
    """Fill a new folder that replaces ``path`` only once it is complete.

    Yields an empty temporary folder beside ``path`` (the same file system, so the final rename is
    atomic).  When the block ends without an error, the folder is renamed to ``path``; an old
    ``path`` is moved aside first and deleted only once the new one is in place.  On an error the
    temporary folder is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}-{secrets.token_hex(8)}"
    tmp.mkdir()
    try:
        yield tmp
        if not path.exists():
            os.replace(tmp, path)
            return
        old = tmp.with_name(tmp.name + "-old")
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except OSError:
            os.replace(old, path)
            raise
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
