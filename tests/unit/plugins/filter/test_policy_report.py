# SPDX-License-Identifier: GPL-3.0-or-later
"""The report filters, on what the policy module returns (its decisions and summary)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.privatelink.azure.plugins.filter.policy_report import FilterModule
from ansible_collections.privatelink.azure.plugins.module_utils import _policy as p

COSMOS = "Microsoft.DocumentDB/databaseAccounts"
STORAGE = "Microsoft.Storage/storageAccounts"
SUB = "11111111-2222-3333-4444-555555555555"
FILTERS = FilterModule().filters()


def connection(name: str, resource_type: str = COSMOS, status: str = "Pending") -> dict:
    resource = f"/subscriptions/{SUB}/resourceGroups/rg/providers/{resource_type}/res"
    return {"id": f"{resource}/privateEndpointConnections/{name}", "name": name, "resource_id": resource,
            "resource_type": resource_type, "resource_tags": {}, "status": status, "description": None,
            "private_endpoint_id": f"/subscriptions/{SUB}/resourceGroups/rg-pe/providers/Microsoft.Network/"
                                   f"privateEndpoints/{name}", "group_ids": ["x"], "etag": None}


@pytest.fixture(name="result")
def module_result() -> dict:
    """A registered result as the module returns it: plain dicts, no Decision objects."""
    rules = p.validate_rules([{"action": "approve", "connection_names": ["ok*"]},
                              {"action": "reject", "connection_names": ["no-*"]}], (COSMOS, STORAGE))
    decisions = p.plan([connection("ok-1"), connection("ok|2", STORAGE), connection("no-1"), connection("other")],
                       rules)
    decisions = [d.failed({"code": "Conflict", "message": "busy"}, "req-7") if d.connection_name == "ok-1" else d
                 for d in decisions]
    return {"changed": True, "decisions": [d.as_result() for d in decisions],
            "summary": p.summarize(decisions)}


def test_both_filters_are_registered():
    assert set(FILTERS) == {"policy_report", "policy_summary_lines"}


def test_report_of_the_registered_result(result):
    report = FILTERS["policy_report"](result, title="Deploy 1234")
    assert report.startswith("# Deploy 1234\n")
    assert "| Approved | 1 |" in report and "| Failed | 1 |" in report and "| Left as they are | 1 |" in report
    assert "| ok\\|2 | rg/res | Microsoft.Storage/storageAccounts |" in report
    assert "Conflict: busy | req-7 |" in report
    assert "Check mode" not in report


def test_report_of_the_decisions_alone_computes_the_summary(result):
    assert FILTERS["policy_report"](result["decisions"]) == FILTERS["policy_report"](result)


def test_report_in_check_mode_says_so(result):
    report = FILTERS["policy_report"](result, check_mode=True)
    assert "Check mode: nothing was written" in report and "2 to write" in report


def test_summary_lines_from_result_summary_or_decisions(result):
    lines = FILTERS["policy_summary_lines"](result)
    assert lines == [
        "4 connections, 2 written, 1 failed",
        "approved: 1", "rejected: 1", "deleted: 0", "left: 1", "changed_elsewhere: 0", "failed: 1",
        f"{COSMOS}: 1 rejected, 1 left, 1 failed",
        f"{STORAGE}: 1 approved",
    ]
    assert FILTERS["policy_summary_lines"](result["summary"]) == lines
    assert FILTERS["policy_summary_lines"](result["decisions"]) == lines


def test_summary_lines_in_check_mode(result):
    assert FILTERS["policy_summary_lines"](result, check_mode=True)[0] == (
        "4 connections, 2 to write, 1 failed (check mode: predicted, nothing written)")


@pytest.mark.parametrize("value, message", [
    ({"changed": False}, "the input has no 'decisions'"),
    ("text", "decisions must be a list of dictionaries, got str"),
    ([1, 2], "decisions must be a list of dictionaries"),
    ({"decisions": [], "summary": "x"}, "summary must be a dictionary"),
])
def test_report_refuses_what_is_not_a_policy_result(value, message):
    with pytest.raises(AnsibleFilterError, match=message):
        FILTERS["policy_report"](value)
