# SPDX-License-Identifier: GPL-3.0-or-later
# The collection the way AWX, Galaxy / Automation Hub and ansible-navigator run it. All in `make test`,
# all offline except package installs (about 30 s together once the venvs exist):
#   test-awx-runner        a job through ansible-runner, the library AWX uses, over a private data directory
#                          laid out as AWX does, with the Azure credential's variables, against the emulator
#   test-galaxy-importer   galaxy-importer, what Galaxy and Automation Hub run on each upload, on the tarball
#   test-navigator         `ansible-navigator run --ee false --mode stdout` of docs/examples/ against the emulator
# ansible-runner is in .venv (requirements-dev.txt); galaxy-importer and ansible-navigator in the tools venv
# (tools/requirements-tools.txt, defined in quality.mk).
.PHONY: test-awx test-awx-runner test-galaxy-importer test-navigator

# The tools venv installs requirements.txt too (ansible-navigator runs the modules with it); quality.mk's
# TOOLS_VENV is not defined yet when this file is read, hence the literal path.
$(CURDIR)/.build/venv-tools/.installed: requirements.txt

test-awx: test-awx-runner test-galaxy-importer test-navigator

test-awx-runner: venv collection
	$(BIN)/python -m pytest -q tests/awx/test_awx_runner.py

test-galaxy-importer: venv tools-venv
	tools/test-galaxy-importer.sh

test-navigator: venv tools-venv collection
	$(BIN)/python -m pytest -q tests/awx/test_ansible_navigator.py

TEST_TARGETS += test-awx-runner test-galaxy-importer test-navigator
