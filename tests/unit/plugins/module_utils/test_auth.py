# SPDX-License-Identifier: GPL-3.0-or-later
"""How options, environment and credentials file become one credential (``_auth``).

``resolve_auth`` is tested exhaustively and purely: every test passes its own environment and
home folder, so nothing on the test host leaks in. ``build_credential`` is tested by building
real azure-identity credentials; the ones that need a token service get it from the local
emulator (see the end of the file), the Azure CLI one from a stand-in ``az`` script.
"""

from __future__ import annotations

import datetime
import os
import random
import socket
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.privatelink.azure.plugins.module_utils._auth import (
    AUTH_ARGUMENT_SPEC,
    AuthConfigError,
    AuthLibraryError,
    AuthSettings,
    build_credential,
    resolve_auth,
)
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5e6f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
OTHER_CLIENT_ID = "0a0a0a0a-1b1b-2c2c-3d3d-4e4e4e4e4e4e"
SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
# Distinctive values, so that a leak into a message or repr is unmistakable.
SECRET = "Sup3r-SECRET-value~1"
PASSWORD = "Pa55-PASSWORD-value~2"
CERT_PASSWORD = "Cert-PASSWORD-value~3"
SECRETS = (SECRET, PASSWORD, CERT_PASSWORD)

AZCLI_USER_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


@pytest.fixture
def no_az(tmp_path: Path) -> str:
    """A PATH without the Azure CLI."""
    folder = tmp_path / "empty-bin"
    folder.mkdir()
    return str(folder)


@pytest.fixture
def resolve(home: Path, no_az: str):
    """resolve_auth with a clean environment (no az on PATH) and a private home folder."""

    def run(params: dict | None = None, **env: str) -> AuthSettings:
        full_env = {"PATH": no_az, "HOME": str(home), **env}
        return resolve_auth(dict(params or {}), full_env, home=str(home))

    return run


def write_credentials(home: Path, text: str, folder: str = ".azure") -> Path:
    path = home / folder / "credentials"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def make_az(folder: Path, script: str = "") -> Path:
    """A stand-in Azure CLI that records its arguments and prints a token."""
    folder.mkdir(parents=True, exist_ok=True)
    az = folder / "az"
    az.write_text("#!/bin/sh\n" + (script or textwrap.dedent(f"""\
        printf '%s\\n' "$@" > "{folder}/az-args"
        echo '{{"accessToken": "token-from-az-cli", "expires_on": 4102444800, "tokenType": "Bearer"}}'
        """)), encoding="utf-8")
    az.chmod(az.stat().st_mode | stat.S_IEXEC)
    return az


AWX_SP = {"AZURE_CLIENT_ID": CLIENT_ID, "AZURE_SECRET": SECRET, "AZURE_TENANT": TENANT}
IDENTITY_SP = {"AZURE_CLIENT_ID": OTHER_CLIENT_ID, "AZURE_CLIENT_SECRET": SECRET, "AZURE_TENANT_ID": TENANT}


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text


# ---------------------------------------------------------------------------------------------
# Module options

def test_options_service_principal_with_secret(resolve):
    settings = resolve({"client_id": CLIENT_ID, "secret": SECRET, "tenant": TENANT})
    assert settings.kind == "service_principal_secret"
    assert (settings.client_id, settings.tenant, settings.secret) == (CLIENT_ID, TENANT, SECRET)
    assert settings.source.startswith("module options")


def test_options_service_principal_with_certificate(resolve):
    settings = resolve({"client_id": CLIENT_ID, "x509_certificate_path": "/etc/sp.pem", "tenant": TENANT})
    assert settings.kind == "service_principal_certificate"
    assert settings.certificate_path == "/etc/sp.pem"
    assert settings.certificate_password is None


def test_options_user_password_defaults_to_azure_cli_app_and_organizations(resolve):
    settings = resolve({"ad_user": "ops@contoso.example", "password": PASSWORD})
    assert settings.kind == "user_password"
    assert (settings.username, settings.password) == ("ops@contoso.example", PASSWORD)
    assert settings.client_id == AZCLI_USER_CLIENT_ID
    assert settings.tenant == "organizations"


def test_options_user_password_with_tenant_and_app(resolve):
    settings = resolve({"ad_user": "ops@contoso.example", "password": PASSWORD,
                        "tenant": TENANT, "client_id": CLIENT_ID})
    assert (settings.tenant, settings.client_id) == (TENANT, CLIENT_ID)


@pytest.mark.parametrize("params, missing", [
    ({"client_id": CLIENT_ID, "secret": SECRET}, "tenant"),
    ({"secret": SECRET, "tenant": TENANT}, "client_id"),
    ({"secret": SECRET}, "client_id and tenant"),
    ({"x509_certificate_path": "/etc/sp.pem", "client_id": CLIENT_ID}, "tenant"),
    ({"ad_user": "ops@contoso.example"}, "password"),
    ({"password": PASSWORD}, "ad_user"),
])
def test_incomplete_options_are_an_error_naming_the_missing_option(resolve, params, missing):
    # Also with a complete credential in the environment: the options show what was meant.
    with pytest.raises(AuthConfigError, match=missing) as err:
        resolve(params, **AWX_SP)
    assert_no_secret(err.value.msg)


def test_two_kinds_of_credential_in_options_is_an_error(resolve):
    with pytest.raises(AuthConfigError, match="only one kind") as err:
        resolve({"client_id": CLIENT_ID, "tenant": TENANT, "secret": SECRET,
                 "x509_certificate_path": "/etc/sp.pem"})
    assert_no_secret(err.value.msg)


