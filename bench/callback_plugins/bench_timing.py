# SPDX-License-Identifier: GPL-3.0-or-later
"""Bench-only callback: one JSON line per task with its wall-clock start and end (and, for the policy
module, its ``summary``, ``stats`` and the number of decisions).

A task's time runs from ``v2_playbook_on_task_start`` (the controller is about to run it) to its
result (the module process has exited and its JSON is parsed), so it holds everything Ansible and
the module cost for that task and nothing of the playbook's start-up. Times are ``time.time()``,
the clock the emulator's request log uses, so the two can be compared.
"""

from __future__ import annotations

DOCUMENTATION = r"""
name: bench_timing
type: aggregate
short_description: Record each task's start and end time for the collection's benchmarks
description:
  - Appends one JSON line per task result to the file named by E(BENCH_TIMING_FILE).
options: {}
"""

import json
import os
import time

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_timing"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._started: dict[str, float] = {}
        self._path = os.environ.get("BENCH_TIMING_FILE")

    def _write(self, entry: dict) -> None:
        if self._path:
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(entry, default=str) + "\n")

    def v2_playbook_on_start(self, playbook):
        self._write({"event": "playbook_start", "time": time.time()})

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._started[task._uuid] = time.time()
        self._write({"event": "task_start", "task": task.get_name(), "time": self._started[task._uuid]})

    def v2_runner_item_on_ok(self, result):
        self._write({"event": "item", "task": result._task.get_name(), "time": time.time()})

    def v2_runner_item_on_failed(self, result):
        self._write({"event": "item", "task": result._task.get_name(), "time": time.time(), "failed": True})

    def _result(self, result, status: str) -> None:
        end = time.time()
        task = result._task
        entry = {
            "event": "task", "task": task.get_name(), "status": status, "start": self._started.get(task._uuid),
            "end": end, "changed": bool(result._result.get("changed")),
        }
        # The policy module's own accounts of its run (not its decisions: thousands on an estate).
        for key in ("summary", "stats"):
            if isinstance(result._result.get(key), dict):
                entry[key] = result._result[key]
        if isinstance(result._result.get("decisions"), list):
            entry["decisions"] = len(result._result["decisions"])
        if status == "failed":
            entry["msg"] = str(result._result.get("msg", ""))[:2000]
        self._write(entry)

    def v2_runner_on_ok(self, result):
        self._result(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, "failed")

    def v2_playbook_on_stats(self, stats):
        self._write({"event": "playbook_end", "time": time.time()})
