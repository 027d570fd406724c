# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy role through real ansible-playbook runs, against a stand-in for the policy module.

The stand-in decides with the real engine (module_utils/_policy.py) over connections read from a file and
simulates failed writes, so these tests check the role's own work: what it passes to the module, the
summary it prints, the statistics, the report file, and when it fails. The module's discovery and writes
have their own tests.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from playbook import ROOT, PlaybookRun, ansible_playbook

ROLE = "privatelink.azure.connection_approval"
COSMOS = "Microsoft.DocumentDB/databaseAccounts"
HOME = "11111111-2222-3333-4444-555555555555"
ALLOWED = "aaaaaaaa-0000-0000-0000-000000000001"
FOREIGN = "cccccccc-0000-0000-0000-000000000003"
ACCOUNT = f"/subscriptions/{HOME}/resourceGroups/rg-data/providers/{COSMOS}/orders-db"

STUB = '''#!/usr/bin/python
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test stand-in for privatelink.azure.private_endpoint_connection_policy: the real engine, no Azure."""
from __future__ import annotations

import json
import os

from ansible.module_utils.basic import AnsibleModule, env_fallback
from ansible_collections.privatelink.azure.plugins.module_utils import _policy
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

KNOWN = ("Microsoft.DocumentDB/databaseAccounts", "Microsoft.Storage/storageAccounts")


def refusal(resource_type, current, target):
    if current == "Rejected" and target == "Approved":
        return "Cosmos DB cannot approve a rejected private endpoint connection"
    return None


def main():
    module = AnsibleModule(argument_spec={
        "scope": {"type": "dict", "required": True}, "rules": {"type": "list", "elements": "dict", "required": True},
        "discovery": {"type": "str", "choices": ["resource_graph", "arm"], "default": "resource_graph"},
        "max_concurrent_writes": {"type": "int", "default": 32}, "wait_timeout": {"type": "int", "default": 900},
        "subscription_id": {"type": "str", "fallback": (env_fallback, ["AZURE_SUBSCRIPTION_ID"])}},
        supports_check_mode=True)
    with open(os.environ["POLICY_STUB_CALLS"], "a", encoding="utf-8") as calls:
        calls.write(json.dumps({**module.params, "check_mode": module.check_mode}) + "\\n")
    try:
        scope = _policy.validate_scope(module.params["scope"], KNOWN, module.params["subscription_id"])
        rules = _policy.validate_rules(module.params["rules"], KNOWN)
    except ValidationError as err:
        module.fail_json(msg=err.msg)
    with open(os.environ["POLICY_STUB_CONNECTIONS"], encoding="utf-8") as source:
        in_scope = {resource.lower() for resource in scope.resources}
        connections = [c for c in json.load(source) if not in_scope or c["resource_id"].lower() in in_scope]
    decisions = _policy.plan(connections, rules, refusal)
    if not module.check_mode:  # a write to a connection named fail-* fails at ARM
        busy = {"code": "Conflict", "message": "Another operation is in progress"}
        decisions = [d.failed(busy, "req-" + d.connection_name)
                     if d.needs_write and d.connection_name.startswith("fail-") else d for d in decisions]
    summary = _policy.summarize(decisions)
    result = {"changed": summary["writes"] > 0, "decisions": [d.as_result() for d in decisions], "summary": summary}
    if summary["failed"]:
        module.fail_json(msg=f"{summary['failed']} connections failed", **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
'''


def conn(name: str, subscription: str, status: str = "Pending", account: str = ACCOUNT) -> dict:
    return {"id": f"{account}/privateEndpointConnections/{name}", "name": name, "resource_id": account,
            "resource_type": COSMOS, "resource_tags": {"env": "prod"}, "status": status, "description": None,
            "private_endpoint_id": f"/subscriptions/{subscription}/resourceGroups/rg-app/providers/"
                                   f"Microsoft.Network/privateEndpoints/{name}", "group_ids": ["Sql"], "etag": None}


CONNECTIONS = [conn("pe-ours", ALLOWED), conn("pe-stranger", FOREIGN), conn("pe-old", ALLOWED, "Approved")]
RULES = [{"name": "ours", "action": "approve", "endpoint_subscriptions": [ALLOWED]},
         {"name": "others", "action": "reject"}]


