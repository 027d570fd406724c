# SPDX-License-Identifier: GPL-3.0-or-later
"""The pieces of running a module in the controller's process that a playbook run cannot isolate."""

from __future__ import annotations

import builtins
import dataclasses
import datetime
import importlib.util
import logging
import os

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.privatelink.azure.plugins.module_utils import _progress, _redact
from ansible_collections.privatelink.azure.plugins.module_utils._errors import AuthenticationError
from ansible_collections.privatelink.azure.plugins.module_utils._tasks import CONNECTION
from ansible_collections.privatelink.azure.plugins.plugin_utils import _controller


class TaggedStr(str):
    """Stands for the str subclasses ansible-core 2.19 uses for templated values."""


def test_arguments_become_plain_json_types_as_a_module_process_receives_them():
    args = {"name": TaggedStr("pe-1"), "wait_timeout": True, "nested": ({"when": datetime.date(2026, 1, 2)},),
            "count": 3, "ratio": 0.5, "none": None}
    result = _controller.plain(args)
    assert result == {"name": "pe-1", "wait_timeout": True, "nested": [{"when": "2026-01-02"}], "count": 3,
                      "ratio": 0.5, "none": None}
    assert not isinstance(result["name"], TaggedStr) and isinstance(result["nested"], list)


def test_the_task_environment_lasts_as_long_as_the_task(monkeypatch):
    monkeypatch.setenv("PRIVATELINK_TEST_KEEP", "before")
    monkeypatch.delenv("PRIVATELINK_TEST_NEW", raising=False)
    with _controller.environment({"PRIVATELINK_TEST_KEEP": "during", "PRIVATELINK_TEST_NEW": 7}):
        assert os.environ["PRIVATELINK_TEST_KEEP"] == "during" and os.environ["PRIVATELINK_TEST_NEW"] == "7"
    assert os.environ["PRIVATELINK_TEST_KEEP"] == "before" and "PRIVATELINK_TEST_NEW" not in os.environ


def test_an_exception_inside_the_task_leaves_the_environment_as_it_was(monkeypatch):
    monkeypatch.delenv("PRIVATELINK_TEST_NEW", raising=False)
    with pytest.raises(RuntimeError):
        with _controller.environment({"PRIVATELINK_TEST_NEW": "x"}):
            raise RuntimeError("boom")
    assert "PRIVATELINK_TEST_NEW" not in os.environ


@pytest.mark.parametrize("args,message", [
    ({"resource_group": "rg", "account_name": "a", "name": "pe", "status": "Approved", "colour": "blue"},
     "Unsupported parameters for (privatelink.azure.cosmosdb_private_endpoint_connection) module: colour."),
    ({"resource_group": "rg", "account_name": "a", "name": "pe"}, "state is present but all of the following are "
                                                                  "missing: status"),
    ({"resource_group": "rg", "account_name": "a", "status": "Approved"}, "one of the following is required: "
                                                                          "name, private_endpoint_id"),
])
def test_bad_input_fails_before_any_request_with_ansiblemodules_message(args, message, monkeypatch):
    def no_request(*_args, **_kwargs):
        raise AssertionError("a request was attempted")
    monkeypatch.setattr(_controller, "execute", no_request)
    result = _controller.run_task(CONNECTION, args, check_mode=False, diff=False)
    assert result["failed"] is True and message in result["msg"]


