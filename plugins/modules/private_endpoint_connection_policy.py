#!/usr/bin/python
# Copyright (c) privatelink.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: private_endpoint_connection_policy
short_description: Decide every private endpoint connection of an estate by rules, and write safely at scale
version_added: 0.2.0
description:
  - Discovers the private endpoint connections of every Private Link resource in O(scope) (many subscriptions,
    every type of the provider table or those named), decides each one by the first matching rule of O(rules),
    and approves, rejects or deletes accordingly. A connection no rule matches is left as it is.
  - Discovery is one Azure Resource Graph query over the scope's subscriptions, paged, waiting when the
    caller's Resource Graph quota runs out (O(discovery=resource_graph)); or ARM lists per type and
    subscription (O(discovery=arm)). Connections a service does not embed in its resources are listed per
    resource.
  - Writes run concurrently inside this one task, at most O(max_concurrent_writes) at a time per subscription,
    and slow down when ARM's remaining-request headers run low, so a large estate does not meet throttling.
  - Compare before write. Just before each write the connection is read again (and the write is
    conditional where it has an C(etag)); if its status or description is no longer what discovery saw,
    someone else decided meanwhile, so it is not written and its outcome is V(changed_elsewhere).
  - Check mode returns the plan (predicted outcomes) and writes nothing. With C(--diff) each connection to
    change shows its status and description before and after, headed by its ID.
  - The role C(privatelink.azure.connection_approval) wraps this module with a summary, run statistics for
    AWX, and a Markdown report.
author:
  - privatelink.azure maintainers (@privatelink)
extends_documentation_fragment:
  - privatelink.azure.azure_auth
  - privatelink.azure.attributes
  - privatelink.azure.attributes.actiongroup_cosmosdb  # in both groups: the Cosmos DB role runs it
  - privatelink.azure.attributes.controller
options:
  scope:
    description:
      - Where to look. At least one of C(subscriptions) and C(resources).
    type: dict
    required: true
    suboptions:
      subscriptions:
        description: Subscription IDs whose Private Link resources to review.
        type: list
        elements: str
      resource_groups:
        description: Only resources in these resource groups (of the subscriptions above), case-insensitively.
        type: list
        elements: str
      resource_types:
        description:
          - Only resources of these types (from the provider table, for example C(Microsoft.Storage/storageAccounts));
            default every known type.
        type: list
        elements: str
      resources:
        description: ARM IDs of individual Private Link resources to review as well.
        type: list
        elements: str
  rules:
    description:
      - Ordered rules; the first rule whose matchers all hold decides a connection. No match leaves it.
      - Validated before any request (unknown keys, bad patterns, bad GUIDs fail the task).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name shown in the decisions and the report; default C(rule <position>).
        type: str
      action:
        description: What to do with a matching connection.
        type: str
        required: true
        choices: [approve, reject, delete, leave]
      description:
        description:
          - The message stored with an approval or rejection. A template with the fields C({rule}),
            C({connection_name}), C({private_endpoint_id}), C({endpoint_subscription}), C({endpoint_resource_group}),
            C({endpoint_name}), C({resource_id}), C({resource_name}), C({resource_type}), C({request_message})
            and C({status}).
          - Default C(Approved by privatelink.azure policy rule '{rule}') (or C(Rejected ...)).
        type: str
      statuses:
        description: Statuses the connection must have (any case); default V(Pending). A delete rule usually says V(Disconnected).
        type: list
        elements: str
      endpoint_subscriptions:
        description: Subscription IDs the private endpoint must live in.
        type: list
        elements: str
      endpoint_resource_groups:
        description: Glob patterns for the private endpoint's resource group (case-insensitive).
        type: list
        elements: str
      endpoint_names:
        description: Glob patterns for the private endpoint's name (case-insensitive).
        type: list
        elements: str
      connection_names:
        description:
          - Glob patterns for the connection's name, for example C(myfactory.*) for the managed private endpoints
            of a Data Factory, whose endpoints live in Microsoft-managed subscriptions.
        type: list
        elements: str
      request_message:
        description: A regular expression searched in the consumer's request message (the description while V(Pending)).
        type: str
      group_ids:
        description: The sub-resources (for example V(blob), V(vault), V(sqlServer)); one of the connection's must be listed.
        type: list
        elements: str
      resource_types:
        description: Types of the Private Link resource.
        type: list
        elements: str
      resource_tags:
        description: Tags the Private Link resource must have (key, case-insensitive, to value or glob).
        type: dict
  discovery:
    description: How connections are found.
    type: str
    choices: [resource_graph, arm]
    default: resource_graph
  max_concurrent_writes:
    description:
      - How many writes run at once in one subscription (1 to 128); a run uses at most 128 threads in all.
      - Most of a write's time is its long-running operation (about 30 s for Cosmos DB), spent polling about once
        a second; 32 keeps one subscription's reads under ARM's refill rate, and the module slows down by ARM's
        remaining-request headers before any bucket runs out.
    type: int
    default: 32
  wait_timeout:
    description: How many seconds to wait for each write's long-running operation.
    type: int
    default: 900
  fail_on_error:
    description:
      - Fail the task when any connection's write failed (its outcome is V(failed)). The failed result still
        holds RV(decisions) and RV(summary).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Discovery and decisions run; nothing is written. The decisions carry the predicted outcomes.
  diff_mode:
    support: full
    description: Status and description before and after of each connection written, headed by its ID.