@pytest.fixture(name="collections")
def stand_in_collection(tmp_path: Path) -> Path:
    """The collection's roles, filters and module_utils, with the stand-in as the policy module."""
    base = tmp_path / "collections"
    tree = base / "ansible_collections" / "privatelink" / "azure"
    (tree / "plugins" / "modules").mkdir(parents=True)
    for part in ("meta", "roles", "plugins/filter", "plugins/module_utils"):
        (tree / part).symlink_to(ROOT / part)
    (tree / "plugins" / "modules" / "private_endpoint_connection_policy.py").write_text(STUB)
    return base


class RoleRun:
    def __init__(self, run: PlaybookRun, calls: Path) -> None:
        self.rc, self.output, self.results = run.returncode, run.output, run.results
        self.calls = [json.loads(line) for line in calls.read_text().splitlines()] if calls.exists() else []

    def task(self, name_part: str) -> dict:
        matches = [r for r in self.results if name_part in r["task"]]
        assert matches, f"no task {name_part!r} in {[r['task'] for r in self.results]}"
        return matches[-1]

    def ran(self, name_part: str) -> bool:
        return any(name_part in r["task"] and r["status"] != "skipped" for r in self.results)


@pytest.fixture(name="run_role")
def role_runner(tmp_path: Path, collections: Path):
    def run(role_vars: dict, *, check: bool = False, connections: list[dict] | None = None,
            role: str = ROLE) -> RoleRun:
        source = tmp_path / "connections.json"
        source.write_text(json.dumps(CONNECTIONS if connections is None else connections))
        calls = tmp_path / f"calls-{len(list(tmp_path.glob('calls-*')))}.jsonl"
        play = {"hosts": "localhost", "gather_facts": False, "roles": [{"role": role, "vars": role_vars}]}
        env = {"ANSIBLE_COLLECTIONS_PATH": str(collections), "POLICY_STUB_CONNECTIONS": str(source),
               "AZURE_SUBSCRIPTION_ID": HOME,
               "POLICY_STUB_CALLS": str(calls), "ANSIBLE_SHOW_CUSTOM_STATS": "1"}
        return RoleRun(ansible_playbook(tmp_path, [play], env, check=check), calls)
    return run


def base_vars(**extra) -> dict:
    return {"connection_approval_scope": {"subscriptions": [HOME]}, "connection_approval_rules": RULES, **extra}


def test_role_applies_the_rules_once_and_reports(run_role, tmp_path):
    report = tmp_path / "out" / "report.md"
    report.parent.mkdir()
    run = run_role(base_vars(connection_approval_report_path=str(report)))
    assert run.rc == 0, run.output
    # One module call with the role's inputs and defaults.
    assert [{k: call[k] for k in ("scope", "rules", "discovery", "max_concurrent_writes", "check_mode")}
            for call in run.calls] == [{"scope": {"subscriptions": [HOME]}, "rules": RULES,
                                        "discovery": "resource_graph", "max_concurrent_writes": 32,
                                        "check_mode": False}]
    assert run.task("Summary")["result"]["msg"] == [
        "3 connections, 2 written, 0 failed", "approved: 1", "rejected: 1", "deleted: 0", "left: 1",
        "changed_elsewhere: 0", "failed: 0", f"{COSMOS}: 1 approved, 1 rejected, 1 left"]
    stats = run.task("Publish")["result"]["ansible_stats"]
    assert stats["per_host"] is False
    assert stats["data"]["connection_approval"]["by_outcome"]["approved"] == 1
    text = report.read_text()
    assert "## Approved (1)" in text and "| pe-ours | rg-data/orders-db |" in text
    assert "| pe-stranger |" in text and "others | Pending → Rejected |" in text
    assert stat.S_IMODE(os.stat(report).st_mode) == 0o600
    assert not run.ran("Fail if")


def test_role_passes_discovery_and_concurrency(run_role):
    run = run_role(base_vars(connection_approval_discovery="arm", connection_approval_max_concurrent_writes=2))
    assert run.rc == 0, run.output
    assert (run.calls[0]["discovery"], run.calls[0]["max_concurrent_writes"]) == ("arm", 2)
    assert not run.ran("Write the Markdown report")  # no path, no report


