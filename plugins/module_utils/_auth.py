# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Turn the authentication options and the environment into one azure-identity credential.

``resolve_auth`` is pure: it reads the options, an environment mapping and the credentials file,
decides which credential to use and where ARM and Microsoft Entra ID live, and raises
``AuthConfigError`` when that is impossible. It imports nothing from azure-identity and sends
nothing. ``build_credential`` then constructs the one concrete credential class chosen.

``DefaultAzureCredential`` and ``EnvironmentCredential`` are never used: with the variables that
the AWX / automation controller Azure credential injects, they take ``AZURE_CLIENT_ID`` for a
managed identity, and they would probe the instance metadata address. We map the names ourselves.
"""

from __future__ import annotations

import configparser
import os
import shutil
import sys
import typing as t
import warnings
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible.module_utils.common.parameters import env_fallback

from ansible_collections.privatelink.azure.plugins.module_utils import _redact
from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    CollectionError,
    ValidationError,
)

__all__ = (
    "AUTH_ARGUMENT_SPEC",
    "AUTH_MUTUALLY_EXCLUSIVE",
    "AUTH_SOURCES",
    "CLOUDS",
    "AuthConfigError",
    "AuthLibraryError",
    "AuthSettings",
    "build_credential",
    "resolve_auth",
)

AUTH_SOURCES = ("auto", "env", "credential_file", "cli", "msi")


@dataclass(frozen=True)
class Cloud:
    arm_endpoint: str
    authority_host: str
    # The ARM resource tokens are requested for, as azure.azcollection and the Azure SDK
    # management clients do (``resource_manager + ".default"``).
    scope: str


CLOUDS: dict[str, Cloud] = {
    "AzureCloud": Cloud(
        "https://management.azure.com", "https://login.microsoftonline.com",
        "https://management.azure.com/.default"),
    "AzureChinaCloud": Cloud(
        "https://management.chinacloudapi.cn", "https://login.chinacloudapi.cn",
        "https://management.chinacloudapi.cn/.default"),
    "AzureUSGovernment": Cloud(
        "https://management.usgovcloudapi.net", "https://login.microsoftonline.us",
        "https://management.usgovcloudapi.net/.default"),
}

# Azure CLI's public client id: what azure-identity and azure.azcollection use for a user
# signing in with a password when no application (client_id) is named.
USER_PASSWORD_DEFAULT_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"
# Tenant for a work or school account when none is given.
USER_PASSWORD_DEFAULT_TENANT = "organizations"

AUTH_ARGUMENT_SPEC: dict[str, dict[str, t.Any]] = {
    "subscription_id": {"type": "str", "fallback": (env_fallback, ["AZURE_SUBSCRIPTION_ID"])},
    # No default in the spec: AnsibleModule applies a default before a fallback, which would hide
    # the environment variable. None means 'auto'.
    "auth_source": {"type": "str", "choices": list(AUTH_SOURCES),
                    "fallback": (env_fallback, ["ANSIBLE_AZURE_AUTH_SOURCE"])},
    # Every other field is read from the environment by resolve_auth itself, so that module
    # options and environment variables never mix into one half-and-half credential.
    "profile": {"type": "str"},
    "client_id": {"type": "str"},
    "secret": {"type": "str", "no_log": True},
    "tenant": {"type": "str"},
    "x509_certificate_path": {"type": "path"},
    "ad_user": {"type": "str"},
    "password": {"type": "str", "no_log": True},
    "cloud_environment": {"type": "str", "choices": list(CLOUDS)},
    "arm_endpoint": {"type": "str"},
    "authority_host": {"type": "str", "aliases": ["adfs_authority_url"]},
    "disable_instance_discovery": {"type": "bool"},
}

# For AnsibleModule(mutually_exclusive=...): one kind of credential per task.
AUTH_MUTUALLY_EXCLUSIVE: list[list[str]] = [
    ["secret", "x509_certificate_path", "ad_user"],
]

_TRUE = ("true", "yes", "1")
_FALSE = ("false", "no", "0")


class AuthConfigError(ValidationError):
    """The options and environment do not describe a usable credential (nothing was sent)."""


class AuthLibraryError(CollectionError):
    """azure-identity is missing or too old on the host that runs the module."""


@dataclass(frozen=True)
class AuthSettings:
    """Everything needed to authenticate; ``repr()`` never shows credential material."""

    kind: str
    subscription_id: str | None
    tenant: str | None
    client_id: str | None
    arm_endpoint: str
    authority_host: str
    scope: str
    disable_instance_discovery: bool
    source: str
    # Private: the inputs of the chosen credential class.
    secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = field(default=None, repr=False)
    certificate_password: str | None = field(default=None, repr=False)
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    token_file_path: str | None = field(default=None, repr=False)
    # For managed identity: the variable that names the local identity endpoint
    # (IDENTITY_ENDPOINT or MSI_ENDPOINT), or None for the instance metadata service.
    identity_endpoint_variable: str | None = None


@dataclass(frozen=True)
class _Found:
    """A credential found in one source, before clouds and endpoints are applied."""

    kind: str
    source: str
    tenant: str | None = None
    client_id: str | None = None
    secret: str | None = None
    certificate_path: str | None = None
    certificate_password: str | None = None
    username: str | None = None
    password: str | None = None
    token_file_path: str | None = None
    identity_endpoint_variable: str | None = None
    # From a credentials file profile only.
    subscription_id: str | None = None
    cloud_environment: str | None = None
    authority_host: str | None = None


def _get(mapping: t.Mapping[str, t.Any], name: str) -> str | None:
    """A value, with empty strings treated as unset (AWX injects empty fields as '')."""
    value = mapping.get(name)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _parse_bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise AuthConfigError(
        f"{name} must be a boolean (true/false, yes/no, 1/0), got {value!r}")


def _https_url(value: str, name: str) -> str:
    """Validate an endpoint override and return it without a trailing slash."""
    parts = urlsplit(value.strip())
    if parts.username is not None or parts.password is not None:
        # Do not echo the value: it holds a user name or password.
        raise AuthConfigError(f"{name} must not contain a user name or password")
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise AuthConfigError(
            f"{name} must be an https:// URL (TLS is always verified), got {value!r}")
    if parts.query or parts.fragment or value.strip().endswith(("?", "#")):
        raise AuthConfigError(f"{name} must not have a query string or fragment, got {value!r}")
    return value.strip().rstrip("/")


def _cloud(name: str, where: str) -> tuple[str, Cloud]:
    for known, cloud in CLOUDS.items():
        if known.lower() == name.strip().lower():
            return known, cloud
    raise AuthConfigError(
        f"{where} names an unknown cloud {name!r}; choose one of {', '.join(CLOUDS)}"
        " (for any other cloud set arm_endpoint and authority_host)")


def _missing(names: t.Iterable[str], have: t.Callable[[str], str | None]) -> list[str]:
    return [name for name in names if not have(name)]


# ---------------------------------------------------------------------------------------------
# The sources, each returning a credential, None (nothing configured there) or raising
# AuthConfigError (configured, but incompletely).

def _from_options(params: t.Mapping[str, t.Any]) -> _Found | None:
    def opt(name: str) -> str | None:
        return _get(params, name)

    kinds = [name for name, present in (
        ("secret", opt("secret")),
        ("x509_certificate_path", opt("x509_certificate_path")),
        ("ad_user/password", opt("ad_user") or opt("password"))) if present]
    if len(kinds) > 1:
        raise AuthConfigError(
            f"only one kind of credential can be given as options, got {' and '.join(kinds)}")
    if opt("secret"):
        missing = _missing(("client_id", "tenant"), opt)
        if missing:
            raise AuthConfigError(
                f"the secret option needs {' and '.join(missing)} as options too")
        return _Found("service_principal_secret", "module options (client_id, secret, tenant)",
                      tenant=opt("tenant"), client_id=opt("client_id"), secret=opt("secret"))
    if opt("x509_certificate_path"):
        missing = _missing(("client_id", "tenant"), opt)
        if missing:
            raise AuthConfigError(
                f"the x509_certificate_path option needs {' and '.join(missing)} as options too")
        return _Found("service_principal_certificate",
                      "module options (client_id, x509_certificate_path, tenant)",
                      tenant=opt("tenant"), client_id=opt("client_id"),
                      certificate_path=opt("x509_certificate_path"))
    if opt("ad_user") or opt("password"):
        missing = _missing(("ad_user", "password"), opt)
        if missing:
            raise AuthConfigError(
                f"user sign-in needs both ad_user and password as options; {missing[0]} is missing")
        return _Found("user_password", "module options (ad_user, password)",
                      tenant=opt("tenant") or USER_PASSWORD_DEFAULT_TENANT,
                      client_id=opt("client_id") or USER_PASSWORD_DEFAULT_CLIENT_ID,
                      username=opt("ad_user"), password=opt("password"))
    return None


_Var = t.Callable[[str], t.Optional[str]]

# Credentials in the environment, in order of precedence: (label, variables that must all be set,
# variables whose presence shows that this kind was meant, how to build it).
_ENV_SETS: tuple[tuple[str, tuple[str, ...], tuple[str, ...], t.Callable[[_Var], _Found]], ...] = (
    ("AWX names", ("AZURE_CLIENT_ID", "AZURE_SECRET", "AZURE_TENANT"), ("AZURE_SECRET",),
     lambda var: _Found(
         "service_principal_secret",
         "environment (AWX names AZURE_CLIENT_ID, AZURE_SECRET, AZURE_TENANT)",
         tenant=var("AZURE_TENANT"), client_id=var("AZURE_CLIENT_ID"), secret=var("AZURE_SECRET"))),
    ("AWX names", ("AZURE_AD_USER", "AZURE_PASSWORD"), ("AZURE_AD_USER", "AZURE_PASSWORD"),
     lambda var: _Found(
         "user_password", "environment (AWX names AZURE_AD_USER, AZURE_PASSWORD)",
         tenant=var("AZURE_TENANT") or USER_PASSWORD_DEFAULT_TENANT,
         client_id=var("AZURE_CLIENT_ID") or USER_PASSWORD_DEFAULT_CLIENT_ID,
         username=var("AZURE_AD_USER"), password=var("AZURE_PASSWORD"))),
    ("azure-identity names", ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID"),
     ("AZURE_CLIENT_SECRET",),
     lambda var: _Found(
         "service_principal_secret",
         "environment (azure-identity names AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_TENANT_ID)",
         tenant=var("AZURE_TENANT_ID"), client_id=var("AZURE_CLIENT_ID"),
         secret=var("AZURE_CLIENT_SECRET"))),
    ("azure-identity names", ("AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PATH", "AZURE_TENANT_ID"),
     ("AZURE_CLIENT_CERTIFICATE_PATH",),
     lambda var: _Found(
         "service_principal_certificate",
         "environment (azure-identity names AZURE_CLIENT_ID, AZURE_CLIENT_CERTIFICATE_PATH, "
         "AZURE_TENANT_ID)",
         tenant=var("AZURE_TENANT_ID"), client_id=var("AZURE_CLIENT_ID"),
         certificate_path=var("AZURE_CLIENT_CERTIFICATE_PATH"),
         certificate_password=var("AZURE_CLIENT_CERTIFICATE_PASSWORD"))),
    ("workload identity", ("AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE", "AZURE_TENANT_ID"),
     ("AZURE_FEDERATED_TOKEN_FILE",),
     lambda var: _Found(
         "workload_identity",
         "environment (workload identity AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_FEDERATED_TOKEN_FILE)",
         tenant=var("AZURE_TENANT_ID"), client_id=var("AZURE_CLIENT_ID"),
         token_file_path=var("AZURE_FEDERATED_TOKEN_FILE"))),
)


def _from_env(env: t.Mapping[str, str]) -> _Found | None:
    def var(name: str) -> str | None:
        return _get(env, name)

    # The first complete set wins. A set that is only partly there is reported rather than
    # skipped: falling through to the next source would sign in as a different identity than
    # the one the user meant to configure.
    partial: list[str] = []
    for label, needed, signals, build in _ENV_SETS:
        present = [name for name in signals if var(name)]
        if not present:
            continue
        missing = _missing(needed, var)
        if not missing:
            return build(var)
        partial.append(f"{', '.join(present)} ({label}) is set but {', '.join(missing)} "
                       f"{'is' if len(missing) == 1 else 'are'} not")
    if partial:
        raise AuthConfigError(f"incomplete Azure credential in the environment: {'; '.join(partial)}")
    return None


def _credentials_file(env: t.Mapping[str, str], home: str | None) -> str:
    config_dir = _get(env, "AZURE_CONFIG_DIR")
    if config_dir:
        return os.path.join(os.path.expanduser(config_dir), "credentials")
    home = home or _get(env, "HOME") or os.path.expanduser("~")
    return os.path.join(home, ".azure", "credentials")


def _from_file(path: str, profile: str, required: bool) -> _Found | None:
    """Read one profile of the credentials file; None when absent and not ``required``."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        if required:
            raise AuthConfigError(
                f"credentials file {path} does not exist (profile {profile!r} was requested)") from None
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise AuthConfigError(f"cannot read credentials file {path}: {err}") from None
    except configparser.Error as err:
        # configparser messages quote lines of the file, which may hold a secret.
        raise AuthConfigError(
            f"credentials file {path} is not a valid INI file ({type(err).__name__})") from None
    if not parser.has_section(profile):
        if required:
            sections = ", ".join(repr(s) for s in parser.sections()) or "none"
            raise AuthConfigError(
                f"profile {profile!r} not found in credentials file {path} (profiles there: {sections})")
        return None

    section = parser[profile]

    def key(name: str) -> str | None:
        return _get(section, name)

    source = f"credential file profile {profile!r} ({path})"
    common = {"subscription_id": key("subscription_id"), "cloud_environment": key("cloud_environment"),
              "authority_host": key("adfs_authority_url")}
    # cert_validation_mode is ignored on purpose: TLS is always verified.
    if key("secret"):
        missing = _missing(("client_id", "tenant"), key)
        if missing:
            raise AuthConfigError(
                f"{source} has a secret but no {' and no '.join(missing)}")
        return _Found("service_principal_secret", source, tenant=key("tenant"),
                      client_id=key("client_id"), secret=key("secret"), **common)
    if key("ad_user") or key("password"):
        missing = _missing(("ad_user", "password"), key)
        if missing:
            raise AuthConfigError(f"{source} needs both ad_user and password; {missing[0]} is missing")
        return _Found("user_password", source,
                      tenant=key("tenant") or USER_PASSWORD_DEFAULT_TENANT,
                      client_id=key("client_id") or USER_PASSWORD_DEFAULT_CLIENT_ID,
                      username=key("ad_user"), password=key("password"), **common)
    raise AuthConfigError(
        f"{source} has no credential: it needs client_id, secret and tenant, or ad_user and password")


