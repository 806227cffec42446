# Two commands for a new user: `make demo` (the main job) and `make test`.
# Each bootstraps .venv by itself, only when it is missing or older than pyproject.toml.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.hwssm-installed
BIN    := $(VENV)/bin

.PHONY: demo test venv clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/hwssm flow

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build .cache
