# Two commands for a new user: `make demo` (the main job) and `make test`.
# Each bootstraps .venv by itself, only when it is missing, broken (no pip: e.g. an
# interrupted creation) or older than pyproject.toml.
PYTHON ?= python3
VENV   := .venv
STAMP  := $(VENV)/.hwssm-installed
BIN    := $(VENV)/bin

.PHONY: demo demo-report test sweep venv clean

$(STAMP): pyproject.toml setup.py
	@$(BIN)/python -m pip --version >/dev/null 2>&1 || { rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q -e ".[dev]"
	@touch $(STAMP)

venv: $(STAMP)

# The flow writes under build/flow/ (report.md, flow.json, utilization.png, rtl/); nothing tracked changes.
demo: $(STAMP)
	$(BIN)/hwssm flow --out build/flow

# Regenerates the committed flow report, reports/demo/ (report files only, no Verilog).
demo-report: $(STAMP)
	$(BIN)/hwssm flow --out reports/demo --report-only

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The reference design-space sweep (sweeps/*.json) and its report, reports/reference/.
# Every point is cached by content, so a rerun only computes what changed.
SWEEPS := ptq qat_hetero qat8
sweep: $(STAMP)
	@for s in $(SWEEPS); do $(BIN)/hwssm sweep --spec sweeps/$$s.json --out reports/reference/$$s.results.json || exit $$?; done
	$(BIN)/hwssm report --sweep $(foreach s,$(SWEEPS),reports/reference/$(s).results.json) --name reference

clean:
	rm -rf $(VENV) build .cache
