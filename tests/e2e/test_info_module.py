# SPDX-License-Identifier: GPL-3.0-or-later
"""Finding connections the way operators know them, through real ansible-playbook runs.

The info module (list, filters, check mode), the core module addressed by private endpoint ID instead
of name, and the ``cosmosdb`` action group in ``module_defaults``. Verified against the emulator's
state and request log.
"""

from __future__ import annotations

import pytest
from support import (
    ACCOUNT,
    CLIENT_ID,
    CLIENT_SECRET,
    CONSUMER_SUB_A,
    CONSUMER_SUB_B,
    MODULE,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    TENANT,
    arm_calls,
    endpoint_id,
    standard_seed,
)

INFO = "privatelink.azure.cosmosdb_private_endpoint_connection_info"
ACCOUNT_ID = (f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.DocumentDB/"
              f"databaseAccounts/{ACCOUNT}")


def info(register="result", ignore_errors=False, **params):
    entry = {"name": "list", INFO: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, **params},
             "register": register}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def write(ignore_errors=False, **params):
    entry = {"name": "write", MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, **params}}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def failed(run, index=-1):
    """The task failed (the result itself no longer carries 'failed' in ansible-core 2.19)."""
    return run.results[index]["status"] == "failed"


def names(run, index=-1):
    return sorted(c["name"] for c in run.result(index)["connections"])


def stored_status(emulator, name):
    body = emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, name)
    return None if body is None else body["properties"]["privateLinkServiceConnectionState"]["status"]


# -- the info module ------------------------------------------------------------------------------
def test_lists_every_connection_in_the_core_module_shape(emulator, run_playbook, awx_env):
    run = run_playbook([info()], env=awx_env)
    assert run.rc == 0, run.output
    result = run.result()
    assert result["changed"] is False
    assert names(run) == ["pe-approved.0002", "pe-other.0004", "pe-pending.0001", "pe-rejected.0003"]
    pending = next(c for c in result["connections"] if c["name"] == "pe-pending.0001")
    assert pending == {
        "id": f"{ACCOUNT_ID}/privateEndpointConnections/pe-pending.0001",
        "name": "pe-pending.0001", "group_id": "Sql",
        "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending"),
        "status": "Pending", "description": "Please approve", "actions_required": "None",
        "provisioning_state": "Succeeded",
    }
    assert [(r["method"], r["path"]) for r in arm_calls(emulator)] == [
        ("GET", f"{ACCOUNT_ID}/privateEndpointConnections")]


@pytest.mark.parametrize("filters,expected", [
    ({"status": ["pending"]}, ["pe-other.0004", "pe-pending.0001"]),
    ({"status": ["APPROVED", "Rejected"]}, ["pe-approved.0002", "pe-rejected.0003"]),
    ({"private_endpoint_subscription_id": CONSUMER_SUB_B.upper()}, ["pe-other.0004", "pe-rejected.0003"]),
    ({"private_endpoint_subscription_id": CONSUMER_SUB_B, "status": ["Pending"]}, ["pe-other.0004"]),
    ({"private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending").upper()}, ["pe-pending.0001"]),
    ({"private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending"), "status": ["Approved"]}, []),
    ({"status": ["Disconnected"]}, []),
])
def test_filters(emulator, run_playbook, awx_env, filters, expected):
    run = run_playbook([info(**filters)], env=awx_env)
    assert run.rc == 0, run.output
    assert names(run) == expected
    assert run.result()["changed"] is False


def test_by_name_returns_one_or_none(emulator, run_playbook, awx_env):
    run = run_playbook([info(name="PE-REJECTED.0003", register="one"), info(name="pe-nope", register="absent"),
                        info(name="pe-rejected.0003", status=["Pending"])], env=awx_env)
    assert run.rc == 0, run.output
    assert names(run, 0) == ["pe-rejected.0003"]
    assert run.result(1)["connections"] == []
    assert run.result(2)["connections"] == []
    assert [r["method"] for r in arm_calls(emulator)] == ["GET", "GET", "GET"]


def test_check_mode_gives_the_same_answer(emulator, run_playbook, awx_env):
    run = run_playbook([info(status=["Pending"])], check=True, env=awx_env)
    assert run.rc == 0, run.output
    assert names(run) == ["pe-other.0004", "pe-pending.0001"] and run.result()["changed"] is False


@pytest.mark.parametrize("params,needle", [
    ({"status": ["Waiting"]}, "status must be one of Pending, Approved, Rejected, Disconnected"),
    ({"private_endpoint_id": "pe-pending"}, "private_endpoint_id must be the ARM resource ID of a private endpoint"),
    ({"private_endpoint_subscription_id": "team-a"}, "private_endpoint_subscription_id must be a subscription GUID"),
    ({"account_name": "Orders_DB"}, "account_name must be 3-50"),
])
def test_bad_filters_fail_before_any_request(emulator, run_playbook, awx_env, params, needle):
    run = run_playbook([info(ignore_errors=True, **params)], env=awx_env)
    assert failed(run) and needle in run.result()["msg"], run.result()
    assert emulator.requests() == []


def test_missing_account_is_an_error_not_an_empty_list(emulator, run_playbook, awx_env):
    run = run_playbook([info(ignore_errors=True, account_name="no-such-account")], env=awx_env)
    result = run.result()
    assert failed(run) and result["error"]["code"] == "ParentResourceNotFound"
    assert result["request_id"]


