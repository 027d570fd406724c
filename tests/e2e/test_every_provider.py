# SPDX-License-Identifier: GPL-3.0-or-later
"""The generic modules on every type of the provider table, through real ansible-playbook runs.

For each type: a check-mode run that predicts and writes nothing, the run that approves, rejects and
deletes (by name, by private endpoint and by the connection's full id), a re-run that writes nothing, the
transitions the service refuses refused before any write, and a missing connection with its ARM fields.
The emulator serves each type the way its recording or REST spec says (tests/emulator/README.md), so the
same playbook meets every way a write completes.
"""

from __future__ import annotations

import pytest
from support import CONSUMER_SUB_A, CONSUMER_SUB_B, SUBSCRIPTION, endpoint_id, standard_seed

from ansible_collections.privatelink.azure.plugins.module_utils._providers import PROVIDERS

MODULE = "privatelink.azure.private_endpoint_connection"
INFO = "privatelink.azure.private_endpoint_connection_info"
WRITES = ("PUT", "PATCH", "DELETE")
# The change each type refuses, as (connection, status, description): refused before any write.
REFUSED = {
    "Microsoft.DocumentDB/databaseAccounts": ("pe-rejected.0004", "Approved", None),
    "Microsoft.Sql/servers": ("pe-approved.0003", "Rejected", "no"),
    "Microsoft.Storage/storageAccounts": ("pe-approved.0003", "Approved", "a new description"),
}


def resource_id(provider) -> str:
    name = "res" + provider.resource_type.split("/")[1].lower()[:12]
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-plink/providers/{provider.resource_type}/{name}"


def seed(provider) -> dict:
    world = standard_seed()
    namespace_type = provider.resource_type
    world["resources"] = [{
        "type": namespace_type, "subscription_id": SUBSCRIPTION, "resource_group": "rg-plink",
        "name": resource_id(provider).rsplit("/", 1)[1], "location": "westus",
        "connections": [
            {"name": "pe-pending.0001", "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending"),
             "status": "Pending", "description": "Please approve"},
            {"name": "pe-rejectme.0002", "private_endpoint_id": endpoint_id(CONSUMER_SUB_B, "pe-rejectme"),
             "status": "Pending", "description": "Let me in"},
            {"name": "pe-approved.0003", "private_endpoint_id": endpoint_id(SUBSCRIPTION, "pe-approved"),
             "status": "Approved", "description": "Auto-Approved"},
            {"name": "pe-rejected.0004", "private_endpoint_id": endpoint_id(CONSUMER_SUB_B, "pe-rejected"),
             "status": "Rejected", "description": "No"},
            {"name": "pe-gone.0005", "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-gone"),
             "status": "Disconnected", "description": "Endpoint deleted"},
        ],
    }]
    return world


def scenario(provider) -> list[dict]:
    rid = resource_id(provider)
    tasks = [
        {"name": "approve by private endpoint", MODULE: {
            "resource_id": rid, "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending"),
            "status": "approved", "description": "Approved for billing"}, "register": "approved"},
        {"name": "reject by connection id", MODULE: {
            "id": f"{rid}/privateEndpointConnections/pe-rejectme.0002", "status": "Rejected",
            "description": "Not an approved consumer"}},
        {"name": "missing connection", MODULE: {"resource_id": rid, "name": "pe-nope.0009", "status": "Approved"},
         "ignore_errors": True},
        {"name": "delete the disconnected one", MODULE: {"resource_id": rid, "name": "pe-gone.0005",
                                                         "state": "absent"}},
        {"name": "list what is left", INFO: {"resource_id": rid}},
    ]
    refused = REFUSED.get(provider.resource_type)
    if refused:
        name, status, description = refused
        tasks.insert(3, {"name": "refused transition", MODULE: {
            "resource_id": rid, "name": name, "status": status, "description": description},
            "ignore_errors": True})
    return tasks


def writes(emulator, name=None):
    return [r for r in emulator.requests("arm") if r["method"] in WRITES and (name is None or name in r["path"])]


def by_name(run):
    return {record["task"]: record for record in run.results}


