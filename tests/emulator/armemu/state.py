# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's world: resources and their private endpoint connections, running operations, issued
tokens, faults, request log.

Everything here is guarded by one lock (``State.lock``); the HTTP layer takes it for each decision.
Per-type behaviour comes from providers.py (``ProviderType``); this module keeps the state and applies
each completion style's effects when an operation starts and when it ends.

Behaviour mirrored from the recordings in /work/shared/azure-rest/recordings:
- Cosmos DB resource bodies (``connection_body``): recordings/cosmosdb-pec-approve-reject-delete.yaml (GET);
  no ``description`` key when the connection has none, ``actionsRequired`` "None",
  ``provisioningState`` always "Succeeded".
- Cosmos DB PUT/DELETE start an operation whose effect is applied only when it ends; until then GET shows the
  old state (recordings/cosmosdb-pec-network-inflight.yaml). Several operations on one connection may
  run at once (the same recording accepted a second PUT while the first was running); each applies its
  own change when it ends, in end-time order.
- Cosmos DB operation status sequence (``Operation.poll``): the first poll answers ``Enqueued``, later polls
  ``Dequeued``; ``Succeeded`` (or Failed/Canceled) is answered once ``op_duration`` seconds have passed
  AND at least ``dequeued_polls`` ``Dequeued`` answers were given, or at once to a first poll that
  comes after the end (recordings/cosmosdb-404-flat-error.yaml). With ``dequeued_polls=0`` this is
  the Enqueued -> Succeeded sequence of the approve in the recording, with 1 or 2 the reject/delete one.
  The resource state changes by time alone (a client that never polls still sees the change), so the
  status may lag the resource by the remaining Dequeued answers, as ARM's own status can.
- Other styles (providers.py): an operation shows an interim provisioningState from its start (Key Vault
  also the new status and a new etag, recordings/other-providers/keyvault-pec-reject-approve-delete.yaml)
  and settles when ``op_duration`` has passed; their status URLs answer ``InProgress`` until then.
"""
from __future__ import annotations

import copy
import datetime
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultRule
from .providers import COSMOS, SEED_STATUSES, ProviderType, provider
from .resourcegraph import ResourceGraph, row_from_resource
from .seedcheck import check_seed
from .throttle import Throttle

CONNECTION_TYPE = COSMOS.connection_type
VALID_STATUSES = SEED_STATUSES
TOKEN_LIFETIME = 3599
#: Top-level seed keys; another module may add its own (e.g. a Resource Graph seed) with SEED_KEYS.add().
SEED_KEYS = {"principals", "managed_identity", "resource_groups", "accounts", "resources", "subscriptions"}
_RESOURCE_KEYS = {"type", "subscription_id", "resource_group", "name", "location", "tags", "connections"}
_CONNECTION_KEYS = {"name", "private_endpoint_id", "status", "description", "group_id"}
_GROUP_KEYS = {"subscription_id", "name"}
#: Settings of ``configure`` and their defaults (``configure(**DEFAULT_SETTINGS)`` resets everything).
DEFAULT_SETTINGS: dict[str, Any] = {"op_duration": 0.3, "dequeued_polls": 1, "retry_after": None,
                                    "list_page_size": None, "deny_policy": None,
                                    "throttle": None, "graph_quota": None}
_DENY_POLICY_KEYS = {"require_private_endpoint_id", "allowed_endpoint_subscriptions", "assignment_scope"}


def _key(*parts: str) -> tuple[str, ...]:
    # ARM compares names in URLs case-insensitively (arm-protocol/arm-rpc-common-api-details.md).
    return tuple(part.lower() for part in parts)


def iso_time(now: float) -> str:
    return datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Connection:
    name: str
    private_endpoint_id: str
    status: str
    description: str | None
    group_id: str
    #: None = the type's settled state; otherwise an interim (or sticky) provisioningState.
    provisioning_state: str | None = None
    etag: str | None = None
    modified: float = field(default_factory=time.time)


@dataclass
class Resource:
    """A parent resource of any Private Link type (a Cosmos DB account is one with ``ptype`` COSMOS)."""

    subscription_id: str
    resource_group: str
    name: str
    location: str
    ptype: ProviderType = COSMOS
    tags: dict[str, str] = field(default_factory=dict)
    connections: dict[str, Connection] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/{self.ptype.resource_type}/{self.name}")

    @property
    def key(self) -> tuple[str, ...]:
        return _key(self.ptype.key, self.subscription_id, self.resource_group, self.name)


Account = Resource  # the Cosmos-only name, kept for callers


def connection_body(resource: Resource, connection: Connection) -> dict[str, Any]:
    """The connection exactly as the type's GET returns it."""
    ptype = resource.ptype
    link_state: dict[str, Any] = {"status": connection.status}
    if connection.description is not None:
        link_state["description"] = connection.description
    if ptype.actions_field:
        link_state[ptype.actions_field] = "None"
    conn_id = f"{resource.id}/privateEndpointConnections/{connection.name}"
    if ptype.style == "cosmos":  # key order as recorded
        return {
            "name": connection.name,
            "type": CONNECTION_TYPE,
            "id": conn_id,
            "properties": {
                "provisioningState": "Succeeded",
                "groupId": connection.group_id,
                "privateEndpoint": {"id": connection.private_endpoint_id},
                "privateLinkServiceConnectionState": link_state,
            },
        }
    body: dict[str, Any] = {"id": conn_id, "name": connection.name, "type": ptype.connection_type}
    if ptype.connection_location:
        body["location"] = resource.location
    if connection.etag is not None:
        body["etag"] = connection.etag
    properties: dict[str, Any] = {
        "provisioningState": connection.provisioning_state or ptype.settled_state,
        "privateEndpoint": {"id": connection.private_endpoint_id},
        "privateLinkServiceConnectionState": link_state,
    }
    if ptype.group_field == "groupId":
        properties["groupId"] = connection.group_id
    elif ptype.group_field == "groupIds":
        properties["groupIds"] = [connection.group_id]
    body["properties"] = properties
    return body


