# SPDX-License-Identifier: GPL-3.0-or-later
"""Error bodies in both shapes seen in real traffic, and the fields a failure reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    ArmError,
    OperationError,
    parse_error_body,
)

RECORDED_FLAT_404 = json.loads(  # recordings/cosmosdb-404-flat-error.yaml, shortened message
    '{"code":"NotFound","message":"Message: {\\"code\\":\\"NotFound\\",\\"message\\":\\"Message: '
    '{\\\\\\"Errors\\\\\\":[\\\\\\"Resource Not Found\\\\\\"]}\\\\r\\\\nActivityId: 61b8c8e4\\"}"}')


def test_flat_cosmos_body():
    err = parse_error_body(RECORDED_FLAT_404)
    assert err["code"] == "NotFound" and "Resource Not Found" in err["message"]
    assert err["details"] == [] and err["additional_info"] == [] and err["target"] is None


def test_wrapped_body_with_nested_details_and_additional_info():
    body = {"error": {"code": "InvalidTemplate", "message": "outer", "target": "properties",
                      "details": [{"code": "Inner", "message": "inner",
                                   "details": [{"code": "Deepest", "message": "deep"}]}],
                      "additionalInfo": [{"type": "PolicyViolation", "info": {"policy": "p1"}}]}}
    err = parse_error_body(json.dumps(body))
    assert err["code"] == "InvalidTemplate" and err["target"] == "properties"
    assert err["details"][0]["code"] == "Inner"
    assert err["details"][0]["details"][0]["message"] == "deep"
    assert err["additional_info"] == [{"type": "PolicyViolation", "info": {"policy": "p1"}}]


@pytest.mark.parametrize("body", [None, "", "<html>502 Bad Gateway</html>", [], {"status": "Failed"}, 42])
def test_not_an_error_body(body):
    assert parse_error_body(body) is None


def test_arm_error_message_is_one_line_with_status_code_and_request_id():
    err = ArmError("Setting connection 'pe' to Approved", 400,
                   parse_error_body({"code": "BadRequest", "message": "Approving rejected private endpoint "
                                     "connections is not supported.\r\nActivityId: 069f9416"}),
                   request_id="req-1", correlation_id="corr-1")
    assert "\n" not in err.msg
    assert err.msg == ("Setting connection 'pe' to Approved failed with HTTP 400: BadRequest: Approving rejected "
                       "private endpoint connections is not supported. ActivityId: 069f9416 (request id req-1)")
    fields = err.fail_fields()
    assert fields["status_code"] == 400 and fields["request_id"] == "req-1" and fields["correlation_id"] == "corr-1"
    assert fields["error"]["code"] == "BadRequest"


def test_arm_error_without_arm_body_quotes_an_excerpt():
    err = ArmError("Reading connection 'pe'", 502, None, body_excerpt="<html><body>Bad gateway</body></html>")
    assert "unexpected response" in err.msg and "Bad gateway" in err.msg
    assert err.fail_fields()["error"] is None


def test_operation_error_names_status_and_url():
    err = OperationError("Setting connection 'pe' to Approved", "Failed",
                         parse_error_body({"code": "InternalServerError", "message": "boom"}),
                         "https://arm/op/1", request_id="r")
    assert err.msg.startswith("Setting connection 'pe' to Approved: the operation ended Failed: InternalServerError")
    assert err.fail_fields()["operation_url"] == "https://arm/op/1"


def test_version_matches_galaxy_yml():
    from ansible_collections.privatelink.azure.plugins.module_utils._version import COLLECTION_VERSION
    galaxy = Path(__file__).resolve().parents[4] / "galaxy.yml"
    assert f"version: {COLLECTION_VERSION}\n" in galaxy.read_text()
