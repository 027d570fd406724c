# SPDX-License-Identifier: GPL-3.0-or-later
"""Resource Graph and subscription throttling over HTTPS, once server.py serves them.

Skipped (saying why) until the server routes ``POST /providers/Microsoft.ResourceGraph/resources`` to
``armemu.resourcegraph.ResourceGraph`` and keeps an ``armemu.throttle.Throttle`` as ``server.throttle``;
see the wiring described at the top of those modules.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from emu_helpers import ACCOUNT, SUB, Arm, build_seed, fetch_token

from armemu import Emulator

GRAPH = "/providers/Microsoft.ResourceGraph/resources"
QUERY = ("resources | where type in~ ('microsoft.documentdb/databaseaccounts') "
         "| project id, name, connections = properties.privateEndpointConnections")


@pytest.fixture
def own(client_cert) -> Iterator[tuple[Emulator, Arm]]:
    with Emulator(build_seed(client_cert.certificate_pem)) as emulator:
        yield emulator, Arm(emulator, fetch_token(emulator))


def graph_query(arm: Arm, **options: object):
    return arm.request("POST", f"{arm.emulator.base_url}{GRAPH}", params={"api-version": "2021-03-01"},
                       json={"subscriptions": [SUB], "query": QUERY, "options": options})


def test_resource_graph_over_https(own) -> None:
    _unused, arm = own
    answer = graph_query(arm, **{"$top": 1})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["totalRecords"] == 1 and body["resultTruncated"] == "false"
    assert body["data"][0]["name"] == ACCOUNT
    assert answer.headers["x-ms-user-quota-remaining"] == "14"
    assert answer.headers["x-ms-user-quota-resets-after"] == "00:00:05"
    bad = arm.request("POST", f"{arm.emulator.base_url}{GRAPH}", params={"api-version": "2021-03-01"},
                      json={"subscriptions": [SUB], "query": "Resources | take 1"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "BadRequest"


def test_subscription_throttling_over_https(own) -> None:
    emulator, arm = own
    emulator.configure(throttle={"enabled": True, "reads": [2, 0.5]})
    assert [arm.get(arm.url()).status_code for _attempt in range(2)] == [200, 200]
    refused = arm.get(arm.url())
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    assert refused.headers["Retry-After"] == "2"
    assert refused.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
