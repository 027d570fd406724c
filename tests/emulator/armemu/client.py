# SPDX-License-Identifier: GPL-3.0-or-later
"""``EmulatorControl``: the :class:`armemu.Emulator` control methods over the ``/_emulator/`` admin API.

For tests and benches that talk to an emulator started in another process with ``armemu serve``.
Standard library only (urllib + ssl), verifying the server against the emulator's CA.
"""
from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class EmulatorControlError(RuntimeError):
    """The admin API refused a call (bad seed, unknown fault action, ...)."""


class EmulatorControl:
    def __init__(self, base_url: str, ca_file: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.ca_file = ca_file
        self._context = ssl.create_default_context(cafile=ca_file)
        self._timeout = timeout

    @classmethod
    def from_info_file(cls, path: str) -> EmulatorControl:
        with open(path, encoding="utf-8") as handle:
            info = json.load(handle)
        return cls(info["base_url"], info["ca_file"])

    def _call(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        url = f"{self.base_url}/_emulator/{path}"
        if query:
            url = f"{url}?{urllib.parse.urlencode(query)}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method,
                                         headers={"Content-Type": "application/json"} if data else {})
        try:
            with urllib.request.urlopen(request, context=self._context, timeout=self._timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as exc:
            raise EmulatorControlError(f"{method} {path}: HTTP {exc.code}: {exc.read().decode(errors='replace')}") \
                from None
        return json.loads(payload) if payload else None

    def info(self) -> dict[str, Any]:
        return self._call("GET", "info")

    @property
    def identity_endpoint(self) -> str:
        return f"{self.base_url}/msi/token"

    def seed(self, seed: dict[str, Any]) -> None:
        self._call("POST", "seed", seed)

    def configure(self, **settings: Any) -> None:
        self._call("POST", "config", settings)

    def add_fault(self, action: str, **rule: Any) -> str:
        return self._call("POST", "faults", {"action": action, **rule})["id"]

    def clear_faults(self) -> None:
        self._call("DELETE", "faults")

    def requests(self, kind: str | None = None) -> list[dict[str, Any]]:
        return self._call("GET", "requests", query={"kind": kind} if kind else None)

    def clear_requests(self) -> None:
        self._call("DELETE", "requests")

    def connection(self, sub: str, rg: str, account: str, name: str) -> dict[str, Any] | None:
        return self._call("GET", "connection", query={"sub": sub, "rg": rg, "account": account, "name": name})

    def connection_by_id(self, connection_id: str) -> dict[str, Any] | None:
        """The stored connection of any type (by its full id), or None."""
        return self._call("GET", "connection", query={"id": connection_id})

    def issued_tokens(self) -> list[str]:
        return self._call("GET", "tokens")

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")
