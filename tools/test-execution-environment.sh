#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Execution environment gate (no image build):
#  1. `ansible-builder create` on execution-environment.yml: the context holds the collection
#     tarball, the galaxy requirements that install it and a Containerfile that introspects it;
#  2. `ansible-builder introspect` on the installed tarball, as the builder stage does: the
#     merged Python and system requirements are the collection's lower bounds, no pins;
#  3. pip resolves the merged requirements together with the example's ansible-core and
#     ansible-runner (a conflict would fail the image build).
# Needs the tarball from tools/test-galaxy-install.sh (make test-galaxy).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
tools_bin="${TOOLS_BIN:-$repo_root/.build/venv-tools/bin}"
bin="${BIN:-$repo_root/.venv/bin}"
context="$repo_root/.build/ee-context"
cd "$repo_root"

fail() { echo "test-ee: FAIL: $*" >&2; exit 1; }
# The Makefile exports a collections path with the working tree in it; ansible-galaxy would find
# privatelink.azure there and install nothing.
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS

version="$(sed -n 's/^version: *//p' galaxy.yml | tr -d "\"'")"
tarball_name="privatelink-azure-$version.tar.gz"
[[ -f ".build/dist/$tarball_name" ]] || fail ".build/dist/$tarball_name missing: run make test-galaxy first"
grep -qF "$tarball_name" execution-environment.yml \
  || fail "execution-environment.yml does not reference $tarball_name (galaxy.yml version changed?)"

# 1. the build context
rm -rf "$context"
"$tools_bin/ansible-builder" create -f execution-environment.yml -c "$context" \
  --output-filename Containerfile -v 1
containerfile="$context/Containerfile"
[[ -f "$containerfile" ]] || fail "no Containerfile"
[[ -f "$context/_build/collections/$tarball_name" ]] || fail "tarball not copied into the context"
cmp -s "$context/_build/collections/$tarball_name" ".build/dist/$tarball_name" || fail "context holds another tarball"
grep -qF "/build/collections/$tarball_name" "$context/_build/requirements.yml" \
  || fail "galaxy requirements do not install the tarball"
grep -q 'ansible-galaxy collection install .*-r requirements.yml' "$containerfile" || fail "no collection install step"
grep -q 'introspect.py introspect' "$containerfile" || fail "no introspection step"
grep -q 'install-from-bindep' "$containerfile" || fail "no system package step"

# 2. what the builder stage would merge
work="$(mktemp -d "${TMPDIR:-/tmp}/privatelink-azure-ee.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$bin/ansible-galaxy" collection install --offline --no-deps --force -p "$work/collections" ".build/dist/$tarball_name" >/dev/null
"$tools_bin/ansible-builder" introspect --write-pip "$work/requirements.txt" \
  --write-bindep "$work/bindep.txt" "$work/collections" > "$work/introspect.out"
cat "$work/introspect.out"
echo "--- merged Python requirements"; cat "$work/requirements.txt"
echo "--- merged system requirements"; cat "$work/bindep.txt"
for req in azure-identity requests; do
  grep -Eq "^$req>=[0-9.]+ +# from collection privatelink\.azure" "$work/requirements.txt" \
    || fail "merged Python requirements lack a lower-bound $req from privatelink.azure"
done
if grep -Eq '==|~=|<' "$work/requirements.txt"; then
  fail "merged Python requirements pin or cap versions: $(grep -E '==|~=|<' "$work/requirements.txt")"
fi
dupes="$(sed -E 's/[ ;<>=!~#].*//' "$work/requirements.txt" | grep -v '^$' | sort | uniq -d)"
[[ -z "$dupes" ]] || fail "requirements listed twice: $dupes"
grep -q '^ca-certificates .*# from collection privatelink\.azure' "$work/bindep.txt" || fail "bindep not merged"

# 3. resolvable with the example's ansible-core and ansible-runner
core_spec="$(sed -n 's/^ *package_pip: *\(ansible-core.*\)$/\1/p' execution-environment.yml)"
[[ -n "$core_spec" ]] || fail "no ansible_core package_pip in execution-environment.yml"
"$tools_bin/python" -m pip install --dry-run --ignore-installed --quiet --report "$work/resolve.json" \
  -r "$work/requirements.txt" "$core_spec" ansible-runner \
  || fail "pip cannot resolve the merged requirements with $core_spec"
echo "test-ee: context ok, requirements merged ($(grep -c . "$work/requirements.txt") Python, $(grep -c . "$work/bindep.txt") system), resolvable with $core_spec"
