#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Changelog gate: fragments and changelogs/changelog.yaml pass `antsibull-changelog lint`, and
# CHANGELOG.md is exactly what `antsibull-changelog generate` renders from them (regenerated in
# the staged copy, so the working tree is never touched).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
tools_bin="${TOOLS_BIN:-$repo_root/.build/venv-tools/bin}"
export PATH="$tools_bin:$PATH"
cd "$repo_root"

antsibull-changelog lint
stage="$(tools/stage-collection.sh)"
(
  cd "$stage"
  ANSIBLE_COLLECTIONS_PATH="$repo_root/.build" antsibull-changelog generate
)
if ! diff -u CHANGELOG.md "$stage/CHANGELOG.md"; then
  echo "test-changelog: FAIL: CHANGELOG.md is not up to date; run antsibull-changelog generate" >&2
  exit 1
fi
echo "test-changelog: lint clean, CHANGELOG.md up to date"