def test_options_win_over_environment(resolve):
    settings = resolve({"client_id": CLIENT_ID, "secret": SECRET, "tenant": TENANT},
                       AZURE_AD_USER="someone@contoso.example", AZURE_PASSWORD=PASSWORD)
    assert settings.kind == "service_principal_secret"
    assert settings.source.startswith("module options")


def test_empty_options_count_as_unset(resolve):
    settings = resolve({"client_id": "", "secret": "", "tenant": None, "ad_user": ""}, **AWX_SP)
    assert settings.source.startswith("environment (AWX names")


# ---------------------------------------------------------------------------------------------
# Environment

def test_awx_service_principal_names(resolve):
    settings = resolve(**AWX_SP, AZURE_SUBSCRIPTION_ID=SUBSCRIPTION)
    assert settings.kind == "service_principal_secret"
    assert (settings.client_id, settings.tenant, settings.secret) == (CLIENT_ID, TENANT, SECRET)
    assert settings.subscription_id == SUBSCRIPTION
    assert "AWX names" in settings.source


def test_awx_service_principal_is_not_taken_for_a_managed_identity(resolve):
    """The DefaultAzureCredential trap: AZURE_CLIENT_ID set by AWX next to a managed identity endpoint."""
    settings = resolve(**AWX_SP, IDENTITY_ENDPOINT="http://127.0.0.1:41741/msi/token",
                       IDENTITY_HEADER="header")
    assert settings.kind == "service_principal_secret"


def test_awx_user_password_names(resolve):
    settings = resolve(AZURE_AD_USER="ops@contoso.example", AZURE_PASSWORD=PASSWORD)
    assert settings.kind == "user_password"
    assert (settings.tenant, settings.client_id) == ("organizations", AZCLI_USER_CLIENT_ID)


def test_awx_user_password_with_optional_tenant_and_client_id(resolve):
    # AWX injects the unused fields of its credential as empty strings.
    settings = resolve(AZURE_AD_USER="ops@contoso.example", AZURE_PASSWORD=PASSWORD,
                       AZURE_TENANT=TENANT, AZURE_CLIENT_ID=CLIENT_ID, AZURE_SECRET="")
    assert settings.kind == "user_password"
    assert (settings.tenant, settings.client_id) == (TENANT, CLIENT_ID)


def test_azure_identity_secret_names(resolve):
    settings = resolve(**IDENTITY_SP)
    assert settings.kind == "service_principal_secret"
    assert (settings.client_id, settings.tenant, settings.secret) == (OTHER_CLIENT_ID, TENANT, SECRET)
    assert "azure-identity names" in settings.source


def test_azure_identity_certificate_names(resolve):
    settings = resolve(AZURE_CLIENT_ID=CLIENT_ID, AZURE_TENANT_ID=TENANT,
                       AZURE_CLIENT_CERTIFICATE_PATH="/run/sp.pfx",
                       AZURE_CLIENT_CERTIFICATE_PASSWORD=CERT_PASSWORD)
    assert settings.kind == "service_principal_certificate"
    assert (settings.certificate_path, settings.certificate_password) == ("/run/sp.pfx", CERT_PASSWORD)


def test_workload_identity_names(resolve):
    settings = resolve(AZURE_CLIENT_ID=CLIENT_ID, AZURE_TENANT_ID=TENANT,
                       AZURE_FEDERATED_TOKEN_FILE="/var/run/secrets/azure/tokens/azure-identity-token",
                       AZURE_AUTHORITY_HOST="https://login.microsoftonline.com/")
    assert settings.kind == "workload_identity"
    assert settings.token_file_path == "/var/run/secrets/azure/tokens/azure-identity-token"
    assert settings.authority_host == "https://login.microsoftonline.com"


def test_awx_names_win_over_azure_identity_names(resolve):
    settings = resolve(**{**IDENTITY_SP, **AWX_SP})
    assert "AWX names" in settings.source
    assert settings.client_id == CLIENT_ID


def test_complete_set_wins_over_a_partial_set_of_the_other_names(resolve):
    settings = resolve(**AWX_SP, AZURE_CLIENT_SECRET="leftover")
    assert "AWX names" in settings.source


@pytest.mark.parametrize("env, named", [
    ({"AZURE_CLIENT_ID": CLIENT_ID, "AZURE_SECRET": SECRET}, "AZURE_TENANT"),
    ({"AZURE_SECRET": SECRET, "AZURE_TENANT": TENANT}, "AZURE_CLIENT_ID"),
    ({"AZURE_AD_USER": "ops@contoso.example"}, "AZURE_PASSWORD"),
    ({"AZURE_PASSWORD": PASSWORD}, "AZURE_AD_USER"),
    ({"AZURE_CLIENT_ID": CLIENT_ID, "AZURE_CLIENT_SECRET": SECRET}, "AZURE_TENANT_ID"),
    ({"AZURE_CLIENT_CERTIFICATE_PATH": "/run/sp.pem", "AZURE_TENANT_ID": TENANT}, "AZURE_CLIENT_ID"),
    ({"AZURE_FEDERATED_TOKEN_FILE": "/run/token", "AZURE_CLIENT_ID": CLIENT_ID}, "AZURE_TENANT_ID"),
])
def test_partial_environment_set_is_an_error_naming_the_missing_variable(resolve, home, tmp_path, env, named):
    # Not silently replaced by a later source (here: a credentials file and the Azure CLI).
    write_credentials(home, f"""
        [default]
        client_id = {CLIENT_ID}
        secret = {SECRET}
        tenant = {TENANT}
        """)
    make_az(tmp_path / "bin")
    with pytest.raises(AuthConfigError, match=f"{named} (is|are) not") as err:
        resolve(**env, PATH=str(tmp_path / "bin"))
    assert "incomplete" in err.value.msg
    assert_no_secret(err.value.msg)


