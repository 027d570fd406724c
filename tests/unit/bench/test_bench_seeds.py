# SPDX-License-Identifier: GPL-3.0-or-later
"""The seeds and helpers that turn emulator logs and timings into the figures of bench/RESULTS.md and
bench/RESULTS-estate.md."""

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


def _estate_connections(seed):
    return [(resource, c) for resource in seed["resources"] for c in resource["connections"]]


def test_estate_seed_has_the_issues_counts():
    seed = seeds.estate_seed()  # the bench's estate: 20 x 100 resources, 5 connections each on average
    assert len(seed["resources"]) == 2000
    assert len({r["subscription_id"] for r in seed["resources"]}) == 20
    assert all(sum(r["subscription_id"] == s for r in seed["resources"]) == 100
               for s in {r["subscription_id"] for r in seed["resources"]})
    connections = _estate_connections(seed)
    assert len(connections) == 10000
    ids = [(r["type"], r["subscription_id"], r["resource_group"], r["name"], c["name"]) for r, c in connections]
    assert len(set(ids)) == len(ids), "every connection is a distinct one"
    # Connections per resource vary (1 to 9), as they do in a real estate.
    assert {len(r["connections"]) for r in seed["resources"]} == {1, 3, 5, 7, 9}


def test_estate_seed_mixes_the_types_of_the_issue():
    seed = seeds.estate_seed()
    by_type = {}
    for resource in seed["resources"]:
        by_type[resource["type"]] = by_type.get(resource["type"], 0) + 1
    assert by_type == {resource_type: share * 20 for resource_type, share in seeds.ESTATE_MIX}
    assert len(by_type) >= 8
    for needed in ("Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults", "Microsoft.Sql/servers",
                   "Microsoft.DocumentDB/databaseAccounts", "Microsoft.Web/sites", "Microsoft.DataFactory/factories"):
        assert by_type[needed] > 0, needed
    # The per-resource list path is measured: the non-embedding types are in the mix.
    assert seeds.NOT_EMBEDDING <= set(by_type)
    # Types are spread over the subscriptions, not one type per subscription.
    first = [r["type"] for r in seed["resources"] if r["subscription_id"] == seeds.estate_subscription(0)]
    assert {t: first.count(t) for t in set(first)} == dict(seeds.ESTATE_MIX)


def test_estate_seed_half_pending_and_a_third_of_those_allowed():
    seed = seeds.estate_seed()
    connections = [c for _r, c in _estate_connections(seed)]
    pending = [c for c in connections if c["status"] == "Pending"]
    assert len(pending) == 5000
    allowed = [c for c in pending if c["private_endpoint_id"].split("/")[2] in seeds.ALLOWED_SUBSCRIPTIONS]
    assert len(allowed) == 1667  # every third pending connection, the first included
    settled = [c["status"] for c in connections if c["status"] != "Pending"]
    assert {s: settled.count(s) for s in set(settled)} == {"Approved": 3000, "Rejected": 1000, "Disconnected": 1000}
    # Some settled connections come from allowed subscriptions too: the rule must leave them (not Pending).
    assert any(c["private_endpoint_id"].split("/")[2] in seeds.ALLOWED_SUBSCRIPTIONS
               for c in connections if c["status"] != "Pending")


def test_estate_seed_is_deterministic_and_scales_down():
    assert seeds.estate_seed(2, 10, 5) == seeds.estate_seed(2, 10, 5)
    small = seeds.estate_seed(4, 25, 5)
    assert len(small["resources"]) == 100 and len(_estate_connections(small)) == 500


def test_estate_expected_writes_and_discovery_calls():
    seed = seeds.estate_seed()
    expected = seeds.estate_expected(seed)
    assert sum(expected["writes"].values()) == 1667
    assert expected["listed"] == 300  # Web Apps (10 %) and Data Factory (5 %) of 2000 resources
    assert expected["graph_pages"] == 2
    assert seeds.graph_calls(expected["graph_pages"], expected["listed"]) == 302
    assert seeds.arm_calls(24, expected["subscriptions"], expected["listed"]) == 24 * 20 + 300
    rules = seeds.estate_rules()
    assert rules == [{"name": "allowed consumers", "action": "approve",
                      "endpoint_subscriptions": list(seeds.ALLOWED_SUBSCRIPTIONS)}]


def test_serial_sum_waits_only_for_writes_that_run_an_operation():
    writes = {"Microsoft.Storage/storageAccounts": 10, "Microsoft.KeyVault/vaults": 5}
    assert seeds.serial_sum(writes, {"Microsoft.KeyVault/vaults"}, 2.0, 0.1) == pytest.approx(10 * 0.1 + 5 * 2.1)


def test_writes_in_flight_are_counted_from_the_log():
    conn = ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st"
            "/privateEndpointConnections")
    log = [
        {"time": 1.0, "kind": "arm", "method": "GET", "path": f"{conn}/a"},
        {"time": 1.1, "kind": "arm", "method": "PUT", "path": f"{conn}/a"},
        {"time": 1.2, "kind": "arm", "method": "GET", "path": f"{conn}/b"},
        {"time": 1.3, "kind": "arm", "method": "PUT", "path": f"{conn}/b"},
        {"time": 2.0, "kind": "operation", "method": "GET", "path": "/subscriptions/s/providers/x/operationStatuses/1"},
        {"time": 3.0, "kind": "arm", "method": "GET", "path": f"{conn}/a"},  # a ends after b started
        {"time": 3.5, "kind": "arm", "method": "GET", "path": f"{conn}/c"},  # read, never written
        {"time": 4.0, "kind": "arm", "method": "GET", "path": f"{conn}/b"},
        {"time": 4.0, "kind": "arm", "method": "GET", "path": f"{conn}/d"},
        {"time": 4.5, "kind": "arm", "method": "PUT", "path": f"{conn}/d"},  # starts as b ends
    ]
    spans = seeds.write_spans(log)
    assert spans == [(1.0, 3.0), (1.2, 4.0), (4.0, 4.5)]
    assert seeds.peak_overlap(spans) == 2
    assert seeds.peak_overlap([]) == 0
