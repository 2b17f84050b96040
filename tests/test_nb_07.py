"""Notebook 07 (autoencoders): run it and check the figures it recorded.

Observed at the default settings (seeds 42, 43, 44; mean ± std over the seeds):

* I-AutoRec, random 80/20 split, test RMSE 0.8947 ± 0.0019 (UserItemBias 0.9395);
  canonical split 0.9504 ± 0.0008 (UserItemBias 0.9992).
* Mult-DAE, canonical test NDCG@10 0.1290 ± 0.0026 (ItemKNN 0.1189, EASE 0.1270,
  Popularity 0.0743).

Each seed must lie within mean ± max(4 std, floor) of these figures, the floors covering
run-to-run differences between machines and library builds.
A broken run (each part's ratings shuffled among its observed entries, and the columns of
Mult-DAE's training matrix shuffled) gave I-AutoRec RMSE 1.1305 on the random split (1.2258 on
the canonical one) and Mult-DAE NDCG@10 0.0166, and failed four of the five tests (the pitfall check too).
"""

import re

import numpy as np
import pytest
from notebook_runner import assert_near, cell_texts, execute, figure_count, figures, solutions_ran

from recutils.baselines import BASELINE_GRIDS, evaluate_baselines
from recutils.rating_baselines import evaluate_rating_baselines
from recutils.splits import canonical_split, random_split

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def run():
    return execute("07")


def test_autorec_rmse_on_the_random_split(run, ratings):
    rmse = figures(run, "I-AutoRec", "random-80-20", "rmse")
    assert rmse.mean() <= 0.91, f"I-AutoRec random 80/20 test RMSE {rmse.mean():.4f} > 0.91"
    bias = evaluate_rating_baselines(random_split(ratings)).loc["UserItemBias", "rmse"]
    assert np.all(rmse < bias), f"I-AutoRec {rmse} not below UserItemBias {bias:.4f}"
    assert_near(rmse, 0.8947, 0.0019, floor=0.006)


def test_autorec_rmse_on_the_canonical_split(run, ratings):
    rmse = figures(run, "I-AutoRec", "canonical", "rmse")
    bias = evaluate_rating_baselines(canonical_split(ratings)).loc["UserItemBias", "rmse"]
    assert np.all(rmse < bias), f"I-AutoRec {rmse} not below UserItemBias {bias:.4f}"
    assert_near(rmse, 0.9504, 0.0008, floor=0.008)


def test_mult_dae_reaches_item_knn(run, ratings):
    split = canonical_split(ratings)
    knn = evaluate_baselines(split, grids={"ItemKNN": BASELINE_GRIDS["ItemKNN"],
                                           "Popularity": BASELINE_GRIDS["Popularity"]})
    ndcg = figures(run, "Mult-DAE", "canonical", "ndcg@10")
    assert ndcg.mean() >= knn.loc["ItemKNN", "ndcg@10"], (
        f"Mult-DAE NDCG@10 {ndcg.mean():.4f} < ItemKNN {knn.loc['ItemKNN', 'ndcg@10']:.4f}")
    assert ndcg.mean() >= 1.25 * knn.loc["Popularity", "ndcg@10"]
    assert_near(ndcg, 0.1290, 0.0026, floor=0.008)


def test_the_unmasked_pitfall_is_shown(run):
    text = cell_texts(run.executed)["pitfall-unmasked"]
    unmasked = float(re.search(r"unmasked \(zeros as ratings\)\s+([\d.]+)", text).group(1))
    masked = float(re.search(r"masked \(observed only\)\s+([\d.]+)", text).group(1))
    assert unmasked > 1.5 > 1.0 > masked, f"unmasked RMSE {unmasked}, masked {masked}"


def test_logs_figures_and_solutions(run):
    logs = run.reports / "tensorboard" / "07_autoencoder"
    runs = {p.name for p in logs.iterdir() if any(p.rglob("events.out.tfevents.*"))}
    assert {"autorec-random-l2-0.03", "mult-dae-final-seed42"} <= runs, sorted(runs)
    assert figure_count(run.executed) >= 2
    assert solutions_ran(run.executed) >= 3
