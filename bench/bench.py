# SPDX-License-Identifier: GPL-3.0-or-later
"""``make bench``: the performance figures of issue 6 and the estate of issue 12, measured in one run.

Everything runs on loopback against the ARM emulator (``armemu serve`` in its own process), with the
real azure-identity ClientSecretCredential, real ansible-playbook and the working tree's collection.
The table goes to stdout, to bench/RESULTS.md and, for the estate section, to bench/RESULTS-estate.md.
See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT / "tests" / "emulator"))
sys.path.insert(0, str(ROOT / ".build" / "collections"))

import seeds  # noqa: E402
from armemu import providers as emulated_types  # noqa: E402
from armemu.client import EmulatorControl  # noqa: E402
from seeds import median  # noqa: E402

from ansible_collections.privatelink.azure.plugins.module_utils._estate import MAX_WORKERS  # noqa: E402
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import POLICY  # noqa: E402

DEFAULT_CONCURRENCY = POLICY.spec["argument_spec"]["max_concurrent_writes"]["default"]

MODULE = "privatelink.azure.cosmosdb_private_endpoint_connection"
ROLE = "privatelink.azure.cosmosdb_connection_approval"
ROLE_DIR = ROOT / "roles" / "cosmosdb_connection_approval"
BIN = Path(sys.executable).parent


# "~1 poll per second on average": the schedule polls once early (0.5 s, approvals often end in under
# a second), then at most once a second, so a 2 s operation averages 3 polls in 2.5 s.
MAX_POLL_RATE = 1.2
FAR_BELOW_SERIAL = 0.6
SECTIONS = ("tasks", "runs", "imports", "memory", "overshoot", "bulk", "estate")


class Row(t.NamedTuple):
    figure: str
    value: str
    target: str
    ratio: str
    met: bool | None  # None: informative, no target


def fmt_s(seconds: float) -> str:
    return f"{seconds:.3f} s"


def fmt_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# -- the emulator ------------------------------------------------------------------------------------
class EmulatorProcess:
    """``python -m armemu serve`` in its own process, so its threads do not share our interpreter."""

    def __init__(self, workdir: Path) -> None:
        self.info_file = workdir / "emulator.json"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "emulator")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "armemu", "serve", "--info-file", str(self.info_file),
             "--state-dir", str(workdir / "emulator-state"), "--op-duration", "1", "--dequeued-polls", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=(workdir / "emulator.log").open("w"))
        deadline = time.monotonic() + 30
        while not self.info_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the emulator did not start; see {workdir / 'emulator.log'}")
            time.sleep(0.05)
        self.info = json.loads(self.info_file.read_text())
        # Generous: an estate's seed and request log are megabytes of JSON for a busy emulator.
        self.control = EmulatorControl(self.info["base_url"], self.info["ca_file"], timeout=300)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# -- ansible-playbook ----------------------------------------------------------------------------------
class Bench:
    def __init__(self, workdir: Path, emulator: EmulatorProcess) -> None:
        self.workdir = workdir
        self.emu = emulator
        self.control = emulator.control
        self.runs = 0
        home = workdir / "home"
        home.mkdir(exist_ok=True)
        self.env = {
            "PATH": os.environ["PATH"],
            "HOME": str(home),  # no ~/.azure/credentials or ansible.cfg from the machine
            "LANG": "C.UTF-8",
            "TMPDIR": str(workdir),  # the modules' per-connection lock files: this bench's own
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            "ANSIBLE_CALLBACK_PLUGINS": str(HERE / "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_timing",
            "ANSIBLE_LOCAL_TEMP": str(workdir / "ansible-local"),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
            # What AWX's Azure credential injects, pointed at the emulator.
            "AZURE_SUBSCRIPTION_ID": seeds.SUBSCRIPTION,
            "AZURE_CLIENT_ID": seeds.CLIENT_ID,
            "AZURE_SECRET": seeds.CLIENT_SECRET,
            "AZURE_TENANT": seeds.TENANT,
            "AZURE_ARM_ENDPOINT": emulator.info["base_url"],
            "AZURE_AUTHORITY_HOST": emulator.info["base_url"],
            "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
            "REQUESTS_CA_BUNDLE": emulator.info["ca_file"],
        }

    def playbook(self, tasks: list[dict[str, t.Any]], *, interpreter: str | None = None,
                 env: dict[str, str] | None = None, extra_args: t.Sequence[str] = (),
                 play_extra: dict[str, t.Any] | None = None, launcher: str | None = None) -> dict[str, t.Any]:
        """Run one play on localhost; return wall time, the callback's task timings and the output."""
        self.runs += 1
        path = self.workdir / f"play-{self.runs}.yml"
        timing = self.workdir / f"timing-{self.runs}.jsonl"
        play = {"hosts": "localhost", "gather_facts": False, "tasks": tasks, **(play_extra or {})}
        path.write_text(json.dumps([play]))  # JSON is YAML
        cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local",
               "-e", f"ansible_python_interpreter={interpreter or sys.executable}", *extra_args, str(path)]
        if launcher:
            cmd.insert(0, launcher)
        started = time.time()
        proc = subprocess.run(cmd, env={**self.env, "BENCH_TIMING_FILE": str(timing), **(env or {})},
                              capture_output=True, text=True, timeout=1800, check=False)
        elapsed = time.time() - started
        if proc.returncode != 0:
            raise RuntimeError(f"ansible-playbook failed (rc {proc.returncode}):\n{proc.stdout[-4000:]}\n"
                               f"{proc.stderr[-2000:]}")
        entries = [json.loads(line) for line in timing.read_text().splitlines()] if timing.exists() else []
        return {"wall": elapsed, "started": started, "tasks": [e for e in entries if e["event"] == "task"],
                "events": entries, "stdout": proc.stdout}

    def reset(self, seed: dict[str, t.Any], **config: t.Any) -> None:
        self.control.clear_faults()
        self.control.configure(**{"op_duration": 1.0, "dequeued_polls": 0, "retry_after": None, "throttle": None,
                                  **config})
        self.control.seed(seed)
        self.control.clear_requests()


