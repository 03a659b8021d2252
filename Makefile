# The two commands of the README. Each sets up .venv when it is missing.
#   make test   install, then run the platform's own tests (Docker ones included when an engine runs;
#               the local backend's isolation tests need bubblewrap, the browser tests Chromium: both
#               installed here when we are root; the Slurm tests a one-node cluster, started here likewise)
#   make demo   install, build the demo class (examples/demo_class.toml -> demo-class/, by
#               scripts/demo_class.py) and grade it into demo-results/ (German, the course's language)
SHELL  := /bin/bash
.SHELLFLAGS := -o pipefail -c
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
PYTEST_ARGS ?=

.PHONY: test demo install dev docker bwrap browser slurm validate bench clean

install: $(STAMP)

# torch, torchvision and fastai come in one pip call (pinned in pyproject.toml).
$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e . 2>&1 | { grep -v "is ignored: it is neither" || true; }
	@touch $(STAMP)

# The dev extra (nbgrader 0.9.6, for the nbgrader tests; they skip with a reason without it).
dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[dev]" 2>&1 | { grep -v "is ignored: it is neither" || true; }
	@touch $(DEV_STAMP)

docker:
	@bash scripts/ensure-docker.sh || echo "Docker is not available: Docker tests will be skipped."

# bubblewrap gives every local worker a private view of the machine (grader/_isolation.py).
bwrap:
	@bash scripts/ensure-bwrap.sh || echo "bubblewrap is not available: the local backend falls back (README: Security)."

# Debian's headless Chromium + chromedriver for the browser tests of report.html and feedback.html.
browser:
	@bash scripts/ensure-chromium.sh || echo "Chromium is not available: the browser tests will be skipped."

# A one-node Slurm cluster on this host (slurm-wlm, munge) for grade slurm's tests (tests/test_slurm.py).
slurm:
	@bash scripts/ensure-slurm.sh || echo "Slurm is not available: the Slurm tests will be skipped."

test: install dev docker bwrap browser slurm
	$(PY) -m pytest -q $(PYTEST_ARGS)

demo: install docker bwrap
	$(PY) scripts/demo_class.py --spec examples/demo_class.toml --out demo-class
	$(VENV)/bin/grade batch demo-class --out demo-results

validate: install
	$(VENV)/bin/grade validate

bench: install docker
	$(PY) scripts/bench.py

clean:
	rm -rf demo-results demo-class .pytest_cache
