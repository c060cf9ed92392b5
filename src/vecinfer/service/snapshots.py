"""Snapshot operations, once for both doors: create, list, delete, hand out for download, and
recover a collection from an archive on this server, at a URL, or uploaded.

Archives are made by the storage catalog; this layer names them as Qdrant does, keeps them in
the snapshots folder (`<dir>/<collection>/` for collection snapshots, `<dir>/` for full ones),
writes Qdrant's `<name>.checksum` file beside each, and fetches or receives archives within
the bounds of config.py before the catalog sees them.

A file only ever appears under its final name complete: archives are written under a hidden
temporary name (never listed, never served) and renamed into place once their checksum file is
there. Heavy work runs off the event loop, and once started it runs to its end even if the
client goes away, so that no half-written file outlives the request.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
import re
import shutil
import stat
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

import aiohttp
from yarl import URL

from vecinfer.config import Settings
from vecinfer.domain.errors import InsufficientStorage, InvalidArgument, NotFound, VecinferError, clip
from vecinfer.domain.results import Answer
from vecinfer.domain.snapshots import PRIORITIES, RecoverRequest, SnapshotDescription, SnapshotFile
from vecinfer.inference.http import HttpClients, non_public_address, refused_address
from vecinfer.service.context import RequestContext
from vecinfer.service.running import NO_USAGE, answer
from vecinfer.storage.catalog import Catalog

log = logging.getLogger(__name__)

T = TypeVar("T")
# Named here because the class's `list` method hides the builtin.
Descriptions = list[SnapshotDescription]

SUFFIX = ".snapshot"
CHECKSUM_SUFFIX = ".checksum"
FULL_PREFIX = "full-snapshot-"
# Archives being written, fetched or uploaded: hidden, so never listed nor served.
PARTIAL_PREFIX = ".vecinfer-partial-"
# Fetched and uploaded archives wait here for recovery, whatever collection they are for (the
# collection's name is only checked by the catalog, so it never becomes a path before that).
INCOMING_DIR = ".incoming"
_TIME_FORMAT = "%Y-%m-%d-%H-%M-%S"
# A snapshot's name leaves room for its checksum file's suffix within a file system's 255 bytes.
_MAX_NAME_BYTES = 255 - len(CHECKSUM_SUFFIX)
_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_CHUNK = 1 << 20
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Multipart framing around an uploaded archive: a declared body larger than the archive bound by
# more than this is refused before a byte is read.
_MULTIPART_SLACK = 1 << 20
_WHERE_TO_PUT = "copy it into the snapshots folder, or upload it (POST /collections/<collection>/snapshots/upload)"


# ---------------------------------------------------------------------------- file helpers


def _storage_error(exc: OSError, doing: str) -> VecinferError | OSError:
    """A full disk is the client's to know about (507); anything else is a server fault."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return InsufficientStorage(f"Insufficient storage: no space left for {doing}")
    return exc


def _sync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _read_checksum(path: Path) -> str | None:
    try:
        text = (path.parent / (path.name + CHECKSUM_SUFFIX)).read_text(errors="replace").strip()
    except OSError:
        return None
    return text or None


def _describe(path: Path) -> SnapshotDescription:
    info = path.stat()
    created = datetime.fromtimestamp(int(info.st_mtime), UTC).replace(tzinfo=None)
    return SnapshotDescription(path.name, created, info.st_size, _read_checksum(path))


def _describe_all(folder: Path) -> Descriptions:
    """The snapshots in a folder: visible regular files named `*.snapshot` (links are not
    followed: nothing outside the folder is ever listed or served)."""
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for entry in entries:
        if entry.name.startswith(".") or not entry.name.endswith(SUFFIX):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                out.append(_describe(Path(entry.path)))
        except FileNotFoundError:  # deleted while we looked
            continue
    return sorted(out, key=lambda d: (d.creation_time or datetime.min, d.name))


