# The two commands of the README, and a few helpers. Each creates the virtualenv on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# configurable-http-proxy for the room's JupyterHub (workshop up --room), pinned by its package-lock.json
PROXY_SPEC := grader/classroom/proxy
PROXY := $(VENV)/proxy/node_modules/.bin/configurable-http-proxy

.PHONY: run test bench bench-autograde release check-release doctor proxy clean

run: $(STAMP) $(PROXY)  ## the workshop: broker check, JupyterLab with the course, live grader (ARGS="--keep-open 5", ...)
	$(BIN)/workshop up $(ARGS)

test: $(STAMP) $(PROXY)  ## the whole test suite against a real broker
	$(BIN)/pytest $(ARGS)

bench: $(STAMP)  ## grader throughput, page latency and a flood, each beside a baseline
	$(BIN)/python -m benchmarks.grader_throughput
	$(BIN)/python -m benchmarks.leaderboard_latency
	$(BIN)/python -m benchmarks.flood

bench-autograde: $(STAMP)  ## a class of 60 graded by workshop autograde beside sequential nbgrader autograde (about 20 min)
	$(BIN)/python -m benchmarks.class_autograde $(ARGS)

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

proxy: $(PROXY)  ## configurable-http-proxy from the npm registry, for the room (needs Node.js 20+ and npm)

# Without npm, say so and go on: only the room needs the proxy (its test is skipped, and fails under CI).
$(PROXY): $(PROXY_SPEC)/package.json $(PROXY_SPEC)/package-lock.json
	@if ! command -v npm >/dev/null; then \
	  echo "npm not found: the room (workshop up --room) needs configurable-http-proxy; install Node.js 20+ and npm, then run make proxy" >&2; \
	else \
	  mkdir -p $(VENV)/proxy && cp $^ $(VENV)/proxy/ && \
	  npm ci --prefix $(VENV)/proxy --no-audit --no-fund --loglevel=error && touch $@; \
	fi

clean:
	rm -rf $(VENV) workspace .pytest_cache
