"""The Keras callbacks the model notebooks share, on a small model of MovieLens 100K."""

import time

import numpy as np
import pytest

from recutils.baselines import Popularity
from recutils.datasets import load_movielens
from recutils.splits import canonical_split

tf = pytest.importorskip("tensorflow")
from recutils.keras_callbacks import EpochTimes, RankingMetrics, median_after_first  # noqa: E402


@pytest.fixture(scope="module")
def split():
    return canonical_split(load_movielens("100k", verbose=False).ratings)


def _rating_model(split) -> tuple[tf.keras.Model, np.ndarray, np.ndarray]:
    """A one-embedding model of each train rating from its item: enough for a few epochs' logs."""
    train = split.frame("train")
    _, items = split.encode(train)
    model = tf.keras.Sequential([tf.keras.layers.Embedding(split.n_items, 1), tf.keras.layers.Flatten()])
    model.compile(optimizer="adam", loss="mse")
    return model, items[:, None], train["rating"].to_numpy("float32")


def _slow_scoring(split) -> RankingMetrics:
    """Scores valid after each epoch (Popularity's scores), taking 0.3 s more than it needs."""
    scores = Popularity().fit(split.matrix("train")).scores

    def make_scores():
        time.sleep(0.3)
        return scores

    return RankingMetrics(make_scores, split)


def test_epoch_times_cover_the_gradient_steps_only(split):
    model, x, y = _rating_model(split)
    history = model.fit(x, y, epochs=2, batch_size=4096, verbose=0,
                        callbacks=[EpochTimes(), _slow_scoring(split)])
    seconds, cpu = history.history["epoch_seconds"], history.history["epoch_cpu_seconds"]
    assert len(seconds) == len(cpu) == 2 and 0 < seconds[1] < 0.3 and cpu[1] > 0, (seconds, cpu)
    assert history.history["val_ndcg@10"][0] > 0.05  # popularity's valid NDCG@10 reached the logs


def test_epoch_times_listed_after_a_slow_callback_count_it(split):
    model, x, y = _rating_model(split)
    history = model.fit(x, y, epochs=2, batch_size=4096, verbose=0,
                        callbacks=[_slow_scoring(split), EpochTimes()])
    assert history.history["epoch_seconds"][1] >= 0.3  # hence: list it first


def test_median_after_first_leaves_out_the_first_epoch():
    assert median_after_first([9.0, 1.0, 2.0, 3.0]) == 2.0
    assert median_after_first([4.0]) == 4.0
