# SPDX-License-Identifier: GPL-3.0-or-later
"""Seed validation (armemu.seedcheck): every problem names the source and the key path."""
from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import pytest
from emu_helpers import SECRET, build_seed

from armemu.seedcheck import SeedError, check_seed

ROOT = Path(__file__).resolve().parents[3]
SUB = "6b1f5c2e-0000-4000-8000-00000000c0de"
PE = f"/subscriptions/{SUB}/resourceGroups/rg-net/providers/Microsoft.Network/privateEndpoints/pe1"


def seed() -> dict[str, Any]:
    return {
        "subscriptions": [SUB],
        "principals": [{"tenant": "contoso.example", "client_id": "app", "secret": SECRET}],
        "resources": [
            {"type": "Microsoft.Storage/storageAccounts", "subscription_id": SUB, "resource_group": "rg-a",
             "name": "st1", "location": "westeurope", "tags": {"team": "data"},
             "connections": [{"name": "st1.pe1", "private_endpoint_id": PE, "status": "Pending"}]},
            {"type": "Microsoft.KeyVault/vaults", "subscription_id": SUB, "resource_group": "rg-a", "name": "kv1",
             "connections": [{"name": "pe1", "status": "Approved", "description": None, "group_id": "vault"},
                             {"name": "pe2"}]},
        ],
    }


def problem(bad: Any, **kwargs: Any) -> str:
    with pytest.raises(SeedError) as caught:
        check_seed(bad, "seed.yml", **kwargs)
    return str(caught.value)


def test_good_seeds_pass() -> None:
    check_seed(seed(), "seed.yml")
    check_seed(None)
    check_seed({})
    check_seed(seed(), known_types=["microsoft.storage/storageaccounts", "Microsoft.KeyVault/vaults"])


def test_every_seed_the_suite_uses_passes() -> None:
    sys.path.insert(0, str(ROOT / "tests"))
    import support  # pylint: disable=import-outside-toplevel

    check_seed(build_seed("-----BEGIN CERTIFICATE-----\n...\n-----END CERTIFICATE-----\n"))
    check_seed(support.standard_seed())
    if (ROOT / "bench" / "seeds.py").is_file():
        sys.path.insert(0, str(ROOT / "bench"))
        import seeds  # pylint: disable=import-outside-toplevel

        check_seed(seeds.pending_seed(2, 3, approved=1, others=1))
        check_seed(seeds.policy_seed(2, 3))


def test_unknown_key_names_the_path_and_the_known_keys() -> None:
    bad = seed()
    bad["resources"][1]["connections"][0]["stauts"] = "Approved"
    assert problem(bad) == ("seed.yml: resources[1].connections[0].stauts: unknown key "
                            "(known: name, private_endpoint_id, status, description, group_id)")
    assert problem({"acounts": []}).startswith("seed.yml: acounts: unknown key (known: subscriptions, principals,")


@pytest.mark.parametrize(("change", "expected"), [
    (lambda s: s["resources"][0].pop("resource_group"), "resources[0].resource_group: missing required key"),
    (lambda s: s["resources"][0].update(tags=["a"]), "resources[0].tags: expected a mapping, got a list"),
    (lambda s: s["resources"][0]["tags"].update(cost=3), "resources[0].tags.cost: expected a string, got a number"),
    (lambda s: s["resources"][0].update(name=""), "resources[0].name: must not be empty"),
    (lambda s: s["resources"][1]["connections"][1].update(description=5),
     "resources[1].connections[1].description: expected a string or null, got a number"),
    (lambda s: s["resources"][1]["connections"][1].update(status="approved"),
     "resources[1].connections[1].status: 'approved' is not a status (one of Pending, Approved, Rejected, "
     "Disconnected)"),
    (lambda s: s["resources"][1]["connections"][1].update(name="PE1"),
     "resources[1].connections[1].name: duplicate of resources[1].connections[0]"),
    (lambda s: s["resources"][0]["connections"][0].update(private_endpoint_id="pe1"),
     "resources[0].connections[0].private_endpoint_id: expected an ARM resource id"),
    (lambda s: s["resources"][1].update(subscription_id="my-sub"),
     "resources[1].subscription_id: 'my-sub' is not a subscription id"),
    (lambda s: s["resources"][1].update(subscription_id="11111111-2222-3333-4444-555555555555"),
     "resources[1].subscription_id: '11111111-2222-3333-4444-555555555555' is not one of the seed's subscriptions"),
    (lambda s: s.update(subscriptions=["nope"]), "subscriptions[0]: 'nope' is not a subscription id"),
    (lambda s: s["resources"][1].update(type="vaults"), "resources[1].type: 'vaults' is not a resource type"),
    (lambda s: s["resources"].append(copy.deepcopy(s["resources"][0])), "resources[2].name: duplicate of resources[0]"),
    (lambda s: s.update(resources={"a": 1}), "resources: expected a list, got a mapping"),
    (lambda s: s["resources"].append("st2"), "resources[2]: expected a mapping, got a string"),
    (lambda s: s.update(accounts=[{"subscription_id": SUB, "resource_group": "rg", "name": "db",
                                   "connections": [{"status": "Pending"}]}]),
     "accounts[0].connections[0].name: missing required key"),
    (lambda s: s.update(resource_groups=[{"subscription_id": SUB}]), "resource_groups[0].name: missing required key"),
    (lambda s: s.update(managed_identity={"id": "x"}), "managed_identity.id: unknown key (known: client_id, tenant)"),
    (lambda s: s["principals"][0].pop("tenant"), "principals[0].tenant: missing required key"),
    (lambda s: s["principals"][0].update(federated_token="t"),
     "principals[0]: an application needs exactly one of secret, certificate_pem, federated_token "
     "(found secret, federated_token)"),
    (lambda s: s["principals"].append({"username": "u@example.com"}),
     "principals[1].password: missing required key"),
])
def test_problems_name_the_key_path(change: Any, expected: str) -> None:
    bad = seed()
    change(bad)
    assert problem(bad).startswith(f"seed.yml: {expected}")


def test_top_level_must_be_a_mapping_and_types_can_be_restricted() -> None:
    assert problem([1, 2]) == "seed.yml: (top level): expected a mapping, got a list"
    assert problem(seed(), known_types=["Microsoft.Storage/storageAccounts"]) == (
        "seed.yml: resources[1].type: unknown resource type 'Microsoft.KeyVault/vaults' "
        "(known: microsoft.storage/storageaccounts)")


def test_the_error_is_a_value_error_with_parts_and_never_quotes_a_secret() -> None:
    bad = seed()
    bad["principals"][0]["secret"] = ["not", SECRET]
    with pytest.raises(ValueError) as caught:
        check_seed(bad, "world.json")
    error = caught.value
    assert isinstance(error, SeedError)
    assert (error.source, error.path, error.problem) == (
        "world.json", "principals[0].secret", "expected a string, got a list")
    assert SECRET not in str(error)
