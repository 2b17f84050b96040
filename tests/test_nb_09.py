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


def test_paired_verdicts_are_the_comparison_helpers(run, monkeypatch):
    """The sentences under the paired table say what recutils.comparison finds on the per-user
    figures the notebooks saved in this session."""
    from recutils.comparison import compare
    from recutils.reporting import per_user_by_model

    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(session_reports()))
    per_user = per_user_by_model(session_results())
    ease = ("00_data_and_protocol", "EASE")
    assert ease in per_user and len(per_user) >= 10
    texts = cell_texts(run.executed)
    assert "reference" in texts["paired"]
    lines = [line[line.index("- "):] for line in texts["paired-summary"].splitlines() if "- " in line]
    assert lines[0].startswith("- Really above the best baseline, EASE: ")
    above, level = ({m.strip() for m in line.split(": ", 1)[1].rstrip(".").split("; ")} for line in lines[:2])
    for key, frame in per_user.items():
        if key == ease:
            continue
        c = compare(frame, per_user[ease])
        label = f"{key[1]} ({key[0][:2]})"
        assert (label in above) == (c.low > 0), (label, str(c))
        assert (label in level) == (c.low <= 0 <= c.high), (label, str(c))
