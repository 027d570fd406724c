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

from ansible_collections.privatelink.azure.plugins.module_utils._cosmosdb import (
    ConnectionService,
    filter_connections,
    validate_connection_name,
    validate_private_endpoint_id,
    validate_status_filter,
    validate_subscription_id,
)
from ansible_collections.privatelink.azure.plugins.module_utils._module import (
    AUTH_MUTUALLY_EXCLUSIVE,
    WAIT_ARGUMENT_SPEC,
    argument_spec,
)

__all__ = ("CONNECTION", "CONNECTION_INFO", "ModuleDefinition")

Work = t.Callable[[ConnectionService], "dict[str, t.Any]"]


@dataclass(frozen=True)
class ModuleDefinition:
    name: str
    spec: dict[str, t.Any]  # keyword arguments of AnsibleModule
    task: t.Callable[[t.Mapping[str, t.Any], bool], Work]  # (params, check_mode) -> work


def _connection_task(params: t.Mapping[str, t.Any], check_mode: bool) -> Work:
    def work(service: ConnectionService) -> dict[str, t.Any]:
        if params["private_endpoint_id"] is not None:
            name = service.name_for_private_endpoint(params["private_endpoint_id"],
                                                     required=params["state"] == "present")
            if name is None:  # state=absent and no connection from this endpoint: already absent
                return {"changed": False, "connection": {}, "diff": {"before": {}, "after": {}}}
        else:
            name = validate_connection_name(params["name"])
        if params["state"] == "absent":
            return service.remove(name, check_mode=check_mode, wait=params["wait"],
                                  wait_timeout=params["wait_timeout"])
        return service.ensure(name, params["status"], params["description"], check_mode=check_mode,
                              wait=params["wait"], wait_timeout=params["wait_timeout"])

    return work


CONNECTION = ModuleDefinition(
    name="privatelink.azure.cosmosdb_private_endpoint_connection",
    spec={
        "argument_spec": argument_spec(WAIT_ARGUMENT_SPEC, {
            "name": {"type": "str"},
            "private_endpoint_id": {"type": "str"},
            "status": {"type": "str", "choices": ["Approved", "Rejected"]},
            "description": {"type": "str"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        }),
        "mutually_exclusive": [*AUTH_MUTUALLY_EXCLUSIVE, ("name", "private_endpoint_id")],
        "required_one_of": [("name", "private_endpoint_id")],
        "required_if": [("state", "present", ("status",))],
        "supports_check_mode": True,
    },
    task=_connection_task,
)


def _info_task(params: t.Mapping[str, t.Any], check_mode: bool) -> Work:  # pylint: disable=unused-argument
    def work(service: ConnectionService) -> dict[str, t.Any]:
        statuses = validate_status_filter(params["status"])
        endpoint = params["private_endpoint_id"]
        if endpoint is not None:
            validate_private_endpoint_id(endpoint)
        endpoint_subscription = params["private_endpoint_subscription_id"]
        if endpoint_subscription is not None:
            validate_subscription_id(endpoint_subscription, "private_endpoint_subscription_id")
        if params["name"] is not None:
            found = service.get(validate_connection_name(params["name"]))
            connections = [found] if found else []
        else:
            connections = service.list()
        return {"changed": False, "connections": filter_connections(
            connections, statuses=statuses, private_endpoint_id=endpoint,
            private_endpoint_subscription_id=endpoint_subscription)}

    return work


CONNECTION_INFO = ModuleDefinition(
    name="privatelink.azure.cosmosdb_private_endpoint_connection_info",
    spec={
        "argument_spec": argument_spec({
            "name": {"type": "str"},
            # Not 'choices': the status compares case-insensitively, as the service's does.
            "status": {"type": "list", "elements": "str"},
            "private_endpoint_id": {"type": "str"},
            "private_endpoint_subscription_id": {"type": "str"},
        }),
        "mutually_exclusive": AUTH_MUTUALLY_EXCLUSIVE,
        "supports_check_mode": True,
    },
    task=_info_task,
)