def module_task(name: str, connection: str, account: str = seeds.account_name(0), *,
                module_process: bool = False) -> dict[str, t.Any]:
    """Our module's task; on the controller's process unless ``module_process`` (the switch documented
    in docs/guarantees.md, "Where the modules run")."""
    task = {"name": name, MODULE: {"resource_group": seeds.RESOURCE_GROUP, "account_name": account,
                                   "name": connection, "status": "Approved"}}
    if module_process:
        task["vars"] = {"privatelink_azure_run_on_controller": False}
    return task


def ping_task(name: str) -> dict[str, t.Any]:
    return {"name": name, "ansible.builtin.ping": {}}


# -- 1. one task: ping vs our module -----------------------------------------------------------------
def bench_tasks(bench: Bench, rounds: int, rows: list[Row], facts: dict[str, t.Any]) -> None:
    """Per-task times from one playbook of interleaved ping / no-op / change tasks.

    One warm-up of each kind comes first and is not counted (it loads the plugins and builds each
    module's AnsiballZ payload once per run, a cost every playbook pays once, not per task).
    """
    op = 1.0
    bench.reset(seeds.pending_seed(1, rounds + 1, approved=1), op_duration=op, dequeued_polls=0)
    approved = "pe-000-approved-000.bench"
    tasks = [ping_task("warm-up ping"), module_task("warm-up noop", approved),
             module_task("warm-up change", seeds.connection_name(0, rounds)),
             module_task("warm-up process", approved, module_process=True)]
    for i in range(rounds):
        tasks += [ping_task(f"ping {i}"), module_task(f"noop {i}", approved),
                  module_task(f"change {i}", seeds.connection_name(0, i)),
                  module_task(f"process {i}", approved, module_process=True)]
    run = bench.playbook(tasks)
    log = bench.control.requests()
    by_kind: dict[str, list[float]] = {"ping": [], "noop": [], "change": [], "change_work": [], "process": []}
    calls: dict[str, list[dict[str, int]]] = {"noop": [], "change": []}
    for entry in run["tasks"]:
        kind = entry["task"].split()[0]
        if kind == "warm-up":
            facts[f"first {entry['task'].split()[1]}"] = entry["end"] - entry["start"]
            continue
        took = entry["end"] - entry["start"]
        by_kind[kind].append(took)
        if kind in calls:
            window = seeds.in_window(log, entry["start"], entry["end"])
            calls[kind].append(seeds.classify_calls(window))
            if kind == "change":
                assert entry["changed"], entry
                put = next(e["time"] for e in window if e["kind"] == "arm" and e["method"] == "PUT")
                last_poll = max(e["time"] for e in window if e["kind"] == "operation")
                # The module's own work: the task minus the time it spent waiting for ARM.
                by_kind["change_work"].append(took - (last_poll - put))
            else:
                assert not entry["changed"], entry
    process = median(by_kind["process"])
    ping = median(by_kind["ping"])
    noop = median(by_kind["noop"])
    change = median(by_kind["change"])
    work = median(by_kind["change_work"])
    facts.update(ping=ping, noop=noop, change=change, change_work=work, task_op=op, calls=calls, process=process)
    rows.append(Row("ping task (median per task, callback)", fmt_s(ping), "reference", "1.00", None))
    rows.append(Row("module task, no-op path (changed=false)", fmt_s(noop), "<= 1.25 x ping",
                    f"{noop / ping:.2f}", noop <= 1.25 * ping))
    rows.append(Row(f"module task, change path minus the operation wait (op {op:g} s)", fmt_s(work),
                    "<= 1.25 x ping", f"{work / ping:.2f}", work <= 1.25 * ping))
    rows.append(Row(f"module task, change path as is (op {op:g} s, informative)", fmt_s(change), "-",
                    f"{change / ping:.2f}", None))
    rows.append(Row("module task as a module process, no-op (privatelink_azure_run_on_controller=false, "
                    "informative: the path of tasks on other hosts)", fmt_s(process), "-", f"{process / ping:.2f}",
                    None))
    rows.append(Row("first task of the playbook (loads plugins, builds AnsiballZ): ping / no-op",
                    f"{facts['first ping']:.3f} s / {facts['first noop']:.3f} s", "-",
                    f"{facts['first noop'] / facts['first ping']:.2f}", None))


def bench_whole_runs(bench: Bench, runs: int, rows: list[Row], facts: dict[str, t.Any]) -> None:
    """The other fair view: the whole ansible-playbook run of a one-task play (median of ``runs``)."""
    bench.reset(seeds.pending_seed(1, 0, approved=1))
    walls: dict[str, list[float]] = {"ping": [], "noop": []}
    for _unused in range(runs):
        walls["ping"].append(bench.playbook([ping_task("ping")])["wall"])
        walls["noop"].append(bench.playbook([module_task("noop", "pe-000-approved-000.bench")])["wall"])
    ping, noop = median(walls["ping"]), median(walls["noop"])
    facts.update(run_ping=ping, run_noop=noop)
    rows.append(Row("ansible-playbook run of a one-task play: ping", fmt_s(ping), "reference", "1.00", None))
    rows.append(Row("ansible-playbook run of a one-task play: module no-op", fmt_s(noop), "<= 1.25 x ping run",
                    f"{noop / ping:.2f}", noop <= 1.25 * ping))


