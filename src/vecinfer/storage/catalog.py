"""All collections under one storage directory: create, open on start, delete."""

from __future__ import annotations

import logging
import re
import shutil
import threading
from pathlib import Path

from vecinfer.domain.collections import CollectionConfig
from vecinfer.domain.errors import AlreadyExists, InvalidArgument, ValidationFailed, collection_not_found
from vecinfer.storage.collection import CONFIG_FILE, Collection
from vecinfer.storage.optimizer import Optimizer

log = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[^/\\\0:*?\"<>|]{1,255}$")
COLLECTIONS_DIR = "collections"
# A collection's folder name: file systems allow 255 bytes.
_MAX_DIRNAME_BYTES = 255


class Catalog:
    def __init__(self, root: Path, checkpoint_bytes: int = 64 << 20) -> None:
        self.root = root / COLLECTIONS_DIR
        self.root.mkdir(parents=True, exist_ok=True)
        self._checkpoint_bytes = checkpoint_bytes
        self._lock = threading.Lock()
        self._collections: dict[str, Collection] = {}
        self.optimizer = Optimizer()
        for entry in sorted(self.root.iterdir()):
            if (entry / CONFIG_FILE).exists():
                name = _decode(entry.name)
                collection = Collection.open(name, entry, checkpoint_bytes, self.optimizer.schedule)
                self._collections[name] = collection
                self.optimizer.schedule(collection)
            elif entry.is_dir():
                # A create that crashed before its config landed: nothing was acknowledged.
                shutil.rmtree(entry, ignore_errors=True)

    def names(self) -> list[str]:
        return sorted(self._collections)

    def exists(self, name: str) -> bool:
        return name in self._collections

    def get(self, name: str) -> Collection:
        try:
            return self._collections[name]
        except KeyError:
            raise collection_not_found(name) from None

    def create(self, name: str, config: CollectionConfig) -> Collection:
        if not name or not _NAME_RE.match(name) or name in (".", ".."):
            raise InvalidArgument(
                f"Wrong input: collection_name {name!r} is not valid: use 1-255 characters without / \\ : * ? \" < > |"
            )
        if len(_encode(name).encode()) > _MAX_DIRNAME_BYTES:
            raise ValidationFailed(
                "collection_name", f"is too long: it must fit in {_MAX_DIRNAME_BYTES} bytes of UTF-8 "
                "(names starting with `.` or `c-` count twice)"
            )
        with self._lock:
            if name in self._collections:
                raise AlreadyExists(f"Wrong input: Collection `{name}` already exists!")
            collection = Collection.create(name, self.root / _encode(name), config, self._checkpoint_bytes,
                                           self.optimizer.schedule)
            self._collections[name] = collection
            return collection

    def delete(self, name: str) -> bool:
        with self._lock:
            collection = self._collections.pop(name, None)
        if collection is None:
            return False
        with collection.lock:
            collection.wal.close()
            collection.closed = True
            shutil.rmtree(collection.path)
        return True

    def close(self) -> None:
        self.optimizer.stop()
        for collection in self._collections.values():
            collection.close()


def _encode(name: str) -> str:
    # Directory names stay readable but cannot collide with "." or hidden files.
    return "c-" + name.encode().hex() if name.startswith((".", "c-")) else name


def _decode(dirname: str) -> str:
    return bytes.fromhex(dirname[2:]).decode() if dirname.startswith("c-") else dirname
