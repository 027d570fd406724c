#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Galaxy importer gate: run galaxy-importer, what galaxy.ansible.com and Automation Hub run on each
# uploaded tarball, on the tarball `make galaxy-build` makes, offline, and require no error and no
# warning that is not explained below. Then check that the import found what a user looks for on
# the collection's Galaxy page (module docs, the role, the guides, requires_ansible).
#   tools/test-galaxy-importer.sh        (TOOLS_BIN: the tools venv, which has galaxy-importer)
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BIN:-$repo_root/.venv/bin}"
tools_bin="${TOOLS_BIN:-$repo_root/.build/venv-tools/bin}"
cd "$repo_root"

fail() { echo "test-galaxy-importer: FAIL: $*" >&2; exit 1; }

BIN="$bin" tools/test-galaxy-install.sh --build-only
version="$(sed -n 's/^version: *//p' galaxy.yml | tr -d "\"'")"
tarball="$repo_root/.build/dist/privatelink-azure-$version.tar.gz"

work="$(mktemp -d "${TMPDIR:-/tmp}/privatelink-azure-importer.XXXXXX")"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/tmp" "$work/home"
# run_ansible_test off: the importer runs ansible-test sanity in a container image it pulls
# (podman/docker) or, with ansible_test_local_image, one it builds from the network; neither works
# offline, and `make test-sanity` already runs ansible-test sanity on the whole collection, with no
# ignore files, on more Pythons than the importer does.
# run_ansible_lint on, offline: ansible-lint (the importer's pinned version) without installing
# the collection's dependencies from Galaxy; `make test-lint` runs the production profile too.
# run_flake8 and check_required_tags on: stricter than galaxy.ansible.com's defaults, as Automation
# Hub's certification is.
cat > "$work/galaxy-importer.cfg" <<CFG
[galaxy-importer]
run_ansible_test = False
run_ansible_lint = True
offline_ansible_lint = True
run_ansible_doc = True
run_flake8 = True
check_required_tags = True
log_level_main = INFO
tmp_root_dir = $work/tmp
ansible_local_tmp = $work/tmp/ansible
CFG

# The importer finds ansible-doc and ansible-lint on PATH; only the tarball's own copy of the
# collection may be visible (the Makefile exports the working tree's collections path).
(
  cd "$work"
  env -u ANSIBLE_COLLECTIONS_PATH -u ANSIBLE_COLLECTIONS_PATHS \
    HOME="$work/home" PATH="$tools_bin:$PATH" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
    GALAXY_IMPORTER_CONFIG="$work/galaxy-importer.cfg" \
    "$tools_bin/python" -m galaxy_importer.main "$tarball"
) > "$work/import.log" 2>&1 || { cat "$work/import.log"; fail "galaxy-importer failed"; }
cat "$work/import.log"

grep -q '^Importer processing completed successfully$' "$work/import.log" || fail "the import did not complete"
if grep -E '^(ERROR|CRITICAL):' "$work/import.log"; then
  fail "galaxy-importer reported errors"
fi
# Explained warnings (anything else fails):
#   W503 (flake8: line break before binary operator): pycodestyle ignores it by default because it
#   contradicts W504 and PEP 8 now recommends breaking before the operator; the importer's flake8
#   selects it anyway. ansible-test's pep8 sanity test, the collection's style gate, agrees with PEP 8.
#   E999 on plugins/filter/*.yml: the importer hands flake8 every file under plugins/, and a filter
#   plugin's documentation is a YAML file beside it (the format antsibull-docs and ansible-doc read);
#   flake8 parses it as Python. The filter plugins' Python files are checked like every other.
explained='^WARNING: (plugins/[a-z_/]+\.py:[0-9]+:[0-9]+: W503 line break before binary operator|plugins/filter/[a-z_]+\.yml:[0-9]+:[0-9]+: E999 SyntaxError: .*)$'
unexplained="$(grep -E '^WARNING:' "$work/import.log" | grep -Ev "$explained" || true)"
[[ -z "$unexplained" ]] || fail "unexplained galaxy-importer warnings:"$'\n'"$unexplained"

# What Galaxy shows of the collection, from the importer's result.
"$tools_bin/python" - "$work/importer_result.json" <<'PY'
import json
import sys

result = json.load(open(sys.argv[1], encoding="utf-8"))
runtime = open("meta/runtime.yml", encoding="utf-8").read()
problems = []
blob = {(c["content_type"], c["content_name"]): c for c in result["docs_blob"]["contents"]}
for module in ("cosmosdb_private_endpoint_connection", "cosmosdb_private_endpoint_connection_info"):
    doc = (blob.get(("module", module)) or {}).get("doc_strings") or {}
    if not (doc.get("doc", {}).get("short_description") and doc.get("examples") and doc.get("return")):
        problems.append(f"module {module}: no documentation, examples or return values in the import")
if ("role", "cosmosdb_connection_approval") not in blob:
    problems.append("the role cosmosdb_connection_approval was not found")
guides = {f["name"] for f in result["docs_blob"]["documentation_files"]}
if not {"authentication.md", "bootstrap-and-awx.md", "guarantees.md"} <= guides:
    problems.append(f"guides missing from docs/: {sorted(guides)}")
if not result["docs_blob"]["collection_readme"]["html"].strip():
    problems.append("README.md rendered empty")
if f'requires_ansible: "{result["requires_ansible"]}"' not in runtime:
    problems.append(f"requires_ansible {result['requires_ansible']!r} differs from meta/runtime.yml")
if problems:
    sys.exit("test-galaxy-importer: FAIL: " + "; ".join(problems))
print(f"test-galaxy-importer: {len(result['contents'])} content items, {len(guides)} guides, "
      f"requires_ansible {result['requires_ansible']}")
PY
echo "test-galaxy-importer: the import passed with no error and only explained warnings"