# -- 2. import time ------------------------------------------------------------------------------------
IMPORT_PROBE = r"""
import sys, time
sys.path.insert(0, {collections!r})
started = time.perf_counter()
{statement}
print(time.perf_counter() - started)
"""


def timed_import(statement: str, runs: int) -> float:
    values = []
    for _unused in range(runs):
        code = IMPORT_PROBE.format(collections=str(ROOT / ".build" / "collections"), statement=statement)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        values.append(float(out.stdout.strip().splitlines()[-1]))
    return median(values)


def bench_imports(runs: int, rows: list[Row], facts: dict[str, t.Any]) -> None:
    """Timed imports, each in a fresh interpreter (median of ``runs``), measured in turn."""
    modules = "ansible_collections.privatelink.azure.plugins.modules"
    basic = timed_import("import ansible.module_utils.basic", runs)
    ours = timed_import(f"import {modules}.cosmosdb_private_endpoint_connection", runs)
    info = timed_import(f"import {modules}.cosmosdb_private_endpoint_connection_info", runs)
    # What a run imports in the end: the module, then the one credential class build_credential uses.
    full = timed_import(f"import {modules}.cosmosdb_private_endpoint_connection\n"
                        "from azure.identity import ClientSecretCredential", runs)
    facts.update(import_basic=basic, import_module=ours, import_full=full)
    rows.append(Row("import ansible.module_utils.basic (fresh interpreter)", fmt_ms(basic), "reference", "-", None))
    rows.append(Row("import cosmosdb_private_endpoint_connection", fmt_ms(ours), "<= basic + 100 ms",
                    f"+{(ours - basic) * 1000:.0f} ms", ours - basic <= 0.100))
    rows.append(Row("import cosmosdb_private_endpoint_connection_info", fmt_ms(info), "<= basic + 100 ms",
                    f"+{(info - basic) * 1000:.0f} ms", info - basic <= 0.100))
    rows.append(Row("module + azure.identity ClientSecretCredential (what a module process loads; on the "
                    "controller, ansible-playbook loads it once per run)", fmt_ms(full), "-",
                    f"+{(full - basic) * 1000:.0f} ms", None))


# -- 3. HTTP calls -----------------------------------------------------------------------------------
def describe_calls(counts: dict[str, int]) -> str:
    parts = [f"{counts[k]} {k}" for k in ("GET", "PUT", "polls", "token", "discovery", "other") if counts[k]]
    return ", ".join(parts) or "none"


def bench_calls(rows: list[Row], facts: dict[str, t.Any]) -> None:
    noop_counts = facts["calls"]["noop"]
    change_counts = facts["calls"]["change"]
    noop_ok = all(c["GET"] == 1 and c["PUT"] == 0 and c["polls"] == 0 and c["token"] == 1 and c["other"] == 0
                  for c in noop_counts)
    rows.append(Row("HTTP calls, no-op task (every run)", describe_calls(noop_counts[0]),
                    "1 ARM GET + token", "-", noop_ok and len({json.dumps(c) for c in noop_counts}) == 1))
    change_ok = all(c["GET"] == 2 and c["PUT"] == 1 and c["polls"] >= 1 and c["token"] == 1 and c["other"] == 0
                    for c in change_counts)
    polls = [c["polls"] for c in change_counts]
    rows.append(Row(f"HTTP calls, approval (op {facts['task_op']:g} s)", describe_calls(change_counts[0])
                    + f" (polls {min(polls)}-{max(polls)})",
                    "GET + PUT + polls + final GET + token", "-", change_ok))


# -- 4. polling overshoot --------------------------------------------------------------------------------
def bench_overshoot(bench: Bench, durations: t.Sequence[float], rows: list[Row], facts: dict[str, t.Any]) -> None:
    """How long after the operation ends (no Retry-After) the task ends, and the poll rate."""
    for duration in durations:
        bench.reset(seeds.pending_seed(1, 1), op_duration=duration, dequeued_polls=0)
        run = bench.playbook([module_task(f"approve op {duration:g} s", seeds.connection_name(0, 0))])
        task = run["tasks"][0]
        log = bench.control.requests()
        put = next(e["time"] for e in log if e["kind"] == "arm" and e["method"] == "PUT")
        polls = [e for e in log if e["kind"] == "operation"]
        overshoot = task["end"] - (put + duration)
        rate = len(polls) / (polls[-1]["time"] - put)
        limit = seeds.overshoot_limit(duration)
        facts[f"overshoot {duration:g}"] = overshoot
        rows.append(Row(f"operation {duration:g} s, no Retry-After: op end -> task end "
                        f"({len(polls)} polls, {rate:.2f}/s)", fmt_s(overshoot),
                        f"<= {limit:.1f} s, <= ~1 poll/s", f"{overshoot / limit:.2f}",
                        overshoot <= limit and rate <= MAX_POLL_RATE))


# -- 5. memory ---------------------------------------------------------------------------------------------
MAXRSS_WRAPPER = """#!{python}
# Bench-only wrapper: runs a Python program (the module, as ansible_python_interpreter; or
# ansible-playbook, as launcher) with the real interpreter and records the peak RSS of its largest process.
import os, resource, subprocess, sys
rc = subprocess.call([{python!r}, *sys.argv[1:]])
with open(os.environ["BENCH_MAXRSS_FILE"], "a", encoding="utf-8") as handle:
    handle.write(f"{{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}\\n")
sys.exit(rc)
"""


