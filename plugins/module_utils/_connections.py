# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Private endpoint connections of any Private Link service: input rules, comparison, and the service.

The functions at the top are pure (easy to test exhaustively); ``ConnectionService`` drives an
``ArmClient`` through GET, compare, write and the long-running operation for one resource, with the
facts of its type from module_utils/_providers.py.
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
from ansible_collections.privatelink.azure.plugins.module_utils._providers import Provider, ResourceRef

STATUSES = ("Approved", "Rejected")
LISTED_STATUSES = ("Pending", "Approved", "Rejected", "Disconnected")
MAX_NAME_LENGTH = 260
MAX_DESCRIPTION_LENGTH = 4096
# 404 codes that say something above the connection is missing: an error to show, not "absent".
PARENT_MISSING_CODES = frozenset(("resourcegroupnotfound", "parentresourcenotfound", "subscriptionnotfound",
                                  "invalidresourcetype", "invalidresourcenamespace", "noregisteredproviderfound"))

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NAME_FORBIDDEN = ("/", "\\", "?", "#", "%", "..")
# /subscriptions/{guid}/resourceGroups/{rg}/providers/Microsoft.Network/privateEndpoints/{name}
_PRIVATE_ENDPOINT_ID = re.compile(
    r"^/subscriptions/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/resourceGroups/[^/]+"
    r"/providers/Microsoft\.Network/privateEndpoints/[^/]+/?$", re.IGNORECASE)
_ID_SUBSCRIPTION = re.compile(r"^/subscriptions/([^/]+)(?:/|$)", re.IGNORECASE)


class TransitionError(ValidationError):
    """The service would refuse this change; we refuse it first, before any write."""


class ConnectionNotFound(CollectionError):
    """``state: present`` on a connection that does not exist (connections are created elsewhere).

    Carries the fields of the ARM answer that said so (the 404, or the listing that had no match),
    so ``failed_when`` can test ``error.code`` and support gets the request id.
    """

    def __init__(self, msg: str, lookup: ArmError | None = None) -> None:
        super().__init__(msg)
        self.lookup = lookup

    def fail_fields(self) -> dict[str, t.Any]:
        return self.lookup.fail_fields() if self.lookup else {}


class AmbiguousConnection(CollectionError):
    """More than one connection comes from the private endpoint the user named."""


class ChangedElsewhere(CollectionError):
    """The connection changed since it was read: a 412 to a conditional write, or a re-read that no
    longer shows what the caller planned from. Nothing was written."""

    def __init__(self, msg: str, cause: ArmError | None = None) -> None:
        super().__init__(msg)
        self.cause = cause

    def fail_fields(self) -> dict[str, t.Any]:
        return self.cause.fail_fields() if self.cause else {}


class WriteNotApplied(CollectionError):
    """The service accepted the write and its operation ended, but the connection does not show it."""

    def __init__(self, msg: str, connection: dict[str, t.Any] | None) -> None:
        super().__init__(msg)
        self.connection = connection

    def fail_fields(self) -> dict[str, t.Any]:
        return {"connection": self.connection or {}}


