# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate an emulator seed before loading it, with messages that name the file and the key path.

Interface::

    check_seed(seed, source="seed.yml", known_types=None)   # None, or raises SeedError
    # SeedError(ValueError): str(exc) == "seed.yml: resources[2].connections[0].stauts: unknown key (known: ...)"
    #                        exc.source, exc.path, exc.problem

``known_types`` (a collection of ``Namespace/type`` strings, compared case-insensitively) limits
``resources[].type``; with None any ``Namespace/type`` string is accepted.

The seed (a mapping; every key optional):

- ``subscriptions: [guid, ...]`` — the subscriptions of the world; when given, every ``subscription_id``
  below must be one of them.
- ``principals: [...]`` — each either a user ``{username, password, tenant?}`` or an application
  ``{tenant, client_id}`` with exactly one of ``secret``, ``certificate_pem``, ``federated_token`` (one
  application may have several entries).
- ``managed_identity: {client_id, tenant?}``.
- ``resource_groups: [{subscription_id, name}]`` — empty groups (groups of accounts/resources exist anyway).
- ``accounts: [{subscription_id, resource_group, name, location?, connections?}]`` — Cosmos DB accounts.
- ``resources: [{type, subscription_id, resource_group, name, location?, tags?, connections?}]`` — any
  other Private Link resource (``type`` like ``Microsoft.Storage/storageAccounts``).
- ``connections: [{name, private_endpoint_id?, status?, description?, group_id?}]`` — ``status`` one of
  Pending, Approved, Rejected, Disconnected (default Pending); ``description`` a string or null.

