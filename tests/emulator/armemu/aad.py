# SPDX-License-Identifier: GPL-3.0-or-later
"""Microsoft Entra ID (AAD) v2.0 endpoints, as far as the real azure-identity/MSAL credentials need them.

Served so that unmodified ``ClientSecretCredential``, ``CertificateCredential``,
``ClientAssertionCredential``/``WorkloadIdentityCredential`` and ``UsernamePasswordCredential`` (with
``authority=<emulator>`` and ``disable_instance_discovery=True``) and the App Service flavour of
``ManagedIdentityCredential`` (MSAL's ``_obtain_token_on_app_service``) obtain tokens over HTTPS:

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the OIDC document MSAL reads first.
- ``POST /{tenant}/oauth2/v2.0/token``: client_credentials (secret, certificate JWT assertion with
  RS256 or PS256 as MSAL signs it, federated assertion), password (ROPC) and refresh_token grants.
  Errors use AAD's shape: ``{"error", "error_description": "AADSTSnnnn: ...", "error_codes", ...}``.
- ``GET /common/userrealm/{user}``: MSAL's ROPC realm discovery; always a Managed account.
- ``GET /common/discovery/instance``: instance discovery, served only so a test that forgot
  ``disable_instance_discovery`` shows it in the log (kind "instance_discovery") instead of hanging.
- ``GET /msi/token``: App Service managed identity (api-version 2019-08-01, ``X-IDENTITY-HEADER``).

Tokens are random opaque strings remembered by the emulator; ARM accepts only those, unexpired, issued
for the management audience.
"""
from __future__ import annotations

import base64
import datetime
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from .faults import TOKEN_ECHO, FaultRule
from .state import State

AZURE_CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
MSI_API_VERSION = "2019-08-01"

Reply = tuple[int, Any, dict[str, str]]


