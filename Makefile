# kg: make demo | make test | make lint | make bench
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: install demo test lint bench bench-large clean data

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/kg build
	$(BIN)/kg query run partners --param state=JPN
	$(BIN)/kg report --out report/
	@echo
	@echo "Report written to report/index.html (map: report/map.html)"

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check kg tests benchmarks

# the Defense of Japan census: extract the white papers' exercise tables (needs the
# texts in SOURCES), then generate the curated records from the committed CSV
DOJ_SOURCES ?= ../shared/sources/defense-of-japan
data: install
	$(BIN)/python data-raw/defense_of_japan.py $(DOJ_SOURCES)
	$(BIN)/python data-raw/defense_of_japan_curate.py

# kg's modules compiled first, as `pip install .` leaves them: with PYTHONDONTWRITEBYTECODE
# set (as on the project's machines) an editable install would compile them in every run
bench: install
	$(BIN)/python -m compileall -q kg
	$(BIN)/python benchmarks/run.py

# not in CI: a 10M-triple world (about 1.5 GB of N-Triples, 20-40 min)
bench-large: install
	$(BIN)/python -m compileall -q kg
	$(BIN)/python benchmarks/run.py --large

clean:
	rm -rf .kg report bench-results build *.egg-info
