# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""The collection's exception hierarchy.

Every failure the collection can report is one of these exceptions. The module layer turns them
into a failed task's fields in exactly one place (``_module.failure``), using ``fail_fields()`` for
the structured result fields (``error``, ``status_code``, ``request_id``, ``correlation_id``).
"""

from __future__ import annotations

import json
import typing as t

# Private helper names and classes of a collection module_util; not a public API.
__all__ = (
    "CollectionError",
    "ValidationError",
    "TransportError",
    "AuthenticationError",
    "ArmError",
    "OperationError",
    "OperationTimeout",
    "parse_error_body",
)


class CollectionError(Exception):
    """Base class: ``msg`` is the one-line message shown to the user."""

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg

    def fail_fields(self) -> dict[str, t.Any]:
        """Extra structured fields for ``fail_json`` besides ``msg``."""
        return {}


class ValidationError(CollectionError):
    """Bad input, detected before any request is sent."""


class TransportError(CollectionError):
    """The request never got an HTTP answer (connection refused or dropped, timeout, TLS)."""


class AuthenticationError(CollectionError):
    """No access token could be obtained (or ARM kept refusing the one we had)."""


def _detail(raw: t.Any) -> dict[str, t.Any]:
    """Normalise one ARM ErrorDetail (recursively) into snake_case keys."""
    if not isinstance(raw, dict):
        return {"code": None, "message": str(raw), "target": None, "details": [], "additional_info": []}
    details = raw.get("details")
    infos = raw.get("additionalInfo")
    return {
        "code": raw.get("code") if isinstance(raw.get("code"), str) else None,
        "message": raw.get("message") if isinstance(raw.get("message"), str) else None,
        "target": raw.get("target") if isinstance(raw.get("target"), str) else None,
        "details": [_detail(d) for d in details] if isinstance(details, list) else [],
        "additional_info": [
            {"type": i.get("type"), "info": i.get("info")} for i in infos if isinstance(i, dict)
        ] if isinstance(infos, list) else [],
    }


def parse_error_body(body: t.Any) -> dict[str, t.Any] | None:
    """Read an ARM error body in either shape seen in real traffic.

    Wrapped ``{"error": {...}}`` comes from the ARM front door (throttling, missing resource
    group or parent); flat ``{"code", "message"}`` comes from Cosmos DB itself (its 404 and 400
    answers). Returns the normalised ErrorDetail, or None when the body is neither.
    """
    if isinstance(body, (bytes, str)):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("error"), dict):
        return _detail(body["error"])
    if isinstance(body.get("code"), str):
        return _detail(body)
    return None


def _one_line(text: str | None, limit: int = 500) -> str:
    """Collapse whitespace so that ``msg`` stays one line; trim very long service messages."""
    if not text:
        return ""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def _summary(error: dict[str, t.Any] | None) -> str:
    """'Code: message' of an ErrorDetail for the one-line msg; empty when it says nothing."""
    if not error or not (error.get("code") or error.get("message")):
        return ""
    return f"{error.get('code') or 'Error'}: {_one_line(error.get('message'))}".rstrip(": ")


class ArmError(CollectionError):
    """ARM answered with an error status.

    ``error`` is the normalised ErrorDetail (or None for a body that was not an ARM error, such as
    a proxy's HTML page); ``request_id`` and ``correlation_id`` are what Microsoft support asks for.
    """

    def __init__(
        self,
        action: str,
        status_code: int,
        error: dict[str, t.Any] | None = None,
        request_id: str | None = None,
        correlation_id: str | None = None,
        body_excerpt: str | None = None,
    ) -> None:
        self.action = action
        self.status_code = status_code
        self.error = error
        self.request_id = request_id
        self.correlation_id = correlation_id
        if _summary(error):
            why = _summary(error)
        elif body_excerpt:
            why = f"unexpected response: {_one_line(body_excerpt, 200)}"
        else:
            why = "no error details in the response"
        ids = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{action} failed with HTTP {status_code}: {why}{ids}")

    @property
    def code(self) -> str | None:
        return self.error.get("code") if self.error else None

    def add_hint(self, hint: str) -> None:
        """Say what to do about it, after the service's own words."""
        self.msg = f"{self.msg}. {hint}"
        self.args = (self.msg,)

    def fail_fields(self) -> dict[str, t.Any]:
        return {
            "error": self.error,
            "status_code": self.status_code,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
        }


class OperationError(CollectionError):
    """A long-running operation ended ``Failed`` or ``Canceled``: the write did not happen."""

    def __init__(
        self,
        action: str,
        status: str,
        error: dict[str, t.Any] | None,
        operation_url: str,
        request_id: str | None = None,
        correlation_id: str | None = None,
    ) -> None:
        self.action = action
        self.status = status
        self.error = error
        self.operation_url = operation_url
        self.request_id = request_id
        self.correlation_id = correlation_id
        why = f": {_summary(error)}" if _summary(error) else ""
        ids = f" (request id {request_id})" if request_id else ""
        super().__init__(f"{action}: the operation ended {status}{why}{ids}")

    def fail_fields(self) -> dict[str, t.Any]:
        return {
            "error": self.error,
            "operation_status": self.status,
            "operation_url": self.operation_url,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
        }


class OperationTimeout(CollectionError):
    """``wait_timeout`` ran out before the operation ended; its outcome is unknown."""

    def __init__(self, action: str, waited: float, last_status: str | None, operation_url: str,
                 request_id: str | None = None, correlation_id: str | None = None) -> None:
        self.operation_url = operation_url
        self.last_status = last_status
        self.request_id = request_id
        self.correlation_id = correlation_id
        # The operation URL is long and signed: it is in the result (operation_url), not in the message.
        super().__init__(
            f"{action}: not finished within wait_timeout ({waited:.0f} s, last status {last_status or 'unknown'}); "
            "it may still complete. Re-run with operation_url from this result, or a longer wait_timeout."
        )

    def fail_fields(self) -> dict[str, t.Any]:
        return {
            "operation_status": self.last_status,
            "operation_url": self.operation_url,
            "request_id": self.request_id,
            "correlation_id": self.correlation_id,
        }
