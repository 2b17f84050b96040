"""Run the course: every numbered notebook in order, at its default settings, reporting as it goes.

:func:`run_course` (``python -m recutils.course``, what ``make course`` calls) executes
``notebooks/NN_*.ipynb`` with papermill and writes the executed copies to ``reports/executed/``.
On the terminal each notebook gets papermill's progress bar (tqdm: cells done of total, elapsed,
and the time the last benchmark measured), then its headline result, read from the results file
the notebook appended to; the run ends with a summary table (rich) and writes each notebook's
wall time to ``reports/course_run.json``.  Whatever a notebook's kernel prints to its own
standard error and output (TensorFlow's C++ log lines, warnings from libraries) goes to
``reports/logs/NN_name.log``, not to the terminal.  A failing notebook stops the run; the
message names the notebook, the cell, the error and the last lines of that log.
"""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Unicode
from traitlets.config import Config

from recutils.paths import project_root, reports_dir

LOG_TAIL_LINES = 15
"""How many of the kernel log's last lines a failure shows."""


def course_notebooks(folder: Path | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``), in course order."""
    folder = folder or project_root() / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"No numbered notebooks in {folder}.")
    return found


def select(notebooks: Sequence[Path], only: Sequence[str] | None) -> list[Path]:
    """The notebooks whose stem starts with one of ``only`` (all of them if ``only`` is empty).

    Raises:
        ValueError: an entry of ``only`` matches no notebook (the message lists the notebooks).
    """
    if not only:
        return list(notebooks)
    unknown = [o for o in only if not any(nb.stem.startswith(o) for nb in notebooks)]
    if unknown:
        raise ValueError(f"No notebook starts with {unknown}; the notebooks are "
                         f"{', '.join(nb.stem for nb in notebooks)}.")
    return [nb for nb in notebooks if any(nb.stem.startswith(o) for o in only)]


class NotebookFailed(RuntimeError):
    """A cell of a notebook raised; the message names the notebook, the cell, the error and
    ends with the last lines of the kernel's log."""

    def __init__(self, notebook: str, cell: str, error: str, executed: Path, log: Path):
        self.notebook, self.cell, self.error, self.executed, self.log = notebook, cell, error, executed, log
        tail = log_tail(log)
        super().__init__(
            f"{notebook} failed in {cell}: {error}\nThe executed copy with the traceback is "
            f"{executed}; the kernel's log is {log}"
            + (f", which ends:\n{tail}" if tail else " (empty)."))


