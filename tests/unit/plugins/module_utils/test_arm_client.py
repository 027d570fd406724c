# SPDX-License-Identifier: GPL-3.0-or-later
"""The ARM client's retry and polling rules, against real ``requests.Response`` objects.

The session is scripted (one layer down, at the network), the clock and sleep are fakes so the
schedule is asserted exactly and the tests take no time.
"""

from __future__ import annotations

import json
import time
from email.utils import formatdate

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from ansible_collections.privatelink.azure.plugins.module_utils import _arm
from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    ArmError,
    AuthenticationError,
    OperationError,
    OperationTimeout,
    TransportError,
)

ENDPOINT = "https://management.example.test"
OP_URL = f"{ENDPOINT}/subscriptions/s/providers/Microsoft.DocumentDB/locations/westus/operationsStatus/op1?api-version=x"


def response(status=200, body=None, headers=None):
    r = requests.Response()
    r.status_code = status
    r._content = (json.dumps(body) if isinstance(body, (dict, list)) else (body or "")).encode()
    r.headers = CaseInsensitiveDict({"x-ms-request-id": f"req-{status}", **(headers or {})})
    r.encoding = "utf-8"
    return r


class ScriptedSession:
    def __init__(self, *answers):
        self.answers = list(answers)
        self.sent = []
        self.headers = {}

    def request(self, method, url, **kwargs):
        self.sent.append((method, url, kwargs))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Token:
    def __init__(self, token, expires_on):
        self.token, self.expires_on = token, expires_on


class Credential:
    def __init__(self):
        self.calls = 0

    def get_token(self, scope):
        self.calls += 1
        return Token(f"token-{self.calls}", time.time() + 3600)


class FakeTime:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 3))
        self.now += seconds

    def clock(self):
        return self.now


def client(*answers, credential=None, **kwargs):
    fake = FakeTime()
    session = ScriptedSession(*answers)
    arm = _arm.ArmClient(ENDPOINT, credential or Credential(), "https://management.azure.com/.default",
                         session=session, sleep=fake.sleep, clock=fake.clock, **kwargs)
    return arm, session, fake


def test_success_sends_token_correlation_id_and_user_agent():
    arm, session, fake = client(response(200, {"ok": True}))
    result = arm.request("GET", "/x", action="Reading x")
    assert result.body == {"ok": True} and fake.sleeps == []
    method, url, kwargs = session.sent[0]
    assert url == f"{ENDPOINT}/x" and kwargs["headers"]["Authorization"] == "Bearer token-1"
    assert kwargs["headers"]["x-ms-correlation-request-id"] == arm.correlation_id
    assert kwargs["timeout"] == (10.0, 60.0)
    assert session.headers["User-Agent"].startswith("privatelink.azure/")


def test_429_waits_exactly_retry_after_then_succeeds():
    arm, session, fake = client(response(429, {"error": {"code": "SubscriptionRequestsThrottled"}},
                                         {"Retry-After": "7"}), response(200, {}))
    arm.request("GET", "/x", action="Reading x")
    assert fake.sleeps == [7.0] and len(session.sent) == 2


def test_retry_after_http_date_is_honoured():
    when = formatdate(time.time() + 5, usegmt=True)
    arm, session, fake = client(response(503, "", {"Retry-After": when}), response(200, {}))
    arm.request("GET", "/x", action="Reading x")
    assert len(fake.sleeps) == 1 and 3.0 <= fake.sleeps[0] <= 5.0


def test_retry_after_zero_keeps_our_own_backoff():
    # A proxy or a service that sends 0 must not turn retries into a burst against ARM's limits.
    arm, session, fake = client(response(429, "", {"Retry-After": "0"}), response(429, "", {"Retry-After": "0"}),
                                response(200, {}))
    arm.request("GET", "/x", action="Reading x")
    assert fake.sleeps == [0.5, 1.0] and len(session.sent) == 3