def bench_memory(bench: Bench, rows: list[Row], facts: dict[str, t.Any]) -> None:
    """Peak RSS: of the module process (module-process path), and of ansible-playbook's largest
    process (the controller path, where the module runs in a worker forked from it)."""
    wrapper = bench.workdir / "maxrss-python"
    wrapper.write_text(MAXRSS_WRAPPER.format(python=sys.executable))
    wrapper.chmod(0o755)
    bench.reset(seeds.pending_seed(1, 2, approved=1), op_duration=0.5, dequeued_polls=0)
    peaks: dict[str, float] = {}
    for kind, task in (("ping", ping_task("ping")),
                       ("noop", module_task("noop", "pe-000-approved-000.bench", module_process=True)),
                       ("change", module_task("change", seeds.connection_name(0, 0), module_process=True))):
        record = bench.workdir / f"maxrss-{kind}.txt"
        bench.playbook([task], interpreter=str(wrapper), env={"BENCH_MAXRSS_FILE": str(record)})
        peaks[kind] = max(int(line) for line in record.read_text().split()) / 1024  # KiB -> MiB
    for kind, task in (("ping play", ping_task("ping")),
                       ("noop play", module_task("noop", "pe-000-approved-000.bench")),
                       ("change play", module_task("change", seeds.connection_name(0, 1)))):
        record = bench.workdir / f"maxrss-{kind.replace(' ', '-')}.txt"
        bench.playbook([task], launcher=str(wrapper), env={"BENCH_MAXRSS_FILE": str(record)})
        peaks[kind] = max(int(line) for line in record.read_text().split()) / 1024
    facts.update(rss=peaks)
    rows.append(Row("peak RSS of the module process: ping", f"{peaks['ping']:.1f} MiB", "reference", "1.00", None))
    for kind, label in (("noop", "no-op"), ("change", "approval")):
        rows.append(Row(f"peak RSS of the module process (module-process path): {label}", f"{peaks[kind]:.1f} MiB",
                        "compared with ping", f"{peaks[kind] / peaks['ping']:.2f}", None))
    rows.append(Row("peak RSS of ansible-playbook's largest process: ping play", f"{peaks['ping play']:.1f} MiB",
                    "reference", "1.00", None))
    for kind, label in (("noop play", "no-op"), ("change play", "approval")):
        rows.append(Row(f"peak RSS of ansible-playbook's largest process, module on the controller: {label}",
                        f"{peaks[kind]:.1f} MiB", "compared with ping play",
                        f"{peaks[kind] / peaks['ping play']:.2f}", None))


# -- 6. bulk approvals through the role ---------------------------------------------------------------------
def role_play(accounts: int, **extra_vars: t.Any) -> dict[str, t.Any]:
    """A play of the approval role alone over the first ``accounts`` bench accounts."""
    return {"roles": [{"role": ROLE, "vars": {
        "cosmosdb_connection_approval_accounts": [
            {"subscription_id": seeds.SUBSCRIPTION, "resource_group": seeds.RESOURCE_GROUP,
             "account_name": seeds.account_name(a)} for a in range(accounts)],
        "cosmosdb_connection_approval_allowed_subscriptions": list(seeds.ALLOWED_SUBSCRIPTIONS),
        **extra_vars,
    }}]}


