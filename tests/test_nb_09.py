"""Notebook 09 compares what the other notebooks really recorded in this test session."""

import json

import pytest
from notebook_runner import (
    cell_texts,
    execute,
    figure_count,
    notebook_path,
    session_reports,
    session_results,
    solutions_ran,
)

from recutils.course.runner import course_notebooks

pytestmark = pytest.mark.notebook

OTHERS = [p.stem[:2] for p in course_notebooks() if not p.stem.startswith("09")]


@pytest.fixture(scope="module")
def run():
    for name in OTHERS:  # the real course run (cached when the notebooks' own tests ran them)
        execute(name)
    return execute("09")


def test_every_recorded_ranking_model_is_on_the_leaderboard(run):
    results = session_results()
    ranked = results[(results["split"] == "canonical") & (results["part"] == "test")
                     & results["ndcg@10"].notna()]
    leaderboard = cell_texts(run.executed)["leaderboard"]
    assert len(ranked["model"].unique()) >= 3
    for model in ranked["model"].unique():
        assert model in leaderboard, f"{model} is missing from the leaderboard"
    assert "Not in the results yet" not in cell_texts(run.executed)["load"]


def test_conclusion_and_figures_come_from_the_results(run):
    texts = cell_texts(run.executed)
    results = session_results()
    canonical = results[(results["split"] == "canonical") & (results["part"] == "test")]
    best = canonical.groupby(["notebook", "model"])["ndcg@10"].mean().idxmax()
    assert f"Best: {best[1]} (notebook {best[0][:2]})" in texts["conclusion"]
    assert figure_count(run.executed) >= 4
    assert solutions_ran(run.executed) >= 3


def test_missing_notebooks_are_named(tmp_path):
    execute("00")
    only_00 = tmp_path / "results.jsonl"
    lines = (session_reports() / "results.jsonl").read_text().splitlines()
    only_00.write_text("\n".join(line for line in lines if json.loads(line)["notebook"].startswith("00")))
    partial = execute("09", {"results_file": str(only_00)})
    message = cell_texts(partial.executed)["load"]
    assert "Not in the results yet" in message
    for name in OTHERS[1:]:
        assert notebook_path(name).name in message
