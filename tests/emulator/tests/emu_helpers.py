# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared constants, seed and client helpers for the emulator's own tests."""
from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from armemu import Emulator

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
SUB = "6b1f5c2e-0000-4000-8000-00000000c0de"
RG = "rg-db"
ACCOUNT = "acct1"
SECRET_APP = "11111111-1111-4111-8111-111111111111"
CERT_APP = "22222222-2222-4222-8222-222222222222"
FEDERATED_APP = "33333333-3333-4333-8333-333333333333"
MI_CLIENT = "44444444-4444-4444-8444-444444444444"
SECRET = "s3cr3t~value"
FEDERATED_TOKEN = "eyJhbGciOiJSUzI1NiJ9.federated.token"
USERNAME = "user@example.com"
PASSWORD = "correct horse battery staple"
PENDING = "pe-app.0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
APPROVED = "pe-auto.11112222-3333-4444-5555-666677778888"
REJECTED = "pe-old.99998888-7777-6666-5555-444433332222"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"
API = {"api-version": "2024-08-15"}

# Variables that would make azure-identity look elsewhere (or at 169.254.169.254).
AZURE_ENV = ("AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
             "AZURE_FEDERATED_TOKEN_FILE", "AZURE_USERNAME", "AZURE_PASSWORD", "AZURE_AUTHORITY_HOST",
             "IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT",
             "MSI_ENDPOINT", "MSI_SECRET", "AZURE_POD_IDENTITY_AUTHORITY_HOST")


@dataclass(frozen=True)
class ClientCertificate:
    pem_path: str  # private key + certificate, as CertificateCredential reads it
    certificate_pem: str


def make_certificate(tmp_dir: str, name: str) -> ClientCertificate:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    path = os.path.join(tmp_dir, f"{name}.pem")
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(key_pem + cert_pem)
    return ClientCertificate(pem_path=path, certificate_pem=cert_pem)


def fetch_token(emulator: Emulator, client_id: str = SECRET_APP, secret: str = SECRET,
                scope: str = MANAGEMENT_SCOPE) -> str:
    """A token straight from the token endpoint (the credential classes are tested separately)."""
    response = requests.post(f"{emulator.base_url}/{TENANT}/oauth2/v2.0/token", verify=emulator.ca_file,
                             data={"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret, "scope": scope}, timeout=10)
    response.raise_for_status()
    return response.json()["access_token"]


class Arm:
    """A thin requests wrapper that speaks to the emulator as an ARM client would."""

    def __init__(self, emulator: Emulator, token: str) -> None:
        self.emulator = emulator
        self.session = requests.Session()
        self.session.verify = emulator.ca_file
        self.session.headers["Authorization"] = f"Bearer {token}"

    def url(self, name: str | None = None, account: str = ACCOUNT, rg: str = RG, sub: str = SUB) -> str:
        base = (f"{self.emulator.base_url}/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.DocumentDB"
                f"/databaseAccounts/{account}/privateEndpointConnections")
        return base if name is None else f"{base}/{name}"

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        # Per request: requests lets REQUESTS_CA_BUNDLE from the environment override Session.verify.
        kwargs.setdefault("verify", self.emulator.ca_file)
        if "api-version" not in url:
            kwargs.setdefault("params", API)
        return self.session.request(method, url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.request("GET", url, **kwargs)

    def put_state(self, name: str, status: str, description: str | None = None, **kwargs: Any) -> requests.Response:
        state: dict[str, Any] = {"status": status}
        if description is not None:
            state["description"] = description
        return self.request("PUT", self.url(name), json={"properties": {"privateLinkServiceConnectionState": state}},
                            **kwargs)

    def delete(self, name: str, **kwargs: Any) -> requests.Response:
        return self.request("DELETE", self.url(name), **kwargs)


def build_seed(certificate_pem: str) -> dict[str, Any]:
    return {
        "principals": [
            {"tenant": TENANT, "client_id": SECRET_APP, "secret": SECRET},
            {"tenant": TENANT, "client_id": CERT_APP, "certificate_pem": certificate_pem},
            {"tenant": TENANT, "client_id": FEDERATED_APP, "federated_token": FEDERATED_TOKEN},
            {"tenant": TENANT, "username": USERNAME, "password": PASSWORD},
        ],
        "managed_identity": {"client_id": MI_CLIENT},
        "resource_groups": [{"subscription_id": SUB, "name": "rg-empty"}],
        "accounts": [
            {"subscription_id": SUB, "resource_group": RG, "name": ACCOUNT, "location": "westus",
             "connections": [
                 {"name": PENDING, "private_endpoint_id":
                  f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-app",
                  "status": "Pending", "description": "please approve", "group_id": "Sql"},
                 {"name": APPROVED, "private_endpoint_id":
                  f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-auto",
                  "status": "Approved", "group_id": "Sql"},
                 {"name": REJECTED, "private_endpoint_id":
                  f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe-old",
                  "status": "Rejected", "description": "no", "group_id": "Sql"},
             ]},
        ],
    }
