# SPDX-License-Identifier: GPL-3.0-or-later
"""Check that meta/runtime.yml's requires_ansible claims exactly the ansible-core minors the
version matrix tests: every tested minor is admitted, the minors just outside are not.

  python tools/check-requires-ansible.py 2.17 2.18 2.19 2.20 2.21
"""
from __future__ import annotations

import pathlib
import sys

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parents[1]


def main() -> int:
    tested = sorted({Version(v) for v in sys.argv[1:]})
    if not tested:
        print("usage: check-requires-ansible.py MINOR...", file=sys.stderr)
        return 2
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    claim = SpecifierSet(str(runtime.get("requires_ansible", "")))
    problems = []
    for minor in tested:
        if Version(f"{minor}.0") not in claim:
            problems.append(f"ansible-core {minor} is tested but not admitted")
    oldest, newest = tested[0], tested[-1]
    below = Version(f"{oldest.major}.{oldest.minor - 1}.999")
    above = Version(f"{newest.major}.{newest.minor + 1}.0")
    for version in (below, above):
        if version in claim:
            problems.append(f"ansible-core {version} is admitted but not tested")
    if problems:
        print(f"meta/runtime.yml requires_ansible {str(claim)!r} does not match the tested "
              f"ansible-core {', '.join(map(str, tested))}:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        print(f"  expected for example: requires_ansible: \">={oldest}.0,<{above}\"", file=sys.stderr)
        return 1
    print(f"requires_ansible {str(claim)!r} matches the tested ansible-core {', '.join(map(str, tested))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