def _from_managed_identity(params: t.Mapping[str, t.Any], env: t.Mapping[str, str],
                           allow_imds: bool) -> _Found | None:
    # Only the client_id option names a user-assigned identity: AZURE_CLIENT_ID in the
    # environment is, under AWX, the service principal's id, not an identity's.
    client_id = _get(params, "client_id")
    for variable in ("IDENTITY_ENDPOINT", "MSI_ENDPOINT"):
        if _get(env, variable):
            return _Found("managed_identity", f"managed identity (endpoint from {variable})",
                          client_id=client_id, identity_endpoint_variable=variable)
    if allow_imds:
        return _Found("managed_identity", "managed identity (instance metadata service)",
                      client_id=client_id)
    return None


def _from_cli(params: t.Mapping[str, t.Any], env: t.Mapping[str, str], required: bool) -> _Found | None:
    if shutil.which("az", path=env.get("PATH", os.defpath)):
        return _Found("cli", "Azure CLI (az account get-access-token)", tenant=_get(params, "tenant"))
    if required:
        raise AuthConfigError("auth_source=cli but the Azure CLI (az) is not on PATH")
    return None


# ---------------------------------------------------------------------------------------------

def _choose(source: str, params: t.Mapping[str, t.Any], env: t.Mapping[str, str],
            home: str | None) -> _Found:
    profile_option = _get(params, "profile")
    profile = profile_option or _get(env, "AZURE_PROFILE")
    path = _credentials_file(env, home)

    if source == "env":
        found = _from_env(env)
        if found is None:
            raise AuthConfigError(
                "auth_source=env but no Azure credential is set in the environment: set "
                "AZURE_CLIENT_ID, AZURE_SECRET and AZURE_TENANT (AWX names), AZURE_AD_USER and "
                "AZURE_PASSWORD, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET and AZURE_TENANT_ID, "
                "AZURE_CLIENT_CERTIFICATE_PATH with AZURE_CLIENT_ID and AZURE_TENANT_ID, or "
                "AZURE_FEDERATED_TOKEN_FILE with AZURE_CLIENT_ID and AZURE_TENANT_ID")
        return found
    if source == "credential_file":
        return t.cast(_Found, _from_file(path, profile or "default", required=True))
    if source == "msi":
        return t.cast(_Found, _from_managed_identity(params, env, allow_imds=True))
    if source == "cli":
        return t.cast(_Found, _from_cli(params, env, required=True))

    # auto
    found = _from_options(params)
    if found is None and profile_option:
        # A profile named in the task is an explicit choice, so it wins over the environment.
        found = _from_file(path, profile_option, required=True)
    found = found or _from_env(env)
    if found is None:
        found = _from_file(path, profile or "default", required=bool(profile))
    found = found or _from_managed_identity(params, env, allow_imds=False)
    found = found or _from_cli(params, env, required=False)
    if found is None:
        raise AuthConfigError(
            "no Azure credential found (auth_source=auto). Tried, in order: module options "
            "(client_id+secret+tenant, client_id+x509_certificate_path+tenant, ad_user+password); "
            "environment (AZURE_CLIENT_ID+AZURE_SECRET+AZURE_TENANT, AZURE_AD_USER+AZURE_PASSWORD, "
            "AZURE_CLIENT_ID+AZURE_CLIENT_SECRET+AZURE_TENANT_ID, AZURE_CLIENT_CERTIFICATE_PATH, "
            f"AZURE_FEDERATED_TOKEN_FILE); credentials file {path} profile 'default'; managed "
            "identity (IDENTITY_ENDPOINT or MSI_ENDPOINT); Azure CLI (az on PATH). For a managed "
            "identity through the instance metadata service set auth_source=msi")
    return found


