# SPDX-License-Identifier: GPL-3.0-or-later
"""The Cosmos DB approval role's result, built from the policy module's decisions."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.privatelink.azure.plugins.filter.cosmosdb_approval_result import FilterModule
from ansible_collections.privatelink.azure.plugins.module_utils import _policy as p

COSMOS = "Microsoft.DocumentDB/databaseAccounts"
HOME = "11111111-2222-3333-4444-555555555555"
OTHER = "99999999-8888-7777-6666-555555555555"
ALLOWED = "aaaaaaaa-0000-0000-0000-000000000001"
FOREIGN = "cccccccc-0000-0000-0000-000000000003"
RESULT = FilterModule().filters()["cosmosdb_approval_result"]

# The account in the default subscription is named relative to it; the other one in full. Both are
# called orders-db in rg-data, so a relative ID must not take the other subscription's connections.
ACCOUNTS = [
    {"label": "rg-data/orders-db", "subscription_id": "", "resource_group": "rg-data", "account_name": "orders-db",
     "resource_id": f"/resourceGroups/rg-data/providers/{COSMOS}/orders-db"},
    {"label": f"{OTHER}/rg-data/orders-db", "subscription_id": OTHER, "resource_group": "rg-data",
     "account_name": "orders-db",
     "resource_id": f"/subscriptions/{OTHER}/resourceGroups/rg-data/providers/{COSMOS}/orders-db"},
]


def conn(subscription: str, name: str, endpoint_subscription: str, status: str = "Pending") -> dict:
    resource = f"/subscriptions/{subscription}/resourceGroups/RG-DATA/providers/{COSMOS}/orders-db"
    return {"id": f"{resource}/privateEndpointConnections/{name}", "name": name, "resource_id": resource,
            "resource_type": COSMOS, "resource_tags": {}, "status": status, "description": None, "group_ids": [],
            "private_endpoint_id": f"/subscriptions/{endpoint_subscription}/resourceGroups/rg/providers/"
                                   f"Microsoft.Network/privateEndpoints/{name}", "etag": None}


def decisions() -> list[dict]:
    rules = p.validate_rules(
        [{"name": "allowed subscriptions", "action": "approve", "endpoint_subscriptions": [ALLOWED]}], [COSMOS])
    planned = p.plan([conn(HOME, "a1", ALLOWED), conn(HOME, "a2", FOREIGN), conn(HOME, "old", ALLOWED, "Approved"),
                      conn(OTHER, "b1", ALLOWED), conn(OTHER, "b2", ALLOWED), conn(OTHER, "b3", ALLOWED)], rules)
    outage = {"code": "InternalServerError", "message": "Simulated storage outage"}
    changed = {"b2": lambda d: d.failed(outage, "req-9"),
               "b3": lambda d: d.changed_elsewhere()}
    return [changed.get(d.connection_name, lambda d: d)(d).as_result() for d in planned]


def test_counts_per_account_and_failures():
    result = RESULT(decisions(), ACCOUNTS)
    assert result == {
        "check_mode": False, "approved": 2, "rejected": 0, "left": 1, "changed_elsewhere": 1,
        "accounts": [
            {"account": "rg-data/orders-db", "subscription_id": None, "approved": ["a1"], "rejected": [],
             "left": ["a2"], "changed_elsewhere": [], "failed": []},
            {"account": f"{OTHER}/rg-data/orders-db", "subscription_id": OTHER, "approved": ["b1"], "rejected": [],
             "left": [], "changed_elsewhere": ["b3"], "failed": ["b2"]},
        ],
        "failures": [{
            "account": f"{OTHER}/rg-data/orders-db", "subscription_id": OTHER, "resource_group": "rg-data",
            "account_name": "orders-db", "name": "b2",
            "private_endpoint_id": f"/subscriptions/{ALLOWED}/resourceGroups/rg/providers/Microsoft.Network/"
                                   "privateEndpoints/b2",
            "action": "approve", "outcome": "failed",
            "msg": "InternalServerError: Simulated storage outage (request id req-9)",
            "error": {"code": "InternalServerError", "message": "Simulated storage outage"}, "request_id": "req-9",
        }],
    }


def test_no_accounts_and_no_decisions():
    assert RESULT([], [], True) == {"check_mode": True, "approved": 0, "rejected": 0, "left": 0,
                                    "changed_elsewhere": 0, "accounts": [], "failures": []}


@pytest.mark.parametrize("value, accounts, message", [
    ({"decisions": []}, ACCOUNTS, "the input must be the policy module's decisions list"),
    ([], [{"label": "x"}], "accounts must be a list of dictionaries with label and resource_id"),
])
def test_bad_input(value, accounts, message):
    with pytest.raises(AnsibleFilterError, match=message):
        RESULT(value, accounts)
