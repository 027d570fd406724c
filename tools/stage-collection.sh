#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Copy the collection into DEST/ansible_collections/privatelink/azure as a real directory tree.
# ansible-test refuses a symlinked collection root and writes tests/output/ into it, so the
# quality gates run on this copy, never on the working tree.
# Copied: git-tracked files that still exist plus untracked files that are not git-ignored,
# i.e. exactly what a fresh clone plus the work in progress would contain.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
dest_root="${1:-$repo_root/.build}"
stage="$dest_root/ansible_collections/privatelink/azure"

# Build the new tree beside the old one, then swap (stale files and old tests/output go away).
rm -rf "$stage.new"
mkdir -p "$stage.new"
cd "$repo_root"
git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' path; do
      # A tracked file may be deleted in the working tree but not yet committed.
      [[ -f "$path" || -L "$path" ]] && printf '%s\0' "$path"
    done \
  | xargs -0 --no-run-if-empty cp --parents -P -t "$stage.new"
# ansible-test lists content with git when it finds a .git on the way up; without one here it
# would find the outer repository, where .build/ is ignored, and see no files at all.
git -C "$stage.new" init -q
rm -rf "$stage"
mv "$stage.new" "$stage"
echo "$stage"
