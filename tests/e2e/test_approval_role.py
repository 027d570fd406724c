# SPDX-License-Identifier: GPL-3.0-or-later
"""The bulk approval role, through real ansible-playbook runs of a play that uses only the role.

Verified against the emulator's state and request log: which connections changed, that each was
written once, that decided connections were never touched, and that a re-run writes nothing.
"""

from __future__ import annotations

from collections import Counter

import pytest
from playbook import PlaybookRun, ansible_playbook
from support import CLIENT_ID, CLIENT_SECRET, SUBSCRIPTION, TENANT, endpoint_id

ROLE = "privatelink.azure.cosmosdb_connection_approval"

OTHER_ACCOUNT_SUBSCRIPTION = "22222222-3333-4444-5555-666666666666"
ALLOWED = ["aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002"]
FOREIGN = "cccccccc-0000-0000-0000-000000000003"
CONSUMERS = [*ALLOWED, FOREIGN]


def big_seed() -> dict:
    """5 accounts x 10 pending connections from 3 subscriptions, plus decided ones that must stay as they are.

    The last account lives in another subscription, named per account in the role's input.
    """
    accounts = []
    for a in range(5):
        subscription = OTHER_ACCOUNT_SUBSCRIPTION if a == 4 else SUBSCRIPTION
        connections = [{"name": f"pe-{a}-{i}.{a:02d}{i:02d}", "status": "Pending", "group_id": "Sql",
                        "private_endpoint_id": endpoint_id(CONSUMERS[(a + i) % 3], f"pe-{a}-{i}")}
                       for i in range(10)]
        connections += [
            {"name": f"old-rejected-{a}", "status": "Rejected", "description": "no",
             "private_endpoint_id": endpoint_id(ALLOWED[0], f"old-rejected-{a}")},
            {"name": f"old-approved-{a}", "status": "Approved", "description": "yes",
             "private_endpoint_id": endpoint_id(FOREIGN, f"old-approved-{a}")},
            {"name": f"old-gone-{a}", "status": "Disconnected",
             "private_endpoint_id": endpoint_id(ALLOWED[1], f"old-gone-{a}")},
        ]
        accounts.append({"subscription_id": subscription, "resource_group": f"rg-data-{a % 2}",
                         "name": f"orders-db-{a}", "location": "westus", "connections": connections})
    return {"principals": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET}],
            "accounts": accounts}


def small_seed() -> dict:
    seed = big_seed()
    seed["accounts"] = seed["accounts"][3:]
    for account in seed["accounts"]:
        account["connections"] = account["connections"][:3] + account["connections"][-3:]
    return seed


def role_accounts(seed: dict) -> list[dict]:
    result = []
    for account in seed["accounts"]:
        item = {"resource_group": account["resource_group"], "account_name": account["name"]}
        if account["subscription_id"] != SUBSCRIPTION:  # the others use the modules' default (the environment)
            item["subscription_id"] = account["subscription_id"]
        result.append(item)
    return result


def connections(emulator) -> dict[str, dict]:
    """Every connection in the emulator by name: its status and description."""
    found = {}
    for account in emulator.state_snapshot()["accounts"]:
        for body in account["connections"]:
            state = body["properties"]["privateLinkServiceConnectionState"]
            found[body["name"]] = {"status": state["status"], "description": state.get("description"),
                                   "endpoint": body["properties"]["privateEndpoint"]["id"]}
    return found


def endpoint_subscription(endpoint: str) -> str:
    return endpoint.split("/")[2]


def puts(emulator) -> list[str]:
    return [r["path"].rsplit("/", 1)[1] for r in emulator.requests("arm") if r["method"] == "PUT"]


def most_operations_at_once(emulator, duration: float) -> int:
    """How many writes were running at the same moment (each runs ``duration`` s from its PUT)."""
    starts = sorted(r["time"] for r in emulator.requests("arm") if r["method"] == "PUT")
    return max((sum(1 for other in starts if start <= other < start + duration) for start in starts), default=0)


class RoleRun:
    def __init__(self, run: PlaybookRun) -> None:
        self.rc = run.returncode
        self.output = run.output
        self.results = run.results
        self.seconds = run.seconds

    def task(self, name_part: str) -> dict:
        matches = [r for r in self.results if name_part in r["task"]]
        assert matches, f"no task {name_part!r} in {[r['task'] for r in self.results]}"
        return matches[-1]

    @property
    def summary(self) -> dict:
        return self.task("Gather the outcome")["result"]["ansible_facts"]["cosmosdb_connection_approval_result"]

    @property
    def changed(self) -> int:
        recap = [line for line in self.output.splitlines() if line.startswith("localhost ")][-1]
        return int(recap.split("changed=")[1].split()[0])


