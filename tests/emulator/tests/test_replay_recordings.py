# SPDX-License-Identifier: GPL-3.0-or-later
"""Replay every recording of recordings/other-providers against the emulator, request by request.

Each recording is turned into a seed (the world it starts from: every connection as the recording first
shows it), then each recorded request (method, path, query, body) is sent over HTTPS with a token from the
emulator, and the answer is compared with the recorded one: status code, presence and path shape of the
long-running-operation headers (Azure-AsyncOperation, Location), and the state of every connection in the
body (status, description, provisioningState, etag presence). Where the recording polls a connection until
its provisioningState settles (Key Vault), the emulator's op_duration is short and the replay re-reads until
the recorded state appears. The Resource Graph recordings are replayed by test_replay_resourcegraph.py.
"""
from __future__ import annotations

import base64
import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
import yaml
from emu_helpers import fetch_token
from test_replay_resourcegraph import FILES as GRAPH_FILES

from armemu import Emulator
from armemu.providers import provider

RECORDINGS = Path(__file__).resolve().parents[3] / ".." / "shared" / "azure-rest" / "recordings" / "other-providers"
FILES = sorted(p for p in RECORDINGS.glob("*.yaml") if not p.name.startswith("resourcegraph-")) \
    if RECORDINGS.is_dir() else []
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
IN_PROGRESS = {"updating", "creating", "deleting", "approving", "rejecting", "dropping", "accepted"}
MISSING = "<missing>"


def load(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["interactions"]


def body_json(text: Any) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def resource_path(uri: str) -> tuple[str, str, str, str, str] | None:
    """(sub, rg, type, name, resource id) of a ``.../resourceGroups/{rg}/providers/{ns}/{type}/{name}`` URI."""
    parts = urlsplit(uri).path.strip("/").split("/")
    if len(parts) < 8 or parts[2].lower() != "resourcegroups" or parts[4].lower() != "providers":
        return None
    return parts[1], parts[3], f"{parts[5]}/{parts[6]}", parts[7], "/" + "/".join(parts[:8])


def connections_in(body: Any) -> list[dict[str, Any]]:
    """Every connection object a body shows: itself, a list's values, or a parent's embedded ones."""
    if not isinstance(body, dict):
        return []
    if "value" in body and isinstance(body["value"], list):
        return [c for c in body["value"] if isinstance(c, dict)]
    properties = body.get("properties") or {}
    if "privateLinkServiceConnectionState" in properties:
        return [body]
    return [c for c in properties.get("privateEndpointConnections") or [] if isinstance(c, dict)]


def state_of(connection: dict[str, Any]) -> tuple[str, ...]:
    """The compared fields: state values, etag presence, and the key sets (field names and layout)."""
    properties = connection.get("properties") or {}
    link = properties.get("privateLinkServiceConnectionState") or {}
    return (connection["id"].lower(), str(link.get("status")), str(link.get("description", MISSING)),
            str(properties.get("provisioningState")), str("etag" in connection),
            json.dumps(sorted(link.items())), ",".join(sorted(connection)), ",".join(sorted(properties)))


def build_world(interactions: list[dict[str, Any]]) -> dict[str, Any]:
    """The seed: every resource the recording touches, each connection as the recording first shows it."""
    resources: dict[str, dict[str, Any]] = {}
    seen: set[str] = set()
    for item in interactions:
        where = resource_path(item["request"]["uri"])
        if where is None:
            continue
        sub, rg, rtype, name, rid = where
        ptype = provider(rtype)
        assert ptype is not None, f"the emulator does not know {rtype}"
        entry = resources.setdefault(rid.lower(), {"type": ptype.resource_type, "subscription_id": sub,
                                                   "resource_group": rg, "name": name, "connections": []})
        body = body_json(item["response"]["body"]["string"])
        if isinstance(body, dict) and body.get("location") and "location" not in entry:
            entry["location"] = body["location"]
        for conn in connections_in(body):
            if conn["id"].lower() in seen:
                continue
            seen.add(conn["id"].lower())
            properties = conn["properties"]
            link = properties["privateLinkServiceConnectionState"]
            seeded = {"name": conn["id"].rsplit("/", 1)[1], "status": link["status"],
                      "private_endpoint_id": properties["privateEndpoint"]["id"]}
            if "description" in link:
                seeded["description"] = link["description"]
            group = properties.get("groupId") or (properties.get("groupIds") or [None])[0]
            if group:
                seeded["group_id"] = group
            entry["connections"].append(seeded)
    return {"resources": list(resources.values())}


def shape(url: str) -> tuple[str, tuple[str, ...]]:
    """A URL's path with ids replaced, and its query parameter names."""
    parts = urlsplit(url)
    return GUID.sub("{id}", parts.path).lower(), tuple(sorted(k for k, _v in parse_qsl(parts.query)))


def kv_operation(url: str) -> dict[str, Any] | None:
    token = dict(parse_qsl(urlsplit(url).query)).get("kv-operation")
    if token is None:
        return None
    return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))


def error_of(body: Any) -> tuple[str, str] | None:
    if not isinstance(body, dict):
        return None
    error = body.get("error", body)
    if not isinstance(error, dict) or "code" not in error:
        return None
    message = re.sub(r"subscription '[^']*'", "subscription '<sub>'", str(error.get("message", "")))
    return str(error["code"]), re.sub(r"RequestId: \S+", "RequestId: <id>", message)


