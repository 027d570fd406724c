# SPDX-License-Identifier: GPL-3.0-or-later
"""Replay the Resource Graph recordings of recordings/other-providers against the emulator.

Each recording gets a world with as many resources in its requested subscriptions as its answers count
(``totalRecords``; a query ending in ``| limit N`` gets a few more, so the limit is what cuts), plus a few in a
subscription it does not ask for. Then each recorded request (method, path, api-version, body) is sent over
HTTPS with an emulator token and the answer is compared with the recorded one: status, top-level keys
(``$skipToken`` absent on the last page), ``totalRecords``, ``count``, ``resultTruncated`` (a string), the
data format (list of objects or columns/rows table) with each row's projected columns and value types, the
quota header names (and their values on the first answer, when the quota is fresh), and which rows the page
holds (the emulator pages rows sorted by id, as the recorded pages are). The recorded row ids themselves are
not compared: the recorder replaced the subscription ids of the response bodies with zeros and the recorded
resources are of types the emulator does not keep.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import yaml
from emu_helpers import fetch_token

from armemu import Emulator
from armemu.resourcegraph import decode_skip_token

RECORDINGS = Path(__file__).resolve().parents[3] / ".." / "shared" / "azure-rest" / "recordings" / "other-providers"
FILES = sorted(RECORDINGS.glob("resourcegraph-*.yaml")) if RECORDINGS.is_dir() else []
QUOTA_HEADER = re.compile(r"x-ms-(ratelimit-remaining-|user-quota-)")
# Emulated types the seeded resources cycle through (any type shows up in Resource Graph).
TYPES = ("Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults", "Microsoft.EventHub/namespaces",
         "Microsoft.ServiceBus/namespaces")
UNASKED_SUBSCRIPTION = "99999999-9999-4999-8999-999999999999"
LIMIT_EXTRA = 3


def load(path: Path) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text())["interactions"]


def answer_of(item: dict[str, Any]) -> dict[str, Any]:
    return json.loads(item["response"]["body"]["string"])


def request_of(item: dict[str, Any]) -> dict[str, Any]:
    return json.loads(item["request"]["body"])


def seed_for(interactions: list[dict[str, Any]]) -> tuple[dict[str, Any], list[str]]:
    """The world the recording needs, and the ids a query of its subscriptions sees, in paging order."""
    first = request_of(interactions[0])
    subscriptions = first["subscriptions"][:3]  # spread over a few of the requested subscriptions
    total = max(answer_of(item)["totalRecords"] for item in interactions)
    if re.search(r"\|\s*(?:limit|take)\s", first["query"]):
        total += LIMIT_EXTRA
    resources = [{"type": TYPES[index % len(TYPES)], "subscription_id": subscriptions[index % len(subscriptions)],
                  "resource_group": f"rg-{index % 7}", "name": f"res{index:05d}", "connections": []}
                 for index in range(total)]
    ids = sorted(f"/subscriptions/{r['subscription_id']}/resourceGroups/{r['resource_group']}/providers/{r['type']}/"
                 f"{r['name']}".lower() for r in resources)
    resources += [{"type": TYPES[0], "subscription_id": UNASKED_SUBSCRIPTION, "resource_group": "rg-0",
                   "name": f"unasked{index}", "connections": []} for index in range(3)]
    return {"resources": resources}, ids


def json_token(token: str) -> tuple[int, int] | None:
    """(MaxRows, RowsToSkip) of a 2021 token; None for the opaque 2018 ones."""
    try:
        return decode_skip_token(token)
    except ValueError:
        return None


def quota_headers(headers: Any) -> dict[str, str]:
    """The rate-limit and quota headers, by lowercase name (recorded values are lists)."""
    return {name.lower(): value[0] if isinstance(value, list) else value
            for name, value in headers.items() if QUOTA_HEADER.match(name.lower())}


def same_shape(recorded: Any, got: Any) -> bool:
    """Same JSON kind (a number is not a string, an object not a list, ...)."""
    kinds = (bool, int, float, str, list, dict, type(None))
    return next(k for k in kinds if isinstance(recorded, k)) is next(k for k in kinds if isinstance(got, k))


def compare_data(step: str, recorded: Any, got: Any, page_ids: list[str]) -> list[str]:
    """The data format, each row's projected columns and value kinds, and which rows the page holds."""
    if isinstance(recorded, list):
        if not isinstance(got, list) or not all(isinstance(row, dict) for row in got):
            return [f"{step}: data is not a list of objects: {got!r}"[:300]]
        rows = [(list(row), list(row.values())) for row in got]
        want = [(list(row), list(row.values())) for row in recorded]
    else:
        if not isinstance(got, dict) or sorted(got) != sorted(recorded):
            return [f"{step}: data is not a {sorted(recorded)} table: {got!r}"[:300]]
        if got["columns"] != recorded["columns"]:
            return [f"{step}: columns {got['columns']} != recorded {recorded['columns']}"]
        names = [column["name"] for column in got["columns"]]
        rows = [(names, row) for row in got["rows"]]
        want = [(names, row) for row in recorded["rows"]]
    problems = []
    for index, ((got_names, got_values), (want_names, want_values)) in enumerate(zip(rows, want)):
        if got_names != want_names:
            problems.append(f"{step}: row {index} columns {got_names} != recorded {want_names}")
        elif not all(same_shape(w, g) for w, g in zip(want_values, got_values)) or len(got_values) != len(want_values):
            problems.append(f"{step}: row {index} values {got_values!r} are not shaped like {want_values!r}"[:300])
    got_ids = [str(dict(zip(names, values)).get("id", "")).lower() for names, values in rows]
    if got_ids != page_ids:
        problems.append(f"{step}: page holds {got_ids} instead of {page_ids}")
    return problems


