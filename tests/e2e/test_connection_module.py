# SPDX-License-Identifier: GPL-3.0-or-later
"""The core module through real ansible-playbook runs, real azure-identity credentials and real HTTPS.

Each scenario goes check -> apply -> idempotent re-run -> verify by another route (the emulator's
state and its request log).
"""

from __future__ import annotations

import pytest
from support import (
    ACCOUNT,
    CLIENT_SECRET,
    FEDERATED_TOKEN,
    MODULE,
    PASSWORD,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    arm_calls,
)

PENDING = "pe-pending.0001"
REJECTED = "pe-rejected.0003"


def task(name=PENDING, register="result", ignore_errors=False, **params):
    args = {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "name": name, **params}
    entry = {"name": f"{MODULE} {name}", MODULE: args, "register": register}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def stored(emulator, name=PENDING):
    body = emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, name)
    if body is None:
        return None
    return body["properties"]["privateLinkServiceConnectionState"]


def test_approve_check_apply_rerun_verify(emulator, run_playbook, awx_env):
    approve = [task(status="Approved", description="Approved for billing")]

    check = run_playbook(approve, check=True, diff=True, env=awx_env)
    assert check.rc == 0, check.output
    assert check.result()["changed"] is True
    assert check.result()["connection"]["status"] == "Approved"
    assert arm_calls(emulator, "PUT") == [], "check mode must not write"
    assert stored(emulator)["status"] == "Pending"
    assert "-    \"status\": \"Pending\"" in check.stdout or '-  "status": "Pending"' in check.stdout \
        or '"status": "Pending"' in check.stdout, check.stdout
    emulator.clear_requests()

    apply = run_playbook(approve, diff=True, env=awx_env)
    assert apply.rc == 0, apply.output
    result = apply.result()
    assert result["changed"] is True
    assert result["connection"] == {
        "id": f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.DocumentDB/"
              f"databaseAccounts/{ACCOUNT}/privateEndpointConnections/{PENDING}",
        "name": PENDING, "group_id": "Sql",
        "private_endpoint_id": "/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-net/"
                               "providers/Microsoft.Network/privateEndpoints/pe-pending",
        "status": "Approved", "description": "Approved for billing", "actions_required": "None",
        "provisioning_state": "Succeeded",
    }
    connection_id = result["connection"]["id"]
    # The diff names the connection it is about (a loop's diffs print above their item line).
    assert result["diff"] == {"before": {"status": "Pending", "description": "Please approve"},
                              "after": {"status": "Approved", "description": "Approved for billing"},
                              "before_header": connection_id, "after_header": connection_id}
    assert f"--- before: {connection_id}" in apply.stdout, apply.stdout
    # GET, PUT, then polls of the operation, then one final GET.
    assert [r["method"] for r in arm_calls(emulator)] == ["GET", "PUT", "GET"]
    puts = arm_calls(emulator, "PUT")
    # The connection as Azure sees it (deny policies read privateEndpoint.id), nothing read-only.
    assert puts[0]["body"] == {"properties": {
        "privateEndpoint": {"id": result["connection"]["private_endpoint_id"]}, "groupId": "Sql",
        "privateLinkServiceConnectionState": {"status": "Approved", "description": "Approved for billing"}}}
    polls = emulator.requests("operation")
    assert polls and polls[-1]["status"] == 200
    assert stored(emulator) == {"status": "Approved", "description": "Approved for billing",
                                "actionsRequired": "None"}
    emulator.clear_requests()

    rerun = run_playbook(approve, env=awx_env)
    assert rerun.rc == 0, rerun.output
    assert rerun.result()["changed"] is False
    assert [r["method"] for r in arm_calls(emulator)] == ["GET"], "a re-run makes exactly one GET and no PUT"
    assert emulator.requests("operation") == []


def test_omitted_description_is_kept(emulator, run_playbook, awx_env):
    run = run_playbook([task(status="Approved")], env=awx_env)
    assert run.rc == 0, run.output
    assert stored(emulator)["description"] == "Please approve"
    assert run.result()["connection"]["description"] == "Please approve"


def test_check_diff_output_shows_the_change(emulator, run_playbook, awx_env):
    run = run_playbook([task(status="Rejected", description="No thanks")], check=True, diff=True, env=awx_env)
    assert run.rc == 0, run.output
    assert "Pending" in run.stdout and "Rejected" in run.stdout and "No thanks" in run.stdout
    assert "changed: [localhost]" in run.stdout
    assert arm_calls(emulator, "PUT") == []


def test_reject(emulator, run_playbook, awx_env):
    run = run_playbook([task(status="Rejected", description="Unknown consumer")], env=awx_env)
    assert run.rc == 0, run.output
    assert run.result()["changed"] is True and run.result()["connection"]["status"] == "Rejected"
    assert stored(emulator)["status"] == "Rejected"


@pytest.mark.parametrize("check", [True, False])
def test_rejected_to_approved_is_refused_before_any_write(emulator, run_playbook, awx_env, check):
    run = run_playbook([task(name=REJECTED, status="Approved", ignore_errors=True)], check=check, env=awx_env)
    result = run.result()
    assert result["failed"] is True and "changed" not in result or result.get("changed") is False
    assert "cannot approve a rejected private endpoint connection" in result["msg"]
    assert "re-create" in result["msg"]
    assert arm_calls(emulator, "PUT") == []
    assert stored(emulator, REJECTED)["status"] == "Rejected"