def _publish(partial: Path, final: Path) -> SnapshotDescription:
    """A finished archive under its name: synced, its checksum file first (so that a listed
    snapshot always has one), then renamed into place."""
    with open(partial, "rb+") as f:
        os.fsync(f.fileno())
    checksum = _sha256_of(partial)
    sidecar = final.parent / (final.name + CHECKSUM_SUFFIX)
    sidecar_partial = final.parent / f"{PARTIAL_PREFIX}{uuid.uuid4().hex}"
    try:
        with open(sidecar_partial, "x") as f:
            f.write(checksum)
            f.flush()
            os.fsync(f.fileno())
        os.replace(sidecar_partial, sidecar)
    finally:
        sidecar_partial.unlink(missing_ok=True)
    os.replace(partial, final)
    _sync_dir(final.parent)
    return _describe(final)


def _remove_leftovers(root: Path) -> None:
    """Archives and uploads that a stopped server left half-written (never listed, never
    complete): removed at startup so they do not pile up."""
    if not root.is_dir():
        return
    shutil.rmtree(root / INCOMING_DIR, ignore_errors=True)
    for partial in [*root.glob(f"{PARTIAL_PREFIX}*"), *root.glob(f"*/{PARTIAL_PREFIX}*")]:
        partial.unlink(missing_ok=True)


def _remove(path: Path) -> None:
    path.unlink()
    (path.parent / (path.name + CHECKSUM_SUFFIX)).unlink(missing_ok=True)
    _sync_dir(path.parent)


def _check_snapshot_name(name: str) -> None:
    if not name:
        raise InvalidArgument("Bad request: `snapshot_name` is empty: give the name of a snapshot as listed")
    if "/" in name or "\\" in name or "\0" in name or name.startswith("."):
        raise InvalidArgument(f"Bad request: `snapshot_name` {clip(name)!r} is not a snapshot's name: give a name as "
                              "listed (a file name without / or \\, not starting with a dot)")


def _existing(folder: Path, name: str) -> Path:
    """The snapshot `name` in `folder`, a regular file (a link is not followed), or NotFound."""
    _check_snapshot_name(name)
    path = folder / name
    try:
        found = name.endswith(SUFFIX) and stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:  # missing, or a name no file system takes
        found = False
    if not found:
        raise NotFound(f"Not found: Snapshot {clip(name)} not found")
    return path


def _file_name(collection: str, peer_id: int, when: datetime) -> str:
    """`{collection}-{peer id}-{time}.snapshot`, Qdrant's form; a collection name too long for
    that within a file name is cut (the folder names the collection in full)."""
    tail = f"-{peer_id}-{when.strftime(_TIME_FORMAT)}{SUFFIX}"
    room = _MAX_NAME_BYTES - len(tail.encode())
    head = collection.encode()[:room].decode(errors="ignore")
    return head + tail


def _full_name(when: datetime) -> str:
    return f"{FULL_PREFIX}{when.strftime(_TIME_FORMAT)}{SUFFIX}"


def _shown(url: URL) -> str:
    """A URL as error messages and logs may show it: no credentials, query or fragment (a
    pre-signed URL's signature is in its query)."""
    try:
        plain = url.with_user(None).with_password(None).with_query(None).with_fragment(None)
    except ValueError:
        plain = url
    return clip(str(plain), 100)


def _same_origin(a: URL, b: URL) -> bool:
    return (a.scheme, a.raw_host, a.port) == (b.scheme, b.raw_host, b.port)


def _check_checksum(checksum: str | None) -> str | None:
    if checksum is None:
        return None
    if not _SHA256_HEX.fullmatch(checksum):
        raise InvalidArgument(f"Bad request: `checksum` {clip(checksum)!r} is not a SHA-256 digest: give its 64 "
                              "hexadecimal digits")
    return checksum.lower()


def _check_priority(priority: str | None) -> None:
    if priority is not None and priority not in PRIORITIES:
        raise InvalidArgument(f"Bad request: `priority` {clip(priority)!r} is not one of {', '.join(PRIORITIES)}")


