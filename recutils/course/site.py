"""Build the executed course as a static website: the course map and one page per notebook.

``python -m recutils.course.site`` (``make site``) converts the executed copies of a course run
(``reports/executed/``; a notebook without one is run first, in course order) with nbconvert's
JupyterLab template into ``reports/site/``.  ``index.html`` is the course map
(``notebooks/index.ipynb``); each notebook page keeps its outputs, figures embedded, with links
to the map and to the notebooks before and after it.  The site loads nothing from another
host: MathJax is copied from the ``jupyter-server-mathjax`` package (with the STIX web fonts it
ships, as the classic notebook used it, and its blank test font declared local, since Chromium
refuses the ``about:blank`` address MathJax 2 gives it), a blank icon saves a request, require.js and mermaid
(which the course does not use) are left out and the Colab badge image becomes a text link, so
the pages read offline and from any static file server.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from recutils.course.runner import course_notebooks, run_notebook
from recutils.paths import reports_dir

_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
<link rel="icon" href="data:,">
<script type="text/x-mathjax-config">
MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], webFont: "STIX-Web", imageFont: null,
  styles: {"@font-face": {"font-family": "MathJax_Blank", src: "local('MathJax_Blank')"}}}});
</script>
{{ super() }}
{%- endblock html_head_js_mathjax -%}
{%- block body_header -%}
{{ super() }}
<nav class="course-nav" style="margin: 1em 0; font-family: sans-serif;">
{%- for label, href in resources.course_links -%}
{% if not loop.first %} · {% endif %}<a href="{{ href }}">{{ label }}</a>
{%- endfor -%}
</nav>
{%- endblock body_header -%}
"""
_MATHJAX = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
_BADGE = re.compile(r'<img alt="Open In Colab" src="https://colab\.research\.google\.com/[^"]*"\s*/?>')
_NOTEBOOK_LINK = re.compile(r'href="(\d\d_[A-Za-z0-9_]+|index)\.ipynb"')


def page_title(nb) -> str:
    """A notebook's title: the text of its first Markdown heading (else its file name)."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^#\s+(.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return nb.metadata.get("title", "")


def render_page(path: Path, links: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """One notebook as a self-contained HTML page; returns (title, html).

    Args:
        path: the notebook (executed, for a course page).
        links: (label, href) pairs for the navigation bar at the top of the page.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(path, as_version=4)
    title = page_title(nb) or path.stem
    nb.metadata["title"] = title
    exporter = HTMLExporter(template_name="lab", mathjax_url=_MATHJAX)
    exporter.raw_template = _TEMPLATE
    html, _ = exporter.from_notebook_node(nb, resources={"course_links": list(links)})
    html = _BADGE.sub("Open in Colab", html)
    return title, _NOTEBOOK_LINK.sub(r'href="\1.html"', html)


def copy_mathjax(out: Path) -> None:
    """Copy MathJax (from the ``jupyter-server-mathjax`` package) into ``out/mathjax``."""
    import jupyter_server_mathjax

    source = Path(jupyter_server_mathjax.__file__).parent / "static"
    shutil.copytree(source, out / "mathjax", dirs_exist_ok=True)


def build_site(executed: Path, out: Path, notebooks: Sequence[Path] | None = None) -> list[Path]:
    """Write the site: ``index.html`` from the course map, a page per executed notebook.

    Returns the pages written.  The site is built in a temporary folder beside ``out`` and
    moved into place at the end, so a failed build leaves the previous site whole.

    Raises:
        FileNotFoundError: a course notebook has no executed copy in ``executed``.
    """
    notebooks = list(notebooks or course_notebooks())
    missing = [nb.name for nb in notebooks if not (executed / nb.name).exists()]
    if missing:
        raise FileNotFoundError(f"No executed copy of {', '.join(missing)} in {executed}: run "
                                "`make course` (or `python -m recutils.course.site`, which runs them).")
    staging = out.with_name(out.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    copy_mathjax(staging)
    pages = []
    stems = [nb.stem for nb in notebooks]
    for i, nb in enumerate(notebooks):
        links = [("Course map", "index.html")]
        if i > 0:
            links.append((f"← {stems[i - 1][:2]}", f"{stems[i - 1]}.html"))
        if i + 1 < len(stems):
            links.append((f"{stems[i + 1][:2]} →", f"{stems[i + 1]}.html"))
        _, html = render_page(executed / nb.name, links)
        pages.append(staging / f"{nb.stem}.html")
        pages[-1].write_text(html, encoding="utf-8")
    index = notebooks[0].parent / "index.ipynb"
    _, html = render_page(index, [(f"Start: {stems[0][:2]} →", f"{stems[0]}.html")])
    (staging / "index.html").write_text(html, encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    staging.rename(out)
    return [out / "index.html"] + [out / p.name for p in pages]


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: run the notebooks not run yet, then build the site; 1 if one fails."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=None, help="site folder (default: reports/site)")
    args = parser.parse_args(argv)
    executed = reports_dir() / "executed"
    for nb in course_notebooks():
        if not (executed / nb.name).exists():
            print(f"Running {nb.name} (no executed copy yet) ...", flush=True)
            try:
                run_notebook(nb, executed)
            except RuntimeError as exc:
                print(f"\nSite not built: {exc}", file=sys.stderr)
                return 1
    out = args.out or reports_dir() / "site"
    pages = build_site(executed, out)
    print(f"{len(pages)} pages written to {out}; open {out / 'index.html'} in a browser.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