def test_missing_connection_is_a_clear_failure_for_present(emulator, run_playbook, awx_env):
    run = run_playbook([task(name="pe-nope", status="Approved", ignore_errors=True)], env=awx_env)
    result = run.result()
    assert result["failed"] is True
    assert "Connection 'pe-nope' does not exist" in result["msg"]
    assert "Traceback" not in run.output
    assert arm_calls(emulator, "PUT") == []


def test_missing_connection_is_nothing_to_do_for_absent(emulator, run_playbook, awx_env):
    run = run_playbook([task(name="pe-nope", state="absent")], env=awx_env)
    assert run.rc == 0, run.output
    assert run.result()["changed"] is False
    assert arm_calls(emulator, "DELETE") == []


def test_delete_check_apply_rerun(emulator, run_playbook, awx_env):
    delete = [task(name=REJECTED, state="absent")]
    check = run_playbook(delete, check=True, env=awx_env)
    assert check.rc == 0 and check.result()["changed"] is True
    assert arm_calls(emulator, "DELETE") == [] and stored(emulator, REJECTED) is not None

    apply = run_playbook(delete, diff=True, env=awx_env)
    assert apply.rc == 0, apply.output
    assert apply.result()["changed"] is True and apply.result()["connection"] == {}
    assert len(arm_calls(emulator, "DELETE")) == 1
    assert stored(emulator, REJECTED) is None, "the module returned only after the operation ended"

    emulator.clear_requests()
    rerun = run_playbook(delete, env=awx_env)
    assert rerun.rc == 0 and rerun.result()["changed"] is False
    assert [r["method"] for r in arm_calls(emulator)] == ["GET"]


def test_managed_identity(emulator, run_playbook, msi_env):
    run = run_playbook([task(status="Approved", description="via managed identity")], env=msi_env)
    assert run.rc == 0, run.output
    assert run.result()["changed"] is True
    assert stored(emulator)["description"] == "via managed identity"
    assert emulator.requests("msi"), "the token came from the managed identity endpoint"
    assert emulator.requests("token") == []


@pytest.mark.parametrize("params,code,needle", [
    ({"resource_group": "rg-missing"}, "ResourceGroupNotFound", "rg-missing"),
    ({"account_name": "no-such-account"}, "ParentResourceNotFound", "no-such-account"),
])
def test_arm_failure_surfaces_code_message_and_request_id(emulator, run_playbook, awx_env, params, code, needle):
    entry = task(status="Approved", ignore_errors=True)
    entry[MODULE].update(params)
    run = run_playbook([entry], env=awx_env)
    result = run.result()
    assert result["failed"] is True and result.get("changed", False) is False
    assert result["status_code"] == 404
    assert result["error"]["code"] == code and needle in result["error"]["message"]
    logged = arm_calls(emulator)[-1]
    assert result["request_id"] == logged["response_headers"]["x-ms-request-id"]
    assert result["correlation_id"] == logged["response_headers"]["x-ms-correlation-request-id"]
    assert result["msg"].startswith("Reading connection 'pe-pending.0001' failed with HTTP 404: " + code)
    assert result["request_id"] in result["msg"]


@pytest.mark.parametrize("params,needle", [
    ({"subscription_id": "not-a-guid"}, "subscription_id must be a subscription GUID"),
    ({"account_name": "Bad_Name"}, "account_name must be 3-50"),
    ({"resource_group": "rg/../other"}, "resource_group must be"),
    ({"name": "../../other/resource"}, "name must not contain"),
    ({"name": "pe?api-version=1"}, "name must not contain"),
])
def test_bad_input_fails_before_any_request(emulator, run_playbook, awx_env, params, needle):
    entry = task(status="Approved", ignore_errors=True)
    entry[MODULE].update(params)
    run = run_playbook([entry], env=awx_env)
    assert run.result()["failed"] is True and needle in run.result()["msg"]
    assert emulator.requests() == [], "no token request and no ARM request"


def test_failed_write_is_not_a_change_and_reports_the_operation_error(emulator, run_playbook, awx_env):
    emulator.add_fault(kind="arm", action="operation_failed", times=1)
    run = run_playbook([task(status="Approved", ignore_errors=True)], env=awx_env)
    result = run.result()
    assert result["failed"] is True and result.get("changed", False) is False
    assert result["operation_status"] == "Failed" and result["error"]["code"]
    assert result["request_id"]
    assert stored(emulator)["status"] == "Pending"


def test_no_secret_in_verbose_output_or_results(emulator, run_playbook, awx_env):
    run = run_playbook([task(status="Approved"), task(name="pe-nope", status="Approved", ignore_errors=True)],
                       env=awx_env, verbosity=4)
    assert run.rc == 0, run.output
    text = run.output + repr(run.results)
    for secret in (CLIENT_SECRET, PASSWORD, FEDERATED_TOKEN, *emulator.issued_tokens()):
        assert secret not in text
