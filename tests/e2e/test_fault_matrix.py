# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault matrix: the real module, through ansible-playbook, against every fault ARM and Entra ID throw.

Each row is one connection of the emulator with its own faults (matched by the connection's path) and
one task in a single playbook run, so the matrix costs one ansible-playbook start. Every row then
asserts, from the emulator's request log and state, that the module either recovered (within the
retry bound, honouring Retry-After) or failed with the right status, code, message and request id,
without a traceback, and that ``changed`` is exactly what happened on the service (no phantom change).
Faults on the token endpoints cannot be told apart by path, so those rows run on their own.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass, field

import pytest
from playbook import run_ansible
from support import (
    ACCOUNT,
    CONSUMER_SUB_A,
    MODULE,
    RESOURCE_GROUP,
    SUBSCRIPTION,
    awx_environment,
    endpoint_id,
    standard_seed,
)

# ArmClient's RetryPolicy: 4 retries, first backoff 0.5 s (doubling) when ARM gives no Retry-After.
MAX_ATTEMPTS = 5
FIRST_BACKOFF = 0.5
# Clock slack between the emulator's log times (taken when a request arrives) and real sleeps.
SLACK = 0.05


@dataclass(frozen=True)
class Row:
    """One fault and what the module must make of it."""

    slug: str
    faults: tuple[dict[str, t.Any], ...]
    expect: str  # "recovered" or "failed"
    params: dict[str, t.Any] = field(default_factory=dict)
    start: str = "Pending"  # the connection's status before the task
    # Row-specific checks: count of ARM attempts per method, minimum gap between them, failure fields.
    attempts: dict[str, int] = field(default_factory=dict)
    min_gap: float | None = None
    gap_method: str = "PUT"
    status_code: int | None = None
    code: str | None = None
    msg: tuple[str, ...] = ()
    max_seconds: float | None = None

    @property
    def name(self) -> str:
        return f"fm-{self.slug}.0001"


def fault(action: str, **rule: t.Any) -> dict[str, t.Any]:
    return {"action": action, **rule}