# Secret options and variables: remembered for redaction (module_utils/_redact.py) whichever
# credential is chosen, since an error or an echoing server may quote any of them.
SECRET_OPTIONS = ("secret", "password")
SECRET_VARIABLES = ("AZURE_SECRET", "AZURE_CLIENT_SECRET", "AZURE_PASSWORD", "AZURE_CLIENT_CERTIFICATE_PASSWORD",
                    "IDENTITY_HEADER", "MSI_SECRET")
# A federated token is a JWT of a few KiB; more than this is not one and is not read.
_TOKEN_FILE_LIMIT = 1 << 16


def _remember_federated_token(path: str | None) -> None:
    if not path:
        return
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            _redact.remember(handle.read(_TOKEN_FILE_LIMIT))
    except OSError:
        pass  # azure-identity reports an unreadable file when it signs in


def _remember_secrets(params: t.Mapping[str, t.Any], env: t.Mapping[str, str]) -> None:
    for value in (*(_get(params, name) for name in SECRET_OPTIONS), *(_get(env, name) for name in SECRET_VARIABLES)):
        _redact.remember(value)
    _remember_federated_token(_get(env, "AZURE_FEDERATED_TOKEN_FILE"))


def _remember_found(found: _Found) -> None:
    """The chosen credential's secrets, including those read from the credentials file."""
    for value in (found.secret, found.password, found.certificate_password):
        _redact.remember(value)
    _remember_federated_token(found.token_file_path)


