# SPDX-License-Identifier: GPL-3.0-or-later
"""No secret in what a user or a log collector sees: -vvvv output, stderr and the returned JSON.

One ansible-playbook run at -vvvv takes every failure path at once, one host (an alias of localhost)
per path: token endpoint errors for each kind of credential, a wrong secret, a password sign-in that
cannot reach its realm, ARM 401 and expired tokens, throttling and gateway errors until the retries
run out, a proxy page that echoes the request headers (Authorization included), an operation that
fails or never ends, bad input and a missing connection, and a token endpoint that echoes the whole
request (client secret or federated assertion) in its error. Secrets reach the module the way they do in
production: from the process environment (AWX), from a file (workload identity), or as ``no_log``
options. Then every secret and every token the emulator issued is searched for, plain and
URL-encoded, in everything the run printed or returned.
"""

from __future__ import annotations

import json
import typing as t
from urllib.parse import quote, quote_plus

import pytest
from playbook import run_ansible
from support import (
    ACCOUNT,
    CLIENT_ID,
    CLIENT_SECRET,
    CONSUMER_SUB_A,
    FEDERATED_TOKEN,
    MODULE,
    PASSWORD,
    RESOURCE_GROUP,
    TENANT,
    USERNAME,
    awx_environment,
    endpoint_id,
    standard_seed,
)

TENANT_FEDERATED = "0f0f0f0f-1111-4222-8333-444444444444"
TENANT_EXPIRING = "0e0e0e0e-1111-4222-8333-444444444444"
# Tenants whose token endpoint quotes the request it refuses (fault token_echo).
TENANT_ECHO = "0d0d0d0d-1111-4222-8333-444444444444"
TENANT_ECHO_FEDERATED = "0c0c0c0c-1111-4222-8333-444444444444"
WRONG_SECRET = "wr0ng-Secret~Value.For_tests-3Zp"


def path_of(name: str) -> str:
    return f"/privateEndpointConnections/{name}"


# host -> (module arguments, task environment (never a secret: Ansible prints it at -vvv), faults)
PATHS: dict[str, tuple[dict[str, t.Any], dict[str, str], list[dict[str, t.Any]]]] = {
    "approved": ({}, {}, []),
    "arm-401": ({}, {}, [{"action": "status", "method": "GET", "status": 401, "code": "InvalidAuthenticationToken",
                          "times": None}]),
    "throttled": ({}, {}, [{"action": "status", "status": 429, "retry_after": 0, "times": None}]),
    "gateway": ({}, {}, [{"action": "status", "method": "GET", "status": 503, "retry_after": 0, "times": None}]),
    "proxy-echo-get": ({}, {}, [{"action": "html", "method": "GET", "status": 200, "echo_headers": True}]),
    "proxy-echo-put": ({}, {}, [{"action": "html", "status": 200, "echo_headers": True}]),
    "proxy-echo-502": ({}, {}, [{"action": "html", "method": "GET", "status": 502, "echo_headers": True,
                                 "times": None}]),
    "operation-failed": ({}, {}, [{"action": "operation_failed", "message": "Emulated failure"}]),
    "operation-never-ends": ({"wait_timeout": 1}, {}, [{"action": "operation_never_ends"}]),
    "bad-input": ({"name": "../../other"}, {}, []),
    "missing": ({"name": "sec-not-there.0001"}, {}, []),
    "wrong-secret": ({"client_id": CLIENT_ID, "secret": WRONG_SECRET, "tenant": TENANT}, {}, []),
    # MSAL's realm discovery goes to port 443, where nothing listens: the sign-in fails on the way.
    "password": ({"ad_user": USERNAME, "password": PASSWORD, "tenant": TENANT}, {}, []),
    "federated-token-error": ({}, {"AZURE_SECRET": "", "AZURE_TENANT": "", "AZURE_TENANT_ID": TENANT_FEDERATED},
                              [{"action": "token_error", "path_contains": TENANT_FEDERATED, "times": None,
                                "error": "invalid_client", "aadsts": 700024,
                                "message": "Client assertion is not within its valid time range."}]),
    "expired-token": ({}, {"AZURE_TENANT": TENANT_EXPIRING},
                      [{"action": "token_expired", "path_contains": TENANT_EXPIRING, "times": None}]),
    # A token endpoint (or a debugging proxy in front of it) that answers with the whole form request,
    # client secret or federated assertion included, in error_description.
    "echo-awx-secret": ({}, {"AZURE_TENANT": TENANT_ECHO},
                        [{"action": "token_echo", "path_contains": TENANT_ECHO, "times": None}]),
    "echo-federated-token": ({}, {"AZURE_SECRET": "", "AZURE_TENANT": "", "AZURE_TENANT_ID": TENANT_ECHO_FEDERATED},
                             [{"action": "token_echo", "path_contains": TENANT_ECHO_FEDERATED, "times": None}]),
    "managed-identity-error": ({"auth_source": "msi"}, {},
                               [{"action": "token_error", "kind": "msi", "status": 400, "times": None,
                                 "message": "Identity not found"}]),
}