ROWS = [
    # -- recovered ----------------------------------------------------------------------------------
    Row("429-retry-after-seconds", (fault("status", status=429, retry_after=1, times=2),), "recovered",
        attempts={"PUT": 3}, min_gap=1.0),
    Row("429-retry-after-http-date", (fault("status", status=429, retry_after_date=2, times=1),), "recovered",
        attempts={"PUT": 2}, min_gap=1.0),  # an HTTP-date has whole seconds: 2 s from now is at least 1 s
    Row("500-once-get", (fault("status", method="GET", status=500),), "recovered",
        attempts={"GET": 3}, min_gap=FIRST_BACKOFF, gap_method="GET"),  # GET, retried GET, PUT, final GET
    Row("502-once-put", (fault("status", status=502),), "recovered", attempts={"PUT": 2}, min_gap=FIRST_BACKOFF),
    Row("503-twice-get", (fault("status", method="GET", status=503, times=2),), "recovered",
        attempts={"GET": 4}, min_gap=FIRST_BACKOFF, gap_method="GET"),
    Row("504-once-put", (fault("status", status=504),), "recovered", attempts={"PUT": 2}, min_gap=FIRST_BACKOFF),
    Row("408-once-get", (fault("status", method="GET", status=408),), "recovered", attempts={"GET": 3}),
    Row("dropped-get", (fault("drop", method="GET"),), "recovered", attempts={"GET": 3}),
    # The PUT was applied before the connection dropped; repeating it is safe (PUT is idempotent).
    Row("dropped-put", (fault("drop"),), "recovered", attempts={"PUT": 2}),
    # request_timeout 2 s: the answers that are not delayed must still arrive in time on a loaded machine.
    Row("slower-than-request-timeout", (fault("delay", method="GET", seconds=3),), "recovered",
        params={"request_timeout": 2}, attempts={"GET": 3}),
    Row("html-502-once", (fault("html", method="GET", status=502),), "recovered", attempts={"GET": 3}),
    Row("text-503-once", (fault("status", method="GET", status=503, body="Service Unavailable",
                                content_type="text/plain"),), "recovered", attempts={"GET": 3}),
    Row("gzip-put", (fault("gzip"), fault("gzip", method="GET")), "recovered", attempts={"PUT": 1}),
    Row("401-once", (fault("status", method="GET", status=401, code="InvalidAuthenticationToken"),), "recovered",
        attempts={"GET": 3}),
    Row("delete-429-once", (fault("status", method="DELETE", status=429, retry_after=1),), "recovered",
        params={"state": "absent"}, attempts={"DELETE": 2}, min_gap=1.0, gap_method="DELETE"),
    # -- failed -------------------------------------------------------------------------------------
    Row("429-exhausted", (fault("status", status=429, retry_after=1, times=None),), "failed",
        attempts={"PUT": MAX_ATTEMPTS}, min_gap=1.0, status_code=429, code="SubscriptionRequestsThrottled",
        msg=("failed with HTTP 429", "after 4 retries")),
    Row("429-beyond-time-budget", (fault("status", status=429, retry_after=3600, times=None),), "failed",
        attempts={"PUT": 1}, status_code=429, code="SubscriptionRequestsThrottled", max_seconds=10),
    Row("503-exhausted", (fault("status", method="GET", status=503, retry_after=0, times=None),), "failed",
        attempts={"GET": MAX_ATTEMPTS, "PUT": 0}, status_code=503, code="ServiceUnavailable",
        msg=("Reading connection", "after 4 retries")),
    Row("400-not-retried", (fault("status", status=400, code="BadRequest", message="Emulated bad request"),),
        "failed", attempts={"PUT": 1}, status_code=400, code="BadRequest", msg=("Emulated bad request",)),
    Row("dropped-every-time", (fault("drop", method="GET", times=None),), "failed",
        attempts={"GET": MAX_ATTEMPTS, "PUT": 0}, msg=("failed after 5 attempts",)),
    Row("slower-than-request-timeout-every-time", (fault("delay", method="GET", seconds=2, times=None),),
        "failed", params={"request_timeout": 1}, attempts={"GET": MAX_ATTEMPTS, "PUT": 0},
        msg=("failed after 5 attempts", "Timeout")),
    Row("html-200-get", (fault("html", method="GET", status=200),), "failed", attempts={"GET": 1, "PUT": 0},
        status_code=200, msg=("the body is not JSON", "corporate-proxy")),
    Row("html-200-put", (fault("html", status=200),), "failed", attempts={"PUT": 1}, status_code=200,
        msg=("Setting connection",)),
    Row("operation-failed", (fault("operation_failed", code="InternalServerError",
                                   message="Emulated operation failure"),), "failed",
        attempts={"PUT": 1}, code="InternalServerError", msg=("the operation ended Failed",)),
    Row("operation-canceled", (fault("operation_canceled", code="OperationCanceled",
                                     message="Emulated cancel"),), "failed",
        attempts={"PUT": 1}, code="OperationCanceled", msg=("the operation ended Canceled",)),
    Row("operation-never-ends", (fault("operation_never_ends"),), "failed", params={"wait_timeout": 2},
        attempts={"PUT": 1}, msg=("not finished within wait_timeout", "operation_url")),
    Row("delete-operation-failed", (fault("operation_failed", method="DELETE"),), "failed",
        params={"state": "absent"}, attempts={"DELETE": 1}, msg=("the operation ended Failed",)),
    Row("401-every-time", (fault("status", method="GET", status=401, code="InvalidAuthenticationToken",
                                 times=None),), "failed",
        attempts={"GET": 2, "PUT": 0}, status_code=401, code="InvalidAuthenticationToken"),
]


def matrix_seed() -> dict[str, t.Any]:
    seed = standard_seed()
    seed["accounts"][0]["connections"] = [
        {"name": row.name, "private_endpoint_id": endpoint_id(CONSUMER_SUB_A, f"pe-{row.slug}"),
         "status": row.start, "description": "", "group_id": "Sql"}
        for row in ROWS
    ]
    return seed


def row_args(row: Row) -> dict[str, t.Any]:
    args = {"name": row.name, **row.params}
    if args.get("state") != "absent":
        args.setdefault("status", "Approved")
    return args


# One host (an alias of localhost) per row, all in parallel: the matrix takes as long as its slowest
# row, not the sum. Each host's row arguments come from the inventory.
ROW_TASK = {
    "name": "row",
    MODULE: {
        "resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "name": "{{ row.name }}",
        "status": "{{ row.status | default(omit) }}", "state": "{{ row.state | default('present') }}",
        "request_timeout": "{{ row.request_timeout | default(60) }}",
        "wait_timeout": "{{ row.wait_timeout | default(900) }}",
    },
    "ignore_errors": True,
}


@dataclass
class Matrix:
    output: str
    results: dict[str, dict[str, t.Any]]
    arm: list[dict[str, t.Any]]
    statuses: dict[str, str | None]
    durations: dict[str, float]


