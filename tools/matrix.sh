#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Version matrix: the unit tests and the integration tests on several ansible-core minor versions
# and Python versions, each in its own venv under .build/matrix/.
#   tools/matrix.sh                      # every cell in MATRIX_CELLS
#   MATRIX_CELLS="3.11:2.17" tools/matrix.sh
#   MATRIX_E2E_SELECT=all tools/matrix.sh   # the whole e2e suite in every cell
# Per cell: pytest tests/unit (all), the ansible-test integration targets (check -> apply ->
# idempotent re-run -> verify -> cleanup against the emulator, run by that cell's ansible-test),
# and a representative part of the playbook-level suite tests/e2e (the whole suite runs on the
# default venv in `make test-e2e`). meta/runtime.yml's requires_ansible must not claim more than
# these cells cover.
set -euo pipefail

repo_root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo_root"
# Python:ansible-core minor. 2.17-2.19 are the releases that install on Python 3.11; 2.20 and
# 2.21 need Python 3.12 or later.
cells=(${MATRIX_CELLS:-3.11:2.17 3.11:2.18 3.11:2.19 3.12:2.20 3.12:2.21})
e2e_select="${MATRIX_E2E_SELECT:-check_apply_rerun or managed_identity or lists_every_connection or module_defaults_group or no_secret_in_verbose or (each_type and (storageAccounts or KeyVault/vaults or batchAccounts)) or check_mode_predicts}"
matrix_dir="$repo_root/.build/matrix"
mkdir -p "$matrix_dir"

# The dev requirements without their ansible-core line: each cell brings its own ansible-core.
dev_reqs="$matrix_dir/requirements-dev-no-core.txt"
sed -e '/^ansible-core/d' -e "s|^-r requirements.txt|-r $repo_root/requirements.txt|" requirements-dev.txt > "$dev_reqs"

e2e_args=()
[[ "$e2e_select" == all ]] || e2e_args=(-k "$e2e_select")

summary=()
failed=0
claim_ok=true
if [[ -z "${MATRIX_CELLS:-}" ]]; then
  # The full matrix decides what meta/runtime.yml may claim.
  minors=()
  for cell in "${cells[@]}"; do minors+=("${cell#*:}"); done
  "$repo_root/.venv/bin/python" tools/check-requires-ansible.py "${minors[@]}" || claim_ok=false
fi
for cell in "${cells[@]}"; do
  py="${cell%%:*}"
  core="${cell#*:}"
  name="py$py-core$core"
  if ! python="$(tools/find-python.sh "$py")"; then
    echo "matrix: SKIP $name: no Python $py on this machine"
    summary+=("$name skipped (no Python $py)")
    continue
  fi
  venv="$matrix_dir/$name"
  stamp="$(cat "$dev_reqs" requirements.txt | sha256sum | cut -c1-16) ansible-core==$core.*"
  start=$SECONDS
  if [[ ! -f "$venv/.installed" || "$(cat "$venv/.installed")" != "$stamp" ]]; then
    echo "matrix: creating $venv"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -r "$dev_reqs" "ansible-core==$core.*"
    echo "$stamp" > "$venv/.installed"
  fi
  version="$("$venv/bin/python" -c 'import ansible.release as r; print(r.__version__)')"
  echo "=== matrix $name: Python $("$venv/bin/python" -c 'import platform; print(platform.python_version())'), ansible-core $version"
  result=ok
  if ! "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/unit; then
    result="FAILED (unit)"
  elif ! ANSIBLE_TEST_BIN="$venv/bin" STAGE_ROOT="$venv/stage" \
      tools/ansible-test-offline.sh integration --venv --python "$py"; then
    result="FAILED (ansible-test integration)"
  elif ! "$venv/bin/python" -m pytest -q -p no:cacheprovider tests/e2e "${e2e_args[@]}"; then
    result="FAILED (e2e)"
  fi
  [[ "$result" == ok ]] || failed=$((failed + 1))
  summary+=("$name ansible-core $version: $result in $((SECONDS - start))s")
done

echo "=== matrix summary"
printf '  %s\n' "${summary[@]}"
echo "matrix: $(( ${#summary[@]} - failed )) passed, $failed failed"
$claim_ok || echo "matrix: FAIL: meta/runtime.yml requires_ansible does not match the matrix (see above)" >&2
[[ $failed -eq 0 ]] && $claim_ok
