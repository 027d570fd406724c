# SPDX-License-Identifier: GPL-3.0-or-later
"""Property tests: any user input either works or is refused with a ValidationError, and no input
(nor any name the service itself returns) makes a request leave the connection's URL.

The real ``ArmClient`` runs with a scripted session that answers like ARM and records every request;
each URL is checked the way a server would see it: as ``requests`` prepares it, percent-decoded,
NFKC-normalised (some front ends fold look-alike characters) and with ``..`` segments resolved.
"""

from __future__ import annotations

import json
import posixpath
import time
import typing as t
import unicodedata
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from requests.structures import CaseInsensitiveDict

from ansible_collections.privatelink.azure.plugins.module_utils._arm import ArmClient
from ansible_collections.privatelink.azure.plugins.module_utils._cosmosdb import (
    API_VERSION,
    ConnectionService,
    validate_connection_name,
    validate_status_filter,
)
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

ENDPOINT = "https://management.example.test"
SUB = "11111111-2222-3333-4444-555555555555"
PE_ID = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-1"

# Pieces that have broken URL builders elsewhere: separators, dot segments (plain, encoded, look-alike),
# query and fragment starters, encodings, whitespace, controls and bidi marks.
HOSTILE_PIECES = [
    "/", "\\", "..", ".", "%2e%2e", "%2E%2E", "%2f", "%2F", "%5c", "%00", "%", "?", "#", "&", "=", ";", "@", ":",
    "api-version=2015-01-01", "\uff0e\uff0e", "\uff0f", "\u2025", "\u2024", "\u3002", "\ufe52", "\u2215",
    "\u2044", "\uff3c", " ", "\t", "\n", "\r", "\x00", "\x7f", "\u200b", "\u202e", "\ufeff", "\u2028",
    "pe-1", "é", "日本", "\U0001f600", "subscriptions", "resourceGroups", "providers",
]
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE_PIECES), st.text(max_size=4)), max_size=10).map("".join)
huge_text = st.builds(lambda piece, count: piece * count, st.sampled_from(["a", "é", ".", "/", "ab-"]),
                      st.integers(min_value=90, max_value=6000))
wrong_type = st.one_of(st.none(), st.integers(), st.floats(allow_nan=True), st.booleans(),
                       st.lists(st.text(max_size=5), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2))
any_input = st.one_of(st.text(), hostile_text, huge_text, wrong_type, st.just(""))


def mostly(valid: st.SearchStrategy, weight_hostile: st.SearchStrategy = any_input) -> st.SearchStrategy:
    """Valid values often enough to reach the requests, hostile ones the rest of the time."""
    return st.one_of(valid, valid, weight_hostile)


subscriptions = mostly(st.sampled_from([SUB, SUB.upper()]))
resource_groups = mostly(st.sampled_from(["rg-data", "RG.Data_(1)", "rg-é", "r"]))
accounts = mostly(st.sampled_from(["orders-db", "abc", "a1-b2-c3"]))
# Short runs of dots and slashes, with their look-alikes and encodings: the dangerous names are short.
dotty = st.lists(st.sampled_from([".", "..", "\uff0e", "\u2024", "\u2025", "%2e", "/", "\\", "\uff0f", "%2f"]),
                 min_size=1, max_size=3).map("".join)
names = mostly(st.sampled_from(["pe-1.0001", "pe-billing.6b1f0c2e-4c0d-4a57-9d43-0e3c7f1d2a10", "Pe 1", "é"]),
               st.one_of(any_input, hostile_text, dotty, dotty))
statuses = st.one_of(st.sampled_from(["Approved", "approved", "APPROVED", "Rejected", "rEjEcTeD"]),
                     st.builds(lambda s: "".join(c.upper() if i % 2 else c for i, c in enumerate(s)),
                               st.sampled_from(["approved", "rejected"])),
                     any_input)
descriptions = st.one_of(st.none(), st.text(), hostile_text, huge_text, wrong_type)


