# SPDX-License-Identifier: GPL-3.0-or-later
"""The in-process emulator object (``armemu.Emulator``) and the ``/_emulator/`` admin API behind it.

One HTTPS listener serves ARM (management.azure.com), the AAD authority (login.microsoftonline.com)
and the App Service managed-identity endpoint, so ``base_url`` is both the ARM endpoint and the
authority host. See README.md for the seed format and the fault actions.
"""
from __future__ import annotations

import json
import secrets
import shutil
import ssl
import tempfile
import threading
from typing import Any

from .certs import create_pki
from .faults import FaultRule
from .server import EmulatorHTTPServer, Reply
from .state import State


class AdminApi:
    """``/_emulator/*``: the same controls as :class:`Emulator`, for a CLI-started emulator."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator

    def handle(self, method: str, path: list[str], query: dict[str, str], raw_body: bytes) -> Reply:
        emu = self.emulator
        try:
            body = json.loads(raw_body) if raw_body else {}
        except ValueError:
            return Reply(400, {"error": "body must be JSON"})
        route = (method, "/".join(path))
        try:
            if route == ("GET", "requests"):
                return Reply(200, emu.requests(query.get("kind") or None,
                                               include_admin=query.get("include_admin") == "1"))
            if route == ("DELETE", "requests"):
                emu.clear_requests()
                return Reply(204)
            if route == ("POST", "seed"):
                emu.seed(body)
                return Reply(204)
            if route == ("POST", "config"):
                emu.configure(**body)
                return Reply(204)
            if route == ("POST", "faults"):
                return Reply(201, {"id": emu.add_fault(**body)})
            if route == ("DELETE", "faults"):
                emu.clear_faults()
                return Reply(204)
            if route == ("GET", "state"):
                return Reply(200, emu.state_snapshot())
            if route == ("GET", "tokens"):
                return Reply(200, emu.issued_tokens())
            if route == ("GET", "connection"):
                if "id" in query:
                    return Reply(200, emu.connection_by_id(query["id"]))
                return Reply(200, emu.connection(query["sub"], query["rg"], query["account"], query["name"]))
            if route == ("GET", "info"):
                return Reply(200, emu.info())
        except (TypeError, ValueError, KeyError) as exc:
            return Reply(400, {"error": f"{type(exc).__name__}: {exc}"})
        return Reply(404, {"error": f"no admin route {method} /_emulator/{'/'.join(path)}"})


class Emulator:
    """A stateful HTTPS emulator of ARM privateEndpointConnections (every type of providers.py), plus token
    endpoints.

    ``op_duration`` seconds is how long a PUT/DELETE runs; ``dequeued_polls`` is the minimum number of
    ``Dequeued`` poll answers before a terminal status; ``retry_after`` (None = no header, as recorded)
    adds ``Retry-After`` to 202s and running polls.
    """

    def __init__(self, seed: dict[str, Any] | None = None, host: str = "127.0.0.1", port: int = 0,
                 op_duration: float = 0.3, dequeued_polls: int = 1, retry_after: int | str | None = None,
                 state_dir: str | None = None) -> None:
        self.host = host
        self.port = port
        self._state = State(op_duration=op_duration, dequeued_polls=dequeued_polls, retry_after=retry_after)
        self._state.load_seed(seed)
        self.identity_header = secrets.token_hex(16)
        self._own_dir = state_dir is None
        self._dir = state_dir or tempfile.mkdtemp(prefix="armemu-")
        self._server: EmulatorHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.base_url = ""
        self.ca_file = ""

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> Emulator:
        if self._server is not None:
            return self
        pki = create_pki(self._dir, [self.host])
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(pki.cert_file, pki.key_file)
        self._server = EmulatorHTTPServer((self.host, self.port), context, self._state, self.identity_header,
                                          AdminApi(self))
        port = self._server.server_address[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self.base_url = f"https://{host}:{port}" if port != 443 else f"https://{host}"
        self._server.base_url = self.base_url
        self.port = port
        self.ca_file = pki.ca_file
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name=f"armemu-{port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._own_dir:
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def identity_endpoint(self) -> str:
        return f"{self.base_url}/msi/token"

    def info(self) -> dict[str, Any]:
        return {"base_url": self.base_url, "ca_file": self.ca_file, "identity_endpoint": self.identity_endpoint,
                "identity_header": self.identity_header}

    # ---- state and controls -----------------------------------------------------------------
    def seed(self, seed: dict[str, Any]) -> None:
        """Replace all resources, resource groups and principals (running operations are dropped).

        Raises ValueError naming the key path of the first error (e.g. ``resources[2].connections[0].stauts:
        unknown key``)."""
        self._state.load_seed(seed)

    def configure(self, **settings: Any) -> None:
        """Change settings: ``op_duration`` / ``dequeued_polls`` / ``retry_after`` (operations started
        afterwards), ``list_page_size`` (None = one page), ``deny_policy`` (None = off; see README)."""
        self._state.configure(**settings)

    def add_fault(self, action: str, **rule: Any) -> str:
        """Add a fault rule (see faults.FaultRule.build); returns its id."""
        return self._state.add_fault(FaultRule.build(action, **rule))

    def clear_faults(self) -> None:
        self._state.clear_faults()

    def requests(self, kind: str | None = None, include_admin: bool = False) -> list[dict[str, Any]]:
        """The request log, oldest first (admin calls excluded unless asked for)."""
        return self._state.requests(kind, include_admin)

    def clear_requests(self) -> None:
        self._state.clear_requests()

    def connection(self, sub: str, rg: str, account: str, name: str) -> dict[str, Any] | None:
        """The stored Cosmos DB connection as ARM would return it now, or None."""
        return self._state.get_connection(sub, rg, account, name)

    def connection_by_id(self, connection_id: str) -> dict[str, Any] | None:
        """The stored connection of any type, by its full id, as a GET would show it now, or None."""
        return self._state.connection_by_id(connection_id)

    def issued_tokens(self) -> list[str]:
        """Every access (and refresh) token issued so far, for secret-leak checks."""
        with self._state.lock:
            return list(self._state.issued)

    def state_snapshot(self) -> dict[str, Any]:
        return self._state.snapshot()
