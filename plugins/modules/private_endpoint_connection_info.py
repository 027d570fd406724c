#!/usr/bin/python
# Copyright (c) privatelink.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: private_endpoint_connection_info
short_description: List the private endpoint connections of any Azure Private Link resource
version_added: 0.2.0
description:
  - Lists the private endpoint connections of one Private Link resource (a storage account, a key vault, a SQL
    server, ...) named by O(resource_id), or returns the one named by O(name), optionally filtered by status,
    by private endpoint, or by the subscription that holds the private endpoint.
  - Connection names are often made by the service (C(<account>.<guid>), C(<endpoint>-<guid>)); filter by
    O(private_endpoint_id) or O(private_endpoint_subscription_id) to find connections the way you know them.
  - Sends only C(GET) requests (one per page of connections, or one with O(name)) and never reports
    C(changed).
author:
  - privatelink.azure maintainers (@privatelink)
extends_documentation_fragment:
  - privatelink.azure.azure_auth
  - privatelink.azure.resource
  - privatelink.azure.connection.info
  - privatelink.azure.attributes
  - privatelink.azure.attributes.info_module
  - privatelink.azure.attributes.actiongroup_all
  - privatelink.azure.attributes.controller
options:
  resource_id:
    description:
      - The ARM ID of the Private Link resource whose connections to list, for example
        C(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/<name>).
      - Its type chooses the api-version from the provider table; a type that is not in it needs O(api_version).
    type: str
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
notes:
  - Needs read access (C(<resource type>/privateEndpointConnections/read)) on the resource.
seealso:
  - module: privatelink.azure.private_endpoint_connection
    description: Approve, reject or delete one of the connections listed here.
"""

EXAMPLES = r"""
- name: List a key vault's pending connections
  privatelink.azure.private_endpoint_connection_info:
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-platform
    status: [Pending]
  register: pending

- name: Show who is waiting
  ansible.builtin.debug:
    msg: "{{ pending.connections | map(attribute='private_endpoint_id') | list }}"

- name: The connections a storage account has from the platform team's subscription
  privatelink.azure.private_endpoint_connection_info:
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/ordersdata
    private_endpoint_subscription_id: aaaaaaaa-0000-0000-0000-000000000001

- name: Authenticate once for every module of the collection
  module_defaults:
    group/privatelink.azure.all:
      auth_source: credential_file
      profile: platform
  block:
    - name: List the connections of two resources of different types
      privatelink.azure.private_endpoint_connection_info:
        resource_id: "{{ item }}"
      loop:
        - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sql/providers/Microsoft.Sql/servers/sql-orders
        - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-acr/providers/Microsoft.ContainerRegistry/registries/platformacr
      register: listings
"""

RETURN = r"""
connections:
  description: The connections that pass every filter, in the order the service lists them.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: ARM resource ID of the connection.
      type: str
    name:
      description: Name of the connection.
      type: str
    resource_id:
      description: ARM resource ID of the Private Link resource.
      type: str
    resource_type:
      description: The resource's type, in the provider table's spelling.
      type: str
      sample: Microsoft.KeyVault/vaults
    group_id:
      description: The sub-resource the endpoint connects to (the first one where the service lists several).
      type: str
      sample: vault
    group_ids:
      description: Every sub-resource the endpoint connects to.
      type: list
      elements: str
    private_endpoint_id:
      description: ARM resource ID of the private endpoint that opened the connection.
      type: str
    status:
      description: Connection status (V(Pending), V(Approved), V(Rejected) or V(Disconnected)).
      type: str
      sample: Pending
    description:
      description: The message stored with the status (while V(Pending), the consumer's request message); null
        when the service has none.
      type: str
    actions_required:
      description: What the service says the consumer must do.
      type: str
    provisioning_state:
      description: Provisioning state of the connection resource.
      type: str
    etag:
      description: The connection's etag, where the service has one; null otherwise.
      type: str
error:
  description: The ARM error (ErrorDetail), when the task failed because of an ARM answer.
  returned: failure
  type: dict
status_code:
  description: HTTP status of the failed ARM request.
  returned: failure, when ARM answered
  type: int
request_id:
  description: The C(x-ms-request-id) of the failed request; Microsoft support asks for it.
  returned: failure, when ARM answered
  type: str
correlation_id:
  description: The C(x-ms-correlation-request-id) shared by all requests of the task.
  returned: failure, when ARM answered
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.privatelink.azure.plugins.module_utils._module import run_module
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import RESOURCE_CONNECTION_INFO


def main() -> None:
    # The work is in module_utils/_tasks.py, shared with the action plugin of the same name.
    run_module(AnsibleModule(**RESOURCE_CONNECTION_INFO.spec), RESOURCE_CONNECTION_INFO)


if __name__ == "__main__":
    main()
