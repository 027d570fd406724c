# SPDX-License-Identifier: GPL-3.0-or-later
"""Every fault action does what a client would meet in the field, only as often as asked, and is logged."""
from __future__ import annotations

import time

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import ClientSecretCredential, ManagedIdentityCredential
from emu_helpers import ACCOUNT, MANAGEMENT_SCOPE, PENDING, RG, SECRET, SECRET_APP, SUB, TENANT, Arm, fetch_token

from armemu import Emulator


def link_status(emu: Emulator) -> str:
    return emu.connection(SUB, RG, ACCOUNT, PENDING)["properties"]["privateLinkServiceConnectionState"]["status"]


def test_throttling_429_with_retry_after_then_normal(arm: Arm, emu: Emulator) -> None:
    fault = emu.add_fault(action="status", status=429, retry_after=3)
    first = arm.put_state(PENDING, "Approved")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "3"
    assert first.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert link_status(emu) == "Pending"  # a refused request has no effect
    assert arm.put_state(PENDING, "Approved").status_code == 202  # times=1: spent
    puts = [r for r in emu.requests("arm") if r["method"] == "PUT"]
    assert [r["fault"] for r in puts] == [fault, None]


def test_status_fault_with_http_date_retry_after_and_custom_body(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="status", method="GET", status=503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT",
                  body="upstream unavailable", content_type="text/plain")
    response = arm.get(arm.url(PENDING))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "Wed, 21 Oct 2015 07:28:00 GMT"
    assert response.headers["Content-Type"] == "text/plain"
    assert response.text == "upstream unavailable"


@pytest.mark.parametrize("status", [401, 408, 500, 502, 504])
def test_status_fault_answers_wrapped_arm_errors(arm: Arm, emu: Emulator, status: int) -> None:
    emu.add_fault(action="status", method="GET", status=status)
    response = arm.get(arm.url(PENDING))
    assert response.status_code == status
    assert set(response.json()["error"]) == {"code", "message"}


def test_times_none_fires_forever_and_clear_faults_stops_it(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="status", method="GET", status=500, times=None)
    assert [arm.get(arm.url(PENDING)).status_code for _unused in range(3)] == [500, 500, 500]
    emu.clear_faults()
    assert arm.get(arm.url(PENDING)).status_code == 200


def test_times_and_path_filter(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="status", method="GET", status=502, times=2, path_contains="/operationsStatus/",
                  kind="operation")
    status_url = arm.put_state(PENDING, "Approved").headers["Azure-AsyncOperation"]
    assert arm.get(arm.url(PENDING)).status_code == 200  # other paths untouched
    assert [arm.get(status_url).status_code for _unused in range(3)] == [502, 502, 200]


def test_drop_closes_the_connection_mid_body(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="drop", method="GET")
    with pytest.raises(requests.exceptions.RequestException):
        arm.get(arm.url(PENDING), headers={"Accept-Encoding": "identity"})
    assert arm.get(arm.url(PENDING)).status_code == 200


def test_delay_exceeds_a_client_read_timeout(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="delay", method="GET", seconds=0.6)
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ReadTimeout):
        arm.get(arm.url(PENDING), timeout=0.2)
    assert time.monotonic() - started < 0.6
    assert arm.get(arm.url(PENDING), timeout=2).status_code == 200


def test_html_proxy_page(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="html", method="GET", status=200)
    response = arm.get(arm.url(PENDING))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<html>")
    with pytest.raises(ValueError):
        response.json()


def test_gzip_fault_compresses_even_without_accept_encoding(arm: Arm, emu: Emulator) -> None:
    emu.add_fault(action="gzip")
    response = arm.put_state(PENDING, "Approved", headers={"Accept-Encoding": "identity"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.json() == {"status": "Enqueued"}  # requests decodes it


@pytest.mark.parametrize(("action", "status", "location_status"), [("operation_failed", "Failed", 500),
                                                                   ("operation_canceled", "Canceled", 409)])
def test_operation_ends_failed_or_canceled_without_applying(
        arm: Arm, emu: Emulator, action: str, status: str, location_status: int) -> None:
    emu.configure(op_duration=0.3, dequeued_polls=0)
    fault = emu.add_fault(action=action, code="PrivateEndpointConnectionUpdateFailed", message="boom")
    response = arm.put_state(PENDING, "Approved")
    assert response.status_code == 202
    statuses = [arm.get(response.headers["Azure-AsyncOperation"]).json()]
    time.sleep(0.35)
    statuses.append(arm.get(response.headers["Azure-AsyncOperation"]).json())
    assert statuses[0] == {"status": "Enqueued"}
    assert statuses[1]["status"] == status
    assert statuses[1]["error"]["code"] == "PrivateEndpointConnectionUpdateFailed"
    assert statuses[1]["error"]["message"] == "boom"
    assert statuses[1]["error"]["details"]
    assert arm.get(response.headers["Location"]).status_code == location_status
    assert link_status(emu) == "Pending"
    assert [r["fault"] for r in emu.requests("arm") if r["method"] == "PUT"] == [fault]


def test_operation_never_ends(arm: Arm, emu: Emulator) -> None:
    emu.configure(op_duration=0.0)
    emu.add_fault(action="operation_never_ends", method="DELETE")
    response = arm.delete(PENDING)
    time.sleep(0.05)
    statuses = [arm.get(response.headers["Azure-AsyncOperation"]).json()["status"] for _unused in range(5)]
    assert statuses == ["Enqueued"] + ["Dequeued"] * 4
    assert arm.get(response.headers["Location"]).status_code == 202
    assert emu.connection(SUB, RG, ACCOUNT, PENDING) is not None


def test_token_error_fails_the_real_credential(emu: Emulator) -> None:
    fault = emu.add_fault(action="token_error", status=500, error="temporarily_unavailable", aadsts=50000)
    credential = ClientSecretCredential(TENANT, SECRET_APP, SECRET, authority=emu.base_url,
                                        disable_instance_discovery=True, retry_total=0)
    with pytest.raises(ClientAuthenticationError):
        credential.get_token(MANAGEMENT_SCOPE)
    assert [r["fault"] for r in emu.requests("token")] == [fault]
    assert [r["status"] for r in emu.requests("token")] == [500]


def test_token_expired_is_rejected_by_arm(emu: Emulator) -> None:
    emu.add_fault(action="token_expired")
    response = requests.post(f"{emu.base_url}/{TENANT}/oauth2/v2.0/token", verify=emu.ca_file, timeout=10,
                             data={"grant_type": "client_credentials", "client_id": SECRET_APP,
                                   "client_secret": SECRET, "scope": MANAGEMENT_SCOPE})
    assert response.json()["expires_in"] <= 0
    arm = Arm(emu, response.json()["access_token"])
    refused = arm.get(arm.url(PENDING))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "ExpiredAuthenticationToken"
    assert Arm(emu, fetch_token(emu)).get(arm.url(PENDING)).status_code == 200  # spent after one token


def test_token_error_on_the_managed_identity_endpoint(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", emu.identity_header)
    emu.add_fault(action="token_error", kind="msi", status=500, times=None)
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential(retry_total=0).get_token(MANAGEMENT_SCOPE)
    assert emu.requests("msi") and all(r["status"] == 500 for r in emu.requests("msi"))


def test_unknown_fault_action_is_refused(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="unknown fault action"):
        emu.add_fault(action="explode")
