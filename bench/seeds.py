# SPDX-License-Identifier: GPL-3.0-or-later
"""Emulator seeds for the benchmarks: accounts full of pending connections, and the statistics used.

Pure functions, so the numbers the bench prints are computed by code that has its own tests
(tests/unit/bench/).
"""

from __future__ import annotations

import statistics
import typing as t

# The identities of tests/support.py: the bench authenticates exactly as the e2e tests do.
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5e6f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
CLIENT_SECRET = "s3cr3t-Value~For.Tests_only-9Qx"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
RESOURCE_GROUP = "rg-bench"
# Where the private endpoints live: two allowed consumer subscriptions and one that is not.
ALLOWED_SUBSCRIPTIONS = ("aaaaaaaa-0000-0000-0000-000000000001", "bbbbbbbb-0000-0000-0000-000000000002")
OTHER_SUBSCRIPTION = "cccccccc-0000-0000-0000-000000000003"


def endpoint_id(subscription: str, name: str) -> str:
    return f"/subscriptions/{subscription}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/{name}"


def account_name(index: int) -> str:
    return f"bench-db-{index:03d}"


def connection_name(account: int, index: int) -> str:
    return f"pe-{account:03d}-{index:03d}.bench"


def pending_seed(accounts: int, per_account: int, *, approved: int = 0, others: int = 0) -> dict[str, t.Any]:
    """``accounts`` accounts, each with ``per_account`` pending connections from the allowed
    subscriptions (alternating), ``approved`` already approved ones and ``others`` pending ones from a
    subscription the approval policy does not allow."""
    seed_accounts = []
    for a in range(accounts):
        connections = []
        for i in range(per_account):
            name = connection_name(a, i)
            connections.append({"name": name, "status": "Pending", "description": "Please approve",
                                "private_endpoint_id": endpoint_id(ALLOWED_SUBSCRIPTIONS[i % 2], name.split(".")[0]),
                                "group_id": "Sql"})
        for i in range(approved):
            name = f"pe-{a:03d}-approved-{i:03d}.bench"
            connections.append({"name": name, "status": "Approved", "description": "",
                                "private_endpoint_id": endpoint_id(SUBSCRIPTION, name.split(".")[0]),
                                "group_id": "Sql"})
        for i in range(others):
            name = f"pe-{a:03d}-other-{i:03d}.bench"
            connections.append({"name": name, "status": "Pending", "description": "",
                                "private_endpoint_id": endpoint_id(OTHER_SUBSCRIPTION, name.split(".")[0]),
                                "group_id": "Sql"})
        seed_accounts.append({"subscription_id": SUBSCRIPTION, "resource_group": RESOURCE_GROUP,
                              "name": account_name(a), "location": "westus", "connections": connections})
    return {"principals": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET}],
            "accounts": seed_accounts}


def policy_seed(accounts: int, per_account: int) -> dict[str, t.Any]:
    """Issue 3's done-when: ``accounts`` x ``per_account`` pending connections whose private endpoints
    live in three subscriptions in turn, two of them allowed."""
    consumers = (*ALLOWED_SUBSCRIPTIONS, OTHER_SUBSCRIPTION)
    seed = pending_seed(accounts, per_account)
    for account in seed["accounts"]:
        for index, connection in enumerate(account["connections"]):
            connection["private_endpoint_id"] = endpoint_id(consumers[index % 3], connection["name"].split(".")[0])
    return seed


def median(values: t.Iterable[float]) -> float:
    data = list(values)
    if not data:
        raise ValueError("no measurements")
    return statistics.median(data)


def overshoot_limit(duration: float) -> float:
    """The issue's target for the wait after an operation ends without Retry-After."""
    return 1.0 + 0.1 * duration


def bulk_limit(operation: float, items: int, task_overhead: float) -> float:
    """The issue's target for approving ``items`` connections: 1.5 x (one operation + items x one task)."""
    return 1.5 * (operation + items * task_overhead)


def in_window(entries: t.Iterable[t.Mapping[str, t.Any]], start: float, end: float) -> list[t.Mapping[str, t.Any]]:
    """Request-log entries received while a task ran (start <= time <= end)."""
    return [entry for entry in entries if start <= entry["time"] <= end]


def classify_calls(entries: t.Iterable[t.Mapping[str, t.Any]]) -> dict[str, int]:
    """Count a task's HTTP calls the way the targets name them."""
    counts = {"GET": 0, "PUT": 0, "DELETE": 0, "polls": 0, "token": 0, "discovery": 0, "other": 0}
    for entry in entries:
        kind = entry.get("kind")
        if kind == "arm" and entry.get("method") in ("GET", "PUT", "DELETE"):
            counts[entry["method"]] += 1
        elif kind == "operation":
            counts["polls"] += 1
        elif kind in ("token", "msi"):
            counts["token"] += 1
        elif kind in ("discovery", "instance_discovery"):
            counts["discovery"] += 1
        else:
            counts["other"] += 1
    return counts