@pytest.mark.parametrize("env", [
    {"AZURE_CLIENT_ID": CLIENT_ID},
    {"AZURE_TENANT": TENANT, "AZURE_TENANT_ID": TENANT},
    {"AZURE_SECRET": "", "AZURE_CLIENT_ID": CLIENT_ID, "AZURE_TENANT": TENANT},
])
def test_ids_alone_or_empty_secrets_are_no_credential(resolve, env):
    with pytest.raises(AuthConfigError, match="no Azure credential found"):
        resolve(**env)


# ---------------------------------------------------------------------------------------------
# Credentials file

PROFILES = f"""
    [default]
    subscription_id = {SUBSCRIPTION}
    client_id = {CLIENT_ID}
    secret = {SECRET}
    tenant = {TENANT}
    cert_validation_mode = ignore

    [china]
    subscription_id = aaaaaaaa-0000-0000-0000-000000000001
    ad_user = ops@contoso.example
    password = {PASSWORD}
    cloud_environment = AzureChinaCloud

    [onprem]
    client_id = {OTHER_CLIENT_ID}
    secret = {SECRET}
    tenant = adfs
    adfs_authority_url = https://adfs.contoso.example/
    """


def test_default_profile(resolve, home):
    path = write_credentials(home, PROFILES)
    settings = resolve()
    assert settings.kind == "service_principal_secret"
    assert (settings.client_id, settings.tenant, settings.secret) == (CLIENT_ID, TENANT, SECRET)
    assert settings.subscription_id == SUBSCRIPTION
    assert settings.source == f"credential file profile 'default' ({path})"


