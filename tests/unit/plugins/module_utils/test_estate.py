# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy's discovery and writes with the client patched one layer down: Resource Graph paging and
quota, ARM lists with nextLink, embedded versus listed connections, pacing, and the per-subscription bound."""

from __future__ import annotations

import threading
import time

import pytest
from requests.structures import CaseInsensitiveDict

from ansible_collections.privatelink.azure.plugins.module_utils import _policy
from ansible_collections.privatelink.azure.plugins.module_utils._arm import ArmResponse
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ArmError
from ansible_collections.privatelink.azure.plugins.module_utils._estate import (
    Estate,
    Pacer,
    parse_duration,
    resource_graph_query,
)
from ansible_collections.privatelink.azure.plugins.module_utils._providers import known_types

SUB = "11111111-2222-3333-4444-555555555555"
OTHER = "22222222-2222-3333-4444-555555555555"
ALLOWED = "aaaaaaaa-0000-0000-0000-000000000001"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1"
SITE = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Web/sites/web1"


def pec(resource_id, name, status="Pending", endpoint_sub=ALLOWED, description="please"):
    return {"id": f"{resource_id}/privateEndpointConnections/{name}", "name": name, "properties": {
        "privateEndpoint": {"id": f"/subscriptions/{endpoint_sub}/resourceGroups/n/providers/"
                                  f"Microsoft.Network/privateEndpoints/{name}"},
        "privateLinkServiceConnectionState": {"status": status, "description": description}}}


class Client:
    """Answers Resource Graph POSTs from ``pages`` and GETs from ``gets`` (path -> body)."""

    def __init__(self, pages=(), gets=None, headers=None):
        self.pages, self.gets, self.headers = list(pages), dict(gets or {}), headers or {}
        self.posts, self.reads = [], []
        self.on_response = None
        self.report_progress = True

    def request(self, method, path, *, action, params=None, json_body=None, headers=None, ok_statuses=()):
        self.posts.append(json_body)
        return ArmResponse(200, CaseInsensitiveDict(self.headers), self.pages.pop(0))

    def get_json(self, path, *, action, params=None):
        self.reads.append(path)
        return ArmResponse(200, CaseInsensitiveDict(), self.gets[path])


def scope(**values):
    return _policy.validate_scope({"subscriptions": [SUB], **values}, known_types())


def estate(client, rules=(), **kwargs):
    return Estate(client, scope(), _policy.validate_rules(list(rules), known_types()), sleep=kwargs.pop("sleep", None)
                  or (lambda s: None), **kwargs)


def test_the_query_names_types_groups_and_ids_and_projects_the_connections():
    query = resource_graph_query(["Microsoft.Storage/storageAccounts"], ["RG-A"], [STORAGE])
    assert query.splitlines() == [
        "resources", "| where type in~ ('microsoft.storage/storageaccounts')", "| where resourceGroup in~ ('rg-a')",
        f"| where id in~ ('{STORAGE.lower()}')",
        "| project id, name, type, subscriptionId, resourceGroup, location, tags, "
        "connections = properties.privateEndpointConnections"]


@pytest.mark.parametrize("value, seconds", [("00:00:05", 5), ("01:02:03", 3723), ("00:00:01.5", 1), ("soon", None),
                                            (None, None)])
def test_resource_graph_quota_reset_durations(value, seconds):
    assert parse_duration(value) == seconds


def test_resource_graph_pages_until_no_token_and_lists_only_resources_that_do_not_embed():
    pages = [
        {"data": [{"id": STORAGE, "type": "microsoft.storage/storageaccounts", "tags": {"env": "prod"},
                   "connections": [pec(STORAGE, "st1.a")]}], "$skipToken": "next", "resultTruncated": "false"},
        {"data": [{"id": SITE, "type": "microsoft.web/sites", "tags": {}, "connections": None}],
         "resultTruncated": "false"},
    ]
    client = Client(pages, gets={f"{SITE}/privateEndpointConnections": {"value": [pec(SITE, "web1-a")]}},
                    headers={"x-ms-user-quota-remaining": "0", "x-ms-user-quota-resets-after": "00:00:03"})
    slept = []
    found = estate(client, sleep=slept.append).discover()
    assert [c["name"] for c in found] == ["st1.a", "web1-a"]
    assert found[0]["resource_tags"] == {"env": "prod"} and found[0]["resource_type"] == \
        "Microsoft.Storage/storageAccounts"
    assert client.posts[1]["options"]["$skipToken"] == "next" and client.posts[0]["subscriptions"] == [SUB]
    assert client.reads == [f"{SITE}/privateEndpointConnections"]  # the storage account embeds its connections
    assert slept == [3], "the quota ran out before the second page: wait for its reset"


def test_a_truncated_result_without_a_token_is_an_error_not_a_partial_estate():
    client = Client([{"data": [], "resultTruncated": "true"}])
    with pytest.raises(ArmError, match="truncated"):
        estate(client).discover()


def test_arm_discovery_follows_next_links_and_reads_embedded_connections():
    first = f"/subscriptions/{SUB}/providers/Microsoft.Storage/storageAccounts"
    gets = {first: {"value": [], "nextLink": "https://arm/next"},
            "https://arm/next": {"value": [{"id": STORAGE, "properties": {
                "privateEndpointConnections": [pec(STORAGE, "st1.a")]}}]}}
    client = Client(gets=gets)
    state = Estate(client, scope(resource_types=["Microsoft.Storage/storageAccounts"]), (), discovery="arm")
    assert [c["name"] for c in state.discover()] == ["st1.a"] and state.stats.discovery_calls == 2


def test_the_pacer_waits_only_when_few_requests_are_left():
    slept = []
    pacer = Pacer(slept.append)
    pacer.before(SUB, "writes")
    pacer.observe("PUT", f"https://arm/subscriptions/{SUB}/x", 200,
                  {"x-ms-ratelimit-remaining-subscription-writes": "150"})
    pacer.before(SUB, "writes")
    pacer.observe("PUT", f"https://arm/subscriptions/{SUB}/x", 200,
                  {"x-ms-ratelimit-remaining-subscription-writes": "5"})
    pacer.before(SUB, "writes")
    pacer.before(OTHER, "writes")  # another subscription has its own bucket
    pacer.observe("GET", f"https://arm/subscriptions/{SUB}/x", 429, {})
    assert slept == [pytest.approx(1.5)] and pacer.paced == 1 and pacer.throttled == 1


def test_writes_are_bounded_per_subscription_and_every_decision_gets_its_outcome(monkeypatch):
    active, peak, lock = {}, {}, threading.Lock()

    def fake_send(service, decision, options):
        sub = decision.resource_id.split("/")[2]
        with lock:
            active[sub] = active.get(sub, 0) + 1
            peak[sub] = max(peak.get(sub, 0), active[sub])
        time.sleep(0.02)
        with lock:
            active[sub] -= 1

    monkeypatch.setattr(Estate, "_send", staticmethod(fake_send))
    connections = []
    for sub in (SUB, OTHER):
        resource = f"/subscriptions/{sub}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"
        for index in range(12):
            connections.append({**pec(resource, f"c{index}"), "resource_id": resource,
                                "resource_type": "Microsoft.Storage/storageAccounts", "status": "Pending",
                                "description": "please", "private_endpoint_id": pec(resource, "x")["properties"][
                                    "privateEndpoint"]["id"]})
    state = estate(Client(), [{"action": "approve", "endpoint_subscriptions": [ALLOWED]}], max_concurrent_writes=3)
    decisions = state.apply(state.plan(connections))
    assert [d.outcome for d in decisions] == ["approved"] * 24
    assert peak == {SUB: 3, OTHER: 3}
