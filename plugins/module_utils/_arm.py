# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""A small Azure Resource Manager REST client: one keep-alive session, bounded retries, LRO polling.

It knows nothing about Ansible: it returns data and raises the collection's exceptions. It takes the
ARM endpoint and a credential, so tests point it at the local emulator.
"""

from __future__ import annotations

import email.utils
import importlib.util
import json
import time
import typing as t
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ansible_collections.privatelink.azure.plugins.module_utils import _redact
from ansible_collections.privatelink.azure.plugins.module_utils._errors import (
    ArmError,
    AuthenticationError,
    OperationError,
    OperationTimeout,
    TransportError,
    parse_error_body,
)
from ansible_collections.privatelink.azure.plugins.module_utils._progress import ProgressEvent, report
from ansible_collections.privatelink.azure.plugins.module_utils._version import COLLECTION_VERSION

# requests (with urllib3, charset_normalizer, http.client) takes ~100 ms to import, so it is only
# looked up here and imported when the first client is built: a task that fails validation, and the
# module's import itself, do not pay for it (bench/RESULTS.md, "import" rows).
HAS_REQUESTS = importlib.util.find_spec("requests") is not None
REQUESTS_IMPORT_ERROR: ImportError | None = None if HAS_REQUESTS else ImportError("No module named 'requests'")

USER_AGENT = f"privatelink.azure/{COLLECTION_VERSION}"
# ARM's guidance (RPC Addendum "Retrying REST Calls"): retry 408, 5xx and dropped connections, and
# honour Retry-After; 429 is ARM's throttling answer and always carries Retry-After.
RETRY_STATUSES = frozenset((408, 429, 500, 502, 503, 504))
TERMINAL_SUCCESS = "succeeded"
TERMINAL_FAILURE = frozenset(("failed", "canceled", "cancelled"))
# provisioningState of a resource that is still being changed. When an operation URL answers with the
# resource itself (Key Vault's kv-operation URL is the connection's own URL), any other state counts as
# settled once the connection shows the status that was asked for: some services leave "Pending" there.
ACTIVE_PROVISIONING = frozenset(("updating", "approving", "rejecting", "deleting", "creating", "accepted",
                                 "provisioning", "inprogress", "running", "enqueued", "dequeued"))
SETTLED_PROVISIONING = frozenset(("succeeded", "ready"))


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one request is retried: bounded in count and in total time spent waiting."""

    max_retries: int = 4
    max_total_wait: float = 90.0
    backoff_first: float = 0.5
    backoff_max: float = 8.0


@dataclass(frozen=True)
class PollSchedule:
    """When to poll a long-running operation that gives no Retry-After (Cosmos DB never does).

    The Azure SDKs sleep 30 s in that case, so a 5 s approval takes 30 s. We poll soon, then keep
    the interval at max(min_interval, growth x elapsed): the wait after the operation ends stays
    under min_interval + growth x its duration, and the rate stays near one poll per second.
    """

    first: float = 0.5
    min_interval: float = 1.0
    growth: float = 0.1
    max_interval: float = 30.0

    def delay(self, polls_done: int, elapsed: float) -> float:
        if polls_done == 0:
            return self.first
        return min(self.max_interval, max(self.min_interval, self.growth * elapsed))


@dataclass
class ArmResponse:
    status_code: int
    headers: t.Mapping[str, str]
    body: t.Any = None
    text: str = ""

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-ms-request-id")

    @property
    def correlation_id(self) -> str | None:
        return self.headers.get("x-ms-correlation-request-id")


@dataclass
class LongRunningOperation:
    """A write that ARM accepted with 202: where to follow it and what it answered first."""

    action: str
    accepted: ArmResponse
    url: str
    uses_async_header: bool
    last_status: str | None = None
    polls: int = 0
    history: list[str] = field(default_factory=list)
    # Started by an earlier run: it has been running for a while, so the first poll goes out at once.
    resumed: bool = False
    # The connection status the write asked for (an operation URL that answers with the resource);
    # a DELETE's operation is over when its URL answers 404.
    expect_status: str | None = None
    deleting: bool = False
    waited: float = 0.0

    def summary(self) -> dict[str, t.Any]:
        """What a module process (which cannot stream progress) says about the wait in its result."""
        return {"operation_polls": self.polls, "operation_seconds": round(self.waited, 1)}