def name_of(host: str) -> str:
    return f"sec-{host}.0001"


def seed() -> dict[str, t.Any]:
    world = standard_seed()
    world["principals"] += [
        {"tenant": TENANT_FEDERATED, "client_id": CLIENT_ID, "federated_token": FEDERATED_TOKEN},
        {"tenant": TENANT_EXPIRING, "client_id": CLIENT_ID, "secret": CLIENT_SECRET},
        {"tenant": TENANT_ECHO, "client_id": CLIENT_ID, "secret": CLIENT_SECRET},
        {"tenant": TENANT_ECHO_FEDERATED, "client_id": CLIENT_ID, "federated_token": FEDERATED_TOKEN},
    ]
    world["accounts"][0]["connections"] = [
        {"name": name_of(host), "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, f"pe-{host}"),
         "status": "Pending", "description": "", "group_id": "Sql"} for host in PATHS]
    return world


TASK = {
    "name": "every failure path",
    MODULE: {
        "resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "status": "Approved",
        "name": "{{ row.name }}", "wait_timeout": "{{ row.wait_timeout | default(900) }}",
        **{option: f"{{{{ row.{option} | default(omit) }}}}"
           for option in ("client_id", "secret", "tenant", "ad_user", "password", "auth_source")},
    },
    "environment": "{{ row_env }}",
    "ignore_errors": True,
}