class _Sink:
    """An archive arriving in pieces (fetched or uploaded): bounded, hashed on the way, written
    under a hidden name from a worker thread in blocks of about a megabyte."""

    def __init__(self, path: Path, file: IO[bytes], limit: int, what: str) -> None:
        self.path = path
        self._file = file
        self._limit = limit
        self._what = what
        self._digest = hashlib.sha256()
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self.size = 0

    @staticmethod
    async def create(folder: Path, limit: int, what: str) -> _Sink:
        def start() -> tuple[Path, IO[bytes]]:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"{PARTIAL_PREFIX}{uuid.uuid4().hex}"
            return path, open(path, "xb")

        try:
            path, file = await asyncio.to_thread(start)
        except OSError as exc:
            raise _storage_error(exc, f"receiving {what}") from None
        return _Sink(path, file, limit, what)

    async def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._limit:
            raise InvalidArgument(f"Bad request: {self._what} is over the limit of {self._limit} bytes "
                                  "(VECINFER_SNAPSHOT_MAX_BYTES)")
        self._pending.append(chunk)
        self._pending_bytes += len(chunk)
        if self._pending_bytes >= _CHUNK:
            await self._flush()

    async def _flush(self) -> None:
        if not self._pending:
            return
        block = b"".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        try:
            await asyncio.to_thread(self._write, block)
        except OSError as exc:
            raise _storage_error(exc, f"receiving {self._what}") from None

    def _write(self, block: bytes) -> None:
        self._digest.update(block)
        self._file.write(block)

    async def finish(self) -> str:
        """Everything written and closed; the archive's SHA-256."""
        await self._flush()

        def close() -> None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

        try:
            await asyncio.to_thread(close)
        except OSError as exc:
            raise _storage_error(exc, f"receiving {self._what}") from None
        return self._digest.hexdigest()

    async def discard(self) -> None:
        def drop() -> None:
            self._file.close()
            self.path.unlink(missing_ok=True)

        await asyncio.to_thread(drop)


class _Archive:
    """An archive to recover from: a file of the snapshots folder (kept) or one fetched or
    uploaded for this recovery (removed afterwards); its checksum when already known."""

    def __init__(self, path: Path, owned: bool, checksum: str | None = None) -> None:
        self.path = path
        self.owned = owned
        self.checksum = checksum

    async def release(self) -> None:
        if self.owned:
            await asyncio.to_thread(self.path.unlink, missing_ok=True)


