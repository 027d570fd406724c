# SPDX-License-Identifier: GPL-3.0-or-later
"""The real azure-identity 1.27 / MSAL credential classes obtain tokens from the emulator over verified
HTTPS, ARM accepts those tokens, and wrong credentials fail the way Entra ID fails them."""
from __future__ import annotations

import random
import warnings
from collections.abc import Iterator

import pytest
import requests
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    CertificateCredential,
    ClientSecretCredential,
    ManagedIdentityCredential,
    UsernamePasswordCredential,
    WorkloadIdentityCredential,
)
from emu_helpers import (
    CERT_APP,
    FEDERATED_APP,
    FEDERATED_TOKEN,
    MANAGEMENT_SCOPE,
    MI_CLIENT,
    PASSWORD,
    PENDING,
    SECRET,
    SECRET_APP,
    TENANT,
    USERNAME,
    Arm,
    ClientCertificate,
    build_seed,
)

from armemu import Emulator

AZURE_CLI_APP = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


def authority_kwargs(emu: Emulator) -> dict[str, object]:
    return {"authority": emu.base_url, "disable_instance_discovery": True}


def assert_arm_accepts(emu: Emulator, token: str) -> None:
    arm = Arm(emu, token)
    assert arm.get(arm.url(PENDING)).status_code == 200


def test_client_secret_credential(emu: Emulator) -> None:
    credential = ClientSecretCredential(TENANT, SECRET_APP, SECRET, **authority_kwargs(emu))
    token = credential.get_token(MANAGEMENT_SCOPE)
    assert token.token in emu.issued_tokens()
    assert token.expires_on > 3000 + __import__("time").time()
    assert_arm_accepts(emu, token.token)
    token_calls = emu.requests("token")
    assert token_calls[-1]["body"]["grant_type"] == "client_credentials"
    assert token_calls[-1]["body"]["scope"] == MANAGEMENT_SCOPE
    assert token_calls[-1]["body"]["client_secret"] == "<redacted>"
    assert emu.requests("instance_discovery") == []


