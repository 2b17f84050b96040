"""Measure what every notebook costs at its default settings, and write the README's tables.

``python -m recutils.course.benchmark`` (``make benchmark``) runs the notebooks in course order, each
in a process of its own, and measures its wall time and peak memory (resident set of the
notebook's kernel and runner).  A notebook over :data:`NOTEBOOK_BUDGET_SECONDS` is run a second
time and the faster run kept (:func:`faster_run`), both times shown: on a shared machine other
load only ever adds time, so the faster run is the better estimate of what the notebook costs
(the reasoning of ``timeit``); a notebook that is truly too slow stays over in both runs.
From the logs the notebooks write it then reads each training run's seconds per epoch and, for
runs that log a validation NDCG@10 per epoch, the training time until the model first matches
the popularity baseline on ``valid`` and until it reaches its final figure.  The tables go to
``reports/benchmark.md`` and the record to ``reports/benchmark.json``; with ``--update-readme``
the tables also go between the ``benchmark`` markers of ``README.md`` and the record to
``docs/benchmark.json`` (committed), from which the course map takes its run times, and the
run's table of the original designs (:func:`recutils.original_designs.designs_table`) goes
between the ``designs`` markers.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from recutils.course.runner import course_notebooks
from recutils.paths import project_root, reports_dir

START, END = "<!-- benchmark:start -->", "<!-- benchmark:end -->"
DESIGNS_START, DESIGNS_END = "<!-- designs:start -->", "<!-- designs:end -->"
BASELINES_START, BASELINES_END = "<!-- baselines:start -->", "<!-- baselines:end -->"
BASELINE_LABELS = {"Popularity": "Popularity",
                   "ItemKNN": "Item-kNN (cosine, {neighbours:g} neighbours, shrink {shrink:g})",
                   "EASE": "EASE ($\\lambda$ = {l2:g})", "GlobalMean": "global mean",
                   "UserItemBias": "user + item bias ($\\mu + b_u + b_i$)"}
"""How the README names notebook 00's baselines (filled in with the parameters chosen on ``valid``)."""
NOTEBOOK_BUDGET_SECONDS = 180.0
"""Most wall-clock seconds one notebook may take at its defaults on 2 cores (start-up included)."""
MEAN_BUDGET_SECONDS = 126.0
"""Most seconds a notebook may take on average over the course (2.1 minutes)."""
_FAILED = "NOTEBOOK FAILED: "
_CHILD = ("import sys; from pathlib import Path; from recutils.course.runner import run_notebook\n"
          "try:\n    run_notebook(Path(sys.argv[1]), Path(sys.argv[2]))\n"
          f"except RuntimeError as exc:\n    sys.exit({_FAILED!r} + str(exc))")


def measure_notebook(path: Path, out_dir: Path) -> dict:
    """Run one notebook in a child process; its wall seconds and peak memory (MiB).

    Raises:
        RuntimeError: the notebook failed (the message names it and the failing cell).
    """
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), str(out_dir)],
                            stderr=subprocess.PIPE, text=True)
    stderr = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        message = stderr.split(_FAILED)[-1].strip() if _FAILED in stderr else stderr.strip()[-2000:]
        raise RuntimeError(message or f"{path.name} failed")
    # ru_maxrss (KiB on Linux) covers the child and the kernel it started and waited for.
    return {"notebook": path.stem, "wall_seconds": round(seconds, 1),
            "peak_memory_mib": round(usage.ru_maxrss / 1024)}


def faster_run(first: dict, second: dict) -> dict:
    """The faster of two measurements of one notebook, with both wall times in ``"runs"``."""
    if first["notebook"] != second["notebook"]:
        raise ValueError(f"Two different notebooks: {first['notebook']} and {second['notebook']}.")
    faster = min(first, second, key=lambda run: run["wall_seconds"])
    return {**faster, "runs": f"{first['wall_seconds']:.0f} s, then {second['wall_seconds']:.0f} s"}


