"""Notebook 11 (retrieval, then ranking): run it and check the figures it recorded and printed.

Observed at the default settings (canonical split, test part; the ranker over seeds 42, 43, 44,
retrieval with seed 42):

* Two-tower retrieval alone (notebook 02's id model, 10 epochs on train+valid): NDCG@10 0.1232,
  Recall@10 0.1164. Candidate stage: test Recall@200 0.6231.
* Two-tower + DCN ranker (N = 200 chosen on valid from 100 / 200 / 400: 0.1938 / 0.1990 / 0.1980;
  6 epochs): NDCG@10 0.1751, 0.1731, 0.1730 (0.1737 +- 0.0012), Recall@10 0.1550 +- 0.0030;
  against retrieval alone +0.0506 [+0.0383, +0.0628], against EASE (0.1270) +0.0467, against
  GRU4Rec +0.0260, all paired over the 943 test users.
* Ablation on valid: without pair -0.0637, without film -0.0078, without retrieval -0.0031, with
  the user group added -0.0203.
* Keras 3 / keras-rs (towers and ranker, seed 42): retrieval 0.1251, two-stage 0.1755; keras-rs's
  NDCG@10 and Recall@10 equal recutils's to 6 digits.

A broken ranker (each list's labels shuffled among its candidates before training) gave two-stage
NDCG@10 0.0416, 0.0704, 0.0666 on test (below Popularity's 0.0743) and failed six of the seven tests
below (all but the last).
"""

import re

import numpy as np
import pytest
from notebook_runner import (
    answers_in_words,
    assert_near,
    cell_texts,
    execute,
    figure_count,
    figures,
    solutions_ran,
    verdict,
)

pytestmark = pytest.mark.notebook

NOTEBOOK = "11_retrieval_then_ranking"
TWO_STAGE = "Two-tower + DCN ranker"
RETRIEVAL = "Two-tower retrieval alone"
# model: {metric: (observed mean, observed std, floor of the tolerance)}
OBSERVED = {
    TWO_STAGE: {"ndcg@10": (0.1737, 0.0012, 0.01), "recall@10": (0.1550, 0.0030, 0.01)},
}


@pytest.fixture(scope="module")
def run():
    return execute("11")


@pytest.fixture(scope="module")
def texts(run) -> dict[str, str]:
    return cell_texts(run.executed)


def test_the_two_stage_system_matches_the_observed_figures(run):
    for model, metrics in OBSERVED.items():
        for metric, (mean, std, floor) in metrics.items():
            assert_near(figures(run, model, "canonical", metric), mean, std, floor)
    alone = figures(run, RETRIEVAL, "canonical", "ndcg@10", seeds={42})
    assert abs(alone[0] - 0.1232) <= 0.01, alone


def test_the_ranker_beats_retrieval_ease_and_gru4rec_by_more_than_the_paired_interval(run, texts):
    text = texts["results"]
    for other in (RETRIEVAL, "EASE", "GRU4Rec (notebook 04)"):
        assert verdict(text, f"{TWO_STAGE} − {other}, ndcg@10") == f"{TWO_STAGE} better", other
        interval = re.escape(f"{TWO_STAGE} − {other}") + r", ndcg@10: \S+ \[([-+0-9.]+),"
        low = float(re.search(interval, text).group(1))
        assert low > 0, (other, low)
    two_stage = figures(run, TWO_STAGE, "canonical", "ndcg@10").mean()
    assert two_stage > figures(run, RETRIEVAL, "canonical", "ndcg@10", seeds={42})[0] + 0.02


def test_the_list_length_is_chosen_inside_its_grid_and_bounds_the_ranker(texts):
    table = texts["tuning"]
    rows = {int(n): (int(best), int(run_), float(score), float(ceiling)) for n, best, run_, score, ceiling in
            re.findall(r"^(\d+)\s+(\d+)\s+(\d+)\s+([0-9.]+)\s+(\d\.\d{4})", table, re.MULTILINE)}
    assert sorted(rows) == [100, 200, 400], table
    chosen = int(re.search(r"Chosen: N = (\d+)", table).group(1))
    assert chosen == max(rows, key=lambda n: rows[n][2])
    assert chosen not in (min(rows), max(rows)), f"N = {chosen} is an edge of the grid"
    ceilings = [rows[n][3] for n in sorted(rows)]
    assert ceilings == sorted(ceilings)  # longer lists hold more of valid
    assert all(best < run_ for best, run_, _, _ in rows.values())  # every run stopped early
    recall = float(re.search(r"test Recall@\d+ ([0-9.]+)", texts["final"]).group(1))
    assert 0.5 < recall < 0.8, recall


def test_the_ablation_finds_the_pair_features_matter_most(texts):
    line = texts["ablation"]
    assert "Largest loss: without pair" in line, line
    added = float(re.search(r"with user added ([-+]\d+\.\d+)", line).group(1))
    assert added < 0, line  # the features cell explains why the ranker leaves the user group out


def test_keras_3_and_keras_rs_give_the_same_figures(run, texts):
    two_stage = figures(run, TWO_STAGE, "canonical", "ndcg@10")
    keras3 = figures(run, "Two-tower + DCN ranker (Keras 3)", "canonical", "ndcg@10", seeds={42})[0]
    assert abs(keras3 - two_stage.mean()) <= max(4 * two_stage.std(ddof=1), 0.006), (keras3, two_stage)
    retrieval = figures(run, "Two-tower retrieval alone (Keras 3)", "canonical", "ndcg@10", seeds={42})[0]
    assert abs(retrieval - figures(run, RETRIEVAL, "canonical", "ndcg@10", seeds={42})[0]) <= 0.01
    table = texts["keras3-ranker"]
    keras_rs_figures, recutils_figures = (
        np.array(re.search(library + r"\.metrics\s+([0-9.]+)\s+([0-9.]+)", table).groups(), float)
        for library in ("keras_rs", "recutils"))
    assert np.allclose(keras_rs_figures, recutils_figures, atol=1e-5), table
    assert "candidate lists for 100% of the users" in texts["keras3-towers"]
    mixing = texts["keras3-mixing"]
    assert "final_ranker: Keras 2 (tf_keras); keras3_ranker: Keras 3" in mixing
    assert "check_one_keras refuses the mix" in mixing


def test_serving_latency_and_cold_start_are_measured(texts):
    latency = texts["latency"]
    assert re.search(r"equal the candidate lists for (\d+) of \1 requests", latency), latency
    medians = re.search(r"median ms\s+([0-9.]+)\s+([0-9.]+)", latency)
    assert medians and 0 < float(medians.group(1)) < 50 and 0 < float(medians.group(2)) < 200, latency
    cold = texts["cold-start"]
    assert all(q in cold for q in ("fewest 25%", "second", "third", "most 25%")), cold
    leads = re.findall(r"([-+][0-9.]+) \([-+]\d+%\) for (?:the users with fewest|those with most)", cold)
    assert len(leads) == 2 and all(float(lead) > 0 for lead in leads), cold


def test_figures_solutions_and_seeds(run):
    assert figure_count(run.executed) == 2  # the tuning curves and the cross layer's heat map
    assert solutions_ran(run.executed) == 3
    assert answers_in_words(run.executed) == 3
    assert set(run.results["seed"]) == {42, 43, 44}
