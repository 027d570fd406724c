# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point for ``python3 <collection>/tests/emulator/armemu COMMAND ...`` and ``python -m armemu COMMAND``."""
from __future__ import annotations

import os
import sys

if not __package__:
    # Run as a directory script: make the package importable by its name.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))]

from armemu.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
