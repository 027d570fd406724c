# SPDX-License-Identifier: GPL-3.0-or-later
"""Azure Resource Graph: ``POST /providers/Microsoft.ResourceGraph/resources?api-version=...``.

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

What is mirrored, and from which recording (recordings/other-providers/, and their README; "query" =
resourcegraph-query.yaml, "skip-token" = resourcegraph-skip-token-query.yaml, "paged" =
resourcegraph-paged-query.yaml):

- api-versions ``2021-03-01`` (query, skip-token), ``2018-09-01-preview`` (paged) and ``2022-10-01`` (not
  recorded; answered as 2021-03-01). Others: 400 ``InvalidApiVersionParameter``. No api-version at all is
  answered as 2021-03-01 (direct calls in unit tests).
- request ``{"subscriptions": [...], "query": "...", "options": {...}}``. Options (others are ignored):
  ``$top`` (1..1000, default 100; paged, query), ``$skip`` (>= 0; paged, query), ``$skipToken`` (skip-token,
  paged), ``resultFormat`` ``objectArray`` | ``table`` (query, skip-token; paged sends none), and
  ``allowPartialScopes`` (a boolean, accepted and without effect: the emulator always has every named
  subscription; query, skip-token). A wrong type or value is a 400 ``BadRequest``.
- answer ``{"totalRecords", "count", "data", "facets": [], "resultTruncated": "false"|"true", "$skipToken"?}``
  (all three): ``totalRecords`` counts every matching row (after ``limit``, before ``$skip``/``$top``),
  ``count`` the rows of this page; ``resultTruncated`` is a string; ``$skipToken`` is top-level and absent on
  the last page (query); there is no ``nextLink``.
- ``data`` format: ``objectArray`` is a list of objects, one key per projected column (query, skip-token);
  ``table`` is ``{"columns": [{"name", "type"}], "rows": [[...]]}`` with the columns in projection order and
  types ``string`` (id, name, type, subscriptionId, resourceGroup, location) or ``object`` (tags, properties,
  connections) (paged: ``{"name": "id", "type": "string"}``). The default is ``table`` at 2018-09-01-preview
  (paged sends no resultFormat and gets a table) and ``objectArray`` later (the 2021 client always sends it).
- skip tokens, 2021-03-01: base64 of .NET-style JSON with CRLF line ends ``{"$id":"1","MaxRows":N,
  "RowsToSkip":M,"KustoClusterUrl":...}``; the recorded ``MaxRows 3 / RowsToSkip 5`` gives 3 rows and the
  recorded next token, byte for byte (``RowsToSkip 8``; skip-token). Any well-formed token is accepted, not only
  the emulator's. 2018-09-01-preview: opaque base64 strings (paged); only a token this emulator issued (and has
  not forgotten: it keeps the last 10000) is accepted, any other is a 400. In both, ``$top`` sent with a token
  overrides its MaxRows and ``$skip`` is ignored: the token says where the next page starts (paged sends the
  token with ``$top 1, $skip 4`` and gets one row).
- quota headers, 2021-03-01 (query, skip-token): ``x-ms-user-quota-remaining``,
  ``x-ms-user-quota-resets-after: hh:mm:ss`` and ``x-ms-ratelimit-remaining-tenant-resource-requests`` (the same
  number, as recorded): a fixed window per caller, ``quota`` requests per ``window`` seconds (15 per 5 s, as
  the recorded ``14`` / ``00:00:05`` after one request show). 2018-09-01-preview (paged): instead of those,
  ``x-ms-ratelimit-remaining-tenant-writes``, ARM's tenant write budget (1200 per hour per caller: the first
  answer reads ``1199`` as recorded; every query POST of any api-version spends one; the recording's second
  answer reads ``1197``, another request in between is the likely reason; at 0 it stays 0, no 429 is modelled).
  Over the user quota, at any api-version: 429 ``{"error":{"code":"RateLimiting",...}}`` with ``Retry-After``
  (whole seconds until the window resets) and that version's quota headers (not recorded: ARG's documented
  throttling).

The query language is NOT KQL. Exactly this grammar is accepted (whitespace and newlines are free, keywords
and column names compare case-sensitively as in KQL, ``in~`` compares values case-insensitively)::

    resources                                                                              (optional)
    | where type in~ ('microsoft.storage/storageaccounts', 'microsoft.keyvault/vaults')    (optional)
    | where resourceGroup in~ ('rg-a', 'rg-b')                                             (optional)
    | where id in~ ('/subscriptions/.../...')                                              (optional)
    | project id, name, type, subscriptionId, resourceGroup, location, tags, properties
    | limit 2                                                                              (optional)

A query that does not start with a table name queries the implicit ``resources`` table, as ``az graph query``
sends it (skip-token and paged: ``project id``; query: ``project id, tags, properties | limit 2``); the table
name is compared case-insensitively, and any other table (``resourcecontainers``) is refused. The ``where``
lines come in any order, each at most once, all before ``project``, which is required and comes after them.
Values are quoted with ``'`` or ``"``. ``project`` takes any subset of those columns, each at most once, and
``connections = properties.privateEndpointConnections`` in place of (or besides) ``properties``, which
projects that sub-field (null when absent) under the name ``connections``. ``| limit N`` or ``| take N``
(N >= 0) may end the query, after ``project`` only, and keeps the first N rows (query). Anything else answers
400 ``{"error":{"code":"BadRequest","message":"Query is invalid. ...","details":[{"code":"InvalidQuery"},
{"code":"ParserFailure","message": <what the emulator could not parse>}]}}``, ARG's own shape.

Paging: rows are sorted by ``id`` (case-insensitively) so pages are stable (the recorded pages are in that
order too). A ``$skipToken`` is returned while rows remain after the page, but only when ARG can page: ``id``
is projected (the emulator's stand-in for ARG's rule that not every output column may be dynamic or null) and
the query has no ``limit``/``take`` (ARG's paging documentation, concepts/paging-results). ``resultTruncated``
is ``"true"`` exactly when rows remain and no ``$skipToken`` is given ("When resultTruncated is true, the
$skipToken property isn't set", same page); a page with a token reads ``"false"``, however many rows remain
(paged: 9969 rows, a page of 2 with a token, ``"false"``; skip-token: 2876 rows, ``"false"``).
"""
from __future__ import annotations

