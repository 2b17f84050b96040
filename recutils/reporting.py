"""The course's results file: one JSON record per scored model, appended by every notebook.

``reports/results.jsonl`` (see :func:`recutils.paths.reports_dir`) holds one JSON object per
line with the keys ``time`` (ISO 8601, UTC), ``notebook``, ``model``, ``dataset``, ``split``,
``part``, ``seed``, ``train_seconds``, ``params`` (dict of key hyper-parameters) and
``metrics`` (dict of metric name to value), and for ranking metrics ``per_user``: the file,
under ``<reports>/per_user/``, with each user's values (what paired comparisons need).  Lines
are only ever appended; readers take the newest record per (notebook, model, split, part, seed).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from recutils.paths import reports_dir
from recutils.splits import Split

RESULTS_FILE = "results.jsonl"


def results_path() -> Path:
    """Where the results file is (``<reports>/results.jsonl``)."""
    return reports_dir() / RESULTS_FILE


def record_metrics(notebook: str, model: str, split: Split, metrics: Mapping[str, float],
                   train_seconds: float | None = None, params: Mapping[str, Any] | None = None,
                   seed: int | None = None, part: str = "test", per_user: pd.DataFrame | None = None) -> dict:
    """Append one record to the results file and return it.

    Args:
        notebook: the notebook's file stem, e.g. ``"00_data_and_protocol"``.
        model: a short model name, e.g. ``"EASE"``.
        split: the split the model was scored on (its name and dataset are recorded).
        metrics: from :func:`recutils.evaluation.evaluate` or ``evaluate_ratings``.
        train_seconds: wall-clock training time.
        params: the key hyper-parameters.
        seed: the random seed of the run.
        part: the part scored (``"test"`` or ``"valid"``).
        per_user: each user's metrics, saved beside the record for paired comparisons; by
            default ``metrics.per_user`` when ``metrics`` is what ``evaluate`` returned.
    """
    if not metrics:
        raise ValueError("No metrics to record.")
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "notebook": notebook, "model": model, "dataset": split.dataset, "split": split.name,
        "part": part, "seed": seed,
        "train_seconds": None if train_seconds is None else round(float(train_seconds), 3),
        "params": dict(params or {}),
        "metrics": {k: float(v) for k, v in metrics.items()},
    }
    path = results_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    per_user = per_user if per_user is not None else getattr(metrics, "per_user", None)
    if per_user is not None:
        record["per_user"] = _write_per_user(per_user, record)
    line = json.dumps(record, default=str) + "\n"
    with open(path, "a", encoding="utf-8") as f:  # one write of one line: appends never interleave
        f.write(line)
    return record


def score_and_record(notebook: str, model: str, split: Split, scores, params: Mapping[str, Any],
                     seed: int | None, train_seconds: float | None = None, k: int = 10):
    """Score a model on a split's ``test`` part, record it (per-user figures included) and print one
    line; return what :func:`recutils.evaluation.evaluate` returned.

    For the second protocol of the model notebooks: the model fitted on the split's
    ``train+valid`` with the settings chosen on the canonical split; notebook 09 compares it with
    the baselines on the same split.
    """
    from recutils.evaluation import evaluate

    metrics = evaluate(scores, split, part="test", k=k)
    record_metrics(notebook, model, split, metrics, train_seconds=train_seconds, params=params, seed=seed)
    print(f"{split.name} split, test part, {metrics['users']:.0f} users: {model} ndcg@{k} "
          f"{metrics[f'ndcg@{k}']:.4f}, recall@{k} {metrics[f'recall@{k}']:.4f} (notebook 09 sets it "
          "beside the baselines on this split).")
    return metrics


def _write_per_user(frame: pd.DataFrame, record: dict) -> str:
    """Write a record's per-user metrics atomically; return the path relative to the reports."""
    name = "__".join(str(record[k]) for k in ("model", "split", "part", "seed"))
    relative = Path("per_user") / record["notebook"] / f"{re.sub(r'[^A-Za-z0-9_.@-]+', '_', name)}.csv"
    target = reports_dir() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    frame.to_csv(partial, float_format="%.17g")
    os.replace(partial, target)
    return relative.as_posix()


def load_per_user(record: Mapping[str, Any]) -> pd.DataFrame:
    """The per-user metrics saved with one record (a row of :func:`load_results`).

    Raises:
        FileNotFoundError: the record has none (rating metrics, or written before they were
            saved), or its file is gone.
    """
    relative = record.get("per_user")
    if not isinstance(relative, str):
        raise FileNotFoundError(f"{record.get('model')} ({record.get('notebook')}) has no per-user metrics: "
                                "re-run its notebook to record them.")
    frame = pd.read_csv(reports_dir() / relative, index_col="user_id").astype("float64")
    frame.index = frame.index.astype("int32")  # the ratings' user_id dtype
    return frame


