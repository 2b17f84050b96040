"""Notebook 02 (two-tower retrieval with TFRS): run it and check the figures it recorded.

Observed at the default settings (seeds 42, 43, 44; mean ± std over the seeds):

* TwoTower (ids), canonical test NDCG@10 0.1236 ± 0.0011 (1.66 × Popularity's 0.0743),
  Recall@10 0.1110 ± 0.0027.
* TwoTower (features), canonical test NDCG@10 0.1188 ± 0.0016 (1.60 × Popularity),
  Recall@10 0.1103 ± 0.0016.
* TwoTower (ids, TFRS protocol), random 80/20 split, FactorizedTopK top-100 categorical accuracy
  on test 0.3956 ± 0.0002 (the TFRS tutorials report about 0.23 and 0.27-0.29; recommending the
  100 most-rated movies to everyone scores 0.3013).

Each seed must lie within mean ± max(4 std, floor) of these figures, the floors covering
run-to-run differences between machines and library builds.
A broken run (the training user ids shuffled in the notebook's ``retrieval_dataset``) gave
canonical NDCG@10 0.0717 ± 0.0007 (ids) and 0.0716 ± 0.0008 (features), below 1.25 × Popularity
(0.0743), and top-100 accuracy 0.2968-0.2993: still above the tutorials' 0.29, which is why the
test also asks for a clear margin over popularity's 0.3013. It failed both metric tests.

The original designs (reports 001 and 002; seed 42 only; ``design_epochs`` = 2, ``dnn_epochs`` = 1,
``report002_epochs`` = 2; canonical test; "top-5" is FactorizedTopK's top-5 accuracy):

* Enhanced two-tower, as written: NDCG@10 0.0262, top-5 0.0073 on the test rows (the report:
  0.9198, a running mean over its training batches). Its own running means: top-5 0.0083 after
  epoch 2, top-10 below top-5 at 0 of 44 steps (the report's log: 5 of 10 lines); the ceiling
  without ties on its training rows 0.0524 (0.0471 on all 100,000); loss per rating 8.284 after
  epoch 1, 8.046 after 2 (the report's first line: 2.775); no all-zero tower output.
* Fixed (logQ correction): NDCG@10 0.0802 (3.1 times; Popularity 0.0743), popularity@10 0.3168
  against 0.0426; fixed - as written +0.0540 [+0.0445, +0.0637] paired over 943 users.
* DNN two-tower, as written: logged top-5 0.0065 (the report: 0.0052), NDCG@10 0.0226,
  popularity@10 0.1193 (Popularity's 0.4299).
* Report 002: ReLU towers NDCG@10 0.0097, last-batch loss 32420 then 31870 against 32683.94 for
  equal scores; swish-softmax towers NDCG@10 0.0080, loss 32683.9395 in both epochs, top-50 on
  test 0.0298 (a random ranking 0.0297), scores 0.031249-0.031252, first-layer gradient 1,053
  times smaller than without the softmax; the report's first model's loss 12611.5039 = 1,696 ln
  1,696. Softmax dropped (the fix): NDCG@10 0.0216, +0.0136 [+0.0091, +0.0183] over the design as
  written and +0.0119 [+0.0073, +0.0166] over the ReLU towers.

Two broken copies failed the design tests. A (the enhanced fix without logQ; the top-10/top-5
check reversed; the DNN given the logQ correction; the swish fix keeping its softmax and not
logged to TensorBoard) failed the recorded-figures, enhanced-log, logQ-fix, DNN, report-002
(missing ``report002-swish`` logs) and softmax-dropped tests. B (report 002's softmax layer made
linear as written) failed the recorded-figures, report-002 signature (the loss fell to 32227)
and softmax tests (a negative component, a gradient ratio of 1).

Paired over the test users (NDCG@10, seeds averaged): ids - ItemKNN +0.0047 [-0.0038, +0.0130], ids -
EASE -0.0034 [-0.0094, +0.0028], features - ItemKNN -0.0004, features - EASE -0.0086 [-0.0164, -0.0007],
features - ids -0.0051 [-0.0112, +0.0008]; the enhanced design fixed - Popularity +0.0059 [-0.0022,
+0.0141]. Copies with a save warning left in the serving cell, or features - EASE made "no clear
difference" with its interval up to +0.0047, failed the two tests that check them.
"""

