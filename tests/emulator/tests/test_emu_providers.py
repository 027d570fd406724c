# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Private Link type of providers.py: one test per completion style, per refusal and per control."""
from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from emu_helpers import SUB, Arm

from armemu import Emulator
from armemu.client import EmulatorControl, EmulatorControlError
from armemu.providers import PROVIDERS, STYLES, ProviderType, provider

RG = "rg-links"
OTHER_SUB = "0c0ffee0-0000-4000-8000-0000000000b2"
PE_RG = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints"


def resource_name(ptype: ProviderType) -> str:
    return f"{ptype.type_name.lower()[:10]}-1"


def world(*types: str, connections: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """One resource of each given type (default: every type) with a Pending, an Approved, a Rejected connection."""
    chosen = [provider(t) for t in types] if types else list(PROVIDERS)
    conns = connections if connections is not None else [
        {"name": "pe-pending.0001", "status": "Pending", "description": "please approve",
         "private_endpoint_id": f"{PE_RG}/pe-pending"},
        {"name": "pe-approved.0002", "status": "Approved", "private_endpoint_id": f"{PE_RG}/pe-approved"},
        {"name": "pe-rejected.0003", "status": "Rejected", "description": "no",
         "private_endpoint_id": f"{PE_RG}/pe-rejected"},
    ]
    return {"resources": [{"type": p.resource_type, "subscription_id": SUB, "resource_group": RG,
                           "name": resource_name(p), "location": "westus", "tags": {"team": "data"},
                           "connections": conns} for p in chosen if p is not None]}


class Link:
    """Requests to one type's resource and connections, with that type's api-version."""

    def __init__(self, arm: Arm, resource_type: str) -> None:
        ptype = provider(resource_type)
        assert ptype is not None
        self.arm, self.ptype = arm, ptype
        self.version = ptype.api_versions[-1]
        self.resource_id = (f"/subscriptions/{SUB}/resourceGroups/{RG}/providers/{ptype.resource_type}"
                            f"/{resource_name(ptype)}")

    def url(self, name: str | None = None) -> str:
        base = f"{self.arm.emulator.base_url}{self.resource_id}/privateEndpointConnections"
        return base if name is None else f"{base}/{name}"

    def call(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if "api-version" not in url:
            kwargs.setdefault("params", {"api-version": self.version})
        return self.arm.request(method, url, **kwargs)

    def get(self, name: str) -> requests.Response:
        return self.call("GET", self.url(name))

    def write(self, name: str, status: str, description: str | None = "by test", **kwargs: Any) -> requests.Response:
        state: dict[str, Any] = {"status": status}
        if description is not None:
            state["description"] = description
        body = kwargs.pop("json", None) or {"properties": {"privateLinkServiceConnectionState": state}}
        return self.call(self.ptype.write_verb, self.url(name), json=body, **kwargs)

    def delete(self, name: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", self.url(name), **kwargs)

    def follow(self, url: str) -> requests.Response:
        return self.arm.request("GET", url)


def link_state(body: dict[str, Any]) -> dict[str, Any]:
    return body["properties"]["privateLinkServiceConnectionState"]


def wait_for(check: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def stored(emu: Emulator, link: Link, name: str) -> dict[str, Any] | None:
    return emu.connection_by_id(f"{link.resource_id}/privateEndpointConnections/{name}")


@pytest.fixture
def links(emu: Emulator, arm: Arm) -> Callable[[str], Link]:
    emu.seed(world())
    return lambda resource_type: Link(arm, resource_type)


# ---- the table ------------------------------------------------------------------------------------
def test_table_covers_every_type_and_every_style() -> None:
    assert len(PROVIDERS) == 24
    assert {p.style for p in PROVIDERS} == set(STYLES)
    assert provider("microsoft.keyvault/VAULTS") is provider("Microsoft.KeyVault/vaults")
    assert all(p.source for p in PROVIDERS)


@pytest.mark.parametrize("ptype", PROVIDERS, ids=lambda p: p.resource_type)
def test_every_type_reads_lists_and_embeds(links: Callable[[str], Link], ptype: ProviderType) -> None:
    link = links(ptype.resource_type)
    one = link.get("pe-pending.0001")
    assert one.status_code == 200
    body = one.json()
    assert body["id"] == f"{link.resource_id}/privateEndpointConnections/pe-pending.0001"
    assert body["type"] == ptype.connection_type
    assert link_state(body)["status"] == "Pending"
    assert set(link_state(body)) == {"status", "description", ptype.actions_field} - {None}
    assert body["properties"]["provisioningState"] == ptype.settled_state
    assert ("etag" in body) == (ptype.etag not in (None, "kv"))  # Key Vault: no etag before the first write
    assert ("groupIds" in body["properties"], "groupId" in body["properties"]) == (
        ptype.group_field == "groupIds", ptype.group_field == "groupId")
    listed = link.call("GET", link.url()).json()
    assert [c["name"] for c in listed["value"]] == ["pe-pending.0001", "pe-approved.0002", "pe-rejected.0003"]
    assert listed.get("nextLink", "absent") == (None if ptype.list_next_link_null else "absent")
    parent = link.call("GET", f"{link.arm.emulator.base_url}{link.resource_id}").json()
    assert parent["id"] == link.resource_id and parent["tags"] == {"team": "data"}
    embedded = parent["properties"].get("privateEndpointConnections")
    assert (embedded is not None) == (ptype.embeds is not None)
    if ptype.embeds == "minimal":
        assert set(embedded[0]) == {"id", "properties"}  # + etag once written (Key Vault)
    # ARM matches namespace and type case-insensitively (the Key Vault recording says Microsoft.Keyvault).
    assert link.call("GET", link.url("pe-pending.0001").replace(ptype.resource_type, ptype.resource_type.upper())
                     ).status_code == 200
    wrong = link.call("GET", link.url("pe-pending.0001"), params={"api-version": "2000-01-01"})
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "InvalidApiVersionParameter"


@pytest.mark.parametrize("ptype", PROVIDERS, ids=lambda p: p.resource_type)
def test_every_type_approves_and_deletes(emu: Emulator, links: Callable[[str], Link], ptype: ProviderType) -> None:
    emu.configure(op_duration=0.05, dequeued_polls=0)
    link = links(ptype.resource_type)
    response = link.write("pe-pending.0001", "Approved", description="approved by test")
    assert response.status_code in (200, 202)
    assert ("Azure-AsyncOperation" in response.headers or "Location" in response.headers) == (ptype.style != "sync")

    def settled() -> bool:
        body = stored(emu, link, "pe-pending.0001") or {}
        return body.get("properties", {}).get("provisioningState") == (ptype.sticky_state or ptype.settled_state) \
            and link_state(body)["status"] == "Approved"

    wait_for(settled)
    assert link_state(link.get("pe-pending.0001").json())["description"] == "approved by test"
    assert link.delete("pe-pending.0001").status_code in (200, 202)
    wait_for(lambda: link.get("pe-pending.0001").status_code == 404)
    assert stored(emu, link, "pe-pending.0001") is None


def test_cosmos_given_as_a_resource_behaves_as_an_account(emu: Emulator, arm: Arm) -> None:
    emu.seed(world("Microsoft.DocumentDB/databaseAccounts"))
    link = Link(arm, "Microsoft.DocumentDB/databaseAccounts")
    response = link.write("pe-pending.0001", "Approved")
    assert response.status_code == 202 and response.json() == {"status": "Enqueued"}
    assert link_state(link.get("pe-pending.0001").json())["status"] == "Pending"  # old state until the end
    wait_for(lambda: link_state(link.get("pe-pending.0001").json())["status"] == "Approved")
    stored_by_id = stored(emu, link, "pe-pending.0001")
    assert emu.connection(SUB, RG, resource_name(link.ptype), "pe-pending.0001") == stored_by_id


# ---- completion styles ----------------------------------------------------------------------------
def kv_operation(url: str) -> dict[str, Any]:
    token = dict(parse_qsl(urlsplit(url).query))["kv-operation"]
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


@pytest.mark.parametrize("resource_type", ["Microsoft.KeyVault/vaults", "Microsoft.KeyVault/managedHSMs"])
def test_keyvault_write_shows_updating_then_settles_with_another_etag(
        emu: Emulator, links: Callable[[str], Link], resource_type: str) -> None:
    emu.configure(op_duration=0.5)
    link = links(resource_type)
    assert "etag" not in link.get("pe-pending.0001").json()
    response = link.write("pe-pending.0001", "Rejected", "You are rejected!")
    assert response.status_code == 200 and "Location" not in response.headers
    body = response.json()
    assert body["properties"]["provisioningState"] == "Updating"
    assert link_state(body) == {"status": "Rejected", "description": "You are rejected!", "actionsRequired": "None"}
    operation_url = response.headers["Azure-AsyncOperation"]
    assert urlsplit(operation_url).path == urlsplit(link.url("pe-pending.0001")).path
    operation = kv_operation(operation_url)
    assert operation["code"] == "privateEndpointConnections/reject" and operation["etag"] == body["etag"]
    assert link.follow(operation_url).json() == link.get("pe-pending.0001").json() == body
    wait_for(lambda: link.get("pe-pending.0001").json()["properties"]["provisioningState"] == "Succeeded")
    settled = link.get("pe-pending.0001").json()
    assert settled["etag"] not in (None, body["etag"]) and link_state(settled)["status"] == "Rejected"
    parent = link.call("GET", f"{emu.base_url}{link.resource_id}").json()
    embedded = {c["id"].rsplit("/", 1)[1]: c for c in parent["properties"]["privateEndpointConnections"]}
    assert embedded["pe-pending.0001"] == {key: settled[key] for key in ("id", "etag", "properties")}


def test_keyvault_delete_answers_202_and_shows_deleting(emu: Emulator, links: Callable[[str], Link]) -> None:
    emu.configure(op_duration=0.5)
    link = links("Microsoft.KeyVault/vaults")
    response = link.delete("pe-approved.0002")
    assert response.status_code == 202 and response.content == b""
    assert "Content-Type" not in response.headers and "Azure-AsyncOperation" not in response.headers
    location = response.headers["Location"]
    assert kv_operation(location)["code"] == "privateEndpointConnections/delete"
    assert link.get("pe-approved.0002").json()["properties"]["provisioningState"] == "Deleting"
    assert link.follow(location).status_code == 202
    wait_for(lambda: link.get("pe-approved.0002").status_code == 404)
    assert link.follow(location).status_code == 404


def test_storage_is_synchronous_and_refuses_reapproval(links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Storage/storageAccounts")
    body = {"properties": {"privateLinkServiceConnectionState": {"status": "Rejected", "description": None}}}
    response = link.write("pe-approved.0002", "Rejected", json=body)
    assert response.status_code == 200 and "Azure-AsyncOperation" not in response.headers
    assert link_state(response.json()) == {"status": "Rejected", "description": "", "actionRequired": "None"}
    assert link.get("pe-approved.0002").json() == response.json()
    assert link.write("pe-pending.0001", "Approved").status_code == 200
    again = link.write("pe-pending.0001", "Approved")
    assert again.status_code == 400 and again.json()["error"]["code"] == "InvalidValuesForRequestParameters"
    deleted = link.delete("pe-pending.0001")
    assert deleted.status_code == 200 and deleted.content == b""
    assert deleted.headers["Content-Type"] == "text/plain; charset=utf-8"
    missing = link.get("pe-pending.0001")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "PrivateEndpointConnectionNotFound"


def test_search_accepts_any_order_and_deletes_into_disconnected(links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Search/searchServices")
    for status in ("Rejected", "Pending", "Approved"):
        body = {"properties": {"privateLinkServiceConnectionState": {
            "status": status, "description": f"{status} by test", "actionsRequired": "No action required"}}}
        response = link.write("pe-approved.0002", status, json=body)
        assert response.status_code == 200
        assert link_state(response.json()) == {"status": status, "description": f"{status} by test",
                                               "actionsRequired": "None"}
    deleted = link.delete("pe-approved.0002")
    assert deleted.status_code == 200
    assert link_state(deleted.json()) == {"status": "Disconnected", "description": "Remove request from customer.",
                                          "actionsRequired": "None"}
    missing = link.get("pe-approved.0002").json()["error"]
    assert missing["code"] == "ResourceNotFound" and missing["target"] is None and missing["details"] is None
    assert missing["message"].startswith(
        f"Could not find private endpoint connection 'pe-approved.0002' in subscription '{SUB}', resourceGroupName "
        f"'{RG}', searchService '{resource_name(link.ptype)}'. RequestId: ")


def test_sql_answers_202_with_an_operation_body_and_settles_ready(
        emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Sql/servers")
    no_description = link.write("pe-pending.0001", "Approved", description=None)
    assert no_description.status_code == 400
    not_pending = link.write("pe-approved.0002", "Rejected")
    assert not_pending.status_code == 400
    assert not_pending.json()["error"]["code"] == "PrivateEndpointConnectionStatusNotPending"
    response = link.write("pe-pending.0001", "Approved")
    assert response.status_code == 202
    assert set(response.json()) == {"operation", "startTime"}
    assert response.json()["operation"] == "ApprovePrivateEndpointConnection"
    status_url, result_url = response.headers["Azure-AsyncOperation"], response.headers["Location"]
    scoped = f"/resourceGroups/{RG}/providers/Microsoft.Sql/locations/westus"
    assert f"{scoped}/privateEndpointConnectionAzureAsyncOperation/" in status_url
    assert f"{scoped}/privateEndpointConnectionOperationResults/" in result_url
    assert link.get("pe-pending.0001").json()["properties"]["provisioningState"] == "Approving"
    assert link.follow(status_url).json()["status"] == "InProgress"
    wait_for(lambda: link.follow(status_url).json()["status"] == "Succeeded")
    done = link.follow(result_url)
    assert done.status_code == 200 and link_state(done.json())["status"] == "Approved"
    assert done.json()["properties"]["provisioningState"] == "Ready"
    dropped = link.delete("pe-pending.0001")
    assert dropped.status_code == 202 and dropped.json()["operation"] == "DropPrivateEndpointConnection"
    assert link.get("pe-pending.0001").json()["properties"]["provisioningState"] == "Dropping"
    wait_for(lambda: link.get("pe-pending.0001").status_code == 404)


def test_batch_writes_with_patch_and_honours_if_match(emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Batch/batchAccounts")
    put = link.call("PUT", link.url("pe-pending.0001"),
                    json={"properties": {"privateLinkServiceConnectionState": {"status": "Approved"}}})
    assert put.status_code == 405
    current = link.get("pe-pending.0001")
    etag = current.json()["etag"]
    assert etag.startswith('W/"0x8D') and current.headers["etag"] == etag and "last-modified" in current.headers
    stale = link.write("pe-pending.0001", "Approved", headers={"If-Match": 'W/"0x8D0000000000000"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "PreconditionFailed"
    response = link.write("pe-pending.0001", "Approved", headers={"If-Match": etag})
    assert response.status_code == 202 and response.content == b""
    operation_url = response.headers["Azure-AsyncOperation"]
    assert urlsplit(operation_url).path == urlsplit(response.headers["Location"]).path
    assert "/privateEndpointConnectionResults/Updating$pe-pending.0001$" in urlsplit(operation_url).path
    assert {"api-version", "t"} <= dict(parse_qsl(urlsplit(operation_url).query)).keys()
    running = link.follow(operation_url)
    assert running.status_code == 202 and running.json()["status"] == "InProgress"
    wait_for(lambda: link.follow(operation_url).status_code == 200)
    settled = link.get("pe-pending.0001").json()
    assert link_state(settled)["status"] == "Approved" and settled["etag"] != etag
    deleted = link.delete("pe-pending.0001")
    assert deleted.status_code == 202 and "/Deleting$pe-pending.0001$" in deleted.headers["Location"]


@pytest.mark.parametrize(("resource_type", "interim"), [("Microsoft.AppConfiguration/configurationStores", "Updating"),
                                                        ("Microsoft.Web/sites", "Approving")])
def test_arm_async_200_shows_the_old_status_until_the_operation_ends(
        emu: Emulator, links: Callable[[str], Link], resource_type: str, interim: str) -> None:
    link = links(resource_type)
    response = link.write("pe-pending.0001", "Approved")
    assert response.status_code == 200 and "Location" not in response.headers
    assert link_state(response.json())["status"] == "Pending"
    assert response.json()["properties"]["provisioningState"] == interim
    status_url = response.headers["Azure-AsyncOperation"]
    assert f"/subscriptions/{SUB}/providers/{link.ptype.namespace}/locations/westus/operationStatuses/" in status_url
    first = link.follow(status_url).json()
    assert first["status"] == "InProgress" and {"id", "name", "startTime"} <= first.keys()
    wait_for(lambda: link.follow(status_url).json()["status"] == "Succeeded")
    settled = link.get("pe-pending.0001").json()
    assert link_state(settled)["status"] == "Approved" and settled["properties"]["provisioningState"] == "Succeeded"
    deleted = link.delete("pe-pending.0001")
    assert deleted.status_code == 202 and {"Azure-AsyncOperation", "Location"} <= deleted.headers.keys()
    wait_for(lambda: link.follow(deleted.headers["Location"]).status_code == 204)


def test_arm_202_location_answers_through_the_location_url(emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Insights/privateLinkScopes")
    response = link.write("pe-pending.0001", "Rejected")
    assert response.status_code == 202 and response.content == b"" and "Azure-AsyncOperation" not in response.headers
    location = response.headers["Location"]
    assert "/providers/Microsoft.Insights/locations/westus/operationResults/" in location
    assert link.follow(location).status_code == 202
    wait_for(lambda: link.follow(location).status_code == 200)
    assert link_state(link.follow(location).json())["status"] == "Rejected"
    deleted = link.delete("pe-pending.0001")
    assert deleted.status_code == 202 and set(deleted.headers) >= {"Location"}
    wait_for(lambda: link.follow(deleted.headers["Location"]).status_code == 204)
    assert link.get("pe-pending.0001").status_code == 404


@pytest.mark.parametrize(("resource_type", "sticky"), [("Microsoft.CognitiveServices/accounts", "Updating"),
                                                       ("Microsoft.DBforPostgreSQL/flexibleServers", "Pending")])
def test_sticky_provisioning_never_says_succeeded(emu: Emulator, links: Callable[[str], Link], resource_type: str,
                                                  sticky: str) -> None:
    link = links(resource_type)
    response = link.write("pe-pending.0001", "Approved")
    assert response.status_code == 202 and {"Azure-AsyncOperation", "Location"} <= response.headers.keys()
    wait_for(lambda: link.follow(response.headers["Azure-AsyncOperation"]).json()["status"] == "Succeeded")
    settled = link.get("pe-pending.0001").json()
    assert link_state(settled)["status"] == "Approved"
    assert settled["properties"]["provisioningState"] == sticky


@pytest.mark.parametrize("resource_type", ["Microsoft.EventHub/namespaces", "Microsoft.Network/privateLinkServices"])
def test_synchronous_write_with_long_running_delete(emu: Emulator, links: Callable[[str], Link],
                                                    resource_type: str) -> None:
    link = links(resource_type)
    response = link.write("pe-pending.0001", "Approved")
    assert response.status_code == 200 and link_state(response.json())["status"] == "Approved"
    deleted = link.delete("pe-pending.0001")
    assert deleted.status_code == 202 and "Location" in deleted.headers
    wait_for(lambda: link.get("pe-pending.0001").status_code == 404)


def test_operation_fault_on_another_type_leaves_the_status(emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.EventGrid/topics")
    emu.add_fault("operation_failed", path_contains="/topics/")
    response = link.write("pe-pending.0001", "Approved")
    status_url = response.headers["Azure-AsyncOperation"]
    wait_for(lambda: link.follow(status_url).json()["status"] == "Failed")
    assert link.follow(status_url).json()["error"]["code"] == "InternalServerError"
    assert link_state(link.get("pe-pending.0001").json())["status"] == "Pending"
    assert [r["kind"] for r in emu.requests() if "operationStatuses" in r["path"]][0] == "operation"


# ---- refusals -------------------------------------------------------------------------------------
@pytest.mark.parametrize("resource_type", ["Microsoft.CognitiveServices/accounts", "Microsoft.DataFactory/factories",
                                           "Microsoft.Network/privateLinkServices"])
def test_types_with_an_etag_honour_if_match(links: Callable[[str], Link], resource_type: str) -> None:
    link = links(resource_type)
    etag = link.get("pe-pending.0001").json()["etag"]
    stale = link.write("pe-pending.0001", "Approved", headers={"If-Match": '"stale"'})
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "PreconditionFailed"
    assert link.write("pe-pending.0001", "Approved", headers={"If-Match": etag}).status_code in (200, 202)


def test_types_without_an_etag_ignore_if_match(links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Storage/storageAccounts")
    assert link.write("pe-pending.0001", "Approved", headers={"If-Match": '"anything"'}).status_code == 200


def test_a_different_provisioning_state_in_the_body_is_refused(links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Storage/storageAccounts")
    current = link.get("pe-pending.0001").json()
    current["properties"]["privateLinkServiceConnectionState"]["status"] = "Approved"
    current["properties"]["provisioningState"] = "Updating"
    refused = link.write("pe-pending.0001", "Approved", json=current)
    assert refused.status_code == 400
    current["properties"]["provisioningState"] = "Succeeded"
    assert link.write("pe-pending.0001", "Approved", json=current).status_code == 200


@pytest.mark.parametrize("ptype", PROVIDERS, ids=lambda p: p.resource_type)
def test_missing_connection_parent_and_group(links: Callable[[str], Link], ptype: ProviderType) -> None:
    link = links(ptype.resource_type)
    missing = link.get("pe-nope.9999")
    assert missing.status_code == 404
    error = missing.json() if ptype.not_found is None else missing.json()["error"]
    assert error["code"] == ("NotFound" if ptype.not_found is None else ptype.not_found[0])
    assert link.write("pe-nope.9999", "Approved").status_code == 404
    assert link.delete("pe-nope.9999").status_code == 204
    no_parent = link.call("GET", link.url("pe-pending.0001").replace(resource_name(ptype), "ghost"))
    assert no_parent.json()["error"]["code"] == "ParentResourceNotFound"
    no_group = link.call("GET", link.url("pe-pending.0001").replace(f"/resourceGroups/{RG}/", "/resourceGroups/nope/"))
    assert no_group.json()["error"]["code"] == "ResourceGroupNotFound"
    ghost = f"{link.arm.emulator.base_url}{link.resource_id}".replace(resource_name(ptype), "ghost")
    no_resource = link.call("GET", ghost)
    assert no_resource.status_code == 404 and no_resource.json()["error"]["code"] == "ResourceNotFound"


# ---- lists ----------------------------------------------------------------------------------------
def collect(link: Link, url: str) -> tuple[list[str], int]:
    names, pages = [], 0
    next_url: str | None = url
    while next_url:
        page = link.call("GET", next_url).json()
        names += [item["name"] for item in page["value"]]
        next_url, pages = page.get("nextLink"), pages + 1
    return names, pages


def test_lists_page_by_list_page_size(emu: Emulator, arm: Arm) -> None:
    connections = [{"name": f"pe-{i}.000{i}", "status": "Pending"} for i in range(5)]
    emu.seed(world("Microsoft.Search/searchServices", "Microsoft.Storage/storageAccounts", connections=connections))
    emu.configure(list_page_size=2)
    for resource_type in ("Microsoft.Search/searchServices", "Microsoft.Storage/storageAccounts"):
        link = Link(arm, resource_type)
        names, pages = collect(link, link.url())
        assert names == [c["name"] for c in connections] and pages == 3
    emu.configure(list_page_size=None)
    assert collect(link, link.url())[1] == 1


def test_subscription_lists_by_type_and_generic_resources(emu: Emulator, arm: Arm) -> None:
    seed = world("Microsoft.KeyVault/vaults", "Microsoft.Storage/storageAccounts")
    seed["resources"] += [{"type": "Microsoft.KeyVault/vaults", "subscription_id": SUB, "resource_group": RG,
                           "name": f"vault-{i}"} for i in range(3)]
    seed["resources"].append({"type": "Microsoft.KeyVault/vaults", "subscription_id": OTHER_SUB,
                              "resource_group": RG, "name": "elsewhere"})
    emu.seed(seed)
    emu.configure(list_page_size=2)
    link = Link(arm, "Microsoft.KeyVault/vaults")
    names, pages = collect(link, f"{emu.base_url}/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults")
    assert sorted(names) == ["vault-0", "vault-1", "vault-2", "vaults-1"] and pages == 2
    query = {"$filter": "resourceType eq 'Microsoft.KeyVault/vaults'", "api-version": "2021-04-01"}
    first = arm.request("GET", f"{emu.base_url}/subscriptions/{SUB}/resources", params=query).json()
    assert set(first["value"][0]) == {"id", "name", "type", "location", "tags"}
    names, _pages = collect(link, first["nextLink"])
    assert sorted(names + [v["name"] for v in first["value"]]) == ["vault-0", "vault-1", "vault-2", "vaults-1"]
    emu.configure(list_page_size=None)
    everything = arm.request("GET", f"{emu.base_url}/subscriptions/{SUB}/resources",
                             params={"api-version": "2021-04-01"}).json()
    assert len(everything["value"]) == 5 and "nextLink" not in everything
    bad = arm.request("GET", f"{emu.base_url}/subscriptions/{SUB}/resources",
                      params={"api-version": "2021-04-01", "$filter": "tagName eq 'x'"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidFilterInQueryString"


# ---- deny policy ----------------------------------------------------------------------------------
def test_deny_policy_refuses_writes_without_or_outside_allowed_endpoints(emu: Emulator,
                                                                         links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Storage/storageAccounts")
    emu.configure(deny_policy={"require_private_endpoint_id": True, "allowed_endpoint_subscriptions": [SUB]})
    refused = link.write("pe-pending.0001", "Approved")
    assert refused.status_code == 403
    error = refused.json()["error"]
    assert error["code"] == "RequestDisallowedByPolicy" and error["target"] == "pe-pending.0001"
    assert error["message"].startswith("Resource 'pe-pending.0001' was disallowed by policy. Policy identifiers: '[")
    info = error["additionalInfo"][0]["info"]
    assert error["additionalInfo"][0]["type"] == "PolicyViolation" and info["policyDefinitionEffect"] == "deny"
    assert info["policyAssignmentDisplayName"] == "Deny cross-tenant private endpoint connections"

    def with_endpoint(endpoint_id: str) -> requests.Response:
        return link.write("pe-pending.0001", "Approved", json={"properties": {
            "privateEndpoint": {"id": endpoint_id},
            "privateLinkServiceConnectionState": {"status": "Approved", "description": "ok"}}})

    assert with_endpoint(f"/subscriptions/{OTHER_SUB}/resourceGroups/x/providers/Microsoft.Network/"
                         "privateEndpoints/pe").status_code == 403
    assert link_state(link.get("pe-pending.0001").json())["status"] == "Pending"
    assert with_endpoint(f"{PE_RG}/pe-pending").status_code == 200
    emu.configure(deny_policy=None)
    assert link.write("pe-rejected.0003", "Approved").status_code == 200


# ---- changed by someone else ----------------------------------------------------------------------
def test_change_elsewhere_after_the_read(emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Batch/batchAccounts")
    emu.add_fault("change_elsewhere", path_contains="pe-pending.0001")
    read = link.get("pe-pending.0001").json()
    assert link_state(read)["status"] == "Pending"  # the reader saw the old state
    now = link.get("pe-pending.0001").json()
    assert link_state(now) == {"status": "Approved", "description": "Approved by another administrator",
                               "actionsRequired": "None"}
    assert now["etag"] != read["etag"]
    stale = link.write("pe-pending.0001", "Rejected", headers={"If-Match": read["etag"]})
    assert stale.status_code == 412
    fault = [r for r in emu.requests("arm") if r["fault"]]
    assert len(fault) == 1 and fault[0]["method"] == "GET"


def test_change_elsewhere_takes_status_and_description(emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.Sql/servers")
    emu.add_fault("change_elsewhere", path_contains="pe-pending.0001", status="Rejected", description="nope")
    link.get("pe-pending.0001")
    refused = link.write("pe-pending.0001", "Approved")
    assert refused.json()["error"]["code"] == "PrivateEndpointConnectionStatusNotPending"


# ---- seed and controls ----------------------------------------------------------------------------
@pytest.mark.parametrize(("seed", "message"), [
    ({"resources": [{"type": "Microsoft.Storage/storageAccounts", "subscription_id": SUB, "resource_group": RG,
                     "name": "a", "connections": [{"name": "c", "stauts": "Approved"}]}]},
     "resources[0].connections[0].stauts: unknown key"),
    ({"resources": [{"type": "Microsoft.Nope/things", "subscription_id": SUB, "resource_group": RG, "name": "a"}]},
     "resources[0].type: unknown resource type"),
    ({"resources": [{"type": "Microsoft.Storage/storageAccounts", "subscription_id": SUB, "resource_group": RG,
                     "name": "a", "connections": [{"name": "c", "status": "Approve"}]}]},
     "resources[0].connections[0].status: 'Approve' is not a status"),
    ({"accounts": [{"subscription_id": SUB, "resource_group": RG, "name": "a", "colour": "red"}]},
     "accounts[0].colour: unknown key"),
    ({"acounts": []}, "acounts: unknown key"),
])
def test_seed_errors_name_the_key_path(emu: Emulator, seed: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        emu.seed(seed)


def test_connection_by_id_in_process_and_over_the_admin_api(emu: Emulator, links: Callable[[str], Link]) -> None:
    link = links("Microsoft.KeyVault/vaults")
    connection_id = f"{link.resource_id}/privateEndpointConnections/pe-pending.0001"
    control = EmulatorControl(emu.base_url, emu.ca_file)
    assert control.connection_by_id(connection_id) == emu.connection_by_id(connection_id) == \
        link.get("pe-pending.0001").json()
    assert control.connection_by_id(connection_id.replace("pe-pending", "pe-nope")) is None
    assert emu.connection_by_id("/subscriptions/x/nothing") is None
    control.configure(list_page_size=1, deny_policy=None)
    assert emu.state_snapshot()["config"]["list_page_size"] == 1
    with pytest.raises(EmulatorControlError):
        control.configure(deny_policy={"colour": "red"})
