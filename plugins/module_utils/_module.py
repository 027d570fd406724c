# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The glue between AnsibleModule and the collection's logic, shared by every module.

This is the one place where exceptions become a failed task's fields (``failure``), for
``fail_json`` here and for the action plugins' result (plugin_utils/_controller.py).
"""

from __future__ import annotations

import functools
import os
import traceback
import typing as t

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.privatelink.azure.plugins.module_utils import _arm, _redact
from ansible_collections.privatelink.azure.plugins.module_utils._auth import (
    AUTH_ARGUMENT_SPEC,
    AUTH_MUTUALLY_EXCLUSIVE,
    build_credential,
    resolve_auth,
)
from ansible_collections.privatelink.azure.plugins.module_utils._connections import (
    ConnectionService as ResourceConnectionService,
    validate_connection_name,
)
from ansible_collections.privatelink.azure.plugins.module_utils._cosmosdb import ConnectionService
from ansible_collections.privatelink.azure.plugins.module_utils._inflight import ConnectionLock
from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    CollectionError,
    ValidationError,
)
from ansible_collections.privatelink.azure.plugins.module_utils._providers import (
    parse_connection_id,
    parse_resource_id,
    provider_for,
)

__all__ = (
    "ACCOUNT_ARGUMENT_SPEC",
    "AUTH_MUTUALLY_EXCLUSIVE",  # re-exported for the modules' mutually_exclusive
    "REQUEST_ARGUMENT_SPEC",
    "RESOURCE_ARGUMENT_SPEC",
    "WAIT_ARGUMENT_SPEC",
    "arm_client",
    "argument_spec",
    "connection_service",
    "crash",
    "policy_client",
    "resource_service",
    "execute",
    "fail_from_error",
    "failure",
    "request_timeouts",
    "run_module",
)

ACCOUNT_ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "resource_group": {"type": "str", "required": True},
    "account_name": {"type": "str", "required": True},
}

# Shared by every module (documented in the azure_auth doc fragment): how long one ARM request may
# take to answer before it counts as failed and is retried like a dropped connection.
REQUEST_ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "request_timeout": {"type": "int", "default": 60},
}
CONNECT_TIMEOUT = 10

WAIT_ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "wait": {"type": "bool", "default": True},
    "wait_timeout": {"type": "int", "default": 900},
    "operation_url": {"type": "str"},
}

# The generic modules name the Private Link resource by its ARM ID.
RESOURCE_ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "resource_id": {"type": "str"},
    "api_version": {"type": "str"},
}


def argument_spec(*parts: dict[str, dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """The authentication and request options, plus the module's own."""
    spec: dict[str, dict[str, t.Any]] = {}
    for part in (AUTH_ARGUMENT_SPEC, REQUEST_ARGUMENT_SPEC, *parts):
        spec.update({name: dict(option) for name, option in part.items()})
    return spec


def failure(err: CollectionError) -> dict[str, t.Any]:
    """The fields of the failed task: the message, and the ARM error and request ids if any.

    Redacted: an error may quote what a server echoed, secrets included (module_utils/_redact.py).
    """
    return _redact.redact({"msg": err.msg, **err.fail_fields()})


def crash(name: str, err: BaseException) -> dict[str, t.Any]:
    """The fields of a task that failed on a bug of ours: the traceback, redacted, as both paths report it."""
    return _redact.redact({"msg": f"{name} failed unexpectedly: {type(err).__name__}: {err}",
                           "exception": traceback.format_exc()})


def _hide_secrets(module: t.Any) -> None:
    # AnsibleModule adds warnings, deprecations and the invocation after our redaction; its own
    # no_log masking then covers every secret this run knows too.
    module.no_log_values.update(_redact.secrets())


def fail_from_error(module: t.Any, err: CollectionError) -> t.NoReturn:
    _hide_secrets(module)
    module.fail_json(**failure(err))
    raise AssertionError("fail_json returned")  # pragma: no cover


def request_timeouts(read_timeout: t.Any) -> tuple[int, int]:
    """(connect, read) timeouts for requests from the request_timeout option."""
    if isinstance(read_timeout, bool) or not isinstance(read_timeout, int) or read_timeout < 1:
        raise ValidationError(f"request_timeout must be a whole number of seconds, at least 1, got {read_timeout!r}")
    # Connecting (TCP and TLS) keeps its own limit: a short request_timeout must not make a busy
    # controller's handshakes fail.
    return CONNECT_TIMEOUT, read_timeout


# One credential and one HTTP session per process and per authentication settings. A module
# process runs one task, so this changes nothing there; in the controller's worker process
# (plugins/plugin_utils/_controller.py) the items of one loop then share the token and the
# keep-alive connection instead of signing in and shaking hands again for every item. Memory only.
_CREDENTIALS: dict[t.Any, t.Any] = {}


