# SPDX-License-Identifier: GPL-3.0-or-later
"""`make demo`: start the bundled ARM emulator, approve a pending connection with --diff, run it
again to show that nothing changes; then apply an approval policy to every Private Link resource of the
subscription (check mode, apply, re-run); print what reached ARM each time, stop the emulator."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "emulator"))

from armemu.client import EmulatorControl  # noqa: E402

SUBSCRIPTION = "11111111-2222-3333-4444-555555555555"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
CLIENT_ID = "5e6f0a1b-2c3d-4e5f-8a9b-0c1d2e3f4a5b"
CLIENT_SECRET = "demo-secret-not-used-anywhere-else"  # a service principal that only the emulator knows
SEED = {
    "principals": [{"tenant": TENANT, "client_id": CLIENT_ID, "secret": CLIENT_SECRET}],
    "accounts": [{
        "subscription_id": SUBSCRIPTION, "resource_group": "rg-data", "name": "orders-db", "location": "westus",
        "connections": [
            {"name": "pe-billing.6b1f0c2e", "status": "Pending", "description": "Billing team, please approve",
             "group_id": "Sql", "private_endpoint_id": "/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/"
             "resourceGroups/rg-billing/providers/Microsoft.Network/privateEndpoints/pe-billing"},
            {"name": "pe-unknown.1c9a51d4", "status": "Pending", "group_id": "Sql",
             "private_endpoint_id": "/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/"
             "resourceGroups/rg-x/providers/Microsoft.Network/privateEndpoints/pe-unknown"},
        ],
    }],
    "resources": [
        {"type": "Microsoft.Storage/storageAccounts", "subscription_id": SUBSCRIPTION, "resource_group": "rg-data",
         "name": "ordersdata", "connections": [
             {"name": "ordersdata.5d2c", "status": "Pending", "description": "Billing exports",
              "private_endpoint_id": "/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/"
              "rg-billing/providers/Microsoft.Network/privateEndpoints/pe-exports"},
             {"name": "ordersdata.9e41", "status": "Disconnected", "description": "Endpoint deleted",
              "private_endpoint_id": "/subscriptions/bbbbbbbb-0000-0000-0000-000000000002/resourceGroups/"
              "rg-x/providers/Microsoft.Network/privateEndpoints/pe-old"}]},
        {"type": "Microsoft.KeyVault/vaults", "subscription_id": SUBSCRIPTION, "resource_group": "rg-sec",
         "name": "kv-platform", "connections": [
             {"name": "pe-billing-secrets", "status": "Pending",
              "private_endpoint_id": "/subscriptions/aaaaaaaa-0000-0000-0000-000000000001/resourceGroups/"
              "rg-billing/providers/Microsoft.Network/privateEndpoints/pe-billing-secrets"}]},
    ],
}


def banner(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="privatelink-demo-"))
    seed_file, info_file = work / "seed.json", work / "emulator.json"
    seed_file.write_text(json.dumps(SEED))
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "emulator")}
    emulator = subprocess.Popen(  # pylint: disable=consider-using-with
        [sys.executable, "-m", "armemu", "serve", "--seed", str(seed_file), "--info-file", str(info_file),
         "--op-duration", "2"], env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while not info_file.exists() or not info_file.read_text().strip():
            if emulator.poll() is not None or time.monotonic() > deadline:
                print("The emulator did not start.", file=sys.stderr)
                return 1
            time.sleep(0.1)
        info = json.loads(info_file.read_text())
        control = EmulatorControl(info["base_url"], info["ca_file"])
        banner(f"Local ARM emulator at {info['base_url']} (operations take 2 s, like a fast real one)")
        for resource in [{**SEED["accounts"][0], "type": "Microsoft.DocumentDB/databaseAccounts"},
                         *SEED["resources"]]:
            for conn in resource["connections"]:
                print(f"  {resource['type']} {resource['name']} / {conn['name']}: {conn['status']}")

        play_env = {
            **os.environ,
            # What AWX's built-in "Microsoft Azure Resource Manager" credential injects ...
            "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION, "AZURE_CLIENT_ID": CLIENT_ID,
            "AZURE_SECRET": CLIENT_SECRET, "AZURE_TENANT": TENANT,
            # ... pointed at the emulator instead of Azure.
            "AZURE_ARM_ENDPOINT": info["base_url"], "AZURE_AUTHORITY_HOST": info["base_url"],
            "AZURE_DISABLE_INSTANCE_DISCOVERY": "true", "REQUESTS_CA_BUNDLE": info["ca_file"],
            "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".build" / "collections"),
            "ANSIBLE_PYTHON_INTERPRETER": sys.executable, "ANSIBLE_NOCOLOR": "1",
        }
        ansible_playbook = [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,"]
        one, estate = "docs/examples/approve-pending.yml", "docs/examples/approve-estate.yml"
        for title, command, extra in (
                ("One connection, first run: approve, with --diff", one, ["--diff"]),
                ("One connection, second run: already approved, nothing to write", one, []),
                ("The whole subscription, by rules: what would change (--check --diff)", estate, ["--check", "--diff"]),
                ("The whole subscription: apply", estate, []),
                ("The whole subscription again: nothing left to do", estate, [])):
            command = [*ansible_playbook, command]
            banner(f"{title}: ansible-playbook {' '.join(command[1:] + extra)}")
            control.clear_requests()
            started = time.monotonic()
            if subprocess.run(command + extra, env=play_env, cwd=ROOT, check=False).returncode != 0:
                return 1
            calls = [f"{r['method']} {r['kind']}" for r in control.requests() if r["kind"] in ("arm", "operation")]
            print(f"Requests that reached ARM ({time.monotonic() - started:.1f} s): {', '.join(calls)}")
        return 0
    finally:
        emulator.send_signal(signal.SIGTERM)
        try:
            emulator.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.kill()
        banner("Emulator stopped.")


if __name__ == "__main__":
    sys.exit(main())
