#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Docs gate: the docsite stubs match docs/*.md, antsibull-docs lints the collection docs (plugin
# docs included) clean, the docsite builds offline with warnings as errors, and the pages a
# user looks for are there with their content.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
tools_bin="${TOOLS_BIN:-$repo_root/.build/venv-tools/bin}"
site="$repo_root/.build/docsite"
cd "$repo_root"

fail() { echo "test-docs: FAIL: $*" >&2; exit 1; }

"$tools_bin/python" tools/sync-docsite-guides.py --check || fail "docs/docsite is out of date"

"$repo_root/tools/build-docs.sh" "$site"

stage="$repo_root/.build/ansible_collections/privatelink/azure"
(
  cd "$stage"
  PATH="$tools_bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$repo_root/.build" \
    antsibull-docs lint-collection-docs --plugin-docs --validate-collection-refs all \
    --disallow-unknown-collection-refs .
) || fail "antsibull-docs lint-collection-docs"

html="$site/build/html/collections/privatelink/azure"
checks=0
for module in "$stage"/plugins/modules/*.py; do
  name="$(basename "$module" .py)"
  page="$html/${name}_module.html"
  [[ -f "$page" ]] || fail "no docsite page for module $name ($page)"
  grep -q "privatelink.azure.$name" "$page" || fail "$page does not name privatelink.azure.$name"
  # The module's short_description must be rendered on its page.
  short="$(sed -n 's/^short_description: *//p' "$module" | head -n1)"
  [[ -z "$short" ]] || grep -qF "$short" "$page" || fail "$page lacks the short description: $short"
  checks=$((checks + 1))
done
[[ -f "$html/cosmosdb_private_endpoint_connection_module.html" ]] || fail "core module page missing"
for guide in docs/*.md; do
  [[ -f "$guide" && "$(basename "$guide")" != README.md ]] || continue
  name="$(basename "$guide" .md | tr - _)"
  page="$html/docsite/$name.html"
  [[ -f "$page" ]] || fail "guide $guide not rendered ($page)"
  title="$(sed -n 's/^# \+//p' "$guide" | head -n1)"
  [[ -z "$title" ]] || grep -qF "$title" "$page" || fail "$page lacks the title of $guide"
  checks=$((checks + 1))
done
grep -q "cosmosdb_private_endpoint_connection" "$html/index.html" || fail "collection index does not list the module"
echo "test-docs: $checks pages checked, 0 failed"
