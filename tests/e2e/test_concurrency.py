# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent runs on one controller: parallel ansible-playbook processes and forks over several hosts
(aliases of localhost) approving the same and different connections of one account at once.

While Cosmos DB runs an update, a GET still shows the old state, so two runs that only compared
states would both PUT. The module holds a per-connection lock from its GET to the end of the
operation: the second writer waits, re-reads, and finds nothing to do. The emulator's log proves
that only one PUT was sent per connection, and the results that exactly one run says changed.
"""

from __future__ import annotations

import typing as t
from concurrent.futures import ThreadPoolExecutor

import pytest
from playbook import run_ansible
from support import (
    ACCOUNT,
    CONSUMER_SUB_A,
    MODULE,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    endpoint_id,
    standard_seed,
)

SAME, OTHER, THIRD = "conc-same.0001", "conc-other.0002", "conc-third.0003"
# Long enough that every run starts while the first write is still running.
OPERATION_SECONDS = 3.0

TASKS = [{"name": "approve", MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT,
                                      "name": "{{ connection }}", "status": "Approved",
                                      "description": "approved concurrently"}}]


@pytest.fixture
def world(emulator):
    seed = standard_seed()
    seed["accounts"][0]["connections"] += [
        {"name": name, "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, f"pe-{name}"), "status": "Pending",
         "description": "Please approve", "group_id": "Sql"} for name in (SAME, OTHER, THIRD)]
    emulator.seed(seed)
    emulator.configure(op_duration=OPERATION_SECONDS, dequeued_polls=0, retry_after=None)
    emulator.clear_requests()
    return emulator


def play(workdir, hosts: dict[str, str], env: dict[str, str]) -> list[dict[str, t.Any]]:
    proc, records = run_ansible(workdir, {host: {"connection": name} for host, name in hosts.items()}, TASKS, env,
                                forks=len(hosts))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(records) == len(hosts)
    return [record["result"] for record in records]


def puts(emulator, name: str) -> list[dict[str, t.Any]]:
    return [r for r in emulator.requests("arm") if r["method"] == "PUT" and r["path"].endswith(f"/{name}")]


def status(emulator, name: str) -> dict[str, t.Any]:
    return emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, name)["properties"][
        "privateLinkServiceConnectionState"]


def changed_flags(results: list[dict[str, t.Any]], name: str) -> list[bool]:
    return sorted(r["changed"] for r in results if r["invocation"]["module_args"]["name"] == name)


def assert_one_writer(emulator, results, name: str, runs: int) -> None:
    assert all(not r.get("failed") for r in results), results
    assert len(puts(emulator, name)) == 1, f"{name}: one PUT, not one per run"
    assert changed_flags(results, name) == [False] * (runs - 1) + [True]
    assert status(emulator, name) == {"status": "Approved", "description": "approved concurrently",
                                      "actionsRequired": "None"}
    same = [r for r in results if r["invocation"]["module_args"]["name"] == name]
    assert all(r["connection"]["status"] == "Approved" for r in same), "every run reports the final state"


def assert_the_waiting_run_read_after_the_write(emulator, name: str) -> None:
    """Every GET after the PUT came once the operation had ended (the lock held it back), not during it."""
    log = [r for r in emulator.requests("arm") if r["path"].endswith(f"/{name}")]
    put = next(r for r in log if r["method"] == "PUT")
    later_gets = [r for r in log if r["method"] == "GET" and r["time"] > put["time"]]
    assert later_gets, "the other runs read the connection too"
    assert min(r["time"] for r in later_gets) >= put["time"] + OPERATION_SECONDS - 0.2


def test_two_playbook_processes_with_forks(world, tmp_path, awx_env):
    """Two ansible-playbook processes at once, each with forks over two hosts: the same connection
    in both, and one different connection in each."""
    env = {**awx_env, "HOME": str(tmp_path)}  # one controller: both processes share ~/.ansible/tmp's locks
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(play, tmp_path / "first", {"h1": SAME, "h2": OTHER}, env)
        second = pool.submit(play, tmp_path / "second", {"h3": SAME, "h4": THIRD}, env)
        results = first.result() + second.result()
    assert_one_writer(world, results, SAME, runs=2)
    assert_the_waiting_run_read_after_the_write(world, SAME)
    for name in (OTHER, THIRD):
        assert len(puts(world, name)) == 1 and changed_flags(results, name) == [True]
        assert status(world, name)["status"] == "Approved"


def test_forks_over_host_aliases(world, tmp_path, awx_env):
    """One play, forks over four hosts: three approve the same connection, one another."""
    results = play(tmp_path / "forks", {"a1": SAME, "a2": SAME, "a3": SAME, "b1": OTHER},
                   {**awx_env, "HOME": str(tmp_path)})
    assert_one_writer(world, results, SAME, runs=3)
    assert_the_waiting_run_read_after_the_write(world, SAME)
    assert len(puts(world, OTHER)) == 1 and changed_flags(results, OTHER) == [True]
    # Different connections do not wait for each other.
    other_put = puts(world, OTHER)[0]["time"]
    same_put = puts(world, SAME)[0]["time"]
    assert abs(other_put - same_put) < OPERATION_SECONDS, "different connections are written in parallel"
