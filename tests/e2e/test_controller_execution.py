# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the modules run, through real ansible-playbook runs against the emulator.

A task on the controller's own (local) connection runs in ansible-playbook's worker process
(plugins/plugin_utils/_controller.py); with ``privatelink_azure_run_on_controller: false``, ``async``
or another connection it runs as a module process. Both must be indistinguishable to the user: the
same results, failures and writes. Running on the controller is observable as fewer sign-ins: the
items of one loop share one token.
"""

from __future__ import annotations

import re

import pytest
from playbook import ansible_playbook, ansible_playbook_streaming
from support import ACCOUNT, MODULE, RESOURCE_GROUP, SUBSCRIPTION, arm_calls, awx_environment, standard_seed

INFO = "privatelink.azure.cosmosdb_private_endpoint_connection_info"
MODES = {"controller": True, "module-process": False}
# Differ from one request to the next whatever runs them.
VOLATILE = {"request_id", "correlation_id", "operation_url", "_ansible_no_log"}


def run(tmp_path, emulator, tasks, mode, **kwargs):
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
    return ansible_playbook(tmp_path / mode, play, awx_environment(emulator),
                            hosts={"localhost": {"privatelink_azure_run_on_controller": MODES[mode]}}, **kwargs)


def task(module, ignore_errors=False, **params):
    entry = {module: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, **params}}
    if ignore_errors:
        entry["ignore_errors"] = True
    return entry


def comparable(record):
    result = {key: value for key, value in record["result"].items() if key not in VOLATILE}
    if isinstance(result.get("error"), dict):
        # Cosmos DB's messages carry a new ActivityId on every answer.
        result["error"] = result["error"]["code"]
    return {"status": record["status"], "result": result}


SCENARIO = [
    task(MODULE, name="pe-pending.0001", status="Approved", description="ok"),
    task(MODULE, name="pe-pending.0001", status="Approved", description="ok"),
    task(MODULE, ignore_errors=True, name="pe-rejected.0003", status="Approved"),
    task(MODULE, ignore_errors=True, name="pe-missing.0009", status="Approved"),
    task(MODULE, ignore_errors=True, name="pe-other.0004", status="Approved", colour="blue"),
    task(MODULE, ignore_errors=True, name="pe-other.0004"),
    task(MODULE, ignore_errors=True, name="pe-other.0004", status="Approved", wait_timeout="soon"),
    task(INFO, status=["pending", "Approved"]),
    task(INFO, ignore_errors=True, name="pe-other.0004", status=["Maybe"]),
    task(MODULE, name="pe-other.0004", status="Rejected", description="no", wait=False),
]


def test_the_controller_and_a_module_process_give_the_same_results_and_writes(tmp_path, emulator):
    outcomes = {}
    for mode in MODES:
        emulator.seed(standard_seed())
        emulator.configure(op_duration=0.3)
        emulator.clear_requests()
        playbook = run(tmp_path, emulator, SCENARIO, mode, diff=True)
        assert len(playbook.results) == len(SCENARIO), playbook.output
        writes = [(r["method"], r["path"].rsplit("/", 1)[1]) for r in arm_calls(emulator) if r["method"] != "GET"]
        outcomes[mode] = [comparable(record) for record in playbook.results], writes
    on_controller, in_module = outcomes["controller"], outcomes["module-process"]
    for index, (here, there) in enumerate(zip(on_controller[0], in_module[0])):
        assert here == there, f"task {index}: {SCENARIO[index]}"
    assert on_controller[1] == in_module[1] == [("PUT", "pe-pending.0001"), ("PUT", "pe-other.0004")]
    # The scenario covers what differs between the paths: success, no-op, refusals, bad input.
    results = [record["result"] for record in on_controller[0]]
    assert results[0]["changed"] is True and results[0]["diff"]["after"]["status"] == "Approved"
    assert results[1]["changed"] is False
    assert "Unsupported parameters for (privatelink.azure.cosmosdb_private_endpoint_connection) module: colour" \
        in results[4]["msg"]
    assert "status" in results[5]["msg"]
    assert "wait_timeout" in results[6]["msg"]
    assert [c["name"] for c in results[7]["connections"]] == ["pe-pending.0001", "pe-approved.0002", "pe-other.0004"]
    assert "Maybe" in results[8]["msg"]
    assert results[9]["changed"] is True
    assert [r["status"] for r in on_controller[0]][2:7] == ["failed"] * 5


@pytest.mark.parametrize("mode,expected", [
    ("controller", "running in the controller's process"),
    ("module-process", "running as a module process (privatelink_azure_run_on_controller is false)"),
])
def test_where_a_task_runs_is_shown_at_vvv(tmp_path, emulator, mode, expected):
    playbook = run(tmp_path, emulator, [task(INFO)], mode, verbosity=3)
    assert playbook.rc == 0, playbook.output
    assert f"privatelink.azure.cosmosdb_private_endpoint_connection_info: {expected}" in playbook.stdout


@pytest.mark.parametrize("mode,sign_ins", [("controller", 1), ("module-process", 4)])
def test_the_items_of_a_loop_share_one_sign_in_on_the_controller(tmp_path, emulator, mode, sign_ins):
    loop = {**task(INFO, name="{{ item }}"),
            "loop": ["pe-pending.0001", "pe-approved.0002", "pe-rejected.0003", "pe-other.0004"]}
    playbook = run(tmp_path, emulator, [loop], mode)
    assert playbook.rc == 0, playbook.output
    assert [len(r["connections"]) for r in playbook.results[0]["result"]["results"]] == [1, 1, 1, 1]
    assert len(emulator.requests("token")) == sign_ins
    assert len(arm_calls(emulator, "GET")) == 4


def test_the_task_environment_reaches_the_credential_and_does_not_outlive_the_task(tmp_path, emulator):
    env = awx_environment(emulator)
    subscription = env.pop("AZURE_SUBSCRIPTION_ID")
    tasks = [
        {**task(INFO), "environment": {"AZURE_SUBSCRIPTION_ID": subscription}},
        {**task(INFO, ignore_errors=True)},
    ]
    playbook = ansible_playbook(tmp_path, [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}], env)
    assert playbook.results[0]["status"] == "ok", playbook.output
    assert len(playbook.results[0]["result"]["connections"]) == 4
    assert playbook.results[1]["status"] == "failed"
    assert "subscription_id is required" in playbook.results[1]["result"]["msg"]


def test_async_runs_as_a_module_process(tmp_path, emulator):
    emulator.configure(op_duration=0.5)
    # An explicit async directory: the harness's HOME is not the passwd entry's (see docs/bootstrap-and-awx.md).
    tasks = [{**task(MODULE, name="pe-pending.0001", status="Approved"), "async": 60, "poll": 1,
              "vars": {"ansible_async_dir": str(tmp_path / "async")}}]
    playbook = run(tmp_path, emulator, tasks, "controller", verbosity=3)
    assert playbook.rc == 0, playbook.output
    assert playbook.results[0]["result"]["changed"] is True
    assert "running as a module process (async)" in playbook.stdout
    stored = emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, "pe-pending.0001")
    assert stored["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"


def test_validation_warnings_are_the_same_on_both_paths(tmp_path, emulator):
    """An option given by its name and its alias: AnsibleModule warns, and so does the controller runner."""
    shown = {}
    for mode in MODES:
        both = task(INFO, authority_host=emulator.base_url, adfs_authority_url=emulator.base_url)
        playbook = run(tmp_path, emulator, [both], mode)
        assert playbook.rc == 0, playbook.output
        shown[mode] = ([line for line in playbook.output.splitlines() if "WARNING" in line],
                       playbook.results[0]["result"].get("warnings"))
    assert shown["controller"] == shown["module-process"]
    assert shown["controller"] == (["[WARNING]: Both option authority_host and its alias adfs_authority_url are set."],
                                   ["Both option authority_host and its alias adfs_authority_url are set."])


def test_a_long_wait_shows_progress_while_the_task_runs(tmp_path, emulator):
    """What a person watching sees: a line about the wait before the task's result, not only afterwards."""
    emulator.configure(op_duration=6)
    play = [{"hosts": "localhost", "gather_facts": False,
             "tasks": [task(MODULE, name="pe-pending.0001", status="Approved")]}]
    playbook = ansible_playbook_streaming(tmp_path, play, awx_environment(emulator))
    assert playbook.rc == 0, playbook.output
    progress = [(at, line) for at, line in playbook.lines
                if line.startswith("Setting connection 'pe-pending.0001' to Approved: operation ")]
    result_at = next(at for at, line in playbook.lines if line.startswith("changed: [localhost]"))
    assert progress, playbook.output
    first_at, first = progress[0]
    assert re.fullmatch(r".*: operation \w+, waited [3-5] s", first), first
    # Read while the task was still waiting: well before its result line and the end of the run.
    assert first_at < result_at - 1 < playbook.seconds - 1, playbook.lines
    assert len(progress) == 1, "at the default verbosity, one line for a 6 s wait"