def test_5xx_backs_off_and_gives_up_after_the_bounded_count():
    arm, session, fake = client(*[response(503, {"error": {"code": "ServiceUnavailable", "message": "busy"}})] * 5)
    with pytest.raises(ArmError) as err:
        arm.request("GET", "/x", action="Reading x")
    assert fake.sleeps == [0.5, 1.0, 2.0, 4.0] and len(session.sent) == 5
    assert err.value.status_code == 503 and err.value.code == "ServiceUnavailable"
    assert "after 4 retries" in err.value.msg


def test_retry_after_beyond_the_time_budget_fails_at_once_with_the_throttling_error():
    arm, session, fake = client(response(429, {"error": {"code": "SubscriptionRequestsThrottled", "message": "m"}},
                                         {"Retry-After": "3600"}))
    with pytest.raises(ArmError) as err:
        arm.request("PUT", "/x", action="Setting x", json_body={})
    assert fake.sleeps == [] and err.value.status_code == 429


def test_dropped_connection_is_retried_then_reported():
    drop = requests.exceptions.ConnectionError("Connection aborted: RemoteDisconnected")
    arm, session, fake = client(drop, drop, drop, drop, drop)
    with pytest.raises(TransportError, match="failed after 5 attempts: ConnectionError"):
        arm.request("GET", "/x", action="Reading x")


def test_dropped_connection_recovers():
    arm, session, fake = client(requests.exceptions.ChunkedEncodingError("IncompleteRead"), response(200, {}))
    assert arm.request("GET", "/x", action="Reading x").status_code == 200


def test_tls_failure_is_not_retried_and_says_how_to_trust_a_private_ca():
    arm, session, fake = client(requests.exceptions.SSLError("CERTIFICATE_VERIFY_FAILED"))
    with pytest.raises(TransportError, match="REQUESTS_CA_BUNDLE"):
        arm.request("GET", "/x", action="Reading x")
    assert len(session.sent) == 1


def test_401_refreshes_the_token_once():
    cred = Credential()
    arm, session, fake = client(response(401, {"error": {"code": "ExpiredAuthenticationToken"}}), response(200, {}),
                                credential=cred)
    arm.request("GET", "/x", action="Reading x")
    assert cred.calls == 2 and session.sent[1][2]["headers"]["Authorization"] == "Bearer token-2"


def test_persistent_401_is_an_arm_error():
    arm, session, fake = client(*[response(401, {"error": {"code": "InvalidAuthenticationToken", "message": "no"}})] * 2)
    with pytest.raises(ArmError) as err:
        arm.request("GET", "/x", action="Reading x")
    assert err.value.status_code == 401 and err.value.code == "InvalidAuthenticationToken"


def test_token_is_acquired_once_per_run():
    cred = Credential()
    arm, session, fake = client(response(200, {}), response(200, {}), credential=cred)
    arm.request("GET", "/x", action="a")
    arm.request("GET", "/y", action="b")
    assert cred.calls == 1


def test_credential_failure_is_an_authentication_error_without_traceback():
    class Broken:
        def get_token(self, scope):
            raise RuntimeError("AADSTS7000215: Invalid client secret provided.\nTrace ID: 1")
    arm, session, fake = client(credential=Broken(), credential_source="environment (AWX names)")
    with pytest.raises(AuthenticationError) as err:
        arm.request("GET", "/x", action="Reading x")
    assert err.value.msg == ("Could not get an Azure access token from environment (AWX names): "
                             "AADSTS7000215: Invalid client secret provided.")
    assert session.sent == []


@pytest.mark.parametrize("url", ["https://evil.example/op", "http://management.example.test/op",
                                 "https://management.example.test.evil.example/op"])
def test_foreign_operation_urls_are_refused(url):
    arm, session, fake = client()
    accepted = _arm.ArmResponse(202, CaseInsensitiveDict({"Azure-AsyncOperation": url}), {"status": "Enqueued"})
    with pytest.raises(TransportError, match="not on the ARM endpoint"):
        arm.start_operation("Setting x", accepted)
    assert session.sent == []