@pytest.fixture
def run_role(tmp_path, emulator, awx_env):
    """``run_role(role_vars, check=False, env=None, play_extra=None)``: a play whose only content is the role."""
    def run(role_vars: dict, *, check: bool = False, env: dict | None = None,
            play_extra: dict | None = None) -> RoleRun:
        play = {"hosts": "localhost", "gather_facts": False, "roles": [{"role": ROLE, "vars": role_vars}],
                **(play_extra or {})}
        return RoleRun(ansible_playbook(tmp_path, [play], awx_env if env is None else env, check=check))

    return run


def policy(seed: dict, **extra) -> dict:
    return {"cosmosdb_connection_approval_accounts": role_accounts(seed),
            "cosmosdb_connection_approval_allowed_subscriptions": [ALLOWED[0], ALLOWED[1].upper()],
            "cosmosdb_connection_approval_description": "Approved by the bootstrap", **extra}


# -- the done-when ------------------------------------------------------------------------------
@pytest.mark.parametrize("reject_others", [False, True], ids=["leave-others", "reject-others"])
def test_bulk_policy_approves_exactly_the_allowed_subscriptions_concurrently(emulator, run_role, reject_others):
    seed = big_seed()
    emulator.seed(seed)
    emulator.configure(op_duration=2)
    before = connections(emulator)
    pending = {n for n, c in before.items() if c["status"] == "Pending"}
    allowed = {n for n in pending if endpoint_subscription(before[n]["endpoint"]) in ALLOWED}
    assert len(pending) == 50 and 30 <= len(allowed) <= 40

    run = run_role(policy(seed, cosmosdb_connection_approval_reject_others=reject_others))
    assert run.rc == 0, run.output
    after = connections(emulator)
    for name, conn in after.items():
        if name in allowed:
            assert conn == {**before[name], "status": "Approved", "description": "Approved by the bootstrap"}, name
        elif name in pending:
            assert conn["status"] == ("Rejected" if reject_others else "Pending"), name
        else:
            assert conn == before[name], f"decided connection {name} was touched"
    written = Counter(puts(emulator))
    expected = pending if reject_others else allowed
    assert set(written) == expected and set(written.values()) == {1}, "each decided connection written once"
    assert run.changed > 0
    summary = run.summary
    assert summary["approved"] == len(allowed)
    assert summary["rejected"] == (len(pending) - len(allowed) if reject_others else 0)
    assert summary["left"] == (0 if reject_others else len(pending) - len(allowed))
    assert summary["failures"] == []
    first = summary["accounts"][0]
    assert first["account"] == "rg-data-0/orders-db-0"
    assert sorted(first["approved"]) == sorted(n for n in allowed if n.startswith("pe-0-"))
    assert "approved" in run.output and "left pending" in run.output
    # The writes overlap: a write is started while earlier ones are still running.
    assert most_operations_at_once(emulator, 2) >= 2

    emulator.clear_requests()
    rerun = run_role(policy(seed, cosmosdb_connection_approval_reject_others=reject_others))
    assert rerun.rc == 0, rerun.output
    assert rerun.changed == 0, rerun.output
    assert puts(emulator) == [], "a re-run writes nothing"
    assert connections(emulator) == after
    assert rerun.summary["approved"] == 0 and rerun.summary["rejected"] == 0
    # How long the whole run takes is a performance goal, measured side by side by `make bench`
    # (bench/RESULTS.md), not asserted here: wall time on a shared 2-core machine is noise.


# -- safety -------------------------------------------------------------------------------------
def test_check_mode_reports_and_writes_nothing(emulator, run_role):
    seed = small_seed()
    emulator.seed(seed)
    before = connections(emulator)
    run = run_role(policy(seed, cosmosdb_connection_approval_reject_others=True), check=True)
    assert run.rc == 0, run.output
    assert puts(emulator) == [] and connections(emulator) == before
    summary = run.summary
    assert summary["check_mode"] is True
    assert summary["approved"] + summary["rejected"] == 6
    assert "Check mode, nothing written" in run.output