def test_profile_option_user_password_and_its_cloud(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve({"profile": "china"})
    assert settings.kind == "user_password"
    assert settings.username == "ops@contoso.example"
    assert settings.subscription_id == "aaaaaaaa-0000-0000-0000-000000000001"
    assert settings.arm_endpoint == "https://management.chinacloudapi.cn"
    assert settings.authority_host == "https://login.chinacloudapi.cn"
    assert "AzureChinaCloud" in settings.source


def test_profile_from_azure_profile_variable(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve(AZURE_PROFILE="onprem")
    assert settings.client_id == OTHER_CLIENT_ID
    assert settings.authority_host == "https://adfs.contoso.example"
    assert settings.subscription_id is None


def test_profile_option_wins_over_azure_profile_and_environment(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve({"profile": "onprem"}, AZURE_PROFILE="china", **AWX_SP)
    assert settings.client_id == OTHER_CLIENT_ID
    assert "'onprem'" in settings.source


def test_environment_wins_over_default_profile(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve(**IDENTITY_SP)
    assert settings.client_id == OTHER_CLIENT_ID
    # The profile's subscription belongs to the profile's identity: not borrowed.
    assert settings.subscription_id is None


def test_subscription_option_wins_over_profile(resolve, home):
    write_credentials(home, PROFILES)
    assert resolve({"subscription_id": "s-option"}, AZURE_SUBSCRIPTION_ID="s-env").subscription_id == "s-option"
    assert resolve(AZURE_SUBSCRIPTION_ID="s-env").subscription_id == "s-env"


def test_azure_config_dir_moves_the_file(resolve, home, tmp_path):
    write_credentials(home, PROFILES)  # must be ignored
    moved = write_credentials(tmp_path / "elsewhere", f"""
        [default]
        client_id = {OTHER_CLIENT_ID}
        secret = {SECRET}
        tenant = {TENANT}
        """, folder="cfg")
    settings = resolve(AZURE_CONFIG_DIR=str(moved.parent))
    assert settings.client_id == OTHER_CLIENT_ID
    assert str(moved) in settings.source


@pytest.mark.parametrize("how", ["option", "variable", "credential_file"])
def test_missing_named_profile_is_an_error_listing_the_profiles(resolve, home, how):
    write_credentials(home, PROFILES)
    params, env = {}, {}
    if how == "option":
        params = {"profile": "prod"}
    elif how == "variable":
        env = {"AZURE_PROFILE": "prod"}
    else:
        params = {"profile": "prod", "auth_source": "credential_file"}
    with pytest.raises(AuthConfigError, match="profile 'prod' not found") as err:
        resolve(params, **env)
    assert "'default', 'china', 'onprem'" in err.value.msg
    assert_no_secret(err.value.msg)


def test_missing_file_is_an_error_only_when_asked_for(resolve, home):
    with pytest.raises(AuthConfigError, match="does not exist"):
        resolve({"profile": "prod"})
    with pytest.raises(AuthConfigError, match="does not exist"):
        resolve({"auth_source": "credential_file"})
    with pytest.raises(AuthConfigError, match="no Azure credential found"):
        resolve()


def test_file_without_default_profile_is_skipped_in_auto(resolve, home):
    write_credentials(home, "[other]\nclient_id = x\n")
    with pytest.raises(AuthConfigError, match="no Azure credential found"):
        resolve()


@pytest.mark.parametrize("body, match", [
    (f"[default]\nclient_id = {CLIENT_ID}\nsecret = {SECRET}\n", "has a secret but no tenant"),
    ("[default]\nad_user = a@b.example\n", "password is missing"),
    (f"[default]\npassword = {PASSWORD}\n", "ad_user is missing"),
    (f"[default]\nsubscription_id = {SUBSCRIPTION}\n", "has no credential"),
])
def test_incomplete_profile_is_an_error(resolve, home, body, match):
    write_credentials(home, body)
    with pytest.raises(AuthConfigError, match=match) as err:
        resolve()
    assert_no_secret(err.value.msg)


def test_unparsable_file_does_not_echo_its_lines(resolve, home):
    write_credentials(home, f"secret = {SECRET}\n[default]\n")
    with pytest.raises(AuthConfigError, match="not a valid INI file") as err:
        resolve()
    assert_no_secret(err.value.msg)


def test_unknown_cloud_in_profile(resolve, home):
    write_credentials(home, f"[default]\nclient_id = c\nsecret = {SECRET}\ntenant = t\n"
                            "cloud_environment = AzureGermanCloud\n")
    with pytest.raises(AuthConfigError, match="unknown cloud 'AzureGermanCloud'"):
        resolve()


# ---------------------------------------------------------------------------------------------
# Managed identity and Azure CLI

@pytest.mark.parametrize("variable", ["IDENTITY_ENDPOINT", "MSI_ENDPOINT"])
def test_managed_identity_endpoint_variables_select_managed_identity(resolve, variable):
    settings = resolve(**{variable: "http://127.0.0.1:41741/msi/token"}, AZURE_CLIENT_ID=CLIENT_ID)
    assert settings.kind == "managed_identity"
    assert settings.identity_endpoint_variable == variable
    # AZURE_CLIENT_ID may be a service principal's (AWX): only the option names an identity.
    assert settings.client_id is None


def test_managed_identity_user_assigned_client_id_option(resolve):
    settings = resolve({"client_id": CLIENT_ID}, IDENTITY_ENDPOINT="http://127.0.0.1:1/t")
    assert (settings.kind, settings.client_id) == ("managed_identity", CLIENT_ID)


def test_auto_never_selects_instance_metadata(resolve):
    with pytest.raises(AuthConfigError) as err:
        resolve()
    assert "auth_source=msi" in err.value.msg
    for tried in ("module options", "environment", "credentials file", "managed identity", "Azure CLI"):
        assert tried in err.value.msg


def test_msi_source_uses_instance_metadata_and_ignores_everything_else(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve({"auth_source": "msi", "client_id": CLIENT_ID}, **AWX_SP)
    assert settings.kind == "managed_identity"
    assert settings.identity_endpoint_variable is None
    assert settings.client_id == CLIENT_ID
    assert "instance metadata" in settings.source


def test_msi_source_prefers_a_local_endpoint(resolve):
    settings = resolve({"auth_source": "msi"}, MSI_ENDPOINT="http://127.0.0.1:1/t")
    assert settings.identity_endpoint_variable == "MSI_ENDPOINT"


def test_managed_identity_endpoint_wins_over_cli(resolve, tmp_path):
    make_az(tmp_path / "bin")
    settings = resolve(PATH=str(tmp_path / "bin"), IDENTITY_ENDPOINT="http://127.0.0.1:1/t")
    assert settings.kind == "managed_identity"


def test_cli_is_the_last_resort(resolve, tmp_path):
    make_az(tmp_path / "bin")
    settings = resolve({"tenant": TENANT}, PATH=f"{tmp_path / 'nothing'}{os.pathsep}{tmp_path / 'bin'}",
                       AZURE_SUBSCRIPTION_ID=SUBSCRIPTION)
    assert (settings.kind, settings.tenant, settings.subscription_id) == ("cli", TENANT, SUBSCRIPTION)


def test_cli_source_without_az_is_an_error(resolve):
    with pytest.raises(AuthConfigError, match="not on PATH"):
        resolve({"auth_source": "cli"}, **AWX_SP)


def test_cli_leaves_subscription_unset(resolve, tmp_path):
    make_az(tmp_path / "bin")
    assert resolve({"auth_source": "cli"}, PATH=str(tmp_path / "bin")).subscription_id is None


# ---------------------------------------------------------------------------------------------
# auth_source

def test_auth_source_from_environment(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve(ANSIBLE_AZURE_AUTH_SOURCE="credential_file", **AWX_SP)
    assert settings.source.startswith("credential file")


def test_auth_source_option_wins_over_environment(resolve, home):
    write_credentials(home, PROFILES)
    settings = resolve({"auth_source": "env"}, ANSIBLE_AZURE_AUTH_SOURCE="credential_file", **AWX_SP)
    assert "AWX names" in settings.source


def test_auth_source_env_ignores_options_and_file(resolve, home):
    write_credentials(home, PROFILES)
    with pytest.raises(AuthConfigError, match="auth_source=env but no Azure credential"):
        resolve({"auth_source": "env", "client_id": CLIENT_ID, "secret": SECRET, "tenant": TENANT})


def test_invalid_auth_source_variable(resolve):
    with pytest.raises(AuthConfigError, match="ANSIBLE_AZURE_AUTH_SOURCE.*'environment'"):
        resolve(ANSIBLE_AZURE_AUTH_SOURCE="environment")


# ---------------------------------------------------------------------------------------------
# Clouds and endpoints

def test_default_cloud(resolve):
    settings = resolve(**AWX_SP)
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.authority_host == "https://login.microsoftonline.com"
    assert settings.scope == "https://management.azure.com/.default"
    assert settings.disable_instance_discovery is False


@pytest.mark.parametrize("name, arm, authority", [
    ("AzureChinaCloud", "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
    ("AzureUSGovernment", "https://management.usgovcloudapi.net", "https://login.microsoftonline.us"),
    ("AzureCloud", "https://management.azure.com", "https://login.microsoftonline.com"),
])
def test_sovereign_clouds(resolve, name, arm, authority):
    for settings in (resolve({"cloud_environment": name}, **AWX_SP),
                     resolve(AZURE_CLOUD_ENVIRONMENT=name.lower(), **AWX_SP)):
        assert (settings.arm_endpoint, settings.authority_host, settings.scope) == (
            arm, authority, f"{arm}/.default")


def test_cloud_option_wins_over_variable(resolve):
    settings = resolve({"cloud_environment": "AzureUSGovernment"},
                       AZURE_CLOUD_ENVIRONMENT="AzureChinaCloud", **AWX_SP)
    assert settings.arm_endpoint == "https://management.usgovcloudapi.net"


def test_unknown_cloud_lists_the_choices(resolve):
    with pytest.raises(AuthConfigError) as err:
        resolve(AZURE_CLOUD_ENVIRONMENT="AzureStack", **AWX_SP)
    assert "AZURE_CLOUD_ENVIRONMENT" in err.value.msg
    assert "AzureCloud, AzureChinaCloud, AzureUSGovernment" in err.value.msg


def test_arm_endpoint_override_sets_its_own_scope(resolve):
    settings = resolve({"arm_endpoint": "https://127.0.0.1:8443/"}, **AWX_SP)
    assert settings.arm_endpoint == "https://127.0.0.1:8443"
    assert settings.scope == "https://127.0.0.1:8443/.default"
    # The sign-in host stays the cloud's unless overridden too.
    assert settings.authority_host == "https://login.microsoftonline.com"


def test_arm_endpoint_of_a_known_cloud_keeps_its_scope(resolve):
    settings = resolve({"arm_endpoint": "https://MANAGEMENT.usgovcloudapi.net/"}, **AWX_SP)
    assert settings.scope == "https://management.usgovcloudapi.net/.default"


def test_arm_endpoint_option_wins_over_variable(resolve):
    settings = resolve({"arm_endpoint": "https://arm.example"}, AZURE_ARM_ENDPOINT="https://other.example",
                       **AWX_SP)
    assert settings.arm_endpoint == "https://arm.example"
    assert resolve(AZURE_ARM_ENDPOINT="https://other.example/", **AWX_SP).arm_endpoint == "https://other.example"


@pytest.mark.parametrize("params, env, expected", [
    ({"authority_host": "https://login.example/"}, {"AZURE_AUTHORITY_HOST": "https://env.example"},
     "https://login.example"),
    ({"adfs_authority_url": "https://adfs.example"}, {"AZURE_AUTHORITY_HOST": "https://env.example"},
     "https://adfs.example"),
    ({}, {"AZURE_AUTHORITY_HOST": "https://env.example", "AZURE_ADFS_AUTHORITY_URL": "https://adfs.example"},
     "https://env.example"),
    ({}, {"AZURE_ADFS_AUTHORITY_URL": "https://adfs.example/adfs/"}, "https://adfs.example/adfs"),
])
def test_authority_host_precedence(resolve, params, env, expected):
    assert resolve(params, **env, **AWX_SP).authority_host == expected


@pytest.mark.parametrize("name", ["arm_endpoint", "authority_host"])
@pytest.mark.parametrize("value, match", [
    ("http://127.0.0.1:8080", "must be an https:// URL"),
    ("management.azure.com", "must be an https:// URL"),
    ("https://", "must be an https:// URL"),
    ("https://arm.example/?api-version=1", "query string or fragment"),
    ("https://arm.example/#x", "query string or fragment"),
    ("https://arm.example?", "query string or fragment"),
])
def test_endpoint_overrides_are_validated(resolve, name, value, match):
    with pytest.raises(AuthConfigError, match=f"{name} .*{match}"):
        resolve({name: value}, **AWX_SP)


def test_endpoint_with_credentials_is_refused_without_echoing_them(resolve):
    with pytest.raises(AuthConfigError, match="must not contain a user name or password") as err:
        resolve(AZURE_ARM_ENDPOINT=f"https://user:{PASSWORD}@arm.example", **AWX_SP)
    assert_no_secret(err.value.msg)


@pytest.mark.parametrize("value, expected", [
    ("true", True), ("TRUE", True), ("yes", True), ("Yes", True), ("1", True), (" true ", True),
    ("false", False), ("False", False), ("no", False), ("NO", False), ("0", False),
])
def test_disable_instance_discovery_variable_is_a_real_boolean(resolve, value, expected):
    settings = resolve(AZURE_DISABLE_INSTANCE_DISCOVERY=value, **AWX_SP)
    assert settings.disable_instance_discovery is expected


@pytest.mark.parametrize("value", ["on", "off", "2", "y", "enabled", "truthy"])
def test_disable_instance_discovery_variable_rejects_anything_else(resolve, value):
    with pytest.raises(AuthConfigError, match=f"AZURE_DISABLE_INSTANCE_DISCOVERY must be a boolean.*'{value}'"):
        resolve(AZURE_DISABLE_INSTANCE_DISCOVERY=value, **AWX_SP)


def test_disable_instance_discovery_option_wins_over_variable(resolve):
    assert resolve({"disable_instance_discovery": False}, AZURE_DISABLE_INSTANCE_DISCOVERY="true",
                   **AWX_SP).disable_instance_discovery is False
    assert resolve({"disable_instance_discovery": True}, AZURE_DISABLE_INSTANCE_DISCOVERY="false",
                   **AWX_SP).disable_instance_discovery is True


# ---------------------------------------------------------------------------------------------
# Secrets stay secret; the interface others rely on

def test_repr_and_str_show_no_credential_material(resolve):
    for settings in (
        resolve({"client_id": CLIENT_ID, "secret": SECRET, "tenant": TENANT}),
        resolve({"ad_user": "ops@contoso.example", "password": PASSWORD}),
        resolve(AZURE_CLIENT_ID=CLIENT_ID, AZURE_TENANT_ID=TENANT, AZURE_CLIENT_CERTIFICATE_PATH="/p.pfx",
                AZURE_CLIENT_CERTIFICATE_PASSWORD=CERT_PASSWORD),
    ):
        for text in (repr(settings), str(settings), settings.source):
            assert_no_secret(text)
            assert "ops@contoso.example" not in text
        assert settings.kind in repr(settings)


def test_settings_are_immutable(resolve):
    settings = resolve(**AWX_SP)
    with pytest.raises(AttributeError):
        settings.arm_endpoint = "https://evil.example"  # type: ignore[misc]


def test_auth_config_error_is_a_validation_error():
    assert issubclass(AuthConfigError, ValidationError)


def test_argument_spec_reads_no_credential_from_the_environment():
    with_fallback = {name for name, spec in AUTH_ARGUMENT_SPEC.items() if "fallback" in spec}
    assert with_fallback == {"subscription_id", "auth_source"}
    assert AUTH_ARGUMENT_SPEC["secret"]["no_log"] is True
    assert AUTH_ARGUMENT_SPEC["password"]["no_log"] is True
    # A default would hide the fallback (AnsibleModule applies defaults first).
    assert all("default" not in spec for spec in AUTH_ARGUMENT_SPEC.values())


def test_argument_spec_through_ansible_module_validation(monkeypatch):
    """The spec as AnsibleModule applies it: fallbacks, no_log values, aliases, choices."""
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    monkeypatch.setenv("AZURE_SUBSCRIPTION_ID", SUBSCRIPTION)
    monkeypatch.setenv("ANSIBLE_AZURE_AUTH_SOURCE", "env")
    result = ArgumentSpecValidator(AUTH_ARGUMENT_SPEC).validate(
        {"secret": SECRET, "adfs_authority_url": "https://adfs.example", "disable_instance_discovery": "yes"})
    assert result.errors.errors == []
    params = result.validated_parameters
    assert (params["subscription_id"], params["auth_source"]) == (SUBSCRIPTION, "env")
    assert params["authority_host"] == "https://adfs.example"
    assert params["disable_instance_discovery"] is True
    assert SECRET in result._no_log_values
    bad = ArgumentSpecValidator(AUTH_ARGUMENT_SPEC).validate({"cloud_environment": "AzureGermanCloud"})
    assert "cloud_environment" in bad.error_messages[0]


def test_importing_auth_does_not_import_azure_identity():
    code = ("import sys\n"
            "from ansible_collections.privatelink.azure.plugins.module_utils import _auth\n"
            "_auth.resolve_auth({'client_id': 'c', 'secret': 's', 'tenant': 't'}, {})\n"
            "print(sorted(m for m in sys.modules if m.startswith('azure')))\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------------------------------------
# build_credential without a token service

def settings_for(**overrides) -> AuthSettings:
    base = {
        "kind": "service_principal_secret", "subscription_id": SUBSCRIPTION, "tenant": TENANT,
        "client_id": CLIENT_ID, "arm_endpoint": "https://management.azure.com",
        "authority_host": "https://login.microsoftonline.com",
        "scope": "https://management.azure.com/.default", "disable_instance_discovery": False,
        "source": "test", "secret": SECRET,
    }
    return AuthSettings(**{**base, **overrides})


def test_missing_azure_identity_is_reported_clearly(monkeypatch):
    import azure  # the namespace package azure-core provides; azure-identity may be loaded already

    monkeypatch.delattr(azure, "identity", raising=False)
    monkeypatch.setitem(sys.modules, "azure.identity", None)  # makes the import fail
    with pytest.raises(AuthLibraryError, match=r"azure-identity.*>= 1\.15\.0.*pip install"):
        build_credential(settings_for())


def test_unreadable_certificate_is_a_config_error(tmp_path):
    settings = settings_for(kind="service_principal_certificate", secret=None,
                            certificate_path=str(tmp_path / "missing.pem"))
    with pytest.raises(AuthConfigError, match="missing.pem"):
        build_credential(settings)


def test_managed_identity_refuses_when_its_endpoint_variable_is_gone(monkeypatch):
    """Else ManagedIdentityCredential would silently go to the instance metadata service."""
    monkeypatch.delenv("IDENTITY_ENDPOINT", raising=False)
    settings = settings_for(kind="managed_identity", secret=None, client_id=None,
                            identity_endpoint_variable="IDENTITY_ENDPOINT")
    with pytest.raises(AuthConfigError, match="IDENTITY_ENDPOINT"):
        build_credential(settings)


def test_each_kind_builds_its_concrete_class(tmp_path, monkeypatch):
    monkeypatch.setenv("IDENTITY_ENDPOINT", "http://127.0.0.1:9/never-contacted")
    monkeypatch.setenv("IDENTITY_HEADER", "h")
    token_file = tmp_path / "token"
    token_file.write_text("jwt")
    cases = {
        "ClientSecretCredential": settings_for(),
        "UsernamePasswordCredential": settings_for(kind="user_password", secret=None,
                                                   username="u@contoso.example", password=PASSWORD),
        "WorkloadIdentityCredential": settings_for(kind="workload_identity", secret=None,
                                                   token_file_path=str(token_file)),
        "ManagedIdentityCredential": settings_for(kind="managed_identity", secret=None,
                                                  identity_endpoint_variable="IDENTITY_ENDPOINT"),
        "AzureCliCredential": settings_for(kind="cli", secret=None, client_id=None),
    }
    for name, settings in cases.items():
        assert type(build_credential(settings)).__name__ == name


def test_cli_credential_asks_az_for_the_settings_scope_and_tenant(resolve, tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    make_az(bin_dir)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + "/usr/bin:/bin")
    settings = resolve({"auth_source": "cli", "tenant": TENANT}, PATH=str(bin_dir))
    token = build_credential(settings).get_token(settings.scope)
    assert token.token == "token-from-az-cli"
    args = (bin_dir / "az-args").read_text().split()
    assert args[:2] == ["account", "get-access-token"]
    assert args[args.index("--resource") + 1] == "https://management.azure.com"
    assert args[args.index("--tenant") + 1] == TENANT


# ---------------------------------------------------------------------------------------------
# build_credential against the emulator: real credential classes, real HTTPS, real tokens.
# The emulator plays Microsoft Entra ID and the App Service identity endpoint; a socket guard
# fails any attempt to resolve or reach anything else.

CERT_CLIENT_ID = "c3c3c3c3-4d4d-5e5e-6f6f-707070707070"


def is_loopback(host: object) -> bool:
    return host in ("::1", "localhost") or str(host).startswith("127.")


@pytest.fixture
def outbound(monkeypatch) -> list[str]:
    """Every host name resolved or address connected to; anything but loopback is refused."""
    seen: list[str] = []
    real_getaddrinfo = socket.getaddrinfo
    real_connect = socket.socket.connect

    def guarded_getaddrinfo(host, *args, **kwargs):
        seen.append(str(host))
        if not is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: {host} is not the emulator")
        return real_getaddrinfo(host, *args, **kwargs)

    def guarded_connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            seen.append(str(address[0]))
            if not is_loopback(address[0]):
                raise OSError(f"test guard: connection to {address[0]} refused")
        return real_connect(sock, address)

    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    return seen


@pytest.fixture
def emu(emulator, monkeypatch, outbound):
    """The emulator, with a process environment that can only lead to it."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "IDENTITY_", "MSI_", "IMDS_", "ANSIBLE_AZURE")) or \
                name.lower() in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", emulator.ca_file)
    emulator.clear_requests()
    return emulator


def emulator_env(emu, home: Path, **extra: str) -> dict[str, str]:
    """What a user pointing the collection at the emulator sets, plus ``extra``."""
    return {"HOME": str(home), "PATH": "", "AZURE_ARM_ENDPOINT": emu.base_url,
            "AZURE_AUTHORITY_HOST": emu.base_url, "AZURE_DISABLE_INSTANCE_DISCOVERY": "true", **extra}


def token_for(settings: AuthSettings) -> str:
    return build_credential(settings).get_token(settings.scope).token


def list_connections(emu, token: str) -> requests.Response:
    from support import ACCOUNT, RESOURCE_GROUP, SUBSCRIPTION as SUB

    return requests.get(
        f"{emu.base_url}/subscriptions/{SUB}/resourceGroups/{RESOURCE_GROUP}/providers/Microsoft.DocumentDB/"
        f"databaseAccounts/{ACCOUNT}/privateEndpointConnections", params={"api-version": "2024-08-15"},
        headers={"Authorization": f"Bearer {token}"}, timeout=10)


def assert_only_emulator(emu, outbound: list[str]) -> None:
    assert emu.requests("instance_discovery") == []
    assert outbound and all(is_loopback(host) for host in outbound), outbound


def write_certificate(folder: Path, passphrase: str | None = None) -> tuple[Path, str]:
    """A self-signed RSA certificate and its key in one PEM file; returns (path, certificate PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "privatelink-azure-tests")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    encryption = (serialization.BestAvailableEncryption(passphrase.encode()) if passphrase
                  else serialization.NoEncryption())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption).decode()
    path = folder / "sp.pem"
    path.write_text(key_pem + cert_pem, encoding="utf-8")
    return path, cert_pem


def register_certificate(emu, cert_pem: str) -> None:
    from support import TENANT as EMU_TENANT, standard_seed

    seed = standard_seed()
    seed["principals"].append({"tenant": EMU_TENANT, "client_id": CERT_CLIENT_ID, "certificate_pem": cert_pem})
    emu.seed(seed)


def test_emulator_service_principal_secret_from_awx_names(emu, outbound, home):
    from support import CLIENT_ID as EMU_CLIENT, CLIENT_SECRET, SUBSCRIPTION as SUB, TENANT as EMU_TENANT

    settings = resolve_auth({}, emulator_env(emu, home, AZURE_CLIENT_ID=EMU_CLIENT, AZURE_SECRET=CLIENT_SECRET,
                                             AZURE_TENANT=EMU_TENANT, AZURE_SUBSCRIPTION_ID=SUB))
    assert settings.scope == f"{emu.base_url}/.default"
    token = token_for(settings)
    assert list_connections(emu, token).status_code == 200
    assert [r["path"] for r in emu.requests("token")] == [f"/{EMU_TENANT}/oauth2/v2.0/token"]
    assert_only_emulator(emu, outbound)


@pytest.mark.parametrize("passphrase", [None, CERT_PASSWORD])
def test_emulator_service_principal_certificate(emu, outbound, home, tmp_path, passphrase):
    from support import TENANT as EMU_TENANT

    path, cert_pem = write_certificate(tmp_path, passphrase)
    register_certificate(emu, cert_pem)
    if passphrase is None:  # as module options
        settings = resolve_auth({"client_id": CERT_CLIENT_ID, "tenant": EMU_TENANT,
                                 "x509_certificate_path": str(path)}, emulator_env(emu, home))
    else:  # a password-protected key goes through azure-identity's names
        settings = resolve_auth({}, emulator_env(
            emu, home, AZURE_CLIENT_ID=CERT_CLIENT_ID, AZURE_TENANT_ID=EMU_TENANT,
            AZURE_CLIENT_CERTIFICATE_PATH=str(path), AZURE_CLIENT_CERTIFICATE_PASSWORD=passphrase))
    assert settings.kind == "service_principal_certificate"
    assert list_connections(emu, token_for(settings)).status_code == 200
    assert_only_emulator(emu, outbound)


def test_emulator_certificate_not_registered_is_refused(emu, outbound, home, tmp_path):
    """The emulator really checks the signed assertion: a different key gets no token."""
    from azure.core.exceptions import ClientAuthenticationError
    from support import TENANT as EMU_TENANT

    register_certificate(emu, write_certificate(tmp_path)[1])
    other = tmp_path / "other"
    other.mkdir()
    path = write_certificate(other)[0]
    settings = resolve_auth({"client_id": CERT_CLIENT_ID, "tenant": EMU_TENANT,
                             "x509_certificate_path": str(path)}, emulator_env(emu, home))
    with pytest.raises(ClientAuthenticationError, match="AADSTS700027"):
        token_for(settings)


@pytest.fixture
def emu_443(emu, monkeypatch):
    """An emulator on port 443 of a random 127.x.y.z address, for the password flow.

    MSAL sends its user realm discovery to https://{authority host}/common/userrealm/... without
    the port, so that flow only works with an authority on port 443 (needs the right to bind it).
    """
    import armemu
    from support import standard_seed

    host = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
    server = armemu.Emulator(seed=standard_seed(), host=host, port=443)
    try:
        server.start()
    except OSError as err:
        pytest.skip(f"cannot listen on {host}:443 ({err}); the password flow needs an authority on port 443")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_file)
    yield server
    server.stop()


@pytest.mark.filterwarnings("ignore:This API has been deprecated:DeprecationWarning")
def test_emulator_user_password(emu_443, outbound, home):
    from support import PASSWORD as EMU_PASSWORD, TENANT as EMU_TENANT, USERNAME

    settings = resolve_auth({"ad_user": USERNAME, "password": EMU_PASSWORD, "tenant": EMU_TENANT},
                            emulator_env(emu_443, home))
    assert settings.kind == "user_password"
    assert list_connections(emu_443, token_for(settings)).status_code == 200
    assert [r["body"]["grant_type"] for r in emu_443.requests("token")] == ["password"]
    assert_only_emulator(emu_443, outbound)


def test_emulator_workload_identity(emu, outbound, home, tmp_path):
    from support import CLIENT_ID as EMU_CLIENT, FEDERATED_TOKEN, TENANT as EMU_TENANT

    token_file = tmp_path / "azure-identity-token"
    token_file.write_text(FEDERATED_TOKEN, encoding="utf-8")
    settings = resolve_auth({}, emulator_env(emu, home, AZURE_CLIENT_ID=EMU_CLIENT, AZURE_TENANT_ID=EMU_TENANT,
                                             AZURE_FEDERATED_TOKEN_FILE=str(token_file)))
    assert settings.kind == "workload_identity"
    assert list_connections(emu, token_for(settings)).status_code == 200
    assert_only_emulator(emu, outbound)


@pytest.mark.parametrize("user_assigned", [False, True])
def test_emulator_app_service_managed_identity(emu, outbound, home, monkeypatch, user_assigned):
    from support import CLIENT_ID as EMU_CLIENT

    # ManagedIdentityCredential reads these from the process environment, as on App Service.
    monkeypatch.setenv("IDENTITY_ENDPOINT", emu.identity_endpoint)
    monkeypatch.setenv("IDENTITY_HEADER", emu.identity_header)
    params = {"client_id": EMU_CLIENT} if user_assigned else {}
    settings = resolve_auth(params, emulator_env(emu, home, IDENTITY_ENDPOINT=emu.identity_endpoint,
                                                 IDENTITY_HEADER=emu.identity_header))
    assert settings.kind == "managed_identity"
    assert list_connections(emu, token_for(settings)).status_code == 200
    msi_calls = emu.requests("msi")
    assert len(msi_calls) == 1
    assert msi_calls[0]["query"].get("client_id") == (EMU_CLIENT if user_assigned else None)
    assert_only_emulator(emu, outbound)


def test_emulator_instance_discovery_is_what_the_flag_prevents(emu, outbound, home):
    """Without disable_instance_discovery, MSAL would ask Microsoft about the authority host."""
    from azure.core.exceptions import ClientAuthenticationError
    from support import CLIENT_ID as EMU_CLIENT, CLIENT_SECRET, TENANT as EMU_TENANT

    env = emulator_env(emu, home, AZURE_CLIENT_ID=EMU_CLIENT, AZURE_SECRET=CLIENT_SECRET, AZURE_TENANT=EMU_TENANT)
    env["AZURE_DISABLE_INSTANCE_DISCOVERY"] = "false"
    with pytest.raises(ClientAuthenticationError):
        token_for(resolve_auth({}, env))
    assert "login.microsoftonline.com" in outbound  # stopped by the guard, never sent
