# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""What each module does, independent of where it runs.

A module is its argument spec (the keyword arguments of ``AnsibleModule``) plus a task: a function
of the validated options and check mode that returns the work to do with a ``ConnectionService``.
The module files run it in a module process; the action plugins of the same names run it in the
controller's worker process when the task runs on the controller (plugins/plugin_utils/_controller.py).
Both paths therefore validate the same options and produce the same result.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from ansible_collections.privatelink.azure.plugins.module_utils._connections import (
    ConnectionService,
    filter_connections,
    validate_connection_name,
    validate_description,
    validate_private_endpoint_id,
    validate_status,
    validate_status_filter,
    validate_subscription_id,
)
from ansible_collections.privatelink.azure.plugins.module_utils import _policy
from ansible_collections.privatelink.azure.plugins.module_utils._auth import resolve_auth
from ansible_collections.privatelink.azure.plugins.module_utils._errors import CollectionError, ValidationError
from ansible_collections.privatelink.azure.plugins.module_utils._providers import known_types
from ansible_collections.privatelink.azure.plugins.module_utils._module import (
    ACCOUNT_ARGUMENT_SPEC,
    AUTH_MUTUALLY_EXCLUSIVE,
    RESOURCE_ARGUMENT_SPEC,
    WAIT_ARGUMENT_SPEC,
    argument_spec,
    connection_name,
    connection_service,
    policy_client,
    resource_service,
)

__all__ = ("CONNECTION", "CONNECTION_INFO", "ModuleDefinition", "POLICY", "RESOURCE_CONNECTION",
           "RESOURCE_CONNECTION_INFO")

Work = t.Callable[[ConnectionService], "dict[str, t.Any]"]


@dataclass(frozen=True)
class ModuleDefinition:
    name: str
    spec: dict[str, t.Any]  # keyword arguments of AnsibleModule
    task: t.Callable[[t.Mapping[str, t.Any], bool], Work]  # (params, check_mode) -> work
    service: t.Callable[[t.Mapping[str, t.Any]], t.Any]  # params -> the service the work uses; sends nothing


def _connection_task(params: t.Mapping[str, t.Any], check_mode: bool) -> Work:
    # Every option is checked here, before the service sends its first request.
    name = connection_name(params)
    status = validate_status(params["status"]) if params["state"] == "present" else None
    description = validate_description(params["description"])
    endpoint = params["private_endpoint_id"]
    if endpoint is not None:
        validate_private_endpoint_id(endpoint)

    def work(service: ConnectionService) -> dict[str, t.Any]:
        target = name
        if target is None:
            target = service.name_for_private_endpoint(endpoint, required=params["state"] == "present")
            if target is None:  # state=absent and no connection from this endpoint: already absent
                return {"changed": False, "connection": {}, "diff": {"before": {}, "after": {}}}
        options = {"check_mode": check_mode, "wait": params["wait"], "wait_timeout": params["wait_timeout"],
                   "operation_url": params["operation_url"]}
        if status is None:
            return service.remove(target, **options)
        return service.ensure(target, status, description, **options)

    return work


def _info_task(params: t.Mapping[str, t.Any], check_mode: bool) -> Work:  # pylint: disable=unused-argument
    statuses = validate_status_filter(params["status"])
    endpoint = params["private_endpoint_id"]
    if endpoint is not None:
        validate_private_endpoint_id(endpoint)
    endpoint_subscription = params["private_endpoint_subscription_id"]
    if endpoint_subscription is not None:
        validate_subscription_id(endpoint_subscription, "private_endpoint_subscription_id")
    name = validate_connection_name(params["name"]) if params["name"] is not None else None

    def work(service: ConnectionService) -> dict[str, t.Any]:
        if name is not None:
            found = service.get(name)
            connections = [found] if found else []
        else:
            connections = service.list()
        return {"changed": False, "connections": filter_connections(
            connections, statuses=statuses, private_endpoint_id=endpoint,
            private_endpoint_subscription_id=endpoint_subscription)}

    return work


# Status options take any case (the service's spelling comes back), so they are not 'choices'.
_CONNECTION_OPTIONS: dict[str, dict[str, t.Any]] = {
    "name": {"type": "str"},
    "private_endpoint_id": {"type": "str"},
    "status": {"type": "str"},
    "description": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
}
_INFO_OPTIONS: dict[str, dict[str, t.Any]] = {
    "name": {"type": "str"},
    "status": {"type": "list", "elements": "str"},
    "private_endpoint_id": {"type": "str"},
    "private_endpoint_subscription_id": {"type": "str"},
}

CONNECTION = ModuleDefinition(
    name="privatelink.azure.cosmosdb_private_endpoint_connection",
    spec={
        "argument_spec": argument_spec(ACCOUNT_ARGUMENT_SPEC, WAIT_ARGUMENT_SPEC, _CONNECTION_OPTIONS),
        "mutually_exclusive": [*AUTH_MUTUALLY_EXCLUSIVE, ("name", "private_endpoint_id")],
        "required_one_of": [("name", "private_endpoint_id")],
        "required_if": [("state", "present", ("status",))],
        "supports_check_mode": True,
    },
    task=_connection_task,
    service=connection_service,
)