@pytest.mark.parametrize("provider", PROVIDERS, ids=[p.resource_type for p in PROVIDERS])
def test_each_type_from_check_to_rerun(provider, emulator, run_playbook, awx_env):
    emulator.seed(seed(provider))
    emulator.clear_requests()
    tasks = scenario(provider)
    rid = resource_id(provider)

    check = run_playbook(tasks, check=True, diff=True, env=awx_env)
    assert check.rc == 0, check.output
    assert writes(emulator) == [], "check mode must not write"
    predicted = by_name(check)
    assert predicted["approve by private endpoint"]["result"]["changed"] is True
    assert predicted["approve by private endpoint"]["result"]["connection"]["status"] == "Approved"
    assert predicted["delete the disconnected one"]["result"]["changed"] is True
    if provider.resource_type in REFUSED:
        assert predicted["refused transition"]["status"] == "failed", "check mode predicts the refusal"
    emulator.clear_requests()

    apply = run_playbook(tasks, diff=True, env=awx_env)
    assert apply.rc == 0, apply.output
    results = by_name(apply)
    approved = results["approve by private endpoint"]["result"]
    assert approved["changed"] is True and approved["connection"]["status"] == "Approved"
    assert approved["connection"]["resource_type"] == provider.resource_type
    assert approved["connection"]["resource_id"].lower() == rid.lower()
    assert approved["diff"]["before_header"].endswith("/privateEndpointConnections/pe-pending.0001")
    assert results["reject by connection id"]["result"]["changed"] is True
    missing = results["missing connection"]
    assert missing["status"] == "failed"
    assert missing["result"]["status_code"] == 404 and missing["result"]["error"]["code"]
    assert "does not exist" in missing["result"]["msg"]
    assert results["delete the disconnected one"]["result"]["changed"] is True
    if provider.resource_type in REFUSED:
        assert results["refused transition"]["status"] == "failed"
        assert writes(emulator, REFUSED[provider.resource_type][0]) == [], "a refused change is never sent"
    # One write per change, sent with the verb of the type and the private endpoint of the connection.
    assert [(w["method"], w["path"].rsplit("/", 1)[1]) for w in writes(emulator)] == [
        (provider.write_method, "pe-pending.0001"), (provider.write_method, "pe-rejectme.0002"),
        ("DELETE", "pe-gone.0005")]
    first = writes(emulator)[0]
    assert first["query"]["api-version"] == provider.api_version
    assert first["body"]["properties"]["privateEndpoint"]["id"] == endpoint_id(CONSUMER_SUB_A, "pe-pending")
    state = emulator.connection_by_id(f"{rid}/privateEndpointConnections/pe-pending.0001")
    assert state["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    assert emulator.connection_by_id(f"{rid}/privateEndpointConnections/pe-gone.0005") is None
    listed = {c["name"]: c["status"] for c in results["list what is left"]["result"]["connections"]}
    assert listed["pe-pending.0001"] == "Approved" and listed["pe-rejectme.0002"] == "Rejected"
    assert "pe-gone.0005" not in listed
    emulator.clear_requests()

    rerun = run_playbook(tasks, env=awx_env)
    assert rerun.rc == 0, rerun.output
    again = by_name(rerun)
    assert again["approve by private endpoint"]["result"]["changed"] is False
    assert again["reject by connection id"]["result"]["changed"] is False
    assert again["delete the disconnected one"]["result"]["changed"] is False
    assert writes(emulator) == [], "an idempotent re-run writes nothing"
    # By name (or id) a re-run is exactly one GET of the connection.
    assert [r["method"] for r in emulator.requests("arm") if "pe-rejectme.0002" in r["path"]] == ["GET"]


def test_unknown_type_fails_before_any_request(emulator, run_playbook, awx_env):
    emulator.clear_requests()
    rid = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Purview/accounts/catalog"
    run = run_playbook([{MODULE: {"resource_id": rid, "name": "pe.1", "status": "Approved"}, "ignore_errors": True}],
                       env=awx_env)
    result = run.result()
    assert result["failed"] is True and "Unknown resource type 'Microsoft.Purview/accounts'" in result["msg"]
    assert "Microsoft.Storage/storageAccounts" in result["msg"] and "api_version" in result["msg"]
    assert emulator.requests("arm") == [] and emulator.requests("token") == []
