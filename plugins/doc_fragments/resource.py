# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Documentation of the options that name a Private Link resource (``_module.RESOURCE_ARGUMENT_SPEC``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  resource_id:
    description:
      - The ARM ID of the Private Link resource whose connections to manage, for example
        C(/subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.Storage/storageAccounts/<name>).
      - Its type chooses the api-version and the service's rules from the provider table
        (U(https://github.com/privatelink/azure/blob/main/docs/providers.md)). A type that is not in the table
        needs O(api_version); without it the task fails before any request and lists the known types.
      - The subscription is the one in this ID; O(subscription_id) is not used for the resource.
    type: str
  api_version:
    description:
      - The ARM api-version to use instead of the provider table's, for a type or a version the collection does
        not know yet. Such a type gets the common behaviour (C(PUT), C(actionsRequired), no refused transitions).
    type: str
"""
