# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point for ``python3 <collection>/tests/emulator/armemu COMMAND ...`` and ``python -m armemu COMMAND``."""
from __future__ import annotations

import os
import sys

if not __package__:
    # Run as a directory script: make the package importable by its name.
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))]


def _run() -> int:
    try:
        from armemu.cli import main  # pylint: disable=import-outside-toplevel

        return main()
    except ModuleNotFoundError as exc:
        # The usual cause: a python3 other than the one Ansible (and azure-identity) is installed in.
        print(f"armemu: this Python ({sys.executable}) has no module {exc.name!r}; run armemu with the Python "
              "that runs Ansible (it has cryptography and PyYAML)", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(_run())
