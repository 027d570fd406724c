#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Run ansible-test on a staged copy of the collection, on a machine that only reaches PyPI.
#   tools/ansible-test-offline.sh sanity --venv --python 3.11
#   ANSIBLE_TEST_BIN=.build/matrix/py3.11-core2.17/bin STAGE_ROOT=.build/matrix/py3.11-core2.17/stage \
#     tools/ansible-test-offline.sh units --venv --python 3.11
# - stages git-tracked and untracked-but-not-ignored files into
#   $STAGE_ROOT/ansible_collections/privatelink/azure (default STAGE_ROOT: .build);
# - seeds ansible-test's pip bootstrap cache from a pip wheel (ansible/ansible#77304);
# - makes every --python X.Y that --venv needs findable on PATH (pyenv versions included).
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
bin_dir="${ANSIBLE_TEST_BIN:-${BIN:-$repo_root/.venv/bin}}"
stage_root="${STAGE_ROOT:-$repo_root/.build}"

stage="$("$repo_root/tools/stage-collection.sh" "$stage_root")"
"$bin_dir/python" "$repo_root/tools/seed-ansible-test-pip.py" --wheel-dir "$repo_root/.build/wheels"

# ansible-test --venv looks up pythonX.Y on PATH.
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [[ "${args[$i]}" == --python && $((i + 1)) -lt ${#args[@]} ]]; then
    version="${args[$((i + 1))]}"
    if python_path="$("$repo_root/tools/find-python.sh" "$version")"; then
      export PATH="$(dirname "$python_path"):$PATH"
    fi
  fi
done

cd "$stage"
# The collection under test is the staged copy, never the working tree symlink.
unset ANSIBLE_COLLECTIONS_PATH ANSIBLE_COLLECTIONS_PATHS
echo "ansible-test $* (in $stage, ansible-core $("$bin_dir/python" -c 'import ansible.release as r; print(r.__version__)'))"
exec "$bin_dir/ansible-test" "$@" --color no
