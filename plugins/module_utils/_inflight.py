# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""One writer per connection among the module runs on this controller.

While Cosmos DB runs an update, a GET still shows the old state (recordings/
cosmosdb-pec-network-inflight.yaml), so a second run that only compared states would send a
second PUT. Each write therefore holds an exclusive lock file for its connection from the GET to
the end of the operation; a concurrent run waits for it, then reads the new state and finds
nothing to do. A write started with ``wait: false`` leaves its operation URL in the lock file, and
the next writer follows that operation to its end before reading.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import typing as t

from ansible_collections.privatelink.azure.plugins.module_utils._errors import CollectionError

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX controller: no cross-process protection
    fcntl = None  # type: ignore[assignment]

# A recorded operation older than this is not followed any more (ARM keeps operation status
# for a limited time, and no Cosmos DB connection update takes this long).
PENDING_MAX_AGE = 6 * 3600


class LockTimeout(CollectionError):
    """Another run kept the connection's lock longer than wait_timeout."""


def default_directory() -> str:
    return os.path.join(tempfile.gettempdir(), f"privatelink-azure-{os.getuid()}")


class ConnectionLock:
    """An exclusive lock on one connection, with the operation a previous writer left running."""

    def __init__(self, resource_id: str, timeout: float, directory: str | None = None,
                 sleep: t.Callable[[float], None] = time.sleep,
                 clock: t.Callable[[], float] = time.monotonic) -> None:
        self.resource_id = resource_id
        self.timeout = timeout
        self.directory = directory or default_directory()
        key = hashlib.sha256(resource_id.lower().encode()).hexdigest()[:32]
        self.path = os.path.join(self.directory, f"{key}.lock")
        self._sleep = sleep
        self._clock = clock
        self._fd: int | None = None

    def __enter__(self) -> ConnectionLock:
        if fcntl is None:
            return self
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = self._clock() + self.timeout
        delay = 0.05
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if self._clock() >= deadline:
                    os.close(self._fd)
                    self._fd = None
                    raise LockTimeout(
                        f"Another run on this controller has been changing {self.resource_id} for more than "
                        f"wait_timeout ({self.timeout:.0f} s); not writing it a second time") from None
                self._sleep(delay)
                delay = min(delay * 2, 0.5)

    def __exit__(self, *exc_info: t.Any) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def pending(self) -> dict[str, t.Any] | None:
        """The operation a previous ``wait: false`` writer left running, if recent."""
        if self._fd is None:
            return None
        os.lseek(self._fd, 0, os.SEEK_SET)
        raw = os.read(self._fd, 65536)
        try:
            record = json.loads(raw) if raw else None
        except ValueError:
            return None
        if not isinstance(record, dict) or not isinstance(record.get("url"), str):
            return None
        if time.time() - float(record.get("started", 0)) > PENDING_MAX_AGE:
            return None
        return record

    def record(self, url: str | None, uses_async_header: bool = True) -> None:
        """Leave (or, with None, clear) the operation that is still running after we return."""
        if self._fd is None:
            return
        os.ftruncate(self._fd, 0)
        if url:
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, json.dumps({"url": url, "async": uses_async_header, "started": time.time()}).encode())