import base64
import binascii
import collections
import datetime
import json
import math
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

LEGACY_API = "2018-09-01-preview"  # table by default, opaque tokens, ARM's tenant-writes header
API_VERSIONS = (LEGACY_API, "2021-03-01", "2022-10-01")
PAGE_MAX = 1000
DEFAULT_TOP = 100
KUSTO_CLUSTER_URL = "https://arg-wus2-three-sf.arg.core.windows.net"
COLUMNS = ("id", "name", "type", "subscriptionId", "resourceGroup", "location", "tags", "properties")
FILTER_COLUMNS = ("type", "resourceGroup", "id")
CONNECTIONS_COLUMN = "connections"
OBJECT_COLUMNS = ("tags", "properties", CONNECTIONS_COLUMN)  # table format type "object"; the rest "string"
RESULT_FORMATS = ("objectArray", "table")
TENANT_WRITES = 1200  # ARM's tenant write budget per hour
TENANT_WRITES_WINDOW = 3600.0
OPAQUE_TOKENS_KEPT = 10000
INVALID_QUERY = ("Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix "
                 "the query before retrying.")
THROTTLED = ("Client application has been throttled and should not attempt to repeat the request until an amount "
             "of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.")

Rows = Callable[[list[str]], list[dict[str, Any]]]


class QueryError(ValueError):
    """The query is outside the emulator's grammar (the message says where)."""


