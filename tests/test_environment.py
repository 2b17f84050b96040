"""The conda environment and the pip path install the same packages."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def pip_requirements() -> set[tuple[str, str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("course", "test"):
        reqs += project["optional-dependencies"][extra]
    return {_normalise(r) for r in reqs}


def conda_requirements() -> set[tuple[str, str]]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    reqs = []
    for line in lines[start + 1:]:
        m = re.match(r"\s+-\s+(\S.*)", line)
        if not m:
            break
        reqs.append(m.group(1))
    return {_normalise(r) for r in reqs}


def test_environment_yml_and_pyproject_list_the_same_packages():
    pip, conda = pip_requirements(), conda_requirements()
    assert pip == conda, f"only in pyproject: {pip - conda}; only in environment.yml: {conda - pip}"


def test_environment_yml_pins_a_supported_python():
    text = (ROOT / "environment.yml").read_text()
    version = re.search(r"-\s*python\s*=\s*3\.(\d+)", text)
    assert version and int(version.group(1)) >= 11
