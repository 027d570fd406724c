# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault rules: switchable misbehaviour of the emulator, one rule per failure a client must survive.

Each rule matches on request kind ("arm", "operation", "token", "msi", ...), HTTP method and a path
substring, fires ``times`` times (None = forever) and is then spent. The actions mirror failures seen
against the real service: ARM front-door throttling (429 ``SubscriptionRequestsThrottled`` with
Retry-After, see arm-protocol/docs-excerpts-cosmos-privatelink-and-arm.md §4), gateway errors and
HTML proxy pages, dropped connections, slow answers, gzip bodies (recordings/cosmosdb-lro-unfiltered-
headers.yaml), long-running operations that end Failed/Canceled or never end, AAD token errors, and a
connection changed by someone else between a client's read and its write (``change_elsewhere``).
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

#: Actions applied to the HTTP response of the matching request.
RESPONSE_ACTIONS = frozenset({"status", "drop", "delay", "html", "gzip"})
#: Actions applied to the long-running operation started by the matching PUT/DELETE.
OPERATION_ACTIONS = frozenset({"operation_failed", "operation_canceled", "operation_never_ends"})
#: Actions applied by the token endpoints (AAD and managed identity).
TOKEN_ACTIONS = frozenset({"token_error", "token_expired"})
#: Actions applied to the state after the matching request was answered normally.
AFTER_ACTIONS = frozenset({"change_elsewhere"})
ACTIONS = RESPONSE_ACTIONS | OPERATION_ACTIONS | TOKEN_ACTIONS | AFTER_ACTIONS

# token_echo: the token endpoint answers an error that quotes the whole request (the form with the
# client secret or the federated assertion; for managed identity the query and the identity
# header), as a debugging proxy or a misbehaving endpoint does (aad.py, tests/e2e/test_secrets.py).
TOKEN_ECHO = "token_echo"
TOKEN_ACTIONS = TOKEN_ACTIONS | {TOKEN_ECHO}
ACTIONS = ACTIONS | {TOKEN_ECHO}

_UNSET: Any = object()
_ids = itertools.count(1)


@dataclass
class FaultRule:
    """One fault. ``kind``/``method``/``path_contains`` set to None match anything."""

    action: str
    kind: str | None = "arm"
    method: str | None = "PUT"
    path_contains: str | None = None
    times: int | None = 1
    params: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    hits: int = 0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; expected one of {sorted(ACTIONS)}")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be a positive integer or None (forever)")
        if not self.id:
            self.id = f"fault-{next(_ids)}"

    @classmethod
    def build(
        cls,
        action: str,
        kind: str | None = _UNSET,
        method: str | None = _UNSET,
        path_contains: str | None = None,
        times: int | None = 1,
        **params: Any,
    ) -> FaultRule:
        """Create a rule with defaults that fit the action.

        ARM actions default to ``kind="arm", method="PUT"`` (as documented in the API), ``change_elsewhere``
        to ``kind="arm", method="GET"`` (the read before a write); token actions default to any token
        endpoint (``kind`` None matches "token" and "msi", any method).
        """
        if action in AFTER_ACTIONS:
            kind = "arm" if kind is _UNSET else kind
            method = "GET" if method is _UNSET else method
        elif action in TOKEN_ACTIONS:
            kind = None if kind is _UNSET else kind
            method = None if method is _UNSET else method
        else:
            kind = "arm" if kind is _UNSET else kind
            method = "PUT" if method is _UNSET else method
        return cls(action=action, kind=kind, method=method, path_contains=path_contains,
                   times=times, params=params)

    def matches(self, kind: str, method: str, path: str) -> bool:
        if self.times is not None and self.hits >= self.times:
            return False
        if self.kind is not None and self.kind != kind:
            return False
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path_contains is not None and self.path_contains.lower() not in path.lower():
            return False
        return True

    @property
    def spent(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "action": self.action, "kind": self.kind, "method": self.method,
                "path_contains": self.path_contains, "times": self.times, "hits": self.hits,
                "params": dict(self.params)}
