# SPDX-License-Identifier: GPL-3.0-or-later
"""The one redaction step: every remembered secret, in every form a server echoes it, anywhere in a result."""

from __future__ import annotations

import json
import re
from urllib.parse import quote, quote_plus, urlencode

import pytest

from ansible_collections.privatelink.azure.plugins.module_utils import _auth, _redact

SECRET = "s3cr3t+Value/with~\"quotes\"&more=1"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.access-token-for-tests"


@pytest.fixture(autouse=True)
def empty_registry():
    _redact.forget_all()
    yield
    _redact.forget_all()


def test_nothing_is_changed_before_a_secret_is_known():
    result = {"msg": f"failed: {SECRET}", "error": {"details": [{"message": SECRET}]}}
    assert _redact.redact(result) == result


@pytest.mark.parametrize("form", [
    SECRET,
    quote(SECRET, safe=""),
    quote(SECRET),
    quote_plus(SECRET),
    json.dumps(SECRET)[1:-1],
    re.sub("%[0-9A-F]{2}", lambda match: match.group(0).lower(), quote_plus(SECRET)),
], ids=["plain", "percent", "percent-keeping-slash", "form", "json", "lower-case-hex"])
def test_each_form_of_a_secret_is_redacted(form):
    _redact.remember(SECRET)
    assert _redact.redact_text(f"the server said: {form}.") == "the server said: <redacted>."


def test_an_echoed_form_request_keeps_everything_but_the_secret():
    _redact.remember(SECRET)
    echoed = urlencode({"client_id": "5e6f", "client_secret": SECRET, "grant_type": "client_credentials"})
    assert _redact.redact_text(echoed) == "client_id=5e6f&client_secret=<redacted>&grant_type=client_credentials"


def test_every_string_of_a_result_is_redacted_at_any_depth():
    _redact.remember(SECRET)
    _redact.remember(TOKEN)
    result = {
        "msg": f"Authorization: Bearer {TOKEN}",
        "error": {"code": "X", "details": [{"message": f"secret={quote_plus(SECRET)}", "additional_info": (TOKEN,)}]},
        "warnings": [f"saw {SECRET}"],
        "exception": f"Traceback\n  ValueError: {TOKEN}\n",
        "connection": {"name": "pe-1", "count": 3, "ok": True, "none": None},
    }
    redacted = _redact.redact(result)
    assert SECRET not in repr(redacted) and TOKEN not in repr(redacted) and quote_plus(SECRET) not in repr(redacted)
    assert redacted["msg"] == "Authorization: Bearer <redacted>"
    assert redacted["error"]["details"][0] == {"message": "secret=<redacted>", "additional_info": ("<redacted>",)}
    assert redacted["connection"] == result["connection"]
    assert result["msg"] == f"Authorization: Bearer {TOKEN}", "the input is not modified"


def test_a_secret_that_contains_another_is_redacted_whole():
    _redact.remember("abcd")
    _redact.remember("abcd-efgh-ijkl")
    assert _redact.redact_text("x abcd-efgh-ijkl y abcd") == "x <redacted> y <redacted>"


@pytest.mark.parametrize("value", [None, "", "abc", "  ab  ", 12345, b"bytes-secret"])
def test_short_or_non_text_values_are_not_secrets(value):
    _redact.remember(value)
    assert _redact.secrets() == frozenset()
    assert _redact.redact_text("abc 12345 ab") == "abc 12345 ab"


def test_resolving_the_settings_remembers_every_secret_it_can_see(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("federated.jwt.content\n")
    (tmp_path / ".azure").mkdir()
    (tmp_path / ".azure" / "credentials").write_text(
        "[default]\nclient_id=c\nsecret=file-secret-value\ntenant=t\n")
    env = {"AZURE_SECRET": "awx-secret-value", "AZURE_CLIENT_SECRET": "identity-secret-value",
           "AZURE_PASSWORD": "awx-password-value", "AZURE_CLIENT_CERTIFICATE_PASSWORD": "cert-password-value",
           "IDENTITY_HEADER": "identity-header-value", "AZURE_FEDERATED_TOKEN_FILE": str(token_file)}
    # The options win; the environment's and the file's secrets are remembered all the same.
    _auth.resolve_auth({"client_id": "c", "secret": "option-secret-value", "tenant": "t"}, env, str(tmp_path))
    assert _redact.secrets() >= {"option-secret-value", "awx-secret-value", "identity-secret-value",
                                 "awx-password-value", "cert-password-value", "identity-header-value",
                                 "federated.jwt.content"}
    _auth.resolve_auth({"profile": "default"}, {}, str(tmp_path))
    assert "file-secret-value" in _redact.secrets()


def test_an_incomplete_configuration_still_remembers_the_secret_first():
    with pytest.raises(_auth.AuthConfigError):
        _auth.resolve_auth({"secret": "lonely-secret-value"}, {}, "/nonexistent")
    assert "lonely-secret-value" in _redact.secrets()
