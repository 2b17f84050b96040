"""The record convention and summary table of the original designs (recutils.original_designs)."""

import pytest

from recutils.baselines import Popularity
from recutils.evaluation import evaluate
from recutils.original_designs import designs_table, record_design, without_designs
from recutils.reporting import load_results, record_metrics


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path))
    return tmp_path


def test_designs_are_recorded_beside_and_apart_from_the_course_models(reports, split):
    popularity = evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")
    record_metrics("01_x", "Popularity", split, popularity)
    common = {"headline": "ndcg@10", "reported": 0.2, "reported_as": "the report's own rows"}
    for seed, value in ((1, 0.05), (2, 0.07)):
        record_design("01_x", "deep model", "as written", split, {"ndcg@10": value}, seed=seed, **common)
    record_design("01_x", "deep model", "as written, fixed", split, popularity, seed=1, **common)
    results = load_results(reports / "results.jsonl")
    assert list(without_designs(results)["model"]) == ["Popularity"]
    table = designs_table(results)
    assert table.to_dict("records") == [{
        "notebook": "01", "design": "deep model", "split": "canonical", "metric": "ndcg@10",
        "reported": "0.2000", "reported as": "the report's own rows",
        "as written": "0.0600 ± 0.0141", "as written, fixed": f"{popularity['ndcg@10']:.4f}"}]


@pytest.mark.parametrize("variant, headline, message", [
    ("as designed", "ndcg@10", "variant must be one of"),
    ("as written", "accuracy", "headline metric 'accuracy' is not among"),
])
def test_bad_records_are_refused(reports, split, variant, headline, message):
    with pytest.raises(ValueError, match=message):
        record_design("01_x", "deep model", variant, split, {"ndcg@10": 0.1}, headline=headline,
                      reported=None, reported_as="-")
    assert not (reports / "results.jsonl").exists()


def test_an_empty_table_says_what_to_run(reports, split):
    record_metrics("01_x", "Popularity", split, {"ndcg@10": 0.1})
    with pytest.raises(ValueError, match="run notebooks 01-08"):
        designs_table(load_results(reports / "results.jsonl"))
