# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTPS front end: routing, ARM semantics of the privateEndpointConnections API, faults, request log.

Routing is driven by the types table (providers.py): ``parse_route`` maps a path to a ``Route`` (connection,
connection list, parent resource, subscription list, generic resources list, operation URL), and the
handlers apply the row's completion style, field names, etag and refusals. Other types' answers follow the
recording or spec named in their row (README.md has the table).

What each Cosmos DB answer mirrors (files under /work/shared/azure-rest/):
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

import base64
import copy
import datetime
import gzip
import json
import re
import secrets
import socket
import ssl
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from .aad import Aad
from .faults import AFTER_ACTIONS, OPERATION_ACTIONS, RESPONSE_ACTIONS, TOKEN_ACTIONS, FaultRule
from .providers import RESOURCES_API_VERSIONS, ProviderType, namespace_api_versions, provider
from .throttle import Throttle
from .state import (VALID_STATUSES, Connection, Operation, Resource, State, connection_body, generic_resource_body,
                    iso_time, parent_body)

API_VERSION = "2024-08-15"
COSMOS_SDK = "Microsoft.Azure.Documents.Common/2.14.0"
MANAGEMENT_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
#: Operation statuses that mean "still running" (Cosmos DB's own, and ARM's).
RUNNING = ("Enqueued", "Dequeued", "InProgress")
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


#: Location-scoped operation URL segments: segment -> (route kind, flavour).
_OPERATION_SEGMENTS = {
    "operationsstatus": ("op_status", "cosmos"),  # Cosmos DB
    "operationstatuses": ("op_status", "arm"),
    "operationresults": ("op_result", "arm"),
    "privateendpointconnectionazureasyncoperation": ("op_status", "sql"),
    "privateendpointconnectionoperationresults": ("op_result", "sql"),
}
#: Any path segment that makes a request an operation poll (request log kind "operation").
OPERATION_SEGMENT_NAMES = frozenset({*_OPERATION_SEGMENTS, "privateendpointconnectionresults"})


@dataclass
class Route:
    """What an ARM path names: an operation URL, a list, a parent resource or one connection."""

    kind: str  # op_status | op_result | sub_list | resources | parent | conn_list | conn
    versions: tuple[str, ...]
    sub: str
    ptype: ProviderType | None = None
    rg: str = ""
    name: str = ""
    connection: str = ""
    op_id: str = ""
    flavour: str = ""  # operation URLs: cosmos | arm | sql | batch


