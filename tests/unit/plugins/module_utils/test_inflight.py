# SPDX-License-Identifier: GPL-3.0-or-later
"""One writer per connection: the lock file, and a second run that must not PUT again."""

from __future__ import annotations

import threading
import time

import pytest

from ansible_collections.privatelink.azure.plugins.module_utils import _inflight
from ansible_collections.privatelink.azure.plugins.module_utils._module import connection_service
from support import ACCOUNT, RESOURCE_GROUP, arm_calls

CONN_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a/" \
          "privateEndpointConnections/pe"


def test_second_holder_waits_until_the_first_releases(tmp_path):
    order = []
    first = _inflight.ConnectionLock(CONN_ID, timeout=5, directory=str(tmp_path))
    with first:
        def contender():
            with _inflight.ConnectionLock(CONN_ID.upper(), timeout=5, directory=str(tmp_path)):
                order.append("second")
        thread = threading.Thread(target=contender)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"], "ARM ids are case-insensitive: same lock"


def test_lock_timeout_refuses_to_write_a_second_time(tmp_path):
    with _inflight.ConnectionLock(CONN_ID, timeout=5, directory=str(tmp_path)):
        with pytest.raises(_inflight.LockTimeout, match="not writing it a second time"):
            with _inflight.ConnectionLock(CONN_ID, timeout=0.2, directory=str(tmp_path)):
                pass


def test_other_connections_do_not_wait(tmp_path):
    with _inflight.ConnectionLock(CONN_ID, timeout=5, directory=str(tmp_path)):
        with _inflight.ConnectionLock(CONN_ID + "-2", timeout=0.1, directory=str(tmp_path)):
            pass


def test_pending_operation_round_trip_and_expiry(tmp_path, monkeypatch):
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(tmp_path)) as lock:
        assert lock.pending() is None
        lock.record("https://arm/op/1", uses_async_header=False)
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(tmp_path)) as lock:
        assert lock.pending()["url"] == "https://arm/op/1" and lock.pending()["async"] is False
        monkeypatch.setattr(_inflight, "PENDING_MAX_AGE", -1)
        assert lock.pending() is None
        lock.record(None)
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(tmp_path)) as lock:
        monkeypatch.setattr(_inflight, "PENDING_MAX_AGE", 3600)
        assert lock.pending() is None


def params(**extra):
    return {"resource_group": RESOURCE_GROUP, "account_name": ACCOUNT, "subscription_id": None,
            "auth_source": None, "profile": None, "client_id": None, "secret": None, "tenant": None,
            "x509_certificate_path": None, "ad_user": None, "password": None, "cloud_environment": None,
            "arm_endpoint": None, "authority_host": None, "disable_instance_discovery": None, **extra}


def test_a_run_after_a_no_wait_write_follows_its_operation_instead_of_writing_again(
        emulator, azure_env, tmp_path, monkeypatch):
    monkeypatch.setattr(_inflight, "default_directory", lambda: str(tmp_path))
    emulator.configure(op_duration=1.5)
    first = connection_service(params()).ensure("pe-pending.0001", "Approved", "ok", check_mode=False,
                                                wait=False, wait_timeout=60)
    assert first["changed"] is True and first["operation_url"]
    # Cosmos DB still shows the old state: a plain compare would write again.
    assert emulator.connection(azure_env["AZURE_SUBSCRIPTION_ID"], RESOURCE_GROUP, ACCOUNT,
                               "pe-pending.0001")["properties"]["privateLinkServiceConnectionState"]["status"] == "Pending"
    second = connection_service(params()).ensure("pe-pending.0001", "Approved", "ok", check_mode=False,
                                                 wait=True, wait_timeout=60)
    assert second["changed"] is False and second["connection"]["status"] == "Approved"
    assert len(arm_calls(emulator, "PUT")) == 1


def test_an_operation_left_for_another_arm_endpoint_is_dropped_not_followed(
        emulator, azure_env, tmp_path, monkeypatch):
    """A record from a run against another cloud (or an old emulator) neither fails the task nor gets a token."""
    monkeypatch.setattr(_inflight, "default_directory", lambda: str(tmp_path))
    emulator.configure(op_duration=0.2)
    service = connection_service(params())
    with _inflight.ConnectionLock(service._path("pe-pending.0001"), timeout=1) as lock:
        lock.record("https://127.0.0.1:9/subscriptions/s/providers/Microsoft.DocumentDB/locations/westus/"
                    "operationsStatus/old")
    result = service.ensure("pe-pending.0001", "Approved", "ok", check_mode=False, wait=True, wait_timeout=60)
    assert result["changed"] is True and result["connection"]["status"] == "Approved"
    assert len(arm_calls(emulator, "PUT")) == 1
    with _inflight.ConnectionLock(service._path("pe-pending.0001"), timeout=1) as lock:
        assert lock.pending() is None