class SnapshotOperations:
    def __init__(self, catalog: Catalog, http: HttpClients, settings: Settings) -> None:
        self._catalog = catalog
        self._http = http
        self._s = settings
        self.root = settings.snapshots_dir
        # Qdrant's names carry the peer id; a single node's is derived from its storage folder,
        # so it stays the same across restarts and differs between servers sharing a snapshots
        # folder.
        digest = hashlib.sha256(str(settings.storage_dir.resolve()).encode()).digest()
        self.peer_id = int.from_bytes(digest[:8], "big") >> 12
        # One name chosen at a time per folder: two snapshots in one second must not share one.
        self._naming: dict[Path, asyncio.Lock] = {}
        self._running: set[asyncio.Task[object]] = set()
        _remove_leftovers(self.root)

    # ------------------------------------------------------------------ running

    async def _run(self, operation: str, work: Callable[[], Coroutine[Any, Any, T]], wait: bool) -> T | None:
        """Start `work` on its own, so that it finishes (and cleans up) even if the request is
        cancelled; with `wait`, its result or error is the request's, else it is only logged
        (None: accepted)."""
        task: asyncio.Task[T] = asyncio.create_task(work())
        self._running.add(task)

        def done(finished: asyncio.Task[T]) -> None:
            self._running.discard(finished)
            if finished.cancelled():
                return
            exc = finished.exception()  # retrieved here in every case: never "never retrieved"
            if exc is None or wait:
                return
            if isinstance(exc, VecinferError):
                log.warning("%s (wait=false) failed: %s", operation, exc.message)
            else:
                log.error("%s (wait=false) failed", operation, exc_info=exc)

        task.add_done_callback(done)
        if not wait:
            return None
        return await asyncio.shield(task)

    async def close(self) -> None:
        """Let started work finish: an archive half-written when storage closes is of no use."""
        if self._running:
            log.info("waiting for %d snapshot operation(s) to finish", len(self._running))
            await asyncio.gather(*self._running, return_exceptions=True)

    def _collection_folder(self, collection: str) -> tuple[str, Path]:
        """The collection's own name (an alias resolved) and its snapshots folder; NotFound (or
        Unavailable, quarantined) first."""
        name = self._catalog.get(collection).name
        return name, self.root / name

    async def _write_archive(self, folder: Path, name_at: Callable[[datetime], str],
                             produce: Callable[[Path], None]) -> SnapshotDescription:
        lock = self._naming.setdefault(folder, asyncio.Lock())
        async with lock:
            try:
                await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            except OSError as exc:
                raise _storage_error(exc, "the snapshot") from None
            while True:
                now = datetime.now(UTC)
                final = folder / name_at(now)
                if not await asyncio.to_thread(final.exists):
                    break
                # Names carry the second: wait for the next one rather than overwrite.
                await asyncio.sleep(1.0 - now.microsecond / 1e6 + 0.01)
            partial = folder / f"{PARTIAL_PREFIX}{uuid.uuid4().hex}"
            try:
                await asyncio.to_thread(produce, partial)
                return await asyncio.to_thread(_publish, partial, final)
            except OSError as exc:
                raise _storage_error(exc, "the snapshot") from None
            finally:
                await asyncio.to_thread(partial.unlink, missing_ok=True)

    # ------------------------------------------------------------------ collection snapshots

    async def create(self, ctx: RequestContext, collection: str,
                     wait: bool = True) -> Answer[SnapshotDescription | None]:
        """A new snapshot of `collection`; None when accepted to run in the background."""
        async def work() -> tuple[SnapshotDescription | None, dict[str, int]]:
            name, folder = self._collection_folder(collection)

            def produce(target: Path) -> None:
                self._catalog.snapshot_collection(name, target)

            made = await self._run("create_snapshot", lambda: self._write_archive(
                folder, lambda when: _file_name(name, self.peer_id, when), produce), wait)
            return made, NO_USAGE

        return await answer(ctx, "create_snapshot", work, bounded=False)

    async def list(self, ctx: RequestContext, collection: str) -> Answer[Descriptions]:
        async def work() -> tuple[Descriptions, dict[str, int]]:
            _, folder = self._collection_folder(collection)
            return await asyncio.to_thread(_describe_all, folder), NO_USAGE

        return await answer(ctx, "list_snapshots", work)

    async def delete(self, ctx: RequestContext, collection: str, snapshot: str,
                     wait: bool = True) -> Answer[bool | None]:
        async def work() -> tuple[bool | None, dict[str, int]]:
            _, folder = self._collection_folder(collection)
            return await self._delete_in(folder, snapshot, "delete_snapshot", wait), NO_USAGE

        return await answer(ctx, "delete_snapshot", work, bounded=False)

    async def file(self, ctx: RequestContext, collection: str, snapshot: str) -> Answer[SnapshotFile]:
        """The snapshot to send for a download."""
        async def work() -> tuple[SnapshotFile, dict[str, int]]:
            _, folder = self._collection_folder(collection)
            return await asyncio.to_thread(self._file_in, folder, snapshot), NO_USAGE

        return await answer(ctx, "download_snapshot", work)

    # ------------------------------------------------------------------ full snapshots

    async def create_full(self, ctx: RequestContext, wait: bool = True) -> Answer[SnapshotDescription | None]:
        async def work() -> tuple[SnapshotDescription | None, dict[str, int]]:
            made = await self._run("create_full_snapshot", lambda: self._write_archive(
                self.root, _full_name, self._catalog.snapshot_all), wait)
            return made, NO_USAGE

        return await answer(ctx, "create_full_snapshot", work, bounded=False)

    async def list_full(self, ctx: RequestContext) -> Answer[Descriptions]:
        async def work() -> tuple[Descriptions, dict[str, int]]:
            return await asyncio.to_thread(_describe_all, self.root), NO_USAGE

        return await answer(ctx, "list_full_snapshots", work)

    async def delete_full(self, ctx: RequestContext, snapshot: str, wait: bool = True) -> Answer[bool | None]:
        async def work() -> tuple[bool | None, dict[str, int]]:
            return await self._delete_in(self.root, snapshot, "delete_full_snapshot", wait), NO_USAGE

        return await answer(ctx, "delete_full_snapshot", work, bounded=False)

    async def file_full(self, ctx: RequestContext, snapshot: str) -> Answer[SnapshotFile]:
        async def work() -> tuple[SnapshotFile, dict[str, int]]:
            return await asyncio.to_thread(self._file_in, self.root, snapshot), NO_USAGE

        return await answer(ctx, "download_full_snapshot", work)

    # ------------------------------------------------------------------ shared by both kinds

    async def _delete_in(self, folder: Path, snapshot: str, operation: str, wait: bool) -> bool | None:
        path = await asyncio.to_thread(_existing, folder, snapshot)  # a missing one is the client's 404 now

        async def remove() -> bool:
            try:
                await asyncio.to_thread(_remove, path)
            except FileNotFoundError:
                raise NotFound(f"Not found: Snapshot {clip(snapshot)} not found") from None
            return True

        return await self._run(operation, remove, wait)

    @staticmethod
    def _file_in(folder: Path, snapshot: str) -> SnapshotFile:
        path = _existing(folder, snapshot)
        return SnapshotFile(path.name, path, path.stat().st_size)

    # ------------------------------------------------------------------ recovery

    async def recover(self, ctx: RequestContext, collection: str, request: RecoverRequest,
                      wait: bool = True) -> Answer[bool | None]:
        """Create or replace `collection` from the archive at `request.location`: a file in the
        snapshots folder (`file:///...`) or an http(s) URL, fetched within the bounds."""
        def check() -> None:
            _check_priority(request.priority)
            _check_checksum(request.checksum)

        async def work() -> tuple[bool | None, dict[str, int]]:
            checksum = _check_checksum(request.checksum)
            local, url = await self._location(request.location)

            async def run() -> bool:
                if local is not None:
                    archive = _Archive(local, owned=False)
                else:
                    assert url is not None
                    archive = await self._fetch(url, request.api_key)
                return await self._recover_from(collection, archive, checksum)

            return await self._run("recover_snapshot", run, wait), NO_USAGE

        return await answer(ctx, "recover_snapshot", work, bounded=False, check=check)

    async def upload(self, ctx: RequestContext, collection: str, chunks: AsyncIterator[bytes],
                     declared_bytes: int | None, priority: str | None = None, checksum: str | None = None,
                     wait: bool = True) -> Answer[bool | None]:
        """Receive an archive (streamed to disk, bounded) and recover `collection` from it; the
        archive is removed afterwards."""
        limit = self._s.snapshot_max_bytes

        def check() -> None:
            _check_priority(priority)
            _check_checksum(checksum)
            if declared_bytes is not None and declared_bytes > limit + _MULTIPART_SLACK:
                raise InvalidArgument(f"Bad request: the upload is {declared_bytes} bytes, over the limit of {limit} "
                                      "bytes for a snapshot (VECINFER_SNAPSHOT_MAX_BYTES)")

        async def work() -> tuple[bool | None, dict[str, int]]:
            expected = _check_checksum(checksum)
            sink = await _Sink.create(self.root / INCOMING_DIR, limit, "the uploaded snapshot")
            try:
                async for chunk in chunks:
                    await sink.add(chunk)
                digest = await sink.finish()
            except BaseException:
                await sink.discard()
                raise
            archive = _Archive(sink.path, owned=True, checksum=digest)
            return await self._run("recover_uploaded_snapshot",
                                   lambda: self._recover_from(collection, archive, expected), wait), NO_USAGE

        return await answer(ctx, "recover_uploaded_snapshot", work, bounded=False, check=check)

    async def _recover_from(self, collection: str, archive: _Archive, expected: str | None) -> bool:
        try:
            if expected is not None:
                actual = archive.checksum or await asyncio.to_thread(_sha256_of, archive.path)
                if actual != expected:
                    raise InvalidArgument(f"Checksum mismatch: expected {expected}, got {actual}")
            await asyncio.to_thread(self._catalog.recover_collection, collection, archive.path)
        finally:
            await archive.release()
        return True

    async def _location(self, location: str) -> tuple[Path | None, URL | None]:
        """A recovery location: (a file of the snapshots folder, None) or (None, an http(s) URL)."""
        try:
            url = URL(location)
        except (ValueError, TypeError):
            raise InvalidArgument(f"Bad request: `location` {clip(location)!r} is not a URL: give an http(s):// URL "
                                  "or a file:/// path in the snapshots folder") from None
        if url.scheme in ("http", "https"):
            if not url.raw_host:
                raise InvalidArgument(f"Bad request: `location` {_shown(url)} names no host")
            return None, url
        if url.scheme != "file":
            raise InvalidArgument(f"Bad request: `location` {clip(location)!r} must be an http(s):// URL or a "
                                  "file:/// path in the snapshots folder")
        if url.raw_host not in (None, "", "localhost"):
            raise InvalidArgument(f"Bad request: `location` {clip(location)!r} names a host: a file:/// location is a "
                                  "path on this server (file:///path/to/x.snapshot)")
        return await asyncio.to_thread(self._local_file, location, url.path), None

    def _local_file(self, location: str, path_text: str) -> Path:
        root = self.root.resolve()
        if not path_text.startswith("/"):
            raise InvalidArgument(f"Bad request: `location` {clip(location)!r} is not an absolute path: use "
                                  f"file://{root}/<collection>/<snapshot>")
        path = Path(path_text).resolve()  # links and `..` resolved before the check, not after
        if path == root or not path.is_relative_to(root):
            raise InvalidArgument(f"Bad request: `location` {clip(location)!r} is outside the snapshots folder "
                                  f"({root}): only archives in it can be recovered from a file; {_WHERE_TO_PUT}")
        if path.relative_to(root).parts[0] == INCOMING_DIR or path.name.startswith(PARTIAL_PREFIX):
            # Archives still being written, fetched or uploaded: not snapshots yet.
            raise InvalidArgument(f"Bad request: `location` {clip(location)!r} is a temporary file, not a snapshot: "
                                  "give a snapshot as listed")
        if not path.is_file():
            raise NotFound(f"Not found: Snapshot file {clip(location)} does not exist")
        return path

    # ------------------------------------------------------------------ fetching

    async def _fetch(self, url: URL, api_key: str | None) -> _Archive:
        """The archive at `url`, hop by hop (every redirect checked like the first URL), within
        the size and time bounds; `api_key` goes only to the URL's own origin."""
        seconds = self._s.snapshot_fetch_timeout_seconds
        shown = _shown(url)
        session = await self._http.session(public_only=not self._s.snapshot_allow_private_networks)
        sink = await _Sink.create(self.root / INCOMING_DIR, self._s.snapshot_max_bytes, f"the snapshot at {shown}")
        try:
            async with asyncio.timeout(seconds):
                digest = await self._follow(url, shown, api_key, session, sink)
        except TimeoutError:
            await sink.discard()
            raise InvalidArgument(f"Bad request: the snapshot at {shown} did not arrive within {seconds} s "
                                  "(VECINFER_SNAPSHOT_FETCH_TIMEOUT_SECONDS)") from None
        except BaseException:
            await sink.discard()
            raise
        return _Archive(sink.path, owned=True, checksum=digest)

    async def _follow(self, url: URL, shown: str, api_key: str | None, session: aiohttp.ClientSession,
                      sink: _Sink) -> str:
        most = self._s.snapshot_max_redirects
        target = url
        for hop in range(most + 1):
            await self._check_hop(shown, target, hop)
            headers = {"api-key": api_key} if api_key and _same_origin(target, url) else {}
            try:
                async with session.get(target, allow_redirects=False, headers=headers,
                                       timeout=aiohttp.ClientTimeout(total=None)) as response:
                    if response.status in _REDIRECTS:
                        target = self._redirect(shown, response)
                        continue
                    if response.status != 200:
                        raise InvalidArgument(f"Bad request: the snapshot URL {shown} answered HTTP {response.status}")
                    limit = self._s.snapshot_max_bytes
                    if response.content_length is not None and response.content_length > limit:
                        raise InvalidArgument(f"Bad request: the snapshot at {shown} is {response.content_length} "
                                              f"bytes, over the limit of {limit} (VECINFER_SNAPSHOT_MAX_BYTES)")
                    async for chunk in response.content.iter_chunked(_CHUNK):
                        await sink.add(chunk)
                    return await sink.finish()
            except aiohttp.ClientError as exc:
                if refused_address(exc):
                    raise InvalidArgument(self._refused(shown, target, hop, None)) from None
                raise InvalidArgument(f"Bad request: the snapshot URL {shown} could not be fetched: "
                                      f"{type(exc).__name__}") from None
        raise InvalidArgument(f"Bad request: the snapshot URL {shown} redirected more than {most} times "
                              "(VECINFER_SNAPSHOT_MAX_REDIRECTS)")

    @staticmethod
    def _redirect(shown: str, response: aiohttp.ClientResponse) -> URL:
        location = response.headers.get("Location")
        if not location:
            raise InvalidArgument(f"Bad request: the snapshot URL {shown} answered HTTP {response.status} "
                                  "without a Location")
        try:
            return response.url.join(URL(location))
        except ValueError:
            raise InvalidArgument(f"Bad request: the snapshot URL {shown} redirected to an invalid URL") from None

    async def _check_hop(self, shown: str, target: URL, hop: int) -> None:
        """Refuses one URL of a redirect chain (hop 0 is the client's) before it is requested,
        with the address checks of image fetches (inference/http.py)."""
        where = self._where(shown, target, hop)
        if target.scheme not in ("http", "https"):
            raise InvalidArgument(f"Bad request: {where} is not http or https: only those are fetched")
        host = target.raw_host
        if not host:
            raise InvalidArgument(f"Bad request: {where} names no host")
        if self._s.snapshot_allow_private_networks:
            return
        try:
            address = await non_public_address(host, target.port or 0)
        except OSError:
            raise InvalidArgument(f"Bad request: {where} names a host that does not resolve ({clip(host, 60)})") from None
        if address is not None:
            raise InvalidArgument(self._refused(shown, target, hop, address))

    @staticmethod
    def _where(shown: str, target: URL, hop: int) -> str:
        return f"the snapshot URL {shown}" + (f" redirected to {_shown(target)}, which" if hop else "")

    def _refused(self, shown: str, target: URL, hop: int, address: str | None) -> str:
        at = f" ({clip(address, 60)})" if address else ""
        return (f"Bad request: {self._where(shown, target, hop)} points at a private, loopback or link-local "
                f"address{at}: refused. Set VECINFER_SNAPSHOT_ALLOW_PRIVATE_NETWORKS=true to allow it")
