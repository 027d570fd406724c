# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Cosmos DB private endpoint connections: input rules, URLs, comparison, and the service logic.

The functions at the top are pure (easy to test exhaustively); ``ConnectionService`` drives an
``ArmClient`` through GET, compare, PUT/DELETE and the long-running operation.
"""

from __future__ import annotations

import contextlib
import re
import typing as t
import unicodedata
from urllib.parse import quote

from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    ArmError,
    CollectionError,
    OperationError,
    TransportError,
    ValidationError,
)

API_VERSION = "2024-08-15"
RESOURCE_TYPE = "Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections"
STATUSES = ("Approved", "Rejected")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# From the spec: accountName 3-50 characters matching ^[a-z0-9]+(-[a-z0-9]+)*
_ACCOUNT = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# From ARM common types: resourceGroupName 1-90 characters matching ^[-\w\._\(\)]+$ (\w includes
# Unicode letters, as ARM allows them); ARM also refuses a trailing period.
_RESOURCE_GROUP = re.compile(r"^[-\w._()]+$")
_NAME_FORBIDDEN = ("/", "\\", "?", "#", "%", "..")
MAX_NAME_LENGTH = 260
MAX_DESCRIPTION_LENGTH = 4096


class TransitionError(ValidationError):
    """The service would refuse this change; we refuse it first, before any write."""


class ConnectionNotFound(CollectionError):
    """``state: present`` on a connection that does not exist (connections are created elsewhere)."""

    def __init__(self, msg: str, lookup: ArmError | None = None) -> None:
        super().__init__(msg)
        self.lookup = lookup

    def fail_fields(self) -> dict[str, t.Any]:
        return self.lookup.fail_fields() if self.lookup else {}


# -- input rules ---------------------------------------------------------------------------------
def _describe(value: t.Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_subscription_id(value: t.Any, option: str = "subscription_id") -> str:
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise ValidationError(f"{option} must be a subscription GUID such as "
                              f"00000000-0000-0000-0000-000000000000, got {_describe(value)}")
    return value


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


def validate_connection_name(value: t.Any) -> str:
    """A connection name must stay one URL path segment: nothing that could change the URL."""
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_LENGTH:
        raise ValidationError(f"name must be a connection name of 1-{MAX_NAME_LENGTH} characters, "
                              f"got {_describe(value)}")
    # Front ends may fold look-alikes (fullwidth '．', '／', the two-dot leader '‥') into the real ones.
    folded = unicodedata.normalize("NFKC", value)
    bad = [p for p in _NAME_FORBIDDEN if p in value or p in folded]
    if bad or "." in (value, folded) or value != value.strip() or any(
            unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValidationError("name must not contain '/', '\\', '?', '#', '%', '..' (or look-alikes of them), "
                              f"control characters or surrounding spaces, got {_describe(value)}")
    return value


def validate_description(value: t.Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(f"description must be a string of at most {MAX_DESCRIPTION_LENGTH} characters, "
                              f"got {_describe(value)}")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in value):
        raise ValidationError(f"description must not contain control characters, got {_describe(value)}")
    return value


def validate_status(value: t.Any) -> str:
    for status in STATUSES:
        if isinstance(value, str) and value.lower() == status.lower():
            return status
    raise ValidationError(f"status must be one of {', '.join(STATUSES)}, got {_describe(value)}")


# -- URLs -----------------------------------------------------------------------------------------
def account_path(subscription_id: str, resource_group: str, account_name: str) -> str:
    """The ARM path of the account, each segment percent-encoded so it stays one segment."""
    return (f"/subscriptions/{quote(subscription_id, safe='')}/resourceGroups/{quote(resource_group, safe='')}"
            f"/providers/Microsoft.DocumentDB/databaseAccounts/{quote(account_name, safe='')}")


def connections_path(subscription_id: str, resource_group: str, account_name: str) -> str:
    return account_path(subscription_id, resource_group, account_name) + "/privateEndpointConnections"


def connection_path(subscription_id: str, resource_group: str, account_name: str, name: str) -> str:
    return connections_path(subscription_id, resource_group, account_name) + "/" + quote(name, safe="")


# -- the resource -----------------------------------------------------------------------------
def normalize(resource: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The ARM resource in the snake_case shape the modules return."""
    props = resource.get("properties") or {}
    state = props.get("privateLinkServiceConnectionState") or {}
    endpoint = props.get("privateEndpoint") or {}
    return {
        "id": resource.get("id"),
        "name": resource.get("name"),
        "group_id": props.get("groupId"),
        "private_endpoint_id": endpoint.get("id"),
        "status": state.get("status"),
        "description": state.get("description"),
        "actions_required": state.get("actionsRequired"),
        "provisioning_state": props.get("provisioningState"),
    }


