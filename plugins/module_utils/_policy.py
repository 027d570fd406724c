# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The decision engine of the connection policy: validated scope and rules, one decision per connection.

Everything here is pure (no I/O, no Ansible): the module discovers the connections, calls ``plan()``,
re-reads each connection before its write (``still_as_planned()``) and records what happened. The
report helpers (``summarize()``, ``diff()``, ``render_markdown()``) accept ``Decision`` objects or the
dicts of ``Decision.as_result()``, so the filter plugins can render what the module returned.

Connections come in the generic normalized shape: ``{id, name, resource_id, resource_type,
resource_tags, private_endpoint_id, status, description, group_ids, etag}``.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import re
import string
import typing as t

from ansible_collections.privatelink.azure.plugins.module_utils._errors import ValidationError

__all__ = (
    "ACTIONS",
    "OUTCOMES",
    "STATUSES",
    "TEMPLATE_FIELDS",
    "Scope",
    "Rule",
    "Decision",
    "validate_scope",
    "validate_rules",
    "endpoint_parts",
    "decide",
    "plan",
    "still_as_planned",
    "summarize",
    "diff",
    "render_markdown",
    "summary_lines",
)

ACTIONS = ("approve", "reject", "delete", "leave")
OUTCOMES = ("approved", "rejected", "deleted", "left", "changed_elsewhere", "failed")
# Outcomes that are (or, in check mode, would be) a write that changed the connection.
WRITE_OUTCOMES = ("approved", "rejected", "deleted")
STATUSES = ("Pending", "Approved", "Rejected", "Disconnected")
DEFAULT_STATUSES = ("Pending",)
TEMPLATE_FIELDS = (
    "rule", "connection_name", "private_endpoint_id", "endpoint_subscription", "endpoint_resource_group",
    "endpoint_name", "resource_id", "resource_name", "resource_type", "request_message", "status",
)
DEFAULT_DESCRIPTIONS = {
    "approve": "Approved by privatelink.azure policy rule '{rule}'",
    "reject": "Rejected by privatelink.azure policy rule '{rule}'",
}
_TARGET_STATUS = {"approve": "Approved", "reject": "Rejected"}
_OUTCOME = {"approve": "approved", "reject": "rejected", "delete": "deleted"}

SCOPE_KEYS = ("subscriptions", "resource_groups", "resource_types", "resources")
MATCHER_KEYS = ("statuses", "endpoint_subscriptions", "endpoint_resource_groups", "endpoint_names",
                "connection_names", "request_message", "group_ids", "resource_types", "resource_tags")
RULE_KEYS = ("name", "action", "description", *MATCHER_KEYS)

_GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
# ARM common types: resourceGroupName 1-90 characters of [-\w._()], not ending with '.'.
_RESOURCE_GROUP = re.compile(r"[-\w._()]{1,90}(?<!\.)")
_RESOURCE_ID = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/(?P<namespace>[^/]+)/(?P<type>[^/]+)/(?P<name>[^/]+)/?", re.IGNORECASE)
_ENDPOINT_ID = re.compile(
    r"/subscriptions/(?P<subscription>[^/]+)/resourceGroups/(?P<resource_group>[^/]+)"
    r"/providers/Microsoft\.Network/privateEndpoints/(?P<name>[^/]+)/?", re.IGNORECASE)
_ID_SUBSCRIPTION = re.compile(r"/subscriptions/([^/]+)(?:/|$)", re.IGNORECASE)


