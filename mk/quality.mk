# SPDX-License-Identifier: GPL-3.0-or-later
# Quality gates of the collection (issue "Ship as a first-class collection"). All run by `make test`:
#   test-lint         ansible-lint, production profile, zero violations
#   test-changelog    antsibull-changelog lint, CHANGELOG.md up to date
#   test-docs         docs/docsite in sync, antsibull-docs lint, docsite builds offline (`make docs`)
#   test-sanity       ansible-test sanity, whole collection, no ignore files (3.11; compile/import on 3.9, 3.12)
#   test-ansible-units / test-ansible-integration   ansible-test units / integration on the staged copy
#   test-galaxy       build the tarball, check it, install it, run the integration target with it
#   test-ee           ansible-builder create + introspect on execution-environment.yml
#   test-matrix       unit + integration tests on ansible-core 2.17/2.18/2.19 (Python 3.11) and
#                     2.20/2.21 (Python 3.12), and meta/runtime.yml claims exactly those (= `make matrix`)
# Heavy tools live in their own venv (.build/venv-tools) so .venv keeps its ansible-core.
# ansible-test runs on a real copy in .build/ansible_collections/privatelink/azure (tools/stage-collection.sh).

TOOLS_VENV := $(CURDIR)/.build/venv-tools
TOOLS_BIN := $(TOOLS_VENV)/bin
# ansible-test creates its own venvs (--venv) from the package index; --python picks interpreters.
SANITY_PYTHON ?= 3.11
# compile + import only: 3.9 is the oldest Python tests/config.yml claims for the modules, 3.12 the
# other controller Python of the matrix. A version missing on the machine is skipped with a note.
SANITY_EXTRA_PYTHONS ?= 3.9 3.12
ANSIBLE_TEST_PYTHON ?= 3.11
ANSIBLE_TEST := tools/ansible-test-offline.sh
export BIN TOOLS_BIN

.PHONY: tools-venv docs galaxy-build matrix test-lint test-changelog test-docs test-sanity \
	test-ansible-units test-ansible-integration test-galaxy test-ee test-matrix

tools-venv: $(TOOLS_VENV)/.installed
$(TOOLS_VENV)/.installed: tools/requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS_VENV)
	$(TOOLS_BIN)/python -m pip install -q --upgrade pip
	$(TOOLS_BIN)/python -m pip install -q -r tools/requirements-tools.txt
	touch $@

test-lint: tools-venv collection
	PATH="$(TOOLS_BIN):$$PATH" $(TOOLS_BIN)/ansible-lint --profile production --strict

test-changelog: tools-venv
	tools/test-changelog.sh

docs: tools-venv
	tools/build-docs.sh

test-docs: tools-venv
	tools/test-docs.sh

test-sanity: venv
	$(ANSIBLE_TEST) sanity --venv --python $(SANITY_PYTHON)
	@for py in $(SANITY_EXTRA_PYTHONS); do \
	  if tools/find-python.sh $$py >/dev/null; then \
	    echo "ansible-test sanity compile/import on Python $$py"; \
	    $(ANSIBLE_TEST) sanity --venv --python $$py --test compile --test import || exit 1; \
	  else echo "SKIP: sanity on Python $$py: no interpreter"; fi; \
	done

test-ansible-units: venv
	$(ANSIBLE_TEST) units --venv --python $(ANSIBLE_TEST_PYTHON)

test-ansible-integration: venv
	$(ANSIBLE_TEST) integration --venv --python $(ANSIBLE_TEST_PYTHON)

galaxy-build: venv
	tools/test-galaxy-install.sh --build-only

test-galaxy: venv
	tools/test-galaxy-install.sh

test-ee: tools-venv test-galaxy
	tools/test-execution-environment.sh

matrix test-matrix: venv collection
	tools/matrix.sh

TEST_TARGETS += test-lint test-changelog test-docs test-sanity test-ansible-units \
	test-ansible-integration test-galaxy test-ee test-matrix
