"""The original designs, rebuilt: one way to record them, one table to compare them.

The course started from five project reports (``shared/sources`` beside the repository). Each
model notebook (01-08) rebuilds the design of its report twice: **as written** (the report's
settings on the course's data, scaled down only where the time budget demands it) and **as
written, fixed** (the smallest change that makes it work). Both go to the results file through
:func:`record_design`, which names the model ``"<design> (<variant>)"`` and adds to ``params``:

- ``variant``: ``"as written"`` or ``"as written, fixed"``;
- ``design``: the design's name, the same for both variants;
- ``headline``: the metric of the record that compares with the report's figure;
- ``reported``: the report's own figure for that metric (``None`` where it gives none);
- ``reported_as``: what the report measured, in words (which rows, which protocol).

:func:`designs_table` puts the reported figure beside the measured ones (notebook 09, README);
:func:`without_designs` keeps them out of the leaderboard of the course's own models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from recutils.reporting import mean_std, record_metrics
from recutils.splits import Split

VARIANTS = ("as written", "as written, fixed")
"""The two rebuilds of every original design."""


def record_design(notebook: str, design: str, variant: str, split: Split, metrics: Mapping[str, float], *,
                  headline: str, reported: float | None, reported_as: str,
                  params: Mapping[str, Any] | None = None, seed: int | None = None,
                  train_seconds: float | None = None, part: str = "test",
                  per_user: pd.DataFrame | None = None) -> dict:
    """Record one run of an original design (see the module docstring); returns the record.

    Args:
        notebook: the notebook's file stem.
        design: the design's short name, e.g. ``"deep rating model"``.
        variant: one of :data:`VARIANTS`.
        split, metrics, seed, train_seconds, part, per_user: as :func:`recutils.reporting.record_metrics`.
        headline: the key of ``metrics`` that compares with ``reported``.
        reported: the report's figure for ``headline``, or ``None`` if it gives none.
        reported_as: what the report's figure measures (its rows, its protocol), in words.
        params: the design's settings as run (epochs, sizes, what was scaled down).

    Raises:
        ValueError: an unknown variant, or a headline that is not among ``metrics``.
    """
    if variant not in VARIANTS:
        raise ValueError(f"variant must be one of {VARIANTS}, not {variant!r}.")
    if headline not in metrics:
        raise ValueError(f"The headline metric {headline!r} is not among the metrics {sorted(metrics)}.")
    extra = {"variant": variant, "design": design, "headline": headline,
             "reported": None if reported is None else float(reported), "reported_as": reported_as}
    return record_metrics(notebook, f"{design} ({variant})", split, metrics, train_seconds=train_seconds,
                          params={**(params or {}), **extra}, seed=seed, part=part, per_user=per_user)


def is_design(results: pd.DataFrame) -> pd.Series:
    """True for the records of an original design (those with a ``variant``)."""
    if "params.variant" not in results:
        return pd.Series(False, index=results.index)
    return results["params.variant"].notna()


def without_designs(results: pd.DataFrame) -> pd.DataFrame:
    """The results without the original designs' records: the course's own models."""
    return results[~is_design(results)]


def designs_table(results: pd.DataFrame, part: str = "test") -> pd.DataFrame:
    """One row per (notebook, design, split, headline metric): the report's figure, then the
    figure measured as written and after the fix (``mean ± std`` over seeds, as in the tables).

    Raises:
        ValueError: the results hold no original design on ``part``.
    """
    rows = results[is_design(results) & (results["part"] == part)]
    if rows.empty:
        raise ValueError(f"No original design is recorded on the {part!r} part: run notebooks 01-08.")
    table = []
    keys = ["notebook", "params.design", "split", "params.headline"]
    for (notebook, design, split, metric), group in rows.groupby(keys, sort=False):
        reported = group["params.reported"].dropna()
        row = {"notebook": notebook[:2], "design": design, "split": split, "metric": metric,
               "reported": f"{reported.iloc[0]:.4f}" if len(reported) else "-",
               "reported as": group["params.reported_as"].iloc[0]}
        for variant in VARIANTS:
            runs = group.loc[group["params.variant"] == variant, metric]
            row[variant] = mean_std(runs) if runs.notna().any() else "-"
        table.append(row)
    return pd.DataFrame(table)
