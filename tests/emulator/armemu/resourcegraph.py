# SPDX-License-Identifier: GPL-3.0-or-later
"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources?api-version=2021-03-01``.

Interface (for server.py)::

    graph = ResourceGraph(rows=lambda subscriptions: [...], quota=15, window=5.0)
    status, body, headers = graph.query(caller, json_body, api_version=query.get("api-version"))

``rows(subscriptions)`` returns every resource of those subscriptions as ARG shows it:
``{"id", "name", "type" (lowercase), "subscriptionId", "resourceGroup" (lowercase), "location", "tags",
"properties": {...}}``; ``row_from_resource(body)`` makes such a row from the resource as the provider's
GET returns it (ARG indexes that body, so ``properties.privateEndpointConnections`` keeps the provider's
embedded shape). ``caller`` is whatever identifies the quota holder (the token's client id or
object id); each caller has its own quota window. ``body`` is the parsed JSON request body (anything:
a non-dict is a 400).

What is mirrored (recordings/other-providers/resourcegraph-*.yaml and their README):
- request ``{"subscriptions": [...], "query": "...", "options": {"$top", "$skip", "$skipToken",
  "resultFormat": "objectArray", "allowPartialScopes"}}`` (other options are ignored);
- answer ``{"totalRecords", "count", "data": [...], "facets": [], "resultTruncated": "false"|"true",
  "$skipToken"?}``: ``resultTruncated`` is a string, ``$skipToken`` top-level and absent on the last page;
- the token is base64 of the recorded .NET-style JSON ``{"$id":"1","MaxRows":N,"RowsToSkip":M,
  "KustoClusterUrl":...}``; sending it back in ``options.$skipToken`` gives the next page (``$top``, when
  sent with it, overrides ``MaxRows``, as the 2018 client did; ``$skip`` is then ignored);
- quota headers on every answer: ``x-ms-user-quota-remaining``, ``x-ms-user-quota-resets-after: hh:mm:ss``
  and ``x-ms-ratelimit-remaining-tenant-resource-requests`` (the same number, as recorded): a fixed window
  per caller, ``quota`` requests per ``window`` seconds (15 per 5 s, as the recorded ``14`` / ``00:00:05``
  after one request show). Over quota: 429 ``{"error":{"code":"RateLimiting",...}}`` with ``Retry-After``
  (whole seconds until the window resets) and the quota headers.

The query language is NOT KQL. Exactly this grammar is accepted (whitespace and newlines are free, keywords
and column names compare case-sensitively as in KQL, ``in~`` compares values case-insensitively)::

    resources
    | where type in~ ('microsoft.storage/storageaccounts', 'microsoft.keyvault/vaults')    (required)
    | where resourceGroup in~ ('rg-a', 'rg-b')                                             (optional)
    | where id in~ ('/subscriptions/.../...')                                              (optional)
    | project id, name, type, subscriptionId, resourceGroup, location, tags, properties

The ``where`` lines come in any order, each at most once, all before ``project``, which is required and
last. Values are quoted with ``'`` or ``"``. ``project`` takes any subset of those columns, each at most
once, and ``connections = properties.privateEndpointConnections`` in place of (or besides) ``properties``,
which projects that sub-field (null when absent) under the name ``connections``. Anything else answers
400 ``{"error":{"code":"BadRequest","message":"Query is invalid. ...","details":[{"code":"InvalidQuery"},
{"code":"ParserFailure","message": <what the emulator could not parse>}]}}``, ARG's own shape.

Paging: rows are sorted by ``id`` (case-insensitively) so pages are stable. ``$top`` defaults to 100 and
must be 1..1000. A ``$skipToken`` is returned while rows remain, but only when ``id`` is projected (ARG
can page only then); without ``id`` the remaining rows are simply not returned. ``resultTruncated`` is
``"true"`` only when the request carried no ``$skipToken`` and more than 1000 rows match from ``$skip``
on, i.e. more than ARG's maximum of 1000 rows would have been returned without paging.
"""
from __future__ import annotations

import base64
import binascii
import datetime
import json
import math
import re
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

API_VERSIONS = ("2021-03-01", "2022-10-01")
PAGE_MAX = 1000
DEFAULT_TOP = 100
KUSTO_CLUSTER_URL = "https://arg-wus2-three-sf.arg.core.windows.net"
COLUMNS = ("id", "name", "type", "subscriptionId", "resourceGroup", "location", "tags", "properties")
FILTER_COLUMNS = ("type", "resourceGroup", "id")
CONNECTIONS_COLUMN = "connections"
INVALID_QUERY = ("Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix "
                 "the query before retrying.")
THROTTLED = ("Client application has been throttled and should not attempt to repeat the request until an amount "
             "of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.")

Rows = Callable[[list[str]], list[dict[str, Any]]]


class QueryError(ValueError):
    """The query is outside the emulator's grammar (the message says where)."""