@pytest.fixture(scope="module")
def matrix(emulator_server, tmp_path_factory) -> Matrix:
    emu = emulator_server
    emu.clear_faults()
    # Enqueued -> Succeeded, as recorded for an approval: each row polls twice.
    emu.configure(op_duration=0.3, dequeued_polls=0, retry_after=None)
    emu.seed(matrix_seed())
    emu.clear_requests()
    try:
        for row in ROWS:
            for rule in row.faults:
                emu.add_fault(path_contains=f"/privateEndpointConnections/{row.name}", **rule)
        proc, records = run_ansible(tmp_path_factory.mktemp("fault-matrix"),
                                    {row.slug: {"row": row_args(row)} for row in ROWS}, [ROW_TASK],
                                    awx_environment(emu), forks=len(ROWS))
        # A delayed answer is logged when the emulator sends it, after the client gave up on it.
        time.sleep(0.5 + max((float(f.get("seconds", 0)) for row in ROWS for f in row.faults
                              if f["action"] == "delay"), default=0))
    finally:
        emu.clear_faults()
    assert proc.returncode == 0, proc.stdout + proc.stderr  # every row has ignore_errors
    by_name = {row.name: row.slug for row in ROWS}
    results = {by_name[record["result"]["invocation"]["module_args"]["name"]]: record["result"]
               for record in records}
    arm = sorted(emu.requests("arm"), key=lambda r: r["time"])
    statuses = {}
    for row in ROWS:
        body = emu.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, row.name)
        statuses[row.slug] = body["properties"]["privateLinkServiceConnectionState"]["status"] if body else None
    durations = {}
    for row in ROWS:
        sent = [r["time"] for r in arm if r["path"].endswith(f"/{row.name}")]
        durations[row.slug] = sent[-1] - sent[0] if sent else 0.0
    return Matrix(proc.stdout + proc.stderr, results, arm, statuses, durations)


def row_requests(matrix: Matrix, row: Row, method: str | None = None) -> list[dict[str, t.Any]]:
    return [r for r in matrix.arm if r["path"].endswith(f"/{row.name}") and (method is None or r["method"] == method)]


def test_no_traceback_anywhere(matrix):
    assert "Traceback" not in matrix.output
    assert "MODULE FAILURE" not in matrix.output
    for name, result in matrix.results.items():
        # ansible-core adds exception="(traceback unavailable)" to every fail_json; a crash has a real one.
        assert "module_stderr" not in result and "Traceback" not in str(result.get("exception", "")), (name, result)


@pytest.mark.parametrize("row", ROWS, ids=[row.slug for row in ROWS])
def test_row(matrix, row):
    result = matrix.results[row.slug]
    final = matrix.statuses[row.slug]
    absent = row.params.get("state") == "absent"
    target = None if absent else "Approved"

    # No phantom change: `changed` says exactly whether the service's state moved.
    assert bool(result.get("changed")) == (final != row.start), (result, final)

    if row.expect == "recovered":
        assert result["failed"] is False, result
        assert result["changed"] is True
        assert final == target
        if not absent:
            assert result["connection"]["status"] == "Approved"
    else:
        assert result["failed"] is True, result
        assert final == row.start, "a failed task leaves the connection as it was"
        assert result["msg"] and "\n" not in result["msg"]
        for needle in row.msg:
            assert needle in result["msg"], result["msg"]

    for method, count in row.attempts.items():
        assert len(row_requests(matrix, row, method)) == count, [
            (r["method"], r["status"], r["fault"]) for r in row_requests(matrix, row)]

    if row.min_gap is not None:
        # After each faulted answer, the next attempt waited at least Retry-After (or the first backoff).
        sent = sorted(row_requests(matrix, row, row.gap_method), key=lambda r: r["time"])
        gaps = [later["time"] - earlier["time"] for earlier, later in zip(sent, sent[1:]) if earlier["fault"]]
        assert gaps and min(gaps) >= row.min_gap - SLACK, f"Retry-After/backoff not honoured: {gaps}"

    if row.max_seconds is not None:
        assert matrix.durations[row.slug] < row.max_seconds

    if row.status_code is not None:
        assert result["status_code"] == row.status_code
        failing = [r for r in row_requests(matrix, row) if r["status"] == row.status_code]
        assert result["request_id"] == failing[-1]["response_headers"]["x-ms-request-id"]
        assert result["request_id"] in result["msg"]
        assert result["correlation_id"] == failing[-1]["request_headers"]["x-ms-correlation-request-id"]
    if row.code is not None:
        assert result["error"]["code"] == row.code
        assert row.code in result["msg"]


