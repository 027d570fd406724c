# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTPS front end: routing, ARM semantics of the privateEndpointConnections API, faults, request log.

What each answer mirrors (files under /work/shared/azure-rest/):
- GET/LIST bodies, PUT/DELETE 202 ``{"status":"Enqueued"}`` with ``Azure-AsyncOperation`` (under
  ``/subscriptions/{sub}/providers/Microsoft.DocumentDB/locations/{location}/operationsStatus/{id}``) and
  ``Location`` (``.../privateEndpointConnections/{name}/operationResults/{id}``), signed query
  ``t=&c=&s=&h=``, ``x-ms-ratelimit-remaining-subscription-writes``/``-deletes``:
  recordings/cosmosdb-pec-approve-reject-delete.yaml.
- No ``Retry-After`` on the 202 or the polls, ``x-ms-request-id`` == operation id on the 202, polls with
  a fresh ``x-ms-request-id`` == ``x-ms-correlation-request-id``, gzip poll bodies when the client
  accepts gzip: recordings/cosmosdb-lro-unfiltered-headers.yaml.
- Flat Cosmos DB errors ``{"code","message"}`` (404 NotFound, 400 BadRequest with ``ActivityId``):
  recordings/cosmosdb-404-flat-error.yaml and the Rejected->Approved refusal quoted in
  arm-protocol/docs-excerpts-cosmos-privatelink-and-arm.md §2.
