#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Build the collection docsite offline: antsibull-docs renders the module and role docs and the
# extra docs (docs/docsite/), MyST renders the Markdown guides (docs/*.md), Sphinx builds HTML.
#   tools/build-docs.sh [SITE_DIR]     (default .build/docsite; HTML in SITE_DIR/build/html)
# Needs the tools venv (make tools-venv); TOOLS_BIN overrides its bin directory.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
site="${1:-$repo_root/.build/docsite}"
tools_bin="${TOOLS_BIN:-$repo_root/.build/venv-tools/bin}"
export PATH="$tools_bin:$PATH"

stage="$("$repo_root/tools/stage-collection.sh")"
# The staged copy is the only privatelink.azure that antsibull-docs and ansible-doc may see.
export ANSIBLE_COLLECTIONS_PATH="$(cd "$stage/../../.." && pwd)"
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false

rm -rf "$site"
mkdir -p "$site"
chmod 700 "$site"  # antsibull-docs wants a directory only its owner can write
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$site" \
  --project privatelink.azure --title "privatelink.azure" --copyright "privatelink.azure contributors" \
  privatelink.azure >/dev/null
python "$repo_root/tools/docsite-conf.py" "$site"

cd "$site"
mkdir -p rst
chmod og-w rst
antsibull-docs --config-file antsibull-docs.cfg collection --cleanup everything --fail-on-error \
  --use-current --dest-dir rst privatelink.azure

# Render each Markdown guide in place of its stub (see tools/sync-docsite-guides.py); the stub's
# label is kept as a MyST target so references to it still resolve.
docsite_rst="rst/collections/privatelink/azure/docsite"
if [[ -d "$docsite_rst" ]]; then
  for stub in "$docsite_rst"/*.rst; do
    [[ -f "$stub" ]] || continue
    source_md="$(sed -n 's/^\.\. privatelink-azure-guide-source: //p' "$stub")"
    [[ -n "$source_md" ]] || continue
    label="$(sed -n 's/^\.\. _\(ansible_collections\.[^:]*\):$/\1/p' "$stub" | head -n1)"
    { printf '(%s)=\n\n' "$label"; cat "$stage/$source_md"; } > "${stub%.rst}.md"
    rm "$stub"
  done
  # Guides link to the examples and role definitions next to them ...
  for folder in examples roles; do
    if [[ -d "$stage/docs/$folder" ]]; then
      cp -r "$stage/docs/$folder" "$docsite_rst/$folder"
    fi
  done
  # ... and to each other by their file names, which the docsite spells with underscores.
  for guide in "$stage"/docs/*.md; do
    name="$(basename "$guide")"
    [[ "$name" == *-* ]] || continue
    sed -i "s#](${name}#](${name//-/_}#g" "$docsite_rst"/*.md
  done
fi

sphinx-build -M html rst build -c . -W --keep-going -q
echo "docsite: $site/build/html/index.html"
