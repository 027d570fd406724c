# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The Private Link services the collection knows, and the facts in which they differ.

Every service exposes its connections at ``{resource id}/privateEndpointConnections/{name}`` with
``properties.privateLinkServiceConnectionState {status, description, actionsRequired}``. What differs
is listed here, one entry per resource type; how a write completes is NOT listed: it is read from
each response (module_utils/_arm.py), because services change it between api-versions.

Sources: the recordings in shared/azure-rest/recordings (Cosmos DB, Key Vault, Storage, SQL, Batch,
AI Search) where they exist, else the service's published REST spec (azure-rest-api-specs, the
api-version named). docs/providers.md renders this table.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from urllib.parse import quote

from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

__all__ = (
    "PROVIDERS",
    "Provider",
    "ResourceRef",
    "known_types",
    "parse_connection_id",
    "parse_resource_id",
    "provider_for",
)

# Transition rules a service enforces; the modules refuse the same writes before sending them.
REFUSE_REJECTED_TO_APPROVED = "rejected_to_approved"
REFUSE_UNLESS_PENDING = "unless_pending"
REFUSE_SAME_STATUS = "same_status"


@dataclass(frozen=True)
class Provider:
    resource_type: str  # canonical spelling, e.g. Microsoft.Storage/storageAccounts
    label: str  # what a person calls it, for messages
    api_version: str
    write_method: str = "PUT"
    actions_field: str = "actionsRequired"
    description_required: bool = False
    etag: bool = False  # the connection carries an etag and the write honours If-Match
    embeds_connections: bool = True  # the resource's own GET lists its connections in properties
    refuses: tuple[str, ...] = ()
    notes: str = ""

    @property
    def approval_action(self) -> str:
        return f"{self.resource_type}/privateEndpointConnectionsApproval/action"

    @property
    def write_action(self) -> str:
        return f"{self.resource_type}/privateEndpointConnections/write"

    def refusal(self, current_status: str | None, status: str, description_changes: bool) -> str | None:
        """Why the service would refuse writing ``status`` over ``current_status``, or None."""
        current = (current_status or "").lower()
        if REFUSE_REJECTED_TO_APPROVED in self.refuses and current == "rejected" and status.lower() == "approved":
            return (f"{self.label} cannot approve a rejected private endpoint connection. Ask the owner of the "
                    "private endpoint to delete and re-create it, then approve the new connection.")
        if REFUSE_UNLESS_PENDING in self.refuses and current != "pending":
            return (f"{self.label} changes a private endpoint connection only while it is Pending "
                    f"(PrivateEndpointConnectionStatusNotPending); this one is {current_status or 'unknown'}.")
        if REFUSE_SAME_STATUS in self.refuses and current == status.lower() and description_changes:
            return (f"{self.label} refuses to set a connection to the status it already has "
                    "(InvalidValuesForRequestParameters), so its description cannot be changed on its own.")
        return None


def _p(resource_type: str, label: str, api_version: str, **facts: t.Any) -> Provider:
    return Provider(resource_type, label, api_version, **facts)


PROVIDERS: tuple[Provider, ...] = (
    # Cosmos DB stays on the api-version its modules were built and recorded against (0.1.0).
    _p("Microsoft.DocumentDB/databaseAccounts", "Cosmos DB", "2024-08-15",
       refuses=(REFUSE_REJECTED_TO_APPROVED,),
       notes="202 and an operation that reports Enqueued, Dequeued, Succeeded; GET shows the old state until it ends."),
    _p("Microsoft.Storage/storageAccounts", "Storage", "2026-09-01", actions_field="actionRequired",
       refuses=(REFUSE_SAME_STATUS,),
       notes="Synchronous 200 writes and deletes; the actions field is actionRequired."),
    _p("Microsoft.KeyVault/vaults", "Key Vault", "2026-05-15", etag=True,
       notes="200 with the new state and provisioningState Updating, then about a minute until Succeeded."),
    _p("Microsoft.KeyVault/managedHSMs", "Key Vault Managed HSM", "2026-05-15", etag=True,
       notes="Behaves like Key Vault vaults."),
    _p("Microsoft.Sql/servers", "Azure SQL", "2025-01-01", description_required=True,
       refuses=(REFUSE_UNLESS_PENDING,),
       notes="Changes only Pending connections; settled connections show provisioningState Ready."),
    _p("Microsoft.DBforPostgreSQL/flexibleServers", "PostgreSQL flexible server", "2026-10-01"),
    _p("Microsoft.DBforMySQL/flexibleServers", "MySQL flexible server", "2024-12-30"),
    _p("Microsoft.EventHub/namespaces", "Event Hubs", "2026-01-01"),
    _p("Microsoft.ServiceBus/namespaces", "Service Bus", "2026-01-01"),
    _p("Microsoft.ContainerRegistry/registries", "Container Registry", "2025-11-01"),
    _p("Microsoft.AppConfiguration/configurationStores", "App Configuration", "2024-06-01"),
    _p("Microsoft.Web/sites", "App Service", "2025-05-01", embeds_connections=False),
    _p("Microsoft.Search/searchServices", "AI Search", "2025-05-01",
       notes="Synchronous 200 writes; DELETE answers 200 with the connection Disconnected."),
    _p("Microsoft.CognitiveServices/accounts", "Azure AI services", "2025-09-01", etag=True),
    _p("Microsoft.Synapse/workspaces", "Synapse", "2021-06-01"),
    _p("Microsoft.DataFactory/factories", "Data Factory", "2018-06-01", etag=True, embeds_connections=False,
       notes="Managed private endpoints connect from Microsoft-managed subscriptions; names are <factory>.<endpoint>."),
    _p("Microsoft.EventGrid/topics", "Event Grid topic", "2025-02-15"),
    _p("Microsoft.EventGrid/domains", "Event Grid domain", "2025-02-15"),
    _p("Microsoft.SignalRService/signalR", "SignalR", "2024-03-01"),
    _p("Microsoft.SignalRService/webPubSub", "Web PubSub", "2024-03-01"),
    _p("Microsoft.Insights/privateLinkScopes", "Azure Monitor private link scope", "2023-06-01-preview",
       notes="No stable api-version has private endpoint connections: the newest preview is used."),
    _p("Microsoft.Batch/batchAccounts", "Batch", "2025-06-01", write_method="PATCH", etag=True,
       notes="Writes are PATCH with If-Match."),
    _p("Microsoft.Cache/redis", "Azure Cache for Redis", "2024-11-01"),
    _p("Microsoft.Network/privateLinkServices", "Private Link service", "2025-01-01", etag=True),
)

