"""Execute course notebooks once per test session, into one temporary reports folder.

Tests import :func:`execute` and read the metrics that the notebook recorded, so a metric
check asserts what the notebook itself computed and wrote.  All notebooks of a session write
to the same results file, as in a course run, so notebook 09 can be tested on the real
results of the notebooks run before it.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from recutils.course.runner import course_notebooks, run_notebook
from recutils.reporting import load_results

SEEDS = frozenset({42, 43, 44})
"""The seeds every model notebook fits its final models with (its ``seeds`` parameter)."""

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


@cache
def session_reports() -> Path:
    """The reports folder that every notebook of this test session writes to."""
    return Path(tempfile.mkdtemp(prefix="recutils-test-reports-"))


def session_results() -> pd.DataFrame:
    """Every record written so far in this session (empty if none)."""
    path = session_reports() / "results.jsonl"
    return load_results(path) if path.exists() else pd.DataFrame()


def execute(name: str, parameters: Mapping | None = None) -> NotebookRun:
    """Run notebook ``name`` with ``parameters`` (cached per session); its records, only."""
    key = (name, tuple(sorted((parameters or {}).items())))
    if key not in _RUNS:
        path = notebook_path(name)
        reports = session_reports()
        out = reports / "executed" / ("-".join(f"{k}={v}" for k, v in key[1]) or "defaults")
        previous = os.environ.get("RECUTILS_REPORTS_DIR")
        os.environ["RECUTILS_REPORTS_DIR"] = str(reports)  # the kernel inherits it
        try:
            seconds = run_notebook(path, out, parameters)
        finally:
            if previous is None:
                os.environ.pop("RECUTILS_REPORTS_DIR", None)
            else:
                os.environ["RECUTILS_REPORTS_DIR"] = previous
        results = session_results()
        if not results.empty:
            results = results[results["notebook"] == path.stem].reset_index(drop=True)
        _RUNS[key] = NotebookRun(out / path.name, reports, results, seconds)
    return _RUNS[key]


def cell_texts(executed: Path) -> dict[str, str]:
    """Each code cell's text output (streams, plain text and Markdown) in an executed notebook, by cell id."""
    nb = nbformat.read(executed, as_version=4)
    return {c.id: "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                          + o.get("data", {}).get("text/markdown", "") for o in c.outputs)
            for c in nb.cells if c.cell_type == "code"}


def figure_count(executed: Path) -> int:
    """How many figures (PNG outputs) an executed notebook shows."""
    nb = nbformat.read(executed, as_version=4)
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def solutions_ran(executed: Path) -> int:
    """The number of exercise solutions (cells tagged ``solution``); each must have run
    without an error (AssertionError otherwise)."""
    nb = nbformat.read(executed, as_version=4)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    for cell in solutions:
        assert cell.outputs, f"solution cell {cell.id} has no output"
        assert not any(o.output_type == "error" for o in cell.outputs), f"solution cell {cell.id} failed"
    return len(solutions)


def answers_in_words(executed: Path) -> int:
    """The number of exercise solutions whose output ends with the answer in words, a printed line
    starting ``Answer: `` (AssertionError naming the first solution that does not)."""
    nb = nbformat.read(executed, as_version=4)
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    for cell in solutions:
        last = cell.outputs[-1] if cell.outputs else {}
        ends = last.get("output_type") == "stream" and last.get("text", "").strip().splitlines()[-1:]
        assert ends and ends[0].startswith("Answer: "), f"{cell.id} does not end with its answer in words"
    return len(solutions)


def figures(run: NotebookRun, model: str, split: str, metric: str,
            seeds: frozenset[int] | set[int] = SEEDS) -> np.ndarray:
    """One value per seed of a metric that ``model`` recorded on ``split``'s test part; the
    recorded seeds must be ``seeds``."""
    rows = run.results.query("model == @model and split == @split and part == 'test'")
    assert set(rows["seed"]) == set(seeds), f"{model} on {split}: seeds {sorted(rows['seed'])}"
    return rows[metric].to_numpy(dtype=float)


def assert_near(values: np.ndarray, mean: float, std: float, floor: float) -> None:
    """Every seed within mean ± max(4 std, floor) of the figure observed when the test was written."""
    band = max(4 * std, floor)
    assert np.all(np.abs(values - mean) <= band), f"{values} outside {mean} ± {band:.4f}"


def verdict(text: str, line: str) -> str:
    """The verdict (after the last "): ") of the printed comparison line that starts with ``line``."""
    found = re.search(re.escape(line) + r".*\): (.+)$", text, re.MULTILINE)
    assert found, f"{line!r} not in:\n{text}"
    return found.group(1)


def design_record(run: NotebookRun, design: str, variant: str) -> pd.Series:
    """The one record (seed 42, canonical test) of an original design's ``variant``."""
    rows = run.results.query("model == @design + ' (' + @variant + ')' and part == 'test'")
    assert len(rows) == 1 and rows["seed"].iloc[0] == 42 and rows["split"].iloc[0] == "canonical", rows
    return rows.iloc[0]