def test_operation_failures_report_the_operation(matrix):
    """Failed/Canceled/never-ending operations name the operation and the 202's request id."""
    for slug, status in (("operation-failed", "Failed"), ("operation-canceled", "Canceled"),
                         ("operation-never-ends", "Dequeued")):
        row = next(r for r in ROWS if r.slug == slug)
        result = matrix.results[slug]
        put = row_requests(matrix, row, "PUT")[-1]
        assert result["operation_status"] == status
        assert result["operation_url"] == put["response_headers"]["Azure-AsyncOperation"]
        assert result["request_id"] == put["response_headers"]["x-ms-request-id"]
    # A timeout says what to do in one short line; the long signed URL is a result field, not in msg.
    timed_out = matrix.results["operation-never-ends"]
    assert "operationsStatus" in timed_out["operation_url"] and timed_out["operation_url"] not in timed_out["msg"]
    assert len(timed_out["msg"]) < 250


def test_every_row_is_in_the_run(matrix):
    assert sorted(matrix.results) == sorted(row.slug for row in ROWS)


# -- the token endpoint: faults there match every task, so each gets its own run -------------------
def approve(**params: t.Any) -> list[dict[str, t.Any]]:
    args = {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "name": "pe-pending.0001",
            "status": "Approved", **params}
    return [{"name": "approve", MODULE: args, "ignore_errors": True}]


def status_of(emulator, name: str = "pe-pending.0001") -> str:
    return emulator.connection(SUBSCRIPTION, RESOURCE_GROUP, ACCOUNT, name)["properties"][
        "privateLinkServiceConnectionState"]["status"]


def test_token_endpoint_error_fails_before_any_arm_request(emulator, run_playbook, awx_env):
    emulator.add_fault("token_error", times=None, error="invalid_client", aadsts=7000215,
                       message="Invalid client secret provided.")
    run = run_playbook(approve(), env=awx_env)
    result = run.result()
    assert result["failed"] is True and not result.get("changed")
    assert result["msg"].startswith("Could not get an Azure access token from ")
    assert "AADSTS7000215" in result["msg"] or "invalid_client" in result["msg"], result["msg"]
    assert "Traceback" not in run.output, run.output
    assert emulator.requests("arm") == []
    assert status_of(emulator) == "Pending"


def test_expired_token_is_refreshed_once(emulator, run_playbook, awx_env):
    emulator.add_fault("token_expired", times=1)
    run = run_playbook(approve(), env=awx_env)
    result = run.result()
    assert result["failed"] is False and result["changed"] is True, result
    arm = emulator.requests("arm")
    assert arm[0]["status"] == 401 and arm[1]["status"] == 200, [(r["method"], r["status"]) for r in arm]
    assert len([r for r in arm if r["status"] == 401]) == 1
    assert len(emulator.requests("token")) == 2, "one token, then one fresh token after the 401"
    assert status_of(emulator) == "Approved"


def test_expired_token_every_time_fails_with_arm_code(emulator, run_playbook, awx_env):
    emulator.add_fault("token_expired", times=None)
    run = run_playbook(approve(), env=awx_env)
    result = run.result()
    assert result["failed"] is True and not result.get("changed")
    assert result["status_code"] == 401 and result["error"]["code"] == "ExpiredAuthenticationToken"
    arm = emulator.requests("arm")
    assert [r["status"] for r in arm] == [401, 401], "one refresh, then the error"
    assert result["request_id"] == arm[-1]["response_headers"]["x-ms-request-id"]
    assert status_of(emulator) == "Pending"


def test_bad_request_timeout_is_a_validation_error(emulator, run_playbook, awx_env):
    run = run_playbook(approve(request_timeout=0), env=awx_env)
    assert run.result()["failed"] is True
    assert "request_timeout must be" in run.result()["msg"]
    assert emulator.requests() == []


def test_retry_after_zero_does_not_make_a_poll_storm(emulator, run_playbook, awx_env):
    """A service or proxy that answers "Retry-After: 0" still gets about one poll a second."""
    emulator.configure(op_duration=3.0, dequeued_polls=0, retry_after=0)
    emulator.clear_requests()
    run = run_playbook([{MODULE: {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT,
                                  "name": "pe-pending.0001", "status": "Approved"}}], env=awx_env)
    assert run.rc == 0 and run.result()["changed"] is True, run.output
    polls = emulator.requests("operation")
    assert all(p["response_headers"].get("Retry-After") == "0" for p in polls[:-1]), "the emulator sent 0"
    assert 2 <= len(polls) <= 5, f"{len(polls)} polls for a 3 s operation"
    assert run.result()["operation_polls"] == len(polls)
