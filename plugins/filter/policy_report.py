# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Filters that report what privatelink.azure.private_endpoint_connection_policy did.

Documented in policy_report.yml and policy_summary_lines.yml; the rendering is in module_utils/_policy.py.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.privatelink.azure.plugins.module_utils._policy import (
    render_markdown,
    summarize,
    summary_lines,
)

DEFAULT_TITLE = "Private endpoint connection policy"


def _decisions_and_summary(value: t.Any, summary: t.Any, name: str) -> tuple[list[t.Mapping[str, t.Any]], t.Any]:
    """Accept the registered module result or its ``decisions`` list (with ``summary`` given apart or computed)."""
    if isinstance(value, Mapping):
        if "decisions" not in value:
            raise AnsibleFilterError(f"{name}: the input has no 'decisions'; pass the registered result of "
                                     "privatelink.azure.private_endpoint_connection_policy or its decisions list")
        decisions, summary = value["decisions"], summary if summary is not None else value.get("summary")
    else:
        decisions = value
    if not isinstance(decisions, (list, tuple)) or not all(isinstance(item, Mapping) for item in decisions):
        raise AnsibleFilterError(f"{name}: decisions must be a list of dictionaries, got {type(decisions).__name__}")
    if summary is not None and not isinstance(summary, Mapping):
        raise AnsibleFilterError(f"{name}: summary must be a dictionary, got {type(summary).__name__}")
    return list(decisions), summary if summary is not None else summarize(decisions)


def policy_report(value: t.Any, summary: t.Any = None, title: str = DEFAULT_TITLE, check_mode: bool = False) -> str:
    """The Markdown report of the policy's decisions."""
    decisions, summary = _decisions_and_summary(value, summary, "policy_report")
    return render_markdown(decisions, summary, title=str(title), check_mode=bool(check_mode))


def policy_summary_lines(value: t.Any, check_mode: bool = False) -> list[str]:
    """A few lines for ansible.builtin.debug: the total, each outcome, each resource type."""
    if isinstance(value, Mapping) and "by_outcome" in value:
        summary = value
    elif isinstance(value, Mapping) and isinstance(value.get("summary"), Mapping):
        summary = value["summary"]
    else:
        summary = _decisions_and_summary(value, None, "policy_summary_lines")[1]
    return summary_lines(summary, check_mode=bool(check_mode))


class FilterModule:
    """privatelink.azure's policy report filters."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"policy_report": policy_report, "policy_summary_lines": policy_summary_lines}