def per_user_by_model(results: pd.DataFrame, split: str = "canonical", part: str = "test"
                      ) -> dict[tuple[str, str], pd.DataFrame]:
    """Each (notebook, model)'s per-user metrics on one split's part, averaged over its seeds
    (:func:`recutils.comparison.mean_over_seeds`); models without them are left out."""
    from recutils.comparison import mean_over_seeds

    if "per_user" not in results:
        return {}
    rows = results[(results["split"] == split) & (results["part"] == part) & results["per_user"].notna()]
    return {key: mean_over_seeds([load_per_user(r) for _, r in group.iterrows()])
            for key, group in rows.groupby(["notebook", "model"], sort=False)}


def load_results(path: str | Path | None = None, latest: bool = True) -> pd.DataFrame:
    """The results file as a frame, one column per metric; ``latest`` keeps the newest record
    per (notebook, model, split, part, seed).

    Raises:
        FileNotFoundError: no results yet, with the command that writes them.
    """
    path = Path(path) if path is not None else results_path()
    if not path.exists():
        raise FileNotFoundError(
            f"No results file at {path}. Run the notebooks first (`make course`), or run the "
            "notebook whose results you need."
        )
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not records:
        return pd.DataFrame()
    df = pd.json_normalize(records, sep=".")
    df.columns = [c.removeprefix("metrics.") for c in df.columns]
    if latest:
        keys = ["notebook", "model", "split", "part", "seed"]
        df = df.sort_values("time", kind="stable").drop_duplicates(keys, keep="last").reset_index(drop=True)
    return df


@contextmanager
def timer() -> Iterator[dict]:
    """``with timer() as t: ...`` then ``t["seconds"]`` holds the elapsed wall-clock time."""
    t = {"seconds": 0.0}
    start = time.perf_counter()
    try:
        yield t
    finally:
        t["seconds"] = time.perf_counter() - start


def leaderboard(results: pd.DataFrame, metrics: list[str], split: str = "canonical",
                part: str = "test") -> pd.DataFrame:
    """Mean and standard deviation over seeds of ``metrics`` per (notebook, model) on one split.

    Returns a frame indexed by (notebook, model) with columns ``<metric>`` (mean),
    ``<metric>_std`` (the sample standard deviation over seeds, as in :func:`mean_std`; 0 for a
    single run), ``seeds`` (runs averaged) and ``train_seconds``
    (mean); only records that have every metric in ``metrics`` are used.
    """
    missing = [m for m in metrics if m not in results]
    if missing:
        raise KeyError(f"No record has the metrics {missing}; recorded columns: {list(results.columns)}.")
    rows = results[(results["split"] == split) & (results["part"] == part)].dropna(subset=metrics)
    if rows.empty:
        raise ValueError(f"No records with {metrics} on the {split!r} split's {part!r} part.")
    groups = rows.groupby(["notebook", "model"], sort=False)
    table = groups[metrics].mean()
    spread = groups[metrics].std(ddof=1).fillna(0.0).add_suffix("_std")  # as mean_std: sample std
    table = table.join(spread)
    table["seeds"] = groups.size()
    table["train_seconds"] = groups["train_seconds"].mean()
    return table


BASELINE_NAMES = ("Popularity", "ItemKNN", "EASE")
"""The ranking baselines every model notebook shows its models beside."""


def mean_std(values: pd.Series | Sequence[float], digits: int = 4) -> str:
    """A figure over seeds as ``"mean ± std"`` (sample standard deviation); one run: its value."""
    values = pd.Series(values, dtype=float).dropna()
    if values.empty:
        raise ValueError("No values to summarise.")
    if len(values) == 1:
        return f"{values.iloc[0]:.{digits}f}"
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def beside_baselines(runs: Mapping[str, pd.DataFrame], baselines: pd.DataFrame, metrics: Sequence[str],
                     ratio: str | None = None, names: Sequence[str] = BASELINE_NAMES) -> pd.DataFrame:
    """A model notebook's results table: each model's ``metrics`` over its runs, then the baselines.

    Args:
        runs: model name to its runs, one row per seed, a column per metric.
        baselines: the baselines' figures, one row per name (what ``evaluate_baselines`` returns).
        metrics: the columns to show, as ``mean ± std`` for the models and as is for the baselines.
        ratio: a metric; if given, a column ``"<ratio> / Popularity"`` with each row's (mean)
            figure divided by popularity's.
        names: the baselines to show, in order.
    """
    rows = {name: {m: mean_std(frame[m]) for m in metrics} for name, frame in runs.items()}
    rows |= {name: {m: f"{baselines.loc[name, m]:.4f}" for m in metrics} for name in names}
    table = pd.DataFrame(rows).T
    if ratio is not None:
        popularity = baselines.loc["Popularity", ratio]
        means = [frame[ratio].mean() for frame in runs.values()] + [baselines.loc[n, ratio] for n in names]
        table[f"{ratio} / Popularity"] = [f"{v / popularity:.2f}" for v in means]
    return table


def missing_notebooks(results: pd.DataFrame, notebooks: list[str]) -> list[str]:
    """The notebooks (file stems) in ``notebooks`` that have no record in ``results``."""
    recorded = set(results["notebook"]) if "notebook" in results else set()
    return [nb for nb in notebooks if nb not in recorded]
