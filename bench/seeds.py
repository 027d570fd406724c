# SPDX-License-Identifier: GPL-3.0-or-later
"""Emulator seeds for the benchmarks: accounts full of pending connections, an estate of many subscriptions
and types, and the statistics used.

Pure functions, so the numbers the bench prints are computed by code that has its own tests
(tests/unit/bench/).
"""

from __future__ import annotations

import random
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


# -- the estate (issue 12): many subscriptions, a realistic mix of types ----------------------------------
#: Resource types of the estate and their share in percent: Storage most, then Key Vault, SQL and Cosmos DB,
#: and two types whose resources do not embed their connections (Web Apps, Data Factory), so discovery
#: lists those per resource. The emulator's write styles differ: some complete at once, others run an operation.
ESTATE_MIX: tuple[tuple[str, int], ...] = (
    ("Microsoft.Storage/storageAccounts", 25),
    ("Microsoft.KeyVault/vaults", 15),
    ("Microsoft.Sql/servers", 10),
    ("Microsoft.DocumentDB/databaseAccounts", 10),
    ("Microsoft.Web/sites", 10),
    ("Microsoft.DataFactory/factories", 5),
    ("Microsoft.ServiceBus/namespaces", 5),
    ("Microsoft.EventHub/namespaces", 5),
    ("Microsoft.ContainerRegistry/registries", 5),
    ("Microsoft.AppConfiguration/configurationStores", 5),
    ("Microsoft.Search/searchServices", 5),
)
#: The types of the mix whose resource GET does not list its connections (one extra list call each).
NOT_EMBEDDING = frozenset({"Microsoft.Web/sites", "Microsoft.DataFactory/factories"})
#: Statuses of the connections that are not Pending, in turn (most are approved).
SETTLED_STATUSES = ("Approved", "Approved", "Approved", "Rejected", "Disconnected")


def estate_subscription(index: int) -> str:
    return f"e57a7e00-0000-4000-8000-{index:012d}"


def estate_types(resources: int) -> list[str]:
    """``resources`` types in the proportions of ESTATE_MIX (exact for multiples of 100)."""
    total = sum(share for _type, share in ESTATE_MIX)
    bounds, running = [], 0
    for resource_type, share in ESTATE_MIX:
        running += share
        bounds.append((running, resource_type))
    # Resource i takes the type whose cumulative share holds the middle of its slot.
    return [next(rtype for bound, rtype in bounds if (i + 0.5) * total / resources < bound) for i in range(resources)]


def estate_seed(subscriptions: int = 20, resources_per_subscription: int = 100, connections_per_resource: int = 5,
                *, seed: int = 12) -> dict[str, t.Any]:
    """An estate: ``subscriptions`` platform subscriptions of ``resources_per_subscription`` resources each,
    typed in ESTATE_MIX's proportions, ``connections_per_resource`` connections per resource on average
    (1, 3, 5, 7, 9 for 5: exact when the per-subscription count is a multiple of 5).

    Every other connection is Pending; of the pending ones, every third comes from a private endpoint in an
    allowed subscription (the two ALLOWED_SUBSCRIPTIONS in turn), the others from OTHER_SUBSCRIPTION or a
    platform subscription. The rest are Approved, Rejected or Disconnected (SETTLED_STATUSES in turn), from
    any consumer. Deterministic: the same arguments give the same estate.
    """
    rng = random.Random(seed)
    mean = connections_per_resource
    spread = [mean - 4, mean - 2, mean, mean + 2, mean + 4] if mean >= 5 else [mean] * 5
    strangers = (OTHER_SUBSCRIPTION, *(estate_subscription(i) for i in range(subscriptions)))
    resources = []
    counter = pending = settled = 0
    for sub_index in range(subscriptions):
        subscription = estate_subscription(sub_index)
        types = estate_types(resources_per_subscription)
        counts = [spread[i % len(spread)] for i in range(resources_per_subscription)]
        rng.shuffle(types)
        rng.shuffle(counts)
        for res_index, (resource_type, count) in enumerate(zip(types, counts)):
            short = resource_type.rsplit("/", 1)[-1][:4].lower()
            name = f"{short}{sub_index:02d}x{res_index:03d}"
            connections = []
            for _unused in range(count):
                conn_name = f"{name}.pe-{counter:05d}"
                endpoint = f"pe-{counter:05d}"
                if counter % 2 == 0:
                    consumer = (ALLOWED_SUBSCRIPTIONS[(pending // 3) % 2] if pending % 3 == 0
                                else strangers[pending % len(strangers)])
                    connections.append({"name": conn_name, "status": "Pending", "description": "Please approve",
                                        "private_endpoint_id": endpoint_id(consumer, endpoint)})
                    pending += 1
                else:
                    status = SETTLED_STATUSES[settled % len(SETTLED_STATUSES)]
                    consumer = (*ALLOWED_SUBSCRIPTIONS, *strangers)[settled % (len(strangers) + 2)]
                    connections.append({"name": conn_name, "status": status, "description": f"{status} earlier",
                                        "private_endpoint_id": endpoint_id(consumer, endpoint)})
                    settled += 1
                counter += 1
            resources.append({"type": resource_type, "subscription_id": subscription,
                              "resource_group": f"rg-estate-{res_index % 4}", "name": name,
                              "tags": {"env": ("prod", "test")[res_index % 2]}, "connections": connections})
    return {"principals": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET}],
            "accounts": [], "resources": resources}


