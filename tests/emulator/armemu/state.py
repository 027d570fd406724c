# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's world: accounts, connections, running operations, issued tokens, faults, request log.

Everything here is guarded by one lock (``State.lock``); the HTTP layer takes it for each decision.

Behaviour mirrored from the recordings in /work/shared/azure-rest/recordings:
- resource bodies (``connection_body``): recordings/cosmosdb-pec-approve-reject-delete.yaml (GET);
  no ``description`` key when the connection has none, ``actionsRequired`` "None",
  ``provisioningState`` always "Succeeded".
- PUT/DELETE start an operation whose effect is applied only when it ends; until then GET shows the
  old state (recordings/cosmosdb-pec-network-inflight.yaml). Several operations on one connection may
  run at once (the same recording accepted a second PUT while the first was running); each applies its
  own change when it ends, in end-time order.
- Operation status sequence (``Operation.poll``): the first poll answers ``Enqueued``, later polls
  ``Dequeued``; ``Succeeded`` (or Failed/Canceled) is answered once ``op_duration`` seconds have passed
  AND at least ``dequeued_polls`` ``Dequeued`` answers were given, or at once to a first poll that
  comes after the end (recordings/cosmosdb-404-flat-error.yaml). With ``dequeued_polls=0`` this is
  the Enqueued -> Succeeded sequence of the approve in the recording, with 1 or 2 the reject/delete one.
  The resource state changes by time alone (a client that never polls still sees the change), so the
  status may lag the resource by the remaining Dequeued answers, as ARM's own status can.
