# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy's decision engine: validation, matchers, first-match order, outcomes, summary and report."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.privatelink.azure.plugins.module_utils import _policy as p
from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

COSMOS = "Microsoft.DocumentDB/databaseAccounts"
STORAGE = "Microsoft.Storage/storageAccounts"
KNOWN = (COSMOS, STORAGE, "Microsoft.Sql/servers")
HOME = "11111111-2222-3333-4444-555555555555"
ALLOWED = "aaaaaaaa-0000-0000-0000-000000000001"
FOREIGN = "cccccccc-0000-0000-0000-000000000003"
ACCOUNT = f"/subscriptions/{HOME}/resourceGroups/rg-data/providers/{COSMOS}/orders-db"


def endpoint(subscription: str = ALLOWED, group: str = "rg-app", name: str = "pe-app") -> str:
    return f"/subscriptions/{subscription}/resourceGroups/{group}/providers/Microsoft.Network/privateEndpoints/{name}"


def conn(name: str = "pe-app.0f1e", *, status: str = "Pending", description: str | None = "please approve",
         private_endpoint_id: str | None = None, resource_id: str = ACCOUNT, resource_type: str = COSMOS,
         tags: dict | None = None, group_ids: tuple = ("Sql",)) -> dict:
    return {
        "id": f"{resource_id}/privateEndpointConnections/{name}", "name": name, "resource_id": resource_id,
        "resource_type": resource_type, "resource_tags": dict(tags or {}),
        "private_endpoint_id": endpoint() if private_endpoint_id is None else private_endpoint_id,
        "status": status, "description": description, "group_ids": list(group_ids), "etag": "W/\"1\"",
    }


def rules(*raw: dict) -> tuple[p.Rule, ...]:
    return p.validate_rules(list(raw), KNOWN)


def outcome(connection: dict, *raw: dict) -> tuple[str, str | None]:
    decision = p.decide(connection, rules(*raw))
    return decision.outcome, decision.rule


# -- scope ---------------------------------------------------------------------------------------------
def test_scope_canonical_spellings():
    scope = p.validate_scope({
        "subscriptions": [ALLOWED.upper()], "resource_groups": ["rg-data"],
        "resource_types": ["microsoft.documentdb/DATABASEACCOUNTS"],
        "resources": [ACCOUNT.replace(COSMOS, "microsoft.storage/storageaccounts")],
    }, KNOWN)
    assert scope == p.Scope(subscriptions=(ALLOWED,), resource_groups=("rg-data",), resource_types=(COSMOS,),
                            resources=(ACCOUNT.replace(COSMOS, STORAGE),))


def test_scope_with_resources_only_and_omitted_keys_as_none():
    scope = p.validate_scope({"subscriptions": None, "resources": [ACCOUNT], "resource_groups": None}, KNOWN)
    assert scope.resources == (ACCOUNT,) and scope.subscriptions == ()


def test_scope_resource_relative_to_the_modules_subscription():
    relative = ACCOUNT.split(HOME, 1)[1]
    assert relative.startswith("/resourceGroups/")
    scope = p.validate_scope({"resources": [relative, ACCOUNT.replace(HOME, ALLOWED)]}, KNOWN, HOME.upper())
    assert scope.resources == (ACCOUNT, ACCOUNT.replace(HOME, ALLOWED))
    with pytest.raises(ValidationError, match=r"^scope.resources\[0\]: '/resourceGroups/rg-data/.*' names no "
                                              "subscription and subscription_id is not set"):
        p.validate_scope({"resources": [relative]}, KNOWN)
    with pytest.raises(ValidationError, match=r"^scope.resources\[1\]: .* is listed twice"):
        p.validate_scope({"resources": [relative, ACCOUNT.upper()]}, KNOWN, HOME)


