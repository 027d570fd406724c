# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""Runs privatelink.azure.private_endpoint_connection_policy on the controller when the task runs there (see plugin_utils/_controller.py)."""

from __future__ import annotations

from ansible_collections.privatelink.azure.plugins.module_utils._tasks import POLICY
from ansible_collections.privatelink.azure.plugins.plugin_utils._controller import ControllerModuleAction


class ActionModule(ControllerModuleAction):
    DEFINITION = POLICY
