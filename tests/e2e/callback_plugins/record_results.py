# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: appends every task result as one JSON line to $RECORD_RESULTS_FILE."""

from __future__ import annotations

DOCUMENTATION = r"""
name: record_results
type: aggregate
short_description: Record task results for the collection's tests
description:
  - Appends each task result as a JSON line to the file named by E(RECORD_RESULTS_FILE).
options: {}
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "record_results"
    CALLBACK_NEEDS_ENABLED = True

    def _record(self, result, status):
        path = os.environ.get("RECORD_RESULTS_FILE")
        if not path:
            return
        recorded = dict(result._result)
        # What a registered variable shows; ansible-core 2.19 no longer keeps it in _result.
        recorded.setdefault("failed", status == "failed")
        entry = {"task": result._task.get_name(), "status": status, "result": recorded}
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, default=str) + "\n")

    def v2_runner_on_ok(self, result):
        self._record(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")
