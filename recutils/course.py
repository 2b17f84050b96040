"""Run the whole course: every numbered notebook in order, at its default settings.

``python -m recutils.course`` (what ``make course`` calls) executes ``notebooks/NN_*.ipynb``
with papermill, writes the executed copies to ``reports/executed/`` and each notebook's wall
time to ``reports/course_run.json``; the notebooks themselves append their metrics to
``reports/results.jsonl``.  A failing notebook stops the run, naming the notebook and cell.
``--only 00 03`` runs a subset.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from recutils.paths import project_root, reports_dir


def course_notebooks(folder: Path | None = None) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``), in course order."""
    folder = folder or project_root() / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"No numbered notebooks in {folder}.")
    return found


def run_notebook(path: Path, out_dir: Path, parameters: Mapping | None = None) -> float:
    """Execute one notebook with papermill (working directory: its folder); return seconds.

    Raises:
        RuntimeError: a cell failed; the message names the notebook, cell and error.
    """
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    try:
        pm.execute_notebook(str(path), str(out_dir / path.name), parameters=dict(parameters or {}),
                            cwd=str(path.parent), kernel_name="python3", progress_bar=False)
    except pm.PapermillExecutionError as exc:
        raise RuntimeError(
            f"{path.name} failed in cell {exc.cell_index} (execution count {exc.exec_count}): "
            f"{exc.ename}: {exc.evalue}\nThe executed copy with the traceback is "
            f"{out_dir / path.name}."
        ) from exc
    return time.perf_counter() - start


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the course (or ``--only`` some notebooks); 1 if a notebook fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None,
                        help="notebook numbers or names to run (default: all)")
    args = parser.parse_args(argv)
    notebooks = course_notebooks()
    if args.only:
        notebooks = [nb for nb in notebooks if any(nb.stem.startswith(o) for o in args.only)]
    out_dir = reports_dir() / "executed"
    timings = {}
    for nb in notebooks:
        print(f"Running {nb.name} ...", flush=True)
        try:
            timings[nb.stem] = round(run_notebook(nb, out_dir), 1)
        except RuntimeError as exc:
            print(f"\nCourse run stopped: {exc}", file=sys.stderr)
            return 1
        print(f"  done in {timings[nb.stem]:.0f} s", flush=True)
    summary = {"machine": f"{platform.node()} ({platform.processor() or platform.machine()})",
               "python": platform.python_version(), "seconds": timings}
    (reports_dir() / "course_run.json").write_text(json.dumps(summary, indent=2))
    print(f"All {len(timings)} notebooks ran in {sum(timings.values()):.0f} s; executed copies in "
          f"{out_dir}, metrics in {reports_dir() / 'results.jsonl'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
