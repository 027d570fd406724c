# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Documentation of the options that name the Cosmos DB account (``_module.ACCOUNT_ARGUMENT_SPEC``)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  resource_group:
    description:
      - Resource group of the Cosmos DB account (1 to 90 letters, digits, V(-), V(_), V(.), V((), V(\));
        not ending with V(.)).
    type: str
    required: true
  account_name:
    description:
      - Name of the Cosmos DB account (3 to 50 lowercase letters, digits and single hyphens).
    type: str
    required: true
"""