def _credential(settings: t.Any) -> t.Any:
    # The environment is part of the key: credential classes read variables of their own
    # (IDENTITY_ENDPOINT, AZURE_FEDERATED_TOKEN_FILE...), and a task's 'environment' may change them.
    key = (settings, frozenset(os.environ.items()))
    credential = _CREDENTIALS.get(key)
    if credential is None:
        credential = _CREDENTIALS[key] = build_credential(settings)
    return credential


@functools.lru_cache(maxsize=1)
def _session() -> t.Any:
    # requests reads proxies and CA bundles from the environment for every request, so one
    # session serves every task of the process.
    return _arm.new_session()


def arm_client(params: t.Mapping[str, t.Any]) -> tuple[_arm.ArmClient, t.Any]:
    """The ARM client for the task's credentials, and the resolved settings; sends nothing."""
    settings = resolve_auth(dict(params))
    client = _arm.ArmClient(
        settings.arm_endpoint,
        _credential(settings),
        settings.scope,
        credential_source=settings.source,
        session=_session(),
        timeout=request_timeouts(params.get("request_timeout", 60)),
    )
    return client, settings


def connection_service(params: t.Mapping[str, t.Any]) -> ConnectionService:
    """The Cosmos DB account's service; validates every input, sends nothing."""
    settings = resolve_auth(dict(params))
    if not settings.subscription_id:
        raise ValidationError("subscription_id is required: set the option, the AZURE_SUBSCRIPTION_ID "
                              "environment variable, or subscription_id in the credentials file profile")
    service = ConnectionService(None, settings.subscription_id, params["resource_group"], params["account_name"],
                                lock_factory=ConnectionLock)
    service.client = arm_client(params)[0]
    return service


def resource_service(params: t.Mapping[str, t.Any]) -> ResourceConnectionService:
    """The service of the resource named by ``resource_id`` or by the connection's ``id``; sends nothing.

    An unknown resource type without ``api_version`` fails here, before any request.
    """
    if params.get("id"):
        resource, _name = parse_connection_id(params["id"])
    elif params.get("resource_id"):
        resource = parse_resource_id(params["resource_id"])
    else:
        raise ValidationError("one of resource_id or id is required")
    provider = provider_for(resource.resource_type, params.get("api_version"))
    return ResourceConnectionService(arm_client(params)[0], resource, provider, lock_factory=ConnectionLock)


def policy_client(params: t.Mapping[str, t.Any]) -> _arm.ArmClient:
    """A client of its own for the policy module: its session keeps a connection per concurrent request."""
    from ansible_collections.privatelink.azure.plugins.module_utils._estate import (  # pylint: disable=import-outside-toplevel
        MAX_WORKERS,
    )

    settings = resolve_auth(dict(params))
    return _arm.ArmClient(settings.arm_endpoint, _credential(settings), settings.scope,
                          credential_source=settings.source, session=_arm.new_session(pool_maxsize=MAX_WORKERS),
                          timeout=request_timeouts(params.get("request_timeout", 60)))


def connection_name(params: t.Mapping[str, t.Any]) -> str | None:
    """The connection the task names by ``id`` or ``name`` (None: it names a private endpoint instead)."""
    if params.get("id"):
        return validate_connection_name(parse_connection_id(params["id"])[1])
    if params.get("name") is not None:
        return validate_connection_name(params["name"])
    return None


def execute(definition: t.Any, params: t.Mapping[str, t.Any], *, check_mode: bool, diff: bool) -> dict[str, t.Any]:
    """Run a module's task (see _tasks) with validated options; raises CollectionError on failure."""
    result = definition.task(params, check_mode)(definition.service(params))
    if not diff:
        result.pop("diff", None)
    return result


def run_module(module: t.Any, definition: t.Any) -> t.NoReturn:
    """Run the module's task against the account named by its options and exit with its result."""
    if not _arm.HAS_REQUESTS:
        module.fail_json(msg=missing_required_lib("requests"), exception=str(_arm.REQUESTS_IMPORT_ERROR))
    try:
        result = execute(definition, module.params, check_mode=module.check_mode, diff=module._diff)
    except CollectionError as err:
        fail_from_error(module, err)
    except Exception as err:  # pylint: disable=broad-exception-caught
        # Not a bare traceback on stderr: it could quote a secret, and the controller path reports the same.
        _hide_secrets(module)
        module.fail_json(**crash(definition.name, err))
    _hide_secrets(module)
    module.exit_json(**_redact.redact(result))
    raise AssertionError("exit_json returned")  # pragma: no cover