class ParsedQuery:
    """``filters``: column -> set of lowercased values; ``columns``: (output name, source path) pairs;
    ``limit``: the final ``limit``/``take`` or None."""

    def __init__(self, filters: dict[str, set[str]], columns: list[tuple[str, tuple[str, ...]]],
                 limit: int | None = None) -> None:
        self.filters = filters
        self.columns = columns
        self.limit = limit

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

    def table(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """The ``table`` result format of these rows."""
        return {"columns": [{"name": name, "type": "object" if name in OBJECT_COLUMNS else "string"}
                            for name, _unused in self.columns],
                "rows": [list(self.project(row).values()) for row in rows]}

    @property
    def pageable(self) -> bool:
        """ARG can hand out a $skipToken: ``id`` is projected and no ``limit``/``take`` cuts the rows."""
        return self.limit is None and any(name == "id" for name, _unused in self.columns)


_STRING = r"""(?:'[^']*'|"[^"]*")"""
_WHERE = re.compile(rf"""where\s+(\w+)\s+in~\s*\(\s*({_STRING}(?:\s*,\s*{_STRING})*)\s*\)""", re.DOTALL)
_STRINGS = re.compile(_STRING)
_CONNECTIONS = re.compile(r"(\w+)\s*=\s*properties\s*\.\s*privateEndpointConnections")
_LIMIT = re.compile(r"(?:limit|take)\s+(\d+)")
_TABLE = re.compile(r"\w+")


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


def _where(stages: list[str]) -> dict[str, set[str]]:
    filters: dict[str, set[str]] = {}
    for stage in stages:
        match = _WHERE.fullmatch(stage)
        if match is None:
            raise QueryError(f"unsupported operator {stage[:60]!r}: only "
                             f"'where <{'|'.join(FILTER_COLUMNS)}> in~ (...)', then 'project', then 'limit'")
        column = match.group(1)
        if column not in FILTER_COLUMNS:
            raise QueryError(f"cannot filter on {column!r}; only on {', '.join(FILTER_COLUMNS)}")
        if column in filters:
            raise QueryError(f"more than one 'where {column}'")
        filters[column] = {literal[1:-1].lower() for literal in _STRINGS.findall(match.group(2))}
    return filters


def _project(stage: str) -> list[tuple[str, tuple[str, ...]]]:
    keyword, _unused, rest = stage.partition(" ")
    if keyword.strip() != "project" or not rest.strip():
        raise QueryError(f"expected 'project <columns>' after the filters, not {stage[:60]!r}")
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
    return columns


def parse_query(query: str) -> ParsedQuery:
    """Parse the restricted grammar of the module docstring, or raise QueryError."""
    stages = _split_pipes(query)
    if _TABLE.fullmatch(stages[0]):
        # A bare word is a table name; without one, az graph query's "project id" means the resources table.
        if stages[0].lower() != "resources":
            raise QueryError(f"the only table is 'resources', not {stages[0][:40]!r}")
        stages = stages[1:]
    if not stages:
        raise QueryError("expected '| project ...' after 'resources'")
    limit = None
    match = _LIMIT.fullmatch(stages[-1])
    if match is not None:
        limit = int(match.group(1))
        stages = stages[:-1]
    if not stages:
        raise QueryError("'limit' must follow 'project <columns>'")
    return ParsedQuery(_where(stages[:-1]), _project(stages[-1]), limit)


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


def _count_option(options: dict[str, Any], name: str, low: int, high: int | None = None) -> int | None:
    """An integer option within [low, high] (None when absent), or ValueError with ARG's kind of message."""
    value = options.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        bounds = f"an integer from {low} to {high}" if high is not None else "a non-negative integer"
        raise ValueError(f"'{name}' must be {bounds}.")
    return value


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
        self._tenant_writes: dict[str, tuple[float, int]] = {}  # caller -> (hour start, writes counted)
        # 2018-09-01-preview tokens: opaque string -> (MaxRows, RowsToSkip), oldest first.
        self._opaque: collections.OrderedDict[str, tuple[int, int]] = collections.OrderedDict()

    def configure(self, quota: int | None = None, window: float | None = None) -> None:
        with self._lock:
            if quota is not None:
                self.quota = int(quota)
            if window is not None:
                self.window = float(window)
            self._windows = {}
            self._tenant_writes = {}

    # ---- quota ------------------------------------------------------------------------------
    def _spend(self, caller: str, legacy: bool) -> tuple[bool, dict[str, str]]:
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
            hour, writes = self._tenant_writes.get(caller, (now, 0))
            if now >= hour + TENANT_WRITES_WINDOW:
                hour, writes = now, 0
            self._tenant_writes[caller] = (hour, writes + 1)
            if legacy:
                headers = {"x-ms-ratelimit-remaining-tenant-writes": str(max(0, TENANT_WRITES - writes - 1))}
            else:
                remaining = str(max(0, self.quota - used))
                headers = {"x-ms-ratelimit-remaining-tenant-resource-requests": remaining,
                           "x-ms-user-quota-remaining": remaining,
                           "x-ms-user-quota-resets-after": _hhmmss(resets_after)}
            if not allowed:
                headers["Retry-After"] = str(max(1, math.ceil(resets_after)))
            return allowed, headers

    # ---- tokens -----------------------------------------------------------------------------
    def _issue(self, legacy: bool, max_rows: int, rows_to_skip: int) -> str:
        if not legacy:
            return encode_skip_token(max_rows, rows_to_skip)
        token = base64.b64encode(secrets.token_bytes(258)).decode()  # 344 characters, as recorded
        with self._lock:
            self._opaque[token] = (max_rows, rows_to_skip)
            while len(self._opaque) > OPAQUE_TOKENS_KEPT:
                self._opaque.popitem(last=False)
        return token

    def _redeem(self, legacy: bool, token: str) -> tuple[int, int]:
        if not legacy:
            return decode_skip_token(token)
        with self._lock:
            found = self._opaque.get(token)
        if found is None:
            raise ValueError("The skip token is invalid.")
        return found

    # ---- query ------------------------------------------------------------------------------
    def query(self, caller: str, body: Any, api_version: str | None = None) -> tuple[int, dict, dict[str, str]]:
        """Answer one query POST: (status, JSON body, headers)."""
        legacy = api_version == LEGACY_API
        allowed, headers = self._spend(caller, legacy)
        if not allowed:
            return (*_error(429, "RateLimiting", _support_message(),
                            [{"code": "RateLimiting", "message": THROTTLED}]), headers)
        if api_version is not None and api_version not in API_VERSIONS:
            return (*_error(400, "InvalidApiVersionParameter",
                            f"The api-version '{api_version}' is invalid. The supported versions are "
                            f"'{', '.join(API_VERSIONS)}'."), headers)
        status, answer = self._answer(body, legacy)
        return status, answer, headers

    def _answer(self, body: Any, legacy: bool) -> tuple[int, dict]:
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return _error(400, "BadRequest", "The request body must be a JSON object with a 'query' string.")
        subscriptions = body.get("subscriptions")
        if (not isinstance(subscriptions, list) or not subscriptions
                or not all(isinstance(s, str) for s in subscriptions)):
            return _error(400, "BadRequest", "The request must name the subscriptions to query ('subscriptions').")
        options = body.get("options") or {}
        if not isinstance(options, dict):
            return _error(400, "BadRequest", "'options' must be an object.")
        result_format = options.get("resultFormat", "table" if legacy else "objectArray")
        if result_format not in RESULT_FORMATS:
            return _error(400, "BadRequest", f"'resultFormat' must be one of {', '.join(RESULT_FORMATS)}.")
        if not isinstance(options.get("allowPartialScopes", False), bool):
            return _error(400, "BadRequest", "'allowPartialScopes' must be a boolean.")
        try:
            parsed = parse_query(body["query"])
        except QueryError as exc:
            return _error(400, "BadRequest", INVALID_QUERY,
                          [{"code": "InvalidQuery", "message": INVALID_QUERY},
                           {"code": "ParserFailure", "message": str(exc)}])
        try:
            top = _count_option(options, "$top", 1, self.page_size_max)
            skip = _count_option(options, "$skip", 0) or 0
        except ValueError as exc:
            return _error(400, "BadRequest", str(exc))
        token = options.get("$skipToken")
        if token:
            try:
                max_rows, skip = self._redeem(legacy, str(token))
            except ValueError as exc:
                return _error(400, "BadRequest", str(exc))
            size = top if top is not None else min(max_rows, self.page_size_max)
        else:
            size = top if top is not None else DEFAULT_TOP

        wanted = {s.lower() for s in subscriptions}
        matching = sorted((row for row in self._rows(list(subscriptions))
                           if str(row.get("subscriptionId", "")).lower() in wanted and parsed.matches(row)),
                          key=lambda row: str(row.get("id", "")).lower())
        if parsed.limit is not None:
            matching = matching[:parsed.limit]
        page = matching[skip:skip + size]
        answer: dict[str, Any] = {
            "totalRecords": len(matching),
            "count": len(page),
            "data": parsed.table(page) if result_format == "table" else [parsed.project(row) for row in page],
            "facets": [],
        }
        more = skip + len(page) < len(matching)
        answer["resultTruncated"] = "true" if more and not parsed.pageable else "false"
        if more and parsed.pageable:
            answer["$skipToken"] = self._issue(legacy, size, skip + len(page))
        return 200, answer
