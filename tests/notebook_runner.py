"""Execute a course notebook once per test session, into a temporary reports folder.

Tests import :func:`execute` and read the metrics that the notebook recorded, so a metric
check asserts what the notebook itself computed and wrote.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from recutils.course import course_notebooks, run_notebook
from recutils.reporting import load_results

_RUNS: dict[tuple, NotebookRun] = {}


@dataclass
class NotebookRun:
    """An executed notebook: where its copy is, what it recorded, how long it took."""

    executed: Path
    reports: Path
    results: pd.DataFrame
    seconds: float


def notebook_path(name: str) -> Path:
    """The notebook whose stem starts with ``name`` (e.g. ``"00"``)."""
    matches = [p for p in course_notebooks() if p.stem.startswith(name)]
    if len(matches) != 1:
        raise LookupError(f"{len(matches)} notebooks match {name!r}.")
    return matches[0]


def execute(name: str, parameters: Mapping | None = None) -> NotebookRun:
    """Run notebook ``name`` with ``parameters`` (cached per session) and load its results."""
    key = (name, tuple(sorted((parameters or {}).items())))
    if key not in _RUNS:
        path = notebook_path(name)
        reports = Path(tempfile.mkdtemp(prefix=f"reports-{path.stem}-"))
        previous = os.environ.get("RECUTILS_REPORTS_DIR")
        os.environ["RECUTILS_REPORTS_DIR"] = str(reports)  # the kernel inherits it
        try:
            seconds = run_notebook(path, reports / "executed", parameters)
        finally:
            if previous is None:
                os.environ.pop("RECUTILS_REPORTS_DIR", None)
            else:
                os.environ["RECUTILS_REPORTS_DIR"] = previous
        results_file = reports / "results.jsonl"
        results = load_results(results_file) if results_file.exists() else pd.DataFrame()
        _RUNS[key] = NotebookRun(reports / "executed" / path.name, reports, results, seconds)
    return _RUNS[key]