def log_tail(log: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of a log, indented (empty if there is no log)."""
    if not log.exists():
        return ""
    return "\n".join(f"    {line}" for line in log.read_text(errors="replace").splitlines()[-lines:])


class LoggedKernelManager(AsyncKernelManager):
    """A Jupyter kernel manager whose kernel writes its standard output and error to a file.

    Cell outputs still reach the notebook (through Jupyter's messages); what the kernel process
    writes to its own streams, which would otherwise land on the terminal, goes to ``log_path``.
    papermill's client creates, owns and shuts down the manager (``kernel_manager_class``); the
    path comes through its traitlets config.
    """

    log_path = Unicode("", config=True, help="The file the kernel's standard output and error go to.")

    async def start_kernel(self, **kw):
        if self.log_path:
            Path(self.log_path).parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "w") as stream:  # the kernel keeps its own copy of the handle
                kw.setdefault("stdout", stream)
                kw.setdefault("stderr", stream)
                return await super().start_kernel(**kw)
        return await super().start_kernel(**kw)


def log_path(notebook: Path) -> Path:
    """Where a notebook's kernel log goes: ``<reports>/logs/NN_name.log``."""
    return reports_dir() / "logs" / f"{notebook.stem}.log"


def run_notebook(path: Path, out_dir: Path, parameters: Mapping | None = None,
                 log: Path | None = None, progress: Mapping | None = None) -> float:
    """Execute one notebook with papermill (working directory: its folder); return seconds.

    Args:
        path: the notebook.
        out_dir: where the executed copy goes (same file name).
        parameters: papermill parameters (they override the cell tagged ``parameters``).
        log: the kernel's log file; defaults to :func:`log_path`.
        progress: keyword arguments for papermill's tqdm progress bar; ``None`` shows none.

    Raises:
        NotebookFailed: a cell failed; the message names the notebook, cell and error.
    """
    import nbformat
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    executed = out_dir / path.name
    log = log or log_path(path)
    start = time.perf_counter()
    try:
        pm.execute_notebook(str(path), str(executed), parameters=dict(parameters or {}),
                            cwd=str(path.parent), kernel_name="python3",
                            progress_bar=dict(progress) if progress is not None else False,
                            kernel_manager_class=LoggedKernelManager,
                            config=Config({"LoggedKernelManager": {"log_path": str(log)}}))
    except pm.PapermillExecutionError as exc:
        from papermill.execute import ERROR_MARKER_TAG

        cells = [c for c in nbformat.read(executed, as_version=4).cells  # less papermill's error banner
                 if ERROR_MARKER_TAG not in c.metadata.get("tags", [])]
        cell_id = cells[exc.cell_index].get("id", "?") if exc.cell_index < len(cells) else "?"
        raise NotebookFailed(path.name, f"cell {exc.cell_index} (id {cell_id!r}, execution count "
                             f"{exc.exec_count})", f"{exc.ename}: {exc.evalue}", executed, log) from exc
    return time.perf_counter() - start


def expected_seconds() -> dict[str, float]:
    """Each notebook's wall seconds in the last committed benchmark (``docs/benchmark.json``)."""
    from recutils.course.map import benchmark_record

    return {row["notebook"]: row["wall_seconds"] for row in benchmark_record().get("cost", [])}


def headline(notebook: str, since: str | None = None, results: Path | None = None, k: int = 10) -> str:
    """A notebook's headline result from the results file: its best model by mean NDCG@k over
    seeds on the canonical split's ``test`` part, else its lowest test RMSE (the rebuilt
    original designs left out: they are not the notebook's models).

    Args:
        notebook: the notebook's stem.
        since: only records written at or after this ISO 8601 time (this run's).
        results: the results file; defaults to :func:`recutils.reporting.results_path`.
    """
    from recutils.original_designs import without_designs
    from recutils.reporting import load_results

    try:
        rows = load_results(results)
    except FileNotFoundError:
        return "no results recorded"
    if rows.empty:
        return "no results recorded"
    rows = without_designs(rows)
    rows = rows[(rows["notebook"] == notebook) & (rows["part"] == "test")]
    if since is not None:
        rows = rows[rows["time"] >= since]
    ndcg = f"ndcg@{k}"
    ranked = rows[rows["split"] == "canonical"].dropna(subset=[ndcg]) if ndcg in rows else rows.iloc[:0]
    if not ranked.empty:
        best = ranked.groupby("model")[ndcg].agg(["mean", "size"]).sort_values("mean").iloc[-1]
        seeds = f" (mean of {int(best['size'])} seeds)" if best["size"] > 1 else ""
        return f"{best.name}: NDCG@{k} {best['mean']:.4f}{seeds}"
    rated = rows.dropna(subset=["rmse"]) if "rmse" in rows else rows.iloc[:0]
    if not rated.empty:
        means = rated.groupby(["model", "split"])["rmse"].mean().sort_values()
        (model, split), rmse = means.index[0], means.iloc[0]
        return f"{model}: RMSE {rmse:.4f} ({split} split)"
    return "no results recorded"


@dataclass
class NotebookRun:
    """One notebook of a course run: how long it took, whether it passed, what it scored."""

    notebook: str
    seconds: float
    status: str
    headline: str


def _progress(notebook: Path, position: int, total: int, expected: float | None) -> dict:
    minutes, seconds = divmod(round(expected), 60) if expected else (None, None)
    expect = f"expected {minutes}:{seconds:02d}" if expected else "not benchmarked"
    return {"desc": f"[{position}/{total}] {notebook.stem}", "unit": "cell", "leave": True,
            "bar_format": "{desc}: {bar:20} {n_fmt}/{total_fmt} cells [{elapsed}, " + expect + "]"}


def run_course(notebooks: Sequence[Path], out_dir: Path | None = None) -> list[NotebookRun]:
    """Run ``notebooks`` in order, each with a progress bar and its headline; stop at the first
    failure.  Returns what ran (the failed notebook last, with status ``"failed"``)."""
    from rich.console import Console

    console = Console(highlight=False)
    out_dir = out_dir or reports_dir() / "executed"
    expected = expected_seconds()
    runs = []
    for i, nb in enumerate(notebooks, 1):
        since = datetime.now(UTC).isoformat(timespec="seconds")
        start = time.perf_counter()
        try:
            bar = _progress(nb, i, len(notebooks), expected.get(nb.stem))
            seconds = run_notebook(nb, out_dir, progress=bar)
        except NotebookFailed as exc:
            runs.append(NotebookRun(nb.stem, time.perf_counter() - start, "failed", exc.error))
            console.print(f"[bold red]Course run stopped.[/] {exc}", markup=True, soft_wrap=True)
            break
        runs.append(NotebookRun(nb.stem, seconds, "ok", headline(nb.stem, since)))
        console.print(f"  {nb.stem} done in {seconds:.0f} s: {runs[-1].headline}", soft_wrap=True)
    return runs


def summary_table(runs: Sequence[NotebookRun]):
    """The course run as a rich table: notebook, seconds, status, headline, and the total."""
    from rich.table import Table

    table = Table(title="Course run", title_justify="left")
    for column, justify in (("notebook", "left"), ("seconds", "right"), ("status", "left"),
                            ("headline", "left")):
        table.add_column(column, justify=justify)
    for run in runs:
        table.add_row(run.notebook, f"{run.seconds:.0f}",
                      "[green]ok[/]" if run.status == "ok" else "[bold red]failed[/]", run.headline)
    table.add_section()
    table.add_row(f"{len(runs)} notebooks", f"{sum(r.seconds for r in runs):.0f}", "", "")
    return table


def write_run_record(runs: Sequence[NotebookRun], path: Path | None = None) -> Path:
    """Write each notebook's wall seconds (and the machine) to ``reports/course_run.json``."""
    path = path or reports_dir() / "course_run.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    summary = {"machine": f"{platform.node()} ({platform.processor() or platform.machine()})",
               "python": platform.python_version(),
               "seconds": {r.notebook: round(r.seconds, 1) for r in runs},
               "status": {r.notebook: r.status for r in runs}}
    path.write_text(json.dumps(summary, indent=2) + "\n")
    return path
