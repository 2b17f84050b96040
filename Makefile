# The course's two commands (see README.md):
#   make course   run every notebook at its default settings; executed copies and metrics in reports/
#   make test     run the test suite (unit tests and every notebook, with their metric checks)
# Each creates the virtual environment .venv on first use and installs what it needs.
#   make benchmark  run the course measuring each notebook; writes the README's cost tables

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: course test lab benchmark clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	touch $(STAMP)

course: $(STAMP)
	$(BIN)/python -m recutils.course

test: $(STAMP)
	$(BIN)/python -m pytest

benchmark: $(STAMP)
	$(BIN)/python -m recutils.benchmark --update-readme

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) reports/executed reports/tensorboard reports/results.jsonl reports/*.json reports/benchmark.md
