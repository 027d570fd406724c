# SPDX-License-Identifier: GPL-3.0-or-later
# The approval role and the info module (issue 3): molecule scenario and focused test runs.
.PHONY: molecule test-role test-info

# Molecule scenario of privatelink.azure.cosmosdb_connection_approval: starts the bundled ARM emulator on
# 127.0.0.1 (no containers, no Azure), converge, idempotence, verify with the info module, cleanup.
molecule: venv collection
	PATH="$(BIN):$$PATH" $(BIN)/molecule test -s cosmosdb_connection_approval

# Only the role's ansible-playbook tests (also part of test-e2e), including the 5 x 10 connections run.
test-role: venv collection
	$(BIN)/python -m pytest -q tests/e2e/test_approval_role.py

# Only the info module and private_endpoint_id tests (also part of test-unit and test-e2e).
test-info: venv collection
	$(BIN)/python -m pytest -q tests/unit/plugins/module_utils/test_cosmosdb_lookup.py tests/e2e/test_info_module.py

TEST_TARGETS += molecule
