#!/usr/bin/python
# Copyright (c) privatelink.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: cosmosdb_private_endpoint_connection
short_description: Approve, reject or delete a private endpoint connection of an Azure Cosmos DB account
version_added: 0.1.0
description:
  - Manages one private endpoint connection that another subscription or tenant opened against an Azure
    Cosmos DB account (C(Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections), ARM api-version
    C(2024-08-15)).
  - Reads the connection first and writes (ARM C(PUT)) only when its status or description differ from what
    is asked, so a re-run reports C(changed=false) and sends exactly one C(GET).
  - Follows the long-running operation to its end. Cosmos DB answers C(202) without C(Retry-After); the module
    polls soon and backs off instead of sleeping a fixed 30 seconds.
  - Connections are created by the owner of the private endpoint, never by this module. A connection that
    does not exist is an error for O(state=present) and nothing to do for O(state=absent).
  - Cosmos DB cannot approve a rejected connection; the module refuses that change before any write, also in
    check mode, and says what to do instead.
author:
  - privatelink.azure maintainers (@privatelink)
extends_documentation_fragment:
  - privatelink.azure.azure_auth
  - privatelink.azure.cosmosdb_account
  - privatelink.azure.connection
  - privatelink.azure.attributes
  - privatelink.azure.attributes.actiongroup_cosmosdb
  - privatelink.azure.attributes.controller
attributes:
  check_mode:
    support: full
    description: Everything up to the write runs, so check mode predicts failures too.
  diff_mode:
    support: full
    description: Shows C(status) and C(description) before and after, headed by the connection's ID.
notes:
  - Needs the C(Microsoft.DocumentDB/databaseAccounts/PrivateEndpointConnectionsApproval/action) permission on
    the account.
seealso:
  - name: Manage Azure Cosmos DB private endpoints
    description: Microsoft's guide, including the limits on rejected connections.
    link: https://learn.microsoft.com/azure/cosmos-db/how-to-configure-private-endpoints
"""

EXAMPLES = r"""
- name: Approve the connection of a private endpoint, known by its resource ID
  privatelink.azure.cosmosdb_private_endpoint_connection:
    resource_group: rg-data
    account_name: orders-db
    private_endpoint_id: /subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-billing/providers/Microsoft.Network/privateEndpoints/pe-billing
    status: Approved
    description: Approved for the billing team (CHG-1234)

- name: Set the authentication once for every module of the collection
  module_defaults:
    group/privatelink.azure.cosmosdb:
      subscription_id: 00000000-0000-0000-0000-000000000000
      auth_source: credential_file
      profile: platform
  block:
    - name: List the pending connections
      privatelink.azure.cosmosdb_private_endpoint_connection_info:
        resource_group: rg-data
        account_name: orders-db
        status: [Pending]
      register: pending

    - name: Approve those from the billing team's subscription
      privatelink.azure.cosmosdb_private_endpoint_connection:
        resource_group: rg-data
        account_name: orders-db
        name: "{{ item.name }}"
        status: Approved
      loop: "{{ pending.connections | selectattr('private_endpoint_id', 'search', '^/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/', ignorecase=true) }}"
      loop_control:
        label: "{{ item.name }}"

- name: Approve a pending connection
  privatelink.azure.cosmosdb_private_endpoint_connection:
    resource_group: rg-data
    account_name: orders-db
    name: pe-billing.6b1f0c2e-4c0d-4a57-9d43-0e3c7f1d2a10
    status: Approved
    description: Approved for the billing team (CHG-1234)

- name: Reject a connection (it can never be approved afterwards)
  privatelink.azure.cosmosdb_private_endpoint_connection:
    subscription_id: 00000000-0000-0000-0000-000000000000
    resource_group: rg-data
    account_name: orders-db
    name: pe-unknown.1c9a51d4-77c1-4f3a-8b8e-2b7d7c4a9e55
    status: Rejected
    description: Not an approved consumer

- name: Delete a connection and wait until it is gone
  privatelink.azure.cosmosdb_private_endpoint_connection:
    resource_group: rg-data
    account_name: orders-db
    name: pe-old.0d3e4f5a-1111-2222-3333-444455556666
    state: absent
"""

RETURN = r"""
connection:
  description:
    - The connection after the task. In check mode, and with O(wait=false), the state it is predicted to have.
    - An empty dictionary after O(state=absent).
  returned: success
  type: dict
  contains:
    id:
      description: ARM resource ID of the connection.
      type: str
      sample: "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/\
        Microsoft.DocumentDB/databaseAccounts/orders-db/privateEndpointConnections/pe-billing"
    name:
      description: Name of the connection.
      type: str
      sample: pe-billing
    group_id:
      description: The Cosmos DB API the endpoint connects to.
      type: str
      sample: Sql
    private_endpoint_id:
      description: ARM resource ID of the private endpoint that opened the connection.
      type: str
      sample: "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-net/providers/\
        Microsoft.Network/privateEndpoints/pe-billing"
    status:
      description: Connection status (V(Pending), V(Approved), V(Rejected) or V(Disconnected)).
      type: str
      sample: Approved
    description:
      description: The message stored with the status; null when the service has none.
      type: str
      sample: Approved for the billing team
    actions_required:
      description: What the service says the consumer must do.
      type: str
      sample: None
    provisioning_state:
      description: Provisioning state of the connection resource.
      type: str
      sample: Succeeded
operation_url:
  description:
    - URL of the long-running operation. Pass it to O(operation_url) of a later task to follow it.
  returned: when a write was accepted and O(wait=false), and when its operation failed or timed out
  type: str
operation_polls:
  description: How many times the module polled the operation (a module process cannot show progress).
  returned: when the module waited for an operation
  type: int
  sample: 4
  version_added: 0.2.0
operation_seconds:
  description: How long the module waited for the operation, in seconds.
  returned: when the module waited for an operation
  type: float
  sample: 3.6
  version_added: 0.2.0
error:
  description: The ARM error (ErrorDetail), when the task failed because of an ARM answer.
  returned: failure
  type: dict
  contains:
    code:
      description: ARM or Cosmos DB error code.
      type: str
      sample: BadRequest
    message:
      description: The service's message.
      type: str
    target:
      description: The target of the error, if the service names one.
      type: str
    details:
      description: Nested errors, each with the same fields.
      type: list
      elements: dict
    additional_info:
      description: Additional information, as a list of C(type) and C(info).
      type: list
      elements: dict
status_code:
  description: HTTP status of the failed ARM request.
  returned: failure, when ARM answered
  type: int
  sample: 400
request_id:
  description: The C(x-ms-request-id) of the failed request; Microsoft support asks for it.
  returned: failure, when ARM answered
  type: str
correlation_id:
  description: The C(x-ms-correlation-request-id) shared by all requests of the task.
  returned: failure, when ARM answered
  type: str
operation_status:
  description: Last status of the long-running operation, when it failed, was canceled or timed out.
  returned: failure of an operation
  type: str
  sample: Failed
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.privatelink.azure.plugins.module_utils._module import run_module
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import CONNECTION


def main() -> None:
    # The work is in module_utils/_tasks.py, shared with the action plugin of the same name that
    # runs it on the controller without a module process (plugins/plugin_utils/_controller.py).
    run_module(AnsibleModule(**CONNECTION.spec), CONNECTION)


if __name__ == "__main__":
    main()
