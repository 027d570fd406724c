# SPDX-License-Identifier: GPL-3.0-or-later
"""Finding connections by private endpoint, by its subscription and by status: the pure filters and the
service's lookup (against a stub of the ARM client, one layer down)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.privatelink.azure.plugins.module_utils import _cosmosdb as c
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

SUB = "11111111-2222-3333-4444-555555555555"
SUB_A = "aaaaaaaa-0000-0000-0000-00000000000a"
SUB_B = "bbbbbbbb-0000-0000-0000-00000000000b"


def pe(sub: str, name: str, rg: str = "rg-net") -> str:
    return f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.Network/privateEndpoints/{name}"


def conn(name: str, endpoint: str | None, status: str = "Pending") -> dict:
    return {"id": f"/x/{name}", "name": name, "group_id": "Sql", "private_endpoint_id": endpoint, "status": status,
            "description": None, "actions_required": "None", "provisioning_state": "Succeeded"}


CONNECTIONS = [
    conn("a1", pe(SUB_A, "pe-a1")),
    conn("a2", pe(SUB_A, "pe-a2"), "Approved"),
    conn("b1", pe(SUB_B, "pe-b1")),
    conn("b2", pe(SUB_B, "pe-b2"), "Rejected"),
    conn("odd", None, "pending"),  # no endpoint and a lower-case status: must not break the filters
]


def names(connections):
    return [item["name"] for item in connections]


# -- same_arm_id / endpoint_subscription_id -----------------------------------------------------------
@pytest.mark.parametrize("left,right,same", [
    (pe(SUB_A, "pe"), pe(SUB_A, "pe").upper(), True),
    (pe(SUB_A, "pe"), pe(SUB_A, "pe") + "/", True),
    (pe(SUB_A, "pe"), pe(SUB_A, "pe2"), False),
    (pe(SUB_A, "pe"), pe(SUB_B, "pe"), False),
    (pe(SUB_A, "pe"), None, False),
    (None, None, False),
])
def test_same_arm_id(left, right, same):
    assert c.same_arm_id(left, right) is same


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=40),
       st.lists(st.booleans(), min_size=120, max_size=120))
def test_any_casing_of_an_id_is_the_same_id(name, upper):
    endpoint = pe(SUB_A, name)
    recased = "".join(ch.upper() if flip else ch.lower() for ch, flip in zip(endpoint, upper + [False] * 200))
    assert c.same_arm_id(endpoint, recased)
    assert c.endpoint_subscription_id(recased).lower() == SUB_A


@pytest.mark.parametrize("value,expected", [
    (pe(SUB_A, "pe"), SUB_A),
    (pe(SUB_A, "pe").replace("/subscriptions/", "/SUBSCRIPTIONS/"), SUB_A),
    ("/subscriptions/" + SUB_B, SUB_B),
    ("subscriptions/" + SUB_B + "/x", None),
    ("", None),
    (None, None),
    (42, None),
])
def test_endpoint_subscription_id(value, expected):
    assert c.endpoint_subscription_id(value) == expected


# -- validation -------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [pe(SUB_A, "pe"), pe(SUB_A, "pe").lower(), pe(SUB_A, "pe") + "/"])
def test_private_endpoint_id_accepted(value):
    assert c.validate_private_endpoint_id(value) == value


@pytest.mark.parametrize("value", [
    "pe-billing",
    "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Network/privateEndpoints/pe",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/db"
    "/privateEndpointConnections/pe",
    pe(SUB_A, "pe") + "/extra",
    None,
    123,
])
def test_private_endpoint_id_refused(value):
    with pytest.raises(ValidationError, match="private_endpoint_id must be the ARM resource ID of a private endpoint"):
        c.validate_private_endpoint_id(value)


def test_status_filter_is_case_insensitive_and_returns_service_spelling():
    assert c.validate_status_filter(["pending", "APPROVED", "Disconnected"]) == ["Pending", "Approved", "Disconnected"]
    assert c.validate_status_filter(None) == []
    with pytest.raises(ValidationError, match="status must be one of Pending, Approved, Rejected, Disconnected"):
        c.validate_status_filter(["Pending", "Waiting"])


# -- filter_connections ----------------------------------------------------------------------------------
@pytest.mark.parametrize("filters,expected", [
    ({}, ["a1", "a2", "b1", "b2", "odd"]),
    ({"statuses": ["Pending"]}, ["a1", "b1", "odd"]),
    ({"statuses": ["approved", "REJECTED"]}, ["a2", "b2"]),
    ({"statuses": []}, ["a1", "a2", "b1", "b2", "odd"]),
    ({"private_endpoint_subscription_id": SUB_A}, ["a1", "a2"]),
    ({"private_endpoint_subscription_id": SUB_B.upper()}, ["b1", "b2"]),
    ({"private_endpoint_subscription_id": SUB_B, "statuses": ["Pending"]}, ["b1"]),
    ({"private_endpoint_id": pe(SUB_B, "PE-B2")}, ["b2"]),
    ({"private_endpoint_id": pe(SUB_B, "pe-b2"), "statuses": ["Pending"]}, []),
    ({"private_endpoint_subscription_id": SUB}, []),
])
def test_filter_connections(filters, expected):
    assert names(c.filter_connections(CONNECTIONS, **filters)) == expected


def test_filter_returns_copies():
    result = c.filter_connections(CONNECTIONS, statuses=["Pending"])
    result[0]["status"] = "changed"
    assert CONNECTIONS[0]["status"] == "Pending"


# -- find_by_private_endpoint -----------------------------------------------------------------------
def test_find_by_private_endpoint_one_none_several():
    assert c.find_by_private_endpoint(CONNECTIONS, pe(SUB_A, "PE-A1"))["name"] == "a1"
    assert c.find_by_private_endpoint(CONNECTIONS, pe(SUB_A, "pe-zz")) is None
    twins = CONNECTIONS + [conn("a1-again", pe(SUB_A, "pe-a1").upper())]
    with pytest.raises(c.AmbiguousConnection, match=r"2 connections come from private endpoint .*'a1', 'a1-again'"):
        c.find_by_private_endpoint(twins, pe(SUB_A, "pe-a1"))


# -- the service -----------------------------------------------------------------------------------
class ListingClient:
    """Stands in for ArmClient: answers the list request with two pages and records the calls."""

    def __init__(self, pages):
        self.pages = pages
        self.calls = []

    def get_json(self, path, action, params=None):
        self.calls.append(path)
        return SimpleNamespace(body=self.pages[len(self.calls) - 1], request_id="req-1", correlation_id="corr-1")


def arm(name, endpoint):
    return {"name": name, "id": f"/x/{name}", "properties": {
        "privateEndpoint": {"id": endpoint}, "privateLinkServiceConnectionState": {"status": "Pending"}}}


def service(pages):
    return c.ConnectionService(ListingClient(pages), SUB, "rg-data", "orders-db")


def test_name_for_private_endpoint_reads_every_page():
    svc = service([{"value": [arm("a1", pe(SUB_A, "pe-a1"))], "nextLink": "https://arm/next"},
                   {"value": [arm("b1", pe(SUB_B, "pe-b1"))]}])
    assert svc.name_for_private_endpoint(pe(SUB_B, "PE-B1"), required=True) == "b1"
    assert svc.client.calls[1] == "https://arm/next"


def test_name_for_private_endpoint_absent():
    svc = service([{"value": [arm("a1", pe(SUB_A, "pe-a1"))]}])
    assert svc.name_for_private_endpoint(pe(SUB_B, "pe-b1"), required=False) is None
    svc = service([{"value": [arm("a1", pe(SUB_A, "pe-a1"))]}])
    with pytest.raises(c.ConnectionNotFound, match="No connection of Cosmos DB account 'orders-db'") as err:
        svc.name_for_private_endpoint(pe(SUB_B, "pe-b1"), required=True)
    # The listing that had no match is the ARM answer support asks about.
    fields = err.value.fail_fields()
    assert fields["error"]["code"] == "PrivateEndpointConnectionNotFound"
    assert fields["request_id"] == "req-1" and fields["correlation_id"] == "corr-1"


def test_name_for_private_endpoint_validates_before_any_request():
    svc = service([])
    with pytest.raises(ValidationError):
        svc.name_for_private_endpoint("pe-b1", required=True)
    assert svc.client.calls == []
