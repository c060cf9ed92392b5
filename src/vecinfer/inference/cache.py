"""The persistent embedding cache: dense vectors computed before, reused across requests and
restarts, bounded in bytes on disk.

What an entry is: the full vector a backend returned for one (model, purpose, input, options
that change the computation), as raw little-endian float32, so a hit is bit-identical to the
miss that stored it. `options.mrl` is not part of the key: the resolver derives smaller vectors
from the cached full one. Keys are SHA-256 digests, so texts and images are not on disk in the
clear; provider keys (`*-api-key` options, metadata) never enter a key or a value. The model's
identity in the key includes what makes its vectors (a local model's manifest and graph file,
a provider's base URL), so a replaced model does not answer from an older one's vectors.

What is cached: dense vectors of local ONNX models and providers. BM25 (sparse) is not: a short
query costs about as much to compute as a lookup does (both near 0.2 ms through a thread;
`scripts/bench/inference.py --cache-only` measures them), so a hit would save little while
every miss would add a write, and its vectors would take room from vectors that cost tens of
milliseconds or money. Images given by URL are not cached either: what a URL serves may change.

On disk: one SQLite file (stdlib `sqlite3`, WAL journal, format version in `user_version`).
The bound covers the database, its WAL and shared-memory files: each write transaction evicts
least recently used entries while the pages in use pass the database's share, and the WAL is
checkpointed back to zero when it passes its share. Hits refresh an entry's place in the LRU
order lazily (written with the next write), so a lookup costs one read.

Threads: one connection behind a lock, so any thread may call in; the resolver calls through
one worker thread of its own (lookups and writes in arrival order), so the event loop never
waits on the disk and a lookup sees every write submitted before it.

Damage never fails a request: a file SQLite reports as corrupt, or a row whose checksum does
not match, is moved aside (`embeddings.sqlite.damaged-<time>`, kept for whoever wants to look)
and a new one started; other errors (disk full, read-only, locked) count as misses and are
logged at most once a minute.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from prometheus_client import Counter, Gauge

from vecinfer import metrics
from vecinfer.config import Settings
from vecinfer.domain.inference import SECRET_SUFFIX, Image, InferenceInput, computation_options
from vecinfer.inference.backend import Backend, Purpose
from vecinfer.inference.images import is_url

log = logging.getLogger("vecinfer.embedding_cache")

FILE_NAME = "embeddings.sqlite"
# Marks the file as ours ("vecE"), and its layout; a file with another version is moved aside.
APPLICATION_ID = 0x76656345
FORMAT_VERSION = 1
# Part of every key: changing what a key is made of must not find entries made the old way.
KEY_VERSION = 1
# Below this, the WAL and shared-memory files alone would take most of the bound.
MIN_BYTES = 1 << 20
# 8 KiB pages hold a 384-dimension vector with about 10 % overhead (4 KiB pages: 35 %).
_PAGE_SIZE = 8192
_SHM_ALLOWANCE = 64 << 10
# Eviction frees down to this share of the database's budget, so it runs once per tenth of the
# bound written rather than on every write at the bound.
_LOW_WATER = 0.9
_TOUCH_FLUSH = 512  # pending LRU refreshes written once this many are waiting
_SQL_CHUNK = 500  # digests per SELECT (SQLite's variable limit is far above)
_SQLITE_CORRUPT, _SQLITE_NOTADB = 11, 26

LOOKUPS = Counter("vecinfer_embedding_cache_lookups", "Embedding cache lookups, by outcome (hit, miss)",
                  ["outcome"], registry=metrics.REGISTRY)
_HITS, _MISSES = LOOKUPS.labels("hit"), LOOKUPS.labels("miss")
EVICTIONS = Counter("vecinfer_embedding_cache_evictions", "Entries evicted to keep the cache within its bound",
                    registry=metrics.REGISTRY)
ERRORS = Counter("vecinfer_embedding_cache_errors", "Cache operations that failed (served as misses), by kind",
                 ["kind"], registry=metrics.REGISTRY)
ENTRIES = Gauge("vecinfer_embedding_cache_entries", "Entries in the embedding cache", registry=metrics.REGISTRY)
DISK_BYTES = Gauge("vecinfer_embedding_cache_bytes", "Bytes the embedding cache's files take on disk",
                   registry=metrics.REGISTRY)


class _Damaged(Exception):
    """The file cannot be trusted: moved aside and replaced."""


def cache_dir(settings: Settings) -> Path:
    """Where the cache lives: the setting, else beside the data in the embedded mode (one volume
    to keep), else (gateway mode, no storage of its own) under the model cache directory."""
    if settings.embedding_cache_dir is not None:
        return settings.embedding_cache_dir
    if settings.upstream:
        return settings.cache_dir / "embeddings"
    return settings.storage_dir / "embedding-cache"


def cacheable(backend: Backend, obj: InferenceInput) -> bool:
    return backend.info.kind == "dense" and not (isinstance(obj, Image) and is_url(obj.image))


def backend_identity(backend: Backend) -> str:
    """What, besides the model name, decides a backend's vectors: its source (a provider's base
    URL), and for a local model its manifest and the size and time of its files."""
    info = backend.info
    parts: list[Any] = [info.name, info.kind, info.dimension, info.source]
    manifest = getattr(backend, "manifest", None)
    if manifest is not None:
        parts.append(repr(manifest))
        for path in (getattr(manifest, "onnx", None), getattr(manifest, "tokenizer", None)):
            if path is not None:
                try:
                    stat = os.stat(path)
                    parts.append([stat.st_size, stat.st_mtime_ns])
                except OSError:
                    parts.append(None)
    return json.dumps(parts, separators=(",", ":"), default=str)


def key_digest(identity: str, purpose: Purpose, obj: InferenceInput) -> bytes:
    """The key of one input: purpose is part of it (models add query or document prefixes,
    providers an input type); `mrl` and provider keys are not."""
    kind, data, model, _ = obj.key()
    options = {k: v for k, v in computation_options(obj.options).items() if not k.lower().endswith(SECRET_SUFFIX)}
    material = json.dumps([KEY_VERSION, identity, purpose, kind, model, options, data],
                          sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(material.encode("ascii")).digest()


def encode(vector: Any) -> bytes | None:
    """The stored form of a vector, or None for what the cache does not keep (it keeps 1-D
    float32 arrays only, which round-trip bit for bit)."""
    if not isinstance(vector, np.ndarray) or vector.ndim != 1 or vector.dtype != np.float32 or not vector.size:
        return None
    return vector.astype("<f4", copy=False).tobytes()


def decode(value: bytes) -> np.ndarray:
    return np.frombuffer(value, dtype="<f4").astype(np.float32)  # a writable copy


def checksum(digest: bytes, value: bytes) -> int:
    return zlib.crc32(value, zlib.crc32(digest))


def _error_code(exc: BaseException) -> int:
    return int(getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF


@dataclass(frozen=True)
class Stats:
    entries: int
    disk_bytes: int


class EmbeddingCache:
    """One SQLite file, bounded at `max_bytes` on disk (database, WAL and shared memory)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        if max_bytes < MIN_BYTES:
            raise ValueError(f"an embedding cache needs at least {MIN_BYTES} bytes, got {max_bytes}")
        self.directory = directory
        self.path = directory / FILE_NAME
        self.max_bytes = max_bytes
        self._wal_limit = min(max(max_bytes // 16, 64 << 10), 64 << 20)
        self._db_budget = max_bytes - self._wal_limit - _SHM_ALLOWANCE
        # One entry may take at most this much, so one write cannot push the others out.
        self._max_value = self._db_budget // 16
        self._lock = threading.Lock()
        self._touches: dict[bytes, int] = {}
        self._last_logged: dict[str, float] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedding-cache")
        self._conn: sqlite3.Connection | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self._entries = 0  # kept up to date by writes and evictions (counting rows takes a scan)
        with self._lock:
            self._open_locked()
            try:
                self._count_locked()
                self._evict_locked(force_settle=True)  # the bound may have been lowered since
            except (sqlite3.Error, _Damaged) as exc:
                self._recover_locked(exc, "opening")
            self._report_locked()

    # ------------------------------------------------------------------ opening and damage

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=1.0)
        try:
            application_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if tables == 0:
                # auto_vacuum and page_size only take effect before the first table.
                conn.execute(f"PRAGMA page_size = {_PAGE_SIZE}")
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.executescript(f"""
                    BEGIN;
                    CREATE TABLE entries (
                        id INTEGER PRIMARY KEY,
                        digest BLOB NOT NULL UNIQUE,
                        used INTEGER NOT NULL,
                        crc INTEGER NOT NULL,
                        value BLOB NOT NULL
                    );
                    CREATE INDEX entries_used ON entries (used);
                    PRAGMA application_id = {APPLICATION_ID};
                    PRAGMA user_version = {FORMAT_VERSION};
                    COMMIT;
                """)
            elif application_id != APPLICATION_ID or version != FORMAT_VERSION:
                raise _Damaged(f"not an embedding cache of format {FORMAT_VERSION} "
                               f"(application id {application_id:#x}, version {version})")
            conn.execute("PRAGMA journal_mode = WAL")
            # WAL with synchronous=NORMAL: a crash may lose the last writes, never the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {max(1, self._wal_limit // _PAGE_SIZE)}")
            conn.execute(f"PRAGMA journal_size_limit = {self._wal_limit}")
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_locked(self) -> None:
        try:
            self._conn = self._connect()
        except (sqlite3.DatabaseError, _Damaged) as exc:
            if isinstance(exc, sqlite3.DatabaseError) and _error_code(exc) not in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
                raise
            self._move_aside_locked(str(exc))
            self._conn = self._connect()

    def _count_locked(self) -> None:
        conn = self._conn
        self._entries = int(conn.execute("SELECT count(*) FROM entries").fetchone()[0]) if conn is not None else 0

    def _move_aside_locked(self, problem: str) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except sqlite3.Error:
                pass
            self._conn = None
        self._touches.clear()
        stamp = time.strftime("%Y%m%dT%H%M%S")
        moved = self.path.with_name(f"{FILE_NAME}.damaged-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(FILE_NAME + suffix)
            if source.exists():
                os.replace(source, moved.with_name(moved.name + suffix))
        ERRORS.labels("damaged").inc()
        log.error("embedding cache %s is damaged (%s): moved aside to %s, starting a new one", self.path, problem, moved)

    def _recover_locked(self, exc: BaseException, what: str) -> None:
        """After a failed operation: a damaged file is replaced; anything else is logged."""
        if isinstance(exc, _Damaged) or _error_code(exc) in (_SQLITE_CORRUPT, _SQLITE_NOTADB):
            try:
                self._move_aside_locked(str(exc))
                self._conn = self._connect()
                self._entries = 0
            except (OSError, sqlite3.Error) as again:
                self._conn = None
                log.error("embedding cache %s: no new file either (%s); running without it", self.path, again)
            return
        kind = type(exc).__name__
        ERRORS.labels(kind).inc()
        now = time.monotonic()
        if now - self._last_logged.get(kind, -1e9) >= 60:
            self._last_logged[kind] = now
            log.warning("embedding cache %s: %s failed (%s: %s); served as misses", self.path, what, kind, exc)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        if conn is None:
            raise sqlite3.OperationalError("the cache file is not open")
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.rollback()
            raise
        conn.execute("COMMIT")

    # ------------------------------------------------------------------ reads and writes

    def get_many(self, digests: Sequence[bytes], counted: bool = True) -> list[np.ndarray | None]:
        """The cached vector of each digest, or None. Never raises. `counted=False` leaves the
        hit and miss counts to the caller (`count_hits`), for a lookup that may be repeated."""
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            try:
                conn = self._conn
                if conn is None:
                    raise sqlite3.OperationalError("the cache file is not open")
                unique = list(dict.fromkeys(digests))
                for start in range(0, len(unique), _SQL_CHUNK):
                    chunk = unique[start : start + _SQL_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    for digest, crc, value in conn.execute(
                            f"SELECT digest, crc, value FROM entries WHERE digest IN ({marks})", chunk):
                        if checksum(digest, value) != crc:
                            raise _Damaged("an entry does not match its checksum")
                        found[bytes(digest)] = decode(value)
            except (sqlite3.Error, _Damaged) as exc:
                self._recover_locked(exc, "a lookup")
                found = {}
            now = time.time_ns()
            for digest in found:
                self._touches[digest] = now
            if len(self._touches) >= _TOUCH_FLUSH:
                try:
                    with self._transaction() as conn:
                        self._flush_touches_locked(conn)
                except (sqlite3.Error, _Damaged) as exc:  # the hits stand; the LRU order waits
                    self._recover_locked(exc, "refreshing the LRU order")
        if counted:
            hits = sum(1 for d in digests if d in found)
            _HITS.inc(hits)
            _MISSES.inc(len(digests) - hits)
        return [found.get(d) for d in digests]

    @staticmethod
    def count_hits(hits: int) -> None:
        _HITS.inc(hits)

    def put_many(self, items: Sequence[tuple[bytes, bytes]]) -> None:
        """Store (digest, encoded vector) pairs, evicting the least recently used entries to
        stay within the bound. Never raises."""
        items = [(d, v) for d, v in items if len(v) <= self._max_value]
        # Bounded transactions keep the WAL (and so the files' size while a write runs) small.
        chunk: list[tuple[bytes, bytes]] = []
        size = 0
        for item in items:
            chunk.append(item)
            size += len(item[1])
            if size >= self._wal_limit // 4 or len(chunk) >= _SQL_CHUNK:
                self._put_chunk(chunk)
                chunk, size = [], 0
        if chunk:
            self._put_chunk(chunk)

    def _put_chunk(self, items: list[tuple[bytes, bytes]]) -> None:
        with self._lock:
            try:
                with self._transaction() as conn:
                    self._flush_touches_locked(conn)
                    marks = ",".join("?" * len(items))
                    known = {bytes(row[0]) for row in conn.execute(
                        f"SELECT digest FROM entries WHERE digest IN ({marks})", [d for d, _ in items])}
                    now = time.time_ns()
                    conn.executemany(
                        "INSERT INTO entries (digest, used, crc, value) VALUES (?, ?, ?, ?) "
                        "ON CONFLICT (digest) DO UPDATE SET used = excluded.used, crc = excluded.crc, "
                        "value = excluded.value",
                        [(d, now, checksum(d, v), v) for d, v in items])
                    self._entries += len({d for d, _ in items} - known)
                self._evict_locked(force_settle=False)
                self._report_locked()
            except (sqlite3.Error, _Damaged) as exc:
                self._recover_locked(exc, "a write")

    def _flush_touches_locked(self, conn: sqlite3.Connection) -> None:
        if self._touches:
            conn.executemany("UPDATE entries SET used = ? WHERE digest = ?",
                             [(used, digest) for digest, used in self._touches.items()])
            self._touches.clear()

    def _pages(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """(bytes of all pages, bytes of pages in use)."""
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        return int(pages) * _PAGE_SIZE, int(pages - free) * _PAGE_SIZE

    def _evict_locked(self, force_settle: bool) -> None:
        conn = self._conn
        if conn is None:
            return
        evicted = 0
        shrunk = self._pages(conn)[0] > self._db_budget
        if shrunk:
            with self._transaction() as conn:
                self._flush_touches_locked(conn)
                target = int(self._db_budget * _LOW_WATER)
                while True:
                    in_use = self._pages(conn)[1]
                    if in_use <= target:
                        break
                    # As many of the oldest as, at the average size, free the excess.
                    batch = max(1, -(-(in_use - target) * max(self._entries, 1) // in_use))
                    deleted = conn.execute(
                        "DELETE FROM entries WHERE id IN (SELECT id FROM entries ORDER BY used, id LIMIT ?)",
                        (batch,)).rowcount
                    if deleted <= 0:
                        break
                    evicted += deleted
                    self._entries = max(0, self._entries - deleted)
            # Free pages (from evictions, and from updates in place) leave the file. As a script:
            # `execute` would step it once, which frees one page.
            conn.executescript("PRAGMA incremental_vacuum;")
            EVICTIONS.inc(evicted)
        wal = self.path.with_name(FILE_NAME + "-wal")
        try:
            wal_bytes = wal.stat().st_size
        except FileNotFoundError:
            wal_bytes = 0
        if shrunk or force_settle or wal_bytes > self._wal_limit:
            # Copies the WAL into the database (which then shrinks to its pages) and truncates
            # the WAL to nothing.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def _report_locked(self) -> None:
        ENTRIES.set(self._entries)
        DISK_BYTES.set(self.disk_bytes())

    def disk_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            try:
                total += self.path.with_name(FILE_NAME + suffix).stat().st_size
            except FileNotFoundError:
                pass
        return total

    def stats(self) -> Stats:
        with self._lock:
            conn = self._conn
            entries = conn.execute("SELECT count(*) FROM entries").fetchone()[0] if conn is not None else 0
            return Stats(int(entries), self.disk_bytes())

    # ------------------------------------------------------------------ from the event loop

    async def lookup(self, keys: Sequence[tuple[str, Purpose, InferenceInput]]) -> list[tuple[bytes, np.ndarray | None]]:
        """(digest, cached vector or None) for each (backend identity, purpose, input), or an
        empty list when the cache cannot answer (closed, or a key it cannot make): the request
        then computes everything. Keys are hashed on the cache's thread, since inputs may be
        megabytes of text or image."""
        def run() -> list[tuple[bytes, np.ndarray | None]]:
            digests = [key_digest(identity, purpose, obj) for identity, purpose, obj in keys]
            return list(zip(digests, self.get_many(digests)))

        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, run)
        except (RuntimeError, TypeError, ValueError) as exc:  # shut down; options JSON cannot hold
            ERRORS.labels(type(exc).__name__).inc()
            return []

    def store(self, items: Sequence[tuple[bytes, Any]]) -> None:
        """Queue (digest, vector) pairs to be written; returns at once. The vectors are copied
        here, before the request goes on and storage may normalise them in place."""
        encoded = [(digest, value) for digest, vector in items if (value := encode(vector)) is not None]
        if encoded:
            try:
                self._executor.submit(self.put_many, encoded)
            except RuntimeError:  # closed: a request that outlived shutdown keeps its answer
                ERRORS.labels("closed").inc()

    def close(self) -> None:
        """Finish queued writes, write pending LRU refreshes, close the file."""
        self._executor.shutdown(wait=True)
        with self._lock:
            conn = self._conn
            if conn is None:
                return
            try:
                with self._transaction() as conn:
                    self._flush_touches_locked(conn)
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            except (sqlite3.Error, _Damaged) as exc:
                self._recover_locked(exc, "closing")
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None


def open_cache(settings: Settings) -> EmbeddingCache | None:
    """The configured cache, or None when it is off or cannot be opened (inference works
    without it, and the reason is logged)."""
    if settings.embedding_cache_bytes <= 0:
        return None
    directory = cache_dir(settings)
    if settings.embedding_cache_bytes < MIN_BYTES:
        log.warning("embedding cache off: VECINFER_EMBEDDING_CACHE_BYTES=%d is under the minimum of %d",
                    settings.embedding_cache_bytes, MIN_BYTES)
        return None
    try:
        cache = EmbeddingCache(directory, settings.embedding_cache_bytes)
    except (OSError, sqlite3.Error) as exc:
        log.warning("embedding cache off: %s cannot be used (%s: %s); set VECINFER_EMBEDDING_CACHE_DIR",
                    directory, type(exc).__name__, exc)
        return None
    log.info("embedding cache at %s, up to %d bytes (%d entries now)", cache.path, cache.max_bytes,
             cache.stats().entries)
    return cache
