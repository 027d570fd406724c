#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Print the path of a working pythonX.Y: from PATH, else from pyenv's versions (pyenv's shims
# only run the globally selected versions). Exit 1 if there is none.
#   tools/find-python.sh 3.12
set -euo pipefail
version="$1"
candidates=("$(command -v "python$version" 2>/dev/null || true)")
pyenv_root="${PYENV_ROOT:-$HOME/.pyenv}"
for dir in "$pyenv_root"/versions/"$version".*/bin /usr/bin /usr/local/bin; do
  candidates+=("$dir/python$version")
done
for candidate in "${candidates[@]}"; do
  if [[ -n "$candidate" && -x "$candidate" ]] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
    "$candidate" -c 'import sys; print(sys.executable)'
    exit 0
  fi
done
exit 1