def response(method: str, status: int, body: t.Any = None) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    r._content = json.dumps(body).encode() if body is not None else b""
    r.headers = CaseInsensitiveDict({"x-ms-request-id": "req-1", "Content-Type": "application/json"})
    r.encoding = "utf-8"
    return r


class Token:
    token = "opaque"
    expires_on = time.time() + 3600


class Credential:
    def get_token(self, *scopes: str) -> Token:
        return Token()


def connection(name: str, status: str = "Pending", endpoint: str = PE_ID) -> dict[str, t.Any]:
    return {"id": f"/x/privateEndpointConnections/{name}", "name": name, "properties": {
        "privateEndpoint": {"id": endpoint}, "groupId": "Sql", "provisioningState": "Succeeded",
        "privateLinkServiceConnectionState": {"status": status, "description": "", "actionsRequired": "None"}}}


class FakeArm:
    """A scripted session: answers like ARM and keeps every URL exactly as requests would send it."""

    def __init__(self, listed_names: t.Sequence[str] = ("pe-1",)) -> None:
        self.headers: dict[str, str] = {}
        self.sent: list[tuple[str, str]] = []
        self.listed_names = list(listed_names)

    def request(self, method: str, url: str, *, params=None, data=None, headers=None, timeout=None):
        prepared = requests.Request(method, url, params=params, data=data, headers=headers).prepare()
        self.sent.append((method, prepared.url))
        path = unquote(urlsplit(prepared.url).path)
        last = path.rsplit("/", 1)[-1]
        if method == "GET" and path.endswith("/privateEndpointConnections"):
            return response(method, 200, {"value": [connection(n) for n in self.listed_names]})
        if method == "GET":
            return response(method, 200, connection(last))
        if method == "PUT":
            body = json.loads(data)
            state = body["properties"]["privateLinkServiceConnectionState"]
            return response(method, 200, connection(last, state["status"]))
        return response(method, 204)


def client_for(session: FakeArm) -> ArmClient:
    return ArmClient(ENDPOINT, Credential(), "https://management.azure.com/.default", session=session,
                     sleep=lambda seconds: None)


def account_prefix(sub: str, rg: str, account: str) -> str:
    return (f"/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DocumentDB/databaseAccounts/{account}"
            "/privateEndpointConnections")


