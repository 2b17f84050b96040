"""Run the whole course: every numbered notebook in order, at its default settings.

``python -m recutils.course`` (what ``make course`` calls) executes ``notebooks/NN_*.ipynb``
with papermill, writes the executed copies to ``reports/executed/`` and each notebook's wall
time to ``reports/course_run.json``; the notebooks themselves append their metrics to
``reports/results.jsonl``.  A failing notebook stops the run, naming the notebook and cell.
``--only 00 03`` runs a subset.

The course's repository address is set once, in :data:`REPOSITORY`; ``--stamp`` writes it into
every notebook (the "Open in Colab" badge under the title, and the address the Colab branch of
the setup cell installs ``recutils`` from) and writes the course map
(:mod:`recutils.course_map`) into the README and ``notebooks/index.ipynb``; tests check that
they agree.
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from recutils.paths import project_root, reports_dir

REPOSITORY = "recsys-tf-course/recsys-tf-course"
"""The course's GitHub repository (owner/name): the one place its address is set."""
BRANCH = "main"

_BADGE = re.compile(r"^\[!\[Open In Colab\]\(.*$", re.MULTILINE)
_INSTALL = re.compile(r"git\+https://github\.com/[^\"' ]+")


def colab_url(notebook: str) -> str:
    """The address that opens ``notebooks/<notebook>`` of the repository in Google Colab."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """The Markdown "Open in Colab" badge for a notebook."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


def stamp_links(path: Path) -> bool:
    """Write :data:`REPOSITORY` into a notebook: the Colab badge on the line after the title of
    its first cell, and the install address of its setup cell.  Returns whether it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    before = [c.source for c in nb.cells]
    title = nb.cells[0]
    heading, _, rest = _BADGE.sub("", title.source).strip("\n").partition("\n")
    title.source = "\n\n".join(part for part in (heading, colab_badge(path.name), rest.strip("\n")) if part)
    for cell in nb.cells:
        if cell.cell_type == "code" and _INSTALL.search(cell.source):
            cell.source = _INSTALL.sub(f"git+https://github.com/{REPOSITORY}", cell.source)
    changed = before != [c.source for c in nb.cells]
    if changed:
        nbformat.write(nb, path)
    return changed


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
    parser.add_argument("--stamp", action="store_true",
                        help="write the repository address into the notebooks and the course map "
                             "into the README and index instead of running them")
    args = parser.parse_args(argv)
    notebooks = course_notebooks()
    if args.stamp:
        from recutils.course_map import stamp_course_map

        changed = [nb.name for nb in notebooks if stamp_links(nb)] + stamp_course_map()
        print(f"Repository {REPOSITORY} and the course map written; changed: "
              f"{', '.join(changed) or 'nothing'}.")
        return 0
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