def estate_rules() -> list[dict[str, t.Any]]:
    """Approve pending connections from the allowed subscriptions; no rule for the rest (left as they are)."""
    return [{"name": "allowed consumers", "action": "approve", "endpoint_subscriptions": list(ALLOWED_SUBSCRIPTIONS)}]


def estate_expected(seed: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """What the rules must do to an estate: writes per type, and the discovery calls of each discovery.

    Resource Graph: one call per page of 1000 resources, plus one list per resource of a type that does not
    embed its connections. ARM: one list per type of the provider table and subscription (``types`` given by
    the caller, the collection's table), plus the same per-resource lists.
    """
    writes: dict[str, int] = {}
    for resource in seed["resources"]:
        for connection in resource["connections"]:
            if connection["status"] == "Pending" and \
                    connection["private_endpoint_id"].split("/")[2] in ALLOWED_SUBSCRIPTIONS:
                writes[resource["type"]] = writes.get(resource["type"], 0) + 1
    resources = len(seed["resources"])
    listed = sum(1 for resource in seed["resources"] if resource["type"] in NOT_EMBEDDING)
    return {"writes": writes, "resources": resources, "listed": listed,
            "subscriptions": len({resource["subscription_id"] for resource in seed["resources"]}),
            "connections": sum(len(resource["connections"]) for resource in seed["resources"]),
            "graph_pages": -(-resources // 1000)}


def graph_calls(pages: int, listed: int) -> int:
    """Resource Graph discovery: the pages, plus one list per resource that does not embed its connections."""
    return pages + listed


def arm_calls(types: int, subscriptions: int, listed: int) -> int:
    """ARM discovery: one list per type and subscription (one page each), plus the per-resource lists."""
    return types * subscriptions + listed


def serial_sum(writes: t.Mapping[str, int], long_running: t.Collection[str], operation: float,
               overhead: float) -> float:
    """Writes one after another: each costs ``overhead``, and those of a type whose write runs an operation
    also wait ``operation`` seconds (a synchronous write answers at once)."""
    return sum(count * (overhead + (operation if resource_type in long_running else 0.0))
               for resource_type, count in writes.items())


def write_spans(entries: t.Iterable[t.Mapping[str, t.Any]]) -> list[tuple[float, float]]:
    """(first, last) request time per written connection: from the re-read before the write to the last
    request naming the connection (the read after the operation, for a long-running write)."""
    spans: dict[str, list[float]] = {}
    written: set[str] = set()
    for entry in entries:
        path = str(entry.get("path", ""))
        if entry.get("kind") != "arm" or "/privateendpointconnections/" not in path.lower():
            continue
        key = path.lower()
        span = spans.setdefault(key, [entry["time"], entry["time"]])
        span[0], span[1] = min(span[0], entry["time"]), max(span[1], entry["time"])
        if entry.get("method") in ("PUT", "PATCH", "DELETE"):
            written.add(key)
    return [(spans[key][0], spans[key][1]) for key in sorted(written)]


def peak_overlap(spans: t.Iterable[tuple[float, float]]) -> int:
    """The most spans open at one time (a span that ends when another starts does not overlap it)."""
    events = sorted([(start, 1) for start, _end in spans] + [(end, -1) for _start, end in spans],
                    key=lambda event: (event[0], event[1]))
    peak = current = 0
    for _time, step in events:
        current += step
        peak = max(peak, current)
    return peak


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
