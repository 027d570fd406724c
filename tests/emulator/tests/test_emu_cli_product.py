# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``armemu`` command as a user runs it (subprocesses, a YAML seed, the default info file), and the
commands and files of docs/emulator.md, run as the guide writes them."""
from __future__ import annotations

import json
import re
import shlex
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from armemu.cli import _pid_alive, is_write
from armemu.faults import ACTIONS

ROOT = Path(__file__).resolve().parents[3]
ARMEMU = ROOT / "tests" / "emulator" / "armemu"
EXAMPLES = ROOT / "docs" / "examples" / "emulator"
GUIDE = ROOT / "docs" / "emulator.md"
INSTALLED = ROOT / ".build" / "collections" / "ansible_collections" / "privatelink" / "azure"
OWNER_SUB = "aaaaaaaa-1111-4111-8111-111111111111"
TENANT = "dddddddd-4444-4444-8444-444444444444"
CLIENT_ID = "eeeeeeee-5555-4555-8555-555555555555"
ACCOUNT_URL = (f"/subscriptions/{OWNER_SUB}/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts"
               "/orders-db/privateEndpointConnections")
API = {"api-version": "2024-08-15"}


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's shell: their own HOME and XDG_RUNTIME_DIR, no Azure variables, this Python's tools first."""
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    (tmp_path / "home").mkdir()
    return {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path / "home"),
            "XDG_RUNTIME_DIR": str(runtime), "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1"}


def armemu(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ARMEMU), *args], env=env, cwd=cwd, capture_output=True, text=True,
                          timeout=60, check=False)


def exports(output: str) -> dict[str, str]:
    pairs = {}
    for line in output.splitlines():
        words = shlex.split(line)
        assert words[0] == "export", line
        name, _unused, value = words[1].partition("=")
        pairs[name] = value
    return pairs