def test_wrong_client_secret_is_refused_like_aad(emu: Emulator) -> None:
    response = requests.post(f"{emu.base_url}/{TENANT}/oauth2/v2.0/token", verify=emu.ca_file, timeout=10,
                             data={"grant_type": "client_credentials", "client_id": SECRET_APP,
                                   "client_secret": "wrong", "scope": MANAGEMENT_SCOPE})
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == "invalid_client"
    assert body["error_description"].startswith("AADSTS7000215: Invalid client secret provided.")
    assert body["error_codes"] == [7000215]
    assert body["trace_id"] and body["correlation_id"]
    credential = ClientSecretCredential(TENANT, SECRET_APP, "wrong", **authority_kwargs(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS7000215"):
        credential.get_token(MANAGEMENT_SCOPE)


@pytest.mark.parametrize(("tenant", "client_id", "error", "code"), [
    (TENANT, "99999999-9999-4999-8999-999999999999", "unauthorized_client", 700016),
    ("00000000-dead-4000-8000-000000000000", SECRET_APP, "invalid_request", 90002),
])
def test_unknown_client_or_tenant(emu: Emulator, tenant: str, client_id: str, error: str, code: int) -> None:
    response = requests.post(f"{emu.base_url}/{tenant}/oauth2/v2.0/token", verify=emu.ca_file, timeout=10,
                             data={"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": SECRET, "scope": MANAGEMENT_SCOPE})
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.json()["error_codes"] == [code]


def test_unknown_tenant_fails_discovery_for_the_real_credential(emu: Emulator) -> None:
    credential = ClientSecretCredential("00000000-dead-4000-8000-000000000000", SECRET_APP, SECRET,
                                        **authority_kwargs(emu))
    with pytest.raises(ClientAuthenticationError):
        credential.get_token(MANAGEMENT_SCOPE)


def test_scope_must_end_in_default(emu: Emulator) -> None:
    response = requests.post(f"{emu.base_url}/{TENANT}/oauth2/v2.0/token", verify=emu.ca_file, timeout=10,
                             data={"grant_type": "client_credentials", "client_id": SECRET_APP,
                                   "client_secret": SECRET, "scope": "https://management.azure.com/"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_certificate_credential_signs_an_assertion_the_emulator_verifies(
        emu: Emulator, client_cert: ClientCertificate) -> None:
    credential = CertificateCredential(TENANT, CERT_APP, client_cert.pem_path, **authority_kwargs(emu))
    token = credential.get_token(MANAGEMENT_SCOPE)
    assert_arm_accepts(emu, token.token)
    body = emu.requests("token")[-1]["body"]
    assert body["client_assertion"] == "<redacted>"
    assert body["client_assertion_type"] == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def test_certificate_credential_with_an_unregistered_key_is_refused(
        emu: Emulator, other_cert: ClientCertificate) -> None:
    credential = CertificateCredential(TENANT, CERT_APP, other_cert.pem_path, **authority_kwargs(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        credential.get_token(MANAGEMENT_SCOPE)


def test_workload_identity_credential_presents_the_federated_token(emu: Emulator, tmp_path) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text(FEDERATED_TOKEN)
    credential = WorkloadIdentityCredential(tenant_id=TENANT, client_id=FEDERATED_APP,
                                            token_file_path=str(token_file), **authority_kwargs(emu))
    assert_arm_accepts(emu, credential.get_token(MANAGEMENT_SCOPE).token)


def test_workload_identity_with_a_wrong_federated_token_is_refused(emu: Emulator, tmp_path) -> None:
    token_file = tmp_path / "federated-token"
    token_file.write_text("some.other.token")
    credential = WorkloadIdentityCredential(tenant_id=TENANT, client_id=FEDERATED_APP,
                                            token_file_path=str(token_file), **authority_kwargs(emu))
    with pytest.raises(ClientAuthenticationError, match="AADSTS70021"):
        credential.get_token(MANAGEMENT_SCOPE)


def test_app_with_secret_and_federated_credential_accepts_both(emu: Emulator, client_cert, tmp_path) -> None:
    seed = build_seed(client_cert.certificate_pem)
    seed["principals"].append({"tenant": TENANT, "client_id": SECRET_APP, "federated_token": FEDERATED_TOKEN})
    emu.seed(seed)
    token_file = tmp_path / "federated-token"
    token_file.write_text(FEDERATED_TOKEN)
    federated = WorkloadIdentityCredential(tenant_id=TENANT, client_id=SECRET_APP, token_file_path=str(token_file),
                                           **authority_kwargs(emu))
    secret = ClientSecretCredential(TENANT, SECRET_APP, SECRET, **authority_kwargs(emu))
    assert_arm_accepts(emu, federated.get_token(MANAGEMENT_SCOPE).token)
    assert_arm_accepts(emu, secret.get_token(MANAGEMENT_SCOPE).token)


@pytest.mark.parametrize("client_id", [None, MI_CLIENT])
def test_managed_identity_credential_uses_the_app_service_endpoint(
        emu: Emulator, monkeypatch: pytest.MonkeyPatch, client_id: str | None) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", emu.identity_header)
    credential = ManagedIdentityCredential(client_id=client_id) if client_id else ManagedIdentityCredential()
    token = credential.get_token(MANAGEMENT_SCOPE)
    assert_arm_accepts(emu, token.token)
    call = emu.requests("msi")[-1]
    assert call["query"]["resource"] == "https://management.azure.com"
    assert call["query"]["api-version"] == "2019-08-01"
    assert call["query"].get("client_id") == client_id
    assert call["request_headers"]["X-IDENTITY-HEADER"] == "<redacted>"


@pytest.mark.parametrize(("headers", "status"), [({}, 400), ({"X-IDENTITY-HEADER": "wrong"}, 401)])
def test_msi_endpoint_requires_the_identity_header(emu: Emulator, headers: dict[str, str], status: int) -> None:
    response = requests.get(emu.identity_endpoint, headers=headers, verify=emu.ca_file, timeout=10,
                            params={"resource": "https://management.azure.com", "api-version": "2019-08-01"})
    assert response.status_code == status
    assert response.json()["statusCode"] == status
    assert "access_token" not in response.json()


def test_msi_endpoint_refuses_an_unknown_user_assigned_identity(emu: Emulator, monkeypatch) -> None:
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", emu.identity_header)
    with pytest.raises(ClientAuthenticationError):
        ManagedIdentityCredential(client_id="55555555-5555-4555-8555-555555555555").get_token(MANAGEMENT_SCOPE)


def test_instance_discovery_is_served_and_logged(emu: Emulator) -> None:
    response = requests.get(f"{emu.base_url}/common/discovery/instance", verify=emu.ca_file, timeout=10,
                            params={"api-version": "1.1", "authorization_endpoint": "x"})
    assert response.status_code == 200
    assert "tenant_discovery_endpoint" in response.json()
    assert [r["path"] for r in emu.requests("instance_discovery")] == ["/common/discovery/instance"]


def test_openid_configuration_points_back_at_the_emulator(emu: Emulator) -> None:
    config = requests.get(f"{emu.base_url}/{TENANT}/v2.0/.well-known/openid-configuration", verify=emu.ca_file,
                          timeout=10).json()
    assert config["token_endpoint"] == f"{emu.base_url}/{TENANT}/oauth2/v2.0/token"
    assert config["issuer"] == f"{emu.base_url}/{TENANT}/v2.0"
    assert config["device_authorization_endpoint"].startswith(emu.base_url)


@pytest.fixture
def port_443_emulator(client_cert: ClientCertificate, monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """MSAL sends ROPC realm discovery to https://{authority host}/common/userrealm/... without the port
    (msal/authority.py user_realm_discovery), so ROPC only works with an authority on port 443. A random
    127.x.y.z address keeps parallel runs apart; needs the right to bind port 443 (root here)."""
    host = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    emulator = Emulator(seed=build_seed(client_cert.certificate_pem), host=host, port=443)
    try:
        emulator.start()
    except OSError as exc:
        pytest.skip(f"cannot listen on {host}:443 ({exc}); ROPC needs an authority on port 443")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)
    yield emulator
    emulator.stop()


def test_username_password_credential(port_443_emulator: Emulator) -> None:
    emu = port_443_emulator
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        credential = UsernamePasswordCredential(AZURE_CLI_APP, USERNAME, PASSWORD, tenant_id=TENANT,
                                                **authority_kwargs(emu))
        token = credential.get_token(MANAGEMENT_SCOPE)  # MSAL warns that ROPC is deprecated
    assert_arm_accepts(emu, token.token)
    realm = emu.requests("discovery")
    assert any(r["path"] == f"/common/userrealm/{USERNAME}" for r in realm)
    call = emu.requests("token")[-1]
    assert call["body"]["grant_type"] == "password"
    assert call["body"]["password"] == "<redacted>"


def test_wrong_password_is_refused_like_aad(emu: Emulator) -> None:
    response = requests.post(f"{emu.base_url}/{TENANT}/oauth2/v2.0/token", verify=emu.ca_file, timeout=10,
                             data={"grant_type": "password", "client_id": AZURE_CLI_APP, "username": USERNAME,
                                   "password": "nope", "scope": f"{MANAGEMENT_SCOPE} openid profile offline_access"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.json()["error_codes"] == [50126]


def test_token_echo_quotes_the_form_request_with_its_secret(emu: Emulator, tmp_path) -> None:
    """The misbehaving endpoint test_secrets.py needs: the secret and the assertion come back in the error."""
    emu.add_fault("token_echo", times=None)
    credential = ClientSecretCredential(TENANT, SECRET_APP, SECRET, **authority_kwargs(emu))
    with pytest.raises(ClientAuthenticationError) as raised:
        credential.get_token(MANAGEMENT_SCOPE)
    assert f"client_secret={SECRET}" in str(raised.value).splitlines()[0]
    token_file = tmp_path / "federated-token"
    token_file.write_text(FEDERATED_TOKEN)
    federated = WorkloadIdentityCredential(tenant_id=TENANT, client_id=FEDERATED_APP,
                                           token_file_path=str(token_file), **authority_kwargs(emu))
    with pytest.raises(ClientAuthenticationError) as raised:
        federated.get_token(MANAGEMENT_SCOPE)
    assert f"client_assertion={FEDERATED_TOKEN}" in str(raised.value)
    assert {call["status"] for call in emu.requests("token")} == {400}, "no token was issued"


def test_token_echo_on_the_msi_endpoint_quotes_the_identity_header(emu: Emulator) -> None:
    emu.add_fault("token_echo", kind="msi")
    response = requests.get(emu.identity_endpoint, headers={"X-IDENTITY-HEADER": emu.identity_header},
                            verify=emu.ca_file, timeout=10,
                            params={"resource": "https://management.azure.com", "api-version": "2019-08-01"})
    assert response.status_code == 400
    assert f"X-IDENTITY-HEADER: {emu.identity_header}" in response.json()["message"]
    assert "access_token" not in response.json()