def test_html_body_on_200_is_an_error_not_data():
    arm, session, fake = client(response(200, "<html><body>Proxy login</body></html>"))
    with pytest.raises(ArmError, match="not JSON: <html><body>Proxy login"):
        arm.get_json("/x", action="Reading x")


def accepted(headers):
    return _arm.ArmResponse(202, CaseInsensitiveDict(headers), {"status": "Enqueued"})


def arm_response(status, headers):
    return _arm.ArmResponse(status, CaseInsensitiveDict(headers), None)


def test_operation_polls_soon_then_backs_off_and_prefers_azure_asyncoperation():
    statuses = ["Enqueued"] + ["Dequeued"] * 13 + ["Succeeded"]
    arm, session, fake = client(*[response(200, {"status": s}) for s in statuses])
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL, "Location": f"{ENDPOINT}/loc"}))
    arm.wait(op, timeout=900)
    assert all(url == OP_URL for _unused, url, _unused in session.sent)
    assert fake.sleeps[:11] == [0.5] + [1.0] * 10          # soon, then about one poll a second
    assert fake.sleeps[11:] == [1.05, 1.155, 1.271, 1.398]  # then 10 % of the elapsed time
    assert op.history[-1] == "Succeeded" and op.polls == 15


def test_an_operation_left_by_an_earlier_run_is_polled_at_once():
    # It has been running since that run: a first poll now may already find it ended.
    arm, session, fake = client(response(200, {"status": "Dequeued"}), response(200, {"status": "Succeeded"}))
    op = arm.operation_from_url("Waiting for x", OP_URL)
    arm.wait(op, timeout=900)
    assert fake.sleeps == [0.0, 1.0] and op.history == ["Dequeued", "Succeeded"]


def test_operation_honours_retry_after_when_given():
    arm, session, fake = client(response(200, {"status": "Dequeued"}, {"Retry-After": "4"}),
                                response(200, {"status": "Succeeded"}))
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL, "Retry-After": "2"}))
    arm.wait(op, timeout=900)
    assert fake.sleeps == [2.0, 4.0]


def test_failed_operation_raises_with_the_operation_error():
    arm, session, fake = client(response(200, {"status": "Failed", "error": {
        "code": "BadRequest", "message": "Approving rejected private endpoint connections is not supported."}}))
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL, "x-ms-request-id": "op1"}))
    with pytest.raises(OperationError) as err:
        arm.wait(op, timeout=900)
    assert err.value.status == "Failed" and err.value.error["code"] == "BadRequest"
    assert err.value.request_id == "op1" and err.value.operation_url == OP_URL


def test_canceled_operation_raises():
    arm, session, fake = client(response(200, {"status": "Canceled"}))
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL}))
    with pytest.raises(OperationError, match="ended Canceled"):
        arm.wait(op, timeout=900)


def test_wait_timeout_ends_a_never_ending_operation_with_its_url():
    arm, session, fake = client(*[response(200, {"status": "Dequeued"})] * 100)
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL}))
    with pytest.raises(OperationTimeout) as err:
        arm.wait(op, timeout=5)
    # The long signed URL is in the result field, once; the message says what to do in one line.
    assert OP_URL not in err.value.msg and "\n" not in err.value.msg and "operation_url" in err.value.msg
    assert err.value.fail_fields()["operation_url"] == OP_URL and err.value.last_status == "Dequeued"
    assert sum(fake.sleeps) == pytest.approx(5.0)


def test_location_protocol_when_there_is_no_azure_asyncoperation():
    loc = f"{ENDPOINT}/subscriptions/s/operationResults/op1"
    arm, session, fake = client(response(202, ""), response(200, {"name": "pe"}))
    op = arm.start_operation("Setting x", accepted({"Location": loc}))
    arm.wait(op, timeout=900)
    assert [url for _unused, url, _unused in session.sent] == [loc, loc] and op.history == ["InProgress", "Succeeded"]