def token(env: dict[str, str]) -> str:
    answer = requests.post(f"{env['AZURE_AUTHORITY_HOST']}/{env['AZURE_TENANT']}/oauth2/v2.0/token", data={
        "grant_type": "client_credentials", "client_id": env["AZURE_CLIENT_ID"], "client_secret": env["AZURE_SECRET"],
        "scope": "https://management.azure.com/.default"}, verify=env["REQUESTS_CA_BUNDLE"], timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def list_connections(env: dict[str, str], bearer: str) -> requests.Response:
    return requests.get(f"{env['AZURE_ARM_ENDPOINT']}{ACCOUNT_URL}", params=API, timeout=10,
                        headers={"Authorization": f"Bearer {bearer}"}, verify=env["REQUESTS_CA_BUNDLE"])


def guide_commands(prefix: str) -> list[list[str]]:
    """The plain ``armemu <prefix> ...`` lines of the guide's sh blocks, comments dropped."""
    blocks = re.findall(r"```sh\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)
    lines = [line for block in blocks for line in block.splitlines()
             if line.startswith(f"armemu {prefix} ") and not set(line) & set("$>|")]  # not the CI job's lines
    return [shlex.split(line, comments=True)[1:] for line in lines]


def test_a_session_as_the_guide_shows_it(user_env: dict[str, str], tmp_path: Path) -> None:
    started = armemu(user_env, "serve", "--seed", str(EXAMPLES / "seed.yml"), "--background")
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("armemu: listening on https://127.0.0.1:")
    info_file = Path(user_env["XDG_RUNTIME_DIR"]) / "armemu" / "info.json"
    info = json.loads(info_file.read_text())
    assert stat.S_IMODE(info_file.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(info_file.stat().st_mode) == 0o600
    try:
        printed = armemu(user_env, "env")
        assert printed.returncode == 0, printed.stderr
        env = exports(printed.stdout)
        assert env == {"AZURE_ARM_ENDPOINT": info["base_url"], "AZURE_AUTHORITY_HOST": info["base_url"],
                       "AZURE_DISABLE_INSTANCE_DISCOVERY": "true", "REQUESTS_CA_BUNDLE": info["ca_file"],
                       "AZURE_SUBSCRIPTION_ID": OWNER_SUB, "AZURE_CLIENT_ID": CLIENT_ID,
                       "AZURE_SECRET": "emulator-only-secret", "AZURE_TENANT": TENANT}
        bearer = token(env)
        assert [c["name"].split(".")[0] for c in list_connections(env, bearer).json()["value"]] == [
            "pe-billing", "pe-unknown"]

        fault = armemu(user_env, "fault", "status", "--method", "GET", "--param", "status=503")
        assert fault.returncode == 0, fault.stderr
        fault_id = fault.stdout.strip()
        assert list_connections(env, bearer).status_code == 503
        assert list_connections(env, bearer).status_code == 200  # a fault hits once by default

        table = armemu(user_env, "log").stdout.splitlines()
        assert table[0].split() == ["SEQ", "TIME", "(UTC)", "KIND", "METHOD", "STATUS", "PATH"]
        assert [line.split()[2:5] for line in table[1:]] == [
            ["token", "POST", "200"], ["arm", "GET", "200"], ["arm", "GET", "503"], ["arm", "GET", "200"]]
        assert table[3].endswith(f"{ACCOUNT_URL}  [{fault_id}]")
        entries = json.loads(armemu(user_env, "log", "--json", "--kind", "arm").stdout)
        assert [(e["status"], e["fault"]) for e in entries] == [(200, None), (503, fault_id), (200, None)]
        assert "emulator-only-secret" not in armemu(user_env, "log", "--json").stdout
        assert armemu(user_env, "log", "--writes").stdout.strip().splitlines()[1:] == []

        # Every fault and configure command of the guide is accepted as written.
        commands = guide_commands("fault") + guide_commands("configure") + guide_commands("log")
        assert len(commands) == 14
        for args in commands:
            ran = armemu(user_env, *args)
            assert ran.returncode == 0, (args, ran.stderr)
        assert armemu(user_env, "clear-faults").returncode == 0
        assert armemu(user_env, "--help").stdout.startswith("usage: armemu")
        assert armemu(user_env, "clear-log").returncode == 0
        assert armemu(user_env, "log").stdout.count("\n") == 1  # only the header is left
        assert list_connections(env, bearer).status_code == 200
        refused = armemu(user_env, "configure", "op_duration_seconds=1")
        assert refused.returncode == 1 and refused.stderr.startswith("armemu: configure refused:")

        # reseed: another world, found by `armemu env` afterwards; a bad seed changes nothing.
        empty = tmp_path / "empty.yml"
        empty.write_text((EXAMPLES / "seed.yml").read_text().split("accounts:")[0]
                         + f"accounts:\n  - {{subscription_id: {OWNER_SUB}, resource_group: rg-data, "
                           "name: orders-db}\n")
        assert armemu(user_env, "reseed", "--seed", str(empty)).returncode == 0
        assert list_connections(env, bearer).json() == {"value": []}
        assert json.loads(armemu(user_env, "state").stdout)["accounts"][0]["connections"] == []
        assert json.loads(info_file.read_text())["seed_file"] == str(empty)
        bad = tmp_path / "bad.yml"
        bad.write_text(f"accounts:\n  - {{subscription_id: {OWNER_SUB}, resource_group: rg, nam: x}}\n")
        refused = armemu(user_env, "reseed", "--seed", str(bad))
        assert refused.returncode == 2
        assert refused.stderr == f"armemu: {bad}: accounts[0].nam: unknown key (known: subscription_id, " \
                                 "resource_group, name, location, connections)\n"
        assert list_connections(env, bearer).json() == {"value": []}

        again = armemu(user_env, "serve", "--seed", str(EXAMPLES / "seed.yml"), "--background")
        assert again.returncode == 1 and "already running" in again.stderr
    finally:
        stopped = armemu(user_env, "stop")
    assert stopped.returncode == 0 and stopped.stdout == f"armemu: stopped (pid {info['pid']})\n"
    assert not info_file.exists()
    deadline = time.monotonic() + 5
    while _pid_alive(info["pid"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _pid_alive(info["pid"])
    gone = armemu(user_env, "log")
    assert gone.returncode == 1 and gone.stderr.startswith("armemu: no running emulator found")
    assert "Traceback" not in gone.stderr


@pytest.mark.parametrize("background", [False, True])
def test_a_bad_seed_exits_2_with_the_key_path_and_no_traceback(user_env: dict[str, str], tmp_path: Path,
                                                               background: bool) -> None:
    seed = tmp_path / "seed.yml"
    seed.write_text((EXAMPLES / "seed.yml").read_text().replace("        status: Pending\n        group_id: blob",
                                                                "        stauts: Pending\n        group_id: blob"))
    ran = armemu(user_env, "serve", "--seed", "seed.yml", *(["--background"] if background else []), cwd=tmp_path)
    assert ran.returncode == 2
    assert ran.stderr == ("armemu: seed.yml: resources[0].connections[0].stauts: unknown key "
                          "(known: name, private_endpoint_id, status, description, group_id)\n")
    assert ran.stdout == ""
    assert not (Path(user_env["XDG_RUNTIME_DIR"]) / "armemu" / "info.json").exists()


@pytest.mark.parametrize(("text", "expected"), [
    ("accounts: [\n  {name: x\n", "armemu: seed.yml: not valid YAML: line 3, column 1: "),
    ("- just\n- a list\n", "armemu: seed.yml: (top level): expected a mapping, got a list\n"),
    (None, "armemu: seed.yml: cannot read: No such file or directory\n"),
])
def test_unreadable_seeds_exit_2(user_env: dict[str, str], tmp_path: Path, text: str | None, expected: str) -> None:
    if text is not None:
        (tmp_path / "seed.yml").write_text(text)
    ran = armemu(user_env, "serve", "--seed", "seed.yml", cwd=tmp_path)
    assert ran.returncode == 2 and ran.stderr.startswith(expected) and "Traceback" not in ran.stderr


def test_a_python_without_the_requirements_gets_a_sentence_not_a_traceback(user_env: dict[str, str]) -> None:
    # -S: no site-packages, as with a system python3 next to an Ansible installed in a virtualenv.
    ran = subprocess.run([sys.executable, "-S", str(ARMEMU), "serve", "--seed", str(EXAMPLES / "seed.yml")],
                         env=user_env, capture_output=True, text=True, timeout=60, check=False)
    assert ran.returncode == 2
    assert ran.stderr.startswith(f"armemu: this Python ({sys.executable}) has no module ")
    assert "Traceback" not in ran.stderr


def test_fault_help_lists_every_action(user_env: dict[str, str]) -> None:
    shown = armemu(user_env, "fault", "--help").stdout
    assert all(f"\n  {action} " in shown for action in ACTIONS)


def test_the_guide_shows_the_tested_files() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for name in ("seed.yml", "ci-check.sh"):
        assert (EXAMPLES / name).read_text(encoding="utf-8") in guide, name
    assert "approval-policy.yml" in guide


def test_the_guide_ci_job_passes_in_check_mode_and_catches_a_write(user_env: dict[str, str], tmp_path: Path) -> None:
    if not INSTALLED.is_dir():
        pytest.skip("run `make collection` first")
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**user_env, "COLLECTION_DIR": str(INSTALLED), "PYTHON": sys.executable,
           "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"), "TMPDIR": str(scratch)}
    ran = subprocess.run(["sh", str(EXAMPLES / "ci-check.sh")], env=env, capture_output=True, text=True,
                         timeout=300, check=False)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "changed: [localhost]" in ran.stdout and "pe-billing." in ran.stdout  # the diff names it
    assert re.search(r"OK: [0-9]+ requests, no writes", ran.stdout)
    assert ran.stdout.splitlines()[-1].startswith("armemu: stopped (pid ")
    assert not list(scratch.iterdir())  # the job cleaned up after itself

    # The same job over a playbook that writes despite --check (check_mode: false) must fail.
    playbook = tmp_path / "writes.yml"
    playbook.write_text((EXAMPLES / "approval-policy.yml").read_text().replace(
        "      register: policy", "      check_mode: false\n      register: policy"))
    ran = subprocess.run(["sh", str(EXAMPLES / "ci-check.sh")], env={**env, "PLAYBOOK": str(playbook)},
                         capture_output=True, text=True, timeout=300, check=False)
    assert ran.returncode != 0
    assert "check mode wrote: PUT " in ran.stderr and f"{ACCOUNT_URL}/pe-billing." in ran.stderr
    assert "armemu: stopped" in ran.stdout


@pytest.mark.parametrize(("entry", "write"), [
    ({"kind": "arm", "method": "PUT", "path": ACCOUNT_URL + "/pe"}, True),
    ({"kind": "arm", "method": "POST", "path": "/subscriptions/s/providers/Microsoft.Foo/x/listKeys"}, True),
    ({"kind": "arm", "method": "POST", "path": "/providers/Microsoft.ResourceGraph/resources"}, False),
    ({"kind": "arm", "method": "GET", "path": ACCOUNT_URL}, False),
    ({"kind": "token", "method": "POST", "path": f"/{TENANT}/oauth2/v2.0/token"}, False),
])
def test_log_writes_are_arm_changes_only(entry: dict[str, str], write: bool) -> None:
    assert is_write(entry) is write