def machine() -> str:
    """A one-line description of this machine."""
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = float("nan")
    return (f"{platform.node()}: {os.cpu_count()} CPU cores ({platform.machine()}), "
            f"{memory:.0f} GiB RAM, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def popularity_valid_ndcg(k: int = 10) -> float:
    """The popularity baseline's NDCG@k on the canonical split's ``valid`` part (fitted on train)."""
    from recutils.baselines import Popularity
    from recutils.datasets import load_movielens
    from recutils.evaluation import evaluate
    from recutils.splits import canonical_split

    split = canonical_split(load_movielens("100k", verbose=False).ratings)
    return evaluate(Popularity().fit(split.matrix("train")).scores, split, "valid", k)[f"ndcg@{k}"]


def tables(runs: pd.DataFrame, logdir: Path, k: int = 10) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The cost table (one row per notebook) and the time-to-quality table (one row per run
    that logs a validation NDCG@k per epoch)."""
    from recutils.tensorboard_logs import epoch_seconds, read_scalars, time_to_reach

    scalars = read_scalars(logdir)
    speed = epoch_seconds(scalars).groupby("notebook").agg(
        training_runs=("run", "size"), median_seconds_per_epoch=("seconds_per_epoch", "median"))
    cost = runs.set_index("notebook").join(speed).reset_index()
    cost["median_seconds_per_epoch"] = cost["median_seconds_per_epoch"].round(2)
    cost["training_runs"] = cost["training_runs"].astype("Int64")
    threshold = popularity_valid_ndcg(k)
    quality = time_to_reach(scalars, f"epoch_ndcg@{k}", threshold).rename(columns={
        "seconds": "seconds_to_popularity", "final": f"final_valid_ndcg@{k}"})
    quality = quality.round({"seconds_to_popularity": 1, "seconds_to_final": 1, f"final_valid_ndcg@{k}": 4})
    quality.attrs["threshold"] = threshold
    return cost, quality


def markdown_table(frame: pd.DataFrame) -> str:
    """A frame as a GitHub Markdown table (missing values left blank)."""
    cells = frame.astype(object).where(frame.notna(), "")
    rows = [list(map(str, frame.columns)), ["---"] * frame.shape[1]] + cells.astype(str).to_numpy().tolist()
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def results_table(results: pd.DataFrame, k: int = 10) -> pd.DataFrame:
    """The run's ranking figures on the canonical test part: mean ± std over seeds, best first."""
    from recutils.original_designs import without_designs
    from recutils.reporting import leaderboard

    metrics = [f"ndcg@{k}", f"recall@{k}"]
    board = leaderboard(without_designs(results), metrics)
    board = board.sort_values(metrics[0], ascending=False).reset_index()
    table = board[["notebook", "model"]].copy()
    for metric in metrics:
        table[metric] = [f"{m:.4f} ± {s:.4f}" if n > 1 else f"{m:.4f}"
                         for m, s, n in zip(board[metric], board[f"{metric}_std"], board["seeds"])]
    table["seeds"] = board["seeds"]
    table["train_seconds"] = board["train_seconds"].round(1)
    return table


def over_budget(cost: pd.DataFrame) -> list[str]:
    """What breaks the time budget in a cost table (empty if nothing): a notebook over
    :data:`NOTEBOOK_BUDGET_SECONDS`, or a course over :data:`MEAN_BUDGET_SECONDS` per notebook."""
    problems = [f"{row.notebook} takes {row.wall_seconds:.0f} s (at most {NOTEBOOK_BUDGET_SECONDS:.0f})"
                for row in cost.itertuples() if row.wall_seconds > NOTEBOOK_BUDGET_SECONDS]
    limit = MEAN_BUDGET_SECONDS * len(cost)
    if cost["wall_seconds"].sum() > limit:
        problems.append(f"the course takes {cost['wall_seconds'].sum() / 60:.1f} minutes "
                        f"(at most {limit / 60:.1f} for {len(cost)} notebooks)")
    return problems


def budget_verdict(cost: pd.DataFrame) -> str:
    """One sentence: the budget, and whether the measured run keeps it."""
    budget = (f"Budget: {NOTEBOOK_BUDGET_SECONDS / 60:.0f} minutes a notebook, "
              f"{MEAN_BUDGET_SECONDS / 60:.1f} on average ({MEAN_BUDGET_SECONDS * len(cost) / 60:.1f} "
              f"for {len(cost)})")
    problems = over_budget(cost)
    return f"{budget}: " + ("kept." if not problems else "OVER: " + "; ".join(problems) + ".")


def render(cost: pd.DataFrame, quality: pd.DataFrame, results: pd.DataFrame | None = None,
           k: int = 10) -> str:
    """The tables as Markdown, with the machine and the date."""
    total = cost["wall_seconds"].sum()
    lines = [f"Measured by `python -m recutils.course.benchmark` on {time.strftime('%Y-%m-%d')}, "
             f"{machine()}. Whole course: {total / 60:.1f} minutes. {budget_verdict(cost)}", "",
             markdown_table(cost), ""]
    if results is not None and not results.empty:
        lines += [f"What the same run scored (canonical split, `test`, full ranking; NDCG@{k} and "
                  f"Recall@{k}, mean ± std over seeds for the models fitted with three seeds; "
                  "notebook 09 shows the rest):", "",
                  markdown_table(results_table(results, k)), ""]
    if not quality.empty:
        lines += [f"Training time until the validation NDCG@{k} first reaches popularity's "
                  f"({quality.attrs['threshold']:.4f}) and until it is within 1% of the run's "
                  "final figure (runs that score `valid` after every epoch):", "",
                  markdown_table(quality), ""]
    return "\n".join(lines)


def render_designs(results: pd.DataFrame) -> str:
    """The original designs as Markdown: the report's figure beside the measured ones."""
    from recutils.original_designs import designs_table

    table = designs_table(results).drop(columns="reported as")
    return (f"Measured by `python -m recutils.course.benchmark` on {time.strftime('%Y-%m-%d')} (mean ± std "
            "over seeds; `-`: the report gives no figure for that protocol):\n\n" + markdown_table(table))


def render_baselines(results: pd.DataFrame, k: int = 10) -> str:
    """Notebook 00's baselines as Markdown: the ranking table and the rating table of the run."""
    rows = results[(results["notebook"] == "00_data_and_protocol") & (results["part"] == "test")]
    params = [c for c in rows.columns if c.startswith("params.")]

    def label(row: pd.Series) -> str:
        chosen = {c.removeprefix("params."): row[c] for c in params if pd.notna(row[c])}
        return BASELINE_LABELS.get(row["model"], row["model"]).format(**chosen)

    ranking = rows[(rows["split"] == "canonical") & rows[f"ndcg@{k}"].notna()]
    names = {f"ndcg@{k}": f"NDCG@{k}", f"recall@{k}": f"Recall@{k}", f"hit_rate@{k}": f"HitRate@{k}",
             f"map@{k}": f"MAP@{k}", "mrr": "MRR", f"coverage@{k}": f"Coverage@{k}"}
    table = ranking[list(names)].rename(columns=names).map(lambda v: f"{v:.4f}")
    table.insert(0, "model", [label(row) for _, row in ranking.iterrows()])
    rating = rows[rows["rmse"].notna()] if "rmse" in rows else rows.iloc[0:0]
    figures = rating.assign(figure=[f"{r:.3f} / {m:.3f}" for r, m in zip(rating["rmse"], rating["mae"])])
    errors = figures.pivot_table(index="model", columns="split", values="figure", aggfunc="first", sort=False)
    errors.insert(0, "model", [BASELINE_LABELS.get(name, name) for name in errors.index])
    popularity = float(ranking.loc[ranking["model"] == "Popularity", f"ndcg@{k}"].iloc[0])
    return (f"Recorded by notebook 00 in the run of {time.strftime('%Y-%m-%d')} (hyper-parameters chosen on "
            "`valid`; ranking on the canonical split's `test` part, over every item the user has not seen):"
            f"\n\n{markdown_table(table)}\n\nRating prediction (RMSE / MAE on the held-out ratings):\n\n"
            f"{markdown_table(errors.reset_index(drop=True))}\n\nA model notebook claims its model has "
            f"learned only if its NDCG@{k} is at least 1.25 times popularity's ({1.25 * popularity:.3f}); "
            "its tests assert it over three seeds.")


def update_readme(text: str, readme: Path | None = None, markers: tuple[str, str] = (START, END)) -> None:
    """Replace what lies between a pair of markers of the README (the benchmark's) with ``text``."""
    readme = readme or project_root() / "README.md"
    start, end = markers
    content = readme.read_text()
    if start not in content or end not in content:
        raise ValueError(f"{readme} has no {start} ... {end} markers to put the tables between.")
    head, rest = content.split(start, 1)
    tail = rest.split(end, 1)[1]
    readme.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run and measure the notebooks, write the tables; 1 if a notebook fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None, help="notebook numbers (default: all)")
    parser.add_argument("--update-readme", action="store_true", help="write the tables into README.md")
    args = parser.parse_args(argv)
    notebooks = [nb for nb in course_notebooks()
                 if not args.only or any(nb.stem.startswith(o) for o in args.only)]
    reports = reports_dir()
    measured = []
    for nb in notebooks:
        print(f"Running {nb.name} ...", flush=True)
        try:
            measured.append(measure_notebook(nb, reports / "executed"))
        except RuntimeError as exc:
            print(f"\nBenchmark stopped: {exc}", file=sys.stderr)
            return 1
        print(f"  {measured[-1]['wall_seconds']:.0f} s, {measured[-1]['peak_memory_mib']} MiB", flush=True)
    for i, run in enumerate(measured):
        if run["wall_seconds"] > NOTEBOOK_BUDGET_SECONDS:
            nb = next(nb for nb in notebooks if nb.stem == run["notebook"])
            print(f"Running {nb.name} again ({run['wall_seconds']:.0f} s is over the budget) ...", flush=True)
            try:
                measured[i] = faster_run(run, measure_notebook(nb, reports / "executed"))
            except RuntimeError as exc:
                print(f"\nBenchmark stopped: {exc}", file=sys.stderr)
                return 1
            print(f"  {measured[i]['runs']}", flush=True)
    cost, quality = tables(pd.DataFrame(measured), reports / "tensorboard")
    from recutils.reporting import load_results

    results_file = reports / "results.jsonl"
    results = load_results(results_file) if results_file.exists() else None
    text = render(cost, quality, results)
    (reports / "benchmark.md").write_text(text + "\n")
    record = json.dumps({"machine": machine(), "date": time.strftime("%Y-%m-%d"),
                         "cost": cost.to_dict("records"), "quality": quality.to_dict("records")},
                        indent=2, default=str)
    (reports / "benchmark.json").write_text(record + "\n")
    if args.update_readme:
        from recutils.course.map import stamp_course_map

        update_readme(text)
        if results is not None and len(notebooks) == len(course_notebooks()):
            update_readme(render_designs(results), markers=(DESIGNS_START, DESIGNS_END))
            update_readme(render_baselines(results), markers=(BASELINES_START, BASELINES_END))
        (project_root() / "docs" / "benchmark.json").write_text(record + "\n")
        stamp_course_map()
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