def managed_state(connection: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    """What this module manages, for diff: the connection state, nothing more."""
    if not connection:
        return {}
    return {"status": connection.get("status"), "description": connection.get("description") or ""}


def desired(current: t.Mapping[str, t.Any], status: str, description: str | None) -> dict[str, t.Any]:
    """The connection as it will be after the write. An omitted description keeps the current one."""
    after = dict(current)
    after["status"] = status
    if description is not None:
        after["description"] = description
    return after


def needs_update(current: t.Mapping[str, t.Any], status: str, description: str | None) -> bool:
    """Status compares case-insensitively; a missing description equals an empty one."""
    if (current.get("status") or "").lower() != status.lower():
        return True
    return description is not None and description != (current.get("description") or "")


def check_transition(current: t.Mapping[str, t.Any], status: str) -> None:
    """Refuse what Cosmos DB refuses, before any write (and in check mode)."""
    if (current.get("status") or "").lower() == "rejected" and status == "Approved":
        raise TransitionError(
            f"Connection {current.get('name')!r} is Rejected and Cosmos DB cannot approve a rejected private "
            "endpoint connection. Ask the owner of private endpoint "
            f"{current.get('private_endpoint_id') or '(unknown)'} to delete and re-create it, then approve "
            "the new connection."
        )


def diff(before: t.Mapping[str, t.Any] | None, after: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    return {"before": managed_state(before), "after": managed_state(after)}


# -- finding connections the way operators know them ---------------------------------------------
LISTED_STATUSES = ("Pending", "Approved", "Rejected", "Disconnected")
# /subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Network/privateEndpoints/{name}
_PRIVATE_ENDPOINT_ID = re.compile(
    r"^/subscriptions/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/resourceGroups/[^/]+"
    r"/providers/Microsoft\.Network/privateEndpoints/[^/]+/?$", re.IGNORECASE)
_ID_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)(?:/|$)", re.IGNORECASE)


class AmbiguousConnection(CollectionError):
    """More than one connection comes from the private endpoint the user named."""


def same_arm_id(left: t.Any, right: t.Any) -> bool:
    """ARM resource ids compare case-insensitively; a trailing slash is not part of the id."""
    if not isinstance(left, str) or not isinstance(right, str):
        return False
    return left.rstrip("/").lower() == right.rstrip("/").lower()


def validate_private_endpoint_id(value: t.Any, option: str = "private_endpoint_id") -> str:
    if not isinstance(value, str) or not _PRIVATE_ENDPOINT_ID.fullmatch(value):
        raise ValidationError(
            f"{option} must be the ARM resource ID of a private endpoint, /subscriptions/<subscription id>/"
            "resourceGroups/<group>/providers/Microsoft.Network/privateEndpoints/<name>, "
            f"got {_describe(value)}")
    return value


def validate_status_filter(values: t.Any) -> list[str]:
    """Statuses to list, matched case-insensitively and returned in the service's spelling."""
    if values is None:
        return []
    result = []
    for value in values:
        status = next((s for s in LISTED_STATUSES if isinstance(value, str) and s.lower() == value.lower()), None)
        if status is None:
            raise ValidationError(f"status must list only {', '.join(LISTED_STATUSES)}, got {_describe(value)}")
        result.append(status)
    return result


def endpoint_subscription_id(endpoint_id: t.Any) -> str | None:
    """The subscription that holds a private endpoint, read from its ARM resource ID."""
    match = _ID_SUBSCRIPTION.match(endpoint_id) if isinstance(endpoint_id, str) else None
    return match.group(1) if match else None


def filter_connections(connections: t.Iterable[t.Mapping[str, t.Any]], *, statuses: t.Iterable[str] | None = None,
                       private_endpoint_id: str | None = None,
                       private_endpoint_subscription_id: str | None = None) -> list[dict[str, t.Any]]:
    """The connections that pass every given filter (an empty or None filter passes all).

    Statuses and ARM ids (and the subscription ids in them) compare case-insensitively.
    """
    wanted = {status.lower() for status in statuses or ()}
    result = []
    for connection in connections:
        if wanted and (connection.get("status") or "").lower() not in wanted:
            continue
        if private_endpoint_id and not same_arm_id(connection.get("private_endpoint_id"), private_endpoint_id):
            continue
        if private_endpoint_subscription_id and (
                endpoint_subscription_id(connection.get("private_endpoint_id")) or "").lower() \
                != private_endpoint_subscription_id.lower():
            continue
        result.append(dict(connection))
    return result


def find_by_private_endpoint(connections: t.Iterable[t.Mapping[str, t.Any]],
                             private_endpoint_id: str) -> dict[str, t.Any] | None:
    """The one connection opened by this private endpoint, None if there is none; several is an error."""
    matches = filter_connections(connections, private_endpoint_id=private_endpoint_id)
    if len(matches) > 1:
        names = ", ".join(repr(c.get("name")) for c in matches)
        raise AmbiguousConnection(
            f"{len(matches)} connections come from private endpoint {private_endpoint_id}: {names}. "
            "Name the one to manage with the name option.")
    return matches[0] if matches else None


# -- the service ------------------------------------------------------------------------------
class ConnectionService:
    """The connections of one Cosmos DB account, read and written through an ``ArmClient``."""

    def __init__(self, client: t.Any, subscription_id: str, resource_group: str, account_name: str,
                 lock_factory: t.Callable[[str, float], t.Any] | None = None) -> None:
        """``lock_factory(resource_id, timeout)`` gives the per-connection writer lock (see _inflight)."""
        self.client = client
        self.subscription_id = validate_subscription_id(subscription_id)
        self.resource_group = validate_resource_group(resource_group)
        self.account_name = validate_account_name(account_name)
        self._params = {"api-version": API_VERSION}
        self._lock_factory = lock_factory
        self._lock: t.Any = None

    @contextlib.contextmanager
    def _writer(self, name: str, check_mode: bool, wait_timeout: float) -> t.Iterator[None]:
        """Hold the connection's writer lock from the first GET to the end of the operation.

        Check mode writes nothing and takes no lock. Under the lock, an operation that a previous
        ``wait: false`` run left running is followed to its end first, so the GET that follows
        shows its result instead of the old state.
        """
        if check_mode or self._lock_factory is None:
            yield
            return
        with self._lock_factory(self._path(name), wait_timeout) as lock:
            self._lock = lock
            try:
                self._settle(lock, name, wait_timeout)
                yield
            finally:
                self._lock = None

    def _settle(self, lock: t.Any, name: str, wait_timeout: float) -> None:
        pending = lock.pending()
        if not pending:
            return
        action = f"Waiting for an earlier change of connection {name!r}"
        try:
            operation = self.client.operation_from_url(action, pending["url"], pending.get("async", True))
        except TransportError:
            # Not on this run's ARM endpoint (left by a run against another cloud): not ours to
            # follow, and no token goes there. The GET below tells the state.
            lock.record(None)
            return
        try:
            self.client.wait(operation, wait_timeout)
        except (ArmError, OperationError):
            pass  # it failed or is unknown by now: either way the GET below tells the truth
        lock.record(None)

    def _follow(self, action: str, accepted: t.Any, wait: bool, wait_timeout: float) -> str | None:
        """Follow a 202 to its end; with ``wait: false`` leave it running and return its URL."""
        operation = self.client.start_operation(action, accepted)
        if wait:
            self.client.wait(operation, wait_timeout)
            return None
        if self._lock is not None:
            self._lock.record(operation.url, operation.uses_async_header)
        return operation.url

    def _path(self, name: str) -> str:
        # Also names read from ARM (approve by private endpoint): each must stay one path segment.
        validate_connection_name(name)
        return connection_path(self.subscription_id, self.resource_group, self.account_name, name)

    def get(self, name: str) -> dict[str, t.Any] | None:
        """The connection, or None when Cosmos DB says it does not exist.

        Only the connection's own 404 (code NotFound) means "absent"; a missing resource group or
        account (ResourceGroupNotFound, ParentResourceNotFound) is an error the user must see.
        """
        try:
            result = self.client.get_json(self._path(name), action=f"Reading connection {name!r}",
                                          params=self._params)
        except ArmError as err:
            if err.status_code == 404 and (err.code or "NotFound") == "NotFound":
                return None
            raise
        return normalize(result.body)

    def list(self) -> list[dict[str, t.Any]]:
        path = connections_path(self.subscription_id, self.resource_group, self.account_name)
        action = f"Listing the connections of account {self.account_name!r}"
        result = self.client.get_json(path, action=action, params=self._params)
        items = list(result.body.get("value") or []) if isinstance(result.body, dict) else []
        next_link = result.body.get("nextLink") if isinstance(result.body, dict) else None
        while next_link:
            page = self.client.get_json(next_link, action=action)
            items.extend(page.body.get("value") or [])
            next_link = page.body.get("nextLink")
        return [normalize(item) for item in items if isinstance(item, dict)]

    def name_for_private_endpoint(self, private_endpoint_id: str, *, required: bool) -> str | None:
        """The name of the connection opened by this private endpoint (one list request).

        None when there is none and not ``required``; ``ConnectionNotFound`` when it is.
        """
        private_endpoint_id = validate_private_endpoint_id(private_endpoint_id)
        match = find_by_private_endpoint(self.list(), private_endpoint_id)
        if match is not None:
            return match["name"]
        if required:
            raise ConnectionNotFound(
                f"No connection of Cosmos DB account {self.account_name!r} in resource group "
                f"{self.resource_group!r} comes from private endpoint {private_endpoint_id}. The endpoint's owner "
                "creates the connection; list the account's connections with "
                "privatelink.azure.cosmosdb_private_endpoint_connection_info to see which endpoints have one.")
        return None

    def ensure(self, name: str, status: str, description: str | None, *, check_mode: bool, wait: bool,
               wait_timeout: float) -> dict[str, t.Any]:
        """Make the connection's state what was asked, writing only when it differs."""
        status = validate_status(status)
        description = validate_description(description)
        with self._writer(name, check_mode, wait_timeout):
            return self._ensure(name, status, description, check_mode=check_mode, wait=wait,
                                wait_timeout=wait_timeout)

    def _ensure(self, name: str, status: str, description: str | None, *, check_mode: bool, wait: bool,
                wait_timeout: float) -> dict[str, t.Any]:
        current = self.get(name)
        if current is None:
            raise ConnectionNotFound(
                f"Connection {name!r} does not exist on Cosmos DB account {self.account_name!r} in resource "
                f"group {self.resource_group!r}. Connections are created by the private endpoint's owner; "
                "list the account's connections to find the right name."
            )
        if not needs_update(current, status, description):
            return {"changed": False, "connection": current, "diff": diff(current, current)}
        check_transition(current, status)
        after = desired(current, status, description)
        result = {"changed": True, "connection": after, "diff": diff(current, after)}
        if check_mode:
            return result
        body = {"properties": {"privateLinkServiceConnectionState": {
            "status": status, "description": after.get("description") or ""}}}
        action = f"Setting connection {name!r} to {status}"
        response = self.client.request("PUT", self._path(name), action=action, params=self._params,
                                       json_body=body, ok_statuses=(200, 201, 202))
        if response.status_code == 202:
            operation_url = self._follow(action, response, wait, wait_timeout)
            if operation_url:
                result["operation_url"] = operation_url
                return result
            final = self.get(name)
            if final is None:
                raise ConnectionNotFound(f"{action}: the operation succeeded but the connection is gone")
            result["connection"] = final
        elif isinstance(response.body, dict) and response.body.get("properties"):
            result["connection"] = normalize(response.body)
        else:
            # A 200/201 without the connection (a proxy's page) does not show the write happened:
            # fail rather than report a change nobody saw.
            raise ArmError(action, response.status_code, None, response.request_id, response.correlation_id,
                           f"the answer is not the connection: {' '.join(response.text.split())[:200] or '(empty)'}")
        result["diff"] = diff(current, result["connection"])
        return result

    def remove(self, name: str, *, check_mode: bool, wait: bool, wait_timeout: float) -> dict[str, t.Any]:
        """Delete the connection if it exists; an absent connection is already what was asked."""
        with self._writer(name, check_mode, wait_timeout):
            return self._remove(name, check_mode=check_mode, wait=wait, wait_timeout=wait_timeout)

    def _remove(self, name: str, *, check_mode: bool, wait: bool, wait_timeout: float) -> dict[str, t.Any]:
        current = self.get(name)
        if current is None:
            return {"changed": False, "connection": {}, "diff": diff(None, None)}
        result = {"changed": True, "connection": {}, "diff": diff(current, None)}
        if check_mode:
            return result
        action = f"Deleting connection {name!r}"
        response = self.client.request("DELETE", self._path(name), action=action, params=self._params,
                                       ok_statuses=(200, 202, 204))
        if response.status_code == 200 and response.text.strip() and response.body is None:
            # ARM answers a done DELETE with no body or JSON; an HTML page is a proxy, not a deletion.
            raise ArmError(action, response.status_code, None, response.request_id, response.correlation_id,
                           f"the body is not JSON: {' '.join(response.text.split())[:200]}")
        if response.status_code == 202:
            operation_url = self._follow(action, response, wait, wait_timeout)
            if operation_url:
                result["operation_url"] = operation_url
        return result