Messages never quote the values of secret keys (``secret``, ``password``, ``certificate_pem``,
``federated_token``). To accept a new key, add it to ``SCHEMAS``.
"""
from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

STATUSES = ("Pending", "Approved", "Rejected", "Disconnected")
GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
RESOURCE_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+(/[A-Za-z][A-Za-z0-9]*)+")
CREDENTIAL_KEYS = ("secret", "certificate_pem", "federated_token")

# Per mapping: key -> (expected type, required). ``str | None`` is spelled (str, type(None)).
_STR = (str,)
_OPT_STR = (str, type(None))
SCHEMAS: dict[str, dict[str, tuple[tuple[type, ...], bool]]] = {
    "seed": {"subscriptions": ((list,), False), "principals": ((list,), False),
             "managed_identity": ((dict, type(None)), False), "resource_groups": ((list,), False),
             "accounts": ((list,), False), "resources": ((list,), False)},
    "principal": {"tenant": (_STR, False), "client_id": (_STR, False), "secret": (_STR, False),
                  "certificate_pem": (_STR, False), "federated_token": (_STR, False),
                  "username": (_STR, False), "password": (_STR, False)},
    "managed_identity": {"client_id": (_STR, True), "tenant": (_STR, False)},
    "resource_group": {"subscription_id": (_STR, True), "name": (_STR, True)},
    "account": {"subscription_id": (_STR, True), "resource_group": (_STR, True), "name": (_STR, True),
                "location": (_STR, False), "connections": ((list,), False)},
    "resource": {"type": (_STR, True), "subscription_id": (_STR, True), "resource_group": (_STR, True),
                 "name": (_STR, True), "location": (_STR, False), "tags": ((dict,), False),
                 "connections": ((list,), False)},
    "connection": {"name": (_STR, True), "private_endpoint_id": (_STR, False), "status": (_STR, False),
                   "description": (_OPT_STR, False), "group_id": (_STR, False)},
}
_TYPE_NAMES = {str: "a string", list: "a list", dict: "a mapping", type(None): "null", int: "a number",
               float: "a number", bool: "a boolean"}


class SeedError(ValueError):
    """A seed problem: ``source``, ``path`` (like ``resources[2].connections[0].status``) and ``problem``."""

    def __init__(self, source: str, path: str, problem: str) -> None:
        super().__init__(f"{source}: {path}: {problem}")
        self.source = source
        self.path = path
        self.problem = problem


def _kind(value: Any) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


class _Checker:
    def __init__(self, source: str, known_types: Collection[str] | None) -> None:
        self.source = source
        self.known_types = None if known_types is None else {t.lower() for t in known_types}
        self.subscriptions: set[str] | None = None

    def fail(self, path: str, problem: str) -> SeedError:
        return SeedError(self.source, path or "(top level)", problem)

    def mapping(self, value: Any, path: str, schema_name: str) -> dict[str, Any]:
        schema = SCHEMAS[schema_name]
        if not isinstance(value, dict):
            raise self.fail(path, f"expected a mapping, got {_kind(value)}")
        prefix = f"{path}." if path else ""
        for key in value:
            if key not in schema:
                raise self.fail(f"{prefix}{key}", f"unknown key (known: {', '.join(schema)})")
        for key, (types, required) in schema.items():
            if key not in value:
                if required:
                    raise self.fail(f"{prefix}{key}", "missing required key")
                continue
            # bool is an int in Python; nothing here takes either, so compare the exact type.
            if type(value[key]) not in types:
                expected = " or ".join(_TYPE_NAMES[t] for t in types)
                raise self.fail(f"{prefix}{key}", f"expected {expected}, got {_kind(value[key])}")
            if types == _STR and not value[key].strip():
                raise self.fail(f"{prefix}{key}", "must not be empty")
        return value

    def guid(self, value: str, path: str) -> None:
        if not GUID.fullmatch(value):
            raise self.fail(path, f"{value!r} is not a subscription id (a GUID like "
                                  "00000000-0000-0000-0000-000000000000)")
        if self.subscriptions is not None and value.lower() not in self.subscriptions:
            raise self.fail(path, f"{value!r} is not one of the seed's subscriptions")

    def check(self, seed: Any) -> None:
        if seed is None:  # an empty file: an empty world
            return
        self.mapping(seed, "", "seed")
        if "subscriptions" in seed:
            for index, sub in enumerate(seed["subscriptions"]):
                path = f"subscriptions[{index}]"
                if not isinstance(sub, str):
                    raise self.fail(path, f"expected a string, got {_kind(sub)}")
                self.guid(sub, path)
            self.subscriptions = {sub.lower() for sub in seed["subscriptions"]}
        for index, principal in enumerate(seed.get("principals", [])):
            self.principal(principal, f"principals[{index}]")
        if seed.get("managed_identity") is not None:
            self.mapping(seed["managed_identity"], "managed_identity", "managed_identity")
        for index, group in enumerate(seed.get("resource_groups", [])):
            path = f"resource_groups[{index}]"
            self.mapping(group, path, "resource_group")
            self.guid(group["subscription_id"], f"{path}.subscription_id")
        self.parents(seed.get("accounts", []), "accounts", "account")
        self.parents(seed.get("resources", []), "resources", "resource")

    def principal(self, principal: Any, path: str) -> None:
        self.mapping(principal, path, "principal")
        if "username" in principal or "password" in principal:
            for key in ("username", "password"):
                if key not in principal:
                    raise self.fail(f"{path}.{key}", "missing required key (a user needs username and password)")
            extra = [key for key in ("client_id", *CREDENTIAL_KEYS) if key in principal]
            if extra:
                raise self.fail(f"{path}.{extra[0]}", "a user (username/password) takes only tenant besides")
            return
        for key in ("tenant", "client_id"):
            if key not in principal:
                raise self.fail(f"{path}.{key}", "missing required key")
        credentials = [key for key in CREDENTIAL_KEYS if key in principal]
        if len(credentials) != 1:
            raise self.fail(path, f"an application needs exactly one of {', '.join(CREDENTIAL_KEYS)}"
                                  f"{' (found ' + ', '.join(credentials) + ')' if credentials else ''}; "
                                  "give each credential its own entry")

    def parents(self, items: list[Any], list_key: str, schema_name: str) -> None:
        seen: dict[tuple[str, ...], int] = {}
        for index, item in enumerate(items):
            path = f"{list_key}[{index}]"
            self.mapping(item, path, schema_name)
            self.guid(item["subscription_id"], f"{path}.subscription_id")
            if schema_name == "resource":
                rtype = item["type"]
                if not RESOURCE_TYPE.fullmatch(rtype):
                    raise self.fail(f"{path}.type", f"{rtype!r} is not a resource type like "
                                                    "Microsoft.Storage/storageAccounts")
                if self.known_types is not None and rtype.lower() not in self.known_types:
                    raise self.fail(f"{path}.type", f"unknown resource type {rtype!r} (known: "
                                                    f"{', '.join(sorted(self.known_types))})")
                for key, value in item.get("tags", {}).items():
                    if not isinstance(value, str):
                        raise self.fail(f"{path}.tags.{key}", f"expected a string, got {_kind(value)}")
            key = tuple(str(item.get(k, "")).lower()
                        for k in ("type", "subscription_id", "resource_group", "name"))
            if key in seen:
                raise self.fail(f"{path}.name", f"duplicate of {list_key}[{seen[key]}]")
            seen[key] = index
            self.connections(item.get("connections", []), f"{path}.connections")

    def connections(self, connections: list[Any], path: str) -> None:
        seen: dict[str, int] = {}
        for index, connection in enumerate(connections):
            here = f"{path}[{index}]"
            self.mapping(connection, here, "connection")
            status = connection.get("status", "Pending")
            if status not in STATUSES:
                raise self.fail(f"{here}.status", f"{status!r} is not a status (one of {', '.join(STATUSES)})")
            endpoint = connection.get("private_endpoint_id")
            if endpoint is not None and not endpoint.lower().startswith("/subscriptions/"):
                raise self.fail(f"{here}.private_endpoint_id", "expected an ARM resource id (/subscriptions/...)")
            name = connection["name"].lower()
            if name in seen:
                raise self.fail(f"{here}.name", f"duplicate of {path}[{seen[name]}] (names compare "
                                                "case-insensitively)")
            seen[name] = index


def check_seed(seed: Any, source: str = "seed", known_types: Collection[str] | None = None) -> None:
    """Raise SeedError naming ``source`` and the key path of the first problem; None for a good seed."""
    _Checker(source, known_types).check(seed)