# -- input rules ---------------------------------------------------------------------------------
def describe_value(value: t.Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def validate_subscription_id(value: t.Any, option: str = "subscription_id") -> str:
    if not isinstance(value, str) or not _GUID.fullmatch(value):
        raise ValidationError(f"{option} must be a subscription GUID such as "
                              f"00000000-0000-0000-0000-000000000000, got {describe_value(value)}")
    return value


def validate_connection_name(value: t.Any) -> str:
    """A connection name must stay one URL path segment: nothing that could change the URL."""
    if not isinstance(value, str) or not value or len(value) > MAX_NAME_LENGTH:
        raise ValidationError(f"name must be a connection name of 1-{MAX_NAME_LENGTH} characters, "
                              f"got {describe_value(value)}")
    # Front ends may fold look-alikes (fullwidth '．', '／', the two-dot leader '‥') into the real ones.
    folded = unicodedata.normalize("NFKC", value)
    bad = [p for p in _NAME_FORBIDDEN if p in value or p in folded]
    if bad or "." in (value, folded) or value != value.strip() or any(
            unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValidationError("name must not contain '/', '\\', '?', '#', '%', '..' (or look-alikes of them), "
                              f"control characters or surrounding spaces, got {describe_value(value)}")
    return value


def validate_description(value: t.Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_DESCRIPTION_LENGTH:
        raise ValidationError(f"description must be a string of at most {MAX_DESCRIPTION_LENGTH} characters, "
                              f"got {describe_value(value)}")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in value):
        raise ValidationError(f"description must not contain control characters, got {describe_value(value)}")
    return value


def validate_status(value: t.Any, allowed: t.Sequence[str] = STATUSES, option: str = "status") -> str:
    """Any case in, the service's spelling out."""
    for status in allowed:
        if isinstance(value, str) and value.lower() == status.lower():
            return status
    raise ValidationError(f"{option} must be one of {', '.join(allowed)} (any case), got {describe_value(value)}")


def validate_private_endpoint_id(value: t.Any, option: str = "private_endpoint_id") -> str:
    if not isinstance(value, str) or not _PRIVATE_ENDPOINT_ID.fullmatch(value):
        raise ValidationError(
            f"{option} must be the ARM resource ID of a private endpoint, /subscriptions/<subscription id>/"
            "resourceGroups/<group>/providers/Microsoft.Network/privateEndpoints/<name>, "
            f"got {describe_value(value)}")
    return value


def validate_status_filter(values: t.Any) -> list[str]:
    """Statuses to list, matched case-insensitively and returned in the service's spelling."""
    if values is None:
        return []
    return [validate_status(value, LISTED_STATUSES) for value in values]


# -- the resource -----------------------------------------------------------------------------
def _resource_id_of(connection_id: t.Any) -> str | None:
    if not isinstance(connection_id, str):
        return None
    parent, _sep, _name = connection_id.rpartition("/")
    resource, _sep, child = parent.rpartition("/")
    return resource if child.lower() == "privateendpointconnections" else None


def normalize(resource: t.Mapping[str, t.Any], resource_type: str | None = None,
              actions_field: str = "actionsRequired") -> dict[str, t.Any]:
    """The ARM resource in the snake_case shape the modules return."""
    props = resource.get("properties") or {}
    state = props.get("privateLinkServiceConnectionState") or {}
    endpoint = props.get("privateEndpoint") or {}
    group_ids = props.get("groupIds")
    if not isinstance(group_ids, list):
        group_ids = [props["groupId"]] if isinstance(props.get("groupId"), str) else []
    actions = state.get(actions_field)
    if actions is None:
        actions = state.get("actionsRequired", state.get("actionRequired"))
    return {
        "id": resource.get("id"),
        "name": resource.get("name"),
        "resource_id": _resource_id_of(resource.get("id")),
        "resource_type": resource_type,
        "group_id": props.get("groupId") if isinstance(props.get("groupId"), str) else (group_ids or [None])[0],
        "group_ids": group_ids,
        "private_endpoint_id": endpoint.get("id"),
        "status": state.get("status"),
        "description": state.get("description"),
        "actions_required": actions,
        "provisioning_state": props.get("provisioningState"),
        "etag": resource.get("etag"),
    }


def managed_state(connection: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    """What the modules manage, for diff: the connection state, nothing more (None = no description)."""
    if not connection:
        return {}
    return {"status": connection.get("status"), "description": connection.get("description")}


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


def check_transition(provider: Provider, current: t.Mapping[str, t.Any], status: str,
                     description: str | None) -> None:
    """Refuse what the service refuses, before any write (and in check mode)."""
    changes = description is not None and description != (current.get("description") or "")
    reason = provider.refusal(current.get("status"), status, changes)
    if reason:
        raise TransitionError(f"Connection {current.get('name')!r} (private endpoint "
                              f"{current.get('private_endpoint_id') or 'unknown'}): {reason}")


def diff(before: t.Mapping[str, t.Any] | None, after: t.Mapping[str, t.Any] | None,
         header: str | None = None) -> dict[str, t.Any]:
    """Before/after of the managed state, headed by the connection's id so a loop's diffs say which."""
    result: dict[str, t.Any] = {"before": managed_state(before), "after": managed_state(after)}
    header = header or (before or {}).get("id") or (after or {}).get("id")
    if header:
        result["before_header"] = result["after_header"] = header
    return result


def write_body(current_raw: t.Mapping[str, t.Any], status: str, description: str) -> dict[str, t.Any]:
    """The write as Azure sees the connection: its private endpoint (deny policies evaluate
    ``properties.privateEndpoint.id`` in the request), its group where the service shows one as a plain
    string, and the new state. Nothing read-only (provisioningState, groupIds, ids, etag) is sent back."""
    props = current_raw.get("properties") or {}
    body: dict[str, t.Any] = {}
    endpoint = (props.get("privateEndpoint") or {}).get("id")
    if isinstance(endpoint, str) and endpoint:
        body["privateEndpoint"] = {"id": endpoint}
    if isinstance(props.get("groupId"), str):
        body["groupId"] = props["groupId"]
    body["privateLinkServiceConnectionState"] = {"status": status, "description": description}
    return {"properties": body}


# -- finding connections the way operators know them ---------------------------------------------
def same_arm_id(left: t.Any, right: t.Any) -> bool:
    """ARM resource ids compare case-insensitively; a trailing slash is not part of the id."""
    if not isinstance(left, str) or not isinstance(right, str):
        return False
    return left.rstrip("/").lower() == right.rstrip("/").lower()


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


def explain_write_error(err: ArmError, provider: Provider, resource_id: str) -> ArmError:
    """Add what to do to a refused write's message: the permission or the policy that refused it."""
    code = (err.code or "").lower()
    if err.status_code == 403 and code in ("authorizationfailed", "linkedauthorizationfailed"):
        linked = (" LinkedAuthorizationFailed means the identity also lacks a permission on the private endpoint's "
                  "side of the request.") if code == "linkedauthorizationfailed" else ""
        err.add_hint(f"Approving or rejecting needs {provider.approval_action} and {provider.write_action} on "
                     f"{resource_id}; see the least-privilege role in docs/least-privilege.md.{linked}")
    elif err.status_code == 403 and code == "requestdisallowedbypolicy":
        names = []
        for info in (err.error or {}).get("additional_info") or []:
            details = info.get("info") if isinstance(info, dict) else None
            if isinstance(details, dict) and (info.get("type") or "").lower() == "policyviolation":
                name = details.get("policyAssignmentDisplayName") or details.get("policyAssignmentName")
                definition = details.get("policyDefinitionDisplayName") or details.get("policyDefinitionName")
                names.append(" / ".join(str(n) for n in (name, definition) if n))
        if names:
            err.add_hint(f"Refused by Azure Policy: {'; '.join(names)}.")
    return err


# -- the service ------------------------------------------------------------------------------
class ConnectionService:
    """The connections of one Private Link resource, read and written through an ``ArmClient``."""

    def __init__(self, client: t.Any, resource: ResourceRef, provider: Provider, *,
                 lock_factory: t.Callable[[str, float], t.Any] | None = None,
                 where: str | None = None, info_module: str = "privatelink.azure.private_endpoint_connection_info",
                 fields: t.Sequence[str] | None = None) -> None:
        """``lock_factory(connection_id, timeout)`` gives the per-connection writer lock (see _inflight);
        ``where`` names the resource in messages; ``fields`` limits the returned connection's keys."""
        self.client = client
        self.resource = resource
        self.provider = provider
        self.where = where or f"{provider.label} resource {resource.name!r} in resource group {resource.resource_group!r}"
        self._info_module = info_module
        self._fields = tuple(fields) if fields else None
        self._params = {"api-version": provider.api_version}
        self._lock_factory = lock_factory

    # -- shapes ---------------------------------------------------------------------------
    def _normalize(self, raw: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
        connection = normalize(raw, self.provider.resource_type, self.provider.actions_field)
        if self._fields:
            return {key: connection.get(key) for key in self._fields}
        return connection

    def _path(self, name: str) -> str:
        # Also names read from ARM (approve by private endpoint): each must stay one path segment.
        validate_connection_name(name)
        return f"{self.resource.path}/privateEndpointConnections/{quote(name, safe='')}"

    def connection_id(self, name: str) -> str:
        return f"{self.resource.id}/privateEndpointConnections/{name}"

    # -- reads ----------------------------------------------------------------------------
    def _read(self, name: str) -> tuple[dict[str, t.Any] | None, ArmError | None]:
        """The raw connection, or (None, the 404 that said it does not exist).

        Only the connection's own 404 means "absent"; a missing resource group or parent resource
        (ResourceGroupNotFound, ParentResourceNotFound) is an error the user must see.
        """
        try:
            result = self.client.get_json(self._path(name), action=f"Reading connection {name!r}",
                                          params=self._params)
        except ArmError as err:
            if err.status_code == 404 and (err.code or "NotFound").lower() not in PARENT_MISSING_CODES:
                return None, err
            raise
        return result.body, None

    def get(self, name: str) -> dict[str, t.Any] | None:
        """The connection, or None when the service says it does not exist."""
        raw, _missing = self._read(name)
        return None if raw is None else self._normalize(raw)

    def list(self) -> list[dict[str, t.Any]]:
        return [self._normalize(item) for item in self._list_raw()[0]]

    def _list_raw(self) -> tuple[list[dict[str, t.Any]], t.Any]:
        action = f"Listing the connections of {self.where}"
        result = self.client.get_json(f"{self.resource.path}/privateEndpointConnections", action=action,
                                      params=self._params)
        first = result
        items = list(result.body.get("value") or []) if isinstance(result.body, dict) else []
        next_link = result.body.get("nextLink") if isinstance(result.body, dict) else None
        while next_link:
            page = self.client.get_json(next_link, action=action)
            items.extend(page.body.get("value") or [])
            next_link = page.body.get("nextLink")
        return [item for item in items if isinstance(item, dict)], first

    def name_for_private_endpoint(self, private_endpoint_id: str, *, required: bool) -> str | None:
        """The name of the connection opened by this private endpoint (one list request).

        None when there is none and not ``required``; ``ConnectionNotFound`` when it is.
        """
        private_endpoint_id = validate_private_endpoint_id(private_endpoint_id)
        raw, listing = self._list_raw()
        match = find_by_private_endpoint([self._normalize(item) for item in raw], private_endpoint_id)
        if match is not None:
            return match["name"]
        if required:
            msg = (f"No connection of {self.where} comes from private endpoint {private_endpoint_id}. The endpoint's "
                   f"owner creates the connection; list the connections with {self._info_module} to see which "
                   "endpoints have one.")
            lookup = ArmError(f"Listing the connections of {self.where}", 404,
                              {"code": "PrivateEndpointConnectionNotFound", "message": msg, "target": None,
                               "details": [], "additional_info": []},
                              listing.request_id, listing.correlation_id)
            raise ConnectionNotFound(msg, lookup)
        return None

    # -- writes ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _writer(self, name: str, check_mode: bool, wait_timeout: float) -> t.Iterator[None]:
        """Hold the connection's writer lock from the first GET to the end of the operation.

        Check mode writes nothing and takes no lock.
        """
        if check_mode or self._lock_factory is None:
            yield
            return
        with self._lock_factory(self.connection_id(name).lower(), wait_timeout):
            yield

    def resume(self, operation_url: str, name: str, wait_timeout: float) -> None:
        """Follow an operation an earlier ``wait: false`` task returned, so the GET after it shows its result.

        Its outcome does not matter here: failed or unknown, the GET that follows tells the truth. An
        operation on another ARM endpoint is not ours to follow, and no token goes there.
        """
        action = f"Waiting for an earlier change of connection {name!r}"
        try:
            operation = self.client.operation_from_url(action, operation_url)
        except TransportError:
            return
        with contextlib.suppress(ArmError, OperationError):
            self.client.wait(operation, wait_timeout)

    def ensure(self, name: str, status: str, description: str | None, *, check_mode: bool, wait: bool,
               wait_timeout: float, operation_url: str | None = None,
               expect: tuple[str | None, str | None] | None = None) -> dict[str, t.Any]:
        """Make the connection's state what was asked, writing only when it differs.

        ``expect`` (status, description) is compare-before-write for a caller that decided from an
        earlier read: if the connection no longer shows it, or a conditional write meets a 412,
        ``ChangedElsewhere`` is raised and nothing is written.
        """
        status = validate_status(status)
        description = validate_description(description)
        with self._writer(name, check_mode, wait_timeout):
            if operation_url and not check_mode:
                self.resume(operation_url, name, wait_timeout)
            return self._ensure(name, status, description, check_mode=check_mode, wait=wait,
                                wait_timeout=wait_timeout, expect=expect)

    def _check_expected(self, name: str, current: t.Mapping[str, t.Any] | None,
                        expect: tuple[str | None, str | None] | None) -> None:
        if expect is None:
            return
        status, description = expect
        if current is None or (current.get("status") or "").lower() != (status or "").lower() \
                or (current.get("description") or "") != (description or ""):
            now = "gone" if current is None else f"{current.get('status')} ({current.get('description') or 'no description'})"
            raise ChangedElsewhere(f"Connection {name!r} changed since it was read: it is now {now}; not written")

    def _missing(self, name: str, lookup: ArmError | None) -> ConnectionNotFound:
        return ConnectionNotFound(
            f"Connection {name!r} does not exist on {self.where}. Connections are created by the private "
            f"endpoint's owner; list them with {self._info_module} to find the right name.", lookup)

    def _ensure(self, name: str, status: str, description: str | None, *, check_mode: bool, wait: bool,
                wait_timeout: float, retried: bool = False,
                expect: tuple[str | None, str | None] | None = None) -> dict[str, t.Any]:
        raw, missing = self._read(name)
        if raw is None and expect is None:
            raise self._missing(name, missing)
        current = None if raw is None else self._normalize(raw)
        self._check_expected(name, current, expect)
        if raw is None or current is None:  # only without expect, which raised above for a missing one
            raise self._missing(name, missing)
        header = self.connection_id(name)
        if not needs_update(current, status, description):
            return {"changed": False, "connection": current, "diff": diff(current, current, header)}
        check_transition(self.provider, current, status, description)
        after = desired(current, status, description)
        result: dict[str, t.Any] = {"changed": True, "connection": after, "diff": diff(current, after, header)}
        if check_mode:
            return result
        body = write_body(raw, status, after.get("description") or "")
        action = f"Setting connection {name!r} to {status}"
        headers = {"If-Match": raw["etag"]} if self.provider.etag and isinstance(raw.get("etag"), str) else None
        try:
            response = self.client.request(self.provider.write_method, self._path(name), action=action,
                                           params=self._params, json_body=body, headers=headers,
                                           ok_statuses=(200, 201, 202))
        except ArmError as err:
            if err.status_code == 412 and expect is not None:
                raise ChangedElsewhere(f"{action}: the connection changed since it was read (412 Precondition "
                                       "Failed); not written", err) from None
            if err.status_code == 412 and not retried:
                # Someone else changed it since our GET: read again and decide once more.
                return self._ensure(name, status, description, check_mode=check_mode, wait=wait,
                                    wait_timeout=wait_timeout, retried=True)
            if err.status_code == 412:
                raise ChangedElsewhere(f"{action}: the connection changed again while we wrote it (412 Precondition "
                                       "Failed twice); not overwriting another change", err) from None
            raise explain_write_error(err, self.provider, self.resource.id) from None
        operation = self.client.operation_for(action, response, expect_status=status)
        if operation is None:
            # Synchronous: the answer is the connection as it now is.
            if not (isinstance(response.body, dict) and isinstance(response.body.get("properties"), dict)):
                # A 200/201 without the connection (a proxy's page) does not show the write happened:
                # fail rather than report a change nobody saw.
                raise ArmError(action, response.status_code, None, response.request_id, response.correlation_id,
                               "the answer is not the connection: "
                               f"{' '.join(response.text.split())[:200] or '(empty)'}")
            final = self._normalize(response.body)
        else:
            if not wait:
                result["operation_url"] = operation.url
                return result
            self.client.wait(operation, wait_timeout)
            result.update(operation.summary())
            final = self.get(name)
            if final is None:
                raise ConnectionNotFound(f"{action}: the operation succeeded but the connection is gone")
        if (final.get("status") or "").lower() != status.lower():
            # The connection's own status decides: some services leave provisioningState where it was.
            raise WriteNotApplied(f"{action}: the service accepted the write but the connection is "
                                  f"{final.get('status') or 'without a status'}", final)
        result["connection"] = final
        result["diff"] = diff(current, final, header)
        return result

    def remove(self, name: str, *, check_mode: bool, wait: bool, wait_timeout: float,
               operation_url: str | None = None,
               expect: tuple[str | None, str | None] | None = None) -> dict[str, t.Any]:
        """Delete the connection if it exists; an absent connection is already what was asked.

        ``expect`` as for ``ensure``: a connection that changed (or went) since it was read is not deleted.
        """
        with self._writer(name, check_mode, wait_timeout):
            if operation_url and not check_mode:
                self.resume(operation_url, name, wait_timeout)
            return self._remove(name, check_mode=check_mode, wait=wait, wait_timeout=wait_timeout, expect=expect)

    def _remove(self, name: str, *, check_mode: bool, wait: bool, wait_timeout: float,
                expect: tuple[str | None, str | None] | None = None) -> dict[str, t.Any]:
        header = self.connection_id(name)
        current = self.get(name)
        self._check_expected(name, current, expect)
        if current is None:
            return {"changed": False, "connection": {}, "diff": diff(None, None, header)}
        result: dict[str, t.Any] = {"changed": True, "connection": {}, "diff": diff(current, None, header)}
        if check_mode:
            return result
        action = f"Deleting connection {name!r}"
        try:
            response = self.client.request("DELETE", self._path(name), action=action, params=self._params,
                                           ok_statuses=(200, 202, 204))
        except ArmError as err:
            raise explain_write_error(err, self.provider, self.resource.id) from None
        if response.status_code == 200 and response.text.strip() and response.body is None:
            # ARM answers a done DELETE with no body or JSON; an HTML page is a proxy, not a deletion.
            raise ArmError(action, response.status_code, None, response.request_id, response.correlation_id,
                           f"the body is not JSON: {' '.join(response.text.split())[:200]}")
        operation = self.client.operation_for(action, response, deleting=True)
        if operation is not None:
            if not wait:
                result["operation_url"] = operation.url
                return result
            self.client.wait(operation, wait_timeout)
            result.update(operation.summary())
        return result