# -- the core module addressed by private endpoint ID --------------------------------------------------
def test_approve_by_private_endpoint_id_check_apply_rerun(emulator, run_playbook, awx_env):
    # Same endpoint, spelled with different case: ARM ids compare case-insensitively.
    approve = [write(private_endpoint_id=endpoint_id(CONSUMER_SUB_A, "pe-pending").upper().replace(
        "/SUBSCRIPTIONS/", "/subscriptions/"), status="Approved", description="by endpoint")]
    check = run_playbook(approve, check=True, env=awx_env)
    assert check.rc == 0, check.output
    assert check.result()["changed"] is True and check.result()["connection"]["name"] == "pe-pending.0001"
    assert arm_calls(emulator, "PUT") == []

    apply = run_playbook(approve, env=awx_env)
    assert apply.rc == 0, apply.output
    assert apply.result()["changed"] is True
    assert apply.result()["connection"]["status"] == "Approved"
    assert stored_status(emulator, "pe-pending.0001") == "Approved"
    assert stored_status(emulator, "pe-other.0004") == "Pending"
    puts = arm_calls(emulator, "PUT")
    assert len(puts) == 1 and puts[0]["path"].endswith("/privateEndpointConnections/pe-pending.0001")

    emulator.clear_requests()
    rerun = run_playbook(approve, env=awx_env)
    assert rerun.rc == 0 and rerun.result()["changed"] is False
    assert arm_calls(emulator, "PUT") == []


def test_unknown_private_endpoint_fails_clearly_for_present(emulator, run_playbook, awx_env):
    unknown = endpoint_id(CONSUMER_SUB_A, "pe-nobody")
    run = run_playbook([write(private_endpoint_id=unknown, status="Approved", ignore_errors=True)], env=awx_env)
    result = run.result()
    assert failed(run)
    assert f"comes from private endpoint {unknown}" in result["msg"]
    assert "cosmosdb_private_endpoint_connection_info" in result["msg"]
    assert arm_calls(emulator, "PUT") == []


def test_unknown_private_endpoint_is_already_absent(emulator, run_playbook, awx_env):
    run = run_playbook([write(private_endpoint_id=endpoint_id(CONSUMER_SUB_A, "pe-nobody"), state="absent")],
                       env=awx_env)
    assert run.rc == 0, run.output
    assert run.result()["changed"] is False and arm_calls(emulator, "DELETE") == []


def test_delete_by_private_endpoint_id(emulator, run_playbook, awx_env):
    run = run_playbook([write(private_endpoint_id=endpoint_id(CONSUMER_SUB_B, "pe-rejected"), state="absent")],
                       env=awx_env)
    assert run.rc == 0, run.output
    assert run.result()["changed"] is True
    assert stored_status(emulator, "pe-rejected.0003") is None


def test_several_connections_from_one_endpoint_is_refused(emulator, run_playbook, awx_env):
    seed = standard_seed()
    twin = dict(seed["accounts"][0]["connections"][0], name="pe-pending.0005")
    seed["accounts"][0]["connections"].append(twin)
    emulator.seed(seed)
    run = run_playbook([write(private_endpoint_id=endpoint_id(CONSUMER_SUB_A, "pe-pending"), status="Approved",
                              ignore_errors=True)], env=awx_env)
    result = run.result()
    assert failed(run)
    assert "2 connections come from private endpoint" in result["msg"]
    assert "'pe-pending.0001'" in result["msg"] and "'pe-pending.0005'" in result["msg"]
    assert arm_calls(emulator, "PUT") == []


@pytest.mark.parametrize("params,needle", [
    ({"status": "Approved"}, "one of the following is required: name, private_endpoint_id"),
    ({"status": "Approved", "name": "pe-pending.0001",
      "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending")},
     "parameters are mutually exclusive: name|private_endpoint_id"),
    ({"status": "Approved", "private_endpoint_id": f"{ACCOUNT_ID}/privateEndpointConnections/pe-pending.0001"},
     "private_endpoint_id must be the ARM resource ID of a private endpoint"),
])
def test_name_or_endpoint_input_rules(emulator, run_playbook, awx_env, params, needle):
    run = run_playbook([write(ignore_errors=True, **params)], env=awx_env)
    assert failed(run) and needle in run.result()["msg"], run.result()
    assert arm_calls(emulator) == []


# -- the action group -----------------------------------------------------------------------------
def test_module_defaults_group_sets_authentication_once(emulator, run_playbook):
    auth = {"subscription_id": SUBSCRIPTION, "auth_source": "auto", "client_id": CLIENT_ID,
            "secret": CLIENT_SECRET, "tenant": TENANT, "arm_endpoint": emulator.base_url,
            "authority_host": emulator.base_url, "disable_instance_discovery": True}
    block = {"name": "with defaults", "module_defaults": {"group/privatelink.azure.cosmosdb": auth}, "block": [
        info(status=["Pending"], private_endpoint_subscription_id=CONSUMER_SUB_A, register="pending"),
        {"name": "approve what was found", MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT,
                                                    "name": "{{ item.name }}", "status": "Approved"},
         "loop": "{{ pending.connections }}"},
    ]}
    # Only the CA bundle comes from the environment: no AZURE_* variable at all.
    run = run_playbook([block], env={"REQUESTS_CA_BUNDLE": emulator.ca_file})
    assert run.rc == 0, run.output
    assert names(run, 0) == ["pe-pending.0001"]
    assert stored_status(emulator, "pe-pending.0001") == "Approved"
    assert stored_status(emulator, "pe-other.0004") == "Pending"
    assert emulator.requests("token"), "the token came from the client secret given in module_defaults"
