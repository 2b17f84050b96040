"""Read the course's TensorBoard logs back as a table, for figures and for the benchmark.

Every model notebook writes its training logs to ``<reports>/tensorboard/<notebook>/<run>/``
(Keras puts ``train/`` and ``validation/`` folders under the run).  :func:`read_scalars` turns
all of them into one pandas frame, so curves can be drawn with matplotlib (a notebook that
reads well without a TensorBoard server) and training speed measured from the wall-clock
times TensorBoard stores with every value.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from recutils.paths import reports_dir

SCALAR_COLUMNS = ["notebook", "run", "subset", "tag", "step", "wall_time", "value", "start"]


def read_scalars(logdir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Every scalar under ``logdir`` (default ``<reports>/tensorboard``), one row per value.

    Columns: ``notebook``, ``run``, ``subset`` (``"train"``, ``"validation"`` or ``""``), ``tag``
    (e.g. ``"epoch_loss"``, ``"epoch_ndcg@10"``), ``step`` (the epoch), ``wall_time`` (Unix
    seconds when the value was written), ``value`` and ``start`` (when the run's first log file
    was opened: about when training started).  Empty (with these columns) if there are no logs.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util.tensor_util import make_ndarray

    root = Path(logdir) if logdir is not None else reports_dir() / "tensorboard"
    rows = []
    for folder in sorted({p.parent for p in root.glob("*/*/**/events.out.tfevents.*")}):
        notebook, run, *subset = folder.relative_to(root).parts
        events = EventAccumulator(str(folder), size_guidance={"scalars": 0, "tensors": 0})
        events.Reload()
        start = events.FirstEventTimestamp()
        for tag in events.Tags()["tensors"]:
            for e in events.Tensors(tag):
                value = make_ndarray(e.tensor_proto)
                if value.size == 1 and np.issubdtype(value.dtype, np.number):
                    rows.append((notebook, run, "/".join(subset), tag, e.step, e.wall_time,
                                 float(value), start))
        for tag in events.Tags()["scalars"]:
            rows += [(notebook, run, "/".join(subset), tag, e.step, e.wall_time, e.value, start)
                     for e in events.Scalars(tag)]
    frame = pd.DataFrame(rows, columns=SCALAR_COLUMNS)
    frame["start"] = frame.groupby(["notebook", "run"])["start"].transform("min")
    return frame


def epoch_seconds(scalars: pd.DataFrame, tag: str = "epoch_loss") -> pd.DataFrame:
    """Training speed per run: ``epochs`` logged and the median ``seconds_per_epoch`` between
    consecutive values of ``tag`` (the first epoch, which includes tracing, is left out when
    there are at least three)."""
    logged = scalars[scalars["tag"] == tag].sort_values(["notebook", "run", "step"])
    rows = []
    for (notebook, run), g in logged.groupby(["notebook", "run"], sort=True):
        gaps = np.diff(np.concatenate([[g["start"].iloc[0]], g["wall_time"].to_numpy()]))
        steady = gaps[1:] if gaps.size >= 3 else gaps
        rows.append({"notebook": notebook, "run": run, "epochs": len(g),
                     "seconds_per_epoch": float(np.median(steady))})
    return pd.DataFrame(rows, columns=["notebook", "run", "epochs", "seconds_per_epoch"])


def time_to_reach(scalars: pd.DataFrame, tag: str, threshold: float) -> pd.DataFrame:
    """For each run that logs ``tag``: seconds from the start of training until the first
    epoch whose value is at least ``threshold`` (``NaN`` if never), and the run's last value.

    Use it with the validation metric (``"epoch_ndcg@10"``) and a baseline's validation figure.
    """
    logged = scalars[scalars["tag"] == tag].sort_values(["notebook", "run", "step"])
    rows = []
    for (notebook, run), g in logged.groupby(["notebook", "run"], sort=True):
        reached = g[g["value"] >= threshold]
        seconds = reached["wall_time"].iloc[0] - g["start"].iloc[0] if len(reached) else np.nan
        rows.append({"notebook": notebook, "run": run, "seconds": float(seconds),
                     "final": float(g["value"].iloc[-1]),
                     "seconds_to_final": float(g.loc[g["value"] >= 0.99 * g["value"].iloc[-1], "wall_time"]
                                               .iloc[0] - g["start"].iloc[0])})
    return pd.DataFrame(rows, columns=["notebook", "run", "seconds", "final", "seconds_to_final"])


LOWER_IS_BETTER = ("loss", "rmse", "mae")
"""Substrings of a tag whose metric improves as it falls."""


def tuning_edges(scalars: pd.DataFrame,
                 tags: tuple[str, ...] = ("epoch_ndcg@10", "epoch_rmse", "epoch_accuracy"),
                 min_epochs: int = 3) -> pd.DataFrame:
    """Where each validation curve peaks: does the training budget, not the data, choose the epoch?

    For every run with a ``validation`` series of one of ``tags`` (the first of them the run
    logs: the one it is tuned on; at least ``min_epochs`` values): the ``epochs`` logged, the
    ``best_epoch`` (1-based; the highest value, or the lowest for losses and errors) and
    ``on_edge``, true when the last epoch logged scores as well as the best one (the best epoch
    itself, or a tie with it). A run stopped early (patience run out) ends below its best; a run
    that does not had its ceiling bind: its curve had not yet turned down, so a longer run could
    have been better and the value chosen from it sits on the edge of what was tried.
    """
    logged = scalars[(scalars["subset"] == "validation") & scalars["tag"].isin(tags)]
    rank = logged["tag"].map({tag: i for i, tag in enumerate(tags)})
    logged = logged[rank == rank.groupby([logged["notebook"], logged["run"]]).transform("min")]
    rows = []
    for (notebook, run, tag), g in logged.groupby(["notebook", "run", "tag"], sort=True):
        values = g.sort_values("step")["value"].to_numpy()
        if values.size < min_epochs:
            continue
        lower = any(word in tag for word in LOWER_IS_BETTER)
        best = int(np.argmin(values) if lower else np.argmax(values))
        rows.append({"notebook": notebook, "run": run, "tag": tag, "epochs": int(values.size),
                     "best_epoch": best + 1, "on_edge": bool(values[-1] == values[best])})
    return pd.DataFrame(rows, columns=["notebook", "run", "tag", "epochs", "best_epoch", "on_edge"])
