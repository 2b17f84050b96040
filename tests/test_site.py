"""The rendered course (``make site``), opened in headless Chromium as a reader would.

The site is built from the notebooks this test session executed (at least 00; in a full run,
every notebook, since this file runs after the notebook tests), served from 127.0.0.1, and
opened in Debian's ``chromium`` through ``chromedriver`` (``make test`` installs both when it
runs as root).  Each page must show its title and, for a notebook, at least one figure and the
rendered equations, and the browser's console must stay free of errors: the pages load
nothing from other hosts.
"""

import functools
import http.server
import re
import threading

import pytest
from notebook_runner import execute, session_reports

from recutils.course.runner import course_notebooks
from recutils.course.site import build_site

pytestmark = pytest.mark.notebook

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site built from this session's executed notebooks, served on 127.0.0.1."""
    execute("00")
    executed = session_reports() / "executed" / "defaults"
    notebooks = [nb for nb in course_notebooks() if (executed / nb.name).exists()]
    out = tmp_path_factory.mktemp("site") / "site"
    build_site(executed, out, notebooks)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", out, notebooks
    server.shutdown()


def _open(driver, url: str) -> list[dict]:
    """Load ``url``, wait for MathJax to finish; the console errors it logged."""
    driver.get_log("browser")  # drop what earlier pages logged
    driver.get(url)
    driver.set_script_timeout(30)
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(() => done(true)); } else { done(false); }")
    return [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def test_index_links_every_notebook(browser, site):
    base, _, _ = site
    errors = _open(browser, f"{base}/index.html")
    assert errors == []
    assert browser.title == "Recommender systems with TensorFlow: the course map"
    heading = browser.find_element("css selector", "h1")
    assert heading.is_displayed() and "course map" in heading.text
    hrefs = {a.get_attribute("href").rsplit("/", 1)[-1] for a in browser.find_elements("css selector", "a")}
    assert {f"{nb.stem}.html" for nb in course_notebooks()} <= hrefs


def test_a_notebook_page_shows_its_title_figures_and_equations(browser, site):
    base, _, notebooks = site
    page = notebooks[0]
    errors = _open(browser, f"{base}/{page.stem}.html")
    assert errors == []
    assert browser.title.startswith("00 · ")
    assert browser.find_element("css selector", "h1").text.startswith("00 · ")
    figures = browser.execute_script(
        "return [...document.querySelectorAll('.jp-OutputArea-output img')]"
        ".filter(img => img.complete && img.naturalWidth > 100).length")
    assert figures >= 1
    assert browser.execute_script("return document.querySelectorAll('.MathJax, .MathJax_Display').length") > 0


def test_every_page_loads_only_from_the_site(site):
    _, out, notebooks = site
    pages = sorted(out.glob("*.html"))
    assert [p.name for p in pages] == sorted(["index.html"] + [f"{nb.stem}.html" for nb in notebooks])
    for page in pages:
        html = page.read_text()
        assert not re.search(r'<(script|img|link)[^>]+(src|href)="(https?:)?//', html), page.name
        assert not re.search(r'href="[^":/]*\.ipynb"', html), page.name  # links between pages
