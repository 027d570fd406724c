# SPDX-License-Identifier: GPL-3.0-or-later
"""The ARM side matches the recordings in /work/shared/azure-rest/recordings."""
from __future__ import annotations

import re
import time
import uuid

import pytest
import requests
from emu_helpers import ACCOUNT, APPROVED, PENDING, REJECTED, RG, SUB, Arm, fetch_token

from armemu import Emulator

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def poll_until_terminal(arm: Arm, url: str, limit: int = 60) -> list[str]:
    statuses = []
    for _unused in range(limit):
        status = arm.get(url).json()["status"]
        statuses.append(status)
        if status not in ("Enqueued", "Dequeued"):
            return statuses
        time.sleep(0.05)
    raise AssertionError(f"operation never ended: {statuses}")


def test_get_returns_the_recorded_body_shape(arm: Arm) -> None:
    response = arm.get(arm.url(PENDING))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert re.fullmatch(UUID, response.headers["x-ms-request-id"])
    assert response.headers["x-ms-correlation-request-id"]
    assert response.headers["Date"]
    assert response.json() == {
        "name": PENDING,
        "type": "Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections",
        "id": f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.DocumentDB/databaseAccounts/{ACCOUNT}"
              f"/privateEndpointConnections/{PENDING}",
        "properties": {
            "provisioningState": "Succeeded",
            "groupId": "Sql",
            "privateEndpoint": {"id": f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network"
                                      "/privateEndpoints/pe-app"},
            "privateLinkServiceConnectionState": {"status": "Pending", "description": "please approve",
                                                  "actionsRequired": "None"},
        },
    }
    # key order as recorded, too
    assert list(response.json()) == ["name", "type", "id", "properties"]


def test_connection_without_description_has_no_description_key(arm: Arm) -> None:
    state = arm.get(arm.url(APPROVED)).json()["properties"]["privateLinkServiceConnectionState"]
    assert state == {"status": "Approved", "actionsRequired": "None"}


def test_list_returns_every_connection_in_value(arm: Arm, emu: Emulator) -> None:
    response = arm.get(arm.url())
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["value"]] == [PENDING, APPROVED, REJECTED]
    assert response.json()["value"][0] == emu.connection(SUB, RG, ACCOUNT, PENDING)


def test_paths_are_case_insensitive_and_percent_decoded(arm: Arm, emu: Emulator) -> None:
    url = (f"{emu.base_url}/SUBSCRIPTIONS/{SUB.upper()}/resourcegroups/RG%2DDB/providers/microsoft.documentdb"
           f"/DATABASEACCOUNTS/Acct1/privateendpointconnections/{PENDING.upper().replace('.', '%2E')}")
    response = arm.get(url)
    assert response.status_code == 200
    assert response.json()["name"] == PENDING  # stored casing, as ARM answers
    assert emu.requests("arm")[-1]["path"].endswith(PENDING.upper())


def test_missing_connection_is_a_flat_cosmos_404(arm: Arm) -> None:
    response = arm.get(arm.url("nope"))
    assert response.status_code == 404
    body = response.json()
    assert set(body) == {"code", "message"}
    assert body["code"] == "NotFound"
    assert "ActivityId: " in body["message"]


def test_missing_resource_group_is_a_wrapped_404(arm: Arm) -> None:
    response = arm.get(arm.url(PENDING, rg="rg-gone"))
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "ResourceGroupNotFound",
                                         "message": "Resource group 'rg-gone' could not be found."}}


def test_missing_account_is_a_wrapped_parent_404(arm: Arm) -> None:
    response = arm.get(arm.url(PENDING, rg="rg-empty", account="acct9"))
    assert response.status_code == 404
    assert response.json() == {"error": {
        "code": "ParentResourceNotFound",
        "message": "Can not perform requested operation on nested resource. Parent resource 'acct9' not found."}}


@pytest.mark.parametrize(("params", "code"), [({}, "MissingApiVersionParameter"),
                                              ({"api-version": "2023-11-15"}, "InvalidApiVersionParameter")])
def test_api_version_is_required_and_checked(arm: Arm, params: dict[str, str], code: str) -> None:
    response = arm.get(arm.url(PENDING), params=params)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code


