"""Write-ahead log: each record is [length u32][crc32 u32][pickled (seq, operations)].

A write is acknowledged only after its record is fsync'ed, so it survives `kill -9`.
Replay stops at the first torn or corrupt record (a crash mid-append) and cuts it off.
"""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_HEADER = struct.Struct("<II")


class WriteAheadLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = open(path, "ab")

    def append(self, seq: int, record: Any) -> None:
        body = pickle.dumps((seq, record), protocol=pickle.HIGHEST_PROTOCOL)
        self._file.write(_HEADER.pack(len(body), zlib.crc32(body)) + body)
        self._file.flush()
        os.fsync(self._file.fileno())

    def size(self) -> int:
        return self._file.tell()

    def replay(self) -> Iterator[tuple[int, Any]]:
        good_end = 0
        with open(self.path, "rb") as f:
            while True:
                header = f.read(_HEADER.size)
                if len(header) < _HEADER.size:
                    break
                length, crc = _HEADER.unpack(header)
                body = f.read(length)
                if len(body) < length or zlib.crc32(body) != crc:
                    break
                good_end = f.tell()
                yield pickle.loads(body)
        if good_end != os.path.getsize(self.path):
            self._truncate(good_end)

    def reset(self) -> None:
        """Empty the log once a checkpoint holds everything in it."""
        self._truncate(0)

    def _truncate(self, size: int) -> None:
        self._file.close()
        with open(self.path, "r+b") as f:
            f.truncate(size)
            f.flush()
            os.fsync(f.fileno())
        self._file = open(self.path, "ab")

    def close(self) -> None:
        self._file.close()
