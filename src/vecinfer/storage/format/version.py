"""The format version each collection folder carries in `format.json`, checked on load."""

from __future__ import annotations

import json
from pathlib import Path

from vecinfer.storage.config_file import write_atomically

FORMAT_FILE = "format.json"
FORMAT_NAME = "vecinfer-collection"
# 1: pickled WAL records, checkpoints and segment state (before format.json existed).
# 2: protobuf WAL records, JSON manifests, .npy arrays (docs/storage-format.md).
CURRENT = 2


class UnknownFormat(Exception):
    """A folder written in a format this build cannot read (newer, or not vecinfer's)."""


def write(folder: Path) -> None:
    write_atomically(folder / FORMAT_FILE, json.dumps({"format": FORMAT_NAME, "version": CURRENT}).encode())


def read(folder: Path) -> int | None:
    """The folder's format version, or None when it has no format.json."""
    path = folder / FORMAT_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnknownFormat(f"{path} does not parse: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME or not isinstance(data.get("version"), int):
        raise UnknownFormat(f"{path} is not a vecinfer collection format file")
    version = int(data["version"])
    if version != CURRENT:
        raise UnknownFormat(f"{path} says format version {version}; this vecinfer reads version {CURRENT} "
                            "(and migrates version 1): use the vecinfer release that wrote it")
    return version
