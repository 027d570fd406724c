# SPDX-License-Identifier: GPL-3.0-or-later
"""``armemu serve`` in another process, driven through the admin API with ``EmulatorControl``."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from emu_helpers import ACCOUNT, PENDING, RG, SUB, Arm, build_seed, fetch_token

from armemu.client import EmulatorControl, EmulatorControlError

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "armemu"


@pytest.fixture
def served(tmp_path: Path, client_cert) -> Iterator[tuple[subprocess.Popen, dict, Path]]:
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(build_seed(client_cert.certificate_pem)))
    info_file = tmp_path / "info.json"
    process = subprocess.Popen(
        [sys.executable, str(PACKAGE_DIR), "serve", "--seed", str(seed_file), "--info-file", str(info_file),
         "--op-duration", "0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    deadline = time.monotonic() + 15
    while not info_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"emulator did not start: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.05)
    info = json.loads(info_file.read_text())
    yield process, info, info_file
    if process.poll() is None:
        process.kill()
        process.wait(5)


def test_serve_writes_info_and_is_driven_over_the_admin_api(served, client_cert) -> None:
    process, info, info_file = served
    assert set(info) == {"base_url", "ca_file", "identity_endpoint", "identity_header", "pid", "seed_file"}
    assert info["pid"] == process.pid
    control = EmulatorControl.from_info_file(str(info_file))
    assert control.identity_endpoint == info["identity_endpoint"]

    class Remote:  # what Arm/fetch_token need from an emulator
        base_url = info["base_url"]
        ca_file = info["ca_file"]

    arm = Arm(Remote(), fetch_token(Remote()))  # type: ignore[arg-type]
    control.clear_requests()
    assert arm.get(arm.url(PENDING)).status_code == 200
    assert [r["kind"] for r in control.requests()] == ["arm"]

    fault = control.add_fault("status", method="GET", status=503)
    assert arm.get(arm.url(PENDING)).status_code == 503
    assert control.requests("arm")[-1]["fault"] == fault
    control.clear_faults()

    control.configure(op_duration=0.05, dequeued_polls=0)
    arm.put_state(PENDING, "Approved", "remote")
    time.sleep(0.1)
    assert control.connection(SUB, RG, ACCOUNT, PENDING)["properties"]["privateLinkServiceConnectionState"] == {
        "status": "Approved", "description": "remote", "actionsRequired": "None"}
    assert arm.request("GET", arm.url("ghost")).status_code == 404

    seed = build_seed(client_cert.certificate_pem)
    seed["accounts"][0]["connections"] = []
    control.seed(seed)
    assert arm.get(arm.url()).json() == {"value": []}
    assert control.state()["accounts"][0]["connections"] == []
    assert control.issued_tokens()
    with pytest.raises(EmulatorControlError):
        control.add_fault("explode")

    vault = {"type": "Microsoft.KeyVault/vaults", "subscription_id": SUB, "resource_group": RG, "name": "kv1",
             "connections": [{"name": "pe-kv", "status": "Pending"}]}
    control.seed({**seed, "resources": [vault]})
    vault_id = f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.KeyVault/vaults/kv1"
    stored = control.connection_by_id(f"{vault_id}/privateEndpointConnections/pe-kv")
    assert stored["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"
    assert control.state()["resources"][-1]["type"] == "Microsoft.KeyVault/vaults"
    vault["connections"][0]["stauts"] = "Approved"
    with pytest.raises(EmulatorControlError, match=r"resources\[0\]\.connections\[0\]\.stauts: unknown key"):
        control.seed({"resources": [vault]})


def test_sigterm_stops_cleanly_and_removes_the_info_file(served) -> None:
    process, _unused, info_file = served
    process.send_signal(signal.SIGTERM)
    assert process.wait(10) == 0
    assert not info_file.exists()
