# Two commands do all the set-up on a fresh machine (Python 3.11):
#   make demo   - builds .venv if needed, runs the main job on the embedded default
#   make test   - builds the virtual environments if needed, runs the whole test suite
#                 (what .ci/run runs)
# Tests that need ../shared/data skip without it, named by -rs (VIDEOAD_DATA points elsewhere);
# .ci/run sets VIDEOAD_REQUIRE_DATA=1 so that in CI a missing data folder fails instead.
# .venv      CPU torch 2.13 + the package with its dev, decord, pyav and ray extras: everything but
#            the torchvision/pytorchvideo backbones
# Both pin the numerical libraries to .ci/constraints.txt (the versions the recorded results used).
# .venv-full torch 2.14.1 + torchvision 0.29.1 (the only working pair on this project's
#            machines, a CUDA build that also runs on the CPU, ~6 GB) + pytorchvideo, for the
#            tests marked `vision`
PY ?= python3
VENV := .venv
VENV_FULL := .venv-full
STAMP := $(VENV)/.installed
STAMP_FULL := $(VENV_FULL)/.installed
PYTEST_ENV := OMP_NUM_THREADS=1 MPLBACKEND=Agg
# the core tests run on 2 pytest-xdist workers (make test-core TEST_WORKERS=4 on a bigger machine,
# TEST_WORKERS=0 for one process); --dist loadgroup keeps each xdist_group on one worker: the Ray
# local cluster's module, the Chromium browser tests, the installed-package module
TEST_WORKERS ?= 2

.PHONY: demo test test-core test-vision venv bench-quick clean

$(STAMP): pyproject.toml .ci/constraints.txt
	$(PY) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	# the CPU build of torch first (on this project's machines pip finds it on local disk);
	# elsewhere pip takes torch<2.15 from PyPI
	$(VENV)/bin/pip install --quiet "torch==2.13.0" || $(VENV)/bin/pip install --quiet "torch>=2.4,<2.15"
	$(VENV)/bin/pip install --quiet -c .ci/constraints.txt -e ".[dev,decord,pyav,ray]"
	touch $(STAMP)

$(STAMP_FULL): pyproject.toml .ci/constraints.txt
	$(PY) -m venv $(VENV_FULL)
	$(VENV_FULL)/bin/pip install --quiet --upgrade pip
	$(VENV_FULL)/bin/pip install --quiet -c .ci/constraints.txt -e ".[dev,decord,pyav,ptv,ray]"
	touch $(STAMP_FULL)

venv: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/videoad demo

test: test-core test-vision

test-core: $(STAMP)
	$(PYTEST_ENV) $(VENV)/bin/python -m pytest -q -rs -p no:cacheprovider -m "not vision" -n $(TEST_WORKERS) --dist loadgroup

test-vision: $(STAMP_FULL)
	$(PYTEST_ENV) $(VENV_FULL)/bin/python -m pytest -q -rs -p no:cacheprovider -m vision

bench-quick: $(STAMP)
	VIDEOAD_DATA=$${VIDEOAD_DATA:-../shared/data} $(VENV)/bin/videoad bench kddcup --quick

clean:
	rm -rf $(VENV) $(VENV_FULL) build *.egg-info
