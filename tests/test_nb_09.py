"""Notebook 09 compares what the other notebooks really recorded in this test session."""

import json

import pytest
from notebook_runner import (
    answers_in_words,
    cell_texts,
    execute,
    figure_count,
    notebook_path,
    session_reports,
    session_results,
    solutions_ran,
)

from recutils.course.runner import course_notebooks
from recutils.like_dislike import SPLIT_NAME
from recutils.original_designs import VARIANTS, designs_table, is_design, without_designs
from recutils.tensorboard_logs import read_scalars, tuning_edges

pytestmark = pytest.mark.notebook

OTHERS = [p.stem[:2] for p in course_notebooks() if not p.stem.startswith("09")]
DESIGN_SECTION = "## The original design, as written"  # the heading of a notebook's rebuilt design


@pytest.fixture(scope="module")
def run():
    for name in OTHERS:  # the real course run (cached when the notebooks' own tests ran them)
        execute(name)
    return execute("09")


def test_every_recorded_ranking_model_is_on_the_leaderboard(run):
    results = session_results()
    ranked = results[(results["split"] == "canonical") & (results["part"] == "test")
                     & results["ndcg@10"].notna() & ~is_design(results)]
    leaderboard = cell_texts(run.executed)["leaderboard"]
    assert len(ranked["model"].unique()) >= 3
    for model in ranked["model"].unique():
        assert model in leaderboard, f"{model} is missing from the leaderboard"
    assert "Not in the results yet" not in cell_texts(run.executed)["load"]


def test_conclusion_and_figures_come_from_the_results(run):
    texts = cell_texts(run.executed)
    results = without_designs(session_results())
    canonical = results[(results["split"] == "canonical") & (results["part"] == "test")]
    best = canonical.groupby(["notebook", "model"])["ndcg@10"].mean().idxmax()
    assert f"Best: {best[1]} (notebook {best[0][:2]})" in texts["conclusion"]
    assert "Final fit: the baselines in" in texts["cost"]
    assert figure_count(run.executed) >= 4
    assert solutions_ran(run.executed) >= 3
    assert answers_in_words(run.executed) == 3


def test_the_conclusions_statements_hold_on_the_results(run, monkeypatch):
    """Each statement of the conclusion's text (cell conclusion-text), checked on this session's records:
    the leaderboard's means, and the paired intervals over users for every 'above' or 'below'."""
    from recutils.comparison import compare
    from recutils.reporting import BASELINE_NAMES, leaderboard, per_user_by_model

    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(session_reports()))
    course = without_designs(session_results())
    board = leaderboard(course, ["ndcg@10"]).sort_values("ndcg@10", ascending=False)
    per_user = per_user_by_model(course)
    gru, ease, knn = (("04_gru_sequence_recommender", "GRU4Rec"), ("00_data_and_protocol", "EASE"),
                      ("00_data_and_protocol", "ItemKNN"))
    popularity = board.loc[("00_data_and_protocol", "Popularity"), "ndcg@10"]
    # Sequence models win among single models: SASRec (12) and GRU4Rec (04) really above every other one,
    # SASRec ahead on average; the two LSTMs of 05 next. Notebook 11's two-stage systems (11 and 12 run
    # here before 09) are really above GRU4Rec.
    sasrec = ("12_self_attention_sequence_recommender", "SASRec")
    two_stage = [key for key in board.index if key[0][:2] == "11" and "ranker" in key[1]]
    assert two_stage, "notebook 11's two-stage system is missing"
    for key in two_stage:
        assert compare(per_user[key], per_user[gru]).low > 0, key
    single = board.drop(two_stage)
    assert list(single.index[:2]) == [sasrec, gru], list(single.index[:3])
    for key, frame in per_user.items():
        if key not in (gru, sasrec) and key not in two_stage:
            for leader in (gru, sasrec):
                assert compare(frame, per_user[leader]).high < 0, (key, leader)
    assert [nb[:2] for nb, _ in single.index[2:4]] == ["05", "05"], list(single.index[:5])
    assert "SASRec (12) − GRU4Rec (04), ndcg@10" in cell_texts(run.executed)["paired-summary"]
    # Among the single set-based models none is really above EASE, which fits in under a second; the
    # others train for longer; item-kNN is really below it.
    for key, frame in per_user.items():
        if key[0][:2] not in ("04", "05", "12") and key != ease and key not in two_stage:
            assert compare(frame, per_user[ease]).low <= 0, key
    trained = board[~board.index.get_level_values("model").isin(BASELINE_NAMES)]
    assert board.loc[ease, "train_seconds"] < min(1, trained["train_seconds"].min()), trained["train_seconds"]
    assert compare(per_user[knn], per_user[ease]).high < 0
    # Every model trained to rank clears 1.25 × popularity; those trained on ratings rank below popularity.
    canonical = course[(course["split"] == "canonical") & (course["part"] == "test")]
    on_ratings = set(map(tuple, canonical.dropna(subset=["rmse"])[["notebook", "model"]].to_numpy()))
    rating_models = [key for key in trained.index if key in on_ratings]
    assert rating_models
    for key in trained.index:
        if key in on_ratings:
            assert board.loc[key, "ndcg@10"] < popularity, key
        else:
            assert board.loc[key, "ndcg@10"] >= 1.25 * popularity, key
    text = cell_texts(run.executed)["conclusion"]
    ranking = len(trained) - len(rating_models)
    assert f"popularity's NDCG@10 ({1.25 * popularity:.4f}): {ranking} of {ranking}." in text