import re

import numpy as np
import pytest
from notebook_runner import (
    SEEDS,
    assert_near,
    cell_texts,
    design_record,
    execute,
    figure_count,
    solutions_ran,
)

from recutils.baselines import Popularity
from recutils.datasets import load_movielens
from recutils.evaluation import evaluate
from recutils.splits import canonical_split, random_split

pytestmark = pytest.mark.notebook

NOTEBOOK = "02_two_tower_retrieval"
# model: {metric: (observed mean, observed std, floor of the tolerance)}
CANONICAL = {
    "TwoTower (ids)": {"ndcg@10": (0.1236, 0.0011, 0.006), "recall@10": (0.1110, 0.0027, 0.006)},
    "TwoTower (features)": {"ndcg@10": (0.1188, 0.0016, 0.006), "recall@10": (0.1103, 0.0016, 0.006)},
}
TOP100 = (0.3956, 0.0002, 0.01)
TUTORIAL_BEST = 0.29  # the deep-towers tutorial's top-100 accuracy, the figure to beat
POPULARITY_MARGIN = 0.05  # observed margin over popularity's top-100 accuracy: 0.094


@pytest.fixture(scope="module")
def run():
    return execute("02")


@pytest.fixture(scope="module")
def popularity_ndcg():
    split = canonical_split(load_movielens("100k", verbose=False).ratings)
    return evaluate(Popularity().fit(split.matrix("train+valid")).scores, split, part="test")["ndcg@10"]


def _within(values, mean: float, std: float, floor: float) -> bool:
    tolerance = max(4 * std, floor)
    return bool(((values - mean).abs() <= tolerance).all())


def test_canonical_figures_clear_popularity_and_match_the_observed_spread(run, popularity_ndcg):
    canonical = run.results[(run.results["split"] == "canonical") & (run.results["part"] == "test")]
    for model, metrics in CANONICAL.items():
        rows = canonical[canonical["model"] == model]
        assert set(rows["seed"]) == SEEDS, model
        assert rows["ndcg@10"].mean() >= 1.25 * popularity_ndcg, (model, rows["ndcg@10"].tolist())
        for metric, (mean, std, floor) in metrics.items():
            assert _within(rows[metric], mean, std, floor), (model, metric, rows[metric].tolist())


def test_tfrs_protocol_top100_accuracy_beats_the_tutorials_and_popularity(run):
    rows = run.results[(run.results["model"] == "TwoTower (ids, TFRS protocol)")
                       & (run.results["split"] == "random-80-20")]
    assert set(rows["seed"]) == {42}  # one seed: the section reproduces a protocol, it compares nothing
    accuracy = rows["top_100_categorical_accuracy"]
    # The same split and the same 100 movies for every user: what FactorizedTopK counts, seen included.
    ratings = load_movielens("100k", verbose=False).ratings
    split = random_split(ratings, test_frac=0.2, valid_frac=0.1, seed=42)
    most_rated = split.frame("train+valid")["item_id"].value_counts().index[:100]
    popularity = split.test["item_id"].isin(most_rated).mean()
    assert (accuracy > TUTORIAL_BEST).all(), accuracy.tolist()
    assert (accuracy > popularity + POPULARITY_MARGIN).all(), (accuracy.tolist(), popularity)
    assert _within(accuracy, *TOP100), accuracy.tolist()


def test_serving_pitfalls_tensorboard_and_solutions(run):
    texts = cell_texts(run.executed)
    assert "Top-10 of the loaded SavedModel for user 1" in texts["serving"]
    assert "Same input, same output twice? False" in texts["pitfall-dense"]
    assert "tf.function only supports singleton tf.Variables" in texts["pitfall-dense"]
    full, sample = (float(x) for x in re.findall(r"movies\)\s+([0-9.]+)", texts["pitfall-candidates"]))
    assert sample > full + 0.2  # a 10% candidate sample inflates top-100 accuracy
    slowdown = re.search(r"([0-9.]+) times slower per batch", texts["pitfall-metrics"]).group(1)
    assert float(slowdown) > 2  # top-k metrics at every step slow training down
    for design in ("ids-dim16", "ids-dim32", "ids-dim64", "features"):
        assert any((run.reports / "tensorboard" / NOTEBOOK / design).rglob("events.out.tfevents.*")), design
    assert solutions_ran(run.executed) >= 3
    assert figure_count(run.executed) >= 2