def run_with_failed_operations(emulator, run_role, times):
    """The role over small_seed() while the first ``times`` operations on pe-3-1.0301 fail."""
    seed = small_seed()
    emulator.seed(seed)
    emulator.add_fault("operation_failed", kind="arm", method="PUT", path_contains="pe-3-1.0301", times=times,
                       code="InternalServerError", message="Simulated storage outage")
    return run_role(policy(seed))


def test_a_failed_write_fails_the_role_naming_the_connection(emulator, run_role):
    # The waiting pass writes a connection whose operation failed once more: both attempts fail here.
    run = run_with_failed_operations(emulator, run_role, times=2)
    assert run.rc != 0
    failure = run.task("Fail if any write failed")
    assert failure["status"] == "failed"
    msg = failure["result"]["msg"]
    assert "1 of the connection writes failed" in msg
    assert "rg-data-1/orders-db-3/pe-3-1.0301 (approve" in msg and "Simulated storage outage" in msg
    assert run.summary["failures"][0]["name"] == "pe-3-1.0301"
    # The others were still approved, and the summary was printed before the failure.
    after = connections(emulator)
    assert after["pe-3-1.0301"]["status"] == "Pending"
    approved = [n for n, c in after.items() if c["status"] == "Approved" and n.startswith("pe-")]
    assert len(approved) == run.summary["approved"] >= 2
    assert "FAILED pe-3-1.0301" in run.output
    assert Counter(puts(emulator))["pe-3-1.0301"] == 2, "started once, written again once after its failure"


def test_an_operation_that_failed_once_is_written_again_while_waiting(emulator, run_role):
    run = run_with_failed_operations(emulator, run_role, times=1)
    assert run.rc == 0, run.output
    assert connections(emulator)["pe-3-1.0301"]["status"] == "Approved"
    assert any("pe-3-1.0301" in account["approved"] for account in run.summary["accounts"])
    assert run.summary["failures"] == []
    written = Counter(puts(emulator))
    assert written.pop("pe-3-1.0301") == 2, "written again once after its operation failed"
    assert written and set(written.values()) == {1}, "every other connection written once"


@pytest.mark.parametrize("role_vars,needle", [
    ({"cosmosdb_connection_approval_accounts": [{"account_name": "orders-db-3"}],
      "cosmosdb_connection_approval_allowed_subscriptions": ALLOWED}, "resource_group"),
    ({"cosmosdb_connection_approval_accounts": [{"resource_group": "rg-data-1", "account_name": "orders-db-3"}]},
     "cosmosdb_connection_approval_allowed_subscriptions"),
    ({"cosmosdb_connection_approval_accounts": [{"resource_group": "rg-data-1", "account_name": "orders-db-3"}],
      "cosmosdb_connection_approval_allowed_subscriptions": ["team-a"]}, "not GUIDs: team-a"),
    ({"cosmosdb_connection_approval_accounts": [{"resource_group": "rg-data-1", "account_name": "orders-db-3"},
                                                {"resource_group": "RG-DATA-1", "account_name": "orders-db-3"}],
      "cosmosdb_connection_approval_allowed_subscriptions": ALLOWED}, "listed more than once"),
    ({"cosmosdb_connection_approval_accounts": "orders-db-3",
      "cosmosdb_connection_approval_allowed_subscriptions": ALLOWED}, "cosmosdb_connection_approval_accounts"),
])
def test_bad_input_fails_before_any_call(emulator, run_role, role_vars, needle):
    run = run_role(role_vars)
    assert run.rc != 0
    assert needle in run.output, run.output
    assert emulator.requests() == [], "no token request and no ARM request"


def test_authentication_from_play_module_defaults(emulator, run_role):
    """The role's modules take their authentication from the play's module_defaults group."""
    seed = small_seed()
    emulator.seed(seed)
    auth = {"subscription_id": SUBSCRIPTION, "client_id": CLIENT_ID, "secret": CLIENT_SECRET, "tenant": TENANT,
            "arm_endpoint": emulator.base_url, "authority_host": emulator.base_url,
            "disable_instance_discovery": True}
    run = run_role(policy(seed), env={"REQUESTS_CA_BUNDLE": emulator.ca_file},
                   play_extra={"module_defaults": {"group/privatelink.azure.cosmosdb": auth}})
    assert run.rc == 0, run.output
    assert run.summary["approved"] == len(puts(emulator)) >= 2
    assert emulator.requests("token")
