"""Write-ahead log: each record is [length u32][crc32 u32][body]; the body's encoding is the
caller's (storage/format/operations.py: a protobuf WalRecord).

A write is acknowledged only after its record is fsync'ed, so it survives `kill -9`. Writers
append under their collection's lock and wait for the fsync outside it: one fsync covers every
record appended before it started (group commit), so concurrent writers share it. An append
that fails (a full disk) is cut back to the last good record before the error is reported, so
later records never land behind a torn one. A failed fsync is not retried (the kernel may have
dropped the pages): the log refuses everything from then on and the server must restart. On replay, a torn last record (a crash mid-append)
is moved to `quarantine/` and cut off; a bad record with good data after it is damage, and
replay stops with `CorruptLog` instead of dropping what follows.
"""

from __future__ import annotations

import errno
import logging
import os
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from vecinfer import metrics
from vecinfer.domain.errors import InsufficientStorage, Unavailable

log = logging.getLogger(__name__)

_HEADER = struct.Struct("<II")
QUARANTINE_DIR = "quarantine"
_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)
T = TypeVar("T")


def frame(body: bytes) -> bytes:
    """One record as it lies in the file: length, checksum, body."""
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


class LogClosed(Exception):
    """The log was closed (its collection deleted) before a write waiting on it was synced."""


class CorruptLog(Exception):
    """A record in the middle of the log does not check out: the collection must not load."""

    def __init__(self, path: Path, offset: int, problem: str) -> None:
        super().__init__(f"{path} is damaged at byte {offset}: {problem}")
        self.path = path
        self.offset = offset


def storage_error(exc: OSError, what: str) -> Exception:
    """The domain error for a failed disk operation: a full disk is the client's to retry."""
    if exc.errno in _DISK_FULL:
        return InsufficientStorage(f"Insufficient storage: disk full while {what}; free space and retry")
    return Unavailable(f"Storage error while {what}: {exc.strerror or exc}")


class WriteAheadLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._end = os.fstat(self._fd).st_size
        self._torn = False  # a failed append could not be cut back yet
        # Positions count every byte ever appended (a reset does not lower them), so a writer's
        # position stays comparable across checkpoints.
        self._appended = 0
        self._synced = 0
        self._syncing = False
        self._sync_failure: OSError | None = None
        self._sync_done = threading.Condition()

    def append(self, body: bytes) -> int:
        """Write one record (the caller holds its collection's lock); returns the position to
        pass to `sync`. Nothing is acknowledged yet."""
        if self._sync_failure is not None:
            raise self._failed()
        if self._torn and not self._cut_back():
            raise Unavailable(f"Storage error: {self.path} holds a torn record that cannot be removed; "
                              "writes are refused until the disk recovers")
        data = memoryview(frame(body))
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except OSError as exc:
            self._cut_back()
            raise storage_error(exc, "appending to the write-ahead log") from None
        self._end += len(data)
        self._appended += len(data)
        metrics.WAL_RECORDS.inc()
        return self._appended

    def sync(self, position: int) -> None:
        """Return once everything up to `position` is on disk: one waiting writer fsyncs for
        all that were appended before it started; the others wait for it."""
        with self._sync_done:
            while True:
                if self._synced >= position:
                    return
                if self._sync_failure is not None:
                    raise self._failed()
                if self._fd < 0:
                    raise LogClosed(self.path)
                if not self._syncing:
                    self._syncing = True
                    break
                self._sync_done.wait()
        target = self._appended  # every record whose write finished before the fsync starts
        failure: OSError | None = None
        closed = False
        try:
            fd = self._fd
            if fd < 0:
                closed = True
            else:
                os.fsync(fd)
                metrics.WAL_SYNCS.inc()
        except OSError as exc:
            if self._fd < 0:  # closed under us: the collection was deleted
                closed = True
            else:
                failure = exc
                log.error("fsync of %s failed (%s): the log refuses writes until the server restarts", self.path, exc)
        with self._sync_done:
            self._syncing = False
            if failure is None and not closed:
                self._synced = max(self._synced, target)
            elif failure is not None:
                self._sync_failure = failure
            self._sync_done.notify_all()
        if closed:
            raise LogClosed(self.path)
        if failure is not None:
            raise self._failed()

    def _failed(self) -> Exception:
        assert self._sync_failure is not None
        return storage_error(self._sync_failure, "syncing the write-ahead log (restart the server to reload "
                                                 "what is on disk)")

    def failed(self) -> bool:
        """A sync failed: what this process holds in memory may be ahead of the disk."""
        return self._sync_failure is not None

    def _cut_back(self) -> bool:
        """Remove whatever part of a failed append reached the file."""
        try:
            os.ftruncate(self._fd, self._end)
            os.fsync(self._fd)
        except OSError:
            log.exception("could not cut %s back to %d bytes after a failed append", self.path, self._end)
            self._torn = True
            return False
        self._torn = False
        return True

    def size(self) -> int:
        return self._end

    def replay(self, decode: Callable[[bytes], T]) -> Iterator[T]:
        """Each whole record, decoded; a body that does not decode is damage (CorruptLog)."""
        size = os.path.getsize(self.path)
        offset = 0
        with open(self.path, "rb") as f:
            while offset < size:
                header = f.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    break  # torn header at the very end
                length, crc = _HEADER.unpack(header)
                end = offset + _HEADER.size + length
                if end > size:
                    break  # the record runs past the end: torn by a crash mid-append
                body = f.read(length)
                if zlib.crc32(body) != crc:
                    if end < size:
                        raise CorruptLog(self.path, offset, "checksum mismatch with more records after it")
                    break  # the last record, torn
                try:
                    record = decode(body)
                except Exception as exc:
                    raise CorruptLog(self.path, offset,
                                     f"record does not decode ({type(exc).__name__}: {str(exc)[:300]})") from None
                offset = end
                yield record
        if offset != size:
            self._quarantine_tail(offset, size)

    def _quarantine_tail(self, offset: int, size: int) -> None:
        folder = self.path.parent / QUARANTINE_DIR
        folder.mkdir(exist_ok=True)
        target = folder / f"{self.path.name}.tail-{offset}-{int(time.time())}"
        with open(self.path, "rb") as f:
            f.seek(offset)
            target.write_bytes(f.read())
        log.warning("%s: a torn record at byte %d (%d bytes, from a crash mid-append) was moved to %s",
                    self.path, offset, size - offset, target)
        self._truncate(offset)

    def reset(self) -> None:
        """Empty the log once a checkpoint holds everything in it (so all of it is durable)."""
        self._truncate(0)
        with self._sync_done:
            self._synced = max(self._synced, self._appended)
            self._sync_done.notify_all()

    def _truncate(self, size: int) -> None:
        os.ftruncate(self._fd, size)
        os.fsync(self._fd)
        self._end = size

    def close(self) -> None:
        # -1 afterwards: a late append fails (EBADF) instead of writing into whatever file or
        # socket reuses the descriptor number.
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)
