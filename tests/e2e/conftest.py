# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ``ansible-playbook`` against the local ARM emulator and read back what happened."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import SUBSCRIPTION, awx_environment

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list[dict] = field(default_factory=list)

    def result(self, index: int = -1) -> dict:
        return self.results[index]["result"]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@pytest.fixture
def run_playbook(tmp_path, emulator):
    """``run_playbook(tasks, check=False, diff=False, env=None, verbosity=0)`` -> PlaybookRun."""

    def run(tasks, *, check=False, diff=False, env=None, verbosity=0, extra_args=()):
        playbook = tmp_path / "play.yml"
        play = [{"hosts": "localhost", "gather_facts": False, "tasks": tasks}]
        playbook.write_text(json.dumps(play))  # JSON is YAML
        records = tmp_path / f"results-{os.getpid()}-{len(list(tmp_path.iterdir()))}.jsonl"
        run_env = {
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),  # no ~/.azure/credentials from the machine
            "LANG": "C.UTF-8",
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-local"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "RECORD_RESULTS_FILE": str(records),
            **(env if env is not None else {}),
        }
        cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        cmd.extend(extra_args)
        proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=300, check=False)
        results = [json.loads(line) for line in records.read_text().splitlines()] if records.exists() else []
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)

    return run


@pytest.fixture
def awx_env(emulator):
    """The variables AWX's built-in Azure credential injects, pointed at the emulator."""
    return awx_environment(emulator)


@pytest.fixture
def msi_env(emulator):
    """App Service style managed identity (IDENTITY_ENDPOINT / IDENTITY_HEADER)."""
    return {
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "IDENTITY_ENDPOINT": emulator.identity_endpoint,
        "IDENTITY_HEADER": emulator.identity_header,
        "AZURE_ARM_ENDPOINT": emulator.base_url,
        "REQUESTS_CA_BUNDLE": emulator.ca_file,
    }
