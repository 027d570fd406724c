# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy module over an estate of several subscriptions and types, through real ansible-playbook runs.

Check mode predicts exactly what apply then does; a re-run writes nothing; a connection someone else
decided between discovery and the write is not overwritten (``changed_elsewhere``); Disconnected clean-up
deletes only what a rule names; a managed private endpoint is approved by its name pattern; throttling
never fails the run; and the estate split into slices (AWX job slicing: one host per subscription, run
in parallel with --limit) ends in the same state as one run, with no connection written twice.
"""

from __future__ import annotations

import concurrent.futures

import pytest
from playbook import ansible_playbook
from support import CONSUMER_SUB_A, CONSUMER_SUB_B, awx_environment, endpoint_id, standard_seed

MODULE = "privatelink.azure.private_endpoint_connection_policy"
PLATFORM = ["11111111-2222-3333-4444-555555555555", "22222222-2222-3333-4444-555555555555",
            "33333333-2222-3333-4444-555555555555"]
# Data Factory's managed private endpoints live in a subscription Microsoft manages.
MANAGED = "f0f0f0f0-0000-0000-0000-00000000abcd"
WRITES = ("PUT", "PATCH", "DELETE")

RULES = [
    {"name": "our subscriptions", "action": "approve", "endpoint_subscriptions": [CONSUMER_SUB_A],
     "description": "Approved by {rule} for {endpoint_name}"},
    {"name": "managed endpoints of our factories", "action": "approve", "connection_names": ["adf*.pe-*"]},
    {"name": "known bad endpoints", "action": "reject", "endpoint_names": ["pe-bad*"]},
    {"name": "leftovers", "action": "delete", "statuses": ["Disconnected"], "connection_names": ["*.cleanup"]},
]


def rid(sub: str, provider_type: str, name: str) -> str:
    return f"/subscriptions/{sub}/resourceGroups/rg-plink/providers/{provider_type}/{name}"


def estate() -> dict:
    """Per platform subscription: a storage account, a key vault, a SQL server, a factory, a web app."""
    world = standard_seed()
    resources = []
    for index, sub in enumerate(PLATFORM, 1):
        def resource(provider_type, name, connections, tags=None):
            resources.append({"type": provider_type, "subscription_id": sub, "resource_group": "rg-plink",
                              "name": name, "tags": tags or {}, "connections": connections})

        def conn(name, endpoint_sub, endpoint, status="Pending", description="please"):
            return {"name": name, "private_endpoint_id": endpoint_id(endpoint_sub, endpoint), "status": status,
                    "description": description}

        resource("Microsoft.Storage/storageAccounts", f"st{index}", [
            conn(f"st{index}.allowed", CONSUMER_SUB_A, f"pe-st{index}"),
            conn(f"st{index}.visitor", CONSUMER_SUB_B, f"pe-visitor{index}"),
            conn(f"st{index}.cleanup", CONSUMER_SUB_B, f"pe-old{index}", "Disconnected", "gone"),
            conn(f"st{index}.keep", CONSUMER_SUB_B, f"pe-kept{index}", "Disconnected", "gone"),
        ], {"env": "prod"})
        resource("Microsoft.KeyVault/vaults", f"kv{index}", [
            conn(f"kv{index}-allowed", CONSUMER_SUB_A, f"pe-kv{index}"),
            conn(f"kv{index}-bad", CONSUMER_SUB_B, f"pe-bad-{index}"),
        ])
        resource("Microsoft.Sql/servers", f"sql{index}", [conn(f"sql{index}-allowed", CONSUMER_SUB_A, f"pe-sql{index}")])
        resource("Microsoft.DataFactory/factories", f"adf{index}", [
            conn(f"adf{index}.pe-blob", MANAGED, f"adf{index}.pe-blob", description="Managed private endpoint")])
        resource("Microsoft.Web/sites", f"web{index}", [conn(f"web{index}-allowed", CONSUMER_SUB_A, f"pe-web{index}")])
    world["resources"] = resources
    world["accounts"] = []  # only the estate above
    return world


EXPECTED = {}
for _index in range(1, 4):
    EXPECTED.update({
        f"st{_index}.allowed": "approved", f"st{_index}.visitor": "left", f"st{_index}.cleanup": "deleted",
        f"st{_index}.keep": "left", f"kv{_index}-allowed": "approved", f"kv{_index}-bad": "rejected",
        f"sql{_index}-allowed": "approved", f"adf{_index}.pe-blob": "approved", f"web{_index}-allowed": "approved",
    })


def policy_task(discovery="resource_graph", **extra):
    return {"name": "policy", MODULE: {"scope": {"subscriptions": PLATFORM}, "rules": RULES,
                                       "discovery": discovery, **extra}, "register": "policy"}


def outcomes(record):
    return {d["connection_name"]: d["outcome"] for d in record["result"]["decisions"]}


def writes(emulator):
    """The writes ARM applied (a throttled or refused request is not a write)."""
    return [(r["method"], r["path"].rsplit("/", 1)[1]) for r in emulator.requests("arm")
            if r["method"] in WRITES and r["status"] < 400]


def final_states(emulator) -> dict:
    """Status and description of every connection of the estate (None when deleted)."""
    states = {}
    for resource in estate()["resources"]:
        for connection in resource["connections"]:
            states[connection["name"]] = stored(emulator, resource["subscription_id"], resource["type"],
                                                resource["name"], connection["name"])
    return {name: state and (state["status"], state.get("description")) for name, state in states.items()}


def stored(emulator, sub, provider_type, resource, name):
    body = emulator.connection_by_id(f"{rid(sub, provider_type, resource)}/privateEndpointConnections/{name}")
    return None if body is None else body["properties"]["privateLinkServiceConnectionState"]


@pytest.mark.parametrize("discovery", ["resource_graph", "arm"])
def test_check_mode_predicts_what_apply_does_and_a_rerun_writes_nothing(discovery, emulator, run_playbook, awx_env):
    emulator.seed(estate())
    emulator.clear_requests()

    check = run_playbook([policy_task(discovery)], check=True, diff=True, env=awx_env)
    assert check.rc == 0, check.output
    predicted = outcomes(check.results[0])
    assert predicted == EXPECTED
    assert writes(emulator) == [], "check mode writes nothing"
    assert check.result()["changed"] is True and check.result()["summary"]["writes"] == 21
    assert "st1.allowed" in check.stdout and "Approved by our subscriptions for pe-st1" in check.stdout  # --diff
    emulator.clear_requests()

    apply = run_playbook([policy_task(discovery)], env=awx_env)
    assert apply.rc == 0, apply.output
    assert outcomes(apply.results[0]) == predicted, "apply does exactly what check mode predicted"
    done = writes(emulator)
    assert len(done) == 21 and len(set(done)) == 21, "each decided connection is written exactly once"
    assert ("PUT", "adf2.pe-blob") in done  # the managed endpoint, approved by its name pattern
    assert stored(emulator, PLATFORM[0], "Microsoft.Storage/storageAccounts", "st1", "st1.allowed")["description"] \
        == "Approved by our subscriptions for pe-st1"
    assert stored(emulator, PLATFORM[1], "Microsoft.KeyVault/vaults", "kv2", "kv2-bad")["status"] == "Rejected"
    # Clean-up deletes only the Disconnected connections a rule names.
    assert stored(emulator, PLATFORM[2], "Microsoft.Storage/storageAccounts", "st3", "st3.cleanup") is None
    assert stored(emulator, PLATFORM[2], "Microsoft.Storage/storageAccounts", "st3", "st3.keep")["status"] \
        == "Disconnected"
    summary = apply.result()["summary"]
    assert summary["by_outcome"]["approved"] == 15 and summary["by_outcome"]["deleted"] == 3
    assert summary["by_resource_type"]["Microsoft.KeyVault/vaults"]["rejected"] == 3
    # Resource Graph: one page, plus one list per resource of the types that do not embed their connections
    # (Data Factory and Web Apps, 2 x 3); ARM: a list per type and subscription plus those 6.
    calls = apply.result()["stats"]["discovery_calls"]
    assert calls == (1 + 6 if discovery == "resource_graph" else 24 * 3 + 6), calls
    emulator.clear_requests()

    rerun = run_playbook([policy_task(discovery)], env=awx_env)
    assert rerun.rc == 0, rerun.output
    assert rerun.result()["changed"] is False and writes(emulator) == []
    assert set(outcomes(rerun.results[0]).values()) == {"left"}


def test_a_connection_decided_elsewhere_is_not_overwritten(emulator, run_playbook, awx_env):
    world = estate()
    # A Batch account: its connections always have an etag, so its write is conditional (If-Match).
    world["resources"].append({"type": "Microsoft.Batch/batchAccounts", "subscription_id": PLATFORM[0],
                               "resource_group": "rg-plink", "name": "batch1", "connections": [
                                   {"name": "batch1.allowed", "status": "Pending", "description": "please",
                                    "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-batch1")}]})
    emulator.seed(world)
    st1 = f"{rid(PLATFORM[0], 'Microsoft.Storage/storageAccounts', 'st1')}/privateEndpointConnections/st1.allowed"
    # Storage has no etag: someone rejects it right after discovery (Resource Graph answered), so the
    # re-read before the write sees the change.
    emulator.add_fault("change_elsewhere", kind="arm", method="POST", path_contains="Microsoft.ResourceGraph",
                       connection_id=st1, status="Rejected", description="Rejected by the security team")
    # Batch has an etag: someone rejects it right after our re-read, so the conditional write meets a 412.
    emulator.add_fault("change_elsewhere", kind="arm", method="GET", path_contains="batch1.allowed",
                       status="Rejected", description="Rejected by the security team")
    emulator.clear_requests()

    run = run_playbook([policy_task()], env=awx_env)
    assert run.rc == 0, run.output
    decided = outcomes(run.results[0])
    assert decided.pop("st1.allowed") == "changed_elsewhere" and decided.pop("batch1.allowed") == "changed_elsewhere"
    assert decided == {name: outcome for name, outcome in EXPECTED.items() if name != "st1.allowed"}
    for provider_type, resource, name in (("Microsoft.Storage/storageAccounts", "st1", "st1.allowed"),
                                          ("Microsoft.Batch/batchAccounts", "batch1", "batch1.allowed")):
        state = stored(emulator, PLATFORM[0], provider_type, resource, name)
        assert state["status"] == "Rejected" and state["description"] == "Rejected by the security team"
    assert ("PUT", "st1.allowed") not in writes(emulator), "no write once the re-read shows the change"
    batch_writes = [r for r in emulator.requests("arm") if r["method"] == "PATCH" and "batch1.allowed" in r["path"]]
    assert [r["status"] for r in batch_writes] == [412], "the conditional write was refused, not applied"
    assert batch_writes[0]["request_headers"].get("If-Match")
    assert run.result()["summary"]["by_outcome"]["changed_elsewhere"] == 2


def test_throttling_never_fails_the_run(emulator, run_playbook, awx_env):
    emulator.seed(estate())
    # Small buckets: the run must slow down and retry, never fail.
    emulator.configure(throttle={"enabled": True, "reads": [30, 15.0], "writes": [4, 4.0], "deletes": [2, 2.0]})
    emulator.clear_requests()
    run = run_playbook([policy_task(max_concurrent_writes=8)], env=awx_env)
    assert run.rc == 0, run.output
    assert outcomes(run.results[0]) == EXPECTED
    assert len(writes(emulator)) >= 21
    throttled = [r for r in emulator.requests("arm") if r["status"] == 429]
    assert throttled or run.result()["stats"]["paced"], "the throttle was on and the run met or avoided it"


def test_bad_rules_fail_before_any_request(emulator, run_playbook, awx_env):
    emulator.clear_requests()
    task = policy_task()
    task[MODULE]["rules"] = [{"action": "approve", "request_message": "(unclosed"}]
    task["ignore_errors"] = True
    run = run_playbook([task], env=awx_env)
    assert run.result()["failed"] is True and "rules[0].request_message" in run.result()["msg"]
    assert emulator.requests("arm") == [] and emulator.requests("token") == []


SLICE_PLAY = [{
    "hosts": "all", "gather_facts": False,
    "tasks": [{"ansible.builtin.include_role": {"name": "privatelink.azure.connection_approval",
                                                "apply": {"delegate_to": "localhost"}},
               "vars": {"connection_approval_scope": {"subscriptions": ["{{ platform_subscription }}"]},
                        "connection_approval_rules": RULES}}],
}]


def test_job_slices_in_parallel_end_like_one_run(tmp_path, emulator):
    """AWX job slicing: an inventory whose hosts are subscriptions, the role delegated to localhost."""
    hosts = {f"platform-{index}": {"platform_subscription": sub, "ansible_connection": "local"}
             for index, sub in enumerate(PLATFORM, 1)}
    env = awx_environment(emulator)

    emulator.seed(estate())
    emulator.clear_requests()
    single = ansible_playbook(tmp_path / "single", SLICE_PLAY, env, hosts=hosts)
    assert single.rc == 0, single.output
    single_state = final_states(emulator)
    single_decisions = sorted((d["connection_id"], d["outcome"]) for r in single.results
                              if r["task"].endswith("Apply the private endpoint connection policy")
                              for d in r["result"]["decisions"])

    emulator.seed(estate())
    emulator.clear_requests()
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        slices = list(pool.map(lambda host: ansible_playbook(tmp_path / host, SLICE_PLAY, env, hosts=hosts,
                                                             limit=host), hosts))
    for run in slices:
        assert run.rc == 0, run.output
    sliced_decisions = sorted((d["connection_id"], d["outcome"]) for run in slices for r in run.results
                              if r["task"].endswith("Apply the private endpoint connection policy")
                              for d in r["result"]["decisions"])
    assert sliced_decisions == single_decisions and len(single_decisions) == len(EXPECTED)
    done = writes(emulator)
    assert len(done) == len(set(done)) == 21, "no connection is written twice"
    assert final_states(emulator) == single_state
