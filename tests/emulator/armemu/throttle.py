# SPDX-License-Identifier: GPL-3.0-or-later
"""ARM subscription throttling: a token bucket per (subscription, kind), kind in reads/writes/deletes.

Interface (for server.py)::

    throttle = Throttle(enabled=False, clock=time.monotonic)      # off by default: headers only
    allowed, headers = throttle.take(subscription_id, method)     # one token of the method's kind
    # always add ``headers`` to the answer; if not allowed, answer instead:
    #   429 {"error":{"code":"SubscriptionRequestsThrottled","message": throttle.message(...)}} + headers
    # (``headers`` then already carries Retry-After).
    throttle.configure(enabled=True, reads=(250, 25.0))            # (bucket size, refill per second)

Where the numbers come from:
- Kinds: GET/HEAD are reads, DELETE deletes, everything else (PUT/PATCH/POST) writes — the header
  names of arm-protocol/docs-excerpts-cosmos-privatelink-and-arm.md §4
  (``x-ms-ratelimit-remaining-subscription-reads|writes|deletes``).
- Bucket sizes: the 2024–2025 recordings (recordings/other-providers/batch-*, search-*) answer the first
  write/delete with ``x-ms-ratelimit-remaining-subscription-writes|deletes: 199`` and
  ``...-global-writes|deletes: 2999``, the first read with ``...-global-reads: 3749``: buckets of 200 and
  3000/3750. The stored doc has only the older hourly limits (12000 reads / 1200 writes / 15000 deletes);
  the read bucket (250) and the refill rates (reads 25/s, writes and deletes 10/s) are ARM's published
  token-bucket figures; the global refill rates are scaled from those in the bucket-size ratio (an
  assumption: nothing recorded shows them).
- 429: the documented Retry-After (seconds to wait) and the ``SubscriptionRequestsThrottled`` body seen
  in the wild (same doc, §4). Retry-After here is the whole number of seconds until one token is back.

With ``enabled=False`` (the default) every request is allowed and the counters still go down and refill,
so the headers look as ARM's do.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

KINDS = ("reads", "writes", "deletes")
# (bucket size, refill per second)
DEFAULT_LIMITS: dict[str, tuple[int, float]] = {"reads": (250, 25.0), "writes": (200, 10.0), "deletes": (200, 10.0)}
DEFAULT_GLOBAL_LIMITS: dict[str, tuple[int, float]] = {
    "reads": (3750, 375.0), "writes": (3000, 150.0), "deletes": (3000, 150.0)}
SINGULAR = {"reads": "read", "writes": "write", "deletes": "delete"}


def kind_of(method: str) -> str:
    """ARM's throttling kind of an HTTP method."""
    method = method.upper()
    if method in ("GET", "HEAD"):
        return "reads"
    if method == "DELETE":
        return "deletes"
    return "writes"


@dataclass
class _Bucket:
    size: int
    refill: float
    tokens: float
    stamp: float

    def level(self, now: float) -> float:
        self.tokens = min(float(self.size), self.tokens + (now - self.stamp) * self.refill)
        self.stamp = now
        return self.tokens

    def seconds_until_token(self) -> int:
        missing = 1.0 - self.tokens
        return max(1, math.ceil(missing / self.refill)) if self.refill > 0 else 3600


class Throttle:
    """Token buckets per (subscription, kind), plus one "global" bucket per (subscription, kind)."""

    def __init__(self, enabled: bool = False, limits: dict[str, tuple[int, float]] | None = None,
                 global_limits: dict[str, tuple[int, float]] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.enabled = enabled
        self.limits = {**DEFAULT_LIMITS, **(limits or {})}
        self.global_limits = {**DEFAULT_GLOBAL_LIMITS, **(global_limits or {})}
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, str, str], _Bucket] = {}

    def configure(self, enabled: bool | None = None, **limits: tuple[int, float]) -> None:
        """Switch on/off and change (size, refill) per kind (``reads=(250, 25)``); resets the buckets."""
        unknown = set(limits) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown throttle kinds {sorted(unknown)}; known: {list(KINDS)}")
        with self._lock:
            if enabled is not None:
                self.enabled = bool(enabled)
            for kind, (size, refill) in limits.items():
                self.limits[kind] = (int(size), float(refill))
            self._buckets = {}

    def reset(self) -> None:
        with self._lock:
            self._buckets = {}

    def _bucket(self, scope: str, subscription: str, kind: str, now: float) -> _Bucket:
        key = (scope, subscription.lower(), kind)
        bucket = self._buckets.get(key)
        if bucket is None:
            size, refill = (self.limits if scope == "subscription" else self.global_limits)[kind]
            bucket = self._buckets[key] = _Bucket(size=size, refill=refill, tokens=float(size), stamp=now)
        bucket.level(now)
        return bucket

    def take(self, subscription: str, method: str) -> tuple[bool, dict[str, str]]:
        """Spend one token of ``method``'s kind; (allowed, headers to add to the answer)."""
        kind = kind_of(method)
        with self._lock:
            now = self._clock()
            local = self._bucket("subscription", subscription, kind, now)
            world = self._bucket("global", subscription, kind, now)
            refused = self.enabled and (local.tokens < 1 or world.tokens < 1)
            if not refused:
                local.tokens = max(0.0, local.tokens - 1)
                world.tokens = max(0.0, world.tokens - 1)
            headers = {
                f"x-ms-ratelimit-remaining-subscription-{kind}": str(int(local.tokens)),
                f"x-ms-ratelimit-remaining-subscription-global-{kind}": str(int(world.tokens)),
            }
            if refused:
                wait = max(local.seconds_until_token() if local.tokens < 1 else 0,
                           world.seconds_until_token() if world.tokens < 1 else 0)
                headers["Retry-After"] = str(wait)
            return not refused, headers

    @staticmethod
    def message(subscription: str, method: str, retry_after: str, actor: str = "") -> str:
        """The 429 message in the shape seen in the wild (docs-excerpts §4)."""
        kind = SINGULAR[kind_of(method)]
        actor_part = f" actor '{actor}'" if actor else ""
        return (f"Number of '{kind}' requests for subscription '{subscription}'{actor_part} exceeded. "
                f"Please try again after '{retry_after}' seconds.")
