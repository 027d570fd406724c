# SPDX-License-Identifier: GPL-3.0-or-later
"""ConnectionService with the client patched one layer down: which requests it makes and what it returns."""

from __future__ import annotations

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.privatelink.azure.plugins.module_utils._arm import ArmResponse, LongRunningOperation
from ansible_collections.privatelink.azure.plugins.module_utils._cosmosdb import (
    ConnectionNotFound,
    ConnectionService,
    TransitionError,
)
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ArmError, parse_error_body

SUB = "11111111-2222-3333-4444-555555555555"
CONNECTION_ID = (f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/acct"
                 "/privateEndpointConnections/pe")


def resource(status="Pending", description="please", name="pe"):
    state = {"status": status, "actionsRequired": "None"}
    if description is not None:
        state["description"] = description
    return {"id": f"/subscriptions/{SUB}/x/{name}", "name": name, "type": "t",
            "properties": {"provisioningState": "Succeeded", "groupId": "Sql",
                           "privateEndpoint": {"id": "/pe/id"}, "privateLinkServiceConnectionState": state}}


class FakeClient:
    """Answers like ArmClient: GETs from a list of bodies (None = flat 404), writes from ``write``."""

    def __init__(self, gets, write=None):
        self.gets = list(gets)
        self.write = write
        self.calls = []
        self.waited = []

    def get_json(self, path, *, action, params=None):
        self.calls.append(("GET", path))
        body = self.gets.pop(0)
        if body is None:
            raise ArmError(action, 404, parse_error_body({"code": "NotFound", "message": "gone"}))
        return ArmResponse(200, CaseInsensitiveDict(), body)

    def request(self, method, path, *, action, params=None, json_body=None, headers=None, ok_statuses=()):
        self.calls.append((method, path, json_body))
        return self.write

    def operation_for(self, action, response, expect_status=None, deleting=False):
        return self.start_operation(action, response) if response.status_code == 202 else None

    def start_operation(self, action, accepted):
        return LongRunningOperation(action, accepted, "https://arm/op", True)

    def wait(self, operation, timeout):
        self.waited.append((operation.url, timeout))


def service(client):
    return ConnectionService(client, SUB, "rg", "acct")


def test_no_change_makes_one_get_and_nothing_else():
    client = FakeClient([resource("Approved", "ok")])
    result = service(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=10)
    assert result["changed"] is False and [c[0] for c in client.calls] == ["GET"]


def test_202_is_followed_then_the_resource_is_read_once_more():
    client = FakeClient([resource(), resource("Approved", "ok")],
                        write=ArmResponse(202, CaseInsensitiveDict(), {"status": "Enqueued"}))
    result = service(client).ensure("pe", "Approved", "ok", check_mode=False, wait=True, wait_timeout=42)
    assert [c[0] for c in client.calls] == ["GET", "PUT", "GET"]
    # The connection as Azure sees it: its private endpoint and group, and the new state; nothing read-only.
    assert client.calls[1][2] == {"properties": {
        "privateEndpoint": {"id": "/pe/id"}, "groupId": "Sql",
        "privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}}
    assert client.waited == [("https://arm/op", 42)]
    assert result["connection"]["status"] == "Approved" and result["changed"] is True


def test_synchronous_200_with_the_resource_needs_no_polling():
    client = FakeClient([resource()], write=ArmResponse(200, CaseInsensitiveDict(), resource("Rejected", "no")))
    result = service(client).ensure("pe", "Rejected", "no", check_mode=False, wait=True, wait_timeout=10)
    assert [c[0] for c in client.calls] == ["GET", "PUT"] and client.waited == []
    assert result["connection"]["status"] == "Rejected"
    assert result["diff"]["after"] == {"status": "Rejected", "description": "no"}


def test_omitted_description_sends_the_current_one():
    client = FakeClient([resource(), resource("Approved")],
                        write=ArmResponse(202, CaseInsensitiveDict(), {"status": "Enqueued"}))
    service(client).ensure("pe", "Approved", None, check_mode=False, wait=True, wait_timeout=10)
    assert client.calls[1][2]["properties"]["privateLinkServiceConnectionState"]["description"] == "please"


def test_no_wait_returns_the_operation_url_and_the_requested_state():
    client = FakeClient([resource()], write=ArmResponse(202, CaseInsensitiveDict(), {"status": "Enqueued"}))
    result = service(client).ensure("pe", "Approved", "ok", check_mode=False, wait=False, wait_timeout=10)
    assert result["operation_url"] == "https://arm/op" and client.waited == []
    assert result["connection"]["status"] == "Approved"


def test_check_mode_predicts_without_writing():
    client = FakeClient([resource()])
    result = service(client).ensure("pe", "Approved", "ok", check_mode=True, wait=True, wait_timeout=10)
    assert result["changed"] is True and [c[0] for c in client.calls] == ["GET"]
    assert result["diff"] == {"before": {"status": "Pending", "description": "please"},
                              "after": {"status": "Approved", "description": "ok"},
                              "before_header": CONNECTION_ID, "after_header": CONNECTION_ID}


@pytest.mark.parametrize("check_mode", [True, False])
def test_rejected_to_approved_refused_without_write(check_mode):
    client = FakeClient([resource("Rejected")])
    with pytest.raises(TransitionError):
        service(client).ensure("pe", "Approved", None, check_mode=check_mode, wait=True, wait_timeout=10)
    assert [c[0] for c in client.calls] == ["GET"]


def test_missing_connection_for_present_and_absent():
    with pytest.raises(ConnectionNotFound, match="does not exist") as err:
        service(FakeClient([None])).ensure("pe", "Approved", None, check_mode=False, wait=True, wait_timeout=1)
    # The friendly message keeps the fields of the 404 that said so.
    fields = err.value.fail_fields()
    assert fields["status_code"] == 404 and fields["error"]["code"] == "NotFound"
    client = FakeClient([None])
    assert service(client).remove("pe", check_mode=False, wait=True, wait_timeout=1)["changed"] is False
    assert [c[0] for c in client.calls] == ["GET"]


def test_missing_parent_is_not_translated_to_absent():
    class ParentMissing(FakeClient):
        def get_json(self, path, *, action, params=None):
            raise ArmError(action, 404, parse_error_body({"error": {"code": "ParentResourceNotFound",
                                                                    "message": "Parent resource 'acct' not found."}}))
    with pytest.raises(ArmError, match="ParentResourceNotFound"):
        service(ParentMissing([])).remove("pe", check_mode=False, wait=True, wait_timeout=1)


def test_delete_follows_the_operation():
    client = FakeClient([resource()], write=ArmResponse(202, CaseInsensitiveDict(), {"status": "Enqueued"}))
    result = service(client).remove("pe", check_mode=False, wait=True, wait_timeout=5)
    assert [c[0] for c in client.calls] == ["GET", "DELETE"] and client.waited == [("https://arm/op", 5)]
    assert result == {"changed": True, "connection": {}, "operation_polls": 0, "operation_seconds": 0.0,
                      "diff": {"before": {"status": "Pending", "description": "please"}, "after": {},
                               "before_header": CONNECTION_ID, "after_header": CONNECTION_ID}}
