r"""Is model A better than model B?  A paired comparison over the test users.

Two models scored on the same split are scored on the same users, so their per-user metrics
(``recutils.evaluation.evaluate(...).per_user``) come in pairs.  The spread over seeds says how
much a model varies when it is trained again; it says nothing about how much the figure would
move on other users, and with 943 users that second source of noise is the larger one here.
The comparison therefore works on the per-user differences :math:`d_u = a_u - b_u`:

* the observed difference :math:`\bar d = \frac1n \sum_u d_u` (A's mean minus B's);
* its **paired bootstrap interval**: draw :math:`n` users with replacement, recompute
  :math:`\bar d`, repeat (10,000 times by default); the 2.5% and 97.5% quantiles of those
  means are the 95% interval (the percentile method);
* the **paired t-test** p-value of :math:`\bar d = 0` (``scipy.stats.ttest_rel``), as a check.

A difference is *real* (at that confidence) when its interval excludes 0.  For a model
trained with several seeds, average its per-user metrics over the seeds first
(:func:`mean_over_seeds`): the comparison is then of the models, not of one lucky run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

RESAMPLES = 10_000
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Comparison:
    """The paired comparison of two models on one metric over the same users."""

    metric: str
    a: str
    b: str
    mean_a: float
    mean_b: float
    difference: float
    low: float
    high: float
    p_value: float
    users: int
    confidence: float = CONFIDENCE

    @property
    def real(self) -> bool:
        """Whether the interval of the difference excludes 0."""
        return self.low > 0 or self.high < 0

    @property
    def verdict(self) -> str:
        """``"A better"``, ``"B better"`` or ``"no clear difference"`` (with the names)."""
        if self.low > 0:
            return f"{self.a} better"
        if self.high < 0:
            return f"{self.b} better"
        return "no clear difference"

    def __str__(self) -> str:
        return (f"{self.a} − {self.b}, {self.metric}: {self.difference:+.4f} "
                f"[{self.low:+.4f}, {self.high:+.4f}] ({self.confidence:.0%} paired bootstrap over "
                f"{self.users:,} users; t-test p = {self.p_value:.3g}): {self.verdict}")


def bootstrap_interval(differences, resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                       seed: int = 0) -> tuple[float, float]:
    """The percentile bootstrap interval of the mean of ``differences`` (one value per user).

    Raises:
        ValueError: fewer than two values, a NaN or infinite value, ``confidence`` not strictly
            between 0 and 1, or fewer than 100 resamples.
    """
    d = np.asarray(differences, dtype=np.float64)
    if d.ndim != 1 or d.size < 2:
        raise ValueError(f"Need one difference per user, at least two users; got shape {d.shape}.")
    if not np.isfinite(d).all():
        raise ValueError("Some per-user differences are NaN or infinite: check both models' metrics.")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}.")
    if int(resamples) != resamples or resamples < 100:
        raise ValueError(f"Use at least 100 resamples (10,000 is the default), got {resamples}.")
    rng = np.random.default_rng(seed)
    means = np.empty(int(resamples))
    chunk = max(1, 2_000_000 // d.size)  # bounds the index matrix to about 16 MB
    for start in range(0, means.size, chunk):
        rows = min(chunk, means.size - start)
        means[start:start + rows] = d[rng.integers(0, d.size, size=(rows, d.size))].mean(axis=1)
    tail = (1 - confidence) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return float(low), float(high)


def _values(per_user: pd.DataFrame | pd.Series, metric: str | None) -> pd.Series:
    if isinstance(per_user, pd.DataFrame):
        if metric not in per_user:
            raise KeyError(f"No column {metric!r}; the per-user metrics are {list(per_user.columns)}.")
        return per_user[metric]
    return per_user


def compare(a: pd.DataFrame | pd.Series, b: pd.DataFrame | pd.Series, metric: str = "ndcg@10",
            names: tuple[str, str] = ("A", "B"), resamples: int = RESAMPLES,
            confidence: float = CONFIDENCE, seed: int = 0) -> Comparison:
    """Compare two models' per-user ``metric`` (``evaluate(...).per_user`` frames, or series
    indexed by user) over the users both were scored on.

    Raises:
        ValueError: the two were scored on different users (not a paired comparison).
    """
    from scipy import stats

    x, y = _values(a, metric), _values(b, metric)
    if not x.index.equals(y.index):
        only_a, only_b = x.index.difference(y.index), y.index.difference(x.index)
        if len(only_a) or len(only_b) or x.index.has_duplicates or y.index.has_duplicates:
            raise ValueError(
                f"The two models were scored on different users ({len(only_a)} only in {names[0]}, "
                f"{len(only_b)} only in {names[1]}): score both on the same split and part.")
        y = y.loc[x.index]
    d = x.to_numpy(np.float64) - y.to_numpy(np.float64)
    low, high = bootstrap_interval(d, resamples, confidence, seed)
    p_value = float(stats.ttest_rel(x.to_numpy(np.float64), y.to_numpy(np.float64)).pvalue) if d.any() \
        else 1.0  # identical figures: the t statistic is undefined, and nothing differs
    return Comparison(metric, names[0], names[1], float(x.mean()), float(y.mean()), float(d.mean()),
                      low, high, p_value, int(d.size), confidence)


def mean_over_seeds(runs: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The per-user metrics of several runs (seeds) of one model, averaged user by user.

    Raises:
        ValueError: no runs, or runs scored on different users.
    """
    if not runs:
        raise ValueError("No runs to average.")
    first = runs[0]
    for run in runs[1:]:
        if not run.index.sort_values().equals(first.index.sort_values()):
            raise ValueError("The runs were scored on different users: score each on the same split "
                             "and part.")
    return pd.concat(runs).groupby(level=0, sort=False).mean().loc[first.index]


def comparison_table(per_user: Mapping[str, pd.DataFrame], reference: str, metric: str = "ndcg@10",
                     resamples: int = RESAMPLES, confidence: float = CONFIDENCE,
                     seed: int = 0) -> pd.DataFrame:
    """Every model of ``per_user`` against ``reference``: its mean, the difference, the interval
    of the difference, the t-test p-value and the verdict; one row per model, best first.

    Raises:
        KeyError: ``reference`` is not one of the models.
    """
    if reference not in per_user:
        raise KeyError(f"No model {reference!r}; the models are {sorted(per_user)}.")
    rows = {}
    for name, frame in per_user.items():
        if name == reference:
            continue
        c = compare(frame, per_user[reference], metric, (name, reference), resamples, confidence, seed)
        rows[name] = {metric: c.mean_a, f"− {reference}": c.difference, "low": c.low, "high": c.high,
                      "p": c.p_value, "verdict": c.verdict}
    table = pd.DataFrame(rows).T
    reference_mean = float(_values(per_user[reference], metric).mean())
    table.loc[reference, [metric, "verdict"]] = [reference_mean, "reference"]
    return table.sort_values(metric, ascending=False)
