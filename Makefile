# The two commands of the README, and a few helpers. Each creates the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run test bench release check-release doctor clean

run: $(STAMP)  ## the workshop: broker check, JupyterLab with the course, live grader (ARGS="--keep-open 5", ...)
	$(BIN)/workshop up $(ARGS)

test: $(STAMP)  ## the whole test suite against a real broker
	$(BIN)/pytest $(ARGS)

bench: $(STAMP)  ## grader throughput, page latency and a flood, each beside a baseline
	$(BIN)/python -m benchmarks.grader_throughput
	$(BIN)/python -m benchmarks.leaderboard_latency
	$(BIN)/python -m benchmarks.flood

release: $(STAMP)  ## rebuild notebooks/ from course/source
	$(BIN)/workshop release

check-release: $(STAMP)
	$(BIN)/workshop release --check

doctor: $(STAMP)
	$(BIN)/workshop doctor

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,postgres]'
	touch $@

clean:
	rm -rf $(VENV) workspace .pytest_cache
