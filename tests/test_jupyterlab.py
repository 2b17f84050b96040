"""`make lab` starts JupyterLab on the course: here it is started headless with the Makefile's
flags, asked for the notebooks, and opened in headless Chromium as a learner would see it."""

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from recutils.course.runner import course_notebooks

ROOT = Path(__file__).resolve().parent.parent
NEWS_PROMPT = "Would you like to get notified about official Jupyter news?"


def lab_flags() -> list[str]:
    """The flags `make lab` passes to JupyterLab (its LAB_FLAGS line)."""
    match = re.search(r"^LAB_FLAGS\s*:=\s*(.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, "the Makefile has no LAB_FLAGS line"
    return match.group(1).split()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab started as `make lab` starts it (from the repository root), for a new user."""
    home = tmp_path_factory.mktemp("home")
    port, token = _free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               f"--IdentityProvider.token={token}", *lab_flags()]
    if os.geteuid() == 0:  # as `make lab` does: containers often run as root
        command.append("--allow-root")
    env = {"JUPYTER_RUNTIME_DIR": str(home), "PATH": "/usr/bin:/bin", "HOME": str(home)}
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                listing = _get(f"{base}/api/contents", token)
                break
            except OSError:
                assert process.poll() is None, f"JupyterLab exited: {process.stderr.read()[-2000:]}"
                assert time.monotonic() < deadline, "JupyterLab did not answer within 60 s"
                time.sleep(0.5)
        yield base, token, listing
        request = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                         headers={"Authorization": f"token {token}"})
        urllib.request.urlopen(request, timeout=5).close()
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_jupyterlab_serves_the_course_notebooks(lab):
    base, token, listing = lab
    names = {item["name"] for item in listing["content"]}
    assert {p.name for p in course_notebooks()} | {"index.ipynb"} <= names
    settings = _get(f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification", token)
    defaults = settings["schema"]["properties"]  # jupyterlab-settings/overrides.json sets them
    assert defaults["fetchNews"]["default"] == "false" and defaults["checkForUpdates"]["default"] is False


@pytest.mark.notebook
def test_lab_opens_on_the_course_map_without_the_news_prompt(lab, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    base, token, _ = lab
    browser.get(f"{base}/?token={token}")
    wait = WebDriverWait(browser, 60)
    map_table = (By.CSS_SELECTOR, ".jp-RenderedMarkdown table")
    wait.until(expected_conditions.presence_of_element_located(map_table))
    assert browser.current_url.split("?")[0].endswith("/lab/tree/index.ipynb")
    time.sleep(3)  # the announcements plugin asks once the application is restored
    page = browser.find_element(By.TAG_NAME, "body").text
    assert "data and protocol" in page  # the map's first row
    assert NEWS_PROMPT not in page
