"""The course's code, notebooks included, passes ruff with the rules in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_is_clean_on_package_tests_and_notebooks():
    command = [sys.executable, "-m", "ruff", "check", "--no-cache", "recutils", "tests", "notebooks"]
    proc = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-1000:]
