# Two commands do all the set-up on a fresh machine (Python 3.11):
#   make demo   - builds .venv if needed, runs the main job on the embedded default
#   make test   - builds .venv if needed, runs the test suite (what .ci/run runs)
PY ?= python3
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test venv bench-quick clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# the CPU build of torch first (on this project's machines pip finds it on local disk);
	# elsewhere pip takes torch<2.15 from PyPI
	$(VENV)/bin/pip install --quiet "torch==2.13.0" || $(VENV)/bin/pip install --quiet "torch>=2.4,<2.15"
	$(VENV)/bin/pip install --quiet -e ".[dev,decord,pyav]"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/videoad demo

test: $(STAMP)
	OMP_NUM_THREADS=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider

bench-quick: $(STAMP)
	$(VENV)/bin/videoad bench kddcup --quick --seeds 1

clean:
	rm -rf $(VENV) build *.egg-info
