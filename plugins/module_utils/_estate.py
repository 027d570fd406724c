# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The policy across an estate: discover connections, decide by rules (module_utils/_policy.py), write safely.

Discovery is one Azure Resource Graph query over the scope's subscriptions (paged with ``$skipToken``,
waiting when the caller's quota runs out), or ARM lists per type and subscription. Writes run
concurrently in this one process (threads sharing the credential and a keep-alive session), at most
``max_concurrent_writes`` per subscription, paced by ARM's remaining-request headers before they
reach zero. Each write reads the connection again first (and sends If-Match where it has an etag):
a connection that changed since discovery is not written, its outcome is ``changed_elsewhere``.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import re
import threading
import time
import typing as t

from ansible_collections.privatelink.azure.plugins.module_utils import _policy
from ansible_collections.privatelink.azure.plugins.module_utils._connections import (
    ChangedElsewhere,
    ConnectionService,
    normalize,
)
from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    ArmError,
    CollectionError,
    OperationError,
)
from ansible_collections.privatelink.azure.plugins.module_utils._progress import ProgressEvent, report
from ansible_collections.privatelink.azure.plugins.module_utils._providers import (
    PROVIDERS,
    Provider,
    parse_resource_id,
    provider_for,
)

RESOURCE_GRAPH_PATH = "/providers/Microsoft.ResourceGraph/resources"
RESOURCE_GRAPH_API = "2021-03-01"
RESOURCE_GRAPH_PAGE = 1000
# Pace a subscription's requests when ARM says fewer than this many are left in its bucket.
LOW_WATER = 20
PROGRESS_EVERY = 5.0
# Threads of one policy run: max_concurrent_writes per subscription, up to this many in all.
MAX_WORKERS = 128
_SUBSCRIPTION = re.compile(r"/subscriptions/([0-9a-fA-F-]{36})(?:/|$)")
_DURATION = re.compile(r"^(\d+):(\d{2}):(\d{2})(?:\.\d+)?$")


@dataclasses.dataclass
class Stats:
    """What discovery and the writes cost, returned to the user (and measured by the bench)."""

    discovery: str
    discovery_calls: int = 0
    resources: int = 0
    connections: int = 0
    quota_waits: int = 0
    paced: int = 0
    throttled: int = 0

    def as_result(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)


def resource_graph_query(types: t.Sequence[str], resource_groups: t.Sequence[str] = (),
                         resource_ids: t.Sequence[str] = ()) -> str:
    """The Resource Graph query for the scope: the resources of these types, with their connections.

    Values are validated ARM names and ids (no quote can appear in them).
    """
    def listed(values: t.Iterable[str]) -> str:
        return ", ".join(f"'{value.lower()}'" for value in values)

    lines = ["resources", f"| where type in~ ({listed(types)})"]
    if resource_groups:
        lines.append(f"| where resourceGroup in~ ({listed(resource_groups)})")
    if resource_ids:
        lines.append(f"| where id in~ ({listed(resource_ids)})")
    lines.append("| project id, name, type, subscriptionId, resourceGroup, location, tags, "
                 "connections = properties.privateEndpointConnections")
    return "\n".join(lines)


