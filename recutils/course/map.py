"""The course map: each notebook's objectives, prerequisites, difficulty and measured run time.

:data:`COURSE_MAP` is the one place the map is written; :func:`stamp_course_map` puts it, as a
Markdown table, between the ``course-map`` markers of the README and into the ``course-map``
cell of ``notebooks/index.ipynb``.  Run times come from the benchmark's record of one run,
``docs/benchmark.json`` (written by ``make benchmark``).  ``python -m recutils.course --stamp``
refreshes the map; a test checks that the committed README and index agree with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from recutils.course.links import colab_url
from recutils.paths import project_root

MAP_START, MAP_END = "<!-- course-map:start -->", "<!-- course-map:end -->"
INDEX_CELL = "course-map"


@dataclass(frozen=True)
class Lesson:
    """One notebook of the course, as the map lists it."""

    stem: str
    objectives: str
    prerequisites: str
    difficulty: int  # 1 (first steps) to 3 (hardest)


COURSE_MAP: tuple[Lesson, ...] = (
    Lesson("00_data_and_protocol",
           "Load MovieLens 100K online or offline; the canonical temporal split; ranking metrics; "
           "popularity, item-kNN and EASE baselines", "Python and pandas", 1),
    Lesson("01_matrix_factorisation",
           "Biased MF in Keras (RMSE on two splits); a genre-aware deep rating model and why its "
           "classifier failed to train; why rating accuracy is not ranking accuracy", "00", 2),
    Lesson("02_two_tower_retrieval",
           "Two towers with TensorFlow Recommenders, from ids and from features; in-batch softmax; "
           "a SavedModel that answers queries; the TFRS tutorials' protocol", "00, 01", 2),
    Lesson("03_neural_collaborative_filtering",
           "GMF, MLP and NeuMF with negative sampling; why sampled metrics are far higher than "
           "full ranking and can reverse a comparison", "00, 01", 2),
    Lesson("04_gru_sequence_recommender",
           "Histories as sequences; a GRU next-item model with a full softmax; leave-last-out "
           "against the canonical split", "00, 01", 2),
    Lesson("05_modified_lstm_custom_cell",
           "A custom Keras RNN cell (an LSTM without forget gate), unit-tested; the original design's "
           "like/dislike study, redesigned with baselines and a paired test, and rebuilt as written; the "
           "cell as a next-item encoder", "00, 01, 04", 3),
    Lesson("06_restricted_boltzmann_machine",
           "A softmax RBM for ratings and a binary RBM for ranking, trained by contrastive "
           "divergence written with tensor operations", "00, 01", 3),
    Lesson("07_autoencoder",
           "I-AutoRec with a masked loss for ratings; Mult-DAE (a denoising autoencoder) for "
           "top-N", "00, 01", 2),
    Lesson("08_graph_neural_network",
           "The user-film graph as a sparse tensor; LightGCN with the BPR loss; propagation depth; "
           "making full-graph training fast", "00, 01", 3),
    Lesson("09_comparison",
           "Every model side by side over three seeds: accuracy, which differences are real (paired "
           "intervals over users), cost, popularity bias, training curves; where baselines hold their own",
           "00-08 run (`make course`)", 1),
    Lesson("10_scaling_beyond_one_machine",
           "Multi-worker training with MultiWorkerMirroredStrategy and TF_CONFIG, failures included; "
           "streaming sharded files with tf.data; approximate retrieval with faiss on a quarter of a "
           "million items; serving the query tower with its index", "02, 09", 3),
    Lesson("11_retrieval_then_ranking",
           "A two-stage recommender: two-tower candidates, then a Deep & Cross ranker with a listwise "
           "loss on hard negatives, tuned one step back in time; feature ablation, latency per stage, "
           "cold start; the same system on Keras 3 with keras-rs", "02, 10", 3),
    Lesson("12_self_attention_sequence_recommender",
           "SASRec: causal self-attention over a history, built from its parts in Keras; against GRU4Rec "
           "on three protocols with paired intervals; accuracy and time against max_len; attention "
           "weights; full against sampled softmax; masking pitfalls; BERT4Rec as an exercise", "04", 3),
)


def benchmark_record(path: Path | None = None) -> dict:
    """The committed benchmark record (``docs/benchmark.json``), or ``{}`` if there is none."""
    path = path or project_root() / "docs" / "benchmark.json"
    return json.loads(path.read_text()) if path.exists() else {}


def map_table(run_seconds: dict[str, float]) -> str:
    """The course map as a Markdown table; links relative to the repository root.

    Args:
        run_seconds: measured wall seconds per notebook stem (missing ones show "not measured").
    """
    rows = ["| # | notebook | you will learn | after | level | run time | Colab |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for lesson in COURSE_MAP:
        number, _, name = lesson.stem.partition("_")
        file = f"{lesson.stem}.ipynb"
        seconds = run_seconds.get(lesson.stem)
        time = f"{seconds / 60:.1f} min" if seconds is not None else "not measured"
        rows.append(f"| {number} | [{name.replace('_', ' ')}](notebooks/{file}) | {lesson.objectives} "
                    f"| {lesson.prerequisites} | {'★' * lesson.difficulty} | {time} "
                    f"| [open]({colab_url(file)}) |")
    return "\n".join(rows)


def _replace_between(text: str, start: str, end: str, new: str, where: str) -> str:
    if start not in text or end not in text:
        raise ValueError(f"{where} has no {start} ... {end} markers.")
    head, rest = text.split(start, 1)
    return f"{head}{start}\n{new}\n{end}{rest.split(end, 1)[1]}"


def stamp_course_map(root: Path | None = None) -> list[str]:
    """Write the map into the README and ``notebooks/index.ipynb``; the files it changed."""
    import nbformat

    root = root or project_root()
    record = benchmark_record(root / "docs" / "benchmark.json")
    seconds = {row["notebook"]: row["wall_seconds"] for row in record.get("cost", [])}
    table = map_table(seconds)
    note = (f"Run times: one run of `make benchmark` ({record['machine']})." if record
            else "Run times: not measured yet (`make benchmark`).")
    changed = []
    readme = root / "README.md"
    old = readme.read_text()
    new = _replace_between(old, MAP_START, MAP_END, f"{table}\n\n{note}", readme.name)
    if new != old:
        readme.write_text(new)
        changed.append(readme.name)
    index = root / "notebooks" / "index.ipynb"
    nb = nbformat.read(index, as_version=4)
    cells = [c for c in nb.cells if c.get("id") == INDEX_CELL]
    if len(cells) != 1:
        raise ValueError(f"{index} needs exactly one cell with id {INDEX_CELL!r}.")
    # In the index, links are relative to the notebooks folder.
    source = f"{table.replace('](notebooks/', '](')}\n\n{note}"
    if cells[0].source != source:
        cells[0].source = source
        nbformat.write(nb, index)
        changed.append(index.name)
    return changed
