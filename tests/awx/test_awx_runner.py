# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection run the way AWX runs a job: ansible-runner over a private data directory.

AWX lays out a private data directory per job (the project's playbook in ``project/``, the
credential's environment in ``env/envvars``, the template's extra variables in
``env/extravars``, the inventory in ``inventory/``) and hands it to ansible-runner, then reads the
job's status and events back from ``artifacts/``. These tests do the same against the in-process
ARM emulator, with exactly the variables AWX's built-in Azure credential injects.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import ansible_runner
import pytest
import yaml
from support import ACCOUNT, RESOURCE_GROUP, SECRETS, awx_environment

ROOT = Path(__file__).resolve().parents[2]
# The playbook the docs tell users to put in their AWX project.
PLAYBOOK = ROOT / "docs" / "examples" / "approve-pending.yml"
APPROVE_TASK = "Approve the billing team's private endpoint"
ARM_FIELDS = ("error", "status_code", "request_id")


@pytest.fixture
def job(tmp_path, emulator, monkeypatch):
    """``job(ident, **extravars)`` runs the example playbook as an AWX job and returns the Runner."""
    # Nothing from the machine's environment may sign the job in: only the credential's variables.
    for name in list(os.environ):
        if name.startswith(("AZURE_", "IDENTITY_", "MSI_", "ANSIBLE_")):
            monkeypatch.delenv(name, raising=False)
    private = tmp_path / "job"
    (private / "project").mkdir(parents=True)
    (private / "project" / "approve.yml").write_text(PLAYBOOK.read_text())
    (private / "inventory").mkdir()
    (private / "inventory" / "hosts").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={sys.executable}\n")
    (private / "env").mkdir()
    (private / "env" / "envvars").write_text(yaml.safe_dump({
        **awx_environment(emulator),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
        # The job's own home (AWX: the execution environment's /runner): no ~/.azure or
        # ansible.cfg of the machine, and the modules' lock directory (~/.ansible/tmp) inside it.
        "HOME": str(tmp_path / "home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in the working tree's plugins
    }))

    def run(ident: str, **extravars: str) -> ansible_runner.Runner:
        (private / "env" / "extravars").write_text(yaml.safe_dump(
            {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, **extravars}))
        return ansible_runner.run(private_data_dir=str(private), playbook="approve.yml", ident=ident,
                                  quiet=True, timeout=120)

    run.private_data_dir = private
    return run


def task_events(runner: ansible_runner.Runner, task: str) -> list[dict]:
    return [e for e in runner.events if e.get("event_data", {}).get("task") == task
            and e["event"] in ("runner_on_ok", "runner_on_failed", "runner_on_skipped", "runner_on_unreachable")]


def every_artifact(private: Path) -> list[Path]:
    files = [p for p in (private / "artifacts").rglob("*") if p.is_file()]
    assert files, "the job left no artifacts to check"
    return files


def test_an_awx_job_approves_then_finds_nothing_to_do(job, emulator):
    first = job("first", connection_name="pe-pending.0001")
    assert first.status == "successful" and first.rc == 0, first.stdout.read()
    [event] = task_events(first, APPROVE_TASK)
    assert event["event"] == "runner_on_ok" and event["event_data"]["res"]["changed"] is True
    assert event["event_data"]["res"]["connection"]["status"] == "Approved"

    second = job("second", connection_name="pe-pending.0001")
    assert second.status == "successful"
    [event] = task_events(second, APPROVE_TASK)
    assert event["event"] == "runner_on_ok" and event["event_data"]["res"]["changed"] is False
    assert second.stats["changed"] == {} and second.stats["ok"] == {"localhost": 2}
    assert [r["method"] for r in emulator.requests("arm")].count("PUT") == 1


def failed_result(runner: ansible_runner.Runner) -> dict:
    assert runner.status == "failed" and runner.rc != 0
    [event] = task_events(runner, APPROVE_TASK)
    assert event["event"] == "runner_on_failed"
    return event["event_data"]["res"]


def test_a_failed_job_carries_the_arm_error_in_its_event(job):
    res = failed_result(job("no-account", account_name="no-such-db", connection_name="pe-pending.0001"))
    assert all(res.get(field) for field in ARM_FIELDS), res
    assert res["status_code"] == 404 and res["error"]["code"] and "no-such-db" in res["msg"]


def test_approving_a_missing_connection_fails_with_the_arm_fields(job):
    res = failed_result(job("no-connection", connection_name="pe-missing.9999"))
    assert "'pe-missing.9999' does not exist" in res["msg"]
    assert all(res.get(field) for field in ARM_FIELDS), res


def test_no_secret_or_token_reaches_the_job_artifacts(job, emulator):
    job("ok", connection_name="pe-pending.0001")
    job("failed", connection_name="pe-missing.9999")
    # A token endpoint (or a proxy before it) that quotes the whole request, client secret included, in
    # its error: the job fails, and the secret still appears nowhere in its events or output.
    emulator.add_fault("token_echo", times=None)
    echoed = job("echoed", connection_name="pe-pending.0001")
    assert echoed.status == "failed" and "<redacted>" in json.dumps(task_events(echoed, APPROVE_TASK))
    emulator.clear_faults()
    tokens = emulator.issued_tokens()
    assert tokens, "the jobs signed in: there are tokens to look for"
    for path in every_artifact(job.private_data_dir):
        text = path.read_text(errors="replace")
        if path.name == "command":
            # ansible-runner's own record of how it started ansible-playbook (mode 0600), written
            # whatever suppress_env_files says: its ``env`` is the environment the job was handed,
            # AZURE_SECRET included, the job's input rather than anything the collection wrote.
            # Everything else in the file is checked.
            record = json.loads(text)
            assert oct(path.stat().st_mode & 0o777) == "0o600"
            text = json.dumps({key: value for key, value in record.items() if key != "env"})
        for secret in (*SECRETS, *tokens):
            assert secret not in text, f"{path.relative_to(job.private_data_dir)} holds a secret"