- Wrapped ARM front-door errors ``{"error":{"code","message"}}`` (401, ResourceGroupNotFound,
  ParentResourceNotFound, api-version, throttling): arm-protocol/*.md.
- The Location URL answers 202 without body while running, then 200 + resource (PUT) or 204 (DELETE):
  arm-protocol/arm-rpc-async-api-reference.md. A Failed operation answers 500, a Canceled one 409,
  each with the wrapped operation error.
"""
from __future__ import annotations

import datetime
import gzip
import json
import secrets
import socket
import ssl
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from .aad import Aad
from .faults import OPERATION_ACTIONS, RESPONSE_ACTIONS, TOKEN_ACTIONS, FaultRule
from .state import VALID_STATUSES, Account, State, connection_body

API_VERSION = "2024-08-15"
COSMOS_SDK = "Microsoft.Azure.Documents.Common/2.14.0"
MANAGEMENT_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
PUT_STATUSES = ("Approved", "Rejected")
REDACTED = "<redacted>"
SECRET_FORM_FIELDS = ("client_secret", "client_assertion", "password", "refresh_token", "assertion")
SECRET_HEADERS = ("x-identity-header",)

_STATUS_CODES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "RequestTimeout",
                 409: "Conflict", 429: "SubscriptionRequestsThrottled", 500: "InternalServerError",
                 502: "BadGateway", 503: "ServiceUnavailable", 504: "GatewayTimeout"}


class Reply:
    """A response under construction."""

    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None,
                 compressible: bool = False, content_type: str = "application/json") -> None:
        self.status = status
        self.body = body
        self.headers = dict(headers or {})
        self.compressible = compressible
        self.content_type = content_type
        self.force_gzip = False
        self.drop = False

    def payload(self) -> bytes | None:
        if self.body is None:
            return None
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body, separators=(",", ":")).encode()


def wrapped_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, {"error": {"code": code, "message": message}}, headers)


def flat_error(status: int, code: str, message: str) -> Reply:
    # Cosmos DB RP errors are flat and carry an ActivityId line (recordings/cosmosdb-404-flat-error.yaml).
    return Reply(status, {"code": code, "message": f"{message}\r\nActivityId: {uuid.uuid4()}, {COSMOS_SDK}"})


def _dotnet_ticks(now: float) -> int:
    return int((now + 62135596800) * 10_000_000)


def _http_date(now: float) -> str:
    return datetime.datetime.fromtimestamp(now, datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    # Without TCP_NODELAY, the body written after the headers waited for the client's delayed ACK
    # (~40 ms on Linux) on every keep-alive response: a stall of the emulator, not of ARM, that
    # hid the client's own cost in every measurement.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - base-class signature
        pass  # the structured request log replaces the access log

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch()

    do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = do_GET  # noqa: N815

    # ---- dispatch ---------------------------------------------------------------------------
    def _dispatch(self) -> None:
        started = time.time()
        raw_path, _unused, raw_query = self.path.partition("?")
        segments = [unquote(s) for s in raw_path.split("/")[1:]]
        while segments and segments[-1] == "":
            segments.pop()
        path = "/" + "/".join(segments)
        query = dict(parse_qsl(raw_query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        method = self.command.upper()
        lowered = [s.lower() for s in segments]
        kind = self._classify(lowered)
        state = self.server.state

        fault: FaultRule | None = None
        if kind != "admin":
            fault = state.take_fault(kind, method, path, RESPONSE_ACTIONS)
        if fault is not None and fault.action == "delay":
            time.sleep(float(fault.params.get("seconds", 5)))
        try:
            if fault is not None and fault.action in ("status", "html"):
                reply = self._fault_reply(fault)
            else:
                reply = self._route(kind, method, segments, lowered, query, raw_body, fault)
        except Exception as exc:  # noqa: BLE001 - an emulator bug must be visible, not a hung client
            reply = wrapped_error(500, "EmulatorInternalError", f"{type(exc).__name__}: {exc}")
        if fault is not None and fault.action == "gzip":
            reply.force_gzip = True
        if fault is not None and fault.action == "drop":
            reply.drop = True
        self._common_headers(reply, kind)
        recorded = False

        def record(sent_headers: dict[str, str]) -> None:
            # Logged before the first byte of the answer leaves, so a client that has its answer
            # finds its request in the log; and logged even when the client is gone (it timed out
            # during a "delay"): it was received.
            nonlocal recorded
            if recorded or (kind == "admin" and not self.server.log_admin):
                return
            recorded = True
            state.record({
                "time": started, "kind": kind, "method": method, "path": path, "query": query,
                "status": reply.status, "request_headers": self._logged_headers(),
                "body": self._logged_body(kind, raw_body), "response_headers": sent_headers,
                "fault": fault.id if fault is not None else getattr(reply, "op_fault", None),
            })

        try:
            self._send(reply, record)
        finally:
            record(dict(reply.headers))

    @staticmethod
    def _classify(lowered: list[str]) -> str:
        if lowered[:1] == ["_emulator"]:
            return "admin"
        if lowered == ["msi", "token"]:
            return "msi"
        if lowered[:3] == ["common", "discovery", "instance"]:
            return "instance_discovery"
        if len(lowered) >= 2 and lowered[1] == "v2.0" and lowered[2:4] == [".well-known", "openid-configuration"]:
            return "discovery"
        if lowered[:2] == ["common", "userrealm"]:
            return "discovery"
        if len(lowered) >= 2 and lowered[1] == "oauth2":
            return "token"
        if "operationsstatus" in lowered or "operationresults" in lowered:
            return "operation"
        return "arm"

    def _route(self, kind: str, method: str, segments: list[str], lowered: list[str], query: dict[str, str],
               raw_body: bytes, fault: FaultRule | None) -> Reply:
        aad: Aad = self.server.aad
        correlation = self.headers.get("client-request-id") or str(uuid.uuid4())
        if kind == "admin":
            return self.server.admin.handle(method, lowered[1:], query, raw_body)
        if kind == "instance_discovery":
            return Reply(*aad.instance_discovery())
        if kind == "discovery" and method == "GET":
            if lowered[:2] == ["common", "userrealm"] and len(segments) >= 3:
                return Reply(*aad.user_realm(segments[2]))
            return Reply(*aad.openid_configuration(segments[0], correlation))
        if kind in ("token", "msi"):
            token_fault = self.server.state.take_fault(kind, method, "/" + "/".join(segments), TOKEN_ACTIONS)
            if kind == "msi" and method == "GET":
                reply = Reply(*aad.msi_token(query, self.headers.get("X-IDENTITY-HEADER"),
                                             self.server.identity_header, token_fault))
            elif kind == "token" and method == "POST" and lowered[1:4] == ["oauth2", "v2.0", "token"]:
                form = dict(parse_qsl(raw_body.decode(errors="replace"), keep_blank_values=True))
                reply = Reply(*aad.token(segments[0], form, correlation, token_fault))
            else:
                reply = Reply(404, {"error": "not_found", "error_description": "Endpoint not emulated."})
            reply.op_fault = token_fault.id if token_fault else None  # type: ignore[attr-defined]
            return reply
        return self._arm(kind, method, segments, lowered, query, raw_body)

    # ---- ARM --------------------------------------------------------------------------------
    def _authorize(self) -> Reply | None:
        base = self.server.base_url
        header = self.headers.get("Authorization")

        def unauthorized(code: str, message: str, description: str) -> Reply:
            return wrapped_error(401, code, message, {
                "WWW-Authenticate": (f'Bearer authorization_uri="{base}/", error="invalid_token", '
                                     f'error_description="{description}"')})

        if not header:
            return unauthorized("AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                                "The authentication failed because of missing 'Authorization' header.")
        scheme, _unused, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return unauthorized("AuthenticationFailed",
                                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                                "The authentication failed because of invalid 'Authorization' header.")
        info = self.server.state.token(token.strip())
        if info is None:
            return unauthorized("InvalidAuthenticationToken", "The access token is invalid.",
                                "The access token is invalid.")
        if info.expires_at <= time.time():
            expired = datetime.datetime.fromtimestamp(info.expires_at, datetime.timezone.utc)
            now = datetime.datetime.now(datetime.timezone.utc)
            return unauthorized(
                "ExpiredAuthenticationToken",
                f"The access token expiry UTC time '{expired:%m/%d/%Y %H:%M:%S}' is earlier than current UTC time "
                f"'{now:%m/%d/%Y %H:%M:%S}'.",
                "The access token has expired.")
        audiences = (*MANAGEMENT_AUDIENCES, base)
        if info.resource.rstrip("/").lower() not in audiences:
            return unauthorized(
                "InvalidAuthenticationToken",
                f"The access token has been obtained for wrong audience or resource '{info.resource}'. It should "
                "exactly match with one of the allowed audiences 'https://management.core.windows.net/',"
                "'https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
                "The access token has been obtained for wrong audience.")
        return None

    def _arm(self, kind: str, method: str, segments: list[str], lowered: list[str], query: dict[str, str],
             raw_body: bytes) -> Reply:
        state = self.server.state
        denied = self._authorize()
        if denied:
            return denied
        version = query.get("api-version")
        if version is None:
            return wrapped_error(400, "MissingApiVersionParameter",
                                 "The api-version query parameter (?api-version=) is required for all requests.")
        if version != API_VERSION:
            return wrapped_error(400, "InvalidApiVersionParameter",
                                 f"The api-version '{version}' is invalid. The supported versions are '{API_VERSION}'.")
        state.advance()
        # /subscriptions/{sub}/providers/Microsoft.DocumentDB/locations/{loc}/operationsStatus/{id}
        if (len(lowered) == 8 and lowered[0] == "subscriptions"
                and lowered[2:5] == ["providers", "microsoft.documentdb", "locations"]
                and lowered[6] == "operationsstatus" and method == "GET"):
            return self._operation_status(segments[7])
        # /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{a}/pECs[/...]
        if not (len(lowered) >= 9 and lowered[0] == "subscriptions" and lowered[2] == "resourcegroups"
                and lowered[4:7] == ["providers", "microsoft.documentdb", "databaseaccounts"]
                and lowered[8] == "privateendpointconnections" and len(lowered) in (9, 10, 12)):
            return wrapped_error(404, "InvalidResourceType",
                                 f"The resource type could not be found for path '/{'/'.join(segments)}' "
                                 f"and api version '{version}'.")
        sub, rg, account_name = segments[1], segments[3], segments[7]
        with state.lock:
            if not state.resource_group_exists(sub, rg):
                return wrapped_error(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
            account = state.account(sub, rg, account_name)
            if account is None:
                return wrapped_error(404, "ParentResourceNotFound",
                                     "Can not perform requested operation on nested resource. "
                                     f"Parent resource '{account_name}' not found.")
            if len(lowered) == 12:
                if lowered[10] != "operationresults" or method != "GET":
                    return wrapped_error(405, "MethodNotAllowed", "The requested method is not allowed.")
                return self._operation_result(segments[11], account, segments[9])
            if len(lowered) == 9:
                if method != "GET":
                    return wrapped_error(405, "MethodNotAllowed", "The requested method is not allowed.")
                return Reply(200, {"value": [connection_body(account, c) for c in account.connections.values()]},
                             {"x-ms-ratelimit-remaining-subscription-reads": str(state.remaining(sub, "reads"))},
                             compressible=True)
            name = segments[9]
            connection = account.connections.get(name.lower())
            if method == "GET":
                if connection is None:
                    return self._connection_not_found(name)
                return Reply(200, connection_body(account, connection),
                             {"x-ms-ratelimit-remaining-subscription-reads": str(state.remaining(sub, "reads"))},
                             compressible=True)
            if method == "PUT":
                if connection is None:
                    return self._connection_not_found(name)
                desired_or_error = self._parse_put(raw_body, connection.status)
                if isinstance(desired_or_error, Reply):
                    return desired_or_error
                return self._start(account, connection.name, "put", desired_or_error, method,
                                   "/" + "/".join(segments))
            if method == "DELETE":
                if connection is None:
                    return Reply(204, None, {"x-ms-ratelimit-remaining-subscription-deletes":
                                             str(state.remaining(sub, "deletes"))})
                return self._start(account, connection.name, "delete", {}, method, "/" + "/".join(segments))
        return wrapped_error(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed.")

    @staticmethod
    def _connection_not_found(name: str) -> Reply:
        return flat_error(404, "NotFound", f"Private endpoint connection with name '{name}' does not exist.")

    @staticmethod
    def _parse_put(raw_body: bytes, current_status: str) -> dict[str, Any] | Reply:
        try:
            body = json.loads(raw_body or b"null")
            link_state = body["properties"]["privateLinkServiceConnectionState"]
            requested = link_state["status"]
        except (ValueError, KeyError, TypeError):
            return flat_error(400, "BadRequest", "The request body is invalid: "
                              "'properties.privateLinkServiceConnectionState.status' is required.")
        if not isinstance(link_state, dict) or not isinstance(requested, str):
            return flat_error(400, "BadRequest", "The request body is invalid.")
        status = next((s for s in PUT_STATUSES if s.lower() == requested.lower()), None)
        if status is None:
            allowed = "', '".join(PUT_STATUSES)
            return flat_error(400, "BadRequest", f"Invalid private endpoint connection status '{requested}'. "
                              f"Valid values are '{allowed}'.")
        description = link_state.get("description")
        if description is not None and not isinstance(description, str):
            return flat_error(400, "BadRequest", "The description must be a string.")
        if current_status == "Rejected" and status == "Approved":
            return flat_error(400, "BadRequest", "Approving rejected private endpoint connections is not supported.")
        assert status in VALID_STATUSES
        # PUT replaces the connection state: a description left out is removed.
        return {"status": status, "description": description}

    def _start(self, account: Account, name: str, action: str, desired: dict[str, Any], method: str,
               path: str) -> Reply:
        state = self.server.state
        fault = state.take_fault("arm", method, path, OPERATION_ACTIONS)
        op = state.start_operation(action, account, name, desired, fault)
        base = self.server.base_url
        now = time.time()

        def signed(extra_ticks: int) -> str:
            return (f"api-version={API_VERSION}&t={_dotnet_ticks(now) + extra_ticks}&c={secrets.token_urlsafe(24)}"
                    f"&s={secrets.token_urlsafe(32)}&h={secrets.token_urlsafe(16)}")

        counter = "writes" if action == "put" else "deletes"
        headers = {
            "Azure-AsyncOperation": (f"{base}/subscriptions/{account.subscription_id}/providers/Microsoft.DocumentDB"
                                     f"/locations/{account.location}/operationsStatus/{op.id}?{signed(0)}"),
            "Location": f"{base}{account.id}/privateEndpointConnections/{name}/operationResults/{op.id}?{signed(1)}",
            "x-ms-request-id": op.id,
            # The 202 correlates with the caller's id, or a new one (not the operation id), as recorded.
            "x-ms-correlation-request-id": self.headers.get("x-ms-correlation-request-id") or str(uuid.uuid4()),
            f"x-ms-ratelimit-remaining-subscription-{counter}": str(state.remaining(account.subscription_id, counter)),
        }
        if state.retry_after is not None:
            headers["Retry-After"] = str(state.retry_after)
        reply = Reply(202, {"status": "Enqueued"}, headers)
        reply.op_fault = fault.id if fault else None  # type: ignore[attr-defined]
        return reply

    def _operation_status(self, op_id: str) -> Reply:
        state = self.server.state
        with state.lock:
            op = state.operations.get(op_id.lower()) or state.operations.get(op_id)
            if op is None:
                return flat_error(404, "NotFound", f"Operation '{op_id}' was not found.")
            status = op.poll()
            reply = Reply(200, op.status_body(status), self._poll_headers(op.subscription_id), compressible=True)
            if status in ("Enqueued", "Dequeued") and state.retry_after is not None:
                reply.headers["Retry-After"] = str(state.retry_after)
            return reply

    def _operation_result(self, op_id: str, account: Account, name: str) -> Reply:
        state = self.server.state
        op = state.operations.get(op_id.lower()) or state.operations.get(op_id)
        if op is None:
            return flat_error(404, "NotFound", f"Operation '{op_id}' was not found.")
        status = op.poll()
        headers = self._poll_headers(op.subscription_id)
        if status in ("Enqueued", "Dequeued"):
            headers["Location"] = f"{self.server.base_url}{self.path}"
            if state.retry_after is not None:
                headers["Retry-After"] = str(state.retry_after)
            return Reply(202, None, headers)
        if status == "Failed":
            return Reply(500, {"error": op.error}, headers)
        if status == "Canceled":
            return Reply(409, {"error": op.error}, headers)
        if op.action == "delete":
            return Reply(204, None, headers)
        connection = account.connections.get(name.lower())
        if connection is None:
            return self._connection_not_found(name)
        return Reply(200, connection_body(account, connection), headers, compressible=True)

    def _poll_headers(self, subscription: str) -> dict[str, str]:
        fresh = str(uuid.uuid4())  # polls: new id, request id == correlation id (as recorded)
        return {"x-ms-request-id": fresh, "x-ms-correlation-request-id": fresh,
                "x-ms-ratelimit-remaining-subscription-reads": str(self.server.state.remaining(subscription, "reads"))}

    # ---- faults -----------------------------------------------------------------------------
    def _fault_reply(self, fault: FaultRule) -> Reply:
        params = fault.params
        if fault.action == "html":
            status = int(params.get("status", 502))
            page = params.get("body") or (
                f"<html><head><title>{status} {_STATUS_CODES.get(status, 'Error')}</title></head>"
                f"<body><center><h1>{status} {_STATUS_CODES.get(status, 'Error')}</h1></center>"
                "<hr><center>corporate-proxy</center></body></html>")
            if params.get("echo_headers"):
                # A debugging proxy that shows the request it refused, credentials first.
                echoed = sorted(self.headers.items(), key=lambda item: item[0].lower() != "authorization")
                page = "<pre>" + "".join(f"{name}: {value}\n" for name, value in echoed) + "</pre>" + page
            return Reply(status, page, content_type="text/html")
        status = int(params.get("status", 500))
        headers: dict[str, str] = {}
        retry_after = params.get("retry_after")
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        if params.get("retry_after_date") is not None:
            # The HTTP-date form, N seconds after this answer (a fixed date would go stale before use).
            retry_after = float(params["retry_after_date"])
            headers["Retry-After"] = _http_date(time.time() + retry_after)
        body = params.get("body")
        if body is None:
            code = params.get("code", _STATUS_CODES.get(status, "InternalServerError"))
            message = params.get("message")
            if message is None and status == 429:
                message = ("Number of 'write' requests for subscription exceeded. Please try again after "
                           f"'{retry_after or 10}' seconds.")
            body = {"error": {"code": code, "message": message or f"Emulated fault: HTTP {status}."}}
        reply = Reply(status, body, headers, content_type=params.get("content_type", "application/json"))
        if status == 401 and "WWW-Authenticate" not in headers:
            reply.headers["WWW-Authenticate"] = (f'Bearer authorization_uri="{self.server.base_url}/", '
                                                 'error="invalid_token"')
        return reply

    # ---- sending and logging ----------------------------------------------------------------
    def _common_headers(self, reply: Reply, kind: str) -> None:
        request_id = reply.headers.get("x-ms-request-id") or str(uuid.uuid4())
        reply.headers.setdefault("x-ms-request-id", request_id)
        reply.headers.setdefault("x-ms-correlation-request-id",
                                 self.headers.get("x-ms-correlation-request-id") or request_id)
        reply.headers.setdefault("Cache-Control", "no-store, no-cache")
        reply.headers.setdefault("Pragma", "no-cache")
        reply.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        reply.headers.setdefault("X-Content-Type-Options", "nosniff")
        if kind in ("arm", "operation"):
            reply.headers.setdefault("x-ms-gatewayversion", "version=2.14.0")

    def _send(self, reply: Reply, record: Any) -> None:
        payload = reply.payload()
        headers = dict(reply.headers)
        accepts_gzip = "gzip" in (self.headers.get("Accept-Encoding") or "").lower()
        if payload is not None and (reply.force_gzip or (reply.compressible and accepts_gzip)):
            payload = gzip.compress(payload)
            headers["Content-Encoding"] = "gzip"
            headers["Vary"] = "Accept-Encoding"
        if payload is not None:
            headers["Content-Type"] = reply.content_type
        if reply.status != 204:
            headers["Content-Length"] = str(len(payload or b""))
        if reply.drop:
            self.close_connection = True
        record({**headers, "Date": _http_date(time.time())})
        self.send_response(reply.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            if reply.drop:
                self.wfile.write(payload[: max(1, len(payload) // 2)])
                self.wfile.flush()
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                self.wfile.write(payload)

    def _logged_headers(self) -> dict[str, str]:
        logged: dict[str, str] = {}
        for name, value in self.headers.items():
            if name.lower() == "authorization":
                scheme = value.partition(" ")[0] or "Bearer"
                logged[name] = f"{scheme} {REDACTED}"
            elif name.lower() in SECRET_HEADERS:
                logged[name] = REDACTED
            else:
                logged[name] = value
        return logged

    @staticmethod
    def _logged_body(kind: str, raw_body: bytes) -> Any:
        if not raw_body:
            return None
        text = raw_body.decode(errors="replace")
        if kind == "token":
            form = dict(parse_qsl(text, keep_blank_values=True))
            return {k: (REDACTED if k in SECRET_FORM_FIELDS else v) for k, v in form.items()}
        try:
            return json.loads(text)
        except ValueError:
            return text


class EmulatorHTTPServer(ThreadingHTTPServer):
    """Threading HTTPS server; the TLS handshake runs in the request thread, not the accept loop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], ssl_context: ssl.SSLContext, state: State,
                 identity_header: str, admin: Any, log_admin: bool = False) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, Handler)
        self.ssl_context = ssl_context
        self.state = state
        self.identity_header = identity_header
        self.admin = admin
        self.log_admin = log_admin
        self.base_url = ""
        self.aad = Aad(state, lambda: self.base_url)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(60)
        try:
            tls = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return  # e.g. a client that does not trust the CA: nothing to answer
        try:
            self.RequestHandlerClass(tls, client_address, self)
        except (ssl.SSLError, ConnectionError, TimeoutError):
            pass
        finally:
            try:
                tls.close()
            except OSError:
                pass
