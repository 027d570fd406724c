# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared pytest setup: import paths and the local ARM emulator fixtures.

The collection is imported as ``ansible_collections.privatelink.azure`` through the symlink that
``make collection`` creates; the emulator package ``armemu`` lives in tests/emulator.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "tests", ROOT / "tests" / "emulator", ROOT / ".build" / "collections"):
    if extra.is_dir() and str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from armemu.state import DEFAULT_SETTINGS  # noqa: E402
from support import awx_environment, standard_seed  # noqa: E402


@pytest.fixture(scope="session")
def emulator_server():
    import armemu  # a missing emulator must fail the tests, not skip them
    server = armemu.Emulator(seed=standard_seed(), op_duration=0.3)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def emulator(emulator_server):
    """The session's emulator, reset to the standard seed with an empty log and no faults."""
    emulator_server.clear_faults()
    emulator_server.configure(**DEFAULT_SETTINGS)  # every setting back to its default (throttle off, ...)
    emulator_server.seed(standard_seed())
    emulator_server.clear_requests()
    return emulator_server


@pytest.fixture
def azure_env(emulator, monkeypatch):
    """The environment AWX's built-in Azure credential injects, pointed at the emulator."""
    env = {**awx_environment(emulator), "ANSIBLE_AZURE_AUTH_SOURCE": "auto"}
    for name in list(os.environ):
        if name.startswith(("AZURE_", "IDENTITY_", "MSI_", "ANSIBLE_AZURE")):
            monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env