def assert_stays_on_connections(url: str, sub: str, rg: str, account: str, name: str | None) -> None:
    """The URL, as a server would resolve it, addresses this account's connection ``name`` (or the list)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == ENDPOINT, url
    assert parts.fragment == "", url
    assert parse_qs(parts.query, keep_blank_values=True) == {"api-version": [API_VERSION]}, url
    prefix = account_prefix(sub, rg, account)
    raw = parts.path
    assert posixpath.normpath(raw) == raw, f"dot segments or empty segments in {url}"
    for seen in (unquote(raw), unicodedata.normalize("NFKC", unquote(raw))):
        resolved = posixpath.normpath(seen.replace("\\", "/"))
        if name is None:
            assert resolved == posixpath.normpath(prefix), (url, resolved)
        else:
            assert resolved.startswith(prefix + "/"), (url, resolved)
            assert "/" not in resolved[len(prefix) + 1:], (url, resolved)
    if name is not None:
        assert unquote(raw) == f"{prefix}/{name}", url


def assert_refusal(err: ValidationError) -> None:
    assert isinstance(err.msg, str) and err.msg.strip()
    assert "\n" not in err.msg and len(err.msg) < 600, "a refusal is one readable line"


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(sub=subscriptions, rg=resource_groups, account=accounts, name=names, status=statuses,
       description=descriptions, state=st.sampled_from(["present", "absent"]), check_mode=st.booleans())
def test_module_inputs_work_or_are_refused_and_never_leave_the_connection(sub, rg, account, name, status,
                                                                          description, state, check_mode):
    """What the connection module does with its options (validate the name, then ensure or remove)."""
    session = FakeArm()
    try:
        service = ConnectionService(client_for(session), sub, rg, account)
        name = validate_connection_name(name)
        if state == "absent":
            result = service.remove(name, check_mode=check_mode, wait=True, wait_timeout=5)
        else:
            result = service.ensure(name, status, description, check_mode=check_mode, wait=True, wait_timeout=5)
    except ValidationError as err:
        assert_refusal(err)
        assert all(method == "GET" for method, _unused in session.sent), "refused before any write"
        return
    assert isinstance(result["changed"], bool)
    for method, url in session.sent:
        assert_stays_on_connections(url, sub, rg, account, name)
    if check_mode:
        assert [m for m, _unused in session.sent] == ["GET"]


@PROPERTY
@given(sub=st.sampled_from([SUB, SUB.upper()]), rg=st.sampled_from(["rg-data", "RG.Data_(1)", "rg-é"]),
       account=st.sampled_from(["orders-db", "abc"]), listed=st.lists(st.one_of(dotty, names), min_size=1, max_size=3),
       status=st.sampled_from(["Approved", "rejected"]))
def test_names_returned_by_the_service_never_redirect_a_write(sub, rg, account, listed, status):
    """Approve by private endpoint: the name comes from ARM's list, and is not trusted to stay one segment."""
    listed = [n if isinstance(n, str) else str(n) for n in listed]
    session = FakeArm(listed_names=listed[:1])
    try:
        service = ConnectionService(client_for(session), sub, rg, account)
        name = service.name_for_private_endpoint(PE_ID, required=True)
        service.ensure(name, status, None, check_mode=False, wait=True, wait_timeout=5)
    except ValidationError as err:
        assert_refusal(err)
        name = None
    for method, url in session.sent:
        if urlsplit(url).path.endswith("/privateEndpointConnections"):
            assert_stays_on_connections(url, sub, rg, account, None)
        else:
            assert method in ("GET", "PUT")
            assert_stays_on_connections(url, sub, rg, account, name or listed[0])


@PROPERTY
@given(values=st.one_of(st.none(), st.lists(st.one_of(
    st.sampled_from(["Pending", "pending", "APPROVED", "rejected", "Disconnected", "dIsCoNnEcTeD"]), any_input),
    max_size=5)))
def test_status_filters_are_case_insensitive_or_refused(values):
    try:
        result = validate_status_filter(values)
    except ValidationError as err:
        assert_refusal(err)
        return
    assert len(result) == len(values or [])
    assert all(s in ("Pending", "Approved", "Rejected", "Disconnected") for s in result)
    assert [s.lower() for s in result] == [v.lower() for v in values or []]


@PROPERTY
@given(status=statuses)
def test_any_case_of_a_status_is_accepted_and_sent_in_the_service_spelling(status):
    session = FakeArm()
    service = ConnectionService(client_for(session), SUB, "rg-data", "orders-db")
    try:
        result = service.ensure("pe-1", status, None, check_mode=False, wait=True, wait_timeout=5)
    except ValidationError as err:
        assert_refusal(err)
        assert not (isinstance(status, str) and status.lower() in ("approved", "rejected"))
        return
    assert isinstance(status, str) and status.lower() in ("approved", "rejected")
    assert result["connection"]["status"] == status.capitalize()


@pytest.mark.parametrize("name", ["..", ".", "%2e%2e", "\uff0e\uff0e", "a/../..", "..\\..", "x?api-version=1",
                                  "x#frag", "\u2025", " pe", "pe\n"])
def test_known_escapes_are_refused(name):
    with pytest.raises(ValidationError):
        validate_connection_name(name)


@pytest.mark.parametrize("name", ["..", "\uff0e\uff0e", "a/b", "%2e%2e"])
def test_a_hostile_name_from_the_service_is_not_written(name):
    session = FakeArm(listed_names=[name])
    service = ConnectionService(client_for(session), SUB, "rg-data", "orders-db")
    with pytest.raises(ValidationError):
        service.ensure(service.name_for_private_endpoint(PE_ID, required=True), "Approved", None,
                       check_mode=False, wait=True, wait_timeout=5)
    assert [method for method, _unused in session.sent] == ["GET"], "only the list was read"
