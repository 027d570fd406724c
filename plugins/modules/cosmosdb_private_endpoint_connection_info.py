#!/usr/bin/python
# Copyright (c) privatelink.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cosmosdb_private_endpoint_connection_info
short_description: List the private endpoint connections of an Azure Cosmos DB account
version_added: 0.1.0
description:
  - Lists the private endpoint connections of one Azure Cosmos DB account, or returns the one named by
    O(name), optionally filtered by status, by private endpoint, or by the subscription that holds the
    private endpoint.
  - Connection names are often opaque (C(<endpoint name>.<guid>)); filter by O(private_endpoint_id) or
    O(private_endpoint_subscription_id) to find connections the way you know them.
  - Sends only C(GET) requests (one per page of connections, or one with O(name)) and never reports
    C(changed).
author:
  - privatelink.azure maintainers (@privatelink)
extends_documentation_fragment:
  - privatelink.azure.azure_auth
  - privatelink.azure.cosmosdb_account
  - privatelink.azure.connection.info
  - privatelink.azure.attributes
  - privatelink.azure.attributes.info_module
  - privatelink.azure.attributes.actiongroup_cosmosdb
  - privatelink.azure.attributes.controller
attributes:
  check_mode:
    support: full
  diff_mode:
    support: N/A
notes:
  - Needs read access (C(Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections/read)) on the
    account.
seealso:
  - module: privatelink.azure.cosmosdb_private_endpoint_connection
    description: Approve, reject or delete one of the connections listed here.
  - name: The privatelink.azure.cosmosdb_connection_approval role
    description: Approves every pending connection whose private endpoint lives in an allowed subscription.
    link: https://github.com/privatelink/azure/tree/main/roles/cosmosdb_connection_approval
"""

EXAMPLES = r"""
- name: List the pending connections of an account
  privatelink.azure.cosmosdb_private_endpoint_connection_info:
    resource_group: rg-data
    account_name: orders-db
    status: [Pending]
  register: pending

- name: Show who is waiting
  ansible.builtin.debug:
    msg: "{{ pending.connections | map(attribute='private_endpoint_id') | list }}"

- name: Find the connection of one private endpoint
  privatelink.azure.cosmosdb_private_endpoint_connection_info:
    resource_group: rg-data
    account_name: orders-db
    private_endpoint_id: /subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-billing/providers/Microsoft.Network/privateEndpoints/pe-billing
  register: billing

- name: Everything that comes from the platform team's subscription
  privatelink.azure.cosmosdb_private_endpoint_connection_info:
    subscription_id: 00000000-0000-0000-0000-000000000000  # the subscription of the Cosmos DB account
    resource_group: rg-data
    account_name: orders-db
    private_endpoint_subscription_id: aaaaaaaa-0000-0000-0000-000000000001

- name: Authenticate once for every module of the collection
  module_defaults:
    group/privatelink.azure.cosmosdb:
      auth_source: credential_file
      profile: platform
  block:
    - name: List the connections of two accounts
      privatelink.azure.cosmosdb_private_endpoint_connection_info:
        resource_group: rg-data
        account_name: "{{ item }}"
      loop: [orders-db, billing-db]
      register: listings

# To approve every pending connection from your own subscriptions, on every deploy, use the role
# (see its README and docs/bootstrap-and-awx.md):
- name: Approve what our subscriptions opened, leave the rest pending
  ansible.builtin.include_role:
    name: privatelink.azure.cosmosdb_connection_approval
  vars:
    cosmosdb_connection_approval_accounts:
      - resource_group: rg-data
        account_name: orders-db
    cosmosdb_connection_approval_allowed_subscriptions:
      - aaaaaaaa-0000-0000-0000-000000000001
"""

RETURN = r"""
connections:
  description:
    - The connections that pass every filter, in the order the service lists them. Empty if none does.
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: ARM resource ID of the connection.
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/\
        Microsoft.DocumentDB/databaseAccounts/orders-db/privateEndpointConnections/pe-billing"
    name:
      description: Name of the connection.
      type: str
      sample: pe-billing.6b1f0c2e
    group_id:
      description: The Cosmos DB API the endpoint connects to.
      type: str
      sample: Sql
    private_endpoint_id:
      description: ARM resource ID of the private endpoint that opened the connection.
      type: str
      sample: "/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-billing/providers/\
        Microsoft.Network/privateEndpoints/pe-billing"
    status:
      description: Connection status (V(Pending), V(Approved), V(Rejected) or V(Disconnected)).
      type: str
      sample: Pending
    description:
      description: The message stored with the status; null when the service has none.
      type: str
      sample: Please approve
    actions_required:
      description: What the service says the consumer must do.
      type: str
      sample: None
    provisioning_state:
      description: Provisioning state of the connection resource.
      type: str
      sample: Succeeded
error:
  description: The ARM error (ErrorDetail), when the task failed because of an ARM answer.
  returned: failure
  type: dict
status_code:
  description: HTTP status of the failed ARM request.
  returned: failure, when ARM answered
  type: int
  sample: 404
request_id:
  description: The C(x-ms-request-id) of the failed request; Microsoft support asks for it.
  returned: failure, when ARM answered
  type: str
correlation_id:
  description: The C(x-ms-correlation-request-id) of the failed request.
  returned: failure, when ARM answered
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.privatelink.azure.plugins.module_utils._module import run_module
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import CONNECTION_INFO


def main() -> None:
    # The work is in module_utils/_tasks.py, shared with the action plugin of the same name that
    # runs it on the controller without a module process (plugins/plugin_utils/_controller.py).
    run_module(AnsibleModule(**CONNECTION_INFO.spec), CONNECTION_INFO)


if __name__ == "__main__":
    main()