def parse_duration(value: t.Any) -> float | None:
    """Seconds from Resource Graph's ``hh:mm:ss`` quota reset header."""
    match = _DURATION.match(value.strip()) if isinstance(value, str) else None
    if not match:
        return None
    hours, minutes, seconds = (int(part) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def connections_of(resource: t.Mapping[str, t.Any], raw_connections: t.Iterable[t.Any],
                   provider: Provider) -> list[dict[str, t.Any]]:
    """The connections of one discovered resource, in the shape the rules read (with the resource's tags)."""
    resource_id = resource["id"]
    result = []
    for raw in raw_connections:
        if not isinstance(raw, dict):
            continue
        connection = normalize(raw, provider.resource_type, provider.actions_field)
        # Embedded connections may come without a name (Key Vault: id, etag, properties).
        if not connection["name"] and isinstance(raw.get("id"), str):
            connection["name"] = raw["id"].rstrip("/").rsplit("/", 1)[-1]
        connection["resource_id"] = resource_id
        connection["resource_tags"] = dict(resource.get("tags") or {})
        connection["id"] = connection["id"] or f"{resource_id}/privateEndpointConnections/{connection['name']}"
        result.append(connection)
    return result


class Pacer:
    """Slows a subscription's requests when ARM's remaining-request count for them runs low.

    ARM refills each subscription's buckets continuously (arm-protocol throttling docs); waiting a little
    once few are left keeps a large run from meeting 429s at all.
    """

    def __init__(self, sleep: t.Callable[[float], None] = time.sleep) -> None:
        self._remaining: dict[tuple[str, str], int] = {}
        self._lock = threading.Lock()
        self._sleep = sleep
        self.paced = 0
        self.throttled = 0

    def observe(self, method: str, url: str, status: int, headers: t.Mapping[str, str]) -> None:
        del method
        if status == 429:
            with self._lock:
                self.throttled += 1
        match = _SUBSCRIPTION.search(url)
        if match is None:
            return
        for kind in ("reads", "writes", "deletes"):
            value = headers.get(f"x-ms-ratelimit-remaining-subscription-{kind}")
            if value is not None and value.strip().isdigit():
                with self._lock:
                    self._remaining[(match.group(1).lower(), kind)] = int(value)

    def before(self, subscription: str, kind: str) -> None:
        with self._lock:
            remaining = self._remaining.get((subscription.lower(), kind))
        if remaining is not None and remaining < LOW_WATER:
            with self._lock:
                self.paced += 1
            # About the time ARM needs to refill what is missing (10 writes or 25 reads a second).
            self._sleep(min(2.0, (LOW_WATER - remaining) * (0.1 if kind != "reads" else 0.04)))


class Estate:
    """Discovery, plan and writes of the connection policy for one scope."""

    def __init__(self, client: t.Any, scope: _policy.Scope, rules: t.Sequence[_policy.Rule], *,
                 discovery: str = "resource_graph", max_concurrent_writes: int = 32, wait_timeout: float = 900,
                 sleep: t.Callable[[float], None] = time.sleep,
                 clock: t.Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.scope = scope
        self.rules = tuple(rules)
        self.max_concurrent_writes = max_concurrent_writes
        self.wait_timeout = wait_timeout
        self.stats = Stats(discovery)
        self._sleep = sleep
        self._clock = clock
        self.pacer = Pacer(sleep)
        self._in_flight = 0
        self._in_flight_lock = threading.Lock()
        self._wanted_types = {value.lower(): value for value in self._types()}
        self._calls_lock = threading.Lock()
        client.on_response = self.pacer.observe
        client.report_progress = False

    # -- discovery ----------------------------------------------------------------------------
    def _types(self) -> list[str]:
        return list(self.scope.resource_types) or [provider.resource_type for provider in PROVIDERS]

    def discover(self) -> list[dict[str, t.Any]]:
        """Every connection in scope, with its resource's type and tags."""
        resources = self._discover_resource_graph() if self.stats.discovery == "resource_graph" \
            else self._discover_arm()
        unique: dict[str, tuple[dict[str, t.Any], list[t.Any] | None]] = {}
        for resource, raw_connections in resources:
            unique.setdefault(resource["id"].lower(), (resource, raw_connections))
        # Not embedded: one list call per resource, run concurrently like the writes.
        missing = [resource for resource, raw in unique.values() if raw is None]
        listed = dict(zip((r["id"].lower() for r in missing), self._concurrently(
            missing, lambda r: parse_resource_id(r["id"]).subscription_id,
            lambda r: self._list_connections(r["id"], provider_for(r["type"])))))
        connections: list[dict[str, t.Any]] = []
        for key, (resource, raw_connections) in unique.items():
            raw = listed[key] if raw_connections is None else raw_connections
            connections.extend(connections_of(resource, raw, provider_for(resource["type"])))
        self.stats.resources = len(unique)
        self.stats.connections = len(connections)
        return connections

    def _concurrently(self, items: t.Sequence[t.Any], subscription: t.Callable[[t.Any], str],
                      read: t.Callable[[t.Any], t.Any]) -> list[t.Any]:
        """``read(item)`` for each item, in order, concurrently: at most max_concurrent_writes reads at a time per
        subscription (``subscription(item)``), paced by ARM's remaining-reads header like the writes."""
        if not items:
            return []
        subscription_of = [subscription(item).lower() for item in items]
        limits = {sub: threading.BoundedSemaphore(self.max_concurrent_writes) for sub in set(subscription_of)}

        def one(index: int) -> t.Any:
            with limits[subscription_of[index]]:
                self.pacer.before(subscription_of[index], "reads")
                return read(items[index])

        workers = min(MAX_WORKERS, self.max_concurrent_writes * len(limits), len(items))
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="privatelink") as pool:
            return list(pool.map(one, range(len(items))))

    def _count_call(self) -> None:
        with self._calls_lock:
            self.stats.discovery_calls += 1

    def _canonical(self, row: t.Mapping[str, t.Any]) -> dict[str, t.Any] | None:
        """A discovered resource with the provider table's type spelling; None for a type out of scope."""
        resource_type = self._wanted_types.get(str(row.get("type") or "").lower())
        if resource_type is None or not isinstance(row.get("id"), str):
            return None
        return {"id": row["id"], "type": resource_type, "tags": row.get("tags") or {}}

    def _discover_resource_graph(self) -> list[tuple[dict[str, t.Any], list[t.Any] | None]]:
        queries = []
        if self.scope.subscriptions:
            queries.append((list(self.scope.subscriptions),
                            resource_graph_query(self._types(), self.scope.resource_groups)))
        if self.scope.resources:
            subscriptions = sorted({parse_resource_id(rid).subscription_id.lower() for rid in self.scope.resources})
            queries.append((subscriptions, resource_graph_query(
                sorted({parse_resource_id(rid).resource_type for rid in self.scope.resources}),
                resource_ids=self.scope.resources)))
        found = []
        for subscriptions, query in queries:
            for row in self._resource_graph_rows(subscriptions, query):
                resource = self._canonical(row)
                if resource is None:
                    continue
                embedded = row.get("connections")
                found.append((resource, embedded if isinstance(embedded, list) else None))
        return found

    def _resource_graph_rows(self, subscriptions: list[str], query: str) -> t.Iterator[dict[str, t.Any]]:
        token = None
        while True:
            options: dict[str, t.Any] = {"$top": RESOURCE_GRAPH_PAGE, "resultFormat": "objectArray"}
            if token:
                options["$skipToken"] = token
            self._count_call()
            result = self.client.request(
                "POST", RESOURCE_GRAPH_PATH, action="Querying Azure Resource Graph",
                params={"api-version": RESOURCE_GRAPH_API},
                json_body={"subscriptions": subscriptions, "query": query, "options": options}, ok_statuses=(200,))
            body = result.body if isinstance(result.body, dict) else {}
            yield from (row for row in body.get("data") or [] if isinstance(row, dict))
            token = body.get("$skipToken")
            if not token:
                if str(body.get("resultTruncated")).lower() == "true":
                    raise ArmError("Querying Azure Resource Graph", result.status_code, None, result.request_id,
                                   result.correlation_id, "the result was truncated and no $skipToken was given")
                return
            # Wait for the quota window instead of running into 429s (x-ms-user-quota-*).
            remaining = result.headers.get("x-ms-user-quota-remaining")
            if remaining is not None and remaining.strip().isdigit() and int(remaining) <= 0:
                self.stats.quota_waits += 1
                self._sleep(parse_duration(result.headers.get("x-ms-user-quota-resets-after")) or 1.0)

    def _arm_pages(self, path: str, action: str, api_version: str) -> t.Iterator[dict[str, t.Any]]:
        self._count_call()
        result = self.client.get_json(path, action=action, params={"api-version": api_version})
        while True:
            body = result.body if isinstance(result.body, dict) else {}
            yield from (item for item in body.get("value") or [] if isinstance(item, dict))
            if not body.get("nextLink"):
                return
            self._count_call()
            result = self.client.get_json(body["nextLink"], action=action)

    def _discover_arm(self) -> list[tuple[dict[str, t.Any], list[t.Any] | None]]:
        groups = {group.lower() for group in self.scope.resource_groups}
        found = []
        lists = [(subscription, resource_type) for subscription in self.scope.subscriptions
                 for resource_type in self._types()]

        def list_type(pair: tuple[str, str]) -> list[dict[str, t.Any]]:
            subscription, resource_type = pair
            provider = provider_for(resource_type)
            return list(self._arm_pages(f"/subscriptions/{subscription}/providers/{resource_type}",
                                        f"Listing the {provider.label} resources of subscription {subscription}",
                                        provider.api_version))

        # One list per type and subscription, concurrently (in order, so the result does not depend on timing).
        for (_subscription, resource_type), items in zip(lists, self._concurrently(
                lists, lambda pair: pair[0], list_type)):
            for item in items:
                resource = self._canonical({**item, "type": resource_type})
                if resource is None or (groups and parse_resource_id(resource["id"]).resource_group.lower()
                                        not in groups):
                    continue
                found.append((resource, self._embedded(item)))
        for resource_id in self.scope.resources:
            ref = parse_resource_id(resource_id)
            provider = provider_for(ref.resource_type)
            self._count_call()
            item = self.client.get_json(ref.path, action=f"Reading {provider.label} resource {ref.name!r}",
                                        params={"api-version": provider.api_version}).body
            found.append(({"id": item.get("id") or ref.id, "type": provider.resource_type,
                           "tags": item.get("tags") or {}}, self._embedded(item)))
        return found

    @staticmethod
    def _embedded(item: t.Mapping[str, t.Any]) -> list[t.Any] | None:
        embedded = (item.get("properties") or {}).get("privateEndpointConnections")
        return embedded if isinstance(embedded, list) else None

    def _list_connections(self, resource_id: str, provider: Provider) -> list[dict[str, t.Any]]:
        ref = parse_resource_id(resource_id)
        return list(self._arm_pages(f"{ref.path}/privateEndpointConnections",
                                    f"Listing the connections of {provider.label} resource {ref.name!r}",
                                    provider.api_version))

    # -- decisions ----------------------------------------------------------------------------
    @staticmethod
    def refusal(resource_type: str | None, current: str | None, target: str | None) -> str | None:
        if not target or not resource_type:
            return None
        return provider_for(resource_type).refusal(current, target, False)

    def plan(self, connections: t.Iterable[t.Mapping[str, t.Any]]) -> list[_policy.Decision]:
        return _policy.plan(connections, self.rules, self.refusal)

    # -- writes -------------------------------------------------------------------------------
    def apply(self, decisions: t.Sequence[_policy.Decision]) -> list[_policy.Decision]:
        """Write what the plan decided, concurrently; each decision comes back with its outcome."""
        results = list(decisions)
        todo = [index for index, decision in enumerate(decisions) if decision.needs_write]
        if not todo:
            return results
        by_subscription: dict[str, collections.deque[int]] = collections.defaultdict(collections.deque)
        for index in todo:
            by_subscription[parse_resource_id(decisions[index].resource_id).subscription_id.lower()].append(index)
        # Interleave subscriptions so no subscription's queue holds every worker.
        order = []
        while any(by_subscription.values()):
            for queue in by_subscription.values():
                if queue:
                    order.append(queue.popleft())
        limits = {sub: threading.BoundedSemaphore(self.max_concurrent_writes) for sub in by_subscription}
        workers = min(MAX_WORKERS, self.max_concurrent_writes * len(limits), len(order))
        started = self._clock()
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="privatelink") as pool:
            futures = {pool.submit(self._write_one, decisions[index], limits): index for index in order}
            pending = set(futures)
            while pending:
                done, pending = concurrent.futures.wait(pending, timeout=PROGRESS_EVERY)
                for future in done:
                    results[futures[future]] = future.result()
                with self._in_flight_lock:
                    in_flight = self._in_flight
                report(ProgressEvent(f"Writing {len(order)} connections",
                                     f"{len(order) - len(pending)} done, {in_flight} in flight, "
                                     f"{len(pending) - in_flight} left", self._clock() - started,
                                     len(order) - len(pending)))
        self.stats.paced = self.pacer.paced
        self.stats.throttled = self.pacer.throttled
        return results

    def _write_one(self, decision: _policy.Decision, limits: t.Mapping[str, threading.BoundedSemaphore]
                   ) -> _policy.Decision:
        ref = parse_resource_id(decision.resource_id)
        subscription = ref.subscription_id.lower()
        service = ConnectionService(self.client, ref, provider_for(decision.resource_type))
        expect = (decision.status_before, decision.description_before)
        options = {"check_mode": False, "wait": True, "wait_timeout": self.wait_timeout, "expect": expect}
        with limits[subscription], self._counted():
            self.pacer.before(subscription, "reads")
            self.pacer.before(subscription, "deletes" if decision.action == "delete" else "writes")
            try:
                try:
                    self._send(service, decision, options)
                except OperationError:
                    # The service accepted the write but its operation failed: nothing changed, so the
                    # connection is still as planned (the re-read checks it) and one more try is safe.
                    self._send(service, decision, options)
            except ChangedElsewhere:
                return decision.changed_elsewhere()
            except CollectionError as err:
                fields = err.fail_fields()
                error = fields.get("error") or {"code": type(err).__name__, "message": err.msg}
                return decision.failed(error, fields.get("request_id"))
        return decision

    @contextlib.contextmanager
    def _counted(self) -> t.Iterator[None]:
        with self._in_flight_lock:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._in_flight_lock:
                self._in_flight -= 1

    @staticmethod
    def _send(service: ConnectionService, decision: _policy.Decision, options: dict[str, t.Any]) -> None:
        if decision.action == "delete":
            service.remove(decision.connection_name, **options)
        else:
            service.ensure(decision.connection_name, decision.target_status, decision.description_after, **options)
