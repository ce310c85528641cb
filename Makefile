# Developer and CI entry points for the ganeti.rapi collection.
#
#   make sanity       ansible-test sanity on every line in LINES (fresh copy of the work tree each time)
#   make units        ansible-test units (tests/unit) on every line in UNIT_LINES
#   make integration  tests/integration/run.sh on LINE, plus one real move on SMOKE_LINE (brings the lab up and down)
#   make lint         ansible-lint (production profile) on the shipped playbook and the module examples
#   make test         sanity, lint, units, integration; stops at the first failure
#   make docs         HTML docs site into build/docs/html (scripts/docs.sh): modules, roles, guides, changelog
#   make demo | bench | lab-up | lab-down | venv | clean | distclean
#
# Venvs live in .venv/<ansible-core line> (scripts/venv.sh), each on its line's own Python (3.11 for 2.16,
# 3.13 for 2.21); ansible-test runs in build/ansible_collections/ganeti/rapi (scripts/ansible-test.sh).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# The oldest and the newest supported ansible-core line.
LINES      ?= 2.16 2.21
UNIT_LINES ?= $(LINES)
# ansible-core line used for integration, demo, lint, docs and bench (the newest).
LINE       ?= 2.21
# The line of the one real move that proves the oldest line still works (make integration).
SMOKE_LINE ?= 2.16

VENV_BIN = $(CURDIR)/.venv/$(LINE)/bin
WITH_VENV = PATH="$(VENV_BIN):$$PATH" VIRTUAL_ENV="$(CURDIR)/.venv/$(LINE)"

.PHONY: all help venv sanity lint units integration test demo docs bench lab-up lab-down clean distclean

all: help

help:
	@sed -n '1,/^$$/p' Makefile | sed -n 's/^# \{0,1\}//p'

venv:
	@for v in $(sort $(LINES) $(UNIT_LINES) $(LINE) $(SMOKE_LINE)); do bash scripts/venv.sh "$$v" >/dev/null; done

# Every line is run, so one run shows all findings; fails if any line failed.
sanity:
	@failed=; for v in $(LINES); do \
	  bash scripts/ansible-test.sh "$$v" sanity --color no || failed="$$failed $$v"; \
	done; \
	if [[ -n "$$failed" ]]; then echo "make sanity: FAILED on ansible-core$$failed" >&2; exit 1; fi; \
	echo "make sanity: passed on ansible-core $(LINES)"

# Every line is run; fails if any line failed. A tree with no test files at all is skipped with a
# note; once any tests/unit/**/test_*.py exists, ansible-test runs them and fails if it collects none.
units:
	@if [[ -z "$$(find tests/unit -name 'test_*.py' -type f -print -quit 2>/dev/null)" ]]; then \
	  echo "make units: no test files (tests/unit/**/test_*.py): nothing to run"; exit 0; \
	fi; \
	failed=; for v in $(UNIT_LINES); do \
	  bash scripts/ansible-test.sh "$$v" units --venv --color no || failed="$$failed $$v"; \
	done; \
	if [[ -n "$$failed" ]]; then echo "make units: FAILED on ansible-core$$failed" >&2; exit 1; fi; \
	echo "make units: passed on ansible-core $(UNIT_LINES)"

integration:
	@bash scripts/venv.sh $(LINE) >/dev/null
	@bash scripts/venv.sh $(SMOKE_LINE) >/dev/null
	$(WITH_VENV) SMOKE_VENV="$(CURDIR)/.venv/$(SMOKE_LINE)" bash tests/integration/run.sh

test:
	$(MAKE) --no-print-directory sanity
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory units
	$(MAKE) --no-print-directory integration

# ansible-lint (production profile, offline) on the shipped playbook and the module's EXAMPLES.
lint:
	@bash scripts/venv.sh $(LINE) >/dev/null
	$(WITH_VENV) bash scripts/lint.sh

demo:
	@bash scripts/venv.sh $(LINE) >/dev/null
	$(WITH_VENV) bash tests/integration/demo.sh

# HTML docs site (antsibull-docs + Sphinx, offline) in build/docs/html, built from the collection tarball of the work
# tree as installed; fails if antsibull-docs or Sphinx reports a problem. Prints the path of index.html.
docs:
	@bash scripts/docs.sh $(LINE)

bench:
	@if [[ ! -f tests/bench/run.sh ]]; then echo "make bench: tests/bench/run.sh does not exist yet" >&2; exit 1; fi
	@bash scripts/venv.sh $(LINE) >/dev/null
	$(WITH_VENV) bash tests/bench/run.sh

lab-up:
	bash tests/lab/lab.sh up

lab-down:
	bash tests/lab/lab.sh down

# build/collections (not made here) is left alone.
clean:
	rm -rf build/ansible_collections build/.ansible-test-line build/docs tests/output .pytest_cache

distclean: clean
	rm -rf .venv
