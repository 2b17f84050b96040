# The course's two commands (see README.md):
#   make course   run every notebook at its default settings; executed copies and metrics in reports/
#   make test     run the test suite (unit tests and every notebook, with their metric checks)
# Each creates the virtual environment .venv on first use and installs what it needs.
#   make benchmark  run the course measuring each notebook; writes the README's cost tables
#   make site       build the executed course as a static website in reports/site/
#   make lab        start JupyterLab on the notebooks folder

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: course test lab benchmark site browser clean

# JupyterLab opens on the course map, with the course's settings (jupyterlab-settings/overrides.json:
# no news prompt, no update check, which would cover the map); tests/test_jupyterlab.py uses these flags.
LAB_FLAGS := --notebook-dir=notebooks --LabApp.default_url=/lab/tree/index.ipynb --LabApp.app_settings_dir=jupyterlab-settings

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[course,test]"
	touch $(STAMP)

course: $(STAMP)
	$(BIN)/python -m recutils.course $(if $(ONLY),--only $(ONLY))

test: $(STAMP) browser
	$(BIN)/python -m pytest

# The site test opens pages in Debian's headless Chromium; install it where we may (root, apt).
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian's chromium and chromium-driver for the site test ..."; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; \
	else echo "No chromium/chromedriver: the site test will be skipped (install Debian's chromium and chromium-driver)."; fi

benchmark: $(STAMP)
	$(BIN)/python -m recutils.course.benchmark --update-readme

site: $(STAMP)
	$(BIN)/python -m recutils.course.site

lab: $(STAMP)
	$(BIN)/jupyter lab $(LAB_FLAGS) $(if $(filter 0,$(shell id -u)),--allow-root)

clean:
	rm -rf $(VENV) reports/executed reports/tensorboard reports/results.jsonl reports/*.json reports/benchmark.md reports/site
