# SPDX-License-Identifier: GPL-3.0-or-later
"""Azure Resource Graph (armemu.resourcegraph): the restricted grammar, paging, truncation, quota."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from armemu.resourcegraph import ResourceGraph, decode_skip_token, encode_skip_token, parse_query, row_from_resource

SUB = "00000000-0000-0000-0000-000000000000"
OTHER = "11111111-1111-1111-1111-111111111111"
STORAGE = "microsoft.storage/storageaccounts"
VAULT = "microsoft.keyvault/vaults"
QUERY = f"""resources
| where type in~ ('Microsoft.Storage/storageAccounts', '{VAULT}')
| project id, name, type"""
# The token recorded in recordings/other-providers/resourcegraph-skip-token-query.yaml.
RECORDED_TOKEN = ("ew0KICAiJGlkIjogIjEiLA0KICAiTWF4Um93cyI6IDMsDQogICJSb3dzVG9Ta2lwIjogNSwNCiAgIkt1c3RvQ2x1c3RlclVy"
                  "bCI6ICJodHRwczovL2FyZy13dXMyLXRocmVlLXNmLmFyZy5jb3JlLndpbmRvd3MubmV0Ig0KfQ==")


def row(sub: str, rg: str, rtype: str, name: str, **properties: Any) -> dict[str, Any]:
    provider = {STORAGE: "Microsoft.Storage/storageAccounts", VAULT: "Microsoft.KeyVault/vaults"}.get(
        rtype, "Microsoft.Web/sites")
    return {"id": f"/subscriptions/{sub}/resourceGroups/{rg}/providers/{provider}/{name}", "name": name,
            "type": rtype, "subscriptionId": sub, "resourceGroup": rg.lower(), "location": "westus",
            "tags": {"team": "data"}, "properties": properties}


class World:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows
        self.asked: list[list[str]] = []

    def __call__(self, subscriptions: list[str]) -> list[dict[str, Any]]:
        self.asked.append(subscriptions)
        return list(self.rows)  # deliberately unfiltered: the graph must filter by subscription itself


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def graph_of(rows: list[dict[str, Any]], **kwargs: Any) -> ResourceGraph:
    return ResourceGraph(World(rows), **kwargs)


def body(query: str = QUERY, subscriptions: list[str] | None = None, **options: Any) -> dict[str, Any]:
    return {"subscriptions": subscriptions or [SUB], "query": query,
            "options": {"resultFormat": "objectArray", "allowPartialScopes": False, **options}}


def test_recorded_token_decodes_and_ours_round_trip() -> None:
    assert decode_skip_token(RECORDED_TOKEN) == (3, 5)
    text = base64.b64decode(encode_skip_token(3, 8)).decode()
    assert "\r\n" in text and json.loads(text) == {
        "$id": "1", "MaxRows": 3, "RowsToSkip": 8, "KustoClusterUrl": "https://arg-wus2-three-sf.arg.core.windows.net"}


def test_answer_has_the_recorded_shape_and_quota_headers() -> None:
    graph = graph_of([row(SUB, "rg-a", STORAGE, "st1"), row(SUB, "rg-a", "microsoft.web/sites", "app")])
    status, answer, headers = graph.query("caller", body(), api_version="2021-03-01")
    assert status == 200
    assert answer == {"totalRecords": 1, "count": 1, "facets": [], "resultTruncated": "false", "data": [
        {"id": f"/subscriptions/{SUB}/resourceGroups/rg-a/providers/Microsoft.Storage/storageAccounts/st1",
         "name": "st1", "type": STORAGE}]}
    assert headers == {"x-ms-ratelimit-remaining-tenant-resource-requests": "14", "x-ms-user-quota-remaining": "14",
                       "x-ms-user-quota-resets-after": "00:00:05"}


def test_pages_with_tokens_until_the_last_page_has_none() -> None:
    rows = [row(SUB, "rg", STORAGE, f"st{i:02d}") for i in range(7)][::-1]
    graph = graph_of(rows)
    seen: list[str] = []
    status, answer, _unused = graph.query("c", body(**{"$top": 3, "$skip": 0}))
    pages = 1
    while "$skipToken" in answer:
        assert status == 200 and answer["totalRecords"] == 7 and answer["count"] == 3
        seen += [item["name"] for item in answer["data"]]
        status, answer, _unused = graph.query("c", body(**{"$skipToken": answer["$skipToken"]}))
        pages += 1
    seen += [item["name"] for item in answer["data"]]
    assert pages == 3 and answer["count"] == 1
    assert seen == [f"st{i:02d}" for i in range(7)]  # sorted by id, every row once


def test_skip_and_top_over_1000_and_no_paging_without_id() -> None:
    graph = graph_of([row(SUB, "rg", STORAGE, f"st{i}") for i in range(5)])
    assert graph.query("c", body(**{"$skip": 4}))[1]["count"] == 1
    status, answer, _unused = graph.query("c", body(**{"$top": 1001}))
    assert status == 400 and answer["error"]["code"] == "BadRequest"
    status, answer, _unused = graph.query("c", body(query=QUERY.replace("id, ", ""), **{"$top": 2}))
    assert status == 200 and answer["count"] == 2 and "$skipToken" not in answer
    assert answer["resultTruncated"] == "true"  # rows remain and paging is impossible


def test_result_truncated_is_the_string_true_only_when_rows_remain_without_a_token() -> None:
    # ARG's paging page: "When resultTruncated is true, the $skipToken property isn't set"; the 2018 recording
    # has 9969 rows, a first page of 2 with a token, and "false".
    graph = graph_of([row(SUB, "rg", STORAGE, f"st{i:04d}") for i in range(1001)])
    status, answer, _unused = graph.query("c", body(**{"$top": 1000}))
    assert status == 200 and answer["resultTruncated"] == "false" and answer["count"] == 1000
    status, answer, _unused = graph.query("c", body(**{"$skipToken": answer["$skipToken"]}))
    assert answer["resultTruncated"] == "false" and answer["count"] == 1 and "$skipToken" not in answer
    answer = graph.query("c", body(query="project name", **{"$top": 1000}))[1]
    assert answer["resultTruncated"] == "true" and answer["count"] == 1000 and "$skipToken" not in answer
    answer = graph.query("c", body(query="project id | limit 1000", **{"$top": 999}))[1]
    assert answer["resultTruncated"] == "true" and answer["count"] == 999 and "$skipToken" not in answer
    answer = graph.query("c", body(query="project name | limit 1000", **{"$top": 1000}))[1]
    assert answer["resultTruncated"] == "false" and answer["count"] == 1000  # every row of the limit returned


def test_quota_429_then_recovers_after_the_window() -> None:
    clock = Clock()
    graph = graph_of([row(SUB, "rg", STORAGE, "st")], quota=2, window=5.0, clock=clock)
    assert graph.query("alice", body())[2]["x-ms-user-quota-remaining"] == "1"
    clock.now += 1.2
    assert graph.query("alice", body())[2] == {
        "x-ms-ratelimit-remaining-tenant-resource-requests": "0", "x-ms-user-quota-remaining": "0",
        "x-ms-user-quota-resets-after": "00:00:04"}
    status, answer, headers = graph.query("alice", body())
    assert status == 429 and answer["error"]["code"] == "RateLimiting"
    assert "throttled" in answer["error"]["details"][0]["message"]
    assert headers["Retry-After"] == "4" and headers["x-ms-user-quota-remaining"] == "0"
    assert graph.query("bob", body())[0] == 200  # a quota per caller
    clock.now += 3.8
    status, _unused, headers = graph.query("alice", body())
    assert status == 200 and headers["x-ms-user-quota-remaining"] == "1"


@pytest.mark.parametrize("query", [
    "Resources | where type == 'x' | project id",                           # == is KQL, not our grammar
    f"resources | where type in~ ('{STORAGE}') | limit 5 | project id",     # unsupported operator
    f"resources | where type in~ ('{STORAGE}') | project id, sku",          # unknown column
    f"resources | where type in~ ('{STORAGE}') | project id, id",           # twice
    f"resources | where type in~ ('{STORAGE}') | where type in~ ('a') | project id",
    f"resources | where location in~ ('westus') | where type in~ ('{STORAGE}') | project id",
    f"resources | where type in~ ('{STORAGE}') | project id, conns = properties.privateEndpointConnections",
    f"resourcecontainers | where type in~ ('{STORAGE}') | project id",
    f"resources | where type in~ ('{STORAGE}) | project id",                # unterminated string
    f"resources | project id | where type in~ ('{STORAGE}')",               # where after project
    "project id | limit 2 | limit 3",                                       # one limit only
    "limit 2 | project id",                                                 # limit before project
    "project id | limit -1",
    "project id | top 2 by id",                                             # KQL, not our grammar
    "resources",                                                            # no project
    "",
])
def test_queries_outside_the_grammar_answer_arg_400(query: str) -> None:
    status, answer, headers = graph_of([]).query("c", body(query=query))
    assert status == 400
    assert answer["error"]["code"] == "BadRequest"
    assert answer["error"]["message"].startswith("Query is invalid.")
    assert answer["error"]["details"][1]["code"] == "ParserFailure"
    assert "x-ms-user-quota-remaining" in headers


def test_all_filters_connections_alias_and_case_insensitive_values() -> None:
    connections = [{"id": "pec1", "properties": {"privateLinkServiceConnectionState": {"status": "Pending"}}}]
    rows = [row(SUB, "RG-A", STORAGE, "st1", privateEndpointConnections=connections),
            row(SUB, "rg-b", STORAGE, "st2"), row(SUB, "rg-a", VAULT, "kv1")]
    wanted = rows[0]["id"].upper()
    parsed = parse_query(f"""resources
        | where id in~ ("{wanted}", '/nope')
        | where resourceGroup in~ ('Rg-A')
        | where type in~ ('{STORAGE.upper()}')
        | project id,connections = properties.privateEndpointConnections ,  tags""")
    assert [parsed.project(r) for r in rows if parsed.matches(r)] == [
        {"id": rows[0]["id"], "connections": connections, "tags": {"team": "data"}}]
    assert parsed.project(rows[1])["connections"] is None


def test_only_the_requested_subscriptions_are_answered() -> None:
    world = World([row(SUB, "rg", STORAGE, "mine"), row(OTHER, "rg", STORAGE, "theirs")])
    graph = ResourceGraph(world)
    answer = graph.query("c", body(subscriptions=[SUB.upper()]))[1]
    assert [item["name"] for item in answer["data"]] == ["mine"]
    assert world.asked == [[SUB.upper()]]
    answer = graph.query("c", body(subscriptions=[SUB, OTHER]))[1]
    assert answer["totalRecords"] == 2


@pytest.mark.parametrize(("request_body", "api_version"), [
    ({"query": QUERY}, None),                                            # no subscriptions
    (["not", "an", "object"], None),
    (body(resultFormat="csv"), None),
    (body(allowPartialScopes="no"), None),
    (body(**{"$skip": -1}), None),
    (body(**{"$top": True}), None),
    (body(**{"$skipToken": "bm90IGpzb24="}), None),                       # base64 of "not json"
    (body(**{"$skipToken": RECORDED_TOKEN}), "2018-09-01-preview"),        # 2018 tokens: only the emulator's
    (body(), "2019-04-01"),
])
def test_bad_requests_are_400(request_body: Any, api_version: str | None) -> None:
    status, answer, _unused = graph_of([]).query("c", request_body, api_version=api_version)
    assert status == 400 and set(answer["error"]) >= {"code", "message"}


def test_a_row_is_made_from_the_providers_get_body() -> None:
    vault = {"id": f"/subscriptions/{SUB}/resourceGroups/RG-Data/providers/Microsoft.KeyVault/vaults/kv1",
             "name": "kv1", "type": "Microsoft.KeyVault/vaults", "location": "westeurope",
             "properties": {"privateEndpointConnections": [{"id": "pec", "properties": {}}]}}
    assert row_from_resource(vault) == {
        "id": vault["id"], "name": "kv1", "type": VAULT, "subscriptionId": SUB, "resourceGroup": "rg-data",
        "location": "westeurope", "tags": {}, "properties": vault["properties"]}
    graph = graph_of([row_from_resource(vault)])
    query = f"resources | where type in~ ('{VAULT}') | project id, connections = properties.privateEndpointConnections"
    assert graph.query("c", body(query=query))[1]["data"] == [
        {"id": vault["id"], "connections": [{"id": "pec", "properties": {}}]}]


def test_implicit_resources_table_and_a_final_limit_or_take() -> None:
    rows = [row(SUB, "rg", STORAGE, f"st{i}") for i in range(4)] + [row(SUB, "rg", "microsoft.web/sites", "app")]
    graph = graph_of(rows)
    status, answer, _unused = graph.query("c", body(query="project id, tags, properties | limit 2",
                                                    **{"$top": 100, "$skip": 0}), api_version="2021-03-01")
    assert status == 200 and answer["totalRecords"] == 2 and answer["count"] == 2 and "$skipToken" not in answer
    assert [sorted(item) for item in answer["data"]] == [["id", "properties", "tags"]] * 2
    assert graph.query("c", body(query="Resources | project name"))[1]["totalRecords"] == 5  # no type filter
    answer = graph.query("c", body(query=f"where type in~ ('{STORAGE}') | project name | take 3", **{"$skip": 1}))[1]
    assert answer["totalRecords"] == 3 and [item["name"] for item in answer["data"]] == ["st1", "st2"]
    answer = graph.query("c", body(query="project id | limit 3", **{"$top": 2}))[1]
    assert answer["count"] == 2 and "$skipToken" not in answer  # ARG does not page a limited query
    assert graph.query("c", body(query="project id | limit 0"))[1]["count"] == 0


def test_table_format_is_the_2018_default_and_can_be_asked_for() -> None:
    connections = [{"id": "pec1"}]
    graph = graph_of([row(SUB, "rg", STORAGE, "st1", privateEndpointConnections=connections)])
    query = "project id, name, tags, connections = properties.privateEndpointConnections"
    plain = {"subscriptions": [SUB], "query": query}
    table = {"columns": [{"name": "id", "type": "string"}, {"name": "name", "type": "string"},
                         {"name": "tags", "type": "object"}, {"name": "connections", "type": "object"}],
             "rows": [[f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1",
                       "st1", {"team": "data"}, connections]]}
    assert graph.query("c", plain, api_version="2018-09-01-preview")[1]["data"] == table
    assert isinstance(graph.query("c", plain, api_version="2021-03-01")[1]["data"], list)
    assert graph.query("c", {**plain, "options": {"resultFormat": "table"}}, api_version="2021-03-01")[1][
        "data"] == table
    assert isinstance(graph.query("c", {**plain, "options": {"resultFormat": "objectArray"}},
                                  api_version="2018-09-01-preview")[1]["data"], list)


def test_2018_tokens_are_opaque_and_only_the_emulators_own_are_accepted() -> None:
    graph = graph_of([row(SUB, "rg", STORAGE, f"st{i}") for i in range(7)])
    first = graph.query("c", body(query="project id, name", **{"$top": 2, "$skip": 2}),
                        api_version="2018-09-01-preview")[1]
    token = first["$skipToken"]
    assert len(token) == 344 and len(base64.b64decode(token)) == 258
    with pytest.raises(ValueError):
        decode_skip_token(token)  # not the 2021 JSON shape
    # As recorded: the token sent back with $top/$skip; the token decides where the page starts, $top its size.
    second = graph.query("c", body(query="project id, name", **{"$skipToken": token, "$top": 1, "$skip": 0}),
                         api_version="2018-09-01-preview")[1]
    assert second["count"] == 1 and second["data"][0]["name"] == "st4" and second["totalRecords"] == 7
    assert second["$skipToken"] != token
    third = graph.query("c", body(query="project id, name", **{"$skipToken": second["$skipToken"]}),
                        api_version="2018-09-01-preview")[1]
    assert [item["name"] for item in third["data"]] == ["st5"]  # the token keeps the page size it was made with
    assert graph.query("c", body(**{"$skipToken": token}), api_version="2021-03-01")[0] == 400


def test_2018_answers_carry_the_tenant_writes_budget_instead_of_the_user_quota() -> None:
    clock = Clock()
    graph = graph_of([row(SUB, "rg", STORAGE, "st")], quota=2, window=5.0, clock=clock)
    legacy = {"subscriptions": [SUB], "query": "project id"}
    assert graph.query("alice", legacy, api_version="2018-09-01-preview")[2] == {
        "x-ms-ratelimit-remaining-tenant-writes": "1199"}
    assert "x-ms-ratelimit-remaining-tenant-writes" not in graph.query("alice", body(), api_version="2021-03-01")[2]
    status, _unused, headers = graph.query("alice", legacy, api_version="2018-09-01-preview")
    assert status == 429 and headers == {"x-ms-ratelimit-remaining-tenant-writes": "1197", "Retry-After": "5"}
    clock.now += 3600
    assert graph.query("alice", legacy, api_version="2018-09-01-preview")[2] == {
        "x-ms-ratelimit-remaining-tenant-writes": "1199"}  # a new hour


def test_the_oldest_2018_tokens_are_forgotten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("armemu.resourcegraph.OPAQUE_TOKENS_KEPT", 1)
    graph = graph_of([row(SUB, "rg", STORAGE, f"st{i}") for i in range(3)])
    legacy = {"subscriptions": [SUB], "query": "project id", "options": {"$top": 1}}
    older = graph.query("c", legacy, api_version="2018-09-01-preview")[1]["$skipToken"]
    newer = graph.query("c", legacy, api_version="2018-09-01-preview")[1]["$skipToken"]
    again = {**legacy, "options": {"$skipToken": older}}
    status, answer, _unused = graph.query("c", again, api_version="2018-09-01-preview")
    assert status == 400 and answer["error"]["message"] == "The skip token is invalid."
    again["options"]["$skipToken"] = newer
    assert graph.query("c", again, api_version="2018-09-01-preview")[1]["count"] == 1
