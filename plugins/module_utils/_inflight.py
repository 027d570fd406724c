# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright (c) privatelink.azure contributors
"""One writer per connection among the module runs on this controller.

While Cosmos DB runs an update, a GET still shows the old state (recordings/
cosmosdb-pec-network-inflight.yaml), so a second run that only compared states would send a
second PUT. Each write therefore holds an exclusive lock file for its connection from the GET to
the end of the operation; a concurrent run waits for it, then reads the new state and finds
nothing to do.

The lock files live in a directory only this user can reach: ``$XDG_RUNTIME_DIR/privatelink-azure``
when the runtime directory is ours and private, else ``~/.ansible/tmp/privatelink-azure``; never a
shared, predictable path such as ``/tmp``, where another user could plant the directory or a
symbolic link in it. The directory is checked on every use (not a symbolic link, a directory,
owned by the effective user, no group or other permission bits) and one that fails is refused,
not repaired: a directory someone else could write to may already hold what they planted. Lock
files are opened relative to the checked directory, without following a symbolic link, read-only
(a lock needs no content), and must be our own regular file with a single link.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
import typing as t

from ansible_collections.privatelink.azure.plugins.module_utils._errors import CollectionError

try:
    import fcntl
except ImportError:  # pragma: no cover - not a POSIX controller: no cross-process protection
    fcntl = None  # type: ignore[assignment]

DIRECTORY_NAME = "privatelink-azure"
# O_NOFOLLOW / O_DIRECTORY / O_CLOEXEC exist on every POSIX controller; 0 keeps the import working elsewhere.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class LockTimeout(CollectionError):
    """Another run kept the connection's lock longer than wait_timeout."""


class UnsafeLockDirectory(CollectionError):
    """The lock directory or a lock file could be reached or replaced by someone else."""


def _is_private_directory(path: str) -> bool:
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() and not info.st_mode & 0o077


def default_directory() -> str:
    """The user's own runtime directory if it is private, else the user's Ansible directory."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and _is_private_directory(runtime):
        return os.path.join(runtime, DIRECTORY_NAME)
    return os.path.join(os.path.expanduser("~"), ".ansible", "tmp", DIRECTORY_NAME)


def _make_directory(path: str) -> None:
    """``mkdir -p`` with mode 0700 for every directory it creates (os.makedirs gives parents the umask)."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except FileNotFoundError:
        parent = os.path.dirname(path)
        if parent == path:
            raise
        _make_directory(parent)
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass


def _refuse(path: str, why: str) -> UnsafeLockDirectory:
    return UnsafeLockDirectory(
        f"Refusing to use the lock directory {path}: {why}. It must be a directory (not a symbolic link) owned "
        f"by the user running Ansible (uid {os.geteuid()}) with mode 0700; remove it and it is created again "
        "correctly")


def open_private_directory(path: str) -> int:
    """Create ``path`` if needed, check it, and return a descriptor of exactly the directory checked."""
    try:
        _make_directory(path)
        before = os.lstat(path)
    except OSError as exc:
        raise UnsafeLockDirectory(f"Cannot create the lock directory {path}: {exc.strerror}") from None
    if stat.S_ISLNK(before.st_mode):
        raise _refuse(path, "it is a symbolic link")
    if not stat.S_ISDIR(before.st_mode):
        raise _refuse(path, "it is not a directory")
    if before.st_uid != os.geteuid():
        raise _refuse(path, f"it is owned by uid {before.st_uid}")
    if before.st_mode & 0o077:
        raise _refuse(path, f"its mode is {stat.S_IMODE(before.st_mode):04o}, open to other users")
    try:
        fd = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError as exc:
        raise _refuse(path, f"it cannot be opened ({exc.strerror})") from None
    after = os.fstat(fd)
    if (after.st_dev, after.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise _refuse(path, "it was replaced while being checked")
    return fd


def open_lock_file(directory: str, name: str) -> int:
    """Open (creating) ``name`` inside the checked ``directory``, never through a symbolic link."""
    dir_fd = open_private_directory(directory)
    path = os.path.join(directory, name)
    try:
        try:
            if os.open in os.supports_dir_fd:
                fd = os.open(name, os.O_RDONLY | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600, dir_fd=dir_fd)
            else:  # pragma: no cover - every Linux and macOS Python supports dir_fd
                fd = os.open(path, os.O_RDONLY | os.O_CREAT | _NOFOLLOW | _CLOEXEC, 0o600)
        except OSError as exc:
            if os.path.islink(path):
                raise UnsafeLockDirectory(f"Refusing to use the lock file {path}: it is a symbolic link") from None
            raise UnsafeLockDirectory(f"Cannot open the lock file {path}: {exc.strerror}") from None
    finally:
        os.close(dir_fd)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid() or info.st_nlink != 1:
        os.close(fd)
        raise UnsafeLockDirectory(
            f"Refusing to use the lock file {path}: it must be a regular file of uid {os.geteuid()} with one link")
    return fd


class ConnectionLock:
    """An exclusive lock on one connection, held from the first read to the end of the write."""

    def __init__(self, resource_id: str, timeout: float, directory: str | None = None,
                 sleep: t.Callable[[float], None] = time.sleep,
                 clock: t.Callable[[], float] = time.monotonic) -> None:
        self.resource_id = resource_id
        self.timeout = timeout
        self.directory = directory or default_directory()
        key = hashlib.sha256(resource_id.lower().encode()).hexdigest()[:32]
        self.name = f"{key}.lock"
        self.path = os.path.join(self.directory, self.name)
        self._sleep = sleep
        self._clock = clock
        self._fd: int | None = None

    def __enter__(self) -> ConnectionLock:
        if fcntl is None:
            return self
        self._fd = open_lock_file(self.directory, self.name)
        deadline = self._clock() + self.timeout
        delay = 0.05
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if self._clock() >= deadline:
                    os.close(self._fd)
                    self._fd = None
                    raise LockTimeout(
                        f"Another run on this controller has been changing {self.resource_id} for more than "
                        f"wait_timeout ({self.timeout:.0f} s); not writing it a second time") from None
                self._sleep(delay)
                delay = min(delay * 2, 0.5)

    def __exit__(self, *exc_info: t.Any) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    # The lock file no longer carries an operation from one task to the next (that hand-off was
    # invisible to the user); the operation URL is returned and passed back as an option instead.
    def pending(self) -> dict[str, t.Any] | None:
        """Always None: kept until the service stops calling it."""
        return None

    def record(self, url: str | None, uses_async_header: bool = True) -> None:
        """Does nothing: kept until the service stops calling it."""
        del url, uses_async_header