def parse_route(segments: list[str], lowered: list[str]) -> Route | None:
    """Match a path against the types table (names compared case-insensitively, as ARM does)."""
    if len(lowered) < 3 or lowered[0] != "subscriptions":
        return None
    sub = segments[1]
    if len(lowered) == 3 and lowered[2] == "resources":
        return Route("resources", RESOURCES_API_VERSIONS, sub)
    if lowered[2] == "providers" and len(lowered) >= 5:
        namespace = lowered[3]
        if len(lowered) == 5:
            ptype = provider(f"{namespace}/{lowered[4]}")
            return None if ptype is None else Route("sub_list", ptype.api_versions, sub, ptype)
        if len(lowered) == 8 and lowered[4] == "locations" and lowered[6] in _OPERATION_SEGMENTS:
            kind, flavour = _OPERATION_SEGMENTS[lowered[6]]
            versions = namespace_api_versions(namespace)
            if not versions or (flavour == "cosmos") != (namespace == "microsoft.documentdb"):
                return None
            return Route(kind, versions, sub, op_id=segments[7], flavour=flavour)
        return None
    if lowered[2] != "resourcegroups" or len(lowered) < 8 or lowered[4] != "providers":
        return None
    rg = segments[3]
    if len(lowered) == 10 and lowered[6] == "locations" and lowered[8] in _OPERATION_SEGMENTS:
        kind, flavour = _OPERATION_SEGMENTS[lowered[8]]
        if flavour != "sql" or lowered[5] != "microsoft.sql":
            return None
        return Route(kind, namespace_api_versions("microsoft.sql"), sub, rg=rg, op_id=segments[9], flavour=flavour)
    ptype = provider(f"{lowered[5]}/{lowered[6]}")
    if ptype is None:
        return None
    route = Route("parent", ptype.api_versions, sub, ptype, rg=rg, name=segments[7])
    rest = lowered[8:]
    if not rest:
        return route
    if rest == ["privateendpointconnections"]:
        route.kind = "conn_list"
        return route
    if len(rest) == 2 and rest[0] == "privateendpointconnections":
        route.kind, route.connection = "conn", segments[9]
        return route
    if (len(rest) == 4 and rest[0] == "privateendpointconnections" and rest[2] == "operationresults"
            and ptype.style == "cosmos"):
        route.kind, route.connection, route.op_id, route.flavour = "op_result", segments[9], segments[11], "cosmos"
        return route
    if len(rest) == 2 and rest[0] == "privateendpointconnectionresults" and ptype.style == "batch":
        route.kind, route.op_id, route.flavour = "op_result", segments[9].split("$")[-1], "batch"
        return route
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    # Without TCP_NODELAY, the body written after the headers waited for the client's delayed ACK
    # (~40 ms on Linux) on every keep-alive response: a stall of the emulator, not of ARM, that
    # hid the client's own cost in every measurement.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer
    _api_version = ""

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
        kind = self._classify(lowered, query)
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
        if kind in ("arm", "operation") and (fault is None or fault.action not in ("status", "html")) \
                and 200 <= reply.status < 300:
            after = state.take_fault(kind, method, path, AFTER_ACTIONS)
            if after is not None:
                # Answered with the state as it was; the next request meets the change.
                self._change_elsewhere(after, segments)
                reply.op_fault = getattr(reply, "op_fault", None) or after.id  # type: ignore[attr-defined]
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
    def _classify(lowered: list[str], query: dict[str, str]) -> str:
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
        if OPERATION_SEGMENT_NAMES.intersection(lowered) or "kv-operation" in query:
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
        # Resource Graph answers outside the types table; ARM's subscription throttling comes before any
        # route (a throttled request reaches no resource provider).
        if lowered == ["providers", "microsoft.resourcegraph", "resources"] and method == "POST":
            return self._resource_graph(query, raw_body)
        self._limit_headers = {}
        if lowered[:1] == ["subscriptions"] and len(segments) > 1:
            allowed, self._limit_headers = state.throttler.take(segments[1], method)
            if not allowed:
                return wrapped_error(429, "SubscriptionRequestsThrottled", Throttle.message(
                    segments[1], method, self._limit_headers["Retry-After"]), dict(self._limit_headers))
        version = query.get("api-version")
        if version is None:
            return wrapped_error(400, "MissingApiVersionParameter",
                                 "The api-version query parameter (?api-version=) is required for all requests.")
        route = parse_route(segments, lowered)
        if route is None:
            return wrapped_error(404, "InvalidResourceType",
                                 f"The resource type could not be found for path '/{'/'.join(segments)}' "
                                 f"and api version '{version}'.")
        if version not in route.versions:
            return wrapped_error(400, "InvalidApiVersionParameter",
                                 f"The api-version '{version}' is invalid. "
                                 f"The supported versions are '{', '.join(route.versions)}'.")
        self._api_version = version
        state.advance()
        with state.lock:
            return self._arm_route(route, method, query, raw_body)

    def _arm_route(self, route: Route, method: str, query: dict[str, str], raw_body: bytes) -> Reply:
        state = self.server.state
        if route.kind in ("op_status", "op_result", "sub_list", "resources") and method != "GET":
            return wrapped_error(405, "MethodNotAllowed", "The requested method is not allowed.")
        if route.kind in ("op_status", "op_result") and not route.rg:  # subscription-scoped operation URLs
            return self._operation_status(route) if route.kind == "op_status" else self._operation_result(route)
        if route.kind == "resources":
            return self._generic_resources(route, query)
        if route.kind == "sub_list":
            assert route.ptype is not None
            items = [parent_body(r) for r in state.resources_of(route.ptype, route.sub)]
            return self._list_reply(route.sub, items, query, next_link_null=False)
        if not state.resource_group_exists(route.sub, route.rg):
            return wrapped_error(404, "ResourceGroupNotFound", f"Resource group '{route.rg}' could not be found.")
        if route.kind in ("op_status", "op_result") and not route.name:  # SQL's resource-group scoped URLs
            return self._operation_status(route) if route.kind == "op_status" else self._operation_result(route)
        assert route.ptype is not None
        resource = state.resource(route.ptype, route.sub, route.rg, route.name)
        if resource is None:
            if route.kind == "parent":
                return wrapped_error(404, "ResourceNotFound",
                                     f"The Resource '{route.ptype.resource_type}/{route.name}' under resource group "
                                     f"'{route.rg}' was not found. For more details please go to "
                                     "https://aka.ms/ARMResourceNotFoundFix")
            return wrapped_error(404, "ParentResourceNotFound",
                                 "Can not perform requested operation on nested resource. "
                                 f"Parent resource '{route.name}' not found.")
        if route.kind == "op_result":
            return self._operation_result(route)
        if route.kind in ("parent", "conn_list") and method != "GET":
            return wrapped_error(405, "MethodNotAllowed", "The requested method is not allowed.")
        if route.kind == "parent":
            return Reply(200, parent_body(resource), self._reads(resource.subscription_id), compressible=True)
        if route.kind == "conn_list":
            items = [connection_body(resource, c) for c in resource.connections.values()]
            return self._list_reply(resource.subscription_id, items, query,
                                    next_link_null=resource.ptype.list_next_link_null)
        return self._connection(resource, route.connection, method, query, raw_body)

    # ---- one connection ---------------------------------------------------------------------
    def _connection(self, resource: Resource, name: str, method: str, query: dict[str, str],
                    raw_body: bytes) -> Reply:
        state = self.server.state
        ptype = resource.ptype
        conn = resource.connections.get(name.lower())
        path = f"{resource.id}/privateEndpointConnections/{name}"
        if method == "GET":
            if "kv-operation" in query and ptype.style == "keyvault" and conn is not None \
                    and conn.provisioning_state == "Deleting":
                # The DELETE's Location: 202 without body while deleting (assumption: no recording polls it).
                return Reply(202, None, {"Location": self._self_url()})
            if conn is None:
                return self._connection_not_found(resource, name)
            headers = self._reads(resource.subscription_id)
            if ptype.etag == "batch" and conn.etag:
                headers.update({"etag": conn.etag, "last-modified": _http_date(conn.modified)})
            return Reply(200, connection_body(resource, conn), headers, compressible=True)
        if method in ("PUT", "PATCH"):
            if method != ptype.write_verb:
                return wrapped_error(405, "MethodNotAllowed",
                                     f"The requested resource does not support http method '{method}'.")
            try:
                body = json.loads(raw_body or b"null")
            except ValueError:
                body = None
            denied = self._deny_policy(resource, name, body)
            if denied is not None:
                return denied
            if conn is None:
                return self._connection_not_found(resource, name)
            failed = self._precondition(resource, conn)
            if failed is not None:
                return failed
            desired = self._parse_write(resource, conn, body)
            if isinstance(desired, Reply):
                return desired
            if ptype.style == "cosmos":
                return self._start(resource, conn.name, "put", desired, method, path)
            if ptype.style == "sync":
                state.apply_now(resource, conn, "put", desired)
                return Reply(200, connection_body(resource, conn), self._counter(resource.subscription_id, "writes"))
            return self._start_lro(resource, conn, "put", desired, method, path)
        if method == "DELETE":
            if conn is None:
                return Reply(204, None, self._counter(resource.subscription_id, "deletes"))
            failed = self._precondition(resource, conn)
            if failed is not None:
                return failed
            if ptype.delete_as == "cosmos":
                return self._start(resource, conn.name, "delete", {}, method, path)
            if ptype.delete_as == "sync":
                headers = self._counter(resource.subscription_id, "deletes")
                if ptype.delete_reply == "disconnected":
                    # Search answers the connection as it leaves (search recording).
                    conn.status, conn.description = "Disconnected", "Remove request from customer."
                    body = connection_body(resource, conn)
                    state.apply_now(resource, conn, "delete", {})
                    return Reply(200, body, headers)
                state.apply_now(resource, conn, "delete", {})
                if ptype.delete_reply == "empty_200":
                    return Reply(200, None, headers)
                # Storage: 200, empty body, text/plain (storage recording).
                return Reply(200, b"", headers, content_type="text/plain; charset=utf-8")
            return self._start_lro(resource, conn, "delete", {}, method, path)
        return wrapped_error(405, "MethodNotAllowed", f"The requested method '{method}' is not allowed.")

    def _connection_not_found(self, resource: Resource, name: str) -> Reply:
        ptype = resource.ptype
        if ptype.not_found is None:
            return flat_error(404, "NotFound", f"Private endpoint connection with name '{name}' does not exist.")
        code, template = ptype.not_found
        message = template.format(name=name, sub=resource.subscription_id, rg=resource.resource_group,
                                  parent=resource.name, request_id=uuid.uuid4(), type=ptype.resource_type)
        error: dict[str, Any] = {"code": code, "message": message}
        if ptype.not_found_nulls:
            error.update({"target": None, "details": None})
        return Reply(404, {"error": error})

    def _bad_request(self, resource: Resource, message: str, code: str = "BadRequest") -> Reply:
        if resource.ptype.style == "cosmos":
            return flat_error(400, code, message)
        return wrapped_error(400, code, message)

    def _parse_write(self, resource: Resource, conn: Connection, body: Any) -> dict[str, Any] | Reply:
        ptype = resource.ptype
        try:
            properties = body["properties"]
            link_state = properties["privateLinkServiceConnectionState"]
            requested = link_state["status"]
        except (KeyError, TypeError):
            return self._bad_request(resource, "The request body is invalid: "
                                     "'properties.privateLinkServiceConnectionState.status' is required.")
        if not isinstance(link_state, dict) or not isinstance(requested, str):
            return self._bad_request(resource, "The request body is invalid.")
        status = next((s for s in ptype.write_statuses if s.lower() == requested.lower()), None)
        if status is None:
            allowed = "', '".join(ptype.write_statuses)
            return self._bad_request(resource, f"Invalid private endpoint connection status '{requested}'. "
                                     f"Valid values are '{allowed}'.")
        description = link_state.get("description")
        if description is not None and not isinstance(description, str):
            return self._bad_request(resource, "The description must be a string.")
        sent_state = properties.get("provisioningState") if isinstance(properties, dict) else None
        shown_state = connection_body(resource, conn)["properties"]["provisioningState"]
        if sent_state is not None and str(sent_state).lower() != shown_state.lower():
            # arm-rpc-async-api-reference.md: a provisioningState that differs from the server's is a 400.
            return self._bad_request(resource, f"The provisioningState '{sent_state}' does not match the current "
                                     f"value '{shown_state}'; it is a read-only property.")
        refusals = ptype.refusals
        if "rejected_to_approved" in refusals and conn.status == "Rejected" and status == "Approved":
            return self._bad_request(resource, "Approving rejected private endpoint connections is not supported.")
        if "reapprove" in refusals and conn.status == "Approved" and status == "Approved":
            return wrapped_error(400, "InvalidValuesForRequestParameters",
                                 "Values for request parameters are invalid: privateLinkServiceConnectionState. "
                                 f"The private endpoint connection '{conn.name}' is already Approved.")
        if "not_pending" in refusals and conn.status != "Pending":
            return wrapped_error(400, "PrivateEndpointConnectionStatusNotPending",
                                 f"Private endpoint connection '{conn.name}' is in '{conn.status}' state. Only a "
                                 "connection in 'Pending' state can be approved or rejected.")
        if "description_required" in refusals and description is None:
            return wrapped_error(400, "PrivateEndpointConnectionDescriptionRequired",
                                 "'properties.privateLinkServiceConnectionState.description' is required.")
        if description is None and ptype.null_description is not None:
            description = ptype.null_description
        assert status in VALID_STATUSES
        # A write replaces the connection state: a description left out is removed.
        return {"status": status, "description": description}

    def _precondition(self, resource: Resource, conn: Connection) -> Reply | None:
        if not resource.ptype.honours_if_match:
            return None
        wanted = self.headers.get("If-Match")
        if wanted is None or wanted.strip() == "*":
            return None
        if conn.etag is None or wanted.strip() != conn.etag:
            return wrapped_error(412, "PreconditionFailed",
                                 f"The specified precondition 'If-Match: {wanted.strip()}' failed: the current etag of "
                                 f"private endpoint connection '{conn.name}' is '{conn.etag}'.")
        return None

    def _deny_policy(self, resource: Resource, name: str, body: Any) -> Reply | None:
        """Azure Policy "limit cross-tenant private endpoint connections" (deny), evaluated by ARM."""
        policy = self.server.state.deny_policy
        if not policy:
            return None
        try:
            endpoint_id = body["properties"]["privateEndpoint"]["id"]
        except (KeyError, TypeError):
            endpoint_id = None
        allowed = policy.get("allowed_endpoint_subscriptions")
        if not isinstance(endpoint_id, str) or not endpoint_id:
            if not policy.get("require_private_endpoint_id", True):
                return None
            value: Any = "**null**"
            operator = "Exists"
        else:
            parts = [p for p in endpoint_id.split("/") if p]
            endpoint_sub = parts[1].lower() if len(parts) > 1 and parts[0].lower() == "subscriptions" else ""
            if allowed is None or endpoint_sub in {s.lower() for s in allowed}:
                return None
            value, operator = endpoint_id, "NotIn"
        scope = policy.get("assignment_scope") or f"/subscriptions/{resource.subscription_id}"
        definition_name = "deny-cross-tenant-private-endpoint-connections"
        definition_id = f"{scope}/providers/Microsoft.Authorization/policyDefinitions/{definition_name}"
        assignment_name = "deny-cross-tenant-pec"
        assignment_id = f"{scope}/providers/Microsoft.Authorization/policyAssignments/{assignment_name}"
        identifiers = json.dumps([{"policyAssignment": {"name": "Deny cross-tenant private endpoint connections",
                                                        "id": assignment_id},
                                   "policyDefinition": {"name": "Private endpoint connections should only come "
                                                                "from approved subscriptions",
                                                        "id": definition_id}}], separators=(",", ":"))
        field_name = f"{resource.ptype.connection_type}/privateEndpoint.id"
        return Reply(403, {"error": {
            "code": "RequestDisallowedByPolicy",
            "target": name,
            "message": f"Resource '{name}' was disallowed by policy. Policy identifiers: '{identifiers}'.",
            "additionalInfo": [{"type": "PolicyViolation", "info": {
                "policyDefinitionDisplayName": "Private endpoint connections should only come from approved "
                                               "subscriptions",
                "policyDefinitionId": definition_id,
                "policyDefinitionName": definition_name,
                "policyDefinitionEffect": "deny",
                "policyAssignmentId": assignment_id,
                "policyAssignmentName": assignment_name,
                "policyAssignmentDisplayName": "Deny cross-tenant private endpoint connections",
                "policyAssignmentScope": scope,
                "policyAssignmentParameters": {"allowedSubscriptions": {"value": allowed}},
                "evaluationDetails": {"evaluatedExpressions": [{
                    "result": "True", "expressionKind": "Field", "expression": field_name,
                    "path": "properties.privateEndpoint.id", "expressionValue": value,
                    "targetValue": allowed if operator == "NotIn" else "true", "operator": operator}]},
            }}],
        }})

    # ---- long-running operations ------------------------------------------------------------
    def _start(self, account: Resource, name: str, action: str, desired: dict[str, Any], method: str,
               path: str) -> Reply:
        """Cosmos DB: 202 {"status":"Enqueued"} with Azure-AsyncOperation and Location (cosmos recordings)."""
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

    def _start_lro(self, resource: Resource, conn: Connection, action: str, desired: dict[str, Any], method: str,
                   path: str) -> Reply:
        """Every other asynchronous style: the answer's status, body and headers per providers.py."""
        state = self.server.state
        ptype = resource.ptype
        fault = state.take_fault("arm", method, path, OPERATION_ACTIONS)
        if ptype.delete_as == "keyvault" and action == "delete":
            conn.etag = ptype.new_etag()  # the delete's kv-operation names a new etag (keyvault recording)
        op = state.start_operation(action, resource, conn.name, desired, fault)
        base = self.server.base_url
        version = self._api_version
        location = resource.location.replace(" ", "").lower()
        namespace = ptype.namespace
        headers = self._counter(resource.subscription_id, "writes" if action == "put" else "deletes")
        if state.retry_after is not None:
            headers["Retry-After"] = str(state.retry_after)
        arm_status = (f"{base}/subscriptions/{resource.subscription_id}/providers/{namespace}/locations/{location}"
                      f"/operationStatuses/{op.id}?api-version={version}")
        arm_result = (f"{base}/subscriptions/{resource.subscription_id}/providers/{namespace}/locations/{location}"
                      f"/operationResults/{op.id}?api-version={version}")
        status, body = 202, None
        style = ptype.delete_as if action == "delete" else ptype.style
        if style == "keyvault":
            verb = {"Approved": "approve", "Rejected": "reject"}.get(desired.get("status", ""), "update")
            code = f"privateEndpointConnections/{'delete' if action == 'delete' else verb}"
            token = base64.urlsafe_b64encode(json.dumps(
                {"code": code, "st": iso_time(op.started), "etag": conn.etag},
                separators=(",", ":")).encode()).decode().rstrip("=")
            url = (f"{base}{resource.id}/privateEndpointConnections/{conn.name}"
                   f"?api-version={version}&kv-operation={token}")
            if action == "delete":
                headers["Location"] = url
            else:
                status, body = 200, connection_body(resource, conn)
                headers["Azure-AsyncOperation"] = url
        elif style == "sql":
            operation = ("DropPrivateEndpointConnection" if action == "delete" else
                         f"{'Approve' if desired['status'] == 'Approved' else 'Reject'}PrivateEndpointConnection")
            body = {"operation": operation, "startTime": iso_time(op.started)}
            scoped = (f"{base}/subscriptions/{resource.subscription_id}/resourceGroups/{resource.resource_group}"
                      f"/providers/Microsoft.Sql/locations/{location}")
            headers["Azure-AsyncOperation"] = (f"{scoped}/privateEndpointConnectionAzureAsyncOperation/{op.id}"
                                               f"?api-version={version}")
            headers["Location"] = f"{scoped}/privateEndpointConnectionOperationResults/{op.id}?api-version={version}"
        elif style == "batch":
            now = time.time()
            phase = "Deleting" if action == "delete" else "Updating"
            url = f"{base}{resource.id}/privateEndpointConnectionResults/{phase}${conn.name}${op.id}"

            def signed(extra_ticks: int) -> str:
                return (f"{url}?api-version={version}&t={_dotnet_ticks(now) + extra_ticks}"
                        f"&c={secrets.token_urlsafe(24)}&s={secrets.token_urlsafe(32)}&h={secrets.token_urlsafe(16)}")

            headers["Azure-AsyncOperation"] = signed(0)
            headers["Location"] = signed(156)
        elif style == "arm_async_200" and action == "put":
            status, body = 200, connection_body(resource, conn)
            headers["Azure-AsyncOperation"] = arm_status
        elif style == "arm_202_location":
            headers["Location"] = arm_result
        else:  # arm_async_200 DELETE, sticky_provisioning
            headers["Azure-AsyncOperation"] = arm_status
            headers["Location"] = arm_result
        reply = Reply(status, body, headers)
        reply.op_fault = fault.id if fault else None  # type: ignore[attr-defined]
        return reply

    def _find_operation(self, op_id: str) -> Operation | None:
        state = self.server.state
        return state.operations.get(op_id.lower()) or state.operations.get(op_id)

    @staticmethod
    def _operation_not_found(route: Route) -> Reply:
        if route.flavour == "cosmos":
            return flat_error(404, "NotFound", f"Operation '{route.op_id}' was not found.")
        return wrapped_error(404, "OperationNotFound", f"The operation '{route.op_id}' could not be found.")

    def _operation_status(self, route: Route) -> Reply:
        state = self.server.state
        op = self._find_operation(route.op_id)
        if op is None:
            return self._operation_not_found(route)
        status = op.poll()
        if route.flavour == "cosmos":
            body = op.status_body(status)
        else:
            body = {"name": op.id, "status": status, "startTime": iso_time(op.started)}
            if route.flavour == "arm":
                body = {"id": self._self_path(), **body}
                if op.ended:
                    body["endTime"] = iso_time(op.ends_at)
            if status in ("Failed", "Canceled") and op.error:
                body["error"] = copy.deepcopy(op.error)
        reply = Reply(200, body, self._poll_headers(op.subscription_id), compressible=True)
        if status in RUNNING and state.retry_after is not None:
            reply.headers["Retry-After"] = str(state.retry_after)
        return reply

    def _operation_result(self, route: Route) -> Reply:
        state = self.server.state
        op = self._find_operation(route.op_id)
        if op is None:
            return self._operation_not_found(route)
        status = op.poll()
        headers = self._poll_headers(op.subscription_id)
        if route.flavour == "batch":
            # Batch gives one URL as both Azure-AsyncOperation and Location: a status body that a client of
            # either kind understands, 202 while running (assumption: the recording never polls it).
            body: dict[str, Any] = {"id": self._self_path(), "name": op.id, "status": status,
                                    "startTime": iso_time(op.started)}
            if op.ended:
                body["endTime"] = iso_time(op.ends_at)
            if status in ("Failed", "Canceled") and op.error:
                body["error"] = copy.deepcopy(op.error)
            return Reply(202 if status in RUNNING else 200, body, headers, compressible=True)
        if status in RUNNING:
            headers["Location"] = self._self_url()
            if state.retry_after is not None:
                headers["Retry-After"] = str(state.retry_after)
            return Reply(202, None, headers)
        if status == "Failed":
            return Reply(500, {"error": op.error}, headers)
        if status == "Canceled":
            return Reply(409, {"error": op.error}, headers)
        if op.action == "delete":
            return Reply(204, None, headers)
        resource = state.resources.get(op.resource_key)
        connection = resource.connections.get(op.connection_name.lower()) if resource else None
        if resource is None or connection is None:
            return (flat_error(404, "NotFound", f"Private endpoint connection with name '{op.connection_name}' "
                               "does not exist.") if resource is None else
                    self._connection_not_found(resource, op.connection_name))
        return Reply(200, connection_body(resource, connection), headers, compressible=True)

    # ---- lists ------------------------------------------------------------------------------
    def _list_reply(self, subscription: str, items: list[dict[str, Any]], query: dict[str, str],
                    next_link_null: bool) -> Reply:
        """``{"value": [...]}``, cut into pages of ``list_page_size`` with a ``nextLink`` (``$skipToken``)."""
        size = self.server.state.list_page_size
        try:
            start = max(int(query.get("$skipToken") or 0), 0)
        except ValueError:
            return wrapped_error(400, "InvalidSkipToken", "The $skipToken is invalid.")
        end = len(items) if size is None else start + size
        body: dict[str, Any] = {"value": items[start:end]}
        if end < len(items):
            rest = {k: v for k, v in query.items() if k != "$skipToken"}
            rest["$skipToken"] = str(end)
            body["nextLink"] = f"{self.server.base_url}{self._self_path()}?{urlencode(rest, quote_via=quote)}"
        elif next_link_null:
            body["nextLink"] = None
        return Reply(200, body, self._reads(subscription), compressible=True)

    def _generic_resources(self, route: Route, query: dict[str, str]) -> Reply:
        """``GET /subscriptions/{sub}/resources[?$filter=resourceType eq '<type>']`` (Microsoft.Resources)."""
        state = self.server.state
        wanted: str | None = None
        text = (query.get("$filter") or "").strip()
        if text:
            match = re.fullmatch(r"resourceType\s+eq\s+'([^']+)'", text, flags=re.IGNORECASE)
            if match is None:
                return wrapped_error(400, "InvalidFilterInQueryString",
                                     f"Invalid $filter '{text}' specified in the query string.")
            wanted = match.group(1).lower()
        items = [generic_resource_body(r) for r in state.resources.values()
                 if r.subscription_id.lower() == route.sub.lower() and (wanted is None or r.ptype.key == wanted)]
        return self._list_reply(route.sub, items, query, next_link_null=False)

    # ---- small helpers ----------------------------------------------------------------------
    def _self_path(self) -> str:
        return self.path.partition("?")[0]

    def _self_url(self) -> str:
        return f"{self.server.base_url}{self.path}"

    def _reads(self, subscription: str) -> dict[str, str]:
        return self._counter(subscription, "reads")

    def _counter(self, subscription: str, kind: str) -> dict[str, str]:
        # The throttle's buckets, as taken for this request (throttle.py); on or off, they go down and refill.
        name = f"x-ms-ratelimit-remaining-subscription-{kind}"
        taken = getattr(self, "_limit_headers", {}) or {}
        if name in taken:
            return {key: value for key, value in taken.items() if key.endswith(f"-{kind}")}
        return {name: str(self.server.state.remaining(subscription, kind))}

    def _resource_graph(self, query: dict[str, str], raw_body: bytes) -> Reply:
        """POST /providers/Microsoft.ResourceGraph/resources (resourcegraph.py), quota per caller."""
        state = self.server.state
        caller = state.token(self.headers["Authorization"].partition(" ")[2].strip())
        try:
            body = json.loads(raw_body or b"null")
        except ValueError:
            body = None
        status, answer, headers = state.graph.query((caller.client_id or caller.token) if caller else "", body,
                                                    query.get("api-version"))
        return Reply(status, answer, headers)

    def _poll_headers(self, subscription: str) -> dict[str, str]:
        fresh = str(uuid.uuid4())  # polls: new id, request id == correlation id (as recorded)
        return {"x-ms-request-id": fresh, "x-ms-correlation-request-id": fresh,
                "x-ms-ratelimit-remaining-subscription-reads": str(self.server.state.remaining(subscription, "reads"))}

    def _change_elsewhere(self, fault: FaultRule, segments: list[str]) -> None:
        """Fault ``change_elsewhere``: after the answer, another administrator changes the connection.

        The connection is the one the request's path names, or ``connection_id`` (then any request can
        trigger it, e.g. the Resource Graph query a client discovers with).
        """
        target = fault.params.get("connection_id")
        if target:
            segments = [unquote(part) for part in str(target).strip("/").split("/")]
        route = parse_route(segments, [s.lower() for s in segments])
        if route is None or route.kind != "conn" or route.ptype is None:
            return
        state = self.server.state
        with state.lock:
            resource = state.resource(route.ptype, route.sub, route.rg, route.name)
            conn = resource.connections.get(route.connection.lower()) if resource else None
            if resource is None or conn is None:
                return
            status = str(fault.params.get("status", "Approved"))
            state.change_elsewhere(resource, conn, status,
                                   fault.params.get("description", "Approved by another administrator"))

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
