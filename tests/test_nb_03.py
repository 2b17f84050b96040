"""Notebook 03 (neural collaborative filtering) runs end to end and its models clear the bars."""

from __future__ import annotations

import re

import pytest
from notebook_runner import SEEDS, cell_texts, execute, solutions_ran

from recutils.baselines import Popularity
from recutils.datasets import load_movielens
from recutils.evaluation import evaluate
from recutils.sampled_metrics import evaluate_sampled, sample_negatives
from recutils.sequences import leave_last_out_split
from recutils.splits import canonical_split

pytestmark = pytest.mark.notebook

NOTEBOOK = "03_neural_collaborative_filtering"
# Canonical test NDCG@10 observed with the default parameters (seeds 42, 43, 44; 2-core CPU):
# GMF 0.1227 0.1197 0.1162, MLP 0.1103 0.1072 0.1002, NeuMF 0.1280 0.1263 0.1211.
OBSERVED = {"GMF": (0.1195, 0.0033), "MLP": (0.1059, 0.0052), "NeuMF": (0.1251, 0.0036)}
FLOOR = 0.005  # smallest band allowed, for a spread that happened to be tiny
# Leave-one-out, default seed: sampled HR@10 GMF 0.602, MLP 0.549, NeuMF 0.612; one user's hit
# is 1/943, and HR's standard error over 943 users is about 0.016.
OBSERVED_SAMPLED_HR = {"GMF": 0.602, "MLP": 0.549, "NeuMF": 0.612}
SAMPLED_BAND = 0.05


@pytest.fixture(scope="module")
def run():
    return execute("03")


@pytest.fixture(scope="module")
def data():
    return load_movielens("100k", verbose=False)


def _records(run, split_name: str):
    r = run.results
    return r[(r["notebook"] == NOTEBOOK) & (r["split"] == split_name) & (r["part"] == "test")]


def test_each_ncf_model_beats_popularity_by_a_quarter(run, data):
    split = canonical_split(data.ratings)
    popularity = evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")
    bar = 1.25 * popularity["ndcg@10"]  # 1.25 x 0.0743 = 0.0928
    canonical = _records(run, "canonical")
    for model in OBSERVED:
        rows = canonical[canonical["model"] == model]
        assert set(rows["seed"]) == SEEDS, f"{model}: seeds recorded {sorted(rows['seed'])}"
        mean = rows["ndcg@10"].mean()
        assert mean >= bar, f"{model}: mean NDCG@10 {mean:.4f} < 1.25 x Popularity = {bar:.4f}"


def test_each_seed_is_within_the_observed_spread(run):
    canonical = _records(run, "canonical")
    for model, (mean, std) in OBSERVED.items():
        band = max(4 * std, FLOOR)
        rows = canonical[canonical["model"] == model]
        for seed, value in zip(rows["seed"], rows["ndcg@10"]):
            assert abs(value - mean) <= band, (
                f"{model} seed {seed}: NDCG@10 {value:.4f} outside {mean:.4f} ± {band:.4f}")


def test_the_sampled_protocol(run, data):
    loo_records = _records(run, "leave-last-out").set_index("model")
    assert set(loo_records.index) == {"Popularity", "ItemKNN", "EASE", "GMF", "MLP", "NeuMF"}
    # Sampled figures are several times the full-ranking ones, for every model.
    ratio = loo_records["sampled_hit_rate@10"] / loo_records["full_hit_rate@10"]
    assert (ratio > 4).all(), ratio.to_dict()
    for model, expected in OBSERVED_SAMPLED_HR.items():
        assert loo_records.loc[model, "sampled_hit_rate@10"] == pytest.approx(expected, abs=SAMPLED_BAND)
    # The notebook's protocol is the module's: Popularity scored here independently agrees exactly.
    loo = leave_last_out_split(data.ratings)
    popularity = Popularity().fit(loo.matrix("train+valid")).scores
    sampled = evaluate_sampled(popularity, loo, sample_negatives(loo, 99, seed=0))
    assert loo_records.loc["Popularity", "sampled_hit_rate@10"] == pytest.approx(sampled["hit_rate@10"])
    assert loo_records.loc["Popularity", "sampled_ndcg@10"] == pytest.approx(sampled["ndcg@10"])
    full = evaluate(popularity, loo, part="test")
    assert loo_records.loc["Popularity", "full_ndcg@10"] == pytest.approx(full["ndcg@10"])


def test_the_solutions_ran(run):
    assert solutions_ran(run.executed) >= 3
    # Exercise 3 predicts the sampled hit rate from the full ranking: the two must agree.
    text = cell_texts(run.executed)["solution-3"]
    predicted, measured = (float(x) for x in re.findall(r"\d\.\d{4}", text))
    assert predicted == pytest.approx(measured, abs=0.03), text