def parse_retry_after(headers: t.Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from Retry-After (delta-seconds or HTTP-date) or retry-after-ms, if any."""
    for name, scale in (("retry-after-ms", 0.001), ("x-ms-retry-after-ms", 0.001)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                pass
    value = headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _is_tls_failure(exc: BaseException | None) -> bool:
    """Whether a credential's error comes from an untrusted certificate (azure-identity wraps it)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if "CERTIFICATE_VERIFY_FAILED" in str(exc) or type(exc).__name__ in ("SSLError", "SSLCertVerificationError"):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _excerpt(text: str, limit: int = 200) -> str:
    return " ".join(text.split())[:limit]


def new_session(pool_maxsize: int = 4) -> t.Any:
    """A keep-alive requests session for ARM (``pool_maxsize`` connections kept for concurrent requests)."""
    import requests  # pylint: disable=import-outside-toplevel
    from requests.adapters import HTTPAdapter  # pylint: disable=import-outside-toplevel

    session = requests.Session()
    # Retries are ours (they must honour Retry-After and a time budget), not urllib3's.
    session.mount("https://", HTTPAdapter(max_retries=0, pool_connections=1, pool_maxsize=pool_maxsize))
    return session


class ArmClient:
    """Talks to ARM for one module run: one session, one token, one correlation id."""

    def __init__(
        self,
        endpoint: str,
        credential: t.Any,
        scope: str,
        *,
        credential_source: str = "the configured credential",
        session: t.Any = None,
        timeout: tuple[float, float] = (10.0, 60.0),
        retry: RetryPolicy = RetryPolicy(),
        poll: PollSchedule = PollSchedule(),
        sleep: t.Callable[[float], None] = time.sleep,
        clock: t.Callable[[], float] = time.monotonic,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._endpoint_netloc = urlsplit(self.endpoint).netloc.lower()
        self._credential = credential
        self._scope = scope
        self._credential_source = credential_source
        self._timeout = timeout
        self._retry = retry
        self._poll = poll
        self._sleep = sleep
        self._clock = clock
        self._token: t.Any = None
        # Every bearer token this client sent: never repeated from an answer (a proxy may echo headers).
        self._sent_tokens: set[str] = set()
        self.correlation_id = str(uuid.uuid4())
        self.calls = 0
        # Each poll reports progress (module_utils/_progress.py); a caller that follows many operations
        # at once (the policy module) turns this off and reports its own totals instead.
        self.report_progress = True
        # Called with (method, url, status, response headers) of every answer: the policy module reads
        # ARM's remaining-request counts from it to slow down before it is throttled.
        self.on_response: t.Callable[[str, str, int, t.Mapping[str, str]], None] | None = None
        if session is None:
            session = new_session()
        agent = session.headers.get("User-Agent", "")
        if not agent.startswith(USER_AGENT):  # a session shared by several clients gets it once
            session.headers["User-Agent"] = f"{USER_AGENT} {agent}".strip()
        self._session = session

    # -- tokens ------------------------------------------------------------------------------
    def _bearer(self, refresh: bool = False) -> str:
        token = self._token
        if refresh or token is None or token.expires_on - 120 <= time.time():
            try:
                token = self._credential.get_token(self._scope)
            except Exception as exc:  # azure-identity raises several unrelated types
                # Redacted before it is cut: an echoing token endpoint quotes the secret it was sent.
                text = _redact.redact_text(str(exc)).strip()
                first_line = text.splitlines()[0] if text else type(exc).__name__
                hint = (" The sign-in server's TLS certificate could not be verified. Verification is always on; "
                        "for a private CA set REQUESTS_CA_BUNDLE.") if _is_tls_failure(exc) else ""
                raise AuthenticationError(
                    f"Could not get an Azure access token from {self._credential_source}: {first_line}{hint}"
                ) from None
            self._token = token
            if getattr(token, "token", None):
                self._sent_tokens.add(token.token)
                _redact.remember(token.token)
        return token.token

    # -- one request, with retries ----------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        """An absolute URL on the ARM endpoint; refuses any other host (tokens go nowhere else)."""
        if path_or_url.startswith("/"):
            return self.endpoint + path_or_url
        parts = urlsplit(path_or_url)
        if parts.scheme != "https" or parts.netloc.lower() != self._endpoint_netloc:
            raise TransportError(
                f"Refusing to follow {parts.scheme}://{parts.netloc}{parts.path}: it is not on the ARM "
                f"endpoint {self.endpoint}"
            )
        return path_or_url

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        action: str,
        params: dict[str, str] | None = None,
        json_body: t.Any = None,
        headers: t.Mapping[str, str] | None = None,
        ok_statuses: t.Collection[int] = (200, 201, 202, 204),
    ) -> ArmResponse:
        """Send one ARM request; retry what ARM says to retry; raise ArmError for other failures.

        A status in ``ok_statuses`` is returned, anything else raises. ``action`` names the step in
        error messages ("Reading connection 'x'").
        """
        # Already loaded by __init__ (or by the caller who passed a session): a dictionary lookup.
        import requests  # pylint: disable=import-outside-toplevel

        url = self.url_for(path_or_url)
        retries = 0
        waited = 0.0
        refreshed = False
        data = json.dumps(json_body).encode() if json_body is not None else None
        extra = dict(headers or {})
        while True:
            headers = {
                **extra,
                "Authorization": f"Bearer {self._bearer()}",
                "Accept": "application/json",
                "x-ms-client-request-id": str(uuid.uuid4()),
                "x-ms-correlation-request-id": self.correlation_id,
            }
            if data is not None:
                headers["Content-Type"] = "application/json"
            failure: Exception | None = None
            response = None
            try:
                self.calls += 1
                response = self._session.request(
                    method, url, params=params, data=data, headers=headers, timeout=self._timeout
                )
            except requests.exceptions.SSLError as exc:
                raise TransportError(
                    f"{action} failed: the TLS certificate of {self._endpoint_netloc} could not be verified "
                    f"({type(exc).__name__}). Verification is always on; for a private CA set REQUESTS_CA_BUNDLE."
                ) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                failure = exc
            if response is not None:
                result = self._to_response(response)
                if self.on_response is not None:
                    self.on_response(method, url, result.status_code, result.headers)
                if result.status_code == 401 and not refreshed:
                    # An expired or revoked token: get a fresh one once, then let ARM decide.
                    refreshed = True
                    self._bearer(refresh=True)
                    continue
                if result.status_code in ok_statuses:
                    return result
                if result.status_code not in RETRY_STATUSES:
                    raise self._error(action, result)
            # Retryable: a dropped connection, a timeout, 408/429/5xx. Our own backoff is a floor under
            # Retry-After: a "Retry-After: 0" (or garbage) must not turn retries into a burst.
            hint = parse_retry_after(response.headers) if response is not None else None
            delay = max(hint or 0.0, min(self._retry.backoff_max, self._retry.backoff_first * (2 ** retries)))
            if retries >= self._retry.max_retries or waited + delay > self._retry.max_total_wait:
                if response is not None:
                    raise self._error(action, self._to_response(response), retried=retries)
                raise TransportError(
                    f"{action} failed after {retries + 1} attempts: {type(failure).__name__}: "
                    f"{_excerpt(str(failure), 300)}"
                ) from None
            retries += 1
            waited += delay
            if delay > 0:
                self._sleep(delay)

    def _to_response(self, response: t.Any) -> ArmResponse:
        text = response.text or ""
        for token in self._sent_tokens:
            text = text.replace(token, "<redacted>")
        text = _redact.redact_text(text)  # before any excerpt can cut a secret in two
        body: t.Any = None
        if text:
            try:
                body = json.loads(text)
            except ValueError:
                body = None
        return ArmResponse(response.status_code, response.headers, body, text)

    @staticmethod
    def _error(action: str, result: ArmResponse, retried: int = 0) -> ArmError:
        error = parse_error_body(result.body)
        excerpt = None if error else _excerpt(result.text) or None
        err = ArmError(action, result.status_code, error, result.request_id, result.correlation_id, excerpt)
        if retried:
            err.msg = f"{err.msg} (after {retried} retries)"
            err.args = (err.msg,)
        return err

    def get_json(self, path_or_url: str, *, action: str, params: dict[str, str] | None = None) -> ArmResponse:
        """GET that must answer 200 with a JSON body (a proxy's HTML page is an error, not data)."""
        result = self.request("GET", path_or_url, action=action, params=params, ok_statuses=(200,))
        if not isinstance(result.body, (dict, list)):
            raise ArmError(action, result.status_code, None, result.request_id, result.correlation_id,
                           f"the body is not JSON: {_excerpt(result.text) or '(empty)'}")
        return result

    # -- long-running operations ------------------------------------------------------------
    def operation_for(self, action: str, response: ArmResponse, *, expect_status: str | None = None,
                      deleting: bool = False) -> LongRunningOperation | None:
        """The operation to follow after a write, or None when the answer is already final.

        Read from the response, not assumed per service: Azure-AsyncOperation wins over Location (ARM's
        rule), on a 200/201 as well as a 202 (Key Vault answers 200 and keeps working); a 202 without
        either header cannot be followed.
        """
        if response.status_code != 202 and not (response.headers.get("Azure-AsyncOperation")
                                                or response.headers.get("Location")):
            return None
        operation = self.start_operation(action, response)  # a 202 without either header fails there
        operation.expect_status = expect_status
        operation.deleting = deleting
        return operation

    def start_operation(self, action: str, accepted: ArmResponse) -> LongRunningOperation:
        """Where to follow a 202: Azure-AsyncOperation first, Location otherwise (ARM's rule)."""
        async_url = accepted.headers.get("Azure-AsyncOperation")
        location = accepted.headers.get("Location")
        url = async_url or location
        if not url:
            raise ArmError(action, accepted.status_code, None, accepted.request_id, accepted.correlation_id,
                           "202 Accepted without an Azure-AsyncOperation or Location header")
        self.url_for(url)  # refuse a foreign host before we ever poll it
        return LongRunningOperation(action, accepted, url, uses_async_header=bool(async_url))

    def operation_from_url(self, action: str, url: str, uses_async_header: bool = True) -> LongRunningOperation:
        """Resume following an operation known only by its URL (returned by an earlier ``wait: false`` task)."""
        self.url_for(url)
        return LongRunningOperation(action, ArmResponse(202, {}), url, uses_async_header, resumed=True)

    def wait(self, operation: LongRunningOperation, timeout: float) -> None:
        """Poll until the operation ends; return on success, raise on Failed/Canceled or timeout.

        The poll schedule is a floor under Retry-After: whatever a service or a proxy sends (0, a past
        date, garbage), an operation is polled about once a second at most.
        """
        started = self._clock()
        deadline = started + timeout
        hint = parse_retry_after(operation.accepted.headers)
        while True:
            elapsed = self._clock() - started
            if operation.resumed and not operation.polls:
                delay = 0.0
            else:
                delay = max(hint or 0.0, self._poll.delay(operation.polls, elapsed))
            remaining = deadline - self._clock()
            if remaining <= 0:
                operation.waited = self._clock() - started
                raise OperationTimeout(operation.action, timeout, operation.last_status, operation.url,
                                       operation.accepted.request_id, operation.accepted.correlation_id)
            self._sleep(min(delay, remaining))
            result = self.request("GET", operation.url, action=f"{operation.action}: polling the operation",
                                  ok_statuses=(200, 201, 202, 204, 404) if operation.deleting
                                  else (200, 201, 202, 204))
            operation.polls += 1
            operation.waited = self._clock() - started
            hint = parse_retry_after(result.headers)
            state, status = self._poll_state(operation, result)
            operation.last_status = status
            operation.history.append(status)
            if self.report_progress:
                report(ProgressEvent(operation.action, status, operation.waited, operation.polls, result.request_id))
            if state == "succeeded":
                return
            if state == "failed":
                raise OperationError(operation.action, status, parse_error_body(result.body),
                                     operation.url, operation.accepted.request_id,
                                     operation.accepted.correlation_id)

    @staticmethod
    def _poll_state(operation: LongRunningOperation, result: ArmResponse) -> tuple[str, str]:
        """("running" | "succeeded" | "failed", the status to show) of one poll's answer."""
        if result.status_code == 404:
            return "succeeded", "Deleted"  # only asked for while deleting: the connection is gone
        body = result.body if isinstance(result.body, dict) else None
        if not operation.uses_async_header:
            # Location protocol: 202 while running, 200/201/204 once done (errors raised by request()).
            return ("running", "InProgress") if result.status_code == 202 else ("succeeded", "Succeeded")
        status = body.get("status") if body else None
        if isinstance(status, str):
            if status.lower() == TERMINAL_SUCCESS:
                return "succeeded", status
            return ("failed" if status.lower() in TERMINAL_FAILURE else "running"), status
        props = body.get("properties") if body else None
        if isinstance(props, dict):
            # The URL answers with the resource (Key Vault): its provisioningState is the operation's.
            provisioning = str(props.get("provisioningState") or "")
            state = (props.get("privateLinkServiceConnectionState") or {}).get("status")
            if provisioning.lower() in TERMINAL_FAILURE:
                return "failed", provisioning
            if provisioning.lower() in SETTLED_PROVISIONING or (
                    operation.expect_status and isinstance(state, str)
                    and state.lower() == operation.expect_status.lower()
                    and provisioning.lower() not in ACTIVE_PROVISIONING):
                return "succeeded", provisioning or "Succeeded"
            return "running", provisioning or "InProgress"
        if result.status_code == 202 and body is None:
            return "running", "InProgress"
        raise ArmError(f"{operation.action}: polling the operation", result.status_code, None,
                       result.request_id, result.correlation_id,
                       f"no operation status in the body: {_excerpt(result.text) or '(empty)'}")
