"""The course runner runs notebooks in order and stops, with names, when one fails."""

import json
import os
import re
import time

import nbformat
import pytest

from recutils.course.__main__ import main
from recutils.course.runner import NotebookFailed, course_notebooks, headline, run_notebook, select


def test_course_notebooks_are_numbered_and_in_order():
    names = [p.name for p in course_notebooks()]
    assert names == sorted(names) and names[0].startswith("00_")


def test_every_notebook_has_one_parameters_cell_and_no_outputs():
    for path in course_notebooks():
        nb = nbformat.read(path, as_version=4)
        tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
        assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters'"
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(not c.outputs and c.execution_count is None for c in code), f"{path.name} has outputs"
        assert all(c.get("id") for c in nb.cells), f"{path.name} has cells without ids"


def _notebook(tmp_path, *sources: str, name: str = "99_broken.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s, id=f"cell-{i}") for i, s in enumerate(("x = 1", *sources))]
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


# Written to the kernel process's own standard error, below Python, as TensorFlow's C++ logging is.
NATIVE_NOISE = "import os; os.write(2, b'I0000 port.cc:153] native start-up noise\\n')"


def test_a_failing_cell_is_named_with_the_end_of_its_log(tmp_path):
    path = _notebook(tmp_path, NATIVE_NOISE, "raise ValueError('boom')")
    with pytest.raises(NotebookFailed) as failure:
        run_notebook(path, tmp_path / "out", log=tmp_path / "logs" / "99.log")
    message = str(failure.value)
    assert re.search(r"99_broken.ipynb failed in cell 2 \(id 'cell-2'.*ValueError: boom", message), message
    assert "native start-up noise" in message and str(tmp_path / "logs" / "99.log") in message
    assert (tmp_path / "out" / "99_broken.ipynb").exists()


def test_the_kernels_own_output_goes_to_its_log_not_the_terminal(tmp_path, capfd):
    path = _notebook(tmp_path, NATIVE_NOISE, name="98_noisy.ipynb")
    run_notebook(path, tmp_path / "out", log=tmp_path / "98.log")
    out, err = capfd.readouterr()
    assert "native start-up noise" not in out + err
    assert "native start-up noise" in (tmp_path / "98.log").read_text()


def test_the_kernel_is_shut_down_when_the_notebook_ends(tmp_path):
    """A course run executes eleven notebooks of 1-1.6 GB each: no kernel may outlive its notebook."""
    path = _notebook(tmp_path, "import os; print(os.getpid())", name="96_pid.ipynb")
    run_notebook(path, tmp_path / "out", log=tmp_path / "96.log")
    executed = nbformat.read(tmp_path / "out" / "96_pid.ipynb", as_version=4)
    pid = int(executed.cells[1].outputs[0]["text"])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.2)
    pytest.fail(f"the kernel {pid} is still running after its notebook ended")


def test_main_shows_progress_headline_and_summary(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path / "reports"))
    path = _notebook(tmp_path, NATIVE_NOISE, name="97_quiet.ipynb")
    monkeypatch.setattr("recutils.course.__main__.course_notebooks", lambda: [path])
    assert main([]) == 0
    out, err = capsys.readouterr()
    assert "[1/1] 97_quiet" in err and "2/2 cells" in err and "not benchmarked" in err  # tqdm's bar
    assert "97_quiet done in" in out and "no results recorded" in out
    assert re.search(r"97_quiet\s+│\s+\d+\s+│ ok", out), out  # the summary table
    assert "native start-up noise" not in out + err
    assert (tmp_path / "reports" / "logs" / "97_quiet.log").exists()
    assert json.loads((tmp_path / "reports" / "course_run.json").read_text())["status"] == {"97_quiet": "ok"}


def test_main_reports_the_failure_and_exits_1(tmp_path, monkeypatch, capsys):
    path = _notebook(tmp_path, NATIVE_NOISE, "1 / 0")
    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setattr("recutils.course.__main__.course_notebooks", lambda: [path])
    assert main([]) == 1
    out = capsys.readouterr().out
    assert "99_broken.ipynb failed in cell 2" in out and "ZeroDivisionError" in out
    assert "native start-up noise" in out  # the end of the kernel's log
    assert re.search(r"99_broken\s+│\s+\d+\s+│ failed", out), out


def test_only_names_an_unknown_notebook():
    with pytest.raises(ValueError, match=r"No notebook starts with \['77'\].*00_data_and_protocol"):
        select(course_notebooks(), ["77"])
    assert [p.stem[:2] for p in select(course_notebooks(), ["03", "00"])] == ["00", "03"]


