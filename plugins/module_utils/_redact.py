# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The one redaction step for everything the collection returns or prints.

Secrets are registered where they become known (``remember``): the authentication settings when
they are resolved (options, environment, credentials file, certificate password, the federated
token file's content) and every access token the ARM client obtains. ``redact`` then replaces each
of them, wherever it appears in a result (``msg``, ``error`` at any depth, ``warnings``,
``exception``, returned values), with ``<redacted>``: also in the forms a server echoes them in, URL
(form) encoded and JSON escaped, because a token endpoint that quotes its request quotes the
form-encoded body.

The registry lives as long as the process: a module process runs one task, and a controller worker
process runs one task (with its loop items). A value remembered once is redacted from then on, so a
longer-lived process can only redact too much, never too little.
"""

from __future__ import annotations

import json
import re
import threading
import typing as t
from urllib.parse import quote, quote_plus

__all__ = ("REDACTED", "MIN_LENGTH", "forget_all", "redact", "redact_text", "remember", "secrets")

REDACTED = "<redacted>"
# Shorter values would redact ordinary words (and cannot be real secrets of a sign-in).
MIN_LENGTH = 4

_PERCENT = re.compile(r"%[0-9A-F]{2}")
_LOCK = threading.Lock()
_SECRETS: set[str] = set()
# Every form of every secret, longest first (so that a secret containing another goes first).
_FORMS: tuple[str, ...] = ()


def _forms(secret: str) -> set[str]:
    forms = {secret, quote(secret, safe=""), quote(secret), quote_plus(secret), json.dumps(secret)[1:-1],
             json.dumps(secret, ensure_ascii=False)[1:-1]}
    # Percent-encoding with lower-case hex digits, as some servers re-encode what they echo.
    forms.update(_PERCENT.sub(lambda match: match.group(0).lower(), form) for form in list(forms))
    return {form for form in forms if len(form) >= MIN_LENGTH}


def remember(value: t.Any) -> None:
    """Treat ``value`` (a string; None and short values are ignored) as a secret from now on."""
    global _FORMS  # pylint: disable=global-statement
    if not isinstance(value, str):
        return
    value = value.strip()
    if len(value) < MIN_LENGTH:
        return
    with _LOCK:
        if value in _SECRETS:
            return
        _SECRETS.add(value)
        forms: set[str] = set()
        for secret in _SECRETS:
            forms.update(_forms(secret))
        _FORMS = tuple(sorted(forms, key=lambda form: (-len(form), form)))


def secrets() -> frozenset[str]:
    """The secrets remembered so far (for tests and for AnsibleModule's no_log values)."""
    with _LOCK:
        return frozenset(_SECRETS)


def forget_all() -> None:
    """Forget every secret (tests only: a real process never needs to)."""
    global _FORMS  # pylint: disable=global-statement
    with _LOCK:
        _SECRETS.clear()
        _FORMS = ()


def redact_text(text: str) -> str:
    """``text`` with every form of every remembered secret replaced by ``<redacted>``."""
    for form in _FORMS:
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact(value: t.Any) -> t.Any:
    """A copy of ``value`` (dicts, lists, tuples, strings at any depth) with the secrets replaced."""
    if not _FORMS:
        return value
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, t.Mapping):
        return {key: redact(item) for key, item in value.items()}
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, tuple):
        return tuple(redact(item) for item in value)
    if isinstance(value, (set, frozenset)):
        return {redact(item) for item in value}
    return value
