#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# CI job: run the approval policy in check mode against the emulator and fail if it wrote anything.
# Needs the collection installed (COLLECTION_DIR), ansible-playbook on PATH and a python3 with the
# collection's requirements (azure-identity brings cryptography; ansible-core brings PyYAML).
set -eu
COLLECTION_DIR="${COLLECTION_DIR:-$HOME/.ansible/collections/ansible_collections/privatelink/azure}"
EXAMPLES="$COLLECTION_DIR/docs/examples/emulator"
PYTHON="${PYTHON:-python3}"
armemu() { "$PYTHON" "$COLLECTION_DIR/tests/emulator/armemu" "$@"; }

WORK="$(mktemp -d)"
export ARMEMU_INFO_FILE="$WORK/info.json"
armemu serve --seed "$EXAMPLES/seed.yml" --background
trap 'armemu stop; rm -rf "$WORK"' EXIT
eval "$(armemu env)"

ansible-playbook --check --diff "$EXAMPLES/approval-policy.yml"

armemu log
armemu log --json --kind arm > "$WORK/arm-log.json"
"$PYTHON" - "$WORK/arm-log.json" <<'PY'
import json, sys
log = json.load(open(sys.argv[1], encoding="utf-8"))
reads = [r for r in log if r["method"] == "GET"]
writes = [f"{r['method']} {r['path']}" for r in log if r["method"] in ("PUT", "PATCH", "DELETE")]
assert reads, "the playbook never reached the emulator"
assert not writes, "check mode wrote: " + ", ".join(writes)
print(f"OK: {len(reads)} reads, no writes")
PY