@pytest.fixture(scope="module", params=["controller", "module-process"])
def verbose_run(request, emulator_server, tmp_path_factory):
    """Run twice: in the controller's process (the default for local tasks) and as module processes."""
    emu = emulator_server
    workdir = tmp_path_factory.mktemp("secrets")
    token_file = workdir / "federated-token"
    token_file.write_text(FEDERATED_TOKEN)
    emu.clear_faults()
    emu.configure(op_duration=0.3, dequeued_polls=0, retry_after=None)
    emu.seed(seed())
    emu.clear_requests()
    hosts = {}
    try:
        for host, (args, env, faults) in PATHS.items():
            for rule in faults:
                rule = dict(rule)
                if rule["action"] not in ("token_error", "token_expired", "token_echo"):
                    rule.setdefault("path_contains", path_of(name_of(host)))
                emu.add_fault(**rule)
            hosts[host] = {"privatelink_azure_run_on_controller": request.param == "controller",
                           "row": {"name": name_of(host), **args},
                           "row_env": {**env, **({"AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
                                                 if "AZURE_TENANT_ID" in env else {})}}
        env = {**awx_environment(emu), "IDENTITY_ENDPOINT": emu.identity_endpoint,
               "IDENTITY_HEADER": emu.identity_header}
        proc, records = run_ansible(workdir, hosts, [TASK], env, verbosity=4, forks=len(hosts))
    finally:
        emu.clear_faults()
    host_of = {hostvars["row"]["name"]: host for host, hostvars in hosts.items()}
    results = {host_of[record["result"]["invocation"]["module_args"]["name"]]: record["result"] for record in records}
    secrets = {
        "client secret": CLIENT_SECRET, "wrong client secret": WRONG_SECRET, "password": PASSWORD,
        "federated token": FEDERATED_TOKEN, "managed identity header": emu.identity_header,
        **{f"issued token {i}": token for i, token in enumerate(emu.issued_tokens())},
    }
    return proc, results, secrets, records


def test_every_failure_path_ran(verbose_run):
    proc, results, secrets, records = verbose_run
    assert len(records) == len(PATHS), proc.stdout[-3000:]
    failed = {host for host, result in results.items() if result.get("failed")}
    assert failed == set(PATHS) - {"approved"}, results
    assert any(name.startswith("issued token") for name in secrets), "the emulator issued tokens"
    assert len([n for n in secrets if n.startswith("issued token")]) >= 3, "incl. the expired ones"


def test_no_secret_in_output_or_results(verbose_run):
    proc, results, secrets, records = verbose_run
    seen = {"stdout": proc.stdout, "stderr": proc.stderr, "results": json.dumps(records)}
    # The scan can fail: -vvvv output does contain the run's details, e.g. every connection name.
    assert all(name_of(host) in proc.stdout for host in PATHS if host not in ("bad-input", "missing"))
    leaks = []
    for what, secret in secrets.items():
        for form in (secret, quote(secret, safe=""), quote_plus(secret)):
            for where, text in seen.items():
                if form in text:
                    leaks.append(f"{what} in {where}")
    assert leaks == []


def test_an_echoed_token_is_redacted_not_dropped(verbose_run):
    """The proxy's page still explains the failure; only the credential in it is replaced."""
    proc, results, secrets, records = verbose_run
    for host in ("proxy-echo-get", "proxy-echo-put", "proxy-echo-502"):
        msg = results[host]["msg"]
        assert "Authorization: Bearer <redacted>" in msg, msg


@pytest.mark.parametrize("host,quoted", [("echo-awx-secret", "client_secret=<redacted>"),
                                         ("echo-federated-token", "client_assertion=<redacted>")])
def test_an_echoed_form_request_is_redacted_not_dropped(verbose_run, host, quoted):
    """The token endpoint's answer still reaches the user (the scan above proves the secret does not)."""
    proc, results, secrets, records = verbose_run
    msg = results[host]["msg"]
    assert msg.startswith("Could not get an Azure access token from environment"), msg
    assert quoted in msg, msg


def test_library_warnings_do_not_reach_stderr(verbose_run):
    """On the controller, azure-identity's log warnings (which quote the token endpoint) go through Display."""
    proc, results, secrets, records = verbose_run
    assert "errantly sent data directly to stderr" not in proc.stderr, proc.stderr[-2000:]
    assert "get_token failed" not in proc.stderr


@pytest.mark.parametrize("mode", ["controller", "module-process"])
def test_an_echoing_managed_identity_endpoint_leaks_nothing(tmp_path, emulator, mode):
    """The App Service identity endpoint (or a proxy) quoting the identity header it was sent."""
    emulator.add_fault("token_echo", kind="msi", times=None)
    env = {"AZURE_SUBSCRIPTION_ID": awx_environment(emulator)["AZURE_SUBSCRIPTION_ID"],
           "AZURE_ARM_ENDPOINT": emulator.base_url, "REQUESTS_CA_BUNDLE": emulator.ca_file,
           "IDENTITY_ENDPOINT": emulator.identity_endpoint, "IDENTITY_HEADER": emulator.identity_header}
    task = {MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "name": "pe-pending.0001",
                     "status": "Approved", "auth_source": "msi"}, "ignore_errors": True}
    proc, records = run_ansible(tmp_path, {"localhost": {"privatelink_azure_run_on_controller": mode == "controller"}},
                                [task], env, verbosity=4)
    assert [record["status"] for record in records] == ["failed"], proc.stdout[-3000:]
    msg = records[0]["result"]["msg"]
    assert "X-IDENTITY-HEADER: <redacted>" in msg, msg
    assert emulator.requests("msi"), "the identity endpoint was asked"
    for where, text in {"stdout": proc.stdout, "stderr": proc.stderr, "results": json.dumps(records)}.items():
        assert emulator.identity_header not in text, where