# The original designs of reports 001 and 002 (seed 42, canonical test): (design, variant) ->
# (observed NDCG@10, floor of the tolerance); each report's own top-5 accuracy.
DESIGN_NDCG = {
    ("enhanced two-tower", "as written"): (0.0262, 0.012),
    ("enhanced two-tower", "as written, fixed"): (0.0802, 0.015),
    ("DNN two-tower", "as written"): (0.0226, 0.012),
    ("ReLU towers (report 002)", "as written"): (0.0097, 0.008),
    ("swish-softmax towers (report 002)", "as written"): (0.0080, 0.004),
    ("swish-softmax towers (report 002)", "as written, fixed"): (0.0216, 0.010),
}
REPORTED_TOP5 = {"enhanced two-tower": 0.9198, "DNN two-tower": 0.0052, "ReLU towers (report 002)": 0.00239,
                 "swish-softmax towers (report 002)": 0.00628}
CHANCE = {c: c / 1682 for c in (5, 50)}  # a random ranking's top-k accuracy over the catalogue


def _numbers(pattern: str, text: str) -> list[float]:
    match = re.search(pattern, text)
    assert match, (pattern, text[-1500:])
    return [float(group.replace(",", "").rstrip(".")) for group in match.groups()]


def test_every_original_design_is_recorded_near_its_observed_figure(run):
    for (design, variant), (observed, floor) in DESIGN_NDCG.items():
        record = design_record(run, design, variant)
        assert_near(np.array([record["ndcg@10"]]), observed, 0.0, floor)
        assert record["params.headline"] == "top_5_categorical_accuracy"
        assert record["params.reported"] == pytest.approx(REPORTED_TOP5[design])
        assert record["params.seeds"] == "42 only (time budget)"


def test_the_enhanced_models_log_cannot_come_from_its_code(run, popularity_ndcg):
    text = cell_texts(run.executed)["original-design-enhanced"]
    below, steps, report_below = _numbers(
        r"Top-10 below top-5: at (\d+) of the (\d+) steps .*? in (\d+) of the report's 10 lines", text)
    assert below == 0 and steps >= 20 and report_below == 5  # FactorizedTopK's top-10 never below its top-5
    logged, trained, test_rows, ceiling, ceiling_all = _numbers(
        r"([0-9.]+) as logged in epoch \d+, ([0-9.]+) for the trained model on all of them at once; "
        r"([0-9.]+) on the test rows\. Ceiling without tied scores: ([0-9.]+) on these rows, ([0-9.]+) on",
        text)
    assert max(logged, trained) < ceiling < 0.1 and ceiling_all < 0.1  # 0.92 needs ties
    assert CHANCE[5] < test_rows < 0.01
    tie, zero_users, zero_movies = _numbers(
        r"zero vectors get FactorizedTopK top-5 ([0-9.]+)\. All-zero vectors in the trained towers: "
        r"(\d+) users, (\d+) movies", text)
    assert tie == 1.0 and zero_users == 0 and zero_movies == 0
    fresh, last, report_first, report_last, tied, tied_loss = _numbers(
        r"this run ([0-9.]+) after epoch 1, ([0-9.]+) after epoch \d+\. The report: ([0-9.]+) in its first "
        r"line, ([0-9.]+) in its last, where ([0-9.]+) of the rows tied at zero would alone give at least "
        r"([0-9.]+)", text)
    assert fresh > 7.5 and last < fresh  # a fresh model starts near ln 4096 = 8.318 and learns
    assert report_first / fresh < 0.4  # "about a third of a fresh model's"
    assert tied > 0.8 and tied_loss > 2 * report_last
    streamed, whole = re.search(r"top-5 and top-10 (\[.*?\]) streaming .*?; (\[.*?\]) with WholeCatalogue",
                                text, re.S).groups()
    assert streamed == whole
    assert design_record(run, "enhanced two-tower", "as written")["ndcg@10"] < popularity_ndcg