def test_missing_notebooks_are_named(tmp_path):
    """The notebooks before 09 are named as missing; those after it (10) are not missing, only not run
    yet: a course run runs them after 09."""
    execute("00")
    only_00 = tmp_path / "results.jsonl"
    lines = (session_reports() / "results.jsonl").read_text().splitlines()
    only_00.write_text("\n".join(line for line in lines if json.loads(line)["notebook"].startswith("00")))
    partial = execute("09", {"results_file": str(only_00)})
    text = cell_texts(partial.executed)["load"]
    missing = next(line for line in text.splitlines() if "Not in the results yet" in line)
    before, after = [n for n in OTHERS if n < "09"], [n for n in OTHERS if n > "09"]
    assert before[1:] and after
    for name in before[1:]:
        assert notebook_path(name).name in missing
    later = next(line for line in text.splitlines() if "runs them after this notebook" in line)
    for name in after:
        assert notebook_path(name).name not in missing and notebook_path(name).name in later


def test_paired_verdicts_are_the_comparison_helpers(run, monkeypatch):
    """The sentences under the paired table say what recutils.comparison finds on the per-user
    figures the notebooks saved in this session."""
    from recutils.comparison import compare
    from recutils.reporting import per_user_by_model

    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(session_reports()))
    per_user = per_user_by_model(without_designs(session_results()))
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


def test_every_original_design_is_shown_as_written_and_fixed(run):
    """Each of notebooks 01-08 with a section on its report's design recorded it in both variants;
    09 shows them all (and keeps them off the leaderboard of the course's own models)."""
    results = session_results()
    designs = results[is_design(results)]
    with_section = [n for n in OTHERS if "01" <= n <= "08" and DESIGN_SECTION in notebook_path(n).read_text()]
    assert set(with_section) >= {"01", "04", "06", "07", "08"}, with_section
    for name in with_section:
        mine = designs[designs["notebook"].str.startswith(name)]
        assert set(mine["params.variant"]) == set(VARIANTS), f"notebook {name}: {set(mine['params.variant'])}"
    texts = cell_texts(run.executed)
    for design in designs["params.design"].unique():
        assert design in texts["designs"], f"{design} is missing from 09's table of the original designs"
        assert design not in texts["leaderboard"]
    table = designs_table(results)
    assert len(table) >= 8


def test_the_four_way_comparison_scores_all_four_designs_on_one_protocol(run):
    """The report's like/dislike models (those of 05, 06 and 07 that are rebuilt) and the majority
    baselines on the same rows, each against the user majority."""
    results = session_results()
    study = results[(results["split"] == SPLIT_NAME) & results["accuracy"].notna()]
    notebooks = set(study.loc[is_design(study), "notebook"].str[:2])
    with_section = {n for n in ("05", "06", "07") if DESIGN_SECTION in notebook_path(n).read_text()}
    assert notebooks == with_section >= {"06", "07"}, notebooks
    text = cell_texts(run.executed)["four-way"]
    assert "reference" in text and "AlwaysLike" in text
    designs = study.loc[is_design(study), ["model", "notebook"]].drop_duplicates()
    for model, nb in designs.itertuples(index=False):
        assert f"{model} ({nb[:2]})"[:45] in text  # pandas cuts long labels at 50 characters


NOT_TUNING = ("pitfall", "exercise", "report", "design", "protocol")
"""Runs whose names contain these words train for a fixed budget on purpose (a pitfall shown, an
exercise, a report's design or protocol rebuilt): they choose nothing, so their edge is no flaw."""


def test_no_tuning_curve_peaks_at_its_ceiling(run):
    """Every run that chooses epochs on valid (its validation curve logged to TensorBoard) peaks
    before its last epoch: early stopping ended it, not its ceiling. A curve still improving at
    its last epoch means the budget, not the data, picked the model. Seen failing on this
    morning's run (06 RBMs 20 of 20, 08 LightGCN 20 of 20, 05 LSTM 8 of 8, 03 MLP 15 of 15, 01 MF
    and the genre model 12 of 12) before the ceilings were raised with early stopping."""
    edges = tuning_edges(read_scalars(session_reports() / "tensorboard"))
    assert len(edges) >= 10, edges  # the notebooks' tuning runs are there
    tuning = edges[~edges["run"].str.contains("|".join(NOT_TUNING))]
    stuck = tuning[tuning["on_edge"]]
    assert stuck.empty, "validation curves still improving at their last epoch:\n" + stuck.to_string()


def test_both_protocols_side_by_side(run):
    """Every model scored on the global-time split (00's baselines and each model notebook's main
    model) is set beside its canonical figure, against each protocol's best baseline."""
    results = session_results()
    later = results[(results["split"] == "global-time") & (results["part"] == "test") & ~is_design(results)]
    assert set(later["notebook"].str[:2]) >= {"00", "01", "02", "03", "04", "06", "07", "08"}, later
    assert later["per_user"].notna().all() and (later["users"] == 66).all()
    text = cell_texts(run.executed)["protocols"]
    for model, nb in later[["model", "notebook"]].drop_duplicates().itertuples(index=False):
        assert f"{model} ({nb[:2]})" in text, f"{model} ({nb[:2]}) missing from:\n{text}"
    summary = cell_texts(run.executed)["protocols-summary"]
    assert "users scored: 943 on the canonical split, 66 on the global-time one" in summary, summary