CONNECTION_INFO = ModuleDefinition(
    name="privatelink.azure.cosmosdb_private_endpoint_connection_info",
    spec={
        "argument_spec": argument_spec(ACCOUNT_ARGUMENT_SPEC, _INFO_OPTIONS),
        "mutually_exclusive": AUTH_MUTUALLY_EXCLUSIVE,
        "supports_check_mode": True,
    },
    task=_info_task,
    service=connection_service,
)

RESOURCE_CONNECTION = ModuleDefinition(
    name="privatelink.azure.private_endpoint_connection",
    spec={
        "argument_spec": argument_spec(RESOURCE_ARGUMENT_SPEC, WAIT_ARGUMENT_SPEC, _CONNECTION_OPTIONS,
                                       {"id": {"type": "str"}}),
        "mutually_exclusive": [*AUTH_MUTUALLY_EXCLUSIVE, ("name", "private_endpoint_id"), ("id", "resource_id"),
                               ("id", "name"), ("id", "private_endpoint_id")],
        "required_one_of": [("id", "resource_id"), ("id", "name", "private_endpoint_id")],
        "required_if": [("state", "present", ("status",))],
        "supports_check_mode": True,
    },
    task=_connection_task,
    service=resource_service,
)

RESOURCE_CONNECTION_INFO = ModuleDefinition(
    name="privatelink.azure.private_endpoint_connection_info",
    spec={
        "argument_spec": argument_spec({**RESOURCE_ARGUMENT_SPEC, "resource_id": {"type": "str", "required": True}},
                                       _INFO_OPTIONS),
        "mutually_exclusive": AUTH_MUTUALLY_EXCLUSIVE,
        "supports_check_mode": True,
    },
    task=_info_task,
    service=resource_service,
)


class PolicyFailed(CollectionError):
    """Some writes of the policy failed; the result still carries every decision and the summary."""

    def __init__(self, msg: str, result: dict[str, t.Any]) -> None:
        super().__init__(msg)
        self.result = result

    def fail_fields(self) -> dict[str, t.Any]:
        return self.result


MAX_CONCURRENT_WRITES = 128  # as many as a run has threads (_estate.MAX_WORKERS)


def _policy_task(params: t.Mapping[str, t.Any], check_mode: bool) -> t.Callable[[t.Any], dict[str, t.Any]]:
    types = known_types()
    # A resource ID may start at /resourceGroups/: it is in the task's subscription (option, environment
    # or credentials file), as for the Cosmos DB modules.
    scope = _policy.validate_scope(params["scope"], types, resolve_auth(dict(params)).subscription_id)
    rules = _policy.validate_rules(params["rules"], types)
    concurrency = params["max_concurrent_writes"]
    if not 1 <= concurrency <= MAX_CONCURRENT_WRITES:
        raise ValidationError(f"max_concurrent_writes must be between 1 and {MAX_CONCURRENT_WRITES}, got {concurrency}")

    def work(client: t.Any) -> dict[str, t.Any]:
        # Only the policy module needs threads and discovery: the other modules do not import them.
        from ansible_collections.privatelink.azure.plugins.module_utils._estate import (  # pylint: disable=import-outside-toplevel
            Estate,
        )

        estate = Estate(client, scope, rules, discovery=params["discovery"], max_concurrent_writes=concurrency,
                        wait_timeout=params["wait_timeout"])
        decisions = estate.plan(estate.discover())
        if not check_mode:
            decisions = estate.apply(decisions)
        estate.stats.throttled = estate.pacer.throttled
        written = [decision for decision in decisions if decision.outcome in _policy.WRITE_OUTCOMES]
        result = {
            "changed": bool(written),
            "decisions": [decision.as_result() for decision in decisions],
            "summary": _policy.summarize(decisions),
            "stats": estate.stats.as_result(),
            "diff": [_policy.diff(decision) for decision in written],
        }
        failed = result["summary"]["failed"]
        if failed and params["fail_on_error"]:
            raise PolicyFailed(f"{failed} of {len(decisions)} connections failed; see decisions (outcome failed) "
                               "for each error and request id", result)
        return result

    return work


POLICY = ModuleDefinition(
    name="privatelink.azure.private_endpoint_connection_policy",
    spec={
        "argument_spec": argument_spec({
            "scope": {"type": "dict", "required": True},
            "rules": {"type": "list", "elements": "dict", "default": []},
            "discovery": {"type": "str", "choices": ["resource_graph", "arm"], "default": "resource_graph"},
            "max_concurrent_writes": {"type": "int", "default": 32},
            "wait_timeout": {"type": "int", "default": 900},
            "fail_on_error": {"type": "bool", "default": True},
        }),
        "mutually_exclusive": AUTH_MUTUALLY_EXCLUSIVE,
        "supports_check_mode": True,
    },
    task=_policy_task,
    service=policy_client,
)
