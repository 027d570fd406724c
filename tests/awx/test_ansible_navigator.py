# SPDX-License-Identifier: GPL-3.0-or-later
"""The documented example playbook run by ansible-navigator, as a developer of a job template does
before putting it in AWX: ``ansible-navigator run --ee false --mode stdout``, against the emulator.

ansible-navigator comes from the tools venv (tools/requirements-tools.txt, `make tools-venv`), with
its own ansible-core and the collection's requirements; the collection is the working tree.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from support import (
    ACCOUNT,
    CONSUMER_SUB_A,
    RESOURCE_GROUP,
    SECRETS,
    SUBSCRIPTION,
    awx_environment,
    endpoint_id,
    standard_seed,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "docs" / "examples"
PLAYBOOK = EXAMPLES / "approve-pending.yml"
TOOLS_BIN = Path(os.environ.get("TOOLS_BIN") or ROOT / ".build" / "venv-tools" / "bin")
# The connection the example approves, as it names it.
CONNECTION = "pe-billing.6b1f0c2e"


@pytest.fixture
def navigator(tmp_path, emulator):
    """``navigator(*args)`` runs ansible-navigator in a scratch directory with only the credential's variables."""
    navigator_bin = TOOLS_BIN / "ansible-navigator"
    if not navigator_bin.exists():
        pytest.fail(f"{navigator_bin} is missing: run `make tools-venv` (or `make test-navigator`)")
    seed = standard_seed()
    seed["accounts"][0]["connections"].append(
        {"name": CONNECTION, "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-billing"),
         "status": "Pending", "description": "Please approve", "group_id": "Sql"})
    emulator.seed(seed)
    emulator.clear_requests()
    home = tmp_path / "home"
    home.mkdir()
    env = {
        "PATH": f"{TOOLS_BIN}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),  # navigator's caches and settings, ~/.ansible: all in the scratch home
        "LANG": "C.UTF-8",
        "TMPDIR": str(tmp_path),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
        "ANSIBLE_NOCOLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",  # no __pycache__ in the working tree's plugins
        **awx_environment(emulator),
    }

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(navigator_bin), "run", str(PLAYBOOK), "--ee", "false", "--mode", "stdout",
             "--pae", "false", "--lf", str(tmp_path / "navigator.log"), *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)

    return run


def untracked_files() -> str:
    """Untracked and ignored paths of the working tree, less the build and venv folders."""
    listing = subprocess.run(["git", "status", "--porcelain", "--ignored", "--untracked-files=all"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    return "\n".join(line for line in listing.splitlines()
                     if not line[3:].startswith((".build/", ".venv/", ".pytest_cache/", ".hypothesis/")))


def recap(output: str) -> dict[str, int]:
    match = re.search(r"^localhost\s*:\s*(.*)$", output.split("PLAY RECAP")[-1], re.MULTILINE)
    assert match, output
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}


def test_the_example_playbook_runs_under_ansible_navigator(navigator, emulator):
    examples_before = sorted(EXAMPLES.iterdir())
    repository_before = untracked_files()
    first = navigator()
    assert first.returncode == 0, first.stdout + first.stderr
    assert recap(first.stdout) == {"ok": 2, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 0,
                                   "rescued": 0, "ignored": 0}
    assert f"{CONNECTION} is Approved: Approved for the billing team (CHG-1234)" in first.stdout
    connection = emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, CONNECTION)
    assert connection["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"

    second = navigator()
    assert second.returncode == 0 and recap(second.stdout)["changed"] == 0, second.stdout + second.stderr
    assert [r["method"] for r in emulator.requests("arm")].count("PUT") == 1
    # --pae false: no playbook artifact next to the example; the log went to the scratch directory.
    assert sorted(EXAMPLES.iterdir()) == examples_before
    assert untracked_files() == repository_before, "the run wrote into the repository"
    for text in (first.stdout, first.stderr, second.stdout, second.stderr):
        assert not any(secret in text for secret in (*SECRETS, *emulator.issued_tokens()))