@pytest.mark.parametrize("scope, path", [
    ({}, "scope: give at least one of subscriptions or resources"),
    ({"resource_groups": ["rg"]}, "scope: give at least one"),
    ({"subscriptions": [HOME], "regions": ["x"]}, "scope: unknown key(s) regions; known keys are subscriptions"),
    ({"subscriptions": ["not-a-guid"]}, "scope.subscriptions[0]: must be a subscription GUID"),
    ({"subscriptions": [HOME, HOME.upper()]}, "scope.subscriptions[1]: "),
    ({"subscriptions": [HOME], "resource_types": ["Microsoft.Nope/things"]},
     "scope.resource_types[0]: unknown resource type 'Microsoft.Nope/things'; known types are"),
    ({"subscriptions": [HOME], "resource_groups": ["bad/rg"]}, "scope.resource_groups[0]: must be 1-90"),
    ({"resources": ["/subscriptions/x/orders-db"]}, "scope.resources[0]: must be an ARM resource ID"),
    ({"resources": [ACCOUNT.replace(HOME, "nope")]}, "scope.resources[0] (subscription): must be a subscription"),
    ({"resources": [ACCOUNT.replace(COSMOS, "Microsoft.Web/sites")]}, "scope.resources[0]: unknown resource type"),
    ({"resources": [ACCOUNT + "/privateEndpointConnections/x"]}, "scope.resources[0]: must be an ARM resource ID"),
    ({"resources": "oops"}, "scope.resources: must be a list of strings"),
    ("everything", "scope: must be a dictionary"),
])
def test_scope_errors_name_the_entry(scope, path):
    with pytest.raises(ValidationError) as err:
        p.validate_scope(scope, KNOWN)
    assert err.value.msg.startswith(path)


# -- rules: validation -------------------------------------------------------------------------------------
def test_rule_defaults():
    (rule,) = rules({"action": "Approve"})
    assert rule == p.Rule(name="rule 1", action="approve", statuses=("Pending",))


def test_empty_or_omitted_rules_leave_everything():
    assert p.validate_rules([], KNOWN) == () and p.validate_rules(None, KNOWN) == ()
    decision = p.decide(conn(), ())
    assert (decision.outcome, decision.action, decision.rule) == ("left", "leave", None)


@pytest.mark.parametrize("raw, message", [
    ([{"action": "approve", "colour": "x"}], "rules[0]: unknown key(s) colour; known keys are name, action, "),
    ([{"name": "x"}], "rules[0].action: required"),
    ([{"action": "approve"}, {"action": "allow"}], "rules[1].action: unknown action 'allow'"),
    ([{"action": "approve"}, {"action": "approve", "request_message": "("}],
     "rules[1].request_message: not a valid regular expression"),
    ([{"action": "approve", "endpoint_subscriptions": [ALLOWED, "abc"]}],
     "rules[0].endpoint_subscriptions[1]: must be a subscription GUID"),
    ([{"action": "approve", "statuses": ["Pending", "Approving"]}], "rules[0].statuses[1]: unknown status"),
    ([{"action": "approve", "resource_types": ["Microsoft.Web/sites"]}],
     "rules[0].resource_types[0]: unknown resource type"),
    ([{"action": "delete", "description": "bye"}], "rules[0].description: a delete rule writes no description"),
    ([{"action": "leave", "description": "stay"}], "rules[0].description: a leave rule writes no description"),
    ([{"action": "approve", "description": "{owner}"}], "rules[0].description: unknown field {owner}"),
    ([{"action": "approve", "description": "{rule.__class__}"}], "rules[0].description: unknown field"),
    ([{"action": "approve", "description": "{status[0]}"}], "rules[0].description: unknown field"),
    ([{"action": "approve", "description": "{}"}], "rules[0].description: unknown field {}"),
    ([{"action": "approve", "description": "{0}"}], "rules[0].description: unknown field {0}"),
    ([{"action": "approve", "description": "{rule"}], "rules[0].description: not a valid template"),
    ([{"action": "approve", "description": "{rule:d}"}], "rules[0].description: not a valid template"),
    ([{"action": "approve", "description": "{rule:{status}}"}], "rules[0].description: the format of {rule}"),
    ([{"action": "approve", "description": 5}], "rules[0].description: must be a string"),
    ([{"action": "approve", "resource_tags": {"env": True}}], "rules[0].resource_tags.env: tag values are strings"),
    ([{"action": "approve", "resource_tags": ["env"]}], "rules[0].resource_tags: must be a dictionary"),
    ([{"action": "approve", "connection_names": "pe-*"}], "rules[0].connection_names: must be a list"),
    ([{"action": "approve", "group_ids": ["Sql", ""]}], "rules[0].group_ids[1]: must be a non-empty string"),
    ([{"action": "approve", "name": "a"}, {"action": "reject", "name": "A"}],
     "rules[1].name: 'A' is already the name of rules[0]"),
    ([{"action": "approve", "name": ""}], "rules[0].name: must be a non-empty string"),
    (["approve"], "rules[0]: must be a dictionary"),
    ({"action": "approve"}, "rules: must be a list"),
])
def test_rule_errors_name_the_rule_and_key(raw, message):
    with pytest.raises(ValidationError) as err:
        p.validate_rules(raw, KNOWN)
    assert err.value.msg.startswith(message), err.value.msg


