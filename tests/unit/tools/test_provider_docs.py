# SPDX-License-Identifier: GPL-3.0-or-later
"""docs/providers.md and the role definitions are rendered from the provider table and kept in step."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.privatelink.azure.plugins.module_utils._providers import PROVIDERS

ROOT = Path(__file__).resolve().parents[3]


def test_generated_provider_docs_are_up_to_date():
    # The tool imports the collection the way this test does (also in ansible-test's staged copy).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "render-provider-docs.py"), "--check"],
                         capture_output=True, text=True, check=False, env=env)
    assert run.returncode == 0, run.stderr


def test_the_approver_role_grants_approval_on_every_known_type_and_the_reader_role_writes_nothing():
    approver = json.loads((ROOT / "docs" / "roles" / "privatelink-approver.json").read_text())
    reader = json.loads((ROOT / "docs" / "roles" / "privatelink-reader.json").read_text())
    for provider in PROVIDERS:
        assert provider.approval_action in approver["Actions"]
        assert f"{provider.resource_type}/privateEndpointConnections/write" in approver["Actions"]
    assert not [action for action in reader["Actions"] if not action.endswith("/read")]
    providers_md = (ROOT / "docs" / "providers.md").read_text()
    assert all(f"`{provider.resource_type}` | `{provider.api_version}`" in providers_md for provider in PROVIDERS)
