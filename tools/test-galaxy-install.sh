#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Galaxy gate: `ansible-galaxy collection build` from a clean copy (git-tracked plus untracked,
# non-ignored files), check what the tarball holds and what it must not, install it into an
# empty collections path, and run the integration target against the emulator with ONLY the
# installed copy visible.
#   tools/test-galaxy-install.sh [--build-only]
# The tarball stays in .build/dist/ (used by the execution environment test and example).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
bin="${BIN:-$repo_root/.venv/bin}"
dist="$repo_root/.build/dist"
cd "$repo_root"

fail() { echo "test-galaxy: FAIL: $*" >&2; exit 1; }
# The Makefile exports a collections path with the working tree in it; ansible-galaxy would find
# privatelink.azure there and install nothing.
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS

stage="$(tools/stage-collection.sh)"
rm -rf "$dist"
mkdir -p "$dist"
(cd "$stage" && "$bin/ansible-galaxy" collection build --force --output-path "$dist" .)
version="$(sed -n 's/^version: *//p' galaxy.yml | tr -d "\"'")"
tarball="$dist/privatelink-azure-$version.tar.gz"
[[ -f "$tarball" ]] || fail "expected $tarball"

listing="$(tar -tzf "$tarball" | sed 's|^\./||; s|/$||')"
must_have=(
  MANIFEST.json FILES.json README.md CHANGELOG.md changelogs/changelog.yaml
  meta/runtime.yml meta/execution-environment.yml requirements.txt bindep.txt
  plugins/modules/cosmosdb_private_endpoint_connection.py
  plugins/doc_fragments/azure_auth.py
  docs/docsite/extra-docs.yml docs/docsite/links.yml
)
for path in "${must_have[@]}"; do
  grep -qxF "$path" <<<"$listing" || fail "tarball lacks $path"
done
grep -q '^plugins/module_utils/_.*\.py$' <<<"$listing" || fail "tarball lacks the module_utils"
must_not=('^\.venv' '^\.build' '^tests/output' '^\.git(/|$)' '^\.ci' '^mk(/|$)' '^Makefile$'
          '__pycache__' '\.pyc$' '\.pytest_cache' '\.hypothesis' '\.tar\.gz$')
for pattern in "${must_not[@]}"; do
  if grep -Eq "$pattern" <<<"$listing"; then
    fail "tarball holds files it must not ($pattern): $(grep -E "$pattern" <<<"$listing" | head -n3 | tr '\n' ' ')"
  fi
done
echo "test-galaxy: tarball $(basename "$tarball"): $(wc -l <<<"$listing") entries, contents ok"
[[ "${1:-}" != --build-only ]] || exit 0

work="$(mktemp -d "${TMPDIR:-/tmp}/privatelink-azure-galaxy.XXXXXX")"
trap 'rm -rf "$work"' EXIT
collections="$work/collections"
mkdir -p "$collections"
"$bin/ansible-galaxy" collection install --offline --no-deps --force -p "$collections" "$tarball"
installed="$collections/ansible_collections/privatelink/azure"
[[ -f "$installed/MANIFEST.json" ]] || fail "not installed into $installed"

cat > "$work/play.yml" <<'PLAY'
- name: Run the integration target with the installed collection
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - cosmosdb_private_endpoint_connection
PLAY
# Only the installed copy: no working tree symlink, no collections in site-packages.
env \
  ANSIBLE_COLLECTIONS_PATH="$collections" \
  ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  ANSIBLE_ROLES_PATH="$repo_root/tests/integration/targets" \
  ANSIBLE_LOCAL_TEMP="$work/tmp" \
  ANSIBLE_NOCOLOR=1 \
  HOME="$work" \
  "$bin/ansible-playbook" -i localhost, -e "ansible_python_interpreter=$bin/python" \
    -e "output_dir=$work/output" "$work/play.yml" | tee "$work/play.log"
grep -q "failed=0" "$work/play.log" || fail "playbook failed"
# The module that ran came from the installed copy.
env ANSIBLE_COLLECTIONS_PATH="$collections" ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=false \
  "$bin/ansible-doc" --json privatelink.azure.cosmosdb_private_endpoint_connection \
  | grep -q "\"filename\": \"$installed/plugins/modules/" || fail "ansible-doc did not load the installed copy"
echo "test-galaxy: installed collection ran the integration playbook"
