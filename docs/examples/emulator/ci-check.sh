#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# CI job: run a playbook in check mode against the emulator and fail if it wrote anything.
# SEED and PLAYBOOK name yours (default: the examples of docs/emulator.md). Needs the collection installed
# (COLLECTION_DIR), ansible-playbook on PATH and a python3 with the collection's requirements
# (azure-identity brings cryptography; ansible-core brings PyYAML).
set -eu
COLLECTION_DIR="${COLLECTION_DIR:-$HOME/.ansible/collections/ansible_collections/privatelink/azure}"
SEED="${SEED:-$COLLECTION_DIR/docs/examples/emulator/seed.yml}"
PLAYBOOK="${PLAYBOOK:-$COLLECTION_DIR/docs/examples/emulator/approval-policy.yml}"
PYTHON="${PYTHON:-python3}"
armemu() { "$PYTHON" "$COLLECTION_DIR/tests/emulator/armemu" "$@"; }

WORK="$(mktemp -d)"
export ARMEMU_INFO_FILE="$WORK/info.json"
armemu serve --seed "$SEED" --background
trap 'armemu stop; rm -rf "$WORK"' EXIT
eval "$(armemu env)"

ansible-playbook --check --diff "$PLAYBOOK"

armemu log
armemu log --json --kind arm > "$WORK/arm-log.json"
"$PYTHON" - "$WORK/arm-log.json" <<'PY'
import json, sys
log = json.load(open(sys.argv[1], encoding="utf-8"))
writes = [f"{r['method']} {r['path']}" for r in log if r["method"] in ("PUT", "PATCH", "DELETE")]
assert log, "the playbook never reached the emulator"
assert not writes, "check mode wrote: " + ", ".join(writes)
print(f"OK: {len(log)} requests, no writes")
PY
