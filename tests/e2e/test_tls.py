# SPDX-License-Identifier: GPL-3.0-or-later
"""TLS: a certificate the controller does not trust is refused, with a message saying what to do,
before any credential or token is sent; and nothing, option or environment variable, turns
verification off.

A second emulator with its own throw-away CA plays the untrusted server. It must never log a single
HTTP request: the TLS handshake is refused first, so no secret and no token ever reaches it.
"""

from __future__ import annotations

import re
import typing as t
from pathlib import Path

import pytest
from playbook import run_ansible
from support import ACCOUNT, MODULE, RESOURCE_GROUP, awx_environment, standard_seed

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def untrusted():
    import armemu
    server = armemu.Emulator(seed=standard_seed(), op_duration=0.3)
    server.start()
    yield server
    server.stop()


def hosts_for(emu: t.Any, other: t.Any) -> dict[str, dict[str, str]]:
    """host -> the task environment (on top of the AWX credential pointed at the trusted emulator)."""
    return {
        "trusted": {},
        # The token comes from the trusted emulator; ARM is served with a certificate of another CA.
        "arm-untrusted": {"AZURE_ARM_ENDPOINT": other.base_url},
        # Sign-in itself goes to a server of another CA.
        "authority-untrusted": {"AZURE_AUTHORITY_HOST": other.base_url, "AZURE_ARM_ENDPOINT": other.base_url},
        # No private CA configured (the system's CAs do not know the emulator's), and every variable
        # that turns verification off somewhere else: still refused.
        "verification-off-variables": {
            "REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": "", "SSL_CERT_FILE": "", "PYTHONHTTPSVERIFY": "0",
            "AZURE_CLI_DISABLE_CONNECTION_VERIFICATION": "1", "ANSIBLE_AZURE_VALIDATE_CERTS": "false",
            "AZURE_CERT_VALIDATION_MODE": "ignore", "AZURE_AUTHORITY_HOST": other.base_url,
            "AZURE_ARM_ENDPOINT": other.base_url,
        },
    }


TASKS = [
    {"name": "approve", MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT,
                                 "name": "pe-pending.0001", "status": "Approved",
                                 # What azure.azcollection users try first: the option does not exist.
                                 "validate_certs": "{{ row_validate_certs | default(omit) }}"},
     "environment": "{{ row_env }}", "ignore_errors": True},
]


@pytest.fixture(scope="module")
def tls_run(emulator_server, untrusted, tmp_path_factory):
    emu = emulator_server
    emu.clear_faults()
    emu.configure(op_duration=0.3, dequeued_polls=0, retry_after=None)
    emu.seed(standard_seed())
    untrusted.clear_requests()
    hosts = {host: {"row_env": env} for host, env in hosts_for(emu, untrusted).items()}
    hosts["validate-certs-option"] = {"row_env": {"AZURE_ARM_ENDPOINT": untrusted.base_url},
                                      "row_validate_certs": False}
    proc, records = run_ansible(tmp_path_factory.mktemp("tls"), hosts, TASKS, awx_environment(emu),
                                forks=len(hosts))
    ran = records
    assert len(ran) == len(hosts), proc.stdout + proc.stderr
    # Records carry no host name: tell the rows apart by what each environment makes them do.
    return proc, ran, untrusted.requests(include_admin=False), untrusted


def by_message(records: list[dict[str, t.Any]], pattern: str) -> list[dict[str, t.Any]]:
    return [r["result"] for r in records if re.search(pattern, r["result"].get("msg", ""))]


def test_untrusted_servers_never_receive_a_request(tls_run):
    proc, records, untrusted_log, untrusted = tls_run
    assert untrusted_log == [], "the handshake was refused before any HTTP request (and any credential)"
    assert untrusted.issued_tokens() == []
    assert "Traceback" not in proc.stdout + proc.stderr


def test_the_trusted_control_row_works(tls_run):
    proc, records, _unused, _unused = tls_run
    ok = [r["result"] for r in records if not r["result"].get("failed")]
    assert len(ok) == 1 and ok[0]["connection"]["status"] == "Approved", "the harness itself works"


def test_an_untrusted_arm_endpoint_is_refused_with_a_clear_message(tls_run):
    proc, records, _unused, untrusted = tls_run
    netloc = untrusted.base_url.split("://", 1)[1]
    refused = by_message(records, rf"TLS certificate of {re.escape(netloc)} could not be verified")
    assert len(refused) == 1, [r["result"].get("msg") for r in records]  # arm-untrusted
    for result in refused:
        assert result["msg"].startswith("Reading connection 'pe-pending.0001' failed: ")
        assert "Verification is always on; for a private CA set REQUESTS_CA_BUNDLE" in result["msg"]
        assert not result.get("changed")


def test_an_untrusted_sign_in_server_is_refused_with_a_clear_message(tls_run):
    proc, records, _unused, _unused = tls_run
    refused = by_message(records, r"^Could not get an Azure access token from ")
    # authority-untrusted, verification-off-variables
    assert len(refused) == 2, [r["result"].get("msg") for r in records]
    for result in refused:
        assert re.search(r"certificate|CERTIFICATE_VERIFY_FAILED|TLS", result["msg"]), result["msg"]
        assert "REQUESTS_CA_BUNDLE" in result["msg"], result["msg"]


def test_there_is_no_validate_certs_option(tls_run):
    proc, records, _unused, _unused = tls_run
    refused = by_message(records, r"Unsupported parameters .*validate_certs")
    assert len(refused) == 1, [r["result"].get("msg") for r in records]


# -- the code itself: nothing that could turn verification off ------------------------------------------
INSECURE = re.compile(
    r"verify\s*=\s*(False|0|None)|\.verify\s*=|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context"
    r"|disable_warnings|InsecureRequestWarning|connection_verify|validate_certs|cert_reqs\s*=\s*['\"]?(CERT_)?NONE"
    r"|PYTHONHTTPSVERIFY|ssl_context\s*=")


def shipped_python() -> list[Path]:
    return sorted(p for p in (ROOT / "plugins").rglob("*.py") if "__pycache__" not in p.parts)


def test_no_code_path_disables_certificate_verification():
    files = shipped_python()
    assert len(files) >= 8, "the scan sees the collection's code"
    hits = []
    for path in files:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if INSECURE.search(line) and "no option to turn that off" not in line:
                hits.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert hits == []


def test_the_scan_would_find_an_insecure_line():
    for line in ("session.verify = False", "requests.get(url, verify=False)", "ctx.verify_mode = ssl.CERT_NONE",
                 "ctx.check_hostname = False", "urllib3.disable_warnings()", "connection_verify=False"):
        assert INSECURE.search(line), line


def test_the_client_session_verifies(emulator_server):
    from ansible_collections.privatelink.azure.plugins.module_utils._arm import (
        ArmClient,
    )
    client = ArmClient(emulator_server.base_url, object(), "https://management.azure.com/.default")
    assert client._session.verify is True
