# SPDX-License-Identifier: GPL-3.0-or-later
"""armemu: a local, stateful HTTPS emulator of Azure Resource Manager for the private endpoint connections
of 24 Private Link resource types (Cosmos DB at api-version 2024-08-15 and the others of providers.py) and
of the Entra ID / managed-identity token endpoints.

Use ``armemu.Emulator`` in-process, ``python -m armemu serve`` for another process, and
``armemu.client.EmulatorControl`` to drive a CLI-started emulator. Faithfulness is judged against the
recordings in /work/shared/azure-rest/recordings (each module names the recording it mirrors).
"""
from __future__ import annotations

from .emulator import Emulator

__all__ = ["Emulator"]