@pytest.mark.parametrize(("authorization", "code"), [
    (None, "AuthenticationFailed"),
    ("Bearer not-a-token-we-issued", "InvalidAuthenticationToken"),
    ("Basic dXNlcjpwYXNz", "AuthenticationFailed"),
])
def test_requests_without_a_valid_token_get_401(emu: Emulator, authorization: str | None, code: str) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    response = requests.get(Arm(emu, "x").url(PENDING), params={"api-version": "2024-08-15"}, headers=headers,
                            verify=emu.ca_file, timeout=10)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"].startswith(f'Bearer authorization_uri="{emu.base_url}/"')
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_for_another_audience_is_refused(emu: Emulator) -> None:
    arm = Arm(emu, fetch_token(emu, scope="https://vault.azure.net/.default"))
    response = arm.get(arm.url(PENDING))
    assert response.status_code == 401
    assert "wrong audience" in response.json()["error"]["message"]


def test_put_answers_202_enqueued_with_the_recorded_headers(arm: Arm, emu: Emulator) -> None:
    correlation = str(uuid.uuid4())
    response = arm.put_state(PENDING, "Approved", "ok", headers={"x-ms-correlation-request-id": correlation})
    assert response.status_code == 202
    assert response.json() == {"status": "Enqueued"}
    headers = response.headers
    op_id = headers["x-ms-request-id"]
    assert re.fullmatch(UUID, op_id)
    assert re.fullmatch(
        rf"{re.escape(emu.base_url)}/subscriptions/{SUB}/providers/Microsoft\.DocumentDB/locations/westus"
        rf"/operationsStatus/{op_id}\?api-version=2024-08-15&t=\d+&c=[^&]+&s=[^&]+&h=[^&]+",
        headers["Azure-AsyncOperation"])
    assert re.fullmatch(
        rf"{re.escape(arm.url(PENDING))}/operationResults/{op_id}\?api-version=2024-08-15&t=\d+&c=[^&]+&s=[^&]+"
        r"&h=[^&]+", headers["Location"])
    assert headers["x-ms-correlation-request-id"] == correlation
    assert int(headers["x-ms-ratelimit-remaining-subscription-writes"]) > 0
    assert "Retry-After" not in headers