def embedded_connection(resource: Resource, connection: Connection) -> dict[str, Any]:
    """A connection as the parent GET embeds it (providers.ProviderType.embeds)."""
    full = connection_body(resource, connection)
    if resource.ptype.embeds == "minimal":
        return {key: full[key] for key in ("id", "etag", "properties") if key in full}
    if resource.ptype.embeds == "id_properties":
        return {"id": full["id"], "properties": full["properties"]}
    return full


def parent_body(resource: Resource) -> dict[str, Any]:
    """The parent resource: the ARM envelope plus the embedded connections where the type embeds them."""
    properties: dict[str, Any] = {"provisioningState": "Succeeded"}
    if resource.ptype.embeds:
        properties["privateEndpointConnections"] = [embedded_connection(resource, c)
                                                    for c in resource.connections.values()]
    return {"id": resource.id, "name": resource.name, "type": resource.ptype.resource_type,
            "location": resource.location, "tags": dict(resource.tags), "properties": properties}


def generic_resource_body(resource: Resource) -> dict[str, Any]:
    """An item of ``GET /subscriptions/{sub}/resources`` (id, name, type, location, tags only)."""
    return {"id": resource.id, "name": resource.name, "type": resource.ptype.resource_type,
            "location": resource.location, "tags": dict(resource.tags)}


