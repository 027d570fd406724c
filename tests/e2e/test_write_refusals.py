# SPDX-License-Identifier: GPL-3.0-or-later
"""Writes that Azure refuses for reasons outside the connection: landing-zone deny policies and missing
permissions. The modules send what the policy evaluates, and say which policy or permission refused them."""

from __future__ import annotations

from support import ACCOUNT, CONSUMER_SUB_A, MODULE, RESOURCE_GROUP, SUBSCRIPTION, arm_calls, standard_seed

PENDING = "pe-pending.0001"   # its private endpoint lives in CONSUMER_SUB_A
OTHER = "pe-other.0004"       # its private endpoint lives in CONSUMER_SUB_B
STORAGE = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/st1"


def approve(name, **extra):
    return {MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "name": name,
                     "status": "Approved", **extra}, "ignore_errors": True}


def test_an_approval_passes_a_landing_zone_deny_policy(emulator, run_playbook, awx_env):
    # The Cloud Adoption Framework's "limit cross-tenant private endpoint connections": writes whose
    # request does not show an allowed private endpoint are denied.
    emulator.configure(deny_policy={"require_private_endpoint_id": True,
                                    "allowed_endpoint_subscriptions": [SUBSCRIPTION, CONSUMER_SUB_A]})
    emulator.clear_requests()
    run = run_playbook([approve(PENDING), approve(OTHER)], env=awx_env)
    allowed, denied = run.results[0]["result"], run.results[1]["result"]
    assert allowed["changed"] is True and allowed["connection"]["status"] == "Approved", allowed
    assert denied["failed"] is True and denied["status_code"] == 403
    assert denied["error"]["code"] == "RequestDisallowedByPolicy"
    assert denied["error"]["additional_info"][0]["type"] == "PolicyViolation"
    # The message names the policy that refused it, from the error's additionalInfo.
    assert "Refused by Azure Policy: Deny cross-tenant private endpoint connections" in denied["msg"]
    assert emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, OTHER)["properties"][
        "privateLinkServiceConnectionState"]["status"] == "Pending"
    assert "changed" not in denied or denied["changed"] is False, "a failed write is never a change"


def test_a_missing_permission_is_named(emulator, run_playbook, awx_env):
    emulator.seed({**standard_seed(), "resources": [{
        "type": "Microsoft.Storage/storageAccounts", "subscription_id": SUBSCRIPTION, "resource_group": "rg-data",
        "name": "st1", "connections": [{"name": "st1.pending", "status": "Pending", "description": "please"}]}]})
    for code in ("AuthorizationFailed", "LinkedAuthorizationFailed"):
        emulator.add_fault("status", method="PUT", status=403, code=code,
                           message="The client does not have authorization to perform action.")
        run = run_playbook([{"privatelink.azure.private_endpoint_connection": {
            "resource_id": STORAGE, "name": "st1.pending", "status": "Approved"}, "ignore_errors": True}],
            env=awx_env)
        result = run.result()
        assert result["failed"] is True and result["error"]["code"] == code and result["request_id"]
        assert "Microsoft.Storage/storageAccounts/privateEndpointConnectionsApproval/action" in result["msg"]
        assert "docs/least-privilege.md" in result["msg"]
        assert ("LinkedAuthorizationFailed means" in result["msg"]) is (code == "LinkedAuthorizationFailed")
    assert [call["status"] for call in arm_calls(emulator, "PUT")] == [403, 403]
