# SPDX-License-Identifier: GPL-3.0-or-later
"""Adapt the conf.py that `antsibull-docs sphinx-init` generated for an offline build.

- intersphinx: the generated mapping downloads inventories from docs.python.org and
  docs.ansible.com. Replace it with a local inventory of the few ansible-core labels that the
  generated pages refer to, so links still point at docs.ansible.com but nothing is downloaded.
- MyST, so the Markdown guides in docs/*.md render in place of their RST stubs.

Usage: python tools/docsite-conf.py SITE_DIR
"""
from __future__ import annotations

import pathlib
import sys
import zlib

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# (label, page, title): ansible-core docsite labels referenced by antsibull-docs' templates.
ANSIBLE_LABELS = [
    ("ansible_configuration_settings", "reference_appendices/config.html", "Ansible Configuration Settings"),
    ("common_return_values", "reference_appendices/common_return_values.html", "Return Values"),
    ("collections_installing", "collections_guide/collections_installing.html", "Installing collections"),
    ("module_defaults", "playbook_guide/playbooks_module_defaults.html", "Module defaults"),
    ("check_mode_dry", "playbook_guide/playbooks_checkmode.html", "Validating tasks: check mode and diff mode"),
    ("playbooks_environment", "playbook_guide/playbooks_environment.html", "Setting the remote environment"),
    ("playbooks_intro", "playbook_guide/playbooks_intro.html", "Ansible playbooks"),
    ("using_collections", "collections_guide/index.html", "Using Ansible collections"),
    # The note on the pages of modules that have an action plugin of the same name.
    ("action_plugins", "plugins/action.html", "Action plugins"),
]

CONF_APPENDIX = '''
# --- added by tools/docsite-conf.py (privatelink.azure) ---
# Offline build: a local inventory instead of downloads from docs.python.org/docs.ansible.com.
intersphinx_mapping = {{
    'ansible_devel': ({url!r}, {inventory!r}),
}}
# The Markdown guides (docs/*.md) are rendered with MyST.
extensions.append('myst_parser')
source_suffix = {{'.rst': 'restructuredtext', '.md': 'markdown'}}
myst_heading_anchors = 3
'''


def write_inventory(path: pathlib.Path) -> None:
    header = (
        "# Sphinx inventory version 2\n"
        "# Project: Ansible\n"
        "# Version: devel\n"
        "# The remainder of this file is compressed using zlib.\n"
    )
    body = "".join(f"{label} std:label -1 {page} {title}\n" for label, page, title in ANSIBLE_LABELS)
    path.write_bytes(header.encode() + zlib.compress(body.encode()))


def main() -> None:
    site = pathlib.Path(sys.argv[1]).resolve()
    inventory = site / "ansible_devel.inv"
    write_inventory(inventory)
    conf = site / "conf.py"
    text = conf.read_text(encoding="utf-8")
    if "# --- added by tools/docsite-conf.py" not in text:
        conf.write_text(text + CONF_APPENDIX.format(url=ANSIBLE_DOCS, inventory=str(inventory)), encoding="utf-8")


if __name__ == "__main__":
    main()