def test_unknown_key_message_lists_every_known_key():
    with pytest.raises(ValidationError) as err:
        p.validate_rules([{"action": "approve", "subscriptions": [ALLOWED]}], KNOWN)
    assert all(key in err.value.msg for key in p.RULE_KEYS)


def test_matchers_given_as_none_are_not_given():
    """The module's argument spec fills omitted suboptions with None."""
    (rule,) = rules({"action": "approve", "name": None, "statuses": None, "endpoint_subscriptions": None,
                     "description": None, "request_message": None, "resource_tags": None})
    assert rule == p.Rule(name="rule 1", action="approve")


# -- matchers, each alone -----------------------------------------------------------------------------
@pytest.mark.parametrize("status, matched", [("Pending", True), ("pending", True), ("Approved", False),
                                             ("Rejected", False), ("Disconnected", False)])
def test_default_statuses_are_pending_only(status, matched):
    assert outcome(conn(status=status), {"action": "reject"})[1] == ("rule 1" if matched else None)


def test_statuses_any_case_in_canonical_out():
    (rule,) = rules({"action": "delete", "statuses": ["disconnected", "REJECTED"]})
    assert rule.statuses == ("Disconnected", "Rejected")
    assert p.decide(conn(status="Disconnected"), (rule,)).outcome == "deleted"
    assert p.decide(conn(status="Pending"), (rule,)).outcome == "left"


@pytest.mark.parametrize("matcher, connection, matched", [
    ({"endpoint_subscriptions": [ALLOWED.upper()]}, conn(), True),
    ({"endpoint_subscriptions": [FOREIGN]}, conn(), False),
    ({"endpoint_subscriptions": []}, conn(), False),  # an empty list matches nothing
    ({"endpoint_subscriptions": [ALLOWED]}, conn(private_endpoint_id=""), False),
    ({"endpoint_resource_groups": ["RG-*"]}, conn(), True),
    ({"endpoint_resource_groups": ["rg-app"]}, conn(private_endpoint_id=endpoint(group="RG-APP")), True),
    ({"endpoint_resource_groups": ["rg-ap"]}, conn(), False),
    ({"endpoint_names": ["pe-?pp"]}, conn(), True),
    ({"endpoint_names": ["PE-[ab]pp"]}, conn(), True),
    ({"endpoint_names": ["other-*"]}, conn(), False),
    ({"endpoint_names": ["*"]}, conn(private_endpoint_id="/subscriptions/x/odd"), False),
    ({"connection_names": ["PE-APP.*"]}, conn(), True),
    ({"connection_names": ["pe-app"]}, conn(), False),
    ({"request_message": "CHG-[0-9]+"}, conn(description="for CHG-1234 please"), True),
    ({"request_message": "^CHG"}, conn(description="for CHG-1234"), False),
    ({"request_message": "(?i)chg"}, conn(description="CHG-1"), True),
    ({"request_message": "^$"}, conn(description=None), True),  # no message is the empty message
    ({"group_ids": ["sql"]}, conn(group_ids=("Sql",)), True),
    ({"group_ids": ["MongoDB"]}, conn(group_ids=("Sql", "mongodb")), True),
    ({"group_ids": ["blob"]}, conn(group_ids=("Sql",)), False),
    ({"group_ids": ["sql"]}, conn(group_ids=()), False),
    ({"resource_types": ["microsoft.documentdb/databaseaccounts"]}, conn(), True),
    ({"resource_types": [STORAGE]}, conn(), False),
    ({"resource_tags": {"ENV": "prod"}}, conn(tags={"env": "prod"}), True),
    ({"resource_tags": {"env": "Prod"}}, conn(tags={"env": "prod"}), False),  # values are exact
    ({"resource_tags": {"env": "prod-*"}}, conn(tags={"Env": "prod-eu"}), True),
    ({"resource_tags": {"env": "prod", "team": "data"}}, conn(tags={"env": "prod"}), False),
    ({"resource_tags": {"env": "prod", "team": "d*"}}, conn(tags={"env": "prod", "TEAM": "data"}), True),
    ({"resource_tags": {"env": "[x]"}}, conn(tags={"env": "[x]"}), True),  # exact even when it reads as a glob
    ({"resource_tags": {}}, conn(), True),
])
def test_each_matcher_alone(matcher, connection, matched):
    assert outcome(connection, {"action": "approve", **matcher})[1] == ("rule 1" if matched else None)


