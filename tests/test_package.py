"""The package docstring's map of which notebook uses which module is the notebooks' own."""

import re

import nbformat

import recutils
from recutils.course.runner import course_notebooks

IMPORT = r"from recutils\.(\w+)[\w.]* import|import recutils\.(\w+)|from recutils import (\w+)"


def _numbers(spec: str, every: list[str]) -> set[str]:
    if spec == "every notebook":
        return set(every)
    numbers = set()
    for part in spec.split(", "):
        first, _, last = part.partition("-")
        numbers |= {f"{n:02d}" for n in range(int(first), int(last or first) + 1)}
    return numbers


def test_the_package_docstring_says_which_notebook_imports_which_module():
    notebooks = {p.stem[:2]: p for p in course_notebooks()}
    stated: dict[str, set[str]] = {}
    lines = re.findall(r"^- ([\w ,-]+): (.+?)(?=^- |^\n)", recutils.__doc__, re.MULTILINE | re.DOTALL)
    for spec, modules in lines:
        for module in re.findall(r":mod:`~recutils\.(\w+)`", modules):
            stated[module] = _numbers(spec, list(notebooks))
    imported: dict[str, set[str]] = {}
    for number, path in notebooks.items():
        code = "\n".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        for module in re.findall(IMPORT, code):
            imported.setdefault(next(m for m in module if m), set()).add(number)
    imported.pop("course")  # the machinery, named in a sentence of its own
    assert stated == imported