def _b64url_decode(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def aad_error(status: int, error: str, code: int, message: str, correlation_id: str,
              base_url: str) -> Reply:
    """An AAD error response (shape of login.microsoftonline.com v2.0 token errors)."""
    trace_id = str(uuid.uuid4())
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    body = {
        "error": error,
        "error_description": (f"AADSTS{code}: {message} Trace ID: {trace_id} "
                              f"Correlation ID: {correlation_id} Timestamp: {stamp}"),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{base_url}/error?code={code}",
    }
    return status, body, {}


class Aad:
    """Token issuing logic; the HTTP layer passes parsed requests in and sends the replies out."""

    def __init__(self, state: State, base_url_getter: Any) -> None:
        self.state = state
        self._base_url = base_url_getter

    @property
    def base_url(self) -> str:
        return self._base_url()

    # ---- discovery --------------------------------------------------------------------------
    def _tenant_known(self, tenant: str) -> bool:
        if tenant.lower() in ("common", "organizations", "consumers"):
            return True
        with self.state.lock:
            return any(p.get("tenant", "").lower() == tenant.lower() for p in self.state.principals)

    def openid_configuration(self, tenant: str, correlation_id: str) -> Reply:
        if not self._tenant_known(tenant):
            return aad_error(400, "invalid_tenant", 90002,
                             f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                             "and are signing into the correct cloud.", correlation_id, self.base_url)
        base = f"{self.base_url}/{tenant}"
        return 200, {
            "token_endpoint": f"{base}/oauth2/v2.0/token",
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": f"{base}/discovery/v2.0/keys",
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": f"{base}/v2.0",
            "request_uri_parameter_supported": False,
            "userinfo_endpoint": f"{self.base_url}/oidc/userinfo",
            "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
            "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
            "http_logout_supported": True,
            "frontchannel_logout_supported": True,
            "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "tid", "oid", "preferred_username"],
            "tenant_region_scope": "NA",
            "cloud_instance_name": "microsoftonline.com",
            "cloud_graph_host_name": "graph.windows.net",
            "msgraph_host": "graph.microsoft.com",
        }, {}

    def user_realm(self, username: str) -> Reply:
        domain = username.rpartition("@")[2]
        return 200, {"ver": "1.0", "account_type": "Managed", "domain_name": domain,
                     "cloud_instance_name": "microsoftonline.com",
                     "cloud_audience_urn": "urn:federation:MicrosoftOnline"}, {}

    def instance_discovery(self) -> Reply:
        host = self.base_url.split("://", 1)[1]
        return 200, {"tenant_discovery_endpoint": f"{self.base_url}/{{tenant}}/v2.0/.well-known/openid-configuration",
                     "api-version": "1.1",
                     "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}]}, {}

    # ---- token endpoint ---------------------------------------------------------------------
    def token(self, tenant: str, form: dict[str, str], correlation_id: str, fault: FaultRule | None) -> Reply:
        def err(status: int, error: str, code: int, msg: str) -> Reply:
            return aad_error(status, error, code, msg, correlation_id, self.base_url)

        if fault is not None and fault.action == "token_error":
            return err(int(fault.params.get("status", 400)), fault.params.get("error", "invalid_request"),
                       int(fault.params.get("aadsts", 50000)),
                       fault.params.get("message", "There was an error issuing a token."))
        if fault is not None and fault.action == TOKEN_ECHO:
            # The whole form request, form-encoded as it was sent (secret or assertion included).
            return err(int(fault.params.get("status", 400)), fault.params.get("error", "invalid_request"),
                       int(fault.params.get("aadsts", 900144)),
                       f"The request could not be processed. Request body: {urlencode(form)}")
        if not self._tenant_known(tenant) or tenant.lower() in ("common", "consumers"):
            return err(400, "invalid_request", 90002,
                       f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are "
                       "signing into the correct cloud.")
        grant = form.get("grant_type", "")
        if grant == "refresh_token":
            return self._refresh(form, err, fault)
        resource, problem = self._resource_from_scope(form.get("scope", ""))
        if problem:
            return err(400, "invalid_scope", 1002012 if grant == "client_credentials" else 70011, problem)
        client_id = form.get("client_id", "")
        if grant == "client_credentials":
            principals = self._principals(tenant, client_id)
            if not principals:
                return err(400, "unauthorized_client", 700016,
                           f"Application with identifier '{client_id}' was not found in the directory "
                           f"'{tenant}'. This can happen if the application has not been installed by the "
                           "administrator of the tenant or consented to by any user in the tenant.")
            problem_reply = self._check_client_credential(principals, tenant, form, err)
            if problem_reply:
                return problem_reply
            return self._token_reply(resource, tenant, client_id, fault, user=None)
        if grant == "password":
            user = self._user(tenant, form.get("username", ""))
            if client_id != AZURE_CLI_CLIENT_ID and not self._principals(tenant, client_id):
                return err(400, "unauthorized_client", 700016,
                           f"Application with identifier '{client_id}' was not found in the directory '{tenant}'.")
            if user is None:
                return err(400, "invalid_grant", 50034,
                           "The user account {EUII Hidden} does not exist in the directory. To sign into this "
                           "application, the account must be added to the directory.")
            if form.get("password") != user.get("password"):
                return err(400, "invalid_grant", 50126,
                           "Error validating credentials due to invalid username or password.")
            return self._token_reply(resource, tenant, client_id, fault, user=user,
                                     scope=form.get("scope", ""))
        return err(400, "unsupported_grant_type", 70003,
                   f"The app requested an unsupported grant type '{grant}'.")

    def _resource_from_scope(self, scope: str) -> tuple[str, str | None]:
        scopes = [s for s in scope.split() if s not in OIDC_SCOPES]
        if len(scopes) != 1:
            return "", ("The provided request must include a 'scope' input parameter with exactly one resource "
                        f"scope; got '{scope}'.")
        if not scopes[0].endswith("/.default"):
            return "", (f"The provided value for scope {scopes[0]} is not valid. Client credential flows must "
                        "have a scope value with /.default suffixed to the resource identifier "
                        "(application ID URI).")
        return scopes[0][: -len("/.default")], None

    def _principals(self, tenant: str, client_id: str) -> list[dict[str, Any]]:
        """Every seeded credential of this application (an app may have a secret and a federated one)."""
        with self.state.lock:
            return [dict(p) for p in self.state.principals
                    if p.get("tenant", "").lower() == tenant.lower()
                    and p.get("client_id", "").lower() == client_id.lower() and "username" not in p]

    def _user(self, tenant: str, username: str) -> dict[str, Any] | None:
        with self.state.lock:
            for principal in self.state.principals:
                if (principal.get("username", "").lower() == username.lower() and username
                        and principal.get("tenant", "").lower() in (tenant.lower(), "")):
                    return dict(principal)
            if tenant.lower() == "organizations":
                return next((dict(p) for p in self.state.principals
                             if p.get("username", "").lower() == username.lower() and username), None)
        return None

    def _check_client_credential(self, principals: list[dict[str, Any]], tenant: str, form: dict[str, str],
                                 err: Any) -> Reply | None:
        client_id = principals[0]["client_id"]
        if "client_secret" in form:
            if not any("secret" in p and form["client_secret"] == p["secret"] for p in principals):
                return err(401, "invalid_client", 7000215,
                           "Invalid client secret provided. Ensure the secret being sent in the request is the "
                           f"client secret value, not the client secret ID, for a secret added to app '{client_id}'.")
            return None
        assertion = form.get("client_assertion")
        if assertion is None:
            return err(401, "invalid_client", 7000218,
                       "The request body must contain the following parameter: 'client_assertion' or "
                       "'client_secret'.")
        if form.get("client_assertion_type") != JWT_BEARER:
            return err(400, "invalid_request", 50027, "JWT token is invalid or malformed.")
        federated = [p["federated_token"] for p in principals if "federated_token" in p]
        certificates = [p["certificate_pem"] for p in principals if "certificate_pem" in p]
        if assertion in federated:
            return None
        problems = [verify_client_assertion(assertion, pem, client_id, tenant) for pem in certificates]
        if certificates and None in problems:
            return None
        if certificates:
            return err(401, "invalid_client", 700027,
                       f"Client assertion failed signature validation. {problems[0]}")
        if federated:
            return err(401, "invalid_client", 70021,
                       "No matching federated identity record found for presented assertion.")
        return err(401, "invalid_client", 700027,
                   f"The application '{client_id}' has no certificate or federated credential registered.")

    def _token_reply(self, resource: str, tenant: str, client_id: str, fault: FaultRule | None,
                     user: dict[str, Any] | None, scope: str = "") -> Reply:
        expired = fault is not None and fault.action == "token_expired"
        lifetime = -60.0 if expired else float(3599)
        expires_in = int(fault.params.get("expires_in", 0)) if expired and fault else 3599
        info = self.state.issue_token(resource, tenant, client_id, "aad", lifetime=lifetime)
        body: dict[str, Any] = {"token_type": "Bearer", "expires_in": expires_in, "ext_expires_in": expires_in,
                                "access_token": info.token}
        if user is not None:
            body["scope"] = f"{resource}/user_impersonation"
            body["refresh_token"] = self.state.issue_refresh_token(
                {"tenant": tenant, "client_id": client_id, "user": user["username"]})
            oid = str(uuid.uuid5(uuid.NAMESPACE_URL, user["username"].lower()))
            body["id_token"] = self._id_token(tenant, client_id, user["username"], oid)
            body["client_info"] = _b64url(json.dumps({"uid": oid, "utid": tenant}).encode())
        return 200, body, {}

    def _id_token(self, tenant: str, client_id: str, username: str, oid: str) -> str:
        now = int(time.time())
        claims = {"aud": client_id, "iss": f"{self.base_url}/{tenant}/v2.0", "iat": now, "nbf": now,
                  "exp": now + 3600, "name": username, "oid": oid, "preferred_username": username,
                  "sub": oid, "tid": tenant, "ver": "2.0"}
        header = {"typ": "JWT", "alg": "none"}
        # MSAL does not verify the id_token signature (it trusts the TLS channel), so none is needed.
        return f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}."

    def _refresh(self, form: dict[str, str], err: Any, fault: FaultRule | None) -> Reply:
        with self.state.lock:
            grant = self.state.refresh_tokens.get(form.get("refresh_token", ""))
        if grant is None:
            return err(400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.")
        resource, problem = self._resource_from_scope(form.get("scope", ""))
        if problem:
            return err(400, "invalid_scope", 70011, problem)
        user = self._user(grant["tenant"], grant["user"])
        return self._token_reply(resource, grant["tenant"], grant["client_id"], fault, user=user)

    # ---- App Service managed identity -------------------------------------------------------
    def msi_token(self, query: dict[str, str], identity_header: str | None, expected_header: str,
                  fault: FaultRule | None) -> Reply:
        correlation = str(uuid.uuid4())

        def msi_error(status: int, message: str) -> Reply:
            return status, {"statusCode": status, "message": message, "correlationId": correlation}, {}

        if fault is not None and fault.action == "token_error":
            return msi_error(int(fault.params.get("status", 500)),
                             fault.params.get("message", "An unexpected error occured while fetching the AAD Token."))
        if fault is not None and fault.action == TOKEN_ECHO:
            return msi_error(int(fault.params.get("status", 400)),
                             f"Cannot process GET /msi/token?{urlencode(query)} with headers "
                             f"X-IDENTITY-HEADER: {identity_header}")
        if identity_header is None:
            return msi_error(400, "The X-IDENTITY-HEADER header is missing from the request.")
        if identity_header != expected_header:
            return msi_error(401, "The X-IDENTITY-HEADER header value is invalid.")
        if query.get("api-version") != MSI_API_VERSION:
            return msi_error(400, f"The api-version '{query.get('api-version')}' is not supported; "
                                  f"use {MSI_API_VERSION}.")
        resource = query.get("resource")
        if not resource:
            return msi_error(400, "The 'resource' query parameter is required.")
        with self.state.lock:
            identity = dict(self.state.managed_identity or {})
        requested = query.get("client_id") or query.get("principal_id") or query.get("object_id")
        if not identity or (requested and requested.lower() != identity.get("client_id", "").lower()):
            return msi_error(400, "Unable to load the proper Managed Identity.")
        expired = fault is not None and fault.action == "token_expired"
        info = self.state.issue_token(resource, identity.get("tenant"), identity.get("client_id"), "msi",
                                      lifetime=-60.0 if expired else 3599.0)
        expires_on = int(info.expires_at) if expired else int(time.time()) + 3599
        return 200, {"access_token": info.token, "expires_on": str(expires_on), "resource": resource,
                     "token_type": "Bearer", "client_id": identity.get("client_id", "")}, {}


def verify_client_assertion(assertion: str, certificate_pem: str, client_id: str, tenant: str) -> str | None:
    """Check a client assertion JWT as AAD does; return a problem description or None when valid."""
    try:
        header_b64, payload_b64, signature_b64 = assertion.split(".")
        header = json.loads(_b64url_decode(header_b64))
        claims = json.loads(_b64url_decode(payload_b64))
        signature = _b64url_decode(signature_b64)
    except (ValueError, json.JSONDecodeError):
        return "The assertion is not a well-formed JWT."
    cert = x509.load_pem_x509_certificate(certificate_pem.encode())
    key = cert.public_key()
    signed = f"{header_b64}.{payload_b64}".encode()
    alg = header.get("alg")
    try:
        if alg == "RS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "PS256" and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, signed, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                      salt_length=padding.PSS.DIGEST_LENGTH), hashes.SHA256())
        elif alg == "ES256" and isinstance(key, ec.EllipticCurvePublicKey):
            from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

            half = len(signature) // 2
            der = encode_dss_signature(int.from_bytes(signature[:half], "big"),
                                       int.from_bytes(signature[half:], "big"))
            key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        else:
            return f"Unsupported signing algorithm '{alg}' for this certificate."
    except InvalidSignature:
        return "The signature does not match the registered certificate."
    now = time.time()
    if claims.get("iss") != client_id or claims.get("sub") != client_id:
        return "The iss and sub claims must be the client id."
    audience = str(claims.get("aud", ""))
    if not audience.lower().endswith(f"/{tenant.lower()}/oauth2/v2.0/token"):
        return f"The audience '{audience}' is not this tenant's token endpoint."
    if not isinstance(claims.get("exp"), (int, float)) or claims["exp"] < now - 300:
        return "The assertion has expired."
    return None
