# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Documentation of the module attributes (check mode, diff mode, the action plugin, async, the action group)."""

from __future__ import annotations


class ModuleDocFragment:

    # Standard descriptions; each module states its own level of support.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # For modules that only read.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    support: full
    details:
      - This action does not modify state.
  diff_mode:
    support: N/A
    details:
      - This action does not modify state.
"""

    # Both modules have an action plugin that runs them on the controller (plugins/plugin_utils/_controller.py).
    CONTROLLER = r"""
options: {}
attributes:
  action:
    description: Indicates this has a corresponding action plugin so some parts of the options can be executed on the controller.
    support: full
    details:
      - >-
        When the task runs on the controller's own connection (a play on C(localhost), C(delegate_to=localhost),
        C(connection=local)), the whole task runs in C(ansible-playbook)'s process, with the same options, results
        and errors as a module process, and the items of a loop share one sign-in. That Python then needs
        C(azure-identity) and C(requests).
      - >-
        Another connection, C(become), C(async), a controller without those libraries, or the variable
        C(privatelink_azure_run_on_controller) set to V(false) run the module as a module process on the target,
        as usual.
  async:
    description: Supports being used with the C(async) keyword.
    support: full
    details:
      - With C(async) the task runs as a module process.
"""

    ACTIONGROUP_COSMOSDB = r"""
options: {}
attributes:
  action_group:
    description: >-
      Use C(group/privatelink.azure.all) (or C(group/privatelink.azure.cosmosdb)) in C(module_defaults) to set
      defaults for this module, for example the authentication options, once for all modules of the group.
    support: full
    membership:
      - privatelink.azure.all
      - privatelink.azure.cosmosdb
"""

    ACTIONGROUP_ALL = r"""
options: {}
attributes:
  action_group:
    description: >-
      Use C(group/privatelink.azure.all) in C(module_defaults) to set defaults for this module,
      for example the authentication options, once for all modules of the collection.
    support: full
    membership:
      - privatelink.azure.all
"""