def test_request_message_is_only_a_pending_connections_description():
    """Once decided, the description is the provider's answer, not the consumer's request."""
    rule = {"action": "reject", "statuses": ["Pending", "Approved"], "request_message": "please"}
    assert outcome(conn(status="Pending", description="please"), rule) == ("rejected", "rule 1")
    assert outcome(conn(status="Approved", description="please"), rule) == ("left", None)


def test_all_matchers_must_hold():
    rule = {"action": "approve", "endpoint_subscriptions": [ALLOWED], "endpoint_resource_groups": ["rg-*"],
            "endpoint_names": ["pe-*"], "connection_names": ["pe-*"], "request_message": "approve",
            "group_ids": ["sql"], "resource_types": [COSMOS], "resource_tags": {"env": "prod"}}
    matching = conn(tags={"env": "prod"})
    assert outcome(matching, rule) == ("approved", "rule 1")
    for spoiler in [{"private_endpoint_id": endpoint(subscription=FOREIGN)},
                    {"private_endpoint_id": endpoint(group="x")}, {"private_endpoint_id": endpoint(name="x")}, {"name": "x"}, {"description": "deny"},
                    {"group_ids": ["blob"]}, {"resource_type": STORAGE}, {"resource_tags": {"env": "dev"}},
                    {"status": "Approved"}]:
        assert outcome({**matching, **spoiler}, rule) == ("left", None), spoiler


# -- first match, actions and outcomes ----------------------------------------------------------------
def test_first_matching_rule_wins():
    ordered = ({"name": "ours", "action": "approve", "endpoint_subscriptions": [ALLOWED]},
               {"name": "rest", "action": "reject"})
    assert outcome(conn(), *ordered) == ("approved", "ours")
    assert outcome(conn(private_endpoint_id=endpoint(FOREIGN)), *ordered) == ("rejected", "rest")
    assert outcome(conn(), *reversed(ordered)) == ("rejected", "rest")


def test_a_leave_rule_stops_later_rules_and_is_recorded():
    decision = p.decide(conn(), rules({"name": "hold", "action": "leave", "request_message": "approve"},
                                      {"action": "approve"}))
    assert (decision.outcome, decision.action, decision.rule, decision.needs_write) == ("left", "leave", "hold", False)
    assert (decision.status_after, decision.description_after) == ("Pending", "please approve")


def test_approve_predicts_status_and_default_description():
    decision = p.decide(conn(), rules({"name": "ours", "action": "approve"}))
    assert decision.as_result() == {
        "resource_id": ACCOUNT, "resource_type": COSMOS, "connection_name": "pe-app.0f1e",
        "connection_id": f"{ACCOUNT}/privateEndpointConnections/pe-app.0f1e", "private_endpoint_id": endpoint(),
        "endpoint_subscription": ALLOWED, "status_before": "Pending", "description_before": "please approve",
        "rule": "ours", "action": "approve", "status_after": "Approved",
        "description_after": "Approved by privatelink.azure policy rule 'ours'", "outcome": "approved",
        "error": None, "request_id": None,
    }
    assert decision.needs_write and decision.target_status == "Approved"


def test_reject_default_description():
    decision = p.decide(conn(), rules({"action": "reject"}))
    assert (decision.outcome, decision.status_after, decision.description_after) == (
        "rejected", "Rejected", "Rejected by privatelink.azure policy rule 'rule 1'")


def test_delete_predicts_no_state():
    decision = p.decide(conn(status="Disconnected"), rules({"action": "delete", "statuses": ["Disconnected"]}))
    assert (decision.outcome, decision.status_after, decision.description_after) == ("deleted", None, None)
    assert decision.needs_write and decision.target_status is None