def test_the_logq_correction_fixes_the_enhanced_model(run, popularity_ndcg):
    written = design_record(run, "enhanced two-tower", "as written")
    fixed = design_record(run, "enhanced two-tower", "as written, fixed")
    assert fixed["ndcg@10"] >= 2.5 * written["ndcg@10"], (fixed["ndcg@10"], written["ndcg@10"])  # "triples"
    assert fixed["ndcg@10"] >= 0.9 * popularity_ndcg  # "the popularity baseline's level"
    assert fixed["popularity@10"] > 3 * written["popularity@10"]  # "several times lower" as written
    assert fixed["params.logq"] and not written["params.logq"]
    text = cell_texts(run.executed)["original-design-enhanced-compare"]
    assert "fixed better" in text, text  # the paired interval over users excludes 0


def test_the_dnn_towers_log_a_training_batch_figure(run, popularity_ndcg):
    text = cell_texts(run.executed)["original-design-dnn"]
    logged, = _numbers(r"Top-5: ([0-9.]+) as logged in epoch", text)
    assert 0.5 * CHANCE[5] < logged < 0.015  # the order of a random ranking's, and of the report's 0.0052
    record = design_record(run, "DNN two-tower", "as written")
    assert record["ndcg@10"] < popularity_ndcg
    assert record["popularity@10"] < 0.5 * _numbers(r"Popularity: [0-9.]+, ([0-9.]+)\)", text)[0]


def test_report_002s_first_figures_have_the_softmax_towers_signature(run):
    text = cell_texts(run.executed)["original-design-report002"]
    exact, = _numbers(r"1,696 x ln 1,696 = ([0-9.]+)", text)
    assert abs(exact - 12611.5039) < 0.01  # the report's first model: the loss of equal scores
    equal, relu, softmax = re.search(r"equal scores: ([0-9.]+); ReLU towers \(report 002\): \[(.*?)\]; "
                                     r"swish-softmax towers \(report 002\): \[(.*?)\]", text).groups()
    equal = float(equal)
    softmax_losses = [float(x) for x in softmax.split(",")]
    relu_losses = [float(x) for x in relu.split(",")]
    assert all(abs(loss - equal) < 0.01 for loss in softmax_losses), (equal, softmax_losses)  # never moves
    assert relu_losses[-1] < equal - 100, (equal, relu_losses)  # the ReLU towers learn
    softmax_record = design_record(run, "swish-softmax towers (report 002)", "as written")
    relu_record = design_record(run, "ReLU towers (report 002)", "as written")
    assert abs(softmax_record["top_50_categorical_accuracy"] - CHANCE[50]) < 0.006  # a random ranking
    assert relu_record["top_50_categorical_accuracy"] > CHANCE[50] + 0.006
    for board in ("report002-relu", "report002-swish-softmax", "report002-swish"):
        assert any((run.reports / "tensorboard" / NOTEBOOK / board).rglob("events.out.tfevents.*")), board


def test_the_softmax_bounds_the_scores_and_starves_the_gradient(run):
    text = cell_texts(run.executed)["original-design-softmax"]
    smallest, low_sum, high_sum = _numbers(
        r"smallest component (-?[0-9.]+), sums between ([0-9.]+) and ([0-9.]+)", text)
    assert smallest >= 0 and abs(low_sum - 1) < 1e-4 and abs(high_sum - 1) < 1e-4  # on the simplex
    low, high = _numbers(r"Scores from (-?[0-9.]+) to (-?[0-9.]+)", text)
    assert 0 <= low <= high <= 1 and high - low < 1e-3  # within a hair of 1/32
    ratio, = _numbers(r"\(([0-9,]+) times larger\)", text)
    assert ratio > 100  # "about a thousand times smaller" with the softmax