"""
from __future__ import annotations

import copy
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from .faults import FaultRule

CONNECTION_TYPE = "Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections"
VALID_STATUSES = ("Approved", "Pending", "Rejected", "Disconnected")
TOKEN_LIFETIME = 3599


def _key(*parts: str) -> tuple[str, ...]:
    # ARM compares names in URLs case-insensitively (arm-protocol/arm-rpc-common-api-details.md).
    return tuple(part.lower() for part in parts)


@dataclass
class Connection:
    name: str
    private_endpoint_id: str
    status: str
    description: str | None
    group_id: str


@dataclass
class Account:
    subscription_id: str
    resource_group: str
    name: str
    location: str
    connections: dict[str, Connection] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/Microsoft.DocumentDB/databaseAccounts/{self.name}")


def connection_body(account: Account, connection: Connection) -> dict[str, Any]:
    """The resource exactly as ARM returns it (key order as recorded)."""
    link_state: dict[str, Any] = {"status": connection.status}
    if connection.description is not None:
        link_state["description"] = connection.description
    link_state["actionsRequired"] = "None"
    return {
        "name": connection.name,
        "type": CONNECTION_TYPE,
        "id": f"{account.id}/privateEndpointConnections/{connection.name}",
        "properties": {
            "provisioningState": "Succeeded",
            "groupId": connection.group_id,
            "privateEndpoint": {"id": connection.private_endpoint_id},
            "privateLinkServiceConnectionState": link_state,
        },
    }


@dataclass
class Operation:
    """A long-running PUT or DELETE of one connection."""

    id: str
    action: str  # "put" | "delete"
    account_key: tuple[str, ...]
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

    @property
    def ends_at(self) -> float:
        return float("inf") if self.outcome is None else self.started + self.duration

    def poll(self) -> str:
        """Answer one status poll (caller holds the lock and has advanced the state)."""
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


class State:
    """All mutable emulator state; every public method takes ``lock``."""

    def __init__(self, op_duration: float = 0.3, dequeued_polls: int = 1,
                 retry_after: int | str | None = None) -> None:
        self.lock = threading.RLock()
        self.op_duration = op_duration
        self.dequeued_polls = dequeued_polls
        self.retry_after = retry_after
        self.accounts: dict[tuple[str, ...], Account] = {}
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

    # ---- seed -------------------------------------------------------------------------------
    def load_seed(self, seed: dict[str, Any] | None) -> None:
        """Replace the world (accounts, groups, principals); tokens, faults and the log are kept."""
        seed = copy.deepcopy(seed or {})
        accounts: dict[tuple[str, ...], Account] = {}
        groups: dict[tuple[str, ...], str] = {}
        for group in seed.get("resource_groups", []):
            groups[_key(group["subscription_id"], group["name"])] = group["name"]
        for raw in seed.get("accounts", []):
            account = Account(subscription_id=raw["subscription_id"], resource_group=raw["resource_group"],
                              name=raw["name"], location=raw.get("location", "westus"))
            groups.setdefault(_key(account.subscription_id, account.resource_group), account.resource_group)
            for conn in raw.get("connections", []):
                status = conn.get("status", "Pending")
                if status not in VALID_STATUSES:
                    raise ValueError(f"seed: connection {conn.get('name')!r} has invalid status {status!r}")
                pe_name = conn["name"].split(".")[0]
                account.connections[conn["name"].lower()] = Connection(
                    name=conn["name"],
                    private_endpoint_id=conn.get(
                        "private_endpoint_id",
                        f"/subscriptions/{account.subscription_id}/resourceGroups/{account.resource_group}"
                        f"/providers/Microsoft.Network/privateEndpoints/{pe_name}"),
                    status=status,
                    description=conn.get("description"),
                    group_id=conn.get("group_id", "Sql"),
                )
            accounts[_key(account.subscription_id, account.resource_group, account.name)] = account
        with self.lock:
            self.accounts = accounts
            self.resource_groups = groups
            self.principals = list(seed.get("principals", []))
            self.managed_identity = seed.get("managed_identity")
            self.operations = {}

    def configure(self, **changes: Any) -> None:
        allowed = {"op_duration", "dequeued_polls", "retry_after"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"unknown settings {sorted(unknown)}; allowed: {sorted(allowed)}")
        with self.lock:
            for name, value in changes.items():
                setattr(self, name, value)

    # ---- lookups ----------------------------------------------------------------------------
    def resource_group_exists(self, sub: str, rg: str) -> bool:
        return _key(sub, rg) in self.resource_groups

    def account(self, sub: str, rg: str, name: str) -> Account | None:
        return self.accounts.get(_key(sub, rg, name))

    def get_connection(self, sub: str, rg: str, account: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            self.advance()
            acct = self.account(sub, rg, account)
            if acct is None:
                return None
            conn = acct.connections.get(name.lower())
            return None if conn is None else connection_body(acct, conn)

    # ---- operations -------------------------------------------------------------------------
    def advance(self, now: float | None = None) -> None:
        """End every operation whose time has come, applying successful ones in end order."""
        now = time.time() if now is None else now
        with self.lock:
            due = sorted((op for op in self.operations.values() if not op.ended and op.ends_at <= now),
                         key=lambda op: op.ends_at)
            for op in due:
                op.ended = True
                if op.outcome == "Succeeded":
                    self._apply(op)

    def _apply(self, op: Operation) -> None:
        account = self.accounts.get(op.account_key)
        if account is None:
            return
        key = op.connection_name.lower()
        if op.action == "delete":
            account.connections.pop(key, None)
            return
        conn = account.connections.get(key)
        if conn is None:  # deleted meanwhile: an update does not resurrect it
            return
        conn.status = op.desired["status"]
        if "description" in op.desired:
            conn.description = op.desired["description"]

    def start_operation(self, action: str, account: Account, connection_name: str,
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
                id=str(uuid.uuid4()), action=action,
                account_key=_key(account.subscription_id, account.resource_group, account.name),
                connection_name=connection_name, location=account.location,
                subscription_id=account.subscription_id, started=time.time(),
                duration=float(self.op_duration), dequeued_polls=int(self.dequeued_polls),
                outcome=outcome, desired=desired, error=error,
                fault=fault.id if fault else None,
            )
            self.operations[op.id] = op
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
            return {
                "accounts": [
                    {"subscription_id": a.subscription_id, "resource_group": a.resource_group,
                     "name": a.name, "location": a.location,
                     "connections": [connection_body(a, c) for c in a.connections.values()]}
                    for a in self.accounts.values()
                ],
                "resource_groups": [{"subscription_id": k[0], "name": v} for k, v in self.resource_groups.items()],
                "operations": [
                    {"id": op.id, "action": op.action, "connection": op.connection_name,
                     "outcome": op.outcome, "ended": op.ended, "polls": op.polls, "fault": op.fault}
                    for op in self.operations.values()
                ],
                "faults": [rule.describe() for rule in self.faults],
                "config": {"op_duration": self.op_duration, "dequeued_polls": self.dequeued_polls,
                           "retry_after": self.retry_after},
            }
