# SPDX-License-Identifier: GPL-3.0-or-later
"""The provider table and the resource and connection IDs the generic modules take."""

from __future__ import annotations

import pytest

from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError
from ansible_collections.privatelink.azure.plugins.module_utils._providers import (
    PROVIDERS,
    known_types,
    parse_connection_id,
    parse_resource_id,
    provider_for,
)

SUB = "11111111-2222-3333-4444-555555555555"
STORAGE = f"/subscriptions/{SUB}/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/ordersdata"

# The types issue 11 names: every one must be in the table.
REQUIRED_TYPES = """Microsoft.DocumentDB/databaseAccounts Microsoft.Storage/storageAccounts Microsoft.KeyVault/vaults
Microsoft.KeyVault/managedHSMs Microsoft.Sql/servers Microsoft.DBforPostgreSQL/flexibleServers
Microsoft.DBforMySQL/flexibleServers Microsoft.EventHub/namespaces Microsoft.ServiceBus/namespaces
Microsoft.ContainerRegistry/registries Microsoft.AppConfiguration/configurationStores Microsoft.Web/sites
Microsoft.Search/searchServices Microsoft.CognitiveServices/accounts Microsoft.Synapse/workspaces
Microsoft.DataFactory/factories Microsoft.EventGrid/topics Microsoft.EventGrid/domains Microsoft.SignalRService/signalR
Microsoft.SignalRService/webPubSub Microsoft.Insights/privateLinkScopes Microsoft.Batch/batchAccounts Microsoft.Cache/redis
Microsoft.Network/privateLinkServices""".split()


def test_every_required_type_is_known_once():
    assert sorted(known_types()) == sorted(REQUIRED_TYPES)


@pytest.mark.parametrize("spelling", ["Microsoft.Storage/storageAccounts", "microsoft.storage/STORAGEACCOUNTS"])
def test_types_match_in_any_case(spelling):
    assert provider_for(spelling).resource_type == "Microsoft.Storage/storageAccounts"


def test_the_facts_that_differ():
    assert provider_for("Microsoft.Batch/batchAccounts").write_method == "PATCH"
    assert provider_for("Microsoft.Storage/storageAccounts").actions_field == "actionRequired"
    assert provider_for("Microsoft.Sql/servers").description_required
    assert {p.resource_type for p in PROVIDERS if p.etag} >= {
        "Microsoft.KeyVault/vaults", "Microsoft.Batch/batchAccounts", "Microsoft.DataFactory/factories",
        "Microsoft.CognitiveServices/accounts", "Microsoft.Network/privateLinkServices"}
    assert provider_for("Microsoft.Web/sites").approval_action == \
        "Microsoft.Web/sites/privateEndpointConnectionsApproval/action"


def test_unknown_type_needs_an_api_version_and_lists_the_known_ones():
    with pytest.raises(ValidationError) as err:
        provider_for("Microsoft.Purview/accounts")
    assert "api_version" in err.value.msg and "Microsoft.Storage/storageAccounts" in err.value.msg
    custom = provider_for("Microsoft.Purview/accounts", "2021-12-01")
    assert custom.api_version == "2021-12-01" and custom.write_method == "PUT" and not custom.refuses


def test_api_version_overrides_the_table_and_keeps_the_rest():
    sql = provider_for("Microsoft.Sql/servers", "2021-11-01")
    assert sql.api_version == "2021-11-01" and sql.refuses == provider_for("Microsoft.Sql/servers").refuses


@pytest.mark.parametrize("provider_type, current, status, changes, refused", [
    ("Microsoft.DocumentDB/databaseAccounts", "Rejected", "Approved", False, True),
    ("Microsoft.DocumentDB/databaseAccounts", "Pending", "Approved", False, False),
    ("Microsoft.DocumentDB/databaseAccounts", "Approved", "Rejected", False, False),
    ("Microsoft.Sql/servers", "Approved", "Rejected", False, True),
    ("Microsoft.Sql/servers", "Pending", "Rejected", False, False),
    ("Microsoft.Storage/storageAccounts", "Approved", "Approved", True, True),
    ("Microsoft.Storage/storageAccounts", "Pending", "Approved", True, False),
    ("Microsoft.KeyVault/vaults", "Rejected", "Approved", False, False),  # recorded: accepted
])
def test_refused_transitions(provider_type, current, status, changes, refused):
    assert bool(provider_for(provider_type).refusal(current, status, changes)) is refused


def test_resource_id_parts_and_path():
    ref = parse_resource_id(STORAGE + "/")
    assert (ref.subscription_id, ref.resource_group, ref.resource_type, ref.name) == \
        (SUB, "rg-data", "Microsoft.Storage/storageAccounts", "ordersdata")
    assert ref.id == STORAGE and ref.path == STORAGE


@pytest.mark.parametrize("value", [
    None, "", "ordersdata", f"/subscriptions/{SUB}/resourceGroups/rg-data",
    "/subscriptions/not-a-guid/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/x",
    STORAGE + "/privateEndpointConnections/pe",  # a connection, not a resource
    f"/subscriptions/{SUB}/resourceGroups/rg./providers/Microsoft.Storage/storageAccounts/x",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/..",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a%2F..",
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a?x=1",
])
def test_bad_resource_ids_refused(value):
    with pytest.raises(ValidationError, match="resource_id must be the ARM ID"):
        parse_resource_id(value)


def test_connection_id_as_the_portal_prints_it():
    ref, name = parse_connection_id(STORAGE + "/privateEndpointConnections/ordersdata.6b1f")
    assert ref.id == STORAGE and name == "ordersdata.6b1f"
    with pytest.raises(ValidationError, match="id must be the ARM ID of a private endpoint connection"):
        parse_connection_id(STORAGE)