def resolve_auth(params: dict[str, t.Any], env: t.Mapping[str, str] | None = None,
                 home: str | None = None) -> AuthSettings:
    """Decide, without any network access, how to authenticate and where ARM lives.

    ``params`` are the module options (missing keys count as unset); ``env`` the environment
    (default ``os.environ``); ``home`` the folder holding ``.azure/credentials`` (default ``$HOME``).
    Every secret among them is remembered for redaction (module_utils/_redact.py).
    """
    env = os.environ if env is None else env
    _remember_secrets(params, env)
    source = _get(params, "auth_source") or _get(env, "ANSIBLE_AZURE_AUTH_SOURCE") or "auto"
    if source not in AUTH_SOURCES:
        raise AuthConfigError(
            f"auth_source (or ANSIBLE_AZURE_AUTH_SOURCE) must be one of {', '.join(AUTH_SOURCES)}, "
            f"got {source!r}")

    found = _choose(source, params, env, home)
    _remember_found(found)

    # The cloud: option, environment (also set by the AWX credential), credentials file profile.
    if _get(params, "cloud_environment"):
        cloud_name, cloud = _cloud(t.cast(str, _get(params, "cloud_environment")), "cloud_environment")
    elif _get(env, "AZURE_CLOUD_ENVIRONMENT"):
        cloud_name, cloud = _cloud(t.cast(str, _get(env, "AZURE_CLOUD_ENVIRONMENT")),
                                   "AZURE_CLOUD_ENVIRONMENT")
    elif found.cloud_environment:
        cloud_name, cloud = _cloud(found.cloud_environment, f"cloud_environment in {found.source}")
    else:
        cloud_name, cloud = "AzureCloud", CLOUDS["AzureCloud"]

    arm_endpoint, scope = cloud.arm_endpoint, cloud.scope
    for value, name in ((_get(params, "arm_endpoint"), "arm_endpoint"),
                        (_get(env, "AZURE_ARM_ENDPOINT"), "AZURE_ARM_ENDPOINT")):
        if value:
            arm_endpoint = _https_url(value, name)
            known = [c for c in CLOUDS.values() if c.arm_endpoint.lower() == arm_endpoint.lower()]
            # A known cloud's ARM keeps its usual token audience; any other ARM (a private
            # cloud, a proxy, the test emulator) is asked for a token for its own URL.
            scope = known[0].scope if known else f"{arm_endpoint}/.default"
            break

    authority_host = cloud.authority_host
    for value, name in ((_get(params, "authority_host"), "authority_host"),
                        (_get(params, "adfs_authority_url"), "adfs_authority_url"),
                        (_get(env, "AZURE_AUTHORITY_HOST"), "AZURE_AUTHORITY_HOST"),
                        (_get(env, "AZURE_ADFS_AUTHORITY_URL"), "AZURE_ADFS_AUTHORITY_URL"),
                        (found.authority_host, f"adfs_authority_url in {found.source}")):
        if value:
            authority_host = _https_url(value, name)
            break

    option = params.get("disable_instance_discovery")
    if option is not None:
        disable_discovery = option if isinstance(option, bool) else _parse_bool(
            str(option), "disable_instance_discovery")
    elif _get(env, "AZURE_DISABLE_INSTANCE_DISCOVERY"):
        disable_discovery = _parse_bool(t.cast(str, _get(env, "AZURE_DISABLE_INSTANCE_DISCOVERY")),
                                        "AZURE_DISABLE_INSTANCE_DISCOVERY")
    else:
        disable_discovery = False

    subscription_id = (_get(params, "subscription_id") or _get(env, "AZURE_SUBSCRIPTION_ID")
                       or found.subscription_id)

    source_text = found.source
    if cloud_name != "AzureCloud":
        source_text = f"{source_text}, cloud {cloud_name}"

    return AuthSettings(
        kind=found.kind,
        subscription_id=subscription_id,
        tenant=found.tenant,
        client_id=found.client_id,
        arm_endpoint=arm_endpoint,
        authority_host=authority_host,
        scope=scope,
        disable_instance_discovery=disable_discovery,
        source=source_text,
        secret=found.secret,
        certificate_path=found.certificate_path,
        certificate_password=found.certificate_password,
        username=found.username,
        password=found.password,
        token_file_path=found.token_file_path,
        identity_endpoint_variable=found.identity_endpoint_variable,
    )