def test_approve_of_approved_with_same_description_is_left_with_its_rule():
    rule = {"name": "keep", "action": "approve", "statuses": ["approved"], "description": "ok"}
    decision = p.decide(conn(status="approved", description="ok"), rules(rule))
    assert (decision.outcome, decision.rule, decision.action, decision.needs_write) == (
        "left", "keep", "approve", False)
    assert decision.status_after == "approved"


def test_approve_of_approved_with_another_description_rewrites_it():
    rule = {"action": "approve", "statuses": ["Approved"], "description": "ok"}
    decision = p.decide(conn(status="Approved", description="old"), rules(rule))
    assert (decision.outcome, decision.status_after, decision.description_after) == ("approved", "Approved", "ok")


def test_empty_description_equals_none():
    rule = {"action": "reject", "statuses": ["Rejected"], "description": ""}
    assert p.decide(conn(status="Rejected", description=None), rules(rule)).outcome == "left"


def test_template_fills_every_field():
    template = " ".join(f"{name}={{{name}}}" for name in p.TEMPLATE_FIELDS)
    decision = p.decide(conn(description="CHG-9"), rules({"name": "r", "action": "approve", "description": template}))
    assert decision.description_after == (
        f"rule=r connection_name=pe-app.0f1e private_endpoint_id={endpoint()} endpoint_subscription={ALLOWED} "
        f"endpoint_resource_group=rg-app endpoint_name=pe-app resource_id={ACCOUNT} resource_name=orders-db "
        f"resource_type={COSMOS} request_message=CHG-9 status=Pending")


def test_template_conversions_specs_and_literal_braces():
    rule = {"action": "approve", "description": "{{ok}} {rule!r} {status:>9}|"}
    assert p.decide(conn(), rules(rule)).description_after == "{ok} 'rule 1'   Pending|"


def test_template_with_missing_values_renders_them_empty():
    rule = {"action": "reject", "description": "[{endpoint_name}] [{endpoint_subscription}]"}
    assert p.decide(conn(private_endpoint_id=""), rules(rule)).description_after == "[] []"


def test_managed_endpoint_in_a_microsoft_subscription_parses():
    managed = endpoint("dddddddd-0000-0000-0000-00000000000d", "managed-rg", "adf-managed.pe")
    assert p.endpoint_parts(managed) == ("dddddddd-0000-0000-0000-00000000000d", "managed-rg", "adf-managed.pe")


@pytest.mark.parametrize("value, parts", [
    (None, (None, None, None)), ("", (None, None, None)), (42, (None, None, None)),
    ("/subscriptions/abc/resourceGroups/rg/providers/Microsoft.Web/sites/x", ("abc", None, None)),
    (endpoint().lower() + "/", (ALLOWED, "rg-app", "pe-app")),
    ("privateEndpoints/pe", (None, None, None)),
])
def test_endpoint_parts_of_missing_or_odd_ids(value, parts):
    assert p.endpoint_parts(value) == parts


# -- refusal ---------------------------------------------------------------------------------------------
def test_refused_transition_fails_without_write():
    calls = []

    def refusal(resource_type, current, target):
        calls.append((resource_type, current, target))
        return "Cosmos DB cannot approve a rejected connection" if current == "Rejected" else None

    ruleset = rules({"action": "approve", "statuses": ["Rejected", "Pending"]})
    refused = p.decide(conn(status="Rejected", description="no"), ruleset, refusal)
    assert (refused.outcome, refused.needs_write, refused.status_after, refused.description_after) == (
        "failed", False, "Rejected", "no")
    assert refused.error == {"code": "TransitionRefused", "message": "Cosmos DB cannot approve a rejected connection"}
    assert p.decide(conn(), ruleset, refusal).outcome == "approved"
    assert calls == [(COSMOS, "Rejected", "Approved"), (COSMOS, "Pending", "Approved")]


def test_refusal_sees_none_as_target_of_a_delete_and_is_not_asked_without_write():
    calls = []
    ruleset = rules({"action": "delete"}, )
    p.decide(conn(), ruleset, lambda *args: calls.append(args))
    p.decide(conn(status="Approved"), ruleset, lambda *args: calls.append(args))  # no rule matches
    assert calls == [(COSMOS, "Pending", None)]


# -- plan, compare-before-write, later outcomes --------------------------------------------------------
def test_plan_orders_by_resource_then_connection_case_insensitively():
    other = ACCOUNT.replace("orders-db", "Billing-db")
    decisions = p.plan([conn("b"), conn("C", resource_id=other), conn("A"), conn("a2", resource_id=other)], ())
    assert [(d.resource_id, d.connection_name) for d in decisions] == [
        (other, "a2"), (other, "C"), (ACCOUNT, "A"), (ACCOUNT, "b")]


