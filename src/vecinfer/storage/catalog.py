"""All collections under one storage directory: create, open on start, delete.

Startup never deletes what it does not understand: a collection whose files do not load is
quarantined (kept as it is, reported, its requests answered UNAVAILABLE) while the others
serve. One process at a time owns the folder (an exclusive lock on `.lock`).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import re
import shutil
import threading
import uuid
from pathlib import Path

from vecinfer.domain.collections import AliasAction, CollectionConfig, CreateAlias, DeleteAlias, RenameAlias
from vecinfer.domain.errors import (
    AlreadyExists,
    InvalidArgument,
    NotFound,
    Unavailable,
    ValidationFailed,
    clip,
    collection_not_found,
)
from vecinfer.storage import archive
from vecinfer.storage.collection import CONFIG_FILE, Collection
from vecinfer.storage.config_file import sync_file, write_atomically
from vecinfer.storage.optimizer import Optimizer
from vecinfer.storage.segments import set_search_threads
from vecinfer.storage.wal import storage_error

log = logging.getLogger(__name__)

# Qdrant's rule for new names, plus no control characters (they would forge log lines).
_NAME_RE = re.compile(r"^[^/\\\0:*?\"<>|\x00-\x1f\x7f]{1,255}$")
COLLECTIONS_DIR = "collections"
# Deleted collections are renamed here first (atomic), then removed.
TRASH_DIR = "trash"
LOCK_FILE = ".lock"
# Snapshots are assembled here (hard links of pinned files) and recovered collections are
# checked here before they are put in place; emptied at startup.
STAGING_DIR = "staging"
# Alias name -> collection name, as JSON.
ALIASES_FILE = "aliases.json"
# A collection's folder name: file systems allow 255 bytes.
_MAX_DIRNAME_BYTES = 255


class StorageInUse(Exception):
    """Another process holds the storage folder."""


class Catalog:
    def __init__(self, root: Path, checkpoint_bytes: int = 64 << 20, search_threads: int = 1) -> None:
        root.mkdir(parents=True, exist_ok=True)
        set_search_threads(search_threads)
        self._lock_fd = _lock_folder(root)
        self.root = root / COLLECTIONS_DIR
        self.root.mkdir(exist_ok=True)
        self._trash = root / TRASH_DIR
        shutil.rmtree(self._trash, ignore_errors=True)  # deletes that were acknowledged already
        self._staging_root = root / STAGING_DIR
        shutil.rmtree(self._staging_root, ignore_errors=True)  # snapshots or recoveries cut short
        self._checkpoint_bytes = checkpoint_bytes
        self._lock = threading.Lock()
        self._collections: dict[str, Collection] = {}
        # Collections that did not load: name -> what is wrong (for logs, /readyz and errors).
        self.quarantined: dict[str, str] = {}
        self.optimizer = Optimizer()
        for entry in sorted(self.root.iterdir()):
            self._open(entry)
        self._aliases_file = root / ALIASES_FILE
        self._aliases: dict[str, str] = self._load_aliases()

    def _load_aliases(self) -> dict[str, str]:
        if not self._aliases_file.exists():
            return {}
        try:
            aliases = json.loads(self._aliases_file.read_text())
            if not isinstance(aliases, dict) or not all(isinstance(v, str) for v in aliases.values()):
                raise ValueError("not an object of alias names to collection names")
        except ValueError as exc:
            # Kept as it is for the operator to repair; the collections themselves still serve.
            log.error("storage: %s does not load (%s); aliases are off until it is repaired", self._aliases_file, exc)
            return {}
        return aliases

    def _open(self, entry: Path) -> None:
        try:
            name = _decode(entry.name)
        except ValueError:
            log.error("storage: %s is not a collection folder vecinfer made; left alone", entry)
            return
        if not entry.is_dir():
            log.error("storage: %s is not a folder; left alone", entry)
            return
        if not (entry / CONFIG_FILE).exists():
            if not any(entry.iterdir()):
                entry.rmdir()  # a create that stopped before its config landed: nothing to lose
                return
            self._quarantine(name, f"{entry / CONFIG_FILE} is missing")
            return
        try:
            collection = Collection.open(name, entry, self._checkpoint_bytes, self.optimizer.schedule)
        except Exception as exc:
            log.exception("storage: collection %s does not load", name)
            self._quarantine(name, f"{type(exc).__name__}: {exc}")
            return
        self._collections[name] = collection
        self.optimizer.schedule(collection)

    def _quarantine(self, name: str, problem: str) -> None:
        log.error("storage: collection %s is quarantined (its files are kept as they are): %s", name, problem)
        self.quarantined[name] = problem

    def names(self) -> list[str]:
        return sorted([*self._collections, *self.quarantined])

    def exists(self, name: str) -> bool:
        return name in self._collections or name in self.quarantined or name in self._aliases

    def get(self, name: str) -> Collection:
        """The collection called `name`, or the one the alias `name` points at."""
        name = self._aliases.get(name, name)
        collection = self._collections.get(name)
        if collection is not None:
            return collection
        problem = self.quarantined.get(name)
        if problem is not None:
            raise Unavailable(f"Collection `{name}` is quarantined: its files did not load ({problem}); "
                              "see the server log, repair or delete it")
        raise collection_not_found(name)

    def create(self, name: str, config: CollectionConfig) -> Collection:
        self._check_new_name(name)
        with self._lock:
            if name in self._collections or name in self.quarantined:
                raise AlreadyExists(f"Wrong input: Collection `{name}` already exists!")
            if name in self._aliases:
                raise AlreadyExists(f"Wrong input: `{name}` is already an alias (of `{self._aliases[name]}`): "
                                    "delete the alias or choose another name")
            path = self.root / _encode(name)
            try:
                collection = Collection.create(name, path, config, self._checkpoint_bytes, self.optimizer.schedule)
            except OSError as exc:
                shutil.rmtree(path, ignore_errors=True)  # never acknowledged
                raise storage_error(exc, "creating the collection") from None
            except BaseException:
                shutil.rmtree(path, ignore_errors=True)
                raise
            self._collections[name] = collection
            return collection

    def _check_new_name(self, name: str) -> None:
        if not name or not _NAME_RE.match(name) or name in (".", ".."):
            raise InvalidArgument(
                "Wrong input: collection_name is not valid: use 1-255 characters without / \\ : * ? \" < > | "
                "and without control characters"
            )
        if len(_encode(name).encode()) > _MAX_DIRNAME_BYTES:
            raise ValidationFailed(
                "collection_name", f"is too long: it must fit in {_MAX_DIRNAME_BYTES} bytes of UTF-8 "
                "(names starting with `.` or `c-` count twice)"
            )

    def delete(self, name: str) -> bool:
        """Stop the collection, move its folder out of the way in one rename, then remove it."""
        with self._lock:
            collection = self._collections.pop(name, None)
            was_quarantined = self.quarantined.pop(name, None) is not None
            if collection is None and not was_quarantined:
                return False
            path = self.root / _encode(name)
            if collection is not None:
                with collection.lock:
                    collection.closed = True  # the optimizer drops its work on it
                    collection.wal.close()
            remaining = {alias: target for alias, target in self._aliases.items() if target != name}
            if remaining != self._aliases:
                self._save_aliases(remaining)
            self._trash.mkdir(exist_ok=True)
            target = self._trash / f"{uuid.uuid4().hex}"
            os.rename(path, target)
            sync_file(self.root)
        shutil.rmtree(target, ignore_errors=True)
        return True

    # ------------------------------------------------------------------ snapshots

    def _staging(self) -> Path:
        folder = self._staging_root / uuid.uuid4().hex
        folder.mkdir(parents=True)
        return folder

    def snapshot_collection(self, name: str, target: Path) -> None:
        """Write a consistent archive of collection `name` (or the alias `name`) to `target`."""
        collection = self.get(name)
        staging = self._staging()
        try:
            collection.pin_checkpoint(staging / archive.COLLECTION_ROOT)
            archive.write(staging, target, "collection", {"collection": collection.name})
        except OSError as exc:
            raise storage_error(exc, "writing the snapshot") from None
        finally:
            archive.remove(staging)

    def snapshot_all(self, target: Path) -> None:
        """Write an archive of every collection (each consistent on its own) and the aliases."""
        with self._lock:
            collections = dict(self._collections)
            aliases = dict(self._aliases)
        staging = self._staging()
        try:
            folders = {}
            for name, collection in sorted(collections.items()):
                try:
                    collection.pin_checkpoint(staging / archive.COLLECTIONS_ROOT / _encode(name))
                except NotFound:
                    continue  # deleted while the snapshot was taken
                folders[name] = _encode(name)
            (staging / ALIASES_FILE).write_text(json.dumps(aliases, indent=1, sort_keys=True))
            archive.write(staging, target, "full", {"collections": folders})
        except OSError as exc:
            raise storage_error(exc, "writing the snapshot") from None
        finally:
            archive.remove(staging)

    def recover_collection(self, name: str, source: Path) -> None:
        """Create or replace collection `name` from a collection snapshot, once the archive
        checks out and the collection in it loads; until then nothing changes."""
        self._check_new_name(name)
        if name in self._aliases:
            raise AlreadyExists(f"Wrong input: `{clip(name)}` is an alias (of `{self._aliases[name]}`): "
                                "recover into a collection name")
        staging = self._staging()
        try:
            archive.read(source, staging, "collection")
            folder = staging / archive.COLLECTION_ROOT
            if not (folder / CONFIG_FILE).is_file():
                raise archive.ArchiveRefused(f"it holds no {CONFIG_FILE}")
            try:
                Collection.open(name, folder, self._checkpoint_bytes).close()
            except Exception as exc:
                raise archive.ArchiveRefused(f"the collection in it does not load ({type(exc).__name__}: "
                                             f"{clip(str(exc))})") from None
            trash = self._put_in_place(name, folder)
        except OSError as exc:
            raise storage_error(exc, "recovering the snapshot") from None
        finally:
            archive.remove(staging)
        if trash is not None:
            shutil.rmtree(trash, ignore_errors=True)

    def recover_all(self, source: Path, force: bool = False) -> list[str]:
        """Put every collection of a full snapshot in place, and its aliases (at startup, as
        Qdrant's --storage-snapshot). A collection of the same name is replaced only with
        `force`; the archive is checked whole, and every collection in it loaded, before
        anything changes. Returns the names recovered."""
        staging = self._staging()
        trash: list[Path] = []
        try:
            manifest = archive.read(source, staging, "full")
            folders = manifest.get("collections")
            if not isinstance(folders, dict) or not all(isinstance(v, str) for v in folders.values()):
                raise archive.ArchiveRefused("its manifest lacks the `collections` table")
            for name, folder in folders.items():
                self._check_new_name(name)
                if folder != _encode(name):
                    raise archive.ArchiveRefused(f"collection {clip(name)!r} is in folder {clip(folder)!r}")
                if not force and (name in self._collections or name in self.quarantined):
                    raise AlreadyExists(f"Wrong input: Collection `{name}` already exists: recover with "
                                        "--force-snapshot to replace it")
                try:
                    Collection.open(name, staging / archive.COLLECTIONS_ROOT / folder, self._checkpoint_bytes).close()
                except Exception as exc:
                    raise archive.ArchiveRefused(f"collection {clip(name)!r} in it does not load "
                                                 f"({type(exc).__name__}: {clip(str(exc))})") from None
            aliases: dict[str, str] = {}
            if (staging / ALIASES_FILE).exists():
                aliases = json.loads((staging / ALIASES_FILE).read_text())
                if not isinstance(aliases, dict) or not all(isinstance(v, str) and v in folders
                                                            for v in aliases.values()):
                    raise archive.ArchiveRefused(f"its {ALIASES_FILE} does not name its own collections")
            for name, folder in folders.items():
                old = self._put_in_place(name, staging / archive.COLLECTIONS_ROOT / folder)
                if old is not None:
                    trash.append(old)
            with self._lock:
                self._save_aliases({**self._aliases, **aliases})
        except OSError as exc:
            raise storage_error(exc, "recovering the snapshot") from None
        except ValueError as exc:  # aliases.json that is not JSON
            raise archive.ArchiveRefused(f"its {ALIASES_FILE} does not load ({exc})") from None
        finally:
            archive.remove(staging)
        for path in trash:
            shutil.rmtree(path, ignore_errors=True)
        return sorted(folders)

    def _put_in_place(self, name: str, folder: Path) -> Path | None:
        """Swap `folder` in as collection `name`; returns where the old folder went, if any."""
        with self._lock:
            path = self.root / _encode(name)
            old = self._collections.pop(name, None)
            self.quarantined.pop(name, None)
            if old is not None:
                with old.lock:
                    old.closed = True
                    old.wal.close()
            trash = None
            if path.exists():
                self._trash.mkdir(exist_ok=True)
                trash = self._trash / uuid.uuid4().hex
                os.rename(path, trash)
            try:
                os.rename(folder, path)
            except OSError:
                if trash is not None:
                    os.rename(trash, path)
                    self._open(path)
                raise
            sync_file(self.root)
            self._open(path)
            return trash

    # ------------------------------------------------------------------ aliases

    def aliases(self, collection: str | None = None) -> list[tuple[str, str]]:
        """(alias, collection) pairs, sorted by alias; only those of `collection` if given."""
        return sorted((a, c) for a, c in self._aliases.items() if collection is None or c == collection)

    def update_aliases(self, actions: list[AliasAction]) -> None:
        """Apply every action in order to a copy, then save it in one atomic write: all or nothing."""
        with self._lock:
            aliases = dict(self._aliases)
            for action in actions:
                if isinstance(action, CreateAlias):
                    if action.collection not in self._collections and action.collection not in self.quarantined:
                        raise collection_not_found(action.collection)
                    self._check_alias_name(action.alias)
                    aliases[action.alias] = action.collection
                elif isinstance(action, DeleteAlias):
                    if aliases.pop(action.alias, None) is None:
                        raise NotFound(f"Not found: Alias `{clip(action.alias)}` doesn't exist!")
                elif isinstance(action, RenameAlias):
                    target = aliases.pop(action.old, None)
                    if target is None:
                        raise NotFound(f"Not found: Alias `{clip(action.old)}` doesn't exist!")
                    self._check_alias_name(action.new)
                    aliases[action.new] = target
            self._save_aliases(aliases)

    def _check_alias_name(self, alias: str) -> None:
        if not alias or not _NAME_RE.match(alias) or alias in (".", ".."):
            raise InvalidArgument("Wrong input: alias_name is not valid: use 1-255 characters without / \\ : * ? \" < > | "
                                  "and without control characters")
        if alias in self._collections or alias in self.quarantined:
            raise AlreadyExists(f"Wrong input: Collection `{clip(alias)}` already exists!")

    def _save_aliases(self, aliases: dict[str, str]) -> None:
        try:
            write_atomically(self._aliases_file, json.dumps(aliases, indent=1, sort_keys=True).encode())
        except OSError as exc:
            raise storage_error(exc, "saving the aliases") from None
        self._aliases = aliases

    def close(self) -> None:
        self.optimizer.stop()
        for collection in self._collections.values():
            collection.close()
        os.close(self._lock_fd)


def _lock_folder(root: Path) -> int:
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 64).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise StorageInUse(f"storage folder {root.resolve()} is in use by another vecinfer process "
                           f"(pid {holder}); give each server its own --storage-dir") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


def _encode(name: str) -> str:
    # Directory names stay readable but cannot collide with "." or hidden files.
    return "c-" + name.encode().hex() if name.startswith((".", "c-")) else name


def _decode(dirname: str) -> str:
    return bytes.fromhex(dirname[2:]).decode() if dirname.startswith("c-") else dirname
