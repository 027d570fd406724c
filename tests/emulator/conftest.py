# SPDX-License-Identifier: GPL-3.0-or-later
"""Make the ``armemu`` package importable for the emulator's own tests (tests/conftest.py does the
same for the rest of the suite)."""
from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
