# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Documentation of the authentication options (``plugins/module_utils/_auth.py``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  subscription_id:
    description:
      - The Azure subscription that holds the Cosmos DB account.
      - If not set, the environment variable E(AZURE_SUBSCRIPTION_ID) is used, then the
        C(subscription_id) key of the credentials file profile when the credential itself comes
        from that file.
      - The Azure CLI's default subscription is not read; set this option when O(auth_source=cli).
    type: str
  auth_source:
    description:
      - Where to take the credential from.
      - V(auto) tries, in order, the module options, an explicitly named O(profile), the
        environment, the credentials file, a managed identity endpoint and the Azure CLI, and
        uses the first that is configured. See the notes for the exact rules.
      - V(env) uses only environment variables, V(credential_file) only the credentials file,
        V(cli) only the Azure CLI (C(az account get-access-token)), V(msi) only a managed
        identity.
      - If not set, the environment variable E(ANSIBLE_AZURE_AUTH_SOURCE) is used, else V(auto).
    type: str
    choices: [auto, env, credential_file, cli, msi]
  profile:
    description:
      - The section of the credentials file to use.
      - The file is C(~/.azure/credentials), or C(credentials) in the folder named by
        E(AZURE_CONFIG_DIR) (as for the Azure CLI).
      - If not set, the environment variable E(AZURE_PROFILE) is used, else V(default).
      - A profile named by this option is an error if it does not exist, and with
        O(auth_source=auto) it is used before the environment.
    type: str
  client_id:
    description:
      - The application (client) id of a service principal, used with O(secret) or
        O(x509_certificate_path) and O(tenant).
      - With O(ad_user), the public client application to sign in through (default the Azure
        CLI's).
      - For a managed identity, the client id of a user-assigned identity (default the
        system-assigned identity). E(AZURE_CLIENT_ID) is not used for that.
      - The environment variables with client ids are part of a credential set, see the notes.
    type: str
  secret:
    description:
      - The client secret of the service principal O(client_id) in O(tenant).
      - Never logged.
    type: str
  tenant:
    description:
      - The Microsoft Entra tenant (directory) id or domain.
      - Required with O(secret) and O(x509_certificate_path). Optional with O(ad_user)
        (default V(organizations)) and with the Azure CLI (default the CLI's tenant).
    type: str
  x509_certificate_path:
    description:
      - Path to a PEM (or PKCS#12) file with the certificate and unencrypted RSA private key of
        the service principal O(client_id) in O(tenant).
      - For a password-protected key, use the environment variables E(AZURE_CLIENT_CERTIFICATE_PATH)
        and E(AZURE_CLIENT_CERTIFICATE_PASSWORD) instead.
    type: path
  ad_user:
    description:
      - A Microsoft Entra user name, signed in with O(password) (resource owner password flow).
      - Works only for accounts without multi-factor authentication; prefer a service principal
        or a managed identity.
    type: str
  password:
    description:
      - The password of O(ad_user). Never logged.
    type: str
  cloud_environment:
    description:
      - The Azure cloud, which sets the ARM endpoint, the sign-in (authority) host and the token
        scope.
      - If not set, the environment variable E(AZURE_CLOUD_ENVIRONMENT) is used, then the
        C(cloud_environment) key of the credentials file profile in use, else V(AzureCloud).
      - For any other cloud, set O(arm_endpoint) and O(authority_host).
    type: str
    choices: [AzureCloud, AzureChinaCloud, AzureUSGovernment]
  arm_endpoint:
    description:
      - The Azure Resource Manager URL, overriding the one of O(cloud_environment).
      - Must be C(https://); a trailing slash is removed; no query string or fragment.
      - Tokens are requested for the scope C(<arm_endpoint>/.default), except for the ARM URL of
        a known cloud, which keeps that cloud's scope.
      - If not set, the environment variable E(AZURE_ARM_ENDPOINT) is used.
    type: str
  authority_host:
    description:
      - The Microsoft Entra ID (or AD FS) sign-in host, overriding the one of
        O(cloud_environment), for example V(https://login.microsoftonline.com).
      - Must be C(https://); a trailing slash is removed; no query string or fragment.
      - If not set, the environment variable E(AZURE_AUTHORITY_HOST) is used, then
        E(AZURE_ADFS_AUTHORITY_URL), then the C(adfs_authority_url) key of the credentials file
        profile in use.
    type: str
    aliases: [adfs_authority_url]
  disable_instance_discovery:
    description:
      - Skip Microsoft Entra instance discovery and authority validation, which is needed for an
        authority host Microsoft does not know (Azure Stack Hub, AD FS, a private cloud, a test
        emulator). Only set this for an authority host you trust.
      - If not set, the environment variable E(AZURE_DISABLE_INSTANCE_DISCOVERY) is used; it must
        be one of V(true), V(false), V(yes), V(no), V(1), V(0) (any case), anything else is an
        error. The default is V(false).
      - Not used by O(auth_source=cli) or managed identities.
    type: bool
  request_timeout:
    description:
      - How many seconds to wait for Azure Resource Manager to answer one request once connected
        (connecting itself is limited to 10 seconds).
      - A request that takes longer counts as a dropped connection and is retried like one, within
        the module's retry limits (4 retries, 90 seconds of waiting in total).
      - Does not limit a long-running operation; that is C(wait_timeout) where the module has it.
    type: int
    default: 60
    version_added: 0.1.0
requirements:
  - azure-identity >= 1.15.0
  - requests
notes:
  - >-
    With O(auth_source=auto) the first configured source wins, in this order. (1) Module options:
    O(client_id), O(secret) and O(tenant) (service principal with a secret); O(client_id),
    O(x509_certificate_path) and O(tenant) (service principal with a certificate); O(ad_user) and
    O(password), optionally with O(tenant) and O(client_id). (2) The credentials file profile named
    by the O(profile) option. (3) The environment, first the names of the AWX / automation
    controller C(Microsoft Azure Resource Manager) credential: E(AZURE_CLIENT_ID), E(AZURE_SECRET)
    and E(AZURE_TENANT), or E(AZURE_AD_USER) and E(AZURE_PASSWORD) (with optional E(AZURE_TENANT)
    and E(AZURE_CLIENT_ID)); then azure-identity's names: E(AZURE_CLIENT_ID),
    E(AZURE_CLIENT_SECRET) and E(AZURE_TENANT_ID); E(AZURE_CLIENT_ID),
    E(AZURE_CLIENT_CERTIFICATE_PATH) (with optional E(AZURE_CLIENT_CERTIFICATE_PASSWORD)) and
    E(AZURE_TENANT_ID); workload identity E(AZURE_CLIENT_ID), E(AZURE_TENANT_ID) and
    E(AZURE_FEDERATED_TOKEN_FILE). (4) The credentials file profile named by E(AZURE_PROFILE) (an
    error if it does not exist), else profile V(default) if the file has it. (5) A managed identity, only when
    E(IDENTITY_ENDPOINT) or E(MSI_ENDPOINT) is set (App Service, Azure Functions, Azure Arc,
    Cloud Shell). (6) The Azure CLI, if C(az) is on E(PATH).
  - >-
    Options and environment variables are never combined into one credential. A set that is
    only partly there (for example E(AZURE_SECRET) without E(AZURE_TENANT), or O(secret) without
    O(tenant)) is an error naming what is missing, rather than a reason to try the next source.
    Empty environment variables count as unset.
  - >-
    With O(auth_source=auto) the instance metadata service (169.254.169.254) is never contacted.
    A managed identity of a virtual machine, scale set or AKS node is used only with
    O(auth_source=msi) (with O(client_id) for a user-assigned identity).
  - >-
    C(DefaultAzureCredential) and C(EnvironmentCredential) are not used, because with the AWX
    credential's variables they take E(AZURE_CLIENT_ID) for a managed identity; the variables
    are mapped to the matching azure-identity credential class instead.
  - >-
    TLS certificates are always verified; there is no option to turn that off, and the
    C(cert_validation_mode) key of the credentials file is ignored. For a private certificate
    authority (a TLS-inspecting proxy, a private cloud), point E(REQUESTS_CA_BUNDLE) at a PEM
    bundle that includes it.
  - >-
    See the collection's C(docs/authentication.md) for examples of every method.
"""
