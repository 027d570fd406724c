# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The result of the cosmosdb_connection_approval role, from the policy module's decisions.

Documented in cosmosdb_approval_result.yml. The role keeps the result shape it had before it used the
policy module, so playbooks that read ``cosmosdb_connection_approval_result`` keep working.
"""

from __future__ import annotations

import typing as t
from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

_DONE = ("approved", "rejected", "left", "changed_elsewhere", "failed")


def _owner(resource_id: t.Any, accounts: list[Mapping[str, t.Any]]) -> Mapping[str, t.Any] | None:
    """The account a decision belongs to: its full ID, else one relative to the default subscription."""
    wanted = str(resource_id or "").rstrip("/").lower()
    for account in accounts:
        if str(account["resource_id"]).lower() == wanted:
            return account
    for account in accounts:
        relative = str(account["resource_id"]).lower()
        if relative.startswith("/resourcegroups/") and wanted.endswith(relative):
            return account
    return None


def _message(decision: Mapping[str, t.Any]) -> str:
    error = decision.get("error") if isinstance(decision.get("error"), Mapping) else {}
    text = ": ".join(str(part) for part in (error.get("code"), error.get("message")) if part) or "unknown error"
    return f"{text} (request id {decision['request_id']})" if decision.get("request_id") else text


def cosmosdb_approval_result(decisions: t.Any, accounts: t.Any, check_mode: bool = False) -> dict[str, t.Any]:
    """Counts, per-account connection names and failures, for pending connections only (as the role decides)."""
    if not isinstance(decisions, (list, tuple)) or not all(isinstance(d, Mapping) for d in decisions):
        raise AnsibleFilterError("cosmosdb_approval_result: the input must be the policy module's decisions list")
    if not isinstance(accounts, (list, tuple)) or not all(
            isinstance(a, Mapping) and "resource_id" in a and "label" in a for a in accounts):
        raise AnsibleFilterError("cosmosdb_approval_result: accounts must be a list of dictionaries with label "
                                 "and resource_id")
    per_account = {account["label"]: {outcome: [] for outcome in _DONE} for account in accounts}
    counts = dict.fromkeys(_DONE, 0)
    failures = []
    for decision in decisions:
        # Approved, Rejected and Disconnected connections are no business of this role: not counted.
        if str(decision.get("status_before") or "").lower() != "pending":
            continue
        outcome = decision.get("outcome")
        account = _owner(decision.get("resource_id"), list(accounts))
        if outcome not in counts or account is None:
            continue
        counts[outcome] += 1
        per_account[account["label"]][outcome].append(decision.get("connection_name"))
        if outcome == "failed":
            failures.append({
                "account": account["label"], "subscription_id": account.get("subscription_id") or None,
                "resource_group": account.get("resource_group"), "account_name": account.get("account_name"),
                "name": decision.get("connection_name"), "private_endpoint_id": decision.get("private_endpoint_id"),
                "action": decision.get("action"), "outcome": "failed", "msg": _message(decision),
                "error": decision.get("error"), "request_id": decision.get("request_id"),
            })
    return {
        "check_mode": bool(check_mode),
        "approved": counts["approved"], "rejected": counts["rejected"], "left": counts["left"],
        "changed_elsewhere": counts["changed_elsewhere"],
        "accounts": [{"account": account["label"], "subscription_id": account.get("subscription_id") or None,
                      **per_account[account["label"]]} for account in accounts],
        "failures": failures,
    }


class FilterModule:
    """The cosmosdb_connection_approval role's result filter."""

    def filters(self) -> dict[str, t.Callable[..., t.Any]]:
        return {"cosmosdb_approval_result": cosmosdb_approval_result}
