"""The course runner runs notebooks in order and stops, with names, when one fails."""

import nbformat
import pytest

from recutils.course import course_notebooks, main, run_notebook


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


def _notebook(tmp_path, source: str):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(source)]
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    return path


def test_a_failing_cell_is_named(tmp_path):
    path = _notebook(tmp_path, "raise ValueError('boom')")
    with pytest.raises(RuntimeError, match=r"99_broken.ipynb failed in cell 1 .*ValueError: boom"):
        run_notebook(path, tmp_path / "out")
    assert (tmp_path / "out" / "99_broken.ipynb").exists()


def test_main_reports_the_failure_and_exits_1(tmp_path, monkeypatch, capsys):
    path = _notebook(tmp_path, "1 / 0")
    monkeypatch.setenv("RECUTILS_REPORTS_DIR", str(tmp_path / "reports"))
    monkeypatch.setattr("recutils.course.course_notebooks", lambda: [path])
    assert main([]) == 1
    assert "99_broken.ipynb failed in cell 1" in capsys.readouterr().err


def test_every_notebook_links_to_colab_and_installs_from_the_repository():
    from recutils.course import REPOSITORY, colab_url

    for path in course_notebooks():
        nb = nbformat.read(path, as_version=4)
        fix = "run `python -m recutils.course --stamp`"
        assert colab_url(path.name) in nb.cells[0].source, f"{path.name} has no Colab badge: {fix}"
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        installs = [s for s in code if "git+https://github.com/" in s]
        address = f"git+https://github.com/{REPOSITORY}\""
        assert installs and all(address in s for s in installs), f"{path.name} installs from elsewhere: {fix}"


def test_stamp_links_writes_the_badge_once(tmp_path, monkeypatch):
    from recutils import course

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
    from recutils.course_map import COURSE_MAP

    assert [lesson.stem for lesson in COURSE_MAP] == [p.stem for p in course_notebooks()]
    assert all(1 <= lesson.difficulty <= 3 and lesson.objectives for lesson in COURSE_MAP)


def test_readme_and_index_carry_the_current_course_map(tmp_path):
    import shutil

    from recutils.course_map import stamp_course_map
    from recutils.paths import project_root

    root = project_root()
    for name in ("README.md", "notebooks/index.ipynb", "docs/benchmark.json"):
        if (root / name).exists():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(root / name, tmp_path / name)
    changed = stamp_course_map(tmp_path)
    assert changed == [], f"{changed} out of date: run `python -m recutils.course --stamp`"


def test_course_map_table_shows_measured_minutes_and_unmeasured_notebooks():
    from recutils.course_map import map_table

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
            hidden = cell.metadata.get("jupyter", {}).get("source_hidden")
            assert hidden is True, f"{path.name}: {cell.id} shown"
        first = nb.cells.index(solutions[0])
        assert any(c.cell_type == "markdown" and "Exercise" in c.source for c in nb.cells[:first]), path.name
