# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Cosmos DB private endpoint connections: the account options, and the generic core for one account.

The Cosmos DB modules name an account by subscription, resource group and account name and return
the connection fields they always returned; everything else is the generic service of
module_utils/_connections.py with the Cosmos DB entry of the provider table.
"""

from __future__ import annotations

import re
import typing as t
from urllib.parse import quote

from ansible_collections.privatelink.azure.plugins.module_utils import _connections
from ansible_collections.privatelink.azure.plugins.module_utils._connections import (  # re-exported, see __all__
    LISTED_STATUSES,
    STATUSES,
    AmbiguousConnection,
    ConnectionNotFound,
    TransitionError,
    desired,
    endpoint_subscription_id,
    filter_connections,
    find_by_private_endpoint,
    managed_state,
    needs_update,
    same_arm_id,
    validate_connection_name,
    validate_description,
    validate_private_endpoint_id,
    validate_status,
    validate_status_filter,
    validate_subscription_id,
)
from ansible_collections.privatelink.azure.plugins.module_utils._connections import describe_value as _describe
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError
from ansible_collections.privatelink.azure.plugins.module_utils._providers import ResourceRef, provider_for

# The generic names are re-exported: the Cosmos DB modules' callers and tests read them from here.
__all__ = (
    "API_VERSION", "FIELDS", "LISTED_STATUSES", "PROVIDER", "RESOURCE_TYPE", "STATUSES", "AmbiguousConnection",
    "ConnectionNotFound", "ConnectionService", "TransitionError", "account_path", "check_transition",
    "connection_path", "connections_path", "desired", "diff", "endpoint_subscription_id", "filter_connections",
    "find_by_private_endpoint", "managed_state", "needs_update", "normalize", "same_arm_id",
    "validate_account_name", "validate_connection_name", "validate_description", "validate_private_endpoint_id",
    "validate_resource_group", "validate_status", "validate_status_filter", "validate_subscription_id",
)

PROVIDER = provider_for("Microsoft.DocumentDB/databaseAccounts")
API_VERSION = PROVIDER.api_version
RESOURCE_TYPE = "Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections"
# The connection fields the Cosmos DB modules return (unchanged since 0.1.0).
FIELDS = ("id", "name", "group_id", "private_endpoint_id", "status", "description", "actions_required",
          "provisioning_state")

# From the spec: accountName 3-50 characters matching ^[a-z0-9]+(-[a-z0-9]+)*
_ACCOUNT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# From ARM common types: resourceGroupName 1-90 characters matching ^[-\w\._\(\)]+$ (\w includes
# Unicode letters, as ARM allows them); ARM also refuses a trailing period.
_RESOURCE_GROUP = re.compile(r"^[-\w._()]+$")


def validate_resource_group(value: t.Any) -> str:
    if (not isinstance(value, str) or not 1 <= len(value) <= 90 or not _RESOURCE_GROUP.fullmatch(value)
            or value.endswith(".")):
        raise ValidationError("resource_group must be 1-90 characters of letters, digits, '-', '_', '.', "
                              f"'(' and ')', not ending with '.', got {_describe(value)}")
    return value


def validate_account_name(value: t.Any) -> str:
    if not isinstance(value, str) or not 3 <= len(value) <= 50 or not _ACCOUNT.fullmatch(value):
        raise ValidationError("account_name must be 3-50 characters of lowercase letters, digits and single "
                              f"hyphens (not at either end), got {_describe(value)}")
    return value


def account_path(subscription_id: str, resource_group: str, account_name: str) -> str:
    """The ARM path of the account, each segment percent-encoded so it stays one segment."""
    return ResourceRef(subscription_id, resource_group, PROVIDER.resource_type, account_name).path


def connections_path(subscription_id: str, resource_group: str, account_name: str) -> str:
    return account_path(subscription_id, resource_group, account_name) + "/privateEndpointConnections"


def connection_path(subscription_id: str, resource_group: str, account_name: str, name: str) -> str:
    return connections_path(subscription_id, resource_group, account_name) + "/" + quote(name, safe="")


def normalize(resource: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The ARM resource in the snake_case shape the Cosmos DB modules return."""
    connection = _connections.normalize(resource, PROVIDER.resource_type)
    return {key: connection[key] for key in FIELDS}


def check_transition(current: t.Mapping[str, t.Any], status: str) -> None:
    """Refuse what Cosmos DB refuses, before any write (and in check mode)."""
    _connections.check_transition(PROVIDER, current, status, None)


def diff(before: t.Mapping[str, t.Any] | None, after: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    return _connections.diff(before, after)


class ConnectionService(_connections.ConnectionService):
    """The connections of one Cosmos DB account."""

    def __init__(self, client: t.Any, subscription_id: str, resource_group: str, account_name: str,
                 lock_factory: t.Callable[[str, float], t.Any] | None = None) -> None:
        self.subscription_id = validate_subscription_id(subscription_id)
        self.resource_group = validate_resource_group(resource_group)
        self.account_name = validate_account_name(account_name)
        super().__init__(
            client, ResourceRef(subscription_id, resource_group, PROVIDER.resource_type, account_name), PROVIDER,
            lock_factory=lock_factory,
            where=f"Cosmos DB account {account_name!r} in resource group {resource_group!r}",
            info_module="privatelink.azure.cosmosdb_private_endpoint_connection_info", fields=FIELDS)