def test_check_mode_predicts_and_still_writes_the_report(run_role, tmp_path):
    report = tmp_path / "preview.md"
    run = run_role(base_vars(connection_approval_report_path=str(report)), check=True)
    assert run.rc == 0, run.output
    assert run.calls[0]["check_mode"] is True
    assert run.task("Summary")["result"]["msg"][0] == (
        "3 connections, 2 to write, 0 failed (check mode: predicted, nothing written)")
    assert "Check mode: nothing was written" in report.read_text()


def test_failed_connections_fail_the_role_after_summary_and_report(run_role, tmp_path):
    report = tmp_path / "report.md"
    connections = [*CONNECTIONS, conn("fail-busy", ALLOWED), conn("pe-refused", ALLOWED, "Rejected")]
    rules = [{"name": "ours", "action": "approve", "endpoint_subscriptions": [ALLOWED],
              "statuses": ["Pending", "Rejected"]}]
    run = run_role(base_vars(connection_approval_rules=rules, connection_approval_report_path=str(report)),
                   connections=connections)
    assert run.rc != 0
    assert run.task("Apply")["status"] == "ok"  # the module's failed writes are decisions, not a task failure
    assert run.task("Summary")["result"]["msg"][:1] == ["5 connections, 1 written, 2 failed"]
    assert "## Failed (2)" in report.read_text() and "req-fail-busy" in report.read_text()
    failure = run.task("Fail if")
    assert failure["status"] == "failed"
    message = failure["result"]["msg"]
    assert message.startswith("2 of 5 connections failed.")
    assert f"{ACCOUNT}/privateEndpointConnections/fail-busy (approve by rule ours): Conflict: Another operation" \
           " is in progress (request id req-fail-busy)." in message
    assert "pe-refused (approve by rule ours): TransitionRefused: Cosmos DB cannot approve" in message


def test_failures_only_reported_without_fail_on_error(run_role):
    run = run_role(base_vars(connection_approval_fail_on_error=False), connections=[conn("fail-x", ALLOWED)])
    assert run.rc == 0, run.output
    assert run.task("Summary")["result"]["msg"][0] == "1 connection, 0 written, 1 failed"
    assert not run.ran("Fail if")


def test_bad_rules_fail_at_the_module_before_any_report(run_role, tmp_path):
    rules = [{"action": "approve"}, {"action": "reject", "request_message": "(unclosed"}]
    run = run_role(base_vars(connection_approval_rules=rules, connection_approval_report_path=str(tmp_path / "r.md")))
    assert run.rc != 0
    apply = run.task("Apply")
    assert apply["status"] == "failed"
    assert apply["result"]["msg"].startswith("rules[1].request_message: not a valid regular expression")
    assert not run.ran("Summary") and not (tmp_path / "r.md").exists()


def test_role_argument_spec_refuses_an_unknown_action(run_role):
    run = run_role(base_vars(connection_approval_rules=[{"action": "allow"}]))
    assert run.rc != 0 and run.calls == []
    assert "allow" in run.output and "connection_approval_rules" in run.output


# -- the Cosmos DB approval role, on top of the policy module ---------------------------------------------
COSMOS_ROLE = "privatelink.azure.cosmosdb_connection_approval"
OTHER = "99999999-8888-7777-6666-555555555555"
EVENTS = f"/subscriptions/{OTHER}/resourceGroups/rg-analytics/providers/{COSMOS}/events-db"
ACCOUNTS = [{"resource_group": "rg-data", "account_name": "orders-db"},
            {"subscription_id": OTHER, "resource_group": "rg-analytics", "account_name": "events-db"}]
COSMOS_CONNECTIONS = [
    conn("pe-ours", ALLOWED), conn("pe-stranger", FOREIGN), conn("pe-old", ALLOWED, "Approved"),
    conn("pe-events", ALLOWED.upper(), account=EVENTS), conn("fail-events", ALLOWED, account=EVENTS),
    conn("pe-elsewhere", ALLOWED, account=EVENTS.replace("events-db", "not-listed")),
]


def cosmos_vars(**extra) -> dict:
    return {"cosmosdb_connection_approval_accounts": ACCOUNTS,
            "cosmosdb_connection_approval_allowed_subscriptions": [ALLOWED],
            "cosmosdb_connection_approval_description": "Approved {CHG-1} by the bootstrap", **extra}


