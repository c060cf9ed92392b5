"""Snapshots as both doors describe them: archive files and recovery requests."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

# Qdrant's recovery priorities. A single node has no other replica to prefer, so each is
# accepted and all recover the same way.
PRIORITIES = ("no_sync", "snapshot", "replica")


@dataclass(frozen=True)
class SnapshotDescription:
    name: str
    # UTC, whole seconds, without a zone (Qdrant's NaiveDateTime).
    creation_time: datetime | None
    size: int
    # Hex SHA-256 of the file; None when no checksum file is beside it.
    checksum: str | None = None


@dataclass(frozen=True)
class SnapshotFile:
    """A snapshot to send to a client: where it is and what it is called."""

    name: str
    path: Path
    size: int


@dataclass(frozen=True)
class RecoverRequest:
    location: str
    priority: str | None = None
    checksum: str | None = None
    # Sent as `api-key` to the server the location points at; never logged.
    api_key: str | None = field(default=None, repr=False)