def header(headers: dict[str, Any], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value[0] if isinstance(value, list) else value
    return None


def compare(step: str, recorded: dict[str, Any], response: requests.Response) -> list[str]:
    """Differences between the recorded answer and the emulator's (empty when they agree)."""
    problems: list[str] = []
    if response.status_code != recorded["status"]["code"]:
        return [f"{step}: status {response.status_code} != recorded {recorded['status']['code']}: {response.text}"]
    for name in ("azure-asyncoperation", "location"):
        want, got = header(recorded["headers"], name), response.headers.get(name)
        if (want is None) != (got is None):
            problems.append(f"{step}: {name} header {'missing' if got is None else 'unexpected'}")
        elif want is not None and got is not None:
            if shape(want) != shape(got):
                problems.append(f"{step}: {name} shape {shape(got)} != recorded {shape(want)}")
            want_op, got_op = kv_operation(want), kv_operation(got)
            if want_op is not None and (got_op is None or got_op["code"] != want_op["code"]
                                        or sorted(got_op) != sorted(want_op)):
                problems.append(f"{step}: kv-operation {got_op} != recorded {want_op}")
    text = recorded["body"]["string"]
    if not text:
        if response.content:
            problems.append(f"{step}: a body where the recording has none: {response.text[:200]}")
        want_type = header(recorded["headers"], "content-type")
        got_type = response.headers.get("content-type")
        if (want_type or "").split(";")[0] != (got_type or "").split(";")[0]:
            problems.append(f"{step}: content-type {got_type!r} != recorded {want_type!r}")
        return problems
    want_body, got_body = body_json(text), response.json()
    if error_of(want_body) is not None or response.status_code >= 400:
        if error_of(got_body) != error_of(want_body):
            problems.append(f"{step}: error {error_of(got_body)} != recorded {error_of(want_body)}")
        return problems
    want_states = sorted(state_of(c) for c in connections_in(want_body))
    got_states = sorted(state_of(c) for c in connections_in(got_body))
    embedded = not connections_in(want_body) and "properties" in want_body
    # The SQL recording's parent GET predates the private endpoint (its embedded list is empty).
    if want_states != got_states and not (embedded and not want_states):
        problems.append(f"{step}: connection states {got_states} != recorded {want_states}")
    if isinstance(want_body, dict) and "value" in want_body and ("nextLink" in want_body) != ("nextLink" in got_body):
        problems.append(f"{step}: nextLink key presence differs "
                        f"({'nextLink' in got_body} != {'nextLink' in want_body})")
    return problems


def settled_later(recorded: dict[str, Any], response: requests.Response) -> bool:
    """The recording shows a settled state where the emulator still runs the operation: wait and re-read."""
    if response.status_code != 200:
        return False
    got = [state_of(c)[3].lower() for c in connections_in(response.json())]
    want = [state_of(c)[3].lower() for c in connections_in(body_json(recorded["body"]["string"]))]
    return any(g in IN_PROGRESS for g in got) and not any(w in IN_PROGRESS for w in want)


@pytest.mark.skipif(not FILES, reason=f"recordings folder {RECORDINGS} is absent")
@pytest.mark.parametrize("recording", FILES, ids=lambda p: p.name)
def test_replay(emu: Emulator, recording: Path) -> None:
    interactions = load(recording)
    token = fetch_token(emu)  # issued under the standard seed; tokens survive a new seed
    emu.seed(build_world(interactions))
    emu.configure(op_duration=1.2)  # the recorded Updating reads fit well inside
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    problems: list[str] = []
    for index, item in enumerate(interactions):
        request = item["request"]
        parts = urlsplit(request["uri"])
        url = f"{emu.base_url}{parts.path}?{parts.query}"
        data = request["body"].encode() if request["body"] else None
        headers = {"Content-Type": "application/json"} if data else {}
        step = f"#{index} {request['method']} {parts.path.rsplit('/', 1)[-1]}"
        response = session.request(request["method"], url, data=data, headers=headers, verify=emu.ca_file,
                                   timeout=10)
        deadline = time.monotonic() + 10
        while request["method"] == "GET" and settled_later(item["response"], response) \
                and time.monotonic() < deadline:
            time.sleep(0.1)
            response = session.request("GET", url, verify=emu.ca_file, timeout=10)
        problems.extend(compare(step, item["response"], response))
    assert not problems, "\n".join(problems)
    assert [r["method"] for r in emu.requests("arm")][:1] == [interactions[0]["request"]["method"]]


def test_replay_covers_every_provider_recording() -> None:
    if not RECORDINGS.is_dir():
        pytest.skip(f"recordings folder {RECORDINGS} is absent")
    assert {p.name.split("-")[0] for p in FILES} >= {"keyvault", "storage", "sql", "batch", "search"}
    # Every recording of the folder is replayed by this file or by test_replay_resourcegraph.py, once.
    replayed = [p.name for p in FILES] + [p.name for p in GRAPH_FILES]
    assert sorted(replayed) == sorted(p.name for p in RECORDINGS.glob("*.yaml"))
    assert len(set(replayed)) == len(replayed)