_BY_TYPE = {provider.resource_type.lower(): provider for provider in PROVIDERS}


def known_types() -> list[str]:
    return [provider.resource_type for provider in PROVIDERS]


def provider_for(resource_type: str, api_version: str | None = None) -> Provider:
    """The entry for a type (any case); an unknown type needs ``api_version`` and gets the common defaults."""
    provider = _BY_TYPE.get(resource_type.lower())
    if provider is None:
        if not api_version:
            raise ValidationError(
                f"Unknown resource type {resource_type!r}: set api_version to manage its connections anyway, or "
                f"use one of the known types: {', '.join(known_types())}")
        namespace, _sep, kind = resource_type.partition("/")
        return Provider(resource_type, f"{namespace} {kind}".strip(), api_version)
    if api_version and api_version != provider.api_version:
        return Provider(**{**provider.__dict__, "api_version": api_version})
    return provider


# /subscriptions/{guid}/resourceGroups/{rg}/providers/{Namespace}/{type}/{name}
_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
    r"/resourceGroups/(?P<rg>[-\w._()]{1,90})/providers/(?P<ns>[A-Za-z][\w.]*)/(?P<type>[A-Za-z][\w]*)"
    r"/(?P<name>[^/?#%\\]{1,260})$")


@dataclass(frozen=True)
class ResourceRef:
    """A Private Link resource: where it is and what it is."""

    subscription_id: str
    resource_group: str
    resource_type: str  # as the user spelled it; compare case-insensitively
    name: str

    @property
    def id(self) -> str:
        namespace, _sep, kind = self.resource_type.partition("/")
        return (f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"
                f"/providers/{namespace}/{kind}/{self.name}")

    @property
    def path(self) -> str:
        """The ARM path, each segment percent-encoded so it stays one segment."""
        namespace, _sep, kind = self.resource_type.partition("/")
        return (f"/subscriptions/{quote(self.subscription_id, safe='')}/resourceGroups/"
                f"{quote(self.resource_group, safe='')}/providers/{namespace}/{kind}/{quote(self.name, safe='')}")


def parse_resource_id(value: t.Any, option: str = "resource_id") -> ResourceRef:
    text = value.rstrip("/") if isinstance(value, str) else value
    match = _RESOURCE_ID.fullmatch(text) if isinstance(text, str) else None
    if match is None or match.group("rg").endswith(".") or match.group("name") in (".", ".."):
        shown = repr(value) if len(repr(value)) <= 120 else repr(value)[:117] + "..."
        raise ValidationError(
            f"{option} must be the ARM ID of a Private Link resource, /subscriptions/<subscription id>/resourceGroups/"
            f"<group>/providers/<Namespace>/<type>/<name>, for example a storage account's ID; got {shown}")
    return ResourceRef(match.group("sub"), match.group("rg"), f"{match.group('ns')}/{match.group('type')}",
                       match.group("name"))


def parse_connection_id(value: t.Any, option: str = "id") -> tuple[ResourceRef, str]:
    """The resource and the connection name from a full connection ID, as the portal and az print it."""
    text = value.rstrip("/") if isinstance(value, str) else ""
    resource_id, sep, name = text.rpartition("/")
    parent, sep2, child = resource_id.rpartition("/")
    if not (sep and sep2 and child.lower() == "privateendpointconnections" and name):
        raise ValidationError(
            f"{option} must be the ARM ID of a private endpoint connection, <resource id>/privateEndpointConnections/"
            f"<name>; got {value!r}")
    return parse_resource_id(parent, option), name