def test_dropping_the_softmax_lets_the_towers_learn_and_swish_beats_relu(run, popularity_ndcg):
    written = design_record(run, "swish-softmax towers (report 002)", "as written")
    fixed = design_record(run, "swish-softmax towers (report 002)", "as written, fixed")
    relu = design_record(run, "ReLU towers (report 002)", "as written")
    assert fixed["ndcg@10"] > written["ndcg@10"]
    assert max(fixed["ndcg@10"], written["ndcg@10"], relu["ndcg@10"]) < popularity_ndcg
    text = cell_texts(run.executed)["original-design-report002-fix"]
    assert "swish, softmax dropped − swish-softmax" in text, text
    assert text.count("swish, softmax dropped better") == 3, text  # both intervals exclude 0, and the verdict


def _verdicts(text: str) -> dict[str, tuple[float, float, str]]:
    """Each printed paired comparison: "A − B" -> (low, high, verdict)."""
    return {pair: (float(low), float(high), verdict) for pair, low, high, verdict in re.findall(
        r"^(.+? − .+?), [^:]+: \S+ \[([+-][\d.]+), ([+-][\d.]+)\] .*?: (.+)$", text, re.M)}


def test_the_save_is_quiet_and_the_protocol_figures_are_printed(run):
    texts = cell_texts(run.executed)
    for note in ("non-serializable", "Assets written"):  # the save's notes, filtered around it
        assert note not in texts["serving"], texts["serving"]
    # "score near the tutorial's 0.23 on the held-out 10%, and fall as they train"
    curve = re.search(r"tfrs-protocol-no-logq ([\d.]+(?: → [\d.]+)*);", texts["tfrs-protocol-tuning"])
    assert curve, texts["tfrs-protocol-tuning"]
    values = [float(v) for v in curve[1].split(" → ")]
    assert all(0.18 < v < 0.3 for v in values) and values[-1] < values[0], values
    # "0.396 ± 0.000" was the old output: the spread over seeds now shows its digits.
    assert re.search(r"test after \d+ epochs \(seed 42\): 0\.\d{4} ", texts["tfrs-protocol-final"])


def test_the_results_claims_rest_on_paired_intervals(run):
    texts = cell_texts(run.executed)
    found = _verdicts(texts["results"])
    # "neither is distinguishable from item-kNN, the id model is level with EASE, and the feature model is at
    # best level with EASE (its interval against EASE lies below 0 or only just reaches it)"
    for pair in ("TwoTower (ids) − ItemKNN", "TwoTower (features) − ItemKNN", "TwoTower (ids) − EASE"):
        assert found[pair][2] == "no clear difference", (pair, found)
    assert found["TwoTower (features) − EASE"][1] < 0.002, found
    # "The richer features do not help on this split"
    assert found["TwoTower (features) − TwoTower (ids)"][2] != "TwoTower (features) better", found
    # The fixed enhanced design is not behind Popularity; every design as written is.
    enhanced = _verdicts(texts["original-design-enhanced-compare"])
    assert enhanced["fixed − Popularity"][2] != "Popularity better", enhanced
    lines = dict(re.findall(r"^  (.+?): [+-][\d.]+ \[.*?\] (.+)$", texts["original-design-results"], re.M))
    written = {name: verdict for name, verdict in lines.items() if name.endswith("(as written)")}
    assert len(written) == 4 and set(written.values()) == {"Popularity better"}, lines
    assert lines["enhanced two-tower (as written, fixed)"] != "Popularity better", lines
    # "all three stay far below the popularity baseline" (report 002's towers, the swish fix included)
    assert lines["swish-softmax towers (report 002) (as written, fixed)"] == "Popularity better", lines


def test_the_vector_size_is_chosen_inside_its_grid(run):
    """The id model's size is chosen on valid among half, once and double ``embedding_dim``, each at
    its own best epoch; the choice must not sit on the grid's edge, and the final models use it."""
    text = cell_texts(run.executed)["tuning"]
    found = re.search(r"Chosen size: (\d+) of \((\d+), (\d+), (\d+)\)", text)
    assert found, text
    chosen, sizes = int(found.group(1)), [int(x) for x in found.groups()[1:]]
    assert sizes[0] < chosen < sizes[-1], text
    rows = run.results.query("model in ['TwoTower (ids)', 'TwoTower (features)'] and split == 'canonical'")
    assert len(rows) == 6 and (rows["params.embedding_dim"] == chosen).all(), rows
