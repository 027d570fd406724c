# SPDX-License-Identifier: GPL-3.0-or-later
"""The helpers that turn emulator logs and timings into the figures bench/RESULTS.md reports."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
if not (BENCH / "seeds.py").is_file():  # a staged copy of the collection without bench/
    pytest.skip("bench/ is not part of this copy of the collection", allow_module_level=True)
sys.path.insert(0, str(BENCH))

import seeds  # noqa: E402  pylint: disable=wrong-import-position


def test_pending_seed_has_the_requested_connections_in_each_account():
    seed = seeds.pending_seed(3, 4, approved=1, others=2)
    assert [a["name"] for a in seed["accounts"]] == ["bench-db-000", "bench-db-001", "bench-db-002"]
    for account in seed["accounts"]:
        statuses = [c["status"] for c in account["connections"]]
        assert statuses.count("Pending") == 6 and statuses.count("Approved") == 1
        names = [c["name"] for c in account["connections"]]
        assert len(set(names)) == len(names)
    allowed = [c for a in seed["accounts"] for c in a["connections"]
               if c["private_endpoint_id"].split("/")[2] in seeds.ALLOWED_SUBSCRIPTIONS]
    # Only the 'per_account' pending connections come from the allowed subscriptions.
    assert len(allowed) == 3 * 4 and all(c["status"] == "Pending" for c in allowed)


def test_targets_follow_the_issue():
    assert seeds.overshoot_limit(10) == pytest.approx(2.0)
    assert seeds.overshoot_limit(30) == pytest.approx(4.0)
    assert seeds.bulk_limit(2.0, 50, 0.5) == pytest.approx(1.5 * 27)


def test_calls_are_counted_per_task_window():
    log = [
        {"time": 0.5, "kind": "arm", "method": "GET"},  # before the task
        {"time": 1.0, "kind": "discovery", "method": "GET"},
        {"time": 1.1, "kind": "token", "method": "POST"},
        {"time": 1.2, "kind": "arm", "method": "GET"},
        {"time": 1.3, "kind": "arm", "method": "PUT"},
        {"time": 1.8, "kind": "operation", "method": "GET"},
        {"time": 2.8, "kind": "operation", "method": "GET"},
        {"time": 2.9, "kind": "arm", "method": "GET"},
        {"time": 3.5, "kind": "arm", "method": "GET"},  # the next task
    ]
    counts = seeds.classify_calls(seeds.in_window(log, 1.0, 3.0))
    assert counts == {"GET": 2, "PUT": 1, "DELETE": 0, "polls": 2, "token": 1, "discovery": 1, "other": 0}


def test_median_refuses_an_empty_measurement():
    assert seeds.median([3.0, 1.0, 2.0]) == 2.0
    with pytest.raises(ValueError):
        seeds.median([])


def test_policy_seed_is_issue_3s_play_pending_connections_from_three_subscriptions_two_allowed():
    seed = seeds.policy_seed(5, 10)
    connections = [c for a in seed["accounts"] for c in a["connections"]]
    assert len(seed["accounts"]) == 5 and len(connections) == 50
    assert all(c["status"] == "Pending" for c in connections)
    subscriptions = [c["private_endpoint_id"].split("/")[2] for c in connections]
    assert set(subscriptions) == {*seeds.ALLOWED_SUBSCRIPTIONS, seeds.OTHER_SUBSCRIPTION}
    assert sum(s in seeds.ALLOWED_SUBSCRIPTIONS for s in subscriptions) == 5 * 7  # indexes 0-9: 7 of 10 not i % 3 == 2