@pytest.mark.skipif(not FILES, reason=f"recordings folder {RECORDINGS} is absent")
@pytest.mark.parametrize("recording", FILES, ids=lambda p: p.name)
def test_replay_resource_graph(emu: Emulator, recording: Path) -> None:
    interactions = load(recording)
    token = fetch_token(emu)  # issued under the standard seed; tokens survive a new seed
    seed, ids = seed_for(interactions)
    emu.seed(seed)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token}"
    # Server-made values are substituted, as any replay must: where a request sends back the $skipToken of the
    # previous recorded answer, the replay sends the token the emulator gave for that page instead.
    issued: dict[str, str] = {}
    page_start: dict[str, int] = {}  # the emulator's token -> the row its page starts at
    problems: list[str] = []
    for index, item in enumerate(interactions):
        request, recorded = item["request"], item["response"]
        step = f"#{index} {recording.name}"
        options = request_of(item).get("options", {})
        data = request["body"]
        sent_token = options.get("$skipToken")
        if sent_token in issued:
            data = data.replace(sent_token, issued[sent_token])
            start = page_start[issued[sent_token]]
        elif sent_token:
            decoded = json_token(sent_token)
            assert decoded is not None, f"{step}: an opaque token from outside the recording cannot be replayed"
            start = decoded[1]
        else:
            start = options.get("$skip", 0)
        parts = urlsplit(request["uri"])
        response = session.request(request["method"], f"{emu.base_url}{parts.path}?{parts.query}",
                                   data=data.encode(), headers={"Content-Type": "application/json"},
                                   verify=emu.ca_file, timeout=10)
        if response.status_code != recorded["status"]["code"]:
            problems.append(f"{step}: status {response.status_code} != recorded {recorded['status']['code']}: "
                            f"{response.text[:300]}")
            continue
        want, got = answer_of(item), response.json()
        want_quota, got_quota = quota_headers(recorded["headers"]), quota_headers(response.headers)
        if sorted(got_quota) != sorted(want_quota):
            problems.append(f"{step}: quota headers {sorted(got_quota)} != recorded {sorted(want_quota)}")
        elif index == 0 and got_quota != want_quota:  # a fresh quota (the fixture resets it) reads as recorded
            problems.append(f"{step}: quota {got_quota} != recorded {want_quota}")
        if not response.headers.get("content-type", "").startswith("application/json"):
            problems.append(f"{step}: content-type {response.headers.get('content-type')}")
        if sorted(got) != sorted(want):
            problems.append(f"{step}: keys {sorted(got)} != recorded {sorted(want)}")
            continue
        for key in ("totalRecords", "count", "resultTruncated", "facets"):
            if got[key] != want[key]:
                problems.append(f"{step}: {key} {got[key]!r} != recorded {want[key]!r}")
        if not isinstance(got["resultTruncated"], str):
            problems.append(f"{step}: resultTruncated is not a string")
        problems += compare_data(step, want["data"], got["data"], ids[start:start + want["count"]])
        if "$skipToken" in want:
            recorded_next, next_token = want["$skipToken"], got["$skipToken"]
            if json_token(recorded_next) is not None and next_token != recorded_next:
                # 2021 tokens are base64 JSON: the emulator's must be the recorded one, byte for byte.
                problems.append(f"{step}: $skipToken {next_token!r} ({json_token(next_token)}) != recorded "
                                f"{recorded_next!r} ({json_token(recorded_next)})")
            issued[recorded_next] = next_token
            page_start[next_token] = start + got["count"]
    assert not problems, "\n".join(problems)
    assert [(r["method"], r["status"]) for r in emu.requests("arm")] == [
        (item["request"]["method"], item["response"]["status"]["code"]) for item in interactions]
