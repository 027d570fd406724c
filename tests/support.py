# SPDX-License-Identifier: GPL-3.0-or-later
"""Identities and seeds shared by the tests (fixed test values, not secrets of any real system)."""

from __future__ import annotations

# Fixed identities of the test tenant (not secrets of any real system).
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5e6f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
CLIENT_SECRET = "s3cr3t-Value~For.Tests_only-9Qx"
USERNAME = "operator@contoso.example"
PASSWORD = "Pa55word!-for-tests-7Yk"
FEDERATED_TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ3b3JrbG9hZCJ9.federated-token-for-tests"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
CONSUMER_SUB_A = "aaaaaaaa-0000-0000-0000-000000000001"
CONSUMER_SUB_B = "bbbbbbbb-0000-0000-0000-000000000002"
RESOURCE_GROUP = "rg-data"
ACCOUNT = "orders-db"
SECRETS = (CLIENT_SECRET, PASSWORD, FEDERATED_TOKEN)


def endpoint_id(subscription: str, name: str) -> str:
    return (f"/subscriptions/{subscription}/resourceGroups/rg-net/providers/"
            f"Microsoft.Network/privateEndpoints/{name}")


def standard_seed() -> dict:
    """One account with a connection in each state a user meets."""
    return {
        "principals": [
            {"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET},
            {"tenant": TENANT, "username": USERNAME, "password": PASSWORD},
            {"tenant": TENANT, "client_id": CLIENT_ID, "federated_token": FEDERATED_TOKEN},
        ],
        "managed_identity": {"client_id": CLIENT_ID},
        "accounts": [{
            "subscription_id": SUBSCRIPTION, "resource_group": RESOURCE_GROUP, "name": ACCOUNT,
            "location": "westus",
            "connections": [
                {"name": "pe-pending.0001", "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, "pe-pending"),
                 "status": "Pending", "description": "Please approve", "group_id": "Sql"},
                {"name": "pe-approved.0002", "private_endpoint_id": endpoint_id(SUBSCRIPTION, "pe-approved"),
                 "status": "Approved", "group_id": "Sql"},
                {"name": "pe-rejected.0003", "private_endpoint_id": endpoint_id(CONSUMER_SUB_B, "pe-rejected"),
                 "status": "Rejected", "description": "Unknown consumer", "group_id": "Sql"},
                {"name": "pe-other.0004", "private_endpoint_id": endpoint_id(CONSUMER_SUB_B, "pe-other"),
                 "status": "Pending", "description": "", "group_id": "MongoDB"},
            ],
        }],
    }


MODULE = "privatelink.azure.cosmosdb_private_endpoint_connection"


def arm_calls(emulator, method=None):
    """ARM requests (not token requests or operation polls) from the emulator's log."""
    return [r for r in emulator.requests("arm") if method is None or r["method"] == method]


def awx_environment(emulator) -> dict:
    """Exactly the variables AWX's built-in "Microsoft Azure Resource Manager" credential injects,
    plus the endpoint overrides that point a run at the emulator."""
    return {
        "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_SECRET": CLIENT_SECRET,
        "AZURE_TENANT": TENANT,
        "AZURE_ARM_ENDPOINT": emulator.base_url,
        "AZURE_AUTHORITY_HOST": emulator.base_url,
        "AZURE_DISABLE_INSTANCE_DISCOVERY": "true",
        "REQUESTS_CA_BUNDLE": emulator.ca_file,
    }
