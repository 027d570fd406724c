# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ``ansible-playbook`` against the local ARM emulator and read back what happened."""

from __future__ import annotations

import pytest
from playbook import ansible_playbook
from support import SUBSCRIPTION, awx_environment


@pytest.fixture
def run_playbook(tmp_path, emulator):
    """``run_playbook(tasks, check=False, diff=False, env=None, verbosity=0)`` -> PlaybookRun."""

    def run(tasks, *, check=False, diff=False, env=None, verbosity=0):
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        return ansible_playbook(tmp_path, play, env or {}, check=check, diff=diff, verbosity=verbosity)

    return run


@pytest.fixture
def awx_env(emulator):
    """The variables AWX's built-in Azure credential injects, pointed at the emulator."""
    return awx_environment(emulator)


@pytest.fixture
def msi_env(emulator):
    """App Service style managed identity (IDENTITY_ENDPOINT / IDENTITY_HEADER)."""
    return {
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "IDENTITY_ENDPOINT": emulator.identity_endpoint,
        "IDENTITY_HEADER": emulator.identity_header,
        "AZURE_ARM_ENDPOINT": emulator.base_url,
        "REQUESTS_CA_BUNDLE": emulator.ca_file,
    }
