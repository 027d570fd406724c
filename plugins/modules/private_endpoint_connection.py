#!/usr/bin/python
# Copyright (c) privatelink.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: private_endpoint_connection
short_description: Approve, reject or delete a private endpoint connection of any Azure Private Link resource
version_added: 0.2.0
description:
  - Manages one private endpoint connection that another subscription or tenant opened against an Azure
    Private Link resource (a storage account, a key vault, a SQL server, a registry, a web app, ...), named by
    the resource's ARM ID in O(resource_id) or by the connection's full ID in O(id).
  - Reads the connection first and writes only when its status or description differ from what is asked, so
    a re-run reports C(changed=false) and sends exactly one C(GET). Several services refuse to re-approve an
    approved connection; this module never tries.
  - The write carries the connection's private endpoint and the new state, nothing read-only, so Azure Policy
    rules that inspect C(properties.privateEndpoint.id) (landing zones' cross-tenant rules) see it. Where the
    connection has an C(etag), the write is conditional (C(If-Match)); if someone else changed the connection
    in between, the module reads it again, decides once more, and never overwrites their change blindly.
  - Follows the write however the service completes it (a synchronous answer, C(Azure-AsyncOperation) or
    C(Location) on C(200), C(201) or C(202)); success is decided by the connection's own status afterwards,
    not by its C(provisioningState), which some services leave at C(Pending) or C(Updating).
  - Refuses, before any write and also in check mode, the transitions the service refuses (for example a
    rejected Cosmos DB connection cannot be approved; SQL changes only pending connections).
  - The api-version and the quirks of each type come from a table of known services; see
    U(https://github.com/privatelink/azure/blob/main/docs/providers.md). Another type works with O(api_version).
  - Connections are created by the owner of the private endpoint, never by this module.
author:
  - privatelink.azure maintainers (@privatelink)
extends_documentation_fragment:
  - privatelink.azure.azure_auth
  - privatelink.azure.resource
  - privatelink.azure.connection
  - privatelink.azure.attributes
  - privatelink.azure.attributes.actiongroup_all
  - privatelink.azure.attributes.controller
options:
  id:
    description:
      - The full ARM ID of the connection, C(<resource id>/privateEndpointConnections/<name>), as the portal and
        C(az) print it; instead of O(resource_id) with O(name) or O(private_endpoint_id).
    type: str
attributes:
  check_mode:
    support: full
    description: Everything up to the write runs, so check mode predicts failures too.
  diff_mode:
    support: full
    description: Shows C(status) and C(description) before and after, headed by the connection's ID.
notes:
  - Approving or rejecting needs C(<resource type>/privateEndpointConnectionsApproval/action) and
    C(<resource type>/privateEndpointConnections/write) on the resource; a least-privilege role definition
    is in U(https://github.com/privatelink/azure/blob/main/docs/least-privilege.md).
seealso:
  - module: privatelink.azure.private_endpoint_connection_info
    description: List the connections of a resource.
  - module: privatelink.azure.private_endpoint_connection_policy
    description: Decide every connection of many subscriptions by rules.
"""

EXAMPLES = r"""
- name: Approve a storage account's pending connection, known by its private endpoint
  privatelink.azure.private_endpoint_connection:
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.Storage/storageAccounts/ordersdata
    private_endpoint_id: /subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-bill/providers/Microsoft.Network/privateEndpoints/pe-bill
    status: Approved
    description: Approved for the billing team (CHG-1234)

- name: Reject a key vault connection by the ID the portal shows
  privatelink.azure.private_endpoint_connection:
    id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sec/providers/Microsoft.KeyVault/vaults/kv-plat/privateEndpointConnections/pe-x
    status: rejected
    description: Not an approved consumer

- name: Delete a disconnected connection whose endpoint was deleted
  privatelink.azure.private_endpoint_connection:
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sql/providers/Microsoft.Sql/servers/sql-orders
    name: pe-old-5b0e7f6c-8a8e-4d16-9b7c-3c8d2c1f0a11
    state: absent

- name: Start two approvals without waiting, then follow them
  block:
    - name: Approve without waiting
      privatelink.azure.private_endpoint_connection:
        resource_id: "{{ item }}"
        private_endpoint_id: /subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-bill/providers/Microsoft.Network/privateEndpoints/pe-bill
        status: Approved
        wait: false
      loop:
        - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-data/providers/Microsoft.DocumentDB/databaseAccounts/orders-db
        - /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-web/providers/Microsoft.Web/sites/orders-api
      register: started

    - name: Wait for each (nothing is written a second time)
      privatelink.azure.private_endpoint_connection:
        resource_id: "{{ item.item }}"
        private_endpoint_id: /subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/rg-bill/providers/Microsoft.Network/privateEndpoints/pe-bill
        status: Approved
        operation_url: "{{ item.operation_url | default(omit) }}"
      loop: "{{ started.results }}"
      loop_control:
        label: "{{ item.item }}"

- name: A type the collection does not know yet
  privatelink.azure.private_endpoint_connection:
    resource_id: /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.Purview/accounts/catalog
    api_version: "2021-12-01"
    name: pe-catalog.1111
    status: Approved
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
        Microsoft.Storage/storageAccounts/ordersdata/privateEndpointConnections/ordersdata.6b1f0c2e"
    name:
      description: Name of the connection.
      type: str
      sample: ordersdata.6b1f0c2e
    resource_id:
      description: ARM resource ID of the Private Link resource.
      type: str
    resource_type:
      description: The resource's type, in the provider table's spelling.
      type: str
      sample: Microsoft.Storage/storageAccounts
    group_id:
      description: The sub-resource the endpoint connects to (the first one where the service lists several).
      type: str
      sample: blob
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
      sample: Approved
    description:
      description: The message stored with the status; null when the service has none.
      type: str
    actions_required:
      description: What the service says the consumer must do (Storage calls it C(actionRequired)).
      type: str
      sample: None
    provisioning_state:
      description: Provisioning state of the connection resource.
      type: str
      sample: Succeeded
    etag:
      description: The connection's etag, where the service has one; null otherwise.
      type: str
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
operation_seconds:
  description: How long the module waited for the operation, in seconds.
  returned: when the module waited for an operation
  type: float
  sample: 3.6
error:
  description: The ARM error (ErrorDetail), when the task failed because of an ARM answer.
  returned: failure
  type: dict
  contains:
    code:
      description: ARM or service error code.
      type: str
      sample: RequestDisallowedByPolicy
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
      description: Additional information, as a list of C(type) and C(info) (for example C(PolicyViolation)).
      type: list
      elements: dict
status_code:
  description: HTTP status of the failed ARM request.
  returned: failure, when ARM answered
  type: int
  sample: 403
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
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import RESOURCE_CONNECTION


def main() -> None:
    # The work is in module_utils/_tasks.py, shared with the action plugin of the same name that
    # runs it on the controller without a module process (plugins/plugin_utils/_controller.py).
    run_module(AnsibleModule(**RESOURCE_CONNECTION.spec), RESOURCE_CONNECTION)


if __name__ == "__main__":
    main()
