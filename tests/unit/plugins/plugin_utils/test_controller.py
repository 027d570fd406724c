# SPDX-License-Identifier: GPL-3.0-or-later
"""The pieces of running a module in the controller's process that a playbook run cannot isolate."""

from __future__ import annotations

import datetime
import os

import pytest

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