class ParsedQuery:
    """``filters``: column -> set of lowercased values; ``columns``: (output name, source path) pairs."""

    def __init__(self, filters: dict[str, set[str]], columns: list[tuple[str, tuple[str, ...]]]) -> None:
        self.filters = filters
        self.columns = columns

    def matches(self, row: dict[str, Any]) -> bool:
        return all(str(row.get(column, "")).lower() in values for column, values in self.filters.items())

    def project(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, path in self.columns:
            value: Any = row
            for part in path:
                value = value.get(part) if isinstance(value, dict) else None
            out[name] = value
        return out

    @property
    def pageable(self) -> bool:
        return any(name == "id" for name, _unused in self.columns)


_STRING = r"""(?:'[^']*'|"[^"]*")"""
_WHERE = re.compile(rf"""where\s+(\w+)\s+in~\s*\(\s*({_STRING}(?:\s*,\s*{_STRING})*)\s*\)""", re.DOTALL)
_STRINGS = re.compile(_STRING)
_CONNECTIONS = re.compile(r"(\w+)\s*=\s*properties\s*\.\s*privateEndpointConnections")


def _split_pipes(query: str) -> list[str]:
    """Split on ``|`` outside quotes."""
    parts, current, quote = [], [], ""
    for char in query:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "|":
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if quote:
        raise QueryError("unterminated string literal")
    parts.append("".join(current).strip())
    return parts


def parse_query(query: str) -> ParsedQuery:
    """Parse the restricted grammar of the module docstring, or raise QueryError."""
    stages = _split_pipes(query)
    if stages[0].lower() != "resources":
        raise QueryError(f"the query must start with the table 'resources', not {stages[0][:40]!r}")
    if len(stages) < 3:
        raise QueryError("expected '| where type in~ (...)' and '| project ...' after 'resources'")
    filters: dict[str, set[str]] = {}
    for stage in stages[1:-1]:
        match = _WHERE.fullmatch(stage)
        if match is None:
            raise QueryError(f"unsupported operator {stage[:60]!r}: only "
                             f"'where <{'|'.join(FILTER_COLUMNS)}> in~ (...)' and a final 'project'")
        column = match.group(1)
        if column not in FILTER_COLUMNS:
            raise QueryError(f"cannot filter on {column!r}; only on {', '.join(FILTER_COLUMNS)}")
        if column in filters:
            raise QueryError(f"more than one 'where {column}'")
        filters[column] = {literal[1:-1].lower() for literal in _STRINGS.findall(match.group(2))}
    if "type" not in filters:
        raise QueryError("the query must filter on type: '| where type in~ (...)'")
    project = stages[-1]
    keyword, _unused, rest = project.partition(" ")
    if keyword.strip() != "project" or not rest.strip():
        raise QueryError(f"the last operator must be 'project <columns>', not {project[:60]!r}")
    columns: list[tuple[str, tuple[str, ...]]] = []
    for item in (part.strip() for part in rest.split(",")):
        alias = _CONNECTIONS.fullmatch(item)
        if alias is not None:
            if alias.group(1) != CONNECTIONS_COLUMN:
                raise QueryError(f"name the projected connections {CONNECTIONS_COLUMN!r}, not {alias.group(1)!r}")
            column: tuple[str, tuple[str, ...]] = (CONNECTIONS_COLUMN, ("properties", "privateEndpointConnections"))
        elif item in COLUMNS:
            column = (item, (item,))
        else:
            raise QueryError(f"cannot project {item[:60]!r}; columns: {', '.join(COLUMNS)} or "
                             f"'{CONNECTIONS_COLUMN} = properties.privateEndpointConnections'")
        if any(name == column[0] for name, _unused in columns):
            raise QueryError(f"column {column[0]!r} projected twice")
        columns.append(column)
    return ParsedQuery(filters, columns)


def encode_skip_token(max_rows: int, rows_to_skip: int) -> str:
    # The recorded token is .NET-indented JSON with CRLF line ends.
    text = json.dumps({"$id": "1", "MaxRows": max_rows, "RowsToSkip": rows_to_skip,
                       "KustoClusterUrl": KUSTO_CLUSTER_URL}, indent=2).replace("\n", "\r\n")
    return base64.b64encode(text.encode()).decode()


def decode_skip_token(token: str) -> tuple[int, int]:
    """(MaxRows, RowsToSkip), or ValueError."""
    try:
        data = json.loads(base64.b64decode(token, validate=True))
        max_rows, rows_to_skip = data["MaxRows"], data["RowsToSkip"]
    except (binascii.Error, ValueError, TypeError, KeyError) as exc:
        raise ValueError("The skip token is invalid.") from exc
    if not isinstance(max_rows, int) or not isinstance(rows_to_skip, int) or max_rows < 1 or rows_to_skip < 0:
        raise ValueError("The skip token is invalid.")
    return max_rows, rows_to_skip


def _hhmmss(seconds: float) -> str:
    whole = max(0, math.ceil(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _support_message() -> str:
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%a, %d %b %Y %H:%M:%S GMT")
    return f"Please provide below info when asking for support: timestamp = {stamp}, correlationId = {uuid.uuid4()}."


def _error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> tuple[int, dict]:
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return status, {"error": error}


def row_from_resource(resource: dict[str, Any]) -> dict[str, Any]:
    """The ARG row of a resource given as its provider's GET body (``id``, ``name``, ``type``, ...)."""
    parts = str(resource["id"]).split("/")
    lowered = [part.lower() for part in parts]
    return {
        "id": resource["id"],
        "name": resource.get("name", parts[-1]),
        "type": str(resource["type"]).lower(),
        "subscriptionId": parts[lowered.index("subscriptions") + 1],
        "resourceGroup": parts[lowered.index("resourcegroups") + 1].lower(),
        "location": resource.get("location", ""),
        "tags": resource.get("tags") or {},
        "properties": resource.get("properties") or {},
    }


class ResourceGraph:
    """The Resource Graph ``resources`` query endpoint over the rows ``rows`` gives."""

    def __init__(self, rows: Rows, page_size_max: int = PAGE_MAX, quota: int = 15, window: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._rows = rows
        self.page_size_max = page_size_max
        self.quota = quota
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}  # caller -> (window start, requests counted)

    def configure(self, quota: int | None = None, window: float | None = None) -> None:
        with self._lock:
            if quota is not None:
                self.quota = int(quota)
            if window is not None:
                self.window = float(window)
            self._windows = {}

    # ---- quota ------------------------------------------------------------------------------
    def _spend(self, caller: str) -> tuple[bool, dict[str, str]]:
        with self._lock:
            now = self._clock()
            start, used = self._windows.get(caller, (now, 0))
            if now >= start + self.window:
                start, used = now, 0
            allowed = used < self.quota
            if allowed:
                used += 1
            self._windows[caller] = (start, used)
            resets_after = start + self.window - now
            remaining = str(max(0, self.quota - used))
            headers = {"x-ms-ratelimit-remaining-tenant-resource-requests": remaining,
                       "x-ms-user-quota-remaining": remaining,
                       "x-ms-user-quota-resets-after": _hhmmss(resets_after)}
            if not allowed:
                headers["Retry-After"] = str(max(1, math.ceil(resets_after)))
            return allowed, headers

    # ---- query ------------------------------------------------------------------------------
    def query(self, caller: str, body: Any, api_version: str | None = None) -> tuple[int, dict, dict[str, str]]:
        """Answer one query POST: (status, JSON body, headers)."""
        allowed, headers = self._spend(caller)
        if not allowed:
            return (*_error(429, "RateLimiting", _support_message(),
                            [{"code": "RateLimiting", "message": THROTTLED}]), headers)
        if api_version is not None and api_version not in API_VERSIONS:
            return (*_error(400, "InvalidApiVersionParameter",
                            f"The api-version '{api_version}' is invalid. The supported versions are "
                            f"'{', '.join(API_VERSIONS)}'."), headers)
        status, answer = self._answer(body)
        return status, answer, headers

    def _answer(self, body: Any) -> tuple[int, dict]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _error(400, "BadRequest", "The request body must be a JSON object with a 'query' string.")
        subscriptions = body.get("subscriptions")
        if (not isinstance(subscriptions, list) or not subscriptions
                or not all(isinstance(s, str) for s in subscriptions)):
            return _error(400, "BadRequest", "The request must name the subscriptions to query ('subscriptions').")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return _error(400, "BadRequest", "'options' must be an object.")
        if options.get("resultFormat", "objectArray") != "objectArray":
            return _error(400, "BadRequest", "The emulator answers only resultFormat 'objectArray'.")
        try:
            parsed = parse_query(body["query"])
        except QueryError as exc:
            return _error(400, "BadRequest", INVALID_QUERY,
                          [{"code": "InvalidQuery", "message": INVALID_QUERY},
                           {"code": "ParserFailure", "message": str(exc)}])
        top = options.get("$top")
        if top is not None and (not isinstance(top, int) or isinstance(top, bool)
                                or not 1 <= top <= self.page_size_max):
            return _error(400, "BadRequest", f"'$top' must be an integer from 1 to {self.page_size_max}.")
        skip = options.get("$skip", 0)
        if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
            return _error(400, "BadRequest", "'$skip' must be a non-negative integer.")
        token = options.get("$skipToken")
        if token:
            try:
                max_rows, skip = decode_skip_token(str(token))
            except ValueError as exc:
                return _error(400, "BadRequest", str(exc))
            size = top if top is not None else min(max_rows, self.page_size_max)
        else:
            size = top if top is not None else DEFAULT_TOP

        wanted = {s.lower() for s in subscriptions}
        matching = sorted((row for row in self._rows(list(subscriptions))
                           if str(row.get("subscriptionId", "")).lower() in wanted and parsed.matches(row)),
                          key=lambda row: str(row.get("id", "")).lower())
        page = matching[skip:skip + size]
        answer: dict[str, Any] = {
            "totalRecords": len(matching),
            "count": len(page),
            "data": [parsed.project(row) for row in page],
            "facets": [],
            "resultTruncated": "true" if not token and len(matching) - skip > self.page_size_max else "false",
        }
        if parsed.pageable and skip + len(page) < len(matching):
            answer["$skipToken"] = encode_skip_token(size, skip + len(page))
        return 200, answer
