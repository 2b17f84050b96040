"""``python -m recutils.course``: run the course, or ``--stamp`` the links and the course map."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from recutils.course.runner import course_notebooks, run_course, select, summary_table, write_run_record


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the course (or ``--only`` some notebooks); 1 if a notebook fails."""
    parser = argparse.ArgumentParser(prog="python -m recutils.course",
                                     description="Run the course's notebooks at their default settings.")
    parser.add_argument("--only", nargs="*", default=None,
                        help="notebook numbers or names to run (default: all)")
    parser.add_argument("--stamp", action="store_true",
                        help="write the repository address into the notebooks and the course map "
                             "into the README and index instead of running them")
    args = parser.parse_args(argv)
    notebooks = course_notebooks()
    if args.stamp:
        from recutils.course.links import REPOSITORY, stamp_links
        from recutils.course.map import stamp_course_map

        changed = [nb.name for nb in notebooks if stamp_links(nb)] + stamp_course_map()
        print(f"Repository {REPOSITORY} and the course map written; changed: "
              f"{', '.join(changed) or 'nothing'}.")
        return 0
    try:
        notebooks = select(notebooks, args.only)
    except ValueError as exc:
        parser.error(str(exc))
    from rich.console import Console

    from recutils.paths import reports_dir

    runs = run_course(notebooks)
    record = write_run_record(runs)
    console = Console(highlight=False)
    console.print(summary_table(runs))
    if runs and runs[-1].status == "failed":
        return 1
    console.print(f"Executed copies in {reports_dir() / 'executed'}, metrics in "
                  f"{reports_dir() / 'results.jsonl'}, kernel logs in {reports_dir() / 'logs'}, "
                  f"timings in {record}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
