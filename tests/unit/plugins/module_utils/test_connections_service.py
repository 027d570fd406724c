# SPDX-License-Identifier: GPL-3.0-or-later
"""The generic ConnectionService with the client patched one layer down: conditional writes, the
connection's own status deciding success, and compare-before-write for callers that planned earlier."""

from __future__ import annotations

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.privatelink.azure.plugins.module_utils._arm import ArmResponse
from ansible_collections.privatelink.azure.plugins.module_utils._connections import (
    ChangedElsewhere,
    ConnectionService,
    WriteNotApplied,
)
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ArmError, parse_error_body
from ansible_collections.privatelink.azure.plugins.module_utils._providers import parse_resource_id, provider_for

SUB = "11111111-2222-3333-4444-555555555555"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"


def connection(status="Pending", description="please", etag="e1", actions_field="actionsRequired"):
    body = {"id": f"{VAULT}/privateEndpointConnections/pe", "name": "pe", "properties": {
        "provisioningState": "Succeeded", "privateEndpoint": {"id": "/pe/id"},
        "privateLinkServiceConnectionState": {"status": status, "description": description, actions_field: "None"}}}
    if etag:
        body["etag"] = etag
    return body


class Client:
    """GETs answer from ``gets``; each write answers the next of ``writes`` (an ArmError is raised)."""

    def __init__(self, gets, writes=()):
        self.gets, self.writes, self.calls = list(gets), list(writes), []

    def get_json(self, path, *, action, params=None):
        self.calls.append(("GET", None))
        return ArmResponse(200, CaseInsensitiveDict(), self.gets.pop(0))

    def request(self, method, path, *, action, params=None, json_body=None, headers=None, ok_statuses=()):
        self.calls.append((method, (headers or {}).get("If-Match")))
        answer = self.writes.pop(0)
        if isinstance(answer, ArmError):
            raise answer
        return answer

    def operation_for(self, action, response, expect_status=None, deleting=False):
        return None


def precondition_failed():
    return ArmError("Setting", 412, parse_error_body({"error": {"code": "PreconditionFailed", "message": "etag"}}))


def vault(client):
    return ConnectionService(client, parse_resource_id(VAULT), provider_for("Microsoft.KeyVault/vaults"))


def test_a_412_rereads_and_decides_again_once():
    # Between our GET and our PUT someone approved it: the re-read finds nothing left to do.
    client = Client([connection(), connection("Approved", "ok", "e2")], [precondition_failed()])
    result = vault(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=5)
    assert result["changed"] is False and client.calls == [("GET", None), ("PUT", "e1"), ("GET", None)]


def test_a_second_412_is_reported_not_forced():
    client = Client([connection(), connection("Pending", "again", "e2")], [precondition_failed(), precondition_failed()])
    with pytest.raises(ChangedElsewhere, match="412 Precondition Failed twice"):
        vault(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=5)
    assert [call for call in client.calls if call[0] == "PUT"] == [("PUT", "e1"), ("PUT", "e2")]


def test_no_etag_means_no_if_match():
    client = Client([connection(etag=None)], [ArmResponse(200, CaseInsensitiveDict(), connection("Approved", "ok"))])
    vault(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=5)
    assert client.calls[1] == ("PUT", None)


def test_a_write_the_connection_does_not_show_fails():
    client = Client([connection()], [ArmResponse(200, CaseInsensitiveDict(), connection("Pending", "ok"))])
    with pytest.raises(WriteNotApplied, match="the connection is Pending"):
        vault(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=5)


@pytest.mark.parametrize("now", [connection("Approved", "by someone else"), connection("Pending", "edited")])
def test_compare_before_write_refuses_a_changed_connection(now):
    client = Client([now])
    with pytest.raises(ChangedElsewhere, match="changed since it was read"):
        vault(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=5,
                             expect=("Pending", "please"))
    assert client.calls == [("GET", None)]


def test_compare_before_write_takes_a_412_as_changed_elsewhere_at_once():
    client = Client([connection()], [precondition_failed()])
    with pytest.raises(ChangedElsewhere, match="412"):
        vault(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=5,
                             expect=("pending", "please"))
    assert [call[0] for call in client.calls] == ["GET", "PUT"]


def test_storage_reads_its_singular_actions_field():
    body = {**connection(actions_field="actionRequired", etag=None), "id": f"{STORAGE}/privateEndpointConnections/pe"}
    client = Client([body])
    service = ConnectionService(client, parse_resource_id(STORAGE), provider_for("Microsoft.Storage/storageAccounts"))
    got = service.get("pe")
    assert got["actions_required"] == "None" and got["resource_type"] == "Microsoft.Storage/storageAccounts"
    assert got["resource_id"] == STORAGE and got["etag"] is None