def test_cosmos_role_maps_its_variables_to_scope_and_rules(run_role):
    run = run_role(cosmos_vars(cosmosdb_connection_approval_reject_others=True), role=COSMOS_ROLE,
                   connections=[c for c in COSMOS_CONNECTIONS if not c["name"].startswith("fail-")])
    assert run.rc == 0, run.output
    (call,) = run.calls
    assert call["scope"] == {"resources": [f"/resourceGroups/rg-data/providers/{COSMOS}/orders-db", EVENTS]}
    assert call["rules"] == [
        {"name": "allowed subscriptions", "action": "approve", "endpoint_subscriptions": [ALLOWED],
         "description": "Approved {{CHG-1}} by the bootstrap"},
        {"name": "other subscriptions", "action": "reject",
         "description": "Rejected by privatelink.azure.cosmosdb_connection_approval: the private endpoint's "
                        "subscription is not allowed"}]
    assert call["discovery"] == "arm"
    apply = run.task("Approve, reject or leave")["result"]
    written = {d["connection_name"]: d["description_after"] for d in apply["decisions"] if d["outcome"] == "approved"}
    assert written == {"pe-ours": "Approved {CHG-1} by the bootstrap", "pe-events": "Approved {CHG-1} by the bootstrap"}
    result = run.task("Gather the outcome")["result"]["ansible_facts"]["cosmosdb_connection_approval_result"]
    assert (result["approved"], result["rejected"], result["left"], result["failures"]) == (2, 1, 0, [])
    assert result["accounts"] == [
        {"account": "rg-data/orders-db", "subscription_id": None, "approved": ["pe-ours"], "rejected": ["pe-stranger"],
         "left": [], "changed_elsewhere": [], "failed": []},
        {"account": f"{OTHER}/rg-analytics/events-db", "subscription_id": OTHER, "approved": ["pe-events"],
         "rejected": [], "left": [], "changed_elsewhere": [], "failed": []}]
    assert "rg-data/orders-db: approved 1 (pe-ours), rejected 1 (pe-stranger), left pending 0" in run.output


def test_cosmos_role_leaves_others_pending_by_default(run_role):
    run = run_role(cosmos_vars(), role=COSMOS_ROLE, connections=COSMOS_CONNECTIONS[:3])
    assert run.rc == 0, run.output
    assert [rule["action"] for rule in run.calls[0]["rules"]] == ["approve"]
    result = run.task("Gather the outcome")["result"]["ansible_facts"]["cosmosdb_connection_approval_result"]
    assert (result["approved"], result["rejected"], result["left"]) == (1, 0, 1)
    assert result["accounts"][0]["left"] == ["pe-stranger"]


def test_cosmos_role_fails_after_the_summary_naming_the_connection(run_role):
    run = run_role(cosmos_vars(), role=COSMOS_ROLE, connections=COSMOS_CONNECTIONS)
    assert run.rc != 0
    assert "FAILED fail-events" in run.output  # in the summary, printed before the failure
    message = run.task("Fail if any write failed")["result"]["msg"]
    assert message.startswith("1 of the connection writes failed.")
    assert (f"{OTHER}/rg-analytics/events-db/fail-events (approve, private endpoint /subscriptions/{ALLOWED}/"
            "resourceGroups/rg-app/providers/Microsoft.Network/privateEndpoints/fail-events): Conflict: Another "
            "operation is in progress (request id req-fail-events).") in " ".join(message.split())


def test_cosmos_role_check_mode(run_role):
    run = run_role(cosmos_vars(), role=COSMOS_ROLE, connections=COSMOS_CONNECTIONS, check=True)
    assert run.rc == 0, run.output
    assert run.calls[0]["check_mode"] is True
    assert "Check mode, nothing written. 3 would be approved" in run.output


def test_cosmos_role_checks_its_input_before_the_module(run_role):
    run = run_role(cosmos_vars(cosmosdb_connection_approval_allowed_subscriptions=["team-a"]), role=COSMOS_ROLE)
    assert run.rc != 0 and run.calls == []
    assert "not GUIDs: team-a" in run.output