def bench_role(bench: Bench, total: int, accounts: int, op: float, rows: list[Row], facts: dict[str, t.Any]) -> None:
    per_account = total // accounts
    bench.reset(seeds.pending_seed(accounts, per_account, approved=1, others=1), op_duration=op, dequeued_polls=0)
    run = bench.playbook([], play_extra=role_play(
        accounts, cosmosdb_connection_approval_description="Approved by the bench"))
    log = bench.control.requests()
    puts = [e for e in log if e["kind"] == "arm" and e["method"] == "PUT"]
    state = bench.control.state()
    approved = sum(1 for account in state["accounts"] for c in account["connections"]
                   if "-approved-" not in c["name"] and "-other-" not in c["name"]
                   and c["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved")
    if approved != total or len(puts) != total:
        raise RuntimeError(f"the role approved {approved} connections with {len(puts)} PUTs, expected {total}")
    wall = run["wall"]
    overhead = facts["noop"]
    limit = seeds.bulk_limit(op, total, overhead)
    serial = total * (op + facts["change_work"])
    facts[f"role {total}"] = wall
    facts["role per item"] = wall / total
    facts.setdefault("notes", []).append(f"{total} approvals via the role, where the time goes: "
                                         + role_breakdown(run["events"], run["started"] + wall))
    # "Far below the serial sum": with short operations the serial sum is only about twice the ideal
    # (one operation + N tasks), so "far below" is read as at most FAR_BELOW_SERIAL of it.
    rows.append(Row(f"{total} approvals via the role ({accounts} accounts, op {op:g} s; serial sum "
                    f"{serial:.0f} s, {wall / serial:.2f} of it)", fmt_s(wall),
                    f"<= 1.5 x ({op:g} + {total} x {overhead:.2f}) = {limit:.0f} s, <= {FAR_BELOW_SERIAL} x serial",
                    f"{wall / limit:.2f}", wall <= limit and wall <= FAR_BELOW_SERIAL * serial))


# Issue 3's done-when: "completes in well under one minute", read as at most half a minute.
POLICY_PLAY_LIMIT = 30.0


def bench_policy_play(bench: Bench, op: float, rows: list[Row], facts: dict[str, t.Any]) -> None:
    """Issue 3's play: 5 accounts x 10 pending connections from 3 subscriptions (2 allowed), the role
    alone, then the same play again (nothing to change)."""
    accounts, per_account = 5, 10
    bench.reset(seeds.policy_seed(accounts, per_account), op_duration=op, dequeued_polls=0)
    play = role_play(accounts)
    runs = []
    for _unused in range(2):
        run = bench.playbook([], play_extra=play)
        puts = [e for e in bench.control.requests() if e["kind"] == "arm" and e["method"] == "PUT"]
        changed = sum(1 for e in run["tasks"] if e["changed"])
        runs.append((run["wall"], len(puts), changed))
        bench.control.clear_requests()
    state = bench.control.state()
    statuses = [c["properties"]["privateLinkServiceConnectionState"]["status"]
                for account in state["accounts"] for c in account["connections"]]
    approved, left = statuses.count("Approved"), statuses.count("Pending")
    (first, first_puts, _changed), (again, again_puts, again_changed) = runs
    rows.append(Row(f"issue 3's play: role alone, {accounts} accounts x {per_account} pending from 3 subscriptions "
                    f"(2 allowed), op {op:g} s: {approved} approved with {first_puts} writes, {left} left pending",
                    fmt_s(first), f"well under 1 min (<= {POLICY_PLAY_LIMIT:.0f} s)",
                    f"{first / POLICY_PLAY_LIMIT:.2f}",
                    first <= POLICY_PLAY_LIMIT and approved == first_puts == 35 and left == 15))
    rows.append(Row(f"issue 3's play again: {again_puts} writes, {again_changed} tasks changed", fmt_s(again),
                    "no write, changed=0", "-", again_puts == 0 and again_changed == 0))


def role_breakdown(events: list[dict[str, t.Any]], end: float) -> str:
    """Seconds per task of the role run (task start to the next task's start), with item counts."""
    starts = [e for e in events if e["event"] == "task_start"]
    parts = []
    for index, entry in enumerate(starts):
        stop = starts[index + 1]["time"] if index + 1 < len(starts) else end
        items = sum(1 for e in events if e["event"] == "item" and e["task"] == entry["task"])
        if stop - entry["time"] >= 0.5:
            per_item = f", {items} items, {(stop - entry['time']) / items:.2f} s each" if items else ""
            parts.append(f"{entry['task']!r} {stop - entry['time']:.1f} s{per_item}")
    return "; ".join(parts)


# -- 7. the policy module over an estate (issue 12) ----------------------------------------------------------
POLICY_MODULE = "privatelink.azure.private_endpoint_connection_policy"
ESTATE_PLAN_LIMIT = 20.0
ESTATE_APPLY_LIMIT = 90.0
ESTATE_RSS_LIMIT = 300.0
# ARM's subscription buckets as the emulator's throttle has them by default (armemu/throttle.py).
ARM_THROTTLE = {"enabled": True, "reads": [250, 25], "writes": [200, 10], "deletes": [200, 10]}
WRITE_METHODS = ("PUT", "PATCH", "DELETE")


def policy_task(subscriptions: t.Sequence[str], discovery: str, **options: t.Any) -> dict[str, t.Any]:
    return {"name": f"policy ({discovery})", POLICY_MODULE: {
        "scope": {"subscriptions": list(subscriptions)}, "rules": seeds.estate_rules(), "discovery": discovery,
        **options}}


def long_running_types() -> set[str]:
    """Types whose approval runs an operation in the emulator (the others answer the write at once)."""
    return {row.resource_type for row in emulated_types.PROVIDERS if row.style != "sync"}


def collection_types() -> int:
    """How many types the policy module lists per subscription with ``discovery: arm`` (its provider table)."""
    sys.path.insert(0, str(ROOT / ".build" / "collections"))
    from ansible_collections.privatelink.azure.plugins.module_utils._providers import PROVIDERS
    return len(PROVIDERS)


class EstateRun(t.NamedTuple):
    wall: float
    task: dict[str, t.Any]
    log: list[dict[str, t.Any]]
    rss: float  # MiB, ansible-playbook's largest process

    @property
    def task_time(self) -> float:
        return self.task["end"] - self.task["start"]

    @property
    def writes(self) -> list[dict[str, t.Any]]:
        """The writes ARM applied (a throttled or refused request is not a write)."""
        return [e for e in self.log if e["kind"] == "arm" and e["method"] in WRITE_METHODS and e["status"] < 400]

    @property
    def throttled(self) -> int:
        return sum(1 for e in self.log if e["status"] == 429)


def run_estate_play(bench: Bench, task: dict[str, t.Any], *, check: bool = False) -> EstateRun:
    """One play of the policy task, under the RSS-recording launcher; the emulator's log of it."""
    wrapper = bench.workdir / "maxrss-python"
    if not wrapper.exists():
        wrapper.write_text(MAXRSS_WRAPPER.format(python=sys.executable))
        wrapper.chmod(0o755)
    record = bench.workdir / f"maxrss-estate-{bench.runs + 1}.txt"
    bench.control.clear_requests()
    run = bench.playbook([task], extra_args=["--check"] if check else [], launcher=str(wrapper),
                         env={"BENCH_MAXRSS_FILE": str(record)})
    tasks = [e for e in run["tasks"] if e["task"] == task["name"]]
    if len(tasks) != 1 or tasks[0]["status"] != "ok":
        raise RuntimeError(f"the policy task did not succeed: {tasks}")
    rss = max(int(line) for line in record.read_text().split()) / 1024
    return EstateRun(run["wall"], tasks[0], bench.control.requests(), rss)


def lowest_remaining(log: t.Iterable[t.Mapping[str, t.Any]]) -> str:
    """The lowest x-ms-ratelimit-remaining-subscription-* header the emulator sent, per kind."""
    lowest: dict[str, int] = {}
    for entry in log:
        for name, value in (entry.get("response_headers") or {}).items():
            prefix = "x-ms-ratelimit-remaining-subscription-"
            if name.lower().startswith(prefix) and "global" not in name.lower() and str(value).isdigit():
                kind = name.lower()[len(prefix):]
                lowest[kind] = min(lowest.get(kind, int(value)), int(value))
    return ", ".join(f"{kind} {value}" for kind, value in sorted(lowest.items())) or "no header seen"


def measure_write_overhead(bench: Bench) -> tuple[float, int]:
    """The module's own cost of one write, serially: on one subscription of Storage accounts (whose writes
    answer at once), (apply task - check task) / writes with max_concurrent_writes 1."""
    seed = seeds.estate_seed(1, 100, 5)
    seed["resources"] = [dict(r, type="Microsoft.Storage/storageAccounts") for r in seed["resources"]]
    bench.reset(seed)
    subscriptions = [seeds.estate_subscription(0)]
    task = policy_task(subscriptions, "resource_graph", max_concurrent_writes=1)
    check = run_estate_play(bench, task, check=True)
    apply = run_estate_play(bench, task)
    writes = len(apply.writes)
    return (apply.task_time - check.task_time) / max(1, writes), writes


def bench_estate(bench: Bench, shape: tuple[int, int, int], op: float, latency: float, rows: list[Row],
                 facts: dict[str, t.Any]) -> None:
    """The policy module once over an estate: check mode with each discovery, apply, re-run."""
    overhead, probe_writes = measure_write_overhead(bench)
    subscriptions_n, per_subscription, per_resource = shape
    seed = seeds.estate_seed(subscriptions_n, per_subscription, per_resource)
    expected = seeds.estate_expected(seed)
    subscriptions = [seeds.estate_subscription(i) for i in range(subscriptions_n)]
    bench.reset(seed, op_duration=op, dequeued_polls=0, throttle=ARM_THROTTLE)
    planned = sum(expected["writes"].values())
    shape_text = (f"{expected['subscriptions']} subscriptions, {expected['resources']} resources, "
                  f"{expected['connections']} connections")
    notes = facts.setdefault("notes", [])

    runs: dict[str, EstateRun] = {}
    for discovery in ("resource_graph", "arm"):
        runs[discovery] = run_estate_play(bench, policy_task(subscriptions, discovery), check=True)
    if latency:
        # On loopback an ARM read costs about a millisecond; real ARM answers in tens to hundreds. Every
        # sequential read of discovery pays that, so the plan is measured once more with it.
        bench.control.add_fault("delay", kind="arm", method="GET", times=None, seconds=latency)
        for discovery in ("resource_graph", "arm"):
            runs[f"{discovery} latency"] = run_estate_play(bench, policy_task(subscriptions, discovery), check=True)
        bench.control.clear_faults()
    runs["apply"] = run_estate_play(bench, policy_task(subscriptions, "resource_graph"))
    runs["again"] = run_estate_play(bench, policy_task(subscriptions, "resource_graph"))

    types, listed = collection_types(), expected["listed"]
    graph_expected = seeds.graph_calls(expected["graph_pages"], listed)
    arm_expected = seeds.arm_calls(types, expected["subscriptions"], listed)
    formulas = {
        "resource_graph": (graph_expected, f"{expected['graph_pages']} pages + {listed} per-resource lists "
                                           f"= {graph_expected}"),
        "arm": (arm_expected, f"{types} types x {expected['subscriptions']} subscriptions + {listed} per-resource "
                              f"lists = {arm_expected}"),
    }
    for discovery, (formula_calls, formula) in formulas.items():
        run = runs[discovery]
        stats = run.task.get("stats") or {}
        summary = run.task.get("summary") or {}
        right = (not run.writes and summary.get("writes") == planned and stats.get("connections")
                 == expected["connections"] and run.task.get("decisions") == expected["connections"])
        target = f"<= {ESTATE_PLAN_LIMIT:.0f} s" if discovery == "resource_graph" else "- (informative)"
        met = (run.wall <= ESTATE_PLAN_LIMIT and right) if discovery == "resource_graph" else (None if right else False)
        rows.append(Row(f"estate: check-mode plan, discovery {discovery} ({shape_text}; {summary.get('writes')} "
                        f"writes planned, {len(run.writes)} written)", fmt_s(run.wall), target,
                        f"{run.wall / ESTATE_PLAN_LIMIT:.2f}", met))
        calls = stats.get("discovery_calls")
        rows.append(Row(f"estate: discovery calls, {discovery}", str(calls), f"= {formula}", "-",
                        calls == formula_calls))
        if latency:
            slow = runs[f"{discovery} latency"]
            rows.append(Row(f"estate: check-mode plan, discovery {discovery}, every ARM GET {latency * 1000:.0f} ms "
                            "slower (emulated latency; informative: discovery's sequential reads at a real ARM's "
                            "latency)", fmt_s(slow.wall), f"- (the <= {ESTATE_PLAN_LIMIT:.0f} s above)",
                            f"{slow.wall / ESTATE_PLAN_LIMIT:.2f}", None))
        notes.append(f"estate check mode, {discovery}: task {run.task_time:.1f} s of "
                     f"{run.wall:.1f} s; stats {json.dumps(stats, sort_keys=True)}; 429s {run.throttled}; "
                     f"peak RSS {run.rss:.0f} MiB")

    apply = runs["apply"]
    written = len(apply.writes)
    long_running = long_running_types()
    serial = seeds.serial_sum(expected["writes"], long_running, op, overhead)
    slow = sum(count for rtype, count in expected["writes"].items() if rtype in long_running)
    outcomes = (apply.task.get("summary") or {}).get("by_outcome") or {}
    right = written == planned == outcomes.get("approved") and len({e["path"] for e in apply.writes}) == written
    rows.append(Row(f"estate: apply, {written} writes ({slow} run a {op:g} s operation, {written - slow} answer at "
                    f"once; serial sum {slow} x ({op:g} + {overhead:.3f}) + {written - slow} x {overhead:.3f} = "
                    f"{serial:.0f} s, {apply.wall / serial:.2f} of it)", fmt_s(apply.wall),
                    f"<= {ESTATE_APPLY_LIMIT:.0f} s", f"{apply.wall / ESTATE_APPLY_LIMIT:.2f}",
                    apply.wall <= ESTATE_APPLY_LIMIT and right))
    throttled = sum(run.throttled for run in runs.values())
    rows.append(Row("estate: 429s received (every estate run: check modes, apply, re-run; default "
                    "max_concurrent_writes, ARM's buckets)", f"{throttled} ({apply.throttled} in apply)", "0", "-",
                    throttled == 0))
    peak = max(run.rss for run in runs.values())
    rows.append(Row("estate: peak RSS of ansible-playbook's largest process (apply / any estate run)",
                    f"{apply.rss:.1f} / {peak:.1f} MiB", f"<= {ESTATE_RSS_LIMIT:.0f} MiB",
                    f"{peak / ESTATE_RSS_LIMIT:.2f}", peak <= ESTATE_RSS_LIMIT))
    again = runs["again"]
    rows.append(Row(f"estate: re-run, {len(again.writes)} writes, changed={str(again.task['changed']).lower()}",
                    fmt_s(again.wall), "0 writes, changed=false", "-",
                    not again.writes and not again.task["changed"]))
    notes.append(f"estate apply: task {apply.task_time:.1f} s of {apply.wall:.1f} s; "
                 f"stats {json.dumps(apply.task.get('stats'), sort_keys=True)}; outcomes "
                 f"{json.dumps(outcomes, sort_keys=True)}; writes by type {json.dumps(expected['writes'])}")
    spans = seeds.write_spans(apply.log)
    busy = [end - start for start, end in spans]
    workers = min(MAX_WORKERS, DEFAULT_CONCURRENCY * expected["subscriptions"], written)
    subscriptions = expected["subscriptions"]
    notes.append(f"estate apply, writes in flight at most {seeds.peak_overlap(spans)} (the module runs "
                 f"min({MAX_WORKERS}, max_concurrent_writes {DEFAULT_CONCURRENCY} x {subscriptions} subscriptions) = "
                 f"{workers} "
                 f"threads); a write took {median(busy) if busy else 0:.2f} s (median, re-read to last request), "
                 f"{sum(busy):.0f} s in all, {sum(busy) / workers:.1f} s spread over {workers} threads")
    notes.append(f"estate apply, HTTP calls: {describe_calls(seeds.classify_calls(apply.log))}; lowest "
                 f"remaining in a subscription's buckets (throttle on): {lowest_remaining(apply.log)}")
    notes.append(f"estate per-write overhead {overhead * 1000:.0f} ms: (apply - check) / {probe_writes} writes, "
                 "one subscription of Storage accounts (writes answer at once), max_concurrent_writes 1")


# -- the report -----------------------------------------------------------------------------------------
def versions() -> dict[str, str]:
    from importlib import metadata
    found = {}
    for name in ("ansible-core", "azure-identity", "azure-core", "msal", "requests", "urllib3", "cryptography"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def machine() -> dict[str, str]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, check=False).stdout.strip() or "unknown"
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "plugins"],
                           capture_output=True, text=True, check=False).stdout.strip()
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": f"{platform.node()}: {cpu}, {os.cpu_count()} CPUs, "
                   f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {platform.platform()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "commit": commit + (" (plugins/ has uncommitted changes)" if dirty else ""),
        "load": "load average at start: " + ", ".join(f"{v:.2f}" for v in os.getloadavg()),
    }