def test_headline_is_the_best_model_of_this_run(tmp_path, monkeypatch, split):
    from recutils.original_designs import record_design
    from recutils.reporting import record_metrics, results_path

    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path))
    record_metrics("05_x", "Old", split, {"ndcg@10": 0.9}, seed=1)
    record_metrics("05_x", "Old", split, {"ndcg@10": 0.95}, seed=1, part="valid")
    results = results_path()
    results.write_text(re.sub(r'"time": "[^"]+"', '"time": "2000-01-01T00:00:00+00:00"', results.read_text()))
    assert headline("05_x", since="2001") == "no results recorded"
    for seed, (a, b) in enumerate([(0.10, 0.12), (0.14, 0.11)]):
        record_metrics("05_x", "A", split, {"ndcg@10": a, "rmse": 1.0}, seed=seed)
        record_metrics("05_x", "B", split, {"ndcg@10": b}, seed=seed)
    assert headline("05_x") == "Old: NDCG@10 0.9000"  # every run's records; valid is never a headline
    assert headline("05_x", since="2001") == "A: NDCG@10 0.1200 (mean of 2 seeds)"
    assert headline("06_x", since="2001") == "no results recorded"
    record_design("05_x", "report model", "as written", split, {"ndcg@10": 0.5}, headline="ndcg@10",
                  reported=None, reported_as="none")
    assert headline("05_x", since="2001") == "A: NDCG@10 0.1200 (mean of 2 seeds)"  # not a design


def test_headline_of_a_rating_notebook_is_its_lowest_rmse(tmp_path, monkeypatch, split):
    from recutils.reporting import record_metrics

    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path))
    record_metrics("01_x", "Mean", split, {"rmse": 1.2})
    record_metrics("01_x", "Bias", split, {"rmse": 0.95})
    assert headline("01_x") == "Bias: RMSE 0.9500 (canonical split)"
    assert headline("02_x") == "no results recorded"


def test_every_notebook_links_to_colab_and_installs_from_the_repository():
    from recutils.course.links import REPOSITORY, colab_url

    for path in course_notebooks():
        nb = nbformat.read(path, as_version=4)
        fix = "run `python -m recutils.course --stamp`"
        assert colab_url(path.name) in nb.cells[0].source, f"{path.name} has no Colab badge: {fix}"
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        installs = [s for s in code if "git+https://github.com/" in s]
        address = f"git+https://github.com/{REPOSITORY}\""
        assert installs and all(address in s for s in installs), f"{path.name} installs from elsewhere: {fix}"


def test_stamp_links_writes_the_badge_once(tmp_path, monkeypatch):
    from recutils.course import links as course

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 05 · Title\n\nText.", id="title"),
                nbformat.v4.new_code_cell('pip("recutils @ git+https://github.com/old/place")', id="setup")]
    path = tmp_path / "05_x.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(course, "REPOSITORY", "someone/course")
    assert course.stamp_links(path) and not course.stamp_links(path)  # idempotent
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source == f"# 05 · Title\n\n{course.colab_badge('05_x.ipynb')}\n\nText."
    assert "someone/course/blob/main/notebooks/05_x.ipynb" in cells[0].source
    assert cells[1].source == 'pip("recutils @ git+https://github.com/someone/course")'
    assert [c.id for c in cells] == ["title", "setup"]


def test_course_map_lists_every_notebook_in_course_order():
    from recutils.course.map import COURSE_MAP

    assert [lesson.stem for lesson in COURSE_MAP] == [p.stem for p in course_notebooks()]
    assert all(1 <= lesson.difficulty <= 3 and lesson.objectives for lesson in COURSE_MAP)


def test_readme_and_index_carry_the_current_course_map(tmp_path):
    import shutil

    from recutils.course.map import stamp_course_map
    from recutils.paths import project_root

    root = project_root()
    for name in ("README.md", "notebooks/index.ipynb", "docs/benchmark.json"):
        if (root / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / name, tmp_path / name)
    changed = stamp_course_map(tmp_path)
    assert changed == [], f"{changed} out of date: run `python -m recutils.course --stamp`"


def test_course_map_table_shows_measured_minutes_and_unmeasured_notebooks():
    from recutils.course.map import map_table

    table = map_table({"00_data_and_protocol": 90.0})
    lines = table.splitlines()
    assert len(lines) == 2 + len(course_notebooks())
    assert "| 1.5 min |" in lines[2] and "| not measured |" in lines[3]
    assert "(notebooks/00_data_and_protocol.ipynb)" in lines[2]


def test_every_notebook_ends_with_three_exercises_and_hidden_solutions():
    for path in course_notebooks():
        nb = nbformat.read(path, as_version=4)
        solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
        assert len(solutions) >= 3, f"{path.name}: {len(solutions)} solutions"
        for cell in solutions:
            assert cell.cell_type == "code" and cell.source.startswith("# Solution to exercise"), cell.id
            hidden = cell.metadata.get("jupyter", {})
            assert hidden.get("source_hidden") is True, f"{path.name}: {cell.id} shown"
            assert hidden.get("outputs_hidden") is True, f"{path.name}: {cell.id}: answer shown after Run All"
        first = nb.cells.index(solutions[0])
        assert any(c.cell_type == "markdown" and "Exercise" in c.source for c in nb.cells[:first]), path.name