notes:
  - Discovery needs read access to the resources (and Resource Graph); writes need
    C(<type>/privateEndpointConnectionsApproval/action) and C(<type>/privateEndpointConnections/write),
    or C(<type>/privateEndpointConnections/delete) for delete rules. Least-privilege role definitions are in
    U(https://github.com/privatelink/azure/blob/main/docs/least-privilege.md).
seealso:
  - module: privatelink.azure.private_endpoint_connection
    description: One connection at a time.
"""

EXAMPLES = r"""
- name: On every deploy, approve what our subscriptions opened and clean up what deleted endpoints left
  privatelink.azure.private_endpoint_connection_policy:
    scope:
      subscriptions:
        - 00000000-0000-0000-0000-000000000000
        - 00000000-0000-0000-0000-000000000001
      resource_types:
        - Microsoft.Storage/storageAccounts
        - Microsoft.KeyVault/vaults
        - Microsoft.Sql/servers
    rules:
      - name: our subscriptions
        action: approve
        endpoint_subscriptions:
          - aaaaaaaa-0000-0000-0000-000000000001
          - aaaaaaaa-0000-0000-0000-000000000002
        description: "Approved by {rule} for {endpoint_name}"
      - name: managed endpoints of the orders factory
        action: approve
        connection_names: ["orders-adf.*"]
      - name: leftovers of deleted endpoints
        action: delete
        statuses: [Disconnected]
      - name: strangers
        action: reject
        description: Not an approved consumer; ask the platform team
  register: policy

- name: Show what was decided
  ansible.builtin.debug:
    var: policy.summary
"""

RETURN = r"""
decisions:
  description: One entry per connection in scope, ordered by resource ID and connection name.
  returned: always
  type: list
  elements: dict
  contains:
    resource_id:
      description: ARM ID of the Private Link resource.
      type: str
    resource_type:
      description: Its type.
      type: str
    connection_name:
      description: The connection's name.
      type: str
    connection_id:
      description: The connection's ARM ID.
      type: str
    private_endpoint_id:
      description: The private endpoint that opened the connection.
      type: str
    endpoint_subscription:
      description: The private endpoint's subscription.
      type: str
    status_before:
      description: Status at discovery.
      type: str
    description_before:
      description: Description at discovery.
      type: str
    rule:
      description: Name of the matching rule; null when none matched.
      type: str
    action:
      description: V(approve), V(reject), V(delete) or V(leave).
      type: str
    status_after:
      description: Status after the task (predicted in check mode).
      type: str
    description_after:
      description: Description after the task (predicted in check mode).
      type: str
    outcome:
      description: V(approved), V(rejected), V(deleted), V(left), V(changed_elsewhere) or V(failed).
      type: str
    error:
      description: For V(failed), the ARM error (code, message, ...) or the refused transition.
      type: dict
    request_id:
      description: For V(failed), the request id of the failed ARM request.
      type: str
summary:
  description: Counts per outcome and per resource type.
  returned: always
  type: dict
  sample: {"total": 12, "writes": 5, "failed": 0, "by_outcome": {"approved": 4, "deleted": 1, "left": 7}}
stats:
  description: What discovery and the writes cost (discovery calls, resources, connections, quota waits, paced and throttled requests).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.privatelink.azure.plugins.module_utils._module import run_module
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import POLICY


def main() -> None:
    # The work is in module_utils/_tasks.py and _estate.py, shared with the action plugin of the same name.
    run_module(AnsibleModule(**POLICY.spec), POLICY)


if __name__ == "__main__":
    main()