def test_202_without_any_operation_header_is_an_error():
    arm, session, fake = client()
    with pytest.raises(ArmError, match="without an Azure-AsyncOperation or Location"):
        arm.start_operation("Setting x", accepted({}))


@pytest.mark.parametrize("headers,expected", [
    ({"Retry-After": "12"}, 12.0), ({"Retry-After": "1.5"}, 1.5), ({"Retry-After": "-3"}, 0.0),
    ({"retry-after-ms": "250"}, 0.25), ({"Retry-After": "soon"}, None), ({}, None),
])
def test_parse_retry_after(headers, expected):
    assert _arm.parse_retry_after(CaseInsensitiveDict(headers)) == expected


@pytest.mark.parametrize("retry_after", ["0", "-5", "Thu, 01 Jan 1970 00:00:00 GMT", "soon", "0.001"])
def test_polling_keeps_its_own_schedule_under_any_small_retry_after(retry_after):
    """Whatever Retry-After says below the schedule, polls stay about a second apart (no poll storm)."""
    running = response(200, {"status": "InProgress"}, {"Retry-After": retry_after})
    arm, session, fake = client(*[running] * 4, response(200, {"status": "Succeeded"}))
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL, "Retry-After": retry_after}))
    arm.wait(op, timeout=900)
    assert fake.sleeps == [0.5, 1.0, 1.0, 1.0, 1.0] and op.polls == 5


def test_a_larger_retry_after_is_honoured():
    arm, session, fake = client(response(200, {"status": "InProgress"}, {"Retry-After": "7"}),
                                response(200, {"status": "Succeeded"}))
    op = arm.start_operation("Setting x", accepted({"Azure-AsyncOperation": OP_URL, "Retry-After": "3"}))
    arm.wait(op, timeout=900)
    assert fake.sleeps == [3.0, 7.0]


def test_an_operation_url_that_answers_with_the_resource_ends_when_it_settles():
    """Key Vault: the operation URL is the connection's own; provisioningState Updating, then Succeeded."""
    def resource(state):
        return {"id": "/x/pe", "properties": {"provisioningState": state,
                                              "privateLinkServiceConnectionState": {"status": "Rejected"}}}
    arm, session, fake = client(response(200, resource("Updating")), response(200, resource("Succeeded")))
    op = arm.operation_for("Setting x", arm_response(200, {"Azure-AsyncOperation": OP_URL}), expect_status="Rejected")
    arm.wait(op, timeout=900)
    assert op.history == ["Updating", "Succeeded"]


def test_a_settled_connection_whose_provisioning_state_stays_pending_ends_the_wait():
    """Some services leave provisioningState at Pending after the status changed: the status decides."""
    body = {"id": "/x/pe", "properties": {"provisioningState": "Pending",
                                          "privateLinkServiceConnectionState": {"status": "Approved"}}}
    arm, session, fake = client(response(200, body))
    op = arm.operation_for("Setting x", arm_response(200, {"Azure-AsyncOperation": OP_URL}), expect_status="Approved")
    arm.wait(op, timeout=900)
    assert op.polls == 1


def test_a_delete_ends_when_its_operation_url_answers_404():
    arm, session, fake = client(response(202, ""), response(404, {"error": {"code": "NotFound", "message": "gone"}}))
    op = arm.operation_for("Deleting x", arm_response(202, {"Location": OP_URL}), deleting=True)
    arm.wait(op, timeout=900)
    assert op.history == ["InProgress", "Deleted"]


def test_a_synchronous_answer_has_no_operation_and_a_202_without_headers_is_an_error():
    arm, _session, _fake = client()
    assert arm.operation_for("Setting x", arm_response(200, {})) is None
    with pytest.raises(ArmError, match="without an Azure-AsyncOperation or Location"):
        arm.operation_for("Setting x", arm_response(202, {}))
