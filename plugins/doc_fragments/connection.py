# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Documentation of the options that choose and change one connection (``_tasks._CONNECTION_OPTIONS`` and
``_module.WAIT_ARGUMENT_SPEC``), shared by the connection modules."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  name:
    description:
      - Name of the private endpoint connection, as the service lists it.
      - It must not contain V(/), V(\\), V(?), V(#), V(%), V(..) or control characters.
    type: str
  private_endpoint_id:
    description:
      - The ARM resource ID of the private endpoint whose connection to manage, instead of O(name).
      - The module lists the resource's connections and picks the one whose private endpoint has this ID,
        compared case-insensitively as ARM does. It fails if several connections come from this endpoint.
      - If none does, O(state=present) fails (with the listing's RV(request_id)) and O(state=absent) has
        nothing to do.
    type: str
  status:
    description:
      - The connection status to set, V(Approved) or V(Rejected). Required with O(state=present).
      - Accepted in any case (V(approved) works) and compared with the current status case-insensitively;
        results use the service's spelling.
    type: str
  description:
    description:
      - The message stored with the status (the owner of the private endpoint sees it).
      - When omitted, the current description is kept, not cleared.
    type: str
  state:
    description:
      - V(present) sets O(status) and O(description); V(absent) deletes the connection.
    type: str
    choices: [present, absent]
    default: present
  wait:
    description:
      - Wait for the long-running operation to end. With V(false) the module returns once ARM accepted the
        write, with RV(operation_url) to follow it; RV(connection) then shows the requested state.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the operation. When it runs out the task fails and returns
        RV(operation_url); the operation may still complete.
    type: int
    default: 900
  operation_url:
    description:
      - The RV(operation_url) an earlier task returned (O(wait=false), or a timeout). The module first follows
        that operation to its end, then reads the connection and compares as usual, so a second pass does
        not write again what the first one started.
      - Only followed on the ARM endpoint of this task; an URL of another host is ignored, and no token is
        sent there.
    type: str
    version_added: 0.2.0
"""

    INFO = r"""
options:
  name:
    description:
      - Return only this connection. RV(connections) is empty if the resource has no connection of this name
        (a missing resource or resource group is an error).
      - The filters below apply to it too.
    type: str
  status:
    description:
      - Return only connections in one of these statuses, each one of V(Pending), V(Approved), V(Rejected)
        or V(Disconnected), compared case-insensitively.
    type: list
    elements: str
  private_endpoint_id:
    description:
      - Return only the connections opened by this private endpoint (its ARM resource ID, compared
        case-insensitively as ARM does).
    type: str
  private_endpoint_subscription_id:
    description:
      - Return only the connections whose private endpoint lives in this subscription (read from the
        private endpoint's resource ID, compared case-insensitively).
      - This is not O(subscription_id), which is the subscription of the resource.
    type: str
"""
