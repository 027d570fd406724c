# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a real ``ansible-playbook`` over local hosts and read back every task result.

Results come from the test-only callback ``record_results`` (callback_plugins/), one JSON line
per task result, so tests assert on data instead of parsing the screen.
"""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str
    results: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rc(self) -> int:
        return self.returncode

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def result(self, index: int = -1) -> dict:
        return self.results[index]["result"]


def _prepare(workdir: Path, plays: list[dict[str, t.Any]], env: dict[str, str], *,
             hosts: dict[str, dict[str, t.Any]] | None, check: bool, diff: bool, verbosity: int,
             forks: int, limit: str | None = None) -> tuple[list[str], dict[str, str], Path]:
    """The command, its environment and the results file of one ansible-playbook run."""
    workdir.mkdir(parents=True, exist_ok=True)
    run_id = f"{time.monotonic_ns()}"
    playbook = workdir / f"play-{run_id}.yml"
    playbook.write_text(json.dumps(plays))  # JSON is YAML
    inventory = workdir / f"inventory-{run_id}.json"
    inventory.write_text(json.dumps({"all": {"hosts": {
        host: {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, **hostvars}
        for host, hostvars in (hosts or {"localhost": {}}).items()}}}))
    records = workdir / f"results-{run_id}.jsonl"
    run_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(workdir),  # no ~/.azure/credentials or ansible.cfg from the machine
        "LANG": "C.UTF-8",
        "TMPDIR": str(workdir),
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
        "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": "record_results",
        "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_FORKS": str(forks),
        "RECORD_RESULTS_FILE": str(records),
        **env,
    }
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(inventory), str(playbook)]
    if check:
        cmd.append("--check")
    if diff:
        cmd.append("--diff")
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    if limit:
        cmd += ["--limit", limit]
    return cmd, run_env, records


def _results(records: Path) -> list[dict]:
    return [json.loads(line) for line in records.read_text().splitlines()] if records.exists() else []


def ansible_playbook(workdir: Path, plays: list[dict[str, t.Any]], env: dict[str, str], *,
                     hosts: dict[str, dict[str, t.Any]] | None = None, check: bool = False, diff: bool = False,
                     verbosity: int = 0, forks: int = 5, timeout: int = 600, limit: str | None = None) -> PlaybookRun:
    """Run ``plays`` over ``hosts`` (default: localhost), all with the local connection and this
    Python, in an environment made only of ``env`` and what ansible-playbook itself needs."""
    cmd, run_env, records = _prepare(workdir, plays, env, hosts=hosts, check=check, diff=diff, verbosity=verbosity,
                                     forks=forks, limit=limit)
    started = time.monotonic()
    proc = subprocess.run(cmd, env=run_env, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, _results(records), seconds)


@dataclass
class StreamedRun(PlaybookRun):
    """A run whose standard output was read as it was written: (seconds since the start, line)."""

    lines: list[tuple[float, str]] = field(default_factory=list)


def ansible_playbook_streaming(workdir: Path, plays: list[dict[str, t.Any]], env: dict[str, str], *,
                               hosts: dict[str, dict[str, t.Any]] | None = None, verbosity: int = 0,
                               timeout: int = 600) -> StreamedRun:
    """Like ``ansible_playbook``, but stdout is a terminal (a pty, so line-buffered as a person's screen
    is) and each line is timestamped when it arrives: what someone watching sees while a task runs."""
    cmd, run_env, records = _prepare(workdir, plays, env, hosts=hosts, check=False, diff=False, verbosity=verbosity,
                                     forks=5)
    lines: list[tuple[float, str]] = []
    started = time.monotonic()
    screen, terminal = pty.openpty()
    with tempfile.TemporaryFile("w+") as stderr:
        try:
            with subprocess.Popen(cmd, env=run_env, stdin=subprocess.DEVNULL, stdout=terminal, stderr=stderr) as proc:
                os.close(terminal)
                terminal = -1
                pending = b""
                while time.monotonic() - started < timeout:
                    if not select.select([screen], [], [], 1.0)[0]:
                        continue
                    try:
                        chunk = os.read(screen, 65536)
                    except OSError:  # EIO: every writer of the terminal is gone
                        break
                    if not chunk:
                        break
                    arrived = time.monotonic() - started
                    pending += chunk
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        lines.append((arrived, line.decode(errors="replace").rstrip("\r")))
                else:
                    proc.kill()
                returncode = proc.wait(timeout=timeout)
        finally:
            os.close(screen)
            if terminal >= 0:
                os.close(terminal)
        seconds = time.monotonic() - started
        stderr.seek(0)
        errors = stderr.read()
    stdout = "\n".join(line for _at, line in lines)
    return StreamedRun(returncode, stdout, errors, _results(records), seconds, lines)


def run_ansible(workdir: Path, hosts: dict[str, dict[str, t.Any]], tasks: list[dict[str, t.Any]],
                env: dict[str, str], verbosity: int = 0, forks: int = 10) -> tuple[PlaybookRun, list[dict]]:
    """One play of ``tasks`` over several local hosts at once (a row per host in the matrix tests)."""
    run = ansible_playbook(workdir, [{"hosts": "all", "gather_facts": False, "tasks": tasks}], env,
                           hosts=hosts, verbosity=verbosity, forks=forks)
    return run, run.results