def test_still_as_planned():
    decision = p.decide(conn(description=None), rules({"action": "approve"}))
    assert p.still_as_planned(decision, conn(status="PENDING", description=""))
    assert not p.still_as_planned(decision, None)
    assert not p.still_as_planned(decision, conn(status="Approved", description=None))
    assert not p.still_as_planned(decision, conn(description="changed"))


def test_failed_and_changed_elsewhere_keep_the_connection_as_it_was():
    decision = p.decide(conn(), rules({"action": "approve"}))
    failed = decision.failed({"code": "Conflict", "message": "busy"}, "req-1")
    assert (failed.outcome, failed.error["code"], failed.request_id, failed.status_after) == (
        "failed", "Conflict", "req-1", "Pending")
    elsewhere = decision.changed_elsewhere()
    assert (elsewhere.outcome, elsewhere.status_after, elsewhere.rule) == ("changed_elsewhere", "Pending", "rule 1")


# -- summary and diff ----------------------------------------------------------------------------------
def test_summarize_counts():
    ruleset = rules({"action": "approve", "endpoint_subscriptions": [ALLOWED]},
                    {"action": "delete", "statuses": ["Disconnected"]},
                    {"action": "reject", "resource_types": [STORAGE]})
    connections = [conn("a"), conn("b"), conn("c", status="Disconnected"), conn("d", status="Approved"),
                   conn("e", private_endpoint_id=endpoint(FOREIGN), resource_type=STORAGE,
                        resource_id=ACCOUNT.replace(COSMOS, STORAGE))]
    decisions = p.plan(connections, ruleset)
    decisions[1] = decisions[1].failed({"code": "X"})
    summary = p.summarize(decisions)
    assert summary == {
        "total": 5,
        "by_outcome": {"approved": 1, "rejected": 1, "deleted": 1, "left": 1, "changed_elsewhere": 0, "failed": 1},
        "by_resource_type": {
            COSMOS: {"approved": 1, "rejected": 0, "deleted": 1, "left": 1, "changed_elsewhere": 0, "failed": 1},
            STORAGE: {"approved": 0, "rejected": 1, "deleted": 0, "left": 0, "changed_elsewhere": 0, "failed": 0}},
        "writes": 3, "failed": 1,
    }
    assert p.summarize([d.as_result() for d in decisions]) == summary


def test_summarize_nothing_has_every_outcome():
    assert p.summarize([]) == {"total": 0, "by_outcome": dict.fromkeys(p.OUTCOMES, 0), "by_resource_type": {},
                               "writes": 0, "failed": 0}


def test_diff_of_approve_delete_and_left():
    approved = p.decide(conn(description=None), rules({"action": "approve", "description": "ok"}))
    assert p.diff(approved) == {"before_header": approved.connection_id, "after_header": approved.connection_id,
                                "before": {"status": "Pending", "description": None},
                                "after": {"status": "Approved", "description": "ok"}}
    deleted = p.decide(conn(), rules({"action": "delete"}))
    assert p.diff(deleted)["after"] == {} and p.diff(deleted)["before"]["status"] == "Pending"
    left = p.diff(p.decide(conn(), ()).as_result())
    assert left["before"] == left["after"] == {"status": "Pending", "description": "please approve"}


# -- Markdown report -----------------------------------------------------------------------------------
def _cells(line: str) -> list[str]:
    """Split a Markdown table row the way GitHub does: an escaped pipe is not a separator."""
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def test_render_markdown_tables_and_failures():
    decisions = p.plan([conn("ok"), conn("bad", status="Rejected")],
                       rules({"name": "ours", "action": "approve", "statuses": ["Pending", "Rejected"]}),
                       lambda _type, current, _target: "no way" if current == "Rejected" else None)
    assert [d.connection_name for d in decisions] == ["bad", "ok"]
    decisions[1] = decisions[1].failed({"code": "Conflict", "message": "busy"}, "req-42")
    report = p.render_markdown(decisions, p.summarize(decisions), title="Bootstrap")
    lines = report.splitlines()
    assert lines[0] == "# Bootstrap"
    assert "| Failed | 2 |" in lines and "| Approved | 0 |" in lines
    assert "## Failed (2)" in lines and "## Approved (0)" not in report
    rows = [_cells(line) for line in lines if line.startswith("| bad") or line.startswith("| ok")]
    assert rows == [
        ["bad", "rg-data/orders-db", COSMOS, f"pe-app ({ALLOWED}/rg-app)", "ours", "Rejected → Rejected",
         "TransitionRefused: no way", "-"],
        ["ok", "rg-data/orders-db", COSMOS, f"pe-app ({ALLOWED}/rg-app)", "ours", "Pending → Pending",
         "Conflict: busy", "req-42"],
    ]


