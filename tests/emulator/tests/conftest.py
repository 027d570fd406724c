# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures for the emulator's own tests: one emulator per session, reset before every test, and an
environment in which the real azure-identity classes can only ever reach the emulator."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from emu_helpers import AZURE_ENV, Arm, ClientCertificate, build_seed, fetch_token, make_certificate

from armemu import Emulator
from armemu.state import DEFAULT_SETTINGS


@pytest.fixture(scope="session")
def client_cert(tmp_path_factory: pytest.TempPathFactory) -> ClientCertificate:
    return make_certificate(str(tmp_path_factory.mktemp("certs")), "registered")


@pytest.fixture(scope="session")
def other_cert(tmp_path_factory: pytest.TempPathFactory) -> ClientCertificate:
    return make_certificate(str(tmp_path_factory.mktemp("certs")), "unregistered")


@pytest.fixture(scope="session")
def _session_emulator() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def emu(_session_emulator: Emulator, client_cert: ClientCertificate,
        monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """The emulator, freshly seeded, with no faults, an empty log, default timing, and a safe environment."""
    emulator = _session_emulator
    emulator.seed(build_seed(client_cert.certificate_pem))
    emulator.clear_faults()
    emulator.configure(**DEFAULT_SETTINGS)  # every setting back to its default (throttle off, ...)
    emulator.clear_requests()
    for name in AZURE_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)
    monkeypatch.setenv("SSL_CERT_FILE", emulator.ca_file)
    monkeypatch.setenv("AZURE_DISABLE_INSTANCE_DISCOVERY", "true")
    return emulator


@pytest.fixture
def arm(emu: Emulator) -> Arm:
    return Arm(emu, fetch_token(emu))