# ---------------------------------------------------------------------------------------------

def _identity_class(name: str) -> t.Any:
    """One credential class from azure-identity, imported only now.

    ``azure.identity`` imports every credential class in its ``__init__``, so importing a
    submodule costs the same; the public top-level name is the cheapest supported import.
    """
    try:
        from azure import identity  # pylint: disable=import-outside-toplevel
    except ImportError as err:
        raise AuthLibraryError(
            f"the azure-identity Python library (>= 1.15.0) is required to authenticate, but "
            f"{sys.executable} cannot import it ({err}); install it with "
            f"'{sys.executable} -m pip install \"azure-identity>=1.15.0\"'") from err
    try:
        return getattr(identity, name)
    except AttributeError:
        version = getattr(identity, "__version__", "unknown")
        raise AuthLibraryError(
            f"azure-identity {version} has no {name}; version 1.15.0 or later is required") from None


def build_credential(settings: AuthSettings) -> t.Any:
    """The azure-identity TokenCredential for ``settings``; constructing it sends nothing."""
    entra = {"authority": settings.authority_host,
             "disable_instance_discovery": settings.disable_instance_discovery}
    kind = settings.kind
    try:
        if kind == "service_principal_secret":
            return _identity_class("ClientSecretCredential")(
                settings.tenant, settings.client_id, settings.secret, **entra)
        if kind == "service_principal_certificate":
            return _identity_class("CertificateCredential")(
                settings.tenant, settings.client_id, settings.certificate_path,
                password=settings.certificate_password, **entra)
        if kind == "user_password":
            cls = _identity_class("UsernamePasswordCredential")
            with warnings.catch_warnings():
                # Deprecated upstream because it cannot do MFA; documented in the guide.
                warnings.simplefilter("ignore", DeprecationWarning)
                return cls(settings.client_id, settings.username, settings.password,
                           tenant_id=settings.tenant, **entra)
        if kind == "workload_identity":
            return _identity_class("WorkloadIdentityCredential")(
                tenant_id=settings.tenant, client_id=settings.client_id,
                token_file_path=settings.token_file_path, **entra)
        if kind == "managed_identity":
            variable = settings.identity_endpoint_variable
            # ManagedIdentityCredential reads the process environment itself; without the
            # endpoint variable it would go to the instance metadata service instead.
            if variable and not os.environ.get(variable):
                raise AuthConfigError(
                    f"managed identity was chosen because {variable} was set, but it is not set "
                    "in this process's environment")
            kwargs = {"client_id": settings.client_id} if settings.client_id else {}
            return _identity_class("ManagedIdentityCredential")(**kwargs)
        if kind == "cli":
            kwargs = {"tenant_id": settings.tenant} if settings.tenant else {}
            return _identity_class("AzureCliCredential")(**kwargs)
    except (OSError, ValueError) as err:
        # For example an unreadable or malformed certificate file, an invalid tenant id.
        # azure-identity's messages name parameters, never their values.
        raise AuthConfigError(f"cannot set up the {kind} credential from {settings.source}: {err}") from err
    raise AuthConfigError(f"unknown credential kind {kind!r}")
