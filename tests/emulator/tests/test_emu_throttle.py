# SPDX-License-Identifier: GPL-3.0-or-later
"""ARM subscription throttling (armemu.throttle) with an injected clock."""
from __future__ import annotations

import pytest

from armemu.throttle import Throttle, kind_of

SUB = "00000000-0000-0000-0000-000000000000"
OTHER = "11111111-1111-1111-1111-111111111111"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("method", "kind"), [("GET", "reads"), ("head", "reads"), ("PUT", "writes"),
                                              ("PATCH", "writes"), ("POST", "writes"), ("DELETE", "deletes")])
def test_methods_map_to_arm_kinds(method: str, kind: str) -> None:
    assert kind_of(method) == kind


def test_first_write_reports_the_recorded_remaining_counts() -> None:
    allowed, headers = Throttle(clock=Clock()).take(SUB, "PUT")
    assert allowed
    # recordings/other-providers/search-pec-*.yaml: the first PUT answers 199 / 2999.
    assert headers == {"x-ms-ratelimit-remaining-subscription-writes": "199",
                       "x-ms-ratelimit-remaining-subscription-global-writes": "2999"}


def test_disabled_never_refuses_but_counts_down() -> None:
    throttle = Throttle(clock=Clock(), limits={"deletes": (2, 1.0)})
    results = [throttle.take(SUB, "DELETE") for _attempt in range(4)]
    assert all(allowed for allowed, _unused in results)
    assert [h["x-ms-ratelimit-remaining-subscription-deletes"] for _unused, h in results] == ["1", "0", "0", "0"]
    assert all("Retry-After" not in h for _unused, h in results)


def test_enabled_refuses_when_empty_with_retry_after_then_refills() -> None:
    clock = Clock()
    throttle = Throttle(enabled=True, limits={"writes": (3, 0.5)}, clock=clock)
    assert [throttle.take(SUB, "PUT")[0] for _attempt in range(3)] == [True, True, True]
    allowed, headers = throttle.take(SUB, "PUT")
    assert not allowed
    assert headers["Retry-After"] == "2"  # one token at 0.5/s
    assert headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    # Other kinds and other subscriptions have their own buckets.
    assert throttle.take(SUB, "GET")[0]
    assert throttle.take(OTHER, "PUT")[0]
    clock.now += 1.0
    allowed, headers = throttle.take(SUB, "PUT")
    assert not allowed and headers["Retry-After"] == "1"
    clock.now += 1.0
    allowed, headers = throttle.take(SUB, "PUT")
    assert allowed and "Retry-After" not in headers
    assert headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    clock.now += 100
    assert throttle.take(SUB, "PUT")[1]["x-ms-ratelimit-remaining-subscription-writes"] == "2"  # capped at 3


def test_subscription_ids_compare_case_insensitively() -> None:
    throttle = Throttle(enabled=True, limits={"reads": (1, 0.1)}, clock=Clock())
    assert throttle.take("AAAA-bbbb", "GET")[0]
    assert not throttle.take("aaaa-BBBB", "GET")[0]


def test_configure_switches_on_and_rejects_unknown_kinds() -> None:
    throttle = Throttle(clock=Clock())
    throttle.configure(enabled=True, reads=(1, 1))
    assert throttle.take(SUB, "GET")[0]
    assert not throttle.take(SUB, "GET")[0]
    with pytest.raises(ValueError, match="unknown throttle kinds"):
        throttle.configure(lists=(1, 1))


def test_message_has_the_shape_seen_in_the_wild() -> None:
    assert Throttle.message(SUB, "GET", "10", actor="oid") == (
        f"Number of 'read' requests for subscription '{SUB}' actor 'oid' exceeded. "
        "Please try again after '10' seconds.")