def test_no_log_values_are_removed_from_the_result_and_the_invocation(monkeypatch):
    secret = "s3cret-Value-That-Must-Not-Show"

    def echo(definition, params, **_kwargs):
        raise RuntimeError(f"something mentioned {params['secret']}")
    monkeypatch.setattr(_controller, "execute", echo)
    result = _controller.run_task(CONNECTION, {"resource_group": "rg", "account_name": "a", "name": "pe",
                                               "status": "Approved", "secret": secret},
                                  check_mode=False, diff=False)
    assert result["failed"] is True and "failed unexpectedly: RuntimeError" in result["msg"]
    assert secret not in repr(result)
    assert result["invocation"]["module_args"]["secret"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


def test_only_the_tasks_own_variables_are_restored(monkeypatch):
    """Whatever else changes the environment meanwhile (a library, another item) is left alone."""
    monkeypatch.delenv("PRIVATELINK_TEST_OTHER", raising=False)
    with _controller.environment({"PRIVATELINK_TEST_NEW": "x"}):
        os.environ["PRIVATELINK_TEST_OTHER"] = "set during the task"
    assert os.environ.pop("PRIVATELINK_TEST_OTHER") == "set during the task"
    assert "PRIVATELINK_TEST_NEW" not in os.environ


ARGS = {"resource_group": "rg", "account_name": "a", "name": "pe", "status": "Approved"}


def succeed(definition, params, **_kwargs):
    return {"changed": False, "connection": {"name": params["name"]}}


def test_an_option_and_its_alias_warn_as_ansiblemodule_does(monkeypatch):
    monkeypatch.setattr(_controller, "execute", succeed)
    result = _controller.run_task(CONNECTION, {**ARGS, "authority_host": "https://login.example",
                                               "adfs_authority_url": "https://login.example"},
                                  check_mode=False, diff=False)
    assert "failed" not in result
    assert result["warnings"] == ["Both option authority_host and its alias adfs_authority_url are set."]
    assert "deprecations" not in result


def test_no_warnings_key_without_warnings(monkeypatch):
    monkeypatch.setattr(_controller, "execute", succeed)
    result = _controller.run_task(CONNECTION, ARGS, check_mode=False, diff=False)
    assert "warnings" not in result and "deprecations" not in result


def test_a_deprecated_alias_is_reported_with_ansiblemodules_message(monkeypatch):
    monkeypatch.setattr(_controller, "execute", succeed)
    spec = {**CONNECTION.spec, "argument_spec": {**CONNECTION.spec["argument_spec"], "name": {
        "type": "str", "aliases": ["connection_name"],
        "deprecated_aliases": [{"name": "connection_name", "version": "3.0.0",
                                "collection_name": "privatelink.azure"}]}}}
    definition = dataclasses.replace(CONNECTION, spec=spec)
    args = {**ARGS, "connection_name": ARGS["name"]}
    del args["name"]
    result = _controller.run_task(definition, args, check_mode=False, diff=False)
    expected = ArgumentSpecValidator(spec["argument_spec"]).validate(dict(args))._deprecations[0]["msg"]
    assert expected.startswith("Alias 'connection_name' is deprecated.")
    assert result["deprecations"] == [{"msg": expected, "version": "3.0.0", "collection_name": "privatelink.azure"}]
    assert result["connection"] == {"name": "pe"}


def test_every_secret_the_run_knows_is_redacted_from_the_result(monkeypatch):
    secret = "env-Secret-value-4Tq"
    _redact.remember(secret)

    def echo(definition, params, **_kwargs):
        raise AuthenticationError(f"Could not get an Azure access token: Request body: client_secret={secret}")
    monkeypatch.setattr(_controller, "execute", echo)
    result = _controller.run_task(CONNECTION, ARGS, check_mode=False, diff=False)
    assert result["failed"] is True
    assert result["msg"] == "Could not get an Azure access token: Request body: client_secret=<redacted>"
    assert secret not in repr(result)


def test_a_crash_reports_a_redacted_traceback(monkeypatch):
    secret = "crash-Secret-value-8Zr"
    _redact.remember(secret)

    def crash(definition, params, **_kwargs):
        raise KeyError(secret)
    monkeypatch.setattr(_controller, "execute", crash)
    result = _controller.run_task(CONNECTION, ARGS, check_mode=False, diff=False)
    assert result["msg"].startswith(f"{CONNECTION.name} failed unexpectedly: KeyError")
    assert "Traceback" in result["exception"] and "<redacted>" in result["exception"]
    assert secret not in repr(result)


def load_controller_with_broken_import(monkeypatch, broken: str, error: BaseException):
    """A fresh copy of _controller.py whose import of ``broken`` raises ``error``."""
    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == broken:
            raise error
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", fake_import)
    spec = importlib.util.spec_from_file_location("privatelink_controller_copy", _controller.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("broken,error", [
    ("requests", ImportError("No module named 'requests'")),
    ("azure", RuntimeError("a broken azure-identity")),
    ("requests", SyntaxError("invalid syntax")),
])
def test_any_import_error_falls_back_to_a_module_process(monkeypatch, broken, error):
    module = load_controller_with_broken_import(monkeypatch, broken, error)
    assert module.HAS_DEPENDENCIES is False
    assert type(error).__name__ in module.DEPENDENCIES_ERROR
    assert _controller.HAS_DEPENDENCIES is True


def events(*polls, action="Setting connection 'pe' to Approved"):
    return [_progress.ProgressEvent(action, "Dequeued", elapsed, number, f"req-{number}")
            for number, elapsed in enumerate(polls, start=1)]


def test_a_short_wait_prints_nothing_at_the_default_verbosity():
    lines = []
    for event in events(0.5, 1.5, 2.9):
        _controller.ProgressLines(0, lines.append)(event)
    assert lines == []


def test_a_long_wait_prints_after_3_s_then_about_every_10_s():
    lines = []
    printer = _controller.ProgressLines(0, lines.append)
    for event in events(0.5, 1.5, 2.6, 3.7, 5.0, 9.0, 13.0, 13.8, 20.0, 24.1):
        printer(event)
    assert lines == ["Setting connection 'pe' to Approved: operation Dequeued, waited 4 s",
                     "Setting connection 'pe' to Approved: operation Dequeued, waited 14 s",
                     "Setting connection 'pe' to Approved: operation Dequeued, waited 24 s"]


def test_the_next_operation_starts_counting_again():
    lines = []
    printer = _controller.ProgressLines(0, lines.append)
    for event in events(0.5, 3.5) + events(0.5, 3.2, action="Deleting connection 'pe'"):
        printer(event)
    assert lines == ["Setting connection 'pe' to Approved: operation Dequeued, waited 4 s",
                     "Deleting connection 'pe': operation Dequeued, waited 3 s"]


@pytest.mark.parametrize("verbosity,last", [
    (2, "Setting connection 'pe' to Approved: operation Dequeued, waited 2 s (poll 2)"),
    (3, "Setting connection 'pe' to Approved: operation Dequeued, waited 2 s (poll 2), request id req-2"),
])
def test_more_verbosity_prints_every_poll(verbosity, last):
    lines = []
    printer = _controller.ProgressLines(verbosity, lines.append)
    for event in events(0.5, 1.5):
        printer(event)
    assert len(lines) == 2 and lines[-1] == last


def test_library_logs_go_through_display_redacted_and_only_for_the_task(monkeypatch):
    secret = "logged-Secret-value-2Wd"
    _redact.remember(secret)
    shown = []
    monkeypatch.setattr(_controller.display, "vvvv", shown.append)
    logger = logging.getLogger("azure.identity._internal.get_token_mixin")
    azure = logging.getLogger("azure")
    before = (list(azure.handlers), azure.propagate)
    with _controller.library_logs_to_display():
        logger.warning("ClientSecretCredential.get_token failed: client_secret=%s", secret)
        logger.info("below the threshold")
    assert shown == ["azure.identity._internal.get_token_mixin: ClientSecretCredential.get_token failed: "
                     "client_secret=<redacted>"]
    assert (list(azure.handlers), azure.propagate) == before