def test_operation_goes_enqueued_dequeued_succeeded_and_applies_only_at_the_end(arm: Arm, emu: Emulator) -> None:
    emu.configure(op_duration=0.4, dequeued_polls=2)
    response = arm.put_state(PENDING, "Approved", "approved by test")
    status_url = response.headers["Azure-AsyncOperation"]
    # While the operation runs GET shows the old state, still provisioningState Succeeded (inflight recording).
    during = arm.get(arm.url(PENDING)).json()
    assert during["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"
    assert during["properties"]["provisioningState"] == "Succeeded"
    first = arm.get(status_url)
    assert first.status_code == 200 and first.json() == {"status": "Enqueued"}
    statuses = ["Enqueued", *poll_until_terminal(arm, status_url)]
    assert statuses[-1] == "Succeeded"
    assert statuses.count("Dequeued") >= 2
    assert statuses == ["Enqueued"] + ["Dequeued"] * (len(statuses) - 2) + ["Succeeded"]
    after = arm.get(arm.url(PENDING)).json()["properties"]["privateLinkServiceConnectionState"]
    assert after == {"status": "Approved", "description": "approved by test", "actionsRequired": "None"}


def test_dequeued_polls_zero_gives_the_recorded_enqueued_succeeded_sequence(arm: Arm, emu: Emulator) -> None:
    emu.configure(op_duration=0.3, dequeued_polls=0)
    status_url = arm.put_state(PENDING, "Approved").headers["Azure-AsyncOperation"]
    first = arm.get(status_url).json()["status"]
    time.sleep(0.35)
    assert [first, arm.get(status_url).json()["status"]] == ["Enqueued", "Succeeded"]


def test_a_first_poll_after_the_end_answers_the_outcome(arm: Arm, emu: Emulator) -> None:
    # recordings/cosmosdb-404-flat-error.yaml: the first poll, 30 s after the PUT, got Succeeded.
    emu.configure(op_duration=0.1, dequeued_polls=2)
    status_url = arm.put_state(PENDING, "Approved").headers["Azure-AsyncOperation"]
    time.sleep(0.15)
    assert arm.get(status_url).json() == {"status": "Succeeded"}


def test_poll_responses_have_fresh_ids_and_are_gzipped(arm: Arm) -> None:
    status_url = arm.put_state(PENDING, "Approved").headers["Azure-AsyncOperation"]
    polls = [arm.get(status_url, headers={"Accept-Encoding": "gzip"}) for _unused in range(2)]
    ids = [p.headers["x-ms-request-id"] for p in polls]
    assert ids[0] != ids[1]
    for poll in polls:
        assert poll.headers["x-ms-correlation-request-id"] == poll.headers["x-ms-request-id"]
        assert poll.headers["Content-Encoding"] == "gzip"
        assert "Retry-After" not in poll.headers
    identity = arm.get(status_url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in identity.headers
    assert identity.json()["status"] in ("Dequeued", "Succeeded")


def test_location_url_answers_202_then_the_resource(arm: Arm, emu: Emulator) -> None:
    emu.configure(op_duration=0.3, dequeued_polls=0)
    location = arm.put_state(PENDING, "Rejected", "no thanks").headers["Location"]
    running = arm.get(location)
    assert running.status_code == 202
    assert running.content == b""
    assert running.headers["Location"] == location
    time.sleep(0.35)
    done = arm.get(location)
    assert done.status_code == 200
    assert done.json() == emu.connection(SUB, RG, ACCOUNT, PENDING)
    assert done.json()["properties"]["privateLinkServiceConnectionState"]["status"] == "Rejected"


def test_state_changes_even_if_nobody_polls(arm: Arm, emu: Emulator) -> None:
    emu.configure(op_duration=0.1)
    arm.put_state(PENDING, "Approved")
    time.sleep(0.15)
    assert emu.connection(SUB, RG, ACCOUNT, PENDING)["properties"]["privateLinkServiceConnectionState"] == {
        "status": "Approved", "actionsRequired": "None"}  # PUT without description removes it


def test_approving_an_approved_connection_updates_the_description(arm: Arm) -> None:
    status_url = arm.put_state(APPROVED, "Approved", "You are approved!").headers["Azure-AsyncOperation"]
    assert poll_until_terminal(arm, status_url)[-1] == "Succeeded"
    assert arm.get(arm.url(APPROVED)).json()["properties"]["privateLinkServiceConnectionState"]["description"] == \
        "You are approved!"


def test_rejected_cannot_be_approved(arm: Arm, emu: Emulator) -> None:
    response = arm.put_state(REJECTED, "Approved", "please")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "BadRequest"
    assert re.fullmatch(rf"Approving rejected private endpoint connections is not supported\.\r\nActivityId: "
                        rf"{UUID}, Microsoft\.Azure\.Documents\.Common/2\.14\.0", body["message"])
    assert emu.connection(SUB, RG, ACCOUNT, REJECTED)["properties"]["privateLinkServiceConnectionState"][
        "status"] == "Rejected"


@pytest.mark.parametrize("body", [{"properties": {}}, {"properties": {"privateLinkServiceConnectionState":
                                                                      {"status": "Maybe"}}}, "not json"])
def test_invalid_put_body_is_a_flat_400(arm: Arm, body: object) -> None:
    kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
    response = arm.request("PUT", arm.url(PENDING), **kwargs)
    assert response.status_code == 400
    assert response.json()["code"] == "BadRequest"


def test_put_accepts_the_full_recorded_get_body(arm: Arm) -> None:
    body = arm.get(arm.url(APPROVED)).json()
    body["properties"]["privateLinkServiceConnectionState"]["description"] = "echoed"
    assert arm.request("PUT", arm.url(APPROVED), json=body).status_code == 202


def test_put_of_a_missing_connection_is_a_flat_404(arm: Arm) -> None:
    response = arm.put_state("ghost", "Approved")
    assert response.status_code == 404
    assert response.json()["code"] == "NotFound"


def test_delete_runs_the_same_flow_and_removes_the_connection(arm: Arm, emu: Emulator) -> None:
    response = arm.delete(PENDING)
    assert response.status_code == 202
    assert response.json() == {"status": "Enqueued"}
    assert "x-ms-ratelimit-remaining-subscription-deletes" in response.headers
    assert arm.get(arm.url(PENDING)).status_code == 200  # still there while the operation runs
    assert poll_until_terminal(arm, response.headers["Azure-AsyncOperation"])[-1] == "Succeeded"
    assert arm.get(response.headers["Location"]).status_code == 204
    assert arm.get(arm.url(PENDING)).status_code == 404
    assert emu.connection(SUB, RG, ACCOUNT, PENDING) is None


def test_delete_of_a_missing_connection_is_204(arm: Arm) -> None:
    response = arm.delete("ghost")
    assert response.status_code == 204
    assert response.content == b""


def test_overlapping_operations_apply_in_order(arm: Arm, emu: Emulator) -> None:
    emu.configure(op_duration=0.2)
    arm.put_state(PENDING, "Approved", "first")
    emu.configure(op_duration=0.3)
    assert arm.put_state(PENDING, "Rejected", "second").status_code == 202
    time.sleep(0.25)
    assert emu.connection(SUB, RG, ACCOUNT, PENDING)["properties"]["privateLinkServiceConnectionState"][
        "description"] == "first"
    time.sleep(0.1)
    assert emu.connection(SUB, RG, ACCOUNT, PENDING)["properties"]["privateLinkServiceConnectionState"][
        "description"] == "second"


def test_retry_after_is_sent_only_when_configured(arm: Arm, emu: Emulator) -> None:
    emu.configure(retry_after=7)
    response = arm.put_state(PENDING, "Approved")
    assert response.headers["Retry-After"] == "7"
    assert arm.get(response.headers["Azure-AsyncOperation"]).headers["Retry-After"] == "7"


def test_request_log_records_and_redacts(arm: Arm, emu: Emulator) -> None:
    arm.put_state(PENDING, "Approved", "logged")
    entry = emu.requests("arm")[-1]
    assert entry["method"] == "PUT"
    assert entry["status"] == 202
    assert entry["path"] == f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.DocumentDB" \
                            f"/databaseAccounts/{ACCOUNT}/privateEndpointConnections/{PENDING}"
    assert entry["query"] == {"api-version": "2024-08-15"}
    assert entry["request_headers"]["Authorization"] == "Bearer <redacted>"
    assert entry["body"]["properties"]["privateLinkServiceConnectionState"]["description"] == "logged"
    assert entry["response_headers"]["x-ms-request-id"] in entry["response_headers"]["Azure-AsyncOperation"]
    assert entry["fault"] is None
    token_entry = emu.requests("token")[-1]
    assert token_entry["body"]["client_secret"] == "<redacted>"
    seqs = [e["seq"] for e in emu.requests()]
    assert seqs == sorted(seqs)
    for token in emu.issued_tokens():
        assert token not in repr(emu.requests())


def test_concurrent_clients_see_consistent_state(arm: Arm, emu: Emulator) -> None:
    from concurrent.futures import ThreadPoolExecutor

    emu.configure(op_duration=0.05, dequeued_polls=0)

    def worker(i: int) -> tuple[int, int]:
        client = Arm(emu, fetch_token(emu))
        put = client.put_state(PENDING, "Approved", f"writer {i}").status_code
        return put, client.get(client.url()).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(worker, range(16)))
    assert results == [(202, 200)] * 16
    time.sleep(0.1)
    state = emu.connection(SUB, RG, ACCOUNT, PENDING)["properties"]["privateLinkServiceConnectionState"]
    assert state["status"] == "Approved" and state["description"].startswith("writer ")
    assert len(emu.requests("arm")) == 32
    assert len({e["seq"] for e in emu.requests()}) == len(emu.requests())


def test_ipv6_loopback_listener(client_cert) -> None:
    import socket

    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        emulator = Emulator(seed={"accounts": []}, host="::1").start()
    except OSError as exc:
        pytest.skip(f"no ::1 here: {exc}")
    try:
        assert emulator.base_url.startswith("https://[::1]:")
        response = requests.get(f"{emulator.base_url}/subscriptions/x/resourceGroups/y", verify=emulator.ca_file,
                                timeout=10)
        assert response.status_code == 401  # verified TLS to [::1], answered by ARM auth
    finally:
        emulator.stop()
