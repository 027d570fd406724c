# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Documentation of the module attributes (check mode, diff mode, the action group)."""

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

    ACTIONGROUP_COSMOSDB = r"""
options: {}
attributes:
  action_group:
    description: >-
      Use C(group/privatelink.azure.cosmosdb) in C(module_defaults) to set defaults for this module,
      for example the authentication options, once for all modules of the group.
    support: full
    membership:
      - privatelink.azure.cosmosdb
"""