# -- validation ----------------------------------------------------------------------------------
def _describe(value: t.Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _known_keys(raw: t.Any, path: str, known: t.Sequence[str]) -> dict[str, t.Any]:
    if not isinstance(raw, dict):
        raise ValidationError(f"{path}: must be a dictionary, got {_describe(raw)}")
    unknown = sorted(str(key) for key in raw if key not in known)
    if unknown:
        raise ValidationError(f"{path}: unknown key(s) {', '.join(unknown)}; known keys are {', '.join(known)}")
    # Ansible's argument spec fills omitted suboptions with None: None means "not given".
    return {key: value for key, value in raw.items() if value is not None}


def _string_list(raw: t.Any, path: str) -> list[str]:
    if not isinstance(raw, (list, tuple)):
        raise ValidationError(f"{path}: must be a list of strings, got {_describe(raw)}")
    for index, value in enumerate(raw):
        if not isinstance(value, str) or not value:
            raise ValidationError(f"{path}[{index}]: must be a non-empty string, got {_describe(value)}")
    return list(raw)


def _guid(value: str, path: str) -> str:
    if not _GUID.fullmatch(value):
        raise ValidationError(f"{path}: must be a subscription GUID such as 00000000-0000-0000-0000-000000000000, "
                              f"got {_describe(value)}")
    return value.lower()


def _known_type(value: str, path: str, known_types: t.Iterable[str]) -> str:
    canonical = {known.lower(): known for known in known_types}
    if value.lower() not in canonical:
        raise ValidationError(f"{path}: unknown resource type {_describe(value)}; known types are "
                              f"{', '.join(sorted(canonical.values(), key=str.lower))}")
    return canonical[value.lower()]


def _status(value: str, path: str) -> str:
    for status in STATUSES:
        if value.lower() == status.lower():
            return status
    raise ValidationError(f"{path}: unknown status {_describe(value)}; known statuses are {', '.join(STATUSES)}")


def _unique(values: t.Sequence[str], path: str) -> tuple[str, ...]:
    seen: set[str] = set()
    for index, value in enumerate(values):
        if value.lower() in seen:
            raise ValidationError(f"{path}[{index}]: {_describe(value)} is listed twice")
        seen.add(value.lower())
    return tuple(values)


@dataclasses.dataclass(frozen=True)
class Scope:
    """Where to discover connections. Subscription GUIDs are lowercase; types and ids use canonical type names."""

    subscriptions: tuple[str, ...] = ()
    resource_groups: tuple[str, ...] = ()
    resource_types: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()


def _resource_id(value: str, path: str, known_types: t.Iterable[str], default_subscription: str | None) -> str:
    if value[:16].lower() == "/resourcegroups/":
        # Relative to the module's subscription_id, as the Cosmos DB role's accounts without subscription_id.
        if not default_subscription:
            raise ValidationError(f"{path}: {value!r} names no subscription and subscription_id is not set")
        value = f"/subscriptions/{default_subscription}{value}"
    match = _RESOURCE_ID.fullmatch(value)
    if not match:
        raise ValidationError(
            f"{path}: must be an ARM resource ID, /subscriptions/<subscription id>/resourceGroups/<group>/providers/"
            f"<Namespace>/<type>/<name>, got {_describe(value)}")
    subscription = _guid(match["subscription"], f"{path} (subscription)")
    if not _RESOURCE_GROUP.fullmatch(match["resource_group"]):
        raise ValidationError(f"{path}: {match['resource_group']!r} is not a resource group name")
    resource_type = _known_type(f"{match['namespace']}/{match['type']}", path, known_types)
    return f"/subscriptions/{subscription}/resourceGroups/{match['resource_group']}/providers/{resource_type}/" \
           f"{match['name']}"


def validate_scope(scope: t.Any, known_types: t.Collection[str], default_subscription: str | None = None) -> Scope:
    """The ``scope`` option, checked before any request; raises ``ValidationError`` naming the entry.

    A resource ID may start at ``/resourceGroups/``: it is then in ``default_subscription`` (the module's
    ``subscription_id``).
    """
    raw = _known_keys(scope, "scope", SCOPE_KEYS)
    lists = {key: _string_list(raw.get(key, []), f"scope.{key}") for key in SCOPE_KEYS}
    if not lists["subscriptions"] and not lists["resources"]:
        raise ValidationError("scope: give at least one of subscriptions or resources")
    for index, group in enumerate(lists["resource_groups"]):
        if not _RESOURCE_GROUP.fullmatch(group):
            raise ValidationError(f"scope.resource_groups[{index}]: must be 1-90 characters of letters, digits, "
                                  f"'-', '_', '.', '(' and ')', not ending with '.', got {_describe(group)}")
    return Scope(
        subscriptions=_unique([_guid(value, f"scope.subscriptions[{index}]")
                               for index, value in enumerate(lists["subscriptions"])], "scope.subscriptions"),
        resource_groups=_unique(lists["resource_groups"], "scope.resource_groups"),
        resource_types=_unique([_known_type(value, f"scope.resource_types[{index}]", known_types)
                                for index, value in enumerate(lists["resource_types"])], "scope.resource_types"),
        resources=_unique([_resource_id(value, f"scope.resources[{index}]", known_types, default_subscription)
                           for index, value in enumerate(lists["resources"])], "scope.resources"),
    )


def _template(value: t.Any, path: str) -> str:
    """A description template: str.format fields from TEMPLATE_FIELDS only, no attribute or index access."""
    if not isinstance(value, str):
        raise ValidationError(f"{path}: must be a string, got {_describe(value)}")
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as err:
        raise ValidationError(f"{path}: not a valid template ({err}); write '{{{{' and '}}}}' for literal braces") from err
    for _literal, field, spec, _conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            raise ValidationError(f"{path}: unknown field {{{field}}}; the fields are "
                                  f"{', '.join('{' + name + '}' for name in TEMPLATE_FIELDS)}")
        if spec and "{" in spec:
            raise ValidationError(f"{path}: the format of {{{field}}} must not contain another field")
    try:  # a format spec that a string refuses ({rule:d}) fails now, not at the first match
        value.format(**{name: "x" for name in TEMPLATE_FIELDS})
    except (ValueError, TypeError) as err:
        raise ValidationError(f"{path}: not a valid template ({err})") from err
    return value


@dataclasses.dataclass(frozen=True)
class Rule:
    """One validated rule. A matcher left as None always holds; an empty tuple never does.

    Names, globs and GUIDs are stored lowercase because they compare case-insensitively.
    """

    name: str
    action: str
    description: str | None = None
    statuses: tuple[str, ...] = DEFAULT_STATUSES
    endpoint_subscriptions: tuple[str, ...] | None = None
    endpoint_resource_groups: tuple[str, ...] | None = None
    endpoint_names: tuple[str, ...] | None = None
    connection_names: tuple[str, ...] | None = None
    request_message: re.Pattern[str] | None = None
    group_ids: tuple[str, ...] | None = None
    resource_types: tuple[str, ...] | None = None
    resource_tags: tuple[tuple[str, str], ...] = ()

    def matches(self, connection: t.Mapping[str, t.Any]) -> bool:
        """Every matcher holds for the connection."""
        status = _canonical_status(connection.get("status"))
        if status not in self.statuses:
            return False
        subscription, group, endpoint = endpoint_parts(connection.get("private_endpoint_id"))
        if not _listed(subscription, self.endpoint_subscriptions):
            return False
        if not _globbed(group, self.endpoint_resource_groups) or not _globbed(endpoint, self.endpoint_names):
            return False
        if not _globbed(connection.get("name"), self.connection_names):
            return False
        if self.request_message is not None:
            message = _request_message(connection)
            if message is None or not self.request_message.search(message):
                return False
        if self.group_ids is not None and not any(
                isinstance(group_id, str) and group_id.lower() in self.group_ids
                for group_id in connection.get("group_ids") or ()):
            return False
        if not _listed(connection.get("resource_type"), self.resource_types):
            return False
        return _tags_match(connection.get("resource_tags"), self.resource_tags)

    def describe(self, connection: t.Mapping[str, t.Any]) -> str:
        """The description this rule writes for the connection (approve and reject only)."""
        template = self.description if self.description is not None else DEFAULT_DESCRIPTIONS[self.action]
        return template.format(**template_values(connection, self.name))


def _canonical_status(value: t.Any) -> str | None:
    return next((s for s in STATUSES if isinstance(value, str) and value.lower() == s.lower()), None)


def _listed(value: t.Any, wanted: tuple[str, ...] | None) -> bool:
    if wanted is None:
        return True
    return isinstance(value, str) and value.lower() in {item.lower() for item in wanted}


def _globbed(value: t.Any, patterns: tuple[str, ...] | None) -> bool:
    if patterns is None:
        return True
    return isinstance(value, str) and any(fnmatch.fnmatchcase(value.lower(), pattern) for pattern in patterns)


def _tags_match(tags: t.Any, wanted: tuple[tuple[str, str], ...]) -> bool:
    if not wanted:
        return True
    # Azure tag names are case-insensitive, their values are not.
    actual = {str(key).lower(): value for key, value in (tags or {}).items()} if isinstance(tags, dict) else {}
    for key, pattern in wanted:
        value = actual.get(key)
        if not isinstance(value, str) or not (value == pattern or fnmatch.fnmatchcase(value, pattern)):
            return False
    return True


def _request_message(connection: t.Mapping[str, t.Any]) -> str | None:
    """The consumer's request message: a Pending connection's description (later, the provider's answer)."""
    if _canonical_status(connection.get("status")) != "Pending":
        return None
    return connection.get("description") or ""


def _matcher(key: str, value: t.Any, path: str, known_types: t.Collection[str]) -> t.Any:
    if key == "request_message":
        if not isinstance(value, str):
            raise ValidationError(f"{path}: must be a regular expression string, got {_describe(value)}")
        try:
            return re.compile(value)
        except re.error as err:
            raise ValidationError(f"{path}: not a valid regular expression ({err}): {_describe(value)}") from err
    if key == "resource_tags":
        if not isinstance(value, dict):
            raise ValidationError(f"{path}: must be a dictionary of tag name to value, got {_describe(value)}")
        tags = []
        for tag, pattern in value.items():
            if not isinstance(pattern, str):
                raise ValidationError(f"{path}.{tag}: tag values are strings; quote {_describe(pattern)} in YAML")
            tags.append((str(tag).lower(), pattern))
        return tuple(tags)
    values = _string_list(value, path)
    if key == "statuses":
        return tuple(_status(item, f"{path}[{index}]") for index, item in enumerate(values))
    if key == "endpoint_subscriptions":
        return tuple(_guid(item, f"{path}[{index}]") for index, item in enumerate(values))
    if key == "resource_types":
        return tuple(_known_type(item, f"{path}[{index}]", known_types) for index, item in enumerate(values))
    return tuple(item.lower() for item in values)  # globs and group ids, compared lowercase


def validate_rules(rules: t.Any, known_types: t.Collection[str]) -> tuple[Rule, ...]:
    """The ``rules`` option, checked before any request; raises ``ValidationError`` naming ``rules[i].key``."""
    if rules is None:
        return ()
    if not isinstance(rules, (list, tuple)):
        raise ValidationError(f"rules: must be a list of rules, got {_describe(rules)}")
    result: list[Rule] = []
    names: dict[str, int] = {}
    for index, raw_rule in enumerate(rules):
        path = f"rules[{index}]"
        raw = _known_keys(raw_rule, path, RULE_KEYS)
        name = raw.get("name", f"rule {index + 1}")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError(f"{path}.name: must be a non-empty string, got {_describe(name)}")
        if name.lower() in names:
            raise ValidationError(f"{path}.name: {name!r} is already the name of rules[{names[name.lower()]}]; "
                                  "the report tells rules apart by name")
        names[name.lower()] = index
        action = raw.get("action")
        if action is None:
            raise ValidationError(f"{path}.action: required, one of {', '.join(ACTIONS)}")
        if not isinstance(action, str) or action.lower() not in ACTIONS:
            raise ValidationError(f"{path}.action: unknown action {_describe(action)}; the actions are "
                                  f"{', '.join(ACTIONS)}")
        action = action.lower()
        description = raw.get("description")
        if description is not None:
            if action not in DEFAULT_DESCRIPTIONS:
                raise ValidationError(f"{path}.description: a {action} rule writes no description; remove it")
            description = _template(description, f"{path}.description")
        matchers = {key: _matcher(key, raw[key], f"{path}.{key}", known_types) for key in MATCHER_KEYS if key in raw}
        result.append(Rule(name=name, action=action, description=description, **matchers))
    return tuple(result)


# -- decisions -----------------------------------------------------------------------------------
def endpoint_parts(private_endpoint_id: t.Any) -> tuple[str | None, str | None, str | None]:
    """(subscription, resource group, name) of a private endpoint ID; None for the parts it does not have.

    The managed endpoints of Data Factory or Synapse live in Microsoft-managed subscriptions; their
    ids have the same shape, so they parse too.
    """
    if not isinstance(private_endpoint_id, str):
        return None, None, None
    match = _ENDPOINT_ID.fullmatch(private_endpoint_id)
    if match:
        return match["subscription"], match["resource_group"], match["name"]
    prefix = _ID_SUBSCRIPTION.match(private_endpoint_id)
    return (prefix.group(1) if prefix else None), None, None


def _resource_parts(resource_id: t.Any) -> tuple[str | None, str | None]:
    """(resource group, name) of the resource that holds the connection."""
    match = _RESOURCE_ID.fullmatch(resource_id) if isinstance(resource_id, str) else None
    if match:
        return match["resource_group"], match["name"]
    tail = resource_id.rstrip("/").rsplit("/", 1)[-1] if isinstance(resource_id, str) else None
    return None, tail or None


def template_values(connection: t.Mapping[str, t.Any], rule: str) -> dict[str, str]:
    """The values of the description template's fields for a connection ('' for what it lacks)."""
    subscription, group, endpoint = endpoint_parts(connection.get("private_endpoint_id"))
    values = {
        "rule": rule,
        "connection_name": connection.get("name"),
        "private_endpoint_id": connection.get("private_endpoint_id"),
        "endpoint_subscription": subscription,
        "endpoint_resource_group": group,
        "endpoint_name": endpoint,
        "resource_id": connection.get("resource_id"),
        "resource_name": _resource_parts(connection.get("resource_id"))[1],
        "resource_type": connection.get("resource_type"),
        "request_message": _request_message(connection),
        "status": connection.get("status"),
    }
    return {key: "" if value is None else str(value) for key, value in values.items()}


@dataclasses.dataclass(frozen=True)
class Decision:
    """What the policy decided for one connection, and (after the write) what happened."""

    resource_id: str | None
    resource_type: str | None
    connection_name: str | None
    connection_id: str | None
    private_endpoint_id: str | None
    endpoint_subscription: str | None
    status_before: str | None
    description_before: str | None
    rule: str | None
    action: str
    status_after: str | None
    description_after: str | None
    outcome: str
    error: dict[str, t.Any] | None = None
    request_id: str | None = None

    @property
    def needs_write(self) -> bool:
        """A write is planned (the outcome is the predicted one of approve, reject or delete)."""
        return self.outcome in WRITE_OUTCOMES

    @property
    def target_status(self) -> str | None:
        """The status the write sets; None for a deletion or no write."""
        return _TARGET_STATUS.get(self.action) if self.needs_write else None

    def as_result(self) -> dict[str, t.Any]:
        return dataclasses.asdict(self)

    def failed(self, error: dict[str, t.Any] | None, request_id: str | None = None) -> Decision:
        """This decision after its write failed: the connection stays as it was."""
        return dataclasses.replace(self, outcome="failed", error=error, request_id=request_id,
                                   status_after=self.status_before, description_after=self.description_before)

    def changed_elsewhere(self) -> Decision:
        """This decision when the connection changed (or went) between discovery and the write: not written."""
        return dataclasses.replace(self, outcome="changed_elsewhere", status_after=self.status_before,
                                   description_after=self.description_before)


Refusal = t.Callable[[t.Optional[str], t.Optional[str], t.Optional[str]], t.Optional[str]]


def _unchanged(connection: t.Mapping[str, t.Any], **fields: t.Any) -> Decision:
    return Decision(
        resource_id=connection.get("resource_id"),
        resource_type=connection.get("resource_type"),
        connection_name=connection.get("name"),
        connection_id=connection.get("id"),
        private_endpoint_id=connection.get("private_endpoint_id"),
        endpoint_subscription=endpoint_parts(connection.get("private_endpoint_id"))[0],
        status_before=connection.get("status"),
        description_before=connection.get("description"),
        status_after=connection.get("status"),
        description_after=connection.get("description"),
        **{"rule": None, "action": "leave", "outcome": "left", **fields},
    )


def decide(connection: t.Mapping[str, t.Any], rules: t.Sequence[Rule], refusal: Refusal | None = None) -> Decision:
    """The first matching rule's decision for the connection; no matching rule leaves it.

    ``refusal(resource_type, current_status, target_status)`` names why the service would refuse the
    write (target None for a deletion), or returns None; a refused write becomes outcome ``failed``.
    An approve or reject that would not change status or description is outcome ``left``, with its rule.
    """
    rule = next((candidate for candidate in rules if candidate.matches(connection)), None)
    if rule is None:
        return _unchanged(connection)
    recorded = {"rule": rule.name, "action": rule.action}
    if rule.action == "leave":
        return _unchanged(connection, **recorded)
    status = connection.get("status")
    if rule.action == "delete":
        target, description = None, None
    else:
        target, description = _TARGET_STATUS[rule.action], rule.describe(connection)
        if (status or "").lower() == target.lower() and description == (connection.get("description") or ""):
            return _unchanged(connection, **recorded)
    reason = refusal(connection.get("resource_type"), status, target) if refusal else None
    if reason:
        return _unchanged(connection, **recorded, outcome="failed",
                          error={"code": "TransitionRefused", "message": reason})
    return dataclasses.replace(_unchanged(connection, **recorded), outcome=_OUTCOME[rule.action],
                               status_after=target, description_after=description)


def _order(connection: t.Mapping[str, t.Any]) -> tuple[str, str, str, str]:
    resource_id, name = str(connection.get("resource_id") or ""), str(connection.get("name") or "")
    return resource_id.lower(), name.lower(), resource_id, name


def plan(connections: t.Iterable[t.Mapping[str, t.Any]], rules: t.Sequence[Rule],
         refusal: Refusal | None = None) -> list[Decision]:
    """One decision per connection, ordered by resource id then connection name (case-insensitively)."""
    return [decide(connection, rules, refusal) for connection in sorted(connections, key=_order)]


def still_as_planned(decision: Decision, current: t.Mapping[str, t.Any] | None) -> bool:
    """Compare-before-write: the connection (re-read just before the write) is as the plan saw it.

    None (the connection is gone) is not as planned. Status compares case-insensitively; a missing
    description equals an empty one.
    """
    if current is None:
        return False
    return ((current.get("status") or "").lower() == (decision.status_before or "").lower()
            and (current.get("description") or "") == (decision.description_before or ""))


# -- reports -------------------------------------------------------------------------------------
DecisionLike = t.Union[Decision, t.Mapping[str, t.Any]]


def _fields(decision: DecisionLike) -> t.Mapping[str, t.Any]:
    return decision.as_result() if isinstance(decision, Decision) else decision


def summarize(decisions: t.Iterable[DecisionLike]) -> dict[str, t.Any]:
    """Counts per outcome and per resource type; ``writes`` counts the (predicted) changes."""
    by_outcome = dict.fromkeys(OUTCOMES, 0)
    by_type: dict[str, dict[str, int]] = {}
    total = 0
    for decision in decisions:
        fields = _fields(decision)
        outcome = fields.get("outcome")
        total += 1
        by_outcome[outcome] = by_outcome.get(outcome, 0) + 1
        counts = by_type.setdefault(str(fields.get("resource_type") or "unknown"), dict.fromkeys(OUTCOMES, 0))
        counts[outcome] = counts.get(outcome, 0) + 1
    return {
        "total": total,
        "by_outcome": by_outcome,
        "by_resource_type": {key: by_type[key] for key in sorted(by_type, key=str.lower)},
        "writes": sum(by_outcome[outcome] for outcome in WRITE_OUTCOMES),
        "failed": by_outcome["failed"],
    }


def diff(decision: DecisionLike) -> dict[str, t.Any]:
    """Ansible's diff of the connection state: status and description before and (predicted) after."""
    fields = _fields(decision)
    before = {"status": fields.get("status_before"), "description": fields.get("description_before")}
    after = {} if fields.get("outcome") == "deleted" else {
        "status": fields.get("status_after"), "description": fields.get("description_after")}
    return {"before_header": fields.get("connection_id"), "after_header": fields.get("connection_id"),
            "before": before, "after": after}


# Markdown that would change a table cell: the cell separator, inline markup and raw HTML.
_MARKDOWN_SPECIALS = re.compile(r"([\\|`*_\[\]<>])")


def markdown_cell(value: t.Any) -> str:
    """A value as one Markdown table cell: markup escaped, line breaks as <br>; '-' for nothing."""
    if value is None or value == "":
        return "-"
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", str(value))
    return "<br>".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _table(header: t.Sequence[str], rows: t.Iterable[t.Sequence[t.Any]]) -> list[str]:
    lines = ["| " + " | ".join(markdown_cell(cell) for cell in header) + " |",
             "|" + "|".join([" --- "] * len(header)) + "|"]
    lines += ["| " + " | ".join(markdown_cell(cell) for cell in row) + " |" for row in rows]
    return lines


_HEADINGS = {
    "approved": "Approved", "rejected": "Rejected", "deleted": "Deleted", "left": "Left as they are",
    "changed_elsewhere": "Changed elsewhere before the write (not written)", "failed": "Failed",
}


def _endpoint(fields: t.Mapping[str, t.Any]) -> str | None:
    subscription, group, name = endpoint_parts(fields.get("private_endpoint_id"))
    if name:
        return f"{name} ({subscription}/{group})"
    return fields.get("private_endpoint_id")


def _resource(fields: t.Mapping[str, t.Any]) -> str | None:
    group, name = _resource_parts(fields.get("resource_id"))
    return f"{group}/{name}" if group else name


def _transition(fields: t.Mapping[str, t.Any]) -> str:
    before = fields.get("status_before") or "-"
    after = "(deleted)" if fields.get("outcome") == "deleted" else fields.get("status_after") or "-"
    return f"{before} → {after}"


def _error_text(error: t.Any) -> str | None:
    if not isinstance(error, dict):
        return None if error is None else str(error)
    code, message = error.get("code"), error.get("message")
    return ": ".join(str(part) for part in (code, message) if part) or None


def _connections(count: t.Any) -> str:
    return f"{count} connection" if count == 1 else f"{count} connections"


def render_markdown(decisions: t.Iterable[DecisionLike], summary: t.Mapping[str, t.Any] | None = None,
                    title: str = "Private endpoint connection policy", check_mode: bool = False) -> str:
    """A readable report: the counts, then one table per outcome (failures with their error and request id)."""
    rows = [_fields(decision) for decision in decisions]
    summary = summary if summary is not None else summarize(rows)
    lines = [f"# {markdown_cell(title)}", ""]
    if check_mode:
        lines += ["Check mode: nothing was written; the outcomes are predictions.", ""]
    by_outcome = summary.get("by_outcome") or {}
    lines += _table(["Outcome", "Connections"], [(_HEADINGS.get(o, o), by_outcome.get(o, 0)) for o in OUTCOMES])
    written = "to write" if check_mode else "written"
    lines += ["", f"{_connections(summary.get('total', len(rows)))}, {summary.get('writes', 0)} {written}, "
                  f"{summary.get('failed', 0)} failed.", ""]
    by_type = summary.get("by_resource_type") or {}
    if by_type:
        lines += ["## By resource type", ""]
        lines += _table(["Resource type", *OUTCOMES],
                        [(name, *(counts.get(o, 0) for o in OUTCOMES)) for name, counts in by_type.items()])
        lines.append("")
    for outcome in OUTCOMES:
        mine = [fields for fields in rows if fields.get("outcome") == outcome]
        if not mine:
            continue
        lines += [f"## {_HEADINGS[outcome]} ({len(mine)})", ""]
        header = ["Connection", "Resource", "Type", "Endpoint", "Rule", "Status"]
        extra = ["Error", "Request id"] if outcome == "failed" else []
        lines += _table([*header, *extra], [
            (fields.get("connection_name"), _resource(fields), fields.get("resource_type"), _endpoint(fields),
             fields.get("rule") or "(no rule matched)", _transition(fields),
             *((_error_text(fields.get("error")), fields.get("request_id")) if extra else ()))
            for fields in mine])
        lines.append("")
    return "\n".join(lines)


def summary_lines(summary: t.Mapping[str, t.Any], check_mode: bool = False) -> list[str]:
    """A short human summary: the total, one line per outcome, one line per resource type (its non-zero counts)."""
    by_outcome = summary.get("by_outcome") or {}
    note = " (check mode: predicted, nothing written)" if check_mode else ""
    lines = [f"{_connections(summary.get('total', 0))}, {summary.get('writes', 0)} "
             f"{'to write' if check_mode else 'written'}, {summary.get('failed', 0)} failed{note}"]
    lines += [f"{outcome}: {by_outcome.get(outcome, 0)}" for outcome in OUTCOMES]
    for resource_type, counts in (summary.get("by_resource_type") or {}).items():
        parts = [f"{counts[outcome]} {outcome}" for outcome in OUTCOMES if counts.get(outcome)]
        lines.append(f"{resource_type}: {', '.join(parts) or 'none'}")
    return lines
