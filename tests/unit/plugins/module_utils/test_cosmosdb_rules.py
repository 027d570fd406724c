# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure rules: input validation, URLs, comparison, transitions, diff."""

from __future__ import annotations

import pytest

from ansible_collections.privatelink.azure.plugins.module_utils import _cosmosdb as c
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

SUB = "11111111-2222-3333-4444-555555555555"

RECORDED = {  # the body of a GET in recordings/cosmosdb-pec-approve-reject-delete.yaml
    "name": "cli-pe-000005",
    "type": "Microsoft.DocumentDB/databaseAccounts/privateEndpointConnections",
    "id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/cli_test_cosmosdb_pe000001/providers/"
          "Microsoft.DocumentDB/databaseAccounts/cli-test-cosmosdb-pe-000002/privateEndpointConnections/cli-pe-000005",
    "properties": {
        "provisioningState": "Succeeded", "groupId": "Sql",
        "privateEndpoint": {"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/"
                                  "cli_test_cosmosdb_pe000001/providers/Microsoft.Network/privateEndpoints/cli-pe-000005"},
        "privateLinkServiceConnectionState": {"status": "Approved", "actionsRequired": "None"},
    },
}


def test_normalize_recorded_body_has_snake_case_fields_and_no_description():
    conn = c.normalize(RECORDED)
    assert conn == {
        "id": RECORDED["id"], "name": "cli-pe-000005", "group_id": "Sql",
        "private_endpoint_id": RECORDED["properties"]["privateEndpoint"]["id"],
        "status": "Approved", "description": None, "actions_required": "None", "provisioning_state": "Succeeded",
    }


@pytest.mark.parametrize("value", [SUB, SUB.upper()])
def test_subscription_guid_accepted(value):
    assert c.validate_subscription_id(value) == value


@pytest.mark.parametrize("value", ["", "not-a-guid", SUB + "0", SUB[:-1], None, 42, [SUB], f"{SUB}/x", SUB + "\n"])
def test_subscription_non_guid_rejected(value):
    with pytest.raises(ValidationError, match="subscription_id must be a subscription GUID"):
        c.validate_subscription_id(value)


@pytest.mark.parametrize("value", ["abc", "orders-db", "a1-b2-c3", "a" * 50])
def test_account_names_from_spec_accepted(value):
    assert c.validate_account_name(value) == value


@pytest.mark.parametrize("value", ["ab", "a" * 51, "Orders", "-abc", "abc-", "a--b", "a_b", "a b", "abc/x", "abc\n", None])
def test_account_names_outside_spec_rejected(value):
    with pytest.raises(ValidationError, match="account_name must be 3-50"):
        c.validate_account_name(value)


@pytest.mark.parametrize("value", ["rg", "RG-data_1.(x)", "a" * 90, "ŕg-ünïcode"])
def test_resource_groups_accepted(value):
    assert c.validate_resource_group(value) == value


@pytest.mark.parametrize("value", ["", "a" * 91, "rg.", "rg/x", "rg?x", "rg#", "r g", "rg%2F", "rg\n", None])
def test_resource_groups_rejected(value):
    with pytest.raises(ValidationError, match="resource_group must be"):
        c.validate_resource_group(value)


@pytest.mark.parametrize("value", ["pe-app.0f1e2d3c", "a", "pe name with spaces", "ünïcode-pe"])
def test_connection_names_accepted(value):
    assert c.validate_connection_name(value) == value


@pytest.mark.parametrize("value", ["", "a/b", "..", "a..b", "a?b", "a#b", "a%2Fb", "a\\b", "a\nb", "a\x00",
                                   "\u202eabc", " lead", "trail ", ".", "x" * 261, None, ["a"]])
def test_connection_names_that_could_change_the_url_rejected(value):
    with pytest.raises(ValidationError, match="name must"):
        c.validate_connection_name(value)


def test_connection_path_percent_encodes_each_segment():
    path = c.connection_path(SUB, "rg(1)", "acct", "pe name:ü")
    assert path == (f"/subscriptions/{SUB}/resourceGroups/rg%281%29/providers/Microsoft.DocumentDB/"
                    "databaseAccounts/acct/privateEndpointConnections/pe%20name%3A%C3%BC")


@pytest.mark.parametrize("value,expected", [("Approved", "Approved"), ("approved", "Approved"),
                                            ("REJECTED", "Rejected")])
def test_status_any_case(value, expected):
    assert c.validate_status(value) == expected


@pytest.mark.parametrize("value", ["Pending", "", None, "Approve", ["Approved"]])
def test_status_other_values_rejected(value):
    with pytest.raises(ValidationError, match="status must be one of Approved, Rejected"):
        c.validate_status(value)


@pytest.mark.parametrize("value", ["a\x07b", "x" * 4097, 5])
def test_bad_descriptions_rejected(value):
    with pytest.raises(ValidationError, match="description must"):
        c.validate_description(value)


CURRENT = {"name": "pe", "status": "Pending", "description": "please", "private_endpoint_id": "/pe/id"}


@pytest.mark.parametrize("current,status,description,expected", [
    ({"status": "Approved", "description": "ok"}, "Approved", "ok", False),
    ({"status": "approved", "description": "ok"}, "Approved", "ok", False),   # status case-insensitive
    ({"status": "Approved", "description": "ok"}, "Approved", None, False),   # omitted description is kept
    ({"status": "Approved", "description": None}, "Approved", "", False),     # missing key == empty
    ({"status": "Approved", "description": None}, "Approved", "hi", True),
    ({"status": "Approved", "description": "ok"}, "Approved", "OK", True),    # description case-sensitive
    ({"status": "Pending", "description": "x"}, "Approved", None, True),
    ({"status": "Approved", "description": "x"}, "Rejected", "x", True),
])
def test_needs_update(current, status, description, expected):
    assert c.needs_update(current, status, description) is expected


def test_desired_keeps_description_when_omitted():
    assert c.desired(CURRENT, "Approved", None)["description"] == "please"
    assert c.desired(CURRENT, "Approved", "")["description"] == ""


def test_rejected_to_approved_refused_with_what_to_do():
    with pytest.raises(c.TransitionError) as err:
        c.check_transition({**CURRENT, "status": "Rejected"}, "Approved")
    assert "re-create" in err.value.msg and "/pe/id" in err.value.msg


@pytest.mark.parametrize("current,status", [("Pending", "Approved"), ("Pending", "Rejected"),
                                            ("Approved", "Rejected"), ("Rejected", "Rejected")])
def test_other_transitions_allowed(current, status):
    c.check_transition({**CURRENT, "status": current}, status)


def test_diff_shows_only_managed_state():
    after = c.desired(CURRENT, "Approved", "ok")
    assert c.diff(CURRENT, after) == {"before": {"status": "Pending", "description": "please"},
                                      "after": {"status": "Approved", "description": "ok"}}
    assert c.diff(CURRENT, None) == {"before": {"status": "Pending", "description": "please"}, "after": {}}