def test_render_markdown_escapes_pipes_newlines_and_markup():
    decision = p.decide(conn("pe|x"), rules({"name": "a|b\nc <script>*", "action": "reject"}))
    decision = decision.failed({"code": "Bad", "message": "line1\r\nline2 | `x` [l](u)"}, "r|1")
    report = p.render_markdown([decision], check_mode=True)
    (row,) = [line for line in report.splitlines() if line.startswith("| pe")]
    assert _cells(row) == ["pe\\|x", "rg-data/orders-db", COSMOS, f"pe-app ({ALLOWED}/rg-app)",
                           "a\\|b<br>c \\<script\\>\\*", "Pending → Pending",
                           "Bad: line1<br>line2 \\| \\`x\\` \\[l\\](u)", "r\\|1"]
    assert "Check mode" in report and "0 to write" in report


def test_render_markdown_of_results_and_of_decisions_is_the_same():
    decisions = p.plan([conn("a"), conn("b", status="Disconnected")],
                       rules({"action": "delete", "statuses": ["Disconnected"]}))
    assert p.render_markdown(decisions) == p.render_markdown([d.as_result() for d in decisions])
    assert "Disconnected → (deleted)" in p.render_markdown(decisions)


# -- properties ------------------------------------------------------------------------------------------
_statuses = st.sampled_from(["Pending", "Approved", "Rejected", "Disconnected", "pending", "APPROVED"])
_connections = st.builds(
    lambda name, status, sub, description: conn(name, status=status, description=description,
                                                private_endpoint_id=endpoint(sub)),
    st.text("abcXYZ-.", min_size=1, max_size=6), _statuses, st.sampled_from([ALLOWED, FOREIGN, HOME]),
    st.one_of(st.none(), st.text(max_size=8)))
_rules = st.lists(st.fixed_dictionaries(
    {"action": st.sampled_from(p.ACTIONS)},
    optional={"statuses": st.lists(st.sampled_from(p.STATUSES), max_size=3),
              "endpoint_subscriptions": st.lists(st.sampled_from([ALLOWED, FOREIGN]), max_size=2)}), max_size=4)


@settings(max_examples=200, deadline=None)
@given(st.lists(_connections, max_size=8, unique_by=lambda c: c["name"]), _rules)
def test_plan_writes_only_what_the_deciding_rule_allows(connections, raw_rules):
    ruleset = p.validate_rules(raw_rules, KNOWN)
    by_name = {r.name: r for r in ruleset}
    decisions = p.plan(connections, ruleset)
    assert len(decisions) == len(connections)
    assert [(d.resource_id.lower(), d.connection_name.lower()) for d in decisions] == sorted(
        (d.resource_id.lower(), d.connection_name.lower()) for d in decisions)
    for decision in decisions:
        if decision.needs_write:
            rule = by_name[decision.rule]
            assert decision.status_before.capitalize() in rule.statuses
            assert rule.action != "leave"
            if rule.action != "delete":  # a write changes something
                assert (decision.status_before.lower(), decision.description_before or "") != (
                    decision.status_after.lower(), decision.description_after)
        # the deciding rule is the first that matches
        source = next(c for c in connections if c["id"] == decision.connection_id)
        first = next((r.name for r in ruleset if r.matches(source)), None)
        assert decision.rule == first
    assert p.summarize(decisions)["writes"] == sum(d.needs_write for d in decisions)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_a_markdown_cell_never_breaks_its_row(value):
    cell = p.markdown_cell(value)
    assert "\n" not in cell and "\r" not in cell
    assert all(cell[index - 1] == "\\" for index, char in enumerate(cell) if char == "|"), cell
    assert _cells(f"| {cell} | x |") == [cell.strip(), "x"]
