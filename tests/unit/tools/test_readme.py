# SPDX-License-Identifier: GPL-3.0-or-later
"""What the README promises: the supported ansible-core range, and the from-clone commands that work."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_supported_range_is_stated_once_and_matches_meta_runtime():
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    stated = re.findall(r"Supported ansible-core: `([^`]+)`", README)
    assert stated == [runtime["requires_ansible"]]
    requirements = (ROOT / "requirements-dev.txt").read_text(encoding="utf-8")
    upper = re.search(r"<\s*([0-9.]+)", runtime["requires_ansible"]).group(1)
    assert re.search(r"^ansible-core>=2\.17,<" + re.escape(upper.rsplit(".0", 1)[0]), requirements, re.M), \
        "requirements-dev.txt admits the same ansible-core range"


def test_the_from_clone_commands_work_in_a_clean_shell(tmp_path):
    block = README.split("## Working from a clone", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8"}  # no ANSIBLE_* from make
    run = subprocess.run(["bash", "-euo", "pipefail", "-c", block], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "privatelink.azure.private_endpoint_connection" in run.stdout
    assert "playbook: docs/examples/approve-pending.yml" in run.stdout
