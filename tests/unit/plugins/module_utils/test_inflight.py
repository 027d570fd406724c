# SPDX-License-Identifier: GPL-3.0-or-later
"""One writer per connection: the lock, and a lock directory nobody else can hijack.

The hijack tests run as root in CI, where file permissions stop nothing: only the checks of
_inflight (no symbolic link followed, owner and mode of the directory, one-link regular lock file)
keep a planted path from being written through.
"""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from ansible_collections.privatelink.azure.plugins.module_utils import _inflight

CONN_ID = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.DocumentDB/databaseAccounts/a/" \
          "privateEndpointConnections/pe"
NOBODY = 65534


@pytest.fixture
def locks(tmp_path):
    return str(tmp_path / "locks")


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under ``root`` with its type, mode, owner and content: what a write would change."""
    found = {}
    for path in [root, *root.rglob("*")]:
        info = path.lstat()
        content = path.read_bytes() if stat.S_ISREG(info.st_mode) else os.readlink(path) if path.is_symlink() else None
        found[str(path.relative_to(root))] = (stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid,
                                              content)
    return found


def test_second_holder_waits_until_the_first_releases(locks):
    order = []
    first = _inflight.ConnectionLock(CONN_ID, timeout=5, directory=locks)
    with first:
        def contender():
            with _inflight.ConnectionLock(CONN_ID.upper(), timeout=5, directory=locks):
                order.append("second")
        thread = threading.Thread(target=contender)
        thread.start()
        time.sleep(0.3)
        order.append("first done")
    thread.join(5)
    assert order == ["first done", "second"], "ARM ids are case-insensitive: same lock"


def test_lock_timeout_refuses_to_write_a_second_time(locks):
    with _inflight.ConnectionLock(CONN_ID, timeout=5, directory=locks):
        with pytest.raises(_inflight.LockTimeout, match="not writing it a second time"):
            with _inflight.ConnectionLock(CONN_ID, timeout=0.2, directory=locks):
                pass


def test_other_connections_do_not_wait(locks):
    with _inflight.ConnectionLock(CONN_ID, timeout=5, directory=locks):
        with _inflight.ConnectionLock(CONN_ID + "-2", timeout=0.1, directory=locks):
            pass


def test_the_lock_directory_is_created_private_and_the_lock_file_stays_empty(locks):
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks) as lock:
        lock.record("https://management.azure.com/operations/1")  # the old hand-off: now writes nothing
        assert lock.pending() is None
    info = os.lstat(locks)
    assert stat.S_ISDIR(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.geteuid()
    assert os.listdir(locks) == [os.path.basename(lock.path)]
    assert stat.S_IMODE(os.lstat(lock.path).st_mode) == 0o600 and os.path.getsize(lock.path) == 0


@pytest.mark.parametrize("target_exists", [True, False], ids=["victim-file", "dangling"])
def test_a_symlink_planted_at_the_lock_path_is_refused_and_nothing_is_written_through_it(tmp_path, locks,
                                                                                         target_exists):
    victim = tmp_path / "victim"
    if target_exists:
        victim.write_text("precious\n")
        victim.chmod(0o644)
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks) as lock:
        pass
    os.unlink(lock.path)
    os.symlink(victim, lock.path)
    before = snapshot(tmp_path)
    with pytest.raises(_inflight.UnsafeLockDirectory, match="lock file .* is a symbolic link"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks):
            pytest.fail("locked through a symbolic link")
    assert snapshot(tmp_path) == before, "O_CREAT through a dangling link would have created the victim"


def test_a_hard_link_planted_at_the_lock_path_is_refused(tmp_path, locks):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks) as lock:
        pass
    os.unlink(lock.path)
    os.link(victim, lock.path)
    before = snapshot(tmp_path)
    with pytest.raises(_inflight.UnsafeLockDirectory, match="regular file .* with one link"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks):
            pass
    assert snapshot(tmp_path) == before


def test_a_symlinked_lock_directory_is_refused(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    link = tmp_path / "locks"
    link.symlink_to(elsewhere)
    with pytest.raises(_inflight.UnsafeLockDirectory, match="is a symbolic link"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(link)):
            pass
    assert not any(elsewhere.iterdir())


def test_a_file_at_the_directory_path_is_refused(tmp_path):
    (tmp_path / "locks").write_text("")
    with pytest.raises(_inflight.UnsafeLockDirectory, match="not a directory"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(tmp_path / "locks")):
            pass


def test_a_directory_open_to_others_is_refused_not_repaired(tmp_path):
    """Refused rather than tightened: whatever another user put there before would stay."""
    shared = tmp_path / "locks"
    shared.mkdir()
    shared.chmod(0o777)
    before = snapshot(tmp_path)
    with pytest.raises(_inflight.UnsafeLockDirectory, match="mode is 0777, open to other users"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(shared)):
            pass
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a directory to another user needs root")
def test_a_directory_of_another_user_is_refused(tmp_path):
    theirs = tmp_path / "locks"
    theirs.mkdir(mode=0o700)
    os.chown(theirs, NOBODY, NOBODY)
    before = snapshot(tmp_path)
    with pytest.raises(_inflight.UnsafeLockDirectory, match=f"owned by uid {NOBODY}"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=str(theirs)):
            pass
    assert snapshot(tmp_path) == before


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_lock_file_of_another_user_is_refused(locks):
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks) as lock:
        pass
    os.chown(lock.path, NOBODY, NOBODY)
    with pytest.raises(_inflight.UnsafeLockDirectory, match="regular file of uid"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks):
            pass


def test_the_directory_is_checked_on_every_use(locks):
    with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks):
        pass
    os.chmod(locks, 0o755)
    with pytest.raises(_inflight.UnsafeLockDirectory, match="mode is 0755"):
        with _inflight.ConnectionLock(CONN_ID, timeout=1, directory=locks):
            pass


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A user with an empty home, a temporary directory of its own and no runtime directory."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    tmp = tmp_path / "tmp"
    tmp.mkdir(mode=0o1777)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    return home


def test_by_default_locks_live_under_the_users_ansible_directory_and_nothing_else_is_written(tmp_path, home):
    before = snapshot(tmp_path)
    with _inflight.ConnectionLock(CONN_ID, timeout=1) as lock:
        pass
    after = snapshot(tmp_path)
    created = sorted(set(after) - set(before))
    assert created == ["home/.ansible", "home/.ansible/tmp", "home/.ansible/tmp/privatelink-azure",
                       f"home/.ansible/tmp/privatelink-azure/{os.path.basename(lock.path)}"]
    assert all(after[path][1] == 0o700 for path in created[:3]), "parents are created private too"
    assert {path: after[path] for path in before} == before, "nothing else changed, $TMPDIR included"


def test_a_private_runtime_directory_is_preferred(tmp_path, home, monkeypatch):
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(runtime))
    with _inflight.ConnectionLock(CONN_ID, timeout=1) as lock:
        assert lock.path.startswith(str(runtime / "privatelink-azure") + os.sep)
    assert not (home / ".ansible").exists()


@pytest.mark.parametrize("kind", ["open-to-others", "symlink", "missing", "relative"])
def test_a_runtime_directory_that_is_not_ours_alone_is_passed_over(tmp_path, home, monkeypatch, kind):
    runtime = tmp_path / "run-user"
    if kind == "open-to-others":
        runtime.mkdir(mode=0o777)
        runtime.chmod(0o777)
    elif kind == "symlink":
        real = tmp_path / "real-run"
        real.mkdir(mode=0o700)
        runtime.symlink_to(real)
    monkeypatch.setenv("XDG_RUNTIME_DIR", "run-user" if kind == "relative" else str(runtime))
    with _inflight.ConnectionLock(CONN_ID, timeout=1) as lock:
        assert lock.path.startswith(str(home / ".ansible" / "tmp" / "privatelink-azure") + os.sep)
    for passed_over in (runtime, tmp_path / "real-run"):
        if passed_over.is_dir() and not passed_over.is_symlink():
            assert not any(passed_over.iterdir())
