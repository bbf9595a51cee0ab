# Two commands do all set-up: `make lab` (open the notebooks) and `make test` (run every test,
# notebooks included, in quick mode). Both create .venv on first use and refresh it when
# pyproject.toml changes. Needs only Python 3.10+, pip and make.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nasbook-installed
PYTEST_ARGS ?=

export TF_CPP_MIN_LOG_LEVEL ?= 2
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: install lab test test-full test-student book student clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "nasbook needs Python 3.10 or newer; found " + sys.version.split()[0])'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,classroom]'
	touch $(STAMP)

# Jupyter refuses to run as root unless told; containers often are root.
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=notebooks --ServerApp.ip=127.0.0.1 $(ROOT_FLAG)

test: $(STAMP)
	NASBOOK_QUICK=1 $(BIN)/python -m pytest --durations=30 $(PYTEST_ARGS)

# Full mode, as readers run it, for every notebook measured at <= 5 minutes (notebooks/runtimes.csv);
# the output checks are the same as in quick mode. CI runs it after `make test`.
test-full: $(STAMP)
	NASBOOK_TEST_FULL=1 $(BIN)/python -m pytest tests/test_notebooks.py -k full_mode $(PYTEST_ARGS)

# `make book` runs every notebook in full mode and builds the book: build/index.html (the notebooks in
# order with their goals and the learning path from notebooks/runtimes.csv) and one offline HTML page
# per notebook with its figures and previous/next links; it also writes the runtime table
# build/runtimes.md (seconds, failed trials, warnings, tracebacks); copy its figures into
# notebooks/runtimes.csv and the README. One notebook: `make book NOTEBOOKS=notebooks/00_welcome_and_tour.ipynb`.
NOTEBOOKS ?= $(wildcard notebooks/[0-9]*.ipynb)

book: $(STAMP)
	$(BIN)/python -m nasbook.book $(NOTEBOOKS) --out build

# Student copies: solutions (### BEGIN SOLUTION ... ### END SOLUTION) replaced by
# `raise NotImplementedError` stubs, outputs cleared, checks kept; the same cells as nbgrader's
# release (README "For teachers"). Grade them with `nasbook grade`.
student: $(STAMP)
	$(BIN)/python -m nasbook.student $(NOTEBOOKS) --out build/student

# Every notebook's student copy (those with solutions marked) runs top to bottom in quick mode and
# each stubbed exercise answers "not yet".
test-student: $(STAMP)
	NASBOOK_QUICK=1 NASBOOK_TEST_STUDENT=1 $(BIN)/python -m pytest tests/test_student_notebooks.py $(PYTEST_ARGS)

clean:
	rm -rf build .pytest_cache notebooks/runs
