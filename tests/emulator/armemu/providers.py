# SPDX-License-Identifier: GPL-3.0-or-later
"""The emulator's own facts about every Private Link service it serves, one row per ARM resource type.

These facts are the emulator's, independent of the collection's code: a test that compares the two then
checks something. Each row names its ``source``: the recording under
/work/shared/azure-rest/recordings[/other-providers] it follows, or the azure-rest-api-specs path of the
service's published REST spec (via /work/research/providers.json) where no recording exists.

Completion styles (``ProviderType.style``), i.e. how a write or delete of a connection completes:

- ``cosmos``: 202 ``{"status":"Enqueued"}`` + Azure-AsyncOperation ``.../operationsStatus/{id}`` + Location
  ``.../operationResults/{id}``; GET shows the old state until the operation ends.
- ``keyvault``: PUT 200 with the new state already in the body, provisioningState ``Updating``, a new etag and
  Azure-AsyncOperation = connection URL + ``&kv-operation=...``; GETs show ``Updating`` until the end, then
  ``Succeeded`` with another etag. DELETE 202, empty body, Location = kv-operation URL; ``Deleting`` meanwhile.
- ``sync``: PUT 200 with the final body; DELETE 200 (``delete_reply``: empty text/plain, or the connection
  ``Disconnected``).
- ``sql``: PUT/DELETE 202 ``{"operation","startTime"}`` + resource-group scoped
  ``locations/{loc}/privateEndpointConnectionAzureAsyncOperation/{id}`` and ``...OperationResults/{id}``;
  provisioningState ``Approving``/``Rejecting``/``Dropping`` meanwhile, ``Ready`` when settled.
- ``batch``: PATCH (PUT answers 405) and DELETE 202, empty body; Azure-AsyncOperation and Location both
  ``.../privateEndpointConnectionResults/<Updating|Deleting>$<connection>$<op id>``.
- ``arm_async_200``: PUT 200 with the interim body (old status, interim provisioningState) + Azure-AsyncOperation
  ``/subscriptions/{sub}/providers/{Namespace}/locations/{loc}/operationStatuses/{id}``; DELETE 202 with
  Azure-AsyncOperation and Location.
- ``arm_202_location``: PUT/DELETE 202 with only Location ``.../locations/{loc}/operationResults/{id}`` and no
  body; the Location URL answers 202 while running, then 200 + resource (PUT) or 204 (DELETE).
- ``sticky_provisioning``: PUT/DELETE 202 with Azure-AsyncOperation and Location, no body; the operation ends
  ``Succeeded`` but the connection's provisioningState stays ``sticky_state`` after the status changed, so a
  client must judge success by the status.

A row's ``delete_style`` overrides the style for DELETE where the service differs (e.g. Event Hubs: a
synchronous PUT, a long-running DELETE answered through Location).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

STYLES = ("cosmos", "keyvault", "sync", "sql", "batch", "arm_async_200", "arm_202_location", "sticky_provisioning")
#: Connection statuses a seed may give.
SEED_STATUSES = ("Approved", "Pending", "Rejected", "Disconnected")

#: Refusal rules (``ProviderType.refusals``).
#: ``rejected_to_approved``: approving a Rejected connection is refused (Cosmos DB).
#: ``reapprove``: writing Approved over Approved is refused (Storage).
#: ``not_pending``: any write of a connection whose status is not Pending is refused (SQL).
#: ``description_required``: a write without ``description`` is refused (SQL).
REFUSALS = frozenset({"rejected_to_approved", "reapprove", "not_pending", "description_required"})

DEFAULT_NOT_FOUND = ("PrivateEndpointConnectionNotFound", "Private endpoint connection '{name}' not found.")


@dataclass(frozen=True)
class ProviderType:
    """What the emulator does for one ``{Namespace}/{type}`` and its ``privateEndpointConnections``."""

    resource_type: str
    api_versions: tuple[str, ...]
    style: str
    source: str
    #: Field name inside privateLinkServiceConnectionState (Storage spells it ``actionRequired``; Event Hubs
    #: and Service Bus have none: None).
    actions_field: str | None = "actionsRequired"
    #: Etag kind: None (no etag), ``kv`` (32 hex, none before the first write), ``batch`` (``W/"0x8D..."``),
    #: ``quoted`` (``"<guid>"``), ``weak_guid`` (``W/"<guid>"``). Types with an etag honour If-Match.
    etag: str | None = None
    #: ``groupId`` (string), ``groupIds`` (list) or None (no group field in the connection).
    group_field: str | None = "groupId"
    default_group: str = ""
    #: provisioningState of a settled connection.
    settled_state: str = "Succeeded"
    #: Description of a connection approved at creation (seeded Approved without a description); None = no key.
    auto_approved: str | None = "Auto-approved"
    write_verb: str = "PUT"
    write_statuses: tuple[str, ...] = ("Approved", "Rejected")
    refusals: frozenset[str] = frozenset()
    #: Missing connection: (code, message template) of a wrapped error; None = Cosmos DB's flat NotFound.
    #: Template fields: name, sub, rg, parent, request_id, type.
    not_found: tuple[str, str] | None = DEFAULT_NOT_FOUND
    #: The wrapped not-found error also carries ``"target": null, "details": null`` (Search).
    not_found_nulls: bool = False
    #: Parent GET embeds connections in properties.privateEndpointConnections: ``full`` objects,
    #: ``minimal`` ``{id, etag, properties}`` (Key Vault), ``id_properties`` ``{id, properties}`` or None.
    embeds: str | None = "full"
    #: Connection list answers ``"nextLink": null`` when there is no next page (Search).
    list_next_link_null: bool = False
    #: The connection body carries the parent's ``location`` (Key Vault).
    connection_location: bool = False
    #: provisioningState while a write runs: one value ("" = the settled one), or per requested status.
    interim_put: str | tuple[tuple[str, str], ...] = "Updating"
    interim_delete: str = "Deleting"
    #: sticky_provisioning: provisioningState the connection keeps after a write.
    sticky_state: str | None = None
    #: What a write's ``"description": null`` becomes (Storage stores ""); None = no description.
    null_description: str | None = None
    #: Style of a DELETE when it differs from the write's (e.g. a synchronous PUT but a long-running DELETE).
    delete_style: str | None = None
    #: Synchronous DELETE: ``empty_text`` (200, empty text/plain body), ``empty_200`` (200, no body) or
    #: ``disconnected`` (200 + the connection with status Disconnected).
    delete_reply: str = "empty_text"

    def __post_init__(self) -> None:
        if self.style not in STYLES or (self.delete_style or self.style) not in STYLES:
            raise ValueError(f"{self.resource_type}: unknown style {self.style!r} / {self.delete_style!r}")
        if not set(self.refusals) <= REFUSALS:
            raise ValueError(f"{self.resource_type}: unknown refusals {sorted(set(self.refusals) - REFUSALS)}")

    @property
    def namespace(self) -> str:
        return self.resource_type.split("/")[0]

    @property
    def type_name(self) -> str:
        return self.resource_type.split("/")[1]

    @property
    def key(self) -> str:
        return self.resource_type.lower()

    @property
    def connection_type(self) -> str:
        return f"{self.resource_type}/privateEndpointConnections"

    @property
    def honours_if_match(self) -> bool:
        return self.etag is not None

    @property
    def delete_as(self) -> str:
        """The completion style of a DELETE."""
        return self.delete_style or self.style

    def interim_for(self, status: str) -> str | None:
        """provisioningState shown while a write to ``status`` runs (None = the settled state)."""
        if isinstance(self.interim_put, str):
            return self.interim_put or None
        return dict(self.interim_put).get(status, "Updating")

    def new_etag(self) -> str | None:
        if self.etag is None:
            return None
        if self.etag == "kv":
            return uuid.uuid4().hex
        if self.etag == "batch":
            return f'W/"0x8D{uuid.uuid4().hex[:13].upper()}"'
        if self.etag == "weak_guid":
            return f'W/"{uuid.uuid4()}"'
        return f'"{uuid.uuid4()}"'


_REC = "recordings/other-providers/"
_SDK = "/work/research/providers.json: "  # facts the research read from the spec or the generated SDK

PROVIDERS: tuple[ProviderType, ...] = (
    ProviderType(
        "Microsoft.DocumentDB/databaseAccounts", ("2024-08-15",), "cosmos",
        "recordings/cosmosdb-pec-approve-reject-delete.yaml (+ cosmosdb-*.yaml)",
        default_group="Sql", auto_approved=None, refusals=frozenset({"rejected_to_approved"}), not_found=None),
    ProviderType(
        "Microsoft.Storage/storageAccounts", ("2019-06-01", "2025-06-01", "2026-09-01"), "sync",
        _REC + "storage-pec-reject-delete.yaml",
        actions_field="actionRequired", group_field=None, auto_approved="Auto-Approved",
        refusals=frozenset({"reapprove"}), null_description="", delete_reply="empty_text"),
    ProviderType(
        "Microsoft.KeyVault/vaults", ("2019-09-01", "2026-05-15"), "keyvault",
        _REC + "keyvault-pec-reject-approve-delete.yaml",
        etag="kv", group_field=None, auto_approved=None, embeds="minimal", connection_location=True),
    ProviderType(
        "Microsoft.KeyVault/managedHSMs", ("2026-05-15",), "keyvault",
        _SDK + "azure-mgmt-keyvault 14.1.0 (no recording: behaves as the vaults recording, an assumption)",
        etag="kv", group_field=None, auto_approved=None, embeds="minimal", connection_location=True),
    ProviderType(
        "Microsoft.Sql/servers", ("2018-06-01-preview", "2021-02-01-preview", "2025-01-01"), "sql",
        _REC + "sql-pec-delete.yaml (+ spec: description required)",
        group_field="groupIds", default_group="sqlServer", settled_state="Ready",
        refusals=frozenset({"not_pending", "description_required"}),
        interim_put=(("Approved", "Approving"), ("Rejected", "Rejecting")), interim_delete="Dropping",
        embeds="id_properties"),
    ProviderType(
        "Microsoft.DBforPostgreSQL/flexibleServers", ("2026-10-01",), "sticky_provisioning",
        _SDK + "azure-mgmt-postgresqlflexibleservers 3.0.0 (PUT answers only 202); sticky state: brief",
        group_field="groupIds", default_group="postgresqlServer", sticky_state="Pending"),
    ProviderType(
        "Microsoft.DBforMySQL/flexibleServers", ("2024-12-30",), "arm_async_200",
        _SDK + "azure-mgmt-mysqlflexibleservers 1.0.0 (PUT final-state-via azure-async-operation, "
        "DELETE via location)",
        group_field="groupIds", default_group="mysqlServer", interim_put=""),
    ProviderType(
        "Microsoft.EventHub/namespaces", ("2026-01-01",), "sync",
        _SDK + "azure-mgmt-eventhub 12.0.0 (PUT not long-running, DELETE long-running)",
        actions_field=None, group_field=None, connection_location=True, delete_style="arm_202_location"),
    ProviderType(
        "Microsoft.ServiceBus/namespaces", ("2026-01-01",), "sync",
        _SDK + "azure-mgmt-servicebus 10.0.0 (PUT not long-running, DELETE long-running)",
        actions_field=None, group_field=None, connection_location=True, delete_style="arm_202_location"),
    ProviderType(
        "Microsoft.ContainerRegistry/registries", ("2025-11-01",), "arm_async_200",
        _SDK + "azure-mgmt-containerregistry 15.0.0 (PUT 200/201 long-running)",
        group_field=None),
    ProviderType(
        "Microsoft.AppConfiguration/configurationStores", ("2024-06-01",), "arm_async_200",
        _SDK + "azure-mgmt-appconfiguration 5.0.0",
        group_field=None),
    ProviderType(
        "Microsoft.Web/sites", ("2025-05-01",), "arm_async_200",
        _SDK + "azure-mgmt-web 11.0.1 (approve_or_reject long-running); interim Approving/Rejecting: brief",
        group_field=None, embeds=None, interim_put=(("Approved", "Approving"), ("Rejected", "Rejecting"))),
    ProviderType(
        "Microsoft.Search/searchServices", ("2022-09-01", "2023-11-01", "2025-05-01"), "sync",
        _REC + "search-pec-reject-pending-approve-delete.yaml",
        group_field="groupId", default_group="searchService", write_statuses=("Approved", "Rejected", "Pending"),
        not_found=("ResourceNotFound", "Could not find private endpoint connection '{name}' in subscription "
                   "'{sub}', resourceGroupName '{rg}', searchService '{parent}'. RequestId: {request_id}"),
        not_found_nulls=True, list_next_link_null=True, delete_reply="disconnected"),
    ProviderType(
        "Microsoft.CognitiveServices/accounts", ("2025-09-01",), "sticky_provisioning",
        _SDK + "azure-mgmt-cognitiveservices 14.1.0; sticky state: brief",
        etag="quoted", group_field="groupIds", default_group="account", connection_location=True,
        sticky_state="Updating"),
    ProviderType(
        "Microsoft.Synapse/workspaces", ("2021-06-01",), "arm_async_200",
        "specification/synapse/resource-manager/Microsoft.Synapse/stable/2021-06-01/privateEndpointConnections.json",
        group_field=None),
    ProviderType(
        "Microsoft.DataFactory/factories", ("2018-06-01",), "sync",
        _SDK + "azure-mgmt-datafactory 10.0.0 (PUT and DELETE synchronous, If-Match on PUT)",
        etag="quoted", group_field=None, embeds=None, delete_reply="empty_200"),
    ProviderType(
        "Microsoft.EventGrid/topics", ("2025-02-15",), "arm_async_200",
        _SDK + "azure-mgmt-eventgrid 10.4.0",
        group_field="groupIds", default_group="topic"),
    ProviderType(
        "Microsoft.EventGrid/domains", ("2025-02-15",), "arm_async_200",
        _SDK + "azure-mgmt-eventgrid 10.4.0",
        group_field="groupIds", default_group="domain"),
    ProviderType(
        "Microsoft.SignalRService/signalR", ("2024-03-01",), "sync",
        "specification/signalr/resource-manager/Microsoft.SignalRService/stable/2024-03-01/signalr.json "
        "(PUT synchronous, DELETE final-state-via location)",
        group_field="groupIds", default_group="signalr", delete_style="arm_202_location"),
    ProviderType(
        "Microsoft.SignalRService/webPubSub", ("2024-03-01",), "sync",
        _SDK + "azure-mgmt-webpubsub 2.0.0 (PUT synchronous, DELETE final-state-via location)",
        group_field="groupIds", default_group="webpubsub", delete_style="arm_202_location"),
    ProviderType(
        "Microsoft.Insights/privateLinkScopes", ("2023-06-01-preview",), "arm_202_location",
        "specification/monitor/resource-manager/Microsoft.Insights/preview/2023-06-01-preview/"
        "privateLinkScopes_API.json (PUT 200/202 long-running; no stable version has these operations)",
        group_field="groupIds", default_group="azuremonitor"),
    ProviderType(
        "Microsoft.Batch/batchAccounts", ("2023-11-01", "2025-06-01"), "batch",
        _REC + "batch-pec-delete.yaml (+ azure-mgmt-batch 19.0.0: PATCH with If-Match, no PUT)",
        etag="batch", group_field="groupIds", default_group="batchAccount", write_verb="PATCH"),
    ProviderType(
        "Microsoft.Cache/redis", ("2024-11-01",), "arm_async_200",
        _SDK + "azure-mgmt-redis 14.5.0 (PUT long-running, DELETE synchronous)",
        group_field=None, delete_style="sync", delete_reply="empty_200"),
    ProviderType(
        "Microsoft.Network/privateLinkServices", ("2025-01-01",), "sync",
        "specification/network/resource-manager/Microsoft.Network/stable/2025-01-01/privateLinkService.json "
        "(PUT 200 only; DELETE final-state-via location)",
        etag="weak_guid", group_field=None, auto_approved=None, delete_style="arm_202_location"),
)

BY_KEY: dict[str, ProviderType] = {p.key: p for p in PROVIDERS}
COSMOS = BY_KEY["microsoft.documentdb/databaseaccounts"]


def provider(resource_type: str) -> ProviderType | None:
    """The row for ``{Namespace}/{type}``, matched case-insensitively as ARM does."""
    return BY_KEY.get(resource_type.lower())


def namespace_api_versions(namespace: str) -> tuple[str, ...]:
    """Every api-version any type of ``namespace`` accepts (for its location-scoped operation URLs)."""
    versions: list[str] = []
    for row in PROVIDERS:
        if row.namespace.lower() == namespace.lower():
            versions.extend(v for v in row.api_versions if v not in versions)
    return tuple(versions)


def namespace_name(namespace: str) -> str:
    """The canonical spelling of a namespace given in any case."""
    for row in PROVIDERS:
        if row.namespace.lower() == namespace.lower():
            return row.namespace
    return namespace


#: api-versions of ``GET /subscriptions/{sub}/resources`` (Microsoft.Resources).
RESOURCES_API_VERSIONS = ("2021-04-01", "2022-09-01", "2023-07-01", "2024-03-01", "2024-07-01", "2024-11-01",
                          "2025-04-01")
