"""The course's repository address, set once, and the Colab links built from it.

:data:`REPOSITORY` is the one place the address is written; ``python -m recutils.course --stamp``
writes it into every notebook (the "Open in Colab" badge under the title, and the address the
Colab branch of the setup cell installs ``recutils`` from), and a test checks they agree.
"""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = "recsys-tf-course/recsys-tf-course"
"""The course's GitHub repository (owner/name): the one place its address is set."""
BRANCH = "main"

_BADGE = re.compile(r"^\[!\[Open In Colab\]\(.*$", re.MULTILINE)
_INSTALL = re.compile(r"git\+https://github\.com/[^\"' ]+")


def colab_url(notebook: str) -> str:
    """The address that opens ``notebooks/<notebook>`` of the repository in Google Colab."""
    return f"https://colab.research.google.com/github/{REPOSITORY}/blob/{BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """The Markdown "Open in Colab" badge for a notebook."""
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({colab_url(notebook)})"


def stamp_links(path: Path) -> bool:
    """Write :data:`REPOSITORY` into a notebook: the Colab badge on the line after the title of
    its first cell, and the install address of its setup cell.  Returns whether it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    before = [c.source for c in nb.cells]
    title = nb.cells[0]
    heading, _, rest = _BADGE.sub("", title.source).strip("\n").partition("\n")
    title.source = "\n\n".join(part for part in (heading, colab_badge(path.name), rest.strip("\n")) if part)
    for cell in nb.cells:
        if cell.cell_type == "code" and _INSTALL.search(cell.source):
            cell.source = _INSTALL.sub(f"git+https://github.com/{REPOSITORY}", cell.source)
    changed = before != [c.source for c in nb.cells]
    if changed:
        nbformat.write(nb, path)
    return changed