@dataclass
class Operation:
    """A long-running write or DELETE of one connection."""

    id: str
    action: str  # "put" | "delete"
    resource_key: tuple[str, ...]
    connection_name: str
    location: str
    subscription_id: str
    started: float
    duration: float
    dequeued_polls: int
    outcome: str | None  # "Succeeded" | "Failed" | "Canceled" | None (never ends)
    desired: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None
    polls: int = 0
    ended: bool = False
    fault: str | None = None
    style: str = "cosmos"

    @property
    def ends_at(self) -> float:
        return float("inf") if self.outcome is None else self.started + self.duration

    def poll(self) -> str:
        """Answer one status poll (caller holds the lock and has advanced the state)."""
        if self.style != "cosmos":
            # ARM's own vocabulary (arm-rpc-async-api-reference.md): InProgress until the end.
            self.polls += 1
            return str(self.outcome) if self.ended else "InProgress"
        # A first poll after the end answers the outcome (recordings/cosmosdb-404-flat-error.yaml: a
        # first poll 30 s after the PUT got Succeeded); polls that saw it running see the whole sequence.
        if self.ended and (self.polls == 0 or self.polls >= 1 + self.dequeued_polls):
            return str(self.outcome)
        status = "Enqueued" if self.polls == 0 else "Dequeued"
        self.polls += 1
        return status

    def status_body(self, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {"status": status}
        if status in ("Failed", "Canceled") and self.error:
            body["error"] = copy.deepcopy(self.error)
        return body


@dataclass
class TokenInfo:
    token: str
    expires_at: float
    resource: str
    tenant: str | None
    client_id: str | None
    source: str  # "aad" | "msi"


def _check_keys(raw: Any, allowed: set[str], where: str) -> None:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be an object")
    for name in raw:
        if name not in allowed:
            raise ValueError(f"{where}.{name}: unknown key" if where else f"{name}: unknown key")


def _seed_resource(raw: dict[str, Any], where: str, ptype: ProviderType, allowed: set[str]) -> Resource:
    _check_keys(raw, allowed, where)
    for required in ("subscription_id", "resource_group", "name"):
        if not isinstance(raw.get(required), str) or not raw[required]:
            raise ValueError(f"{where}.{required}: required (a non-empty string)")
    tags = raw.get("tags") or {}
    if not isinstance(tags, dict):
        raise ValueError(f"{where}.tags: must be an object")
    resource = Resource(subscription_id=raw["subscription_id"], resource_group=raw["resource_group"],
                        name=raw["name"], location=raw.get("location", "westus"), ptype=ptype, tags=dict(tags))
    for index, conn in enumerate(raw.get("connections", [])):
        at = f"{where}.connections[{index}]"
        _check_keys(conn, _CONNECTION_KEYS, at)
        if not isinstance(conn.get("name"), str) or not conn["name"]:
            raise ValueError(f"{at}.name: required (a non-empty string)")
        status = conn.get("status", "Pending")
        if status not in VALID_STATUSES:
            raise ValueError(f"{at}.status: invalid status {status!r}; expected one of {list(VALID_STATUSES)}")
        pe_name = conn["name"].split(".")[0]
        description = conn.get("description")
        if "description" not in conn and status == "Approved":
            description = ptype.auto_approved
        resource.connections[conn["name"].lower()] = Connection(
            name=conn["name"],
            private_endpoint_id=conn.get(
                "private_endpoint_id",
                f"/subscriptions/{resource.subscription_id}/resourceGroups/{resource.resource_group}"
                f"/providers/Microsoft.Network/privateEndpoints/{pe_name}"),
            status=status,
            description=description,
            group_id=conn.get("group_id", ptype.default_group),
            # Key Vault has no etag before the first write (keyvault recording); the others have one.
            etag=None if ptype.etag in (None, "kv") else ptype.new_etag(),
        )
    return resource


def parse_seed(seed: dict[str, Any]) -> tuple[dict[tuple[str, ...], Resource], dict[tuple[str, ...], str]]:
    """Validate a seed and build its resources and resource groups; ValueError names the bad key path."""
    _check_keys(seed, SEED_KEYS, "")
    resources: dict[tuple[str, ...], Resource] = {}
    groups: dict[tuple[str, ...], str] = {}
    for index, group in enumerate(seed.get("resource_groups", [])):
        _check_keys(group, _GROUP_KEYS, f"resource_groups[{index}]")
        groups[_key(group["subscription_id"], group["name"])] = group["name"]
    # accounts[] are Cosmos DB accounts (the original seed format); resources[] name their type.
    entries = [(f"accounts[{i}]", raw, COSMOS, _RESOURCE_KEYS - {"type"})
               for i, raw in enumerate(seed.get("accounts", []))]
    for index, raw in enumerate(seed.get("resources", [])):
        where = f"resources[{index}]"
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: must be an object")
        ptype = provider(str(raw.get("type", "")))
        if ptype is None:
            raise ValueError(f"{where}.type: unknown resource type {raw.get('type')!r}")
        entries.append((where, raw, ptype, _RESOURCE_KEYS))
    for where, raw, ptype, allowed in entries:
        resource = _seed_resource(raw, where, ptype, allowed)
        if resource.key in resources:
            raise ValueError(f"{where}.name: duplicate resource {resource.id!r}")
        groups.setdefault(_key(resource.subscription_id, resource.resource_group), resource.resource_group)
        resources[resource.key] = resource
    return resources, groups


def check_deny_policy(policy: Any) -> None:
    if policy is None:
        return
    _check_keys(policy, _DENY_POLICY_KEYS, "deny_policy")
    allowed = policy.get("allowed_endpoint_subscriptions")
    if allowed is not None and not (isinstance(allowed, list) and all(isinstance(s, str) for s in allowed)):
        raise ValueError("deny_policy.allowed_endpoint_subscriptions: a list of subscription ids or None")


class State:
    """All mutable emulator state; every public method takes ``lock``."""

    def __init__(self, op_duration: float = 0.3, dequeued_polls: int = 1,
                 retry_after: int | str | None = None) -> None:
        self.lock = threading.RLock()
        self.op_duration = op_duration
        self.dequeued_polls = dequeued_polls
        self.retry_after = retry_after
        self.list_page_size: int | None = None
        self.deny_policy: dict[str, Any] | None = None
        self.resources: dict[tuple[str, ...], Resource] = {}
        self.resource_groups: dict[tuple[str, ...], str] = {}
        self.principals: list[dict[str, Any]] = []
        self.managed_identity: dict[str, Any] | None = None
        self.operations: dict[str, Operation] = {}
        self.tokens: dict[str, TokenInfo] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.issued: list[str] = []
        self.faults: list[FaultRule] = []
        self.log: list[dict[str, Any]] = []
        self._seq = 0
        self.rate_limits: dict[tuple[str, str], int] = {}
        # ARM's per-subscription token buckets (throttle.py) and Resource Graph (resourcegraph.py).
        self.throttle: Any = None
        self.graph_quota: Any = None
        self.throttler = Throttle()
        self.graph = ResourceGraph(rows=self.graph_rows)

    # ---- seed -------------------------------------------------------------------------------
    def load_seed(self, seed: dict[str, Any] | None, source: str = "seed") -> None:
        """Replace the world (resources, groups, principals); tokens, faults and the log are kept."""
        seed = copy.deepcopy(seed or {})
        check_seed(seed, source)
        resources, groups = parse_seed(seed)
        with self.lock:
            self.resources = resources
            self.resource_groups = groups
            self.principals = list(seed.get("principals", []))
            self.managed_identity = seed.get("managed_identity")
            self.operations = {}

    def configure(self, **changes: Any) -> None:
        unknown = set(changes) - set(DEFAULT_SETTINGS)
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; allowed: {sorted(DEFAULT_SETTINGS)}")
        if "deny_policy" in changes:
            check_deny_policy(changes["deny_policy"])
        size = changes.get("list_page_size")
        if size is not None and (not isinstance(size, int) or size < 1):
            raise ValueError("list_page_size: a positive integer or None (unlimited)")
        throttle = changes.get("throttle")
        if throttle is not None and not isinstance(throttle, dict):
            raise ValueError("throttle: a mapping like {enabled: true, writes: [200, 10]} or None (off)")
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, copy.deepcopy(value))
            if "throttle" in changes:
                # None switches it off and restores ARM's bucket sizes (limits stay as ARM has them).
                self.throttler = Throttle()
                if throttle:
                    self.throttler.configure(**{k: (tuple(v) if k != "enabled" else v) for k, v in throttle.items()})
            if "graph_quota" in changes:
                quota = changes["graph_quota"] or {}
                self.graph = ResourceGraph(rows=self.graph_rows, quota=quota.get("quota", 15),
                                           window=quota.get("window", 5.0))

    def graph_rows(self, subscriptions: list[str]) -> list[dict[str, Any]]:
        """Every resource of these subscriptions as Resource Graph shows it (its GET body mirrored)."""
        wanted = {sub.lower() for sub in subscriptions}
        with self.lock:
            return [row_from_resource(parent_body(resource)) for resource in self.resources.values()
                    if resource.subscription_id.lower() in wanted]

    # ---- lookups ----------------------------------------------------------------------------
    def resource_group_exists(self, sub: str, rg: str) -> bool:
        return _key(sub, rg) in self.resource_groups

    @property
    def accounts(self) -> dict[tuple[str, ...], Resource]:
        """The Cosmos DB accounts (the emulator's original world)."""
        return {k: r for k, r in self.resources.items() if r.ptype is COSMOS}

    def resource(self, ptype: ProviderType, sub: str, rg: str, name: str) -> Resource | None:
        return self.resources.get(_key(ptype.key, sub, rg, name))

    def account(self, sub: str, rg: str, name: str) -> Resource | None:
        return self.resource(COSMOS, sub, rg, name)

    def resources_of(self, ptype: ProviderType, sub: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.ptype is ptype and r.subscription_id.lower() == sub.lower()]

    def get_connection(self, sub: str, rg: str, account: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            self.advance()
            acct = self.account(sub, rg, account)
            if acct is None:
                return None
            conn = acct.connections.get(name.lower())
            return None if conn is None else connection_body(acct, conn)

    def find_connection(self, connection_id: str) -> tuple[Resource, Connection | None] | None:
        """(resource, connection or None) for a full connection id, or None when the resource is unknown."""
        parts = [p for p in connection_id.split("/") if p]
        lowered = [p.lower() for p in parts]
        if (len(parts) != 10 or lowered[0] != "subscriptions" or lowered[2] != "resourcegroups"
                or lowered[4] != "providers" or lowered[8] != "privateendpointconnections"):
            return None
        ptype = provider(f"{parts[5]}/{parts[6]}")
        if ptype is None:
            return None
        with self.lock:
            resource = self.resource(ptype, parts[1], parts[3], parts[7])
            if resource is None:
                return None
            return resource, resource.connections.get(parts[9].lower())

    def connection_by_id(self, connection_id: str) -> dict[str, Any] | None:
        """The stored connection (as a GET of it would show it now), or None."""
        with self.lock:
            self.advance()
            found = self.find_connection(connection_id)
            if found is None or found[1] is None:
                return None
            return connection_body(found[0], found[1])

    def change_elsewhere(self, resource: Resource, connection: Connection, status: str,
                         description: str | None) -> None:
        """Someone else changed the connection (fault ``change_elsewhere``): new state, new etag."""
        with self.lock:
            connection.status = status
            connection.description = description
            connection.modified = time.time()
            if resource.ptype.etag is not None:
                connection.etag = resource.ptype.new_etag()

    # ---- operations -------------------------------------------------------------------------
    def advance(self, now: float | None = None) -> None:
        """End every operation whose time has come, applying successful ones in end order."""
        now = time.time() if now is None else now
        with self.lock:
            due = sorted((op for op in self.operations.values() if not op.ended and op.ends_at <= now),
                         key=lambda op: op.ends_at)
            for op in due:
                op.ended = True
                self._finish(op)

    def _finish(self, op: Operation) -> None:
        resource = self.resources.get(op.resource_key)
        if resource is None:
            return
        ptype = resource.ptype
        key = op.connection_name.lower()
        conn = resource.connections.get(key)
        if op.outcome != "Succeeded":
            if conn is not None and ptype.style != "cosmos":
                conn.provisioning_state = "Failed" if op.outcome == "Failed" else None
            return
        if op.action == "delete":
            resource.connections.pop(key, None)
            return
        if conn is None:  # deleted meanwhile: an update does not resurrect it
            return
        conn.status = op.desired["status"]
        if "description" in op.desired:
            conn.description = op.desired["description"]
        conn.provisioning_state = ptype.sticky_state
        conn.modified = time.time()
        if ptype.etag is not None and ptype.style != "cosmos":
            conn.etag = ptype.new_etag()

    @staticmethod
    def _begin(op: Operation, resource: Resource, conn: Connection) -> None:
        """The effect visible from the operation's start (none for Cosmos DB)."""
        ptype = resource.ptype
        if ptype.style == "cosmos":
            return
        conn.modified = op.started
        if op.action == "delete":
            conn.provisioning_state = ptype.interim_delete
            return
        if ptype.style == "keyvault":
            # The PUT's answer already shows the new state (keyvault recording).
            conn.status = op.desired["status"]
            conn.description = op.desired.get("description")
            conn.provisioning_state = "Updating"
            conn.etag = ptype.new_etag()
            return
        conn.provisioning_state = ptype.interim_for(op.desired["status"])

    def apply_now(self, resource: Resource, conn: Connection, action: str, desired: dict[str, Any]) -> None:
        """A synchronous write or delete (style ``sync``)."""
        with self.lock:
            if action == "delete":
                resource.connections.pop(conn.name.lower(), None)
                return
            conn.status = desired["status"]
            conn.description = desired.get("description")
            conn.modified = time.time()
            if resource.ptype.etag is not None:
                conn.etag = resource.ptype.new_etag()

    def start_operation(self, action: str, resource: Resource, connection_name: str,
                        desired: dict[str, Any], fault: FaultRule | None) -> Operation:
        with self.lock:
            outcome: str | None = "Succeeded"
            error = None
            if fault is not None:
                if fault.action == "operation_never_ends":
                    outcome = None
                else:
                    outcome = "Failed" if fault.action == "operation_failed" else "Canceled"
                    default_code = "InternalServerError" if outcome == "Failed" else "OperationCanceled"
                    default_message = ("The operation failed with an internal error." if outcome == "Failed"
                                       else "The operation was canceled.")
                    error = {
                        "code": fault.params.get("code", default_code),
                        "message": fault.params.get("message", default_message),
                        "details": fault.params.get("details", [
                            {"code": fault.params.get("code", default_code),
                             "message": fault.params.get("message", default_message)}]),
                    }
            op = Operation(
                id=str(uuid.uuid4()), action=action, resource_key=resource.key,
                connection_name=connection_name, location=resource.location,
                subscription_id=resource.subscription_id, started=time.time(),
                duration=float(self.op_duration), dequeued_polls=int(self.dequeued_polls),
                outcome=outcome, desired=desired, error=error,
                fault=fault.id if fault else None,
                style=resource.ptype.delete_as if action == "delete" else resource.ptype.style,
            )
            self.operations[op.id] = op
            conn = resource.connections.get(connection_name.lower())
            if conn is not None:
                self._begin(op, resource, conn)
            return op

    # ---- rate-limit headers -----------------------------------------------------------------
    def remaining(self, subscription: str, kind: str) -> int:
        """Decreasing x-ms-ratelimit-remaining-subscription-{reads,writes,deletes} counters."""
        start = {"reads": 11999, "writes": 1199, "deletes": 14999}[kind]
        with self.lock:
            key = (subscription.lower(), kind)
            value = self.rate_limits.get(key, start + 1) - 1
            self.rate_limits[key] = max(value, 0)
            return self.rate_limits[key]

    # ---- tokens -----------------------------------------------------------------------------
    def issue_token(self, resource: str, tenant: str | None, client_id: str | None, source: str,
                    lifetime: float = TOKEN_LIFETIME) -> TokenInfo:
        info = TokenInfo(token=secrets.token_urlsafe(48), expires_at=time.time() + lifetime,
                         resource=resource, tenant=tenant, client_id=client_id, source=source)
        with self.lock:
            self.tokens[info.token] = info
            self.issued.append(info.token)
        return info

    def issue_refresh_token(self, grant: dict[str, Any]) -> str:
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.refresh_tokens[token] = dict(grant)
            self.issued.append(token)
        return token

    def token(self, value: str) -> TokenInfo | None:
        with self.lock:
            return self.tokens.get(value)

    # ---- faults -----------------------------------------------------------------------------
    def add_fault(self, rule: FaultRule) -> str:
        with self.lock:
            self.faults.append(rule)
        return rule.id

    def clear_faults(self) -> None:
        with self.lock:
            self.faults = []

    def take_fault(self, kind: str, method: str, path: str, actions: frozenset[str]) -> FaultRule | None:
        """Consume one firing of the first live rule matching this request among ``actions``."""
        with self.lock:
            for rule in self.faults:
                if rule.action in actions and rule.matches(kind, method, path):
                    rule.hits += 1
                    return rule
        return None

    # ---- request log ------------------------------------------------------------------------
    def record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self._seq += 1
            entry["seq"] = self._seq
            self.log.append(entry)

    def requests(self, kind: str | None = None, include_admin: bool = False) -> list[dict[str, Any]]:
        with self.lock:
            entries = [e for e in self.log
                       if (kind is None and (include_admin or e["kind"] != "admin")) or e["kind"] == kind]
            return copy.deepcopy(entries)

    def clear_requests(self) -> None:
        with self.lock:
            self.log = []

    # ---- introspection ----------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            self.advance()

            def described(r: Resource) -> dict[str, Any]:
                return {"type": r.ptype.resource_type, "subscription_id": r.subscription_id,
                        "resource_group": r.resource_group, "name": r.name, "location": r.location,
                        "tags": dict(r.tags), "connections": [connection_body(r, c) for c in r.connections.values()]}

            return {
                "accounts": [{k: v for k, v in described(a).items() if k not in ("type", "tags")}
                             for a in self.accounts.values()],
                "resources": [described(r) for r in self.resources.values()],
                "resource_groups": [{"subscription_id": k[0], "name": v} for k, v in self.resource_groups.items()],
                "operations": [
                    {"id": op.id, "action": op.action, "connection": op.connection_name,
                     "outcome": op.outcome, "ended": op.ended, "polls": op.polls, "fault": op.fault}
                    for op in self.operations.values()
                ],
                "faults": [rule.describe() for rule in self.faults],
                "config": {name: copy.deepcopy(getattr(self, name)) for name in DEFAULT_SETTINGS},
            }