def render(rows: list[Row], about: dict[str, str], params: str, notes: t.Sequence[str] = ()) -> str:
    def mark(met: bool | None) -> str:
        return "-" if met is None else ("met" if met else "MISSED")

    lines = ["| figure | measured | target | ratio | |", "|---|---|---|---|---|"]
    lines += [f"| {r.figure} | {r.value} | {r.target} | {r.ratio} | {mark(r.met)} |" for r in rows]
    head = [f"- {key}: {value}" for key, value in about.items()]
    head.append("- versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    head.append(f"- parameters: {params}")
    tail = [f"- {note}" for note in notes]
    return "\n".join(head) + "\n\n" + "\n".join(lines) + "\n" + ("\n" + "\n".join(tail) + "\n" if tail else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=9, help="interleaved ping/no-op/change tasks (default 9)")
    parser.add_argument("--runs", type=int, default=5, help="whole-playbook and import repetitions (default 5)")
    parser.add_argument("--overshoot", default="2,5,10,30", help="operation durations in seconds")
    parser.add_argument("--bulk", default="50,500", help="role approval counts ('' to skip)")
    parser.add_argument("--bulk-op", type=float, default=2.0, help="operation duration for the role runs")
    parser.add_argument("--budget", type=float, default=840.0,
                        help="seconds the whole bench may take; a role batch projected to overrun it is skipped "
                             "and reported as projected (default 840)")
    parser.add_argument("--estate", default="20,100,5",
                        help="the estate: subscriptions, resources per subscription, connections per resource "
                             "(default 20,100,5: 2,000 resources, 10,000 connections)")
    parser.add_argument("--estate-op", type=float, default=2.0, help="operation duration for the estate runs")
    parser.add_argument("--estate-latency", type=float, default=0.1,
                        help="seconds added to every ARM GET for the informative check-mode runs at a real ARM's "
                             "latency (default 0.1; 0 skips them)")
    parser.add_argument("--sections", default=",".join(SECTIONS),
                        help=f"comma-separated subset of {','.join(SECTIONS)} (tasks runs with any but estate: "
                             "their targets are relative to it)")
    parser.add_argument("--output", default=str(HERE / "RESULTS.md"),
                        help="where to write the table of every section but estate")
    parser.add_argument("--estate-output", default=str(HERE / "RESULTS-estate.md"),
                        help="where to write the estate section's table")
    args = parser.parse_args(argv)

    about = machine()
    rows: list[Row] = []
    estate_rows: list[Row] = []
    facts: dict[str, t.Any] = {}
    workdir = Path(tempfile.mkdtemp(prefix="privatelink-bench-"))
    emulator = EmulatorProcess(workdir)
    started = time.monotonic()
    try:
        bench = Bench(workdir, emulator)
        wanted = set(args.sections.split(","))
        unknown = wanted - set(SECTIONS)
        if unknown:
            parser.error(f"unknown sections {sorted(unknown)}; known: {','.join(SECTIONS)}")
        if wanted - {"estate"}:
            wanted.add("tasks")
        steps: list[tuple[str, t.Callable[[], None]]] = [
            (title, step) for section, title, step in (
                ("tasks", "one task: ping vs module", lambda: bench_tasks(bench, args.rounds, rows, facts)),
                ("tasks", "HTTP calls", lambda: bench_calls(rows, facts)),
                ("runs", "whole playbook runs", lambda: bench_whole_runs(bench, args.runs, rows, facts)),
                ("imports", "import time", lambda: bench_imports(args.runs, rows, facts)),
                ("memory", "memory", lambda: bench_memory(bench, rows, facts)),
                ("overshoot", "poll overshoot", lambda: bench_overshoot(
                    bench, [float(d) for d in args.overshoot.split(",") if d], rows, facts)),
            ) if section in wanted]
        if "bulk" in wanted:
            steps.append(("issue 3's play (the role alone)",
                          lambda: bench_policy_play(bench, args.bulk_op, rows, facts)))
        for count in [int(c) for c in args.bulk.split(",") if c and "bulk" in wanted]:
            accounts = 5 if count <= 50 else 10
            steps.append((f"{count} approvals via the role",
                          lambda count=count, accounts=accounts: bench_role(
                              bench, count, accounts, args.bulk_op, rows, facts)))
        if "estate" in wanted:
            shape = tuple(int(part) for part in args.estate.split(","))
            steps.append(("the policy module over an estate", lambda: bench_estate(
                bench, shape, args.estate_op, args.estate_latency, estate_rows, facts)))  # type: ignore[arg-type]
        for title, step in steps:
            print(f"bench: {title} ...", file=sys.stderr, flush=True)
            if title.endswith("via the role") and not (ROLE_DIR / "tasks" / "main.yml").exists():
                rows.append(Row(title, "not measured", "-", "-", False))
                print(f"bench: {ROLE} does not exist yet; skipped", file=sys.stderr)
                continue
            if title.endswith("via the role") and facts.get("role per item"):
                # Keep `make bench` within its budget: project a large batch from the last one measured.
                count = int(title.split()[0])
                projected = facts["role per item"] * count
                left = args.budget - (time.monotonic() - started)
                if projected > left:
                    limit = seeds.bulk_limit(args.bulk_op, count, facts["noop"])
                    rows.append(Row(f"{title}: NOT RUN, projected from the last batch ({projected:.0f} s > the "
                                    f"{left:.0f} s left of --budget)", f"~{projected:.0f} s (projected)",
                                    f"<= {limit:.0f} s", f"{projected / limit:.2f}", None))
                    print(f"bench: skipped, projected {projected:.0f} s > {left:.0f} s left", file=sys.stderr)
                    continue
            step_started = time.monotonic()
            step()
            print(f"bench:   {time.monotonic() - step_started:.0f} s", file=sys.stderr, flush=True)
    finally:
        emulator.stop()
    elapsed = time.monotonic() - started
    params = (f"{args.rounds} interleaved rounds of ping/no-op/change tasks (1 s operations), {args.runs} "
              f"whole runs and fresh-interpreter imports each, overshoot operations {args.overshoot} s, role "
              f"approvals {args.bulk or 'skipped'} with {args.bulk_op:g} s operations; bench took {elapsed:.0f} s")
    notes = facts.get("notes", [])
    estate_params = (f"estate {args.estate} (subscriptions, resources per subscription, connections per resource), "
                     f"{args.estate_op:g} s operations, ARM throttle on, {args.estate_latency * 1000:.0f} ms ARM read "
                     f"latency for the informative runs; bench took {elapsed:.0f} s")
    print(render(rows + estate_rows, about, params if rows else estate_params, notes))
    header = ("<!-- SPDX-License-Identifier: GPL-3.0-or-later -->\n# Benchmark results (`make bench`{})\n\n"
              "Written by bench/bench.py; bench/README.md says how each figure is measured.{}\n\n")
    # Each file holds the sections that wrote it, so running one part leaves the other's figures alone.
    if rows:
        Path(args.output).write_text(header.format("", " The estate section is in RESULTS-estate.md.")
                                     + render(rows, about, params, [n for n in notes if not n.startswith("estate")]))
    if estate_rows:
        Path(args.estate_output).write_text(
            header.format(", estate section", " The other sections are in RESULTS.md.")
            + render(estate_rows, about, estate_params, [n for n in notes if n.startswith("estate")]))
    shutil.rmtree(workdir, ignore_errors=True)
    missed = [r.figure for r in rows + estate_rows if r.met is False]
    if missed:
        print("bench: targets missed: " + "; ".join(missed), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
