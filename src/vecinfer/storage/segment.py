"""A segment: point ids, payloads, dense vectors, multivectors and sparse postings, addressed
by offset.

A mutable segment takes writes: points are appended, and replacing a point retires its old
offset. Once sealed, a segment takes no new points; its dense rows live in files that are
memory-mapped, and the background indexer gives it HNSW graphs. Deletes, payload changes and
vector removals still apply to sealed segments in place.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np

from vecinfer.domain.collections import CollectionConfig
from vecinfer.domain.points import PointId, SparseVector
from vecinfer.storage.config_file import sync_file, sync_tree
from vecinfer.storage.dense import DenseStore, FlagArray, SealedDenseStore
from vecinfer.storage.format import tables
from vecinfer.storage.growable import GrowableArray
from vecinfer.storage.multidense import MultiDenseStore, SealedMultiDenseStore, is_multivector
from vecinfer.storage.sparse import SparseStore

IDS_FILE = "ids.npy"
# A sealed segment's changeable state lives in folders named `state-<tag>`.
STATE_PREFIX = "state-"


def _dense_file(name: str) -> str:
    return f"dense-{name.encode().hex()}.npy"


def _index_file(name: str) -> str:
    return f"hnsw-{name.encode().hex()}.faiss"


def _multi_file(name: str) -> str:
    """A sealed segment's multivector rows, back to back."""
    return f"multi-{name.encode().hex()}.npy"


def _multi_layout_file(name: str) -> str:
    """Per offset (start, count) into the rows of `_multi_file`."""
    return f"multi-{name.encode().hex()}-layout.npy"


def save_multi(directory: Path, name: str, rows: np.ndarray, starts: np.ndarray, counts: np.ndarray) -> None:
    np.save(directory / _multi_file(name), np.asarray(rows, dtype=np.float32))
    np.save(directory / _multi_layout_file(name), np.stack([starts, counts], axis=1).astype(np.int64))


def _load_multi(directory: Path, name: str, config: CollectionConfig, present: np.ndarray,
                count: int) -> SealedMultiDenseStore:
    size = config.dense[name].size
    rows = tables.load_array(directory / _multi_file(name), "float32", 2, mmap=True)
    layout = tables.load_array(directory / _multi_layout_file(name), "int64", 2)
    if layout.shape != (count, 2) or rows.shape[1:] != (size,) or np.any(layout < 0) \
            or (count and int((layout[:, 0] + layout[:, 1]).max()) > len(rows)):
        raise tables.TableFormatError(f"{directory}: the multivector files of {name!r} do not fit {count} points of "
                                      f"dimension {size}")
    return SealedMultiDenseStore(config.dense[name], rows, layout[:, 0], layout[:, 1], present)


AnyDenseStore = DenseStore | SealedDenseStore | MultiDenseStore | SealedMultiDenseStore


class Segment:
    # Sealed segments only: the state file that holds version `state_version`, once written.
    state_file: str | None
    state_version: int
    synced: bool  # its files and folder have been fsync'ed

    def __init__(self, config: CollectionConfig) -> None:
        self.ids: list[PointId] = []
        self.offset_of: dict[PointId, int] = {}
        self.alive: GrowableArray | Any = GrowableArray(np.bool_, False)
        self.payloads: list[dict[str, Any] | None] = []
        self.dense: dict[str, DenseStore | SealedDenseStore] = {
            name: DenseStore(p) for name, p in config.dense.items() if not is_multivector(p)}
        # Dense vectors created with `multivector_config`: a matrix per point.
        self.multi: dict[str, MultiDenseStore | SealedMultiDenseStore] = {
            name: MultiDenseStore(p) for name, p in config.dense.items() if is_multivector(p)}
        self.sparse = {name: SparseStore() for name in config.sparse}
        self.directory: Path | None = None  # set once sealed
        self.version = 0  # bumped by every change, so a merge can tell what moved under it
        # Payload columns that filters build from this segment, keyed by payload key and
        # rebuilt when `version` moves (owned by storage/filters.py).
        self.filter_columns: dict = {}

    @property
    def sealed(self) -> bool:
        return self.directory is not None

    @property
    def sealed_directory(self) -> Path:
        """The folder of a sealed segment."""
        if self.directory is None:
            raise ValueError("a mutable segment has no directory")
        return self.directory

    # ------------------------------------------------------------------ reads

    def __len__(self) -> int:
        return len(self.offset_of)

    @property
    def size(self) -> int:
        """Offsets in use, live or retired."""
        return len(self.ids)

    def deleted_count(self) -> int:
        return self.size - len(self.offset_of)

    def vector_bytes(self) -> int:
        dense = self.size * sum(store.params.size * 4 for store in self.dense.values())
        return dense + sum(store.used_rows() * store.params.size * 4 for store in self.multi.values())

    def live_mask(self) -> np.ndarray:
        return np.array(self.alive.view(), dtype=np.bool_)

    def iter_live(self) -> Iterator[tuple[int, PointId]]:
        for point_id, offset in self.offset_of.items():
            yield offset, point_id

    def payload(self, offset: int) -> dict[str, Any]:
        return self.payloads[offset] or {}

    def vector_store(self, name: str) -> AnyDenseStore:
        """The store of a dense vector name, plain or multivector."""
        return self.dense[name] if name in self.dense else self.multi[name]

    def vector(self, offset: int, name: str) -> np.ndarray | SparseVector | None:
        """A dense vector (1-D), a multivector (2-D) or a sparse vector; None if the point has none."""
        if name in self.dense:
            return self.dense[name].get(offset)
        if name in self.multi:
            return self.multi[name].get(offset)
        return self.sparse[name].get(offset)

    def has_vector(self, offset: int, name: str) -> bool:
        if name in self.dense:
            return bool(self.dense[name].present[offset])
        if name in self.multi:
            return bool(self.multi[name].present[offset])
        if name in self.sparse:
            return self.sparse[name].has(offset)
        return False

    def vector_mask(self, name: str) -> np.ndarray:
        """Which offsets hold the vector `name`."""
        if name in self.dense:
            present = np.asarray(self.dense[name].present.view(), dtype=np.bool_)
        elif name in self.multi:
            present = np.asarray(self.multi[name].present.view(), dtype=np.bool_)
        elif name in self.sparse:
            present = np.asarray(self.sparse[name].present.view(), dtype=np.bool_)
        else:
            return np.zeros(self.size, dtype=np.bool_)
        if len(present) < self.size:  # rows appended without this vector yet
            present = np.concatenate([present, np.zeros(self.size - len(present), dtype=np.bool_)])
        return present[: self.size]

    def vectors(self, offset: int) -> dict[str, np.ndarray | SparseVector]:
        out = {}
        for name in (*self.dense, *self.multi, *self.sparse):
            value = self.vector(offset, name)
            if value is not None:
                out[name] = value
        return out

    def indexed(self) -> bool:
        return self.sealed and all(s.index is not None or s.params.distance.value == "Manhattan" for s in self.dense.values())

    # ------------------------------------------------------------------ writes

    def upsert(self, point_id: PointId, vectors: dict, payload: dict[str, Any] | None) -> int:
        return self.upsert_many([(point_id, vectors, payload)])[0]

    def upsert_many(self, points: list[tuple[PointId, dict, dict[str, Any] | None]]) -> list[int]:
        """`upsert` of each point in turn (ids distinct), with each dense store's new rows
        added in one go."""
        assert not self.sealed, "points are only appended to the mutable segment"
        offsets = []
        for point_id, vectors, payload in points:
            self.delete(point_id)
            offset = len(self.ids)
            self.ids.append(point_id)
            self.offset_of[point_id] = offset
            self.alive.append(True)
            self.payloads.append(payload)
            for name, multi_store in self.multi.items():
                assert isinstance(multi_store, MultiDenseStore), "only the mutable segment takes new rows"
                multi_store.append(vectors.get(name))
            for name, sparse_store in self.sparse.items():
                sparse_store.append(vectors.get(name))
            offsets.append(offset)
        for name, store in self.dense.items():
            assert isinstance(store, DenseStore), "only the mutable segment takes new rows"
            store.extend([vectors.get(name) for _, vectors, _ in points])
        self.version += 1
        return offsets

    def delete(self, point_id: PointId) -> None:
        offset = self.offset_of.pop(point_id, None)
        if offset is None:
            return
        self.alive[offset] = False
        self.payloads[offset] = None
        for sparse_store in self.sparse.values():
            sparse_store.set(offset, None)
        for store in self.dense.values():
            store.set(offset, None)
        for multi_store in self.multi.values():
            multi_store.set(offset, None)
        self.version += 1

    def set_vector(self, point_id: PointId, name: str, vector: np.ndarray | SparseVector | None) -> None:
        """Set (or with None, remove) one named vector of a point of this segment."""
        offset = self.offset_of[point_id]
        # The name decides the kind: prepared vectors are arrays for dense names, SparseVector for sparse ones.
        if name in self.dense:
            self.dense[name].set(offset, cast("np.ndarray | None", vector))
        elif name in self.multi:
            self.multi[name].set(offset, cast("np.ndarray | None", vector))
        else:
            self.sparse[name].set(offset, cast("SparseVector | None", vector))
        self.version += 1

    def set_payload(self, point_id: PointId, payload: dict[str, Any]) -> None:
        self.payloads[self.offset_of[point_id]] = payload
        self.version += 1

    # ------------------------------------------------------------------ sealing and persistence

    def seal(self, config: CollectionConfig, directory: Path) -> Segment:
        """Write the immutable part (ids, dense rows) to `directory`; return the sealed segment."""
        directory.parent.mkdir(exist_ok=True)  # segments/ of a collection folder that must exist
        directory.mkdir(exist_ok=True)
        tables.save_ids(directory / IDS_FILE, self.ids)
        for name, store in self.dense.items():
            np.save(directory / _dense_file(name), store.rows())
        for name, multi_store in self.multi.items():
            assert isinstance(multi_store, MultiDenseStore), "only a mutable segment is sealed"
            save_multi(directory, name, *multi_store.compacted())
        return Segment.open_sealed(config, directory, self.sealed_state(), list(self.ids))

    def sealed_state(self) -> dict:
        """What can still change in a sealed segment: kept in the collection's snapshot."""
        return {
            "alive": self.live_mask(),
            "payloads": list(self.payloads),
            "present": {name: np.array(store.present.view(), dtype=np.bool_)
                        for name, store in (*self.dense.items(), *self.multi.items())},
            "sparse": {name: list(store.vectors) for name, store in self.sparse.items()},
        }

    @classmethod
    def open_sealed(cls, config: CollectionConfig, directory: Path, state: dict,
                    ids: list[PointId] | None = None) -> Segment:
        segment = cls.__new__(cls)
        segment.ids = ids if ids is not None else tables.load_ids(directory / IDS_FILE)
        count = len(segment.ids)
        alive = np.array(state["alive"], dtype=np.bool_)
        segment.alive = FlagArray(alive)
        segment.offset_of = {segment.ids[o]: o for o in np.flatnonzero(alive).tolist()}
        segment.payloads = list(state["payloads"])
        segment.dense = {}
        segment.multi = {}
        for name, params in config.dense.items():
            if is_multivector(params):
                segment.multi[name] = _load_multi(directory, name, config, state["present"][name], count)
                continue
            rows = tables.load_array(directory / _dense_file(name), "float32", 2, mmap=True)
            if rows.shape != (count, params.size):
                raise tables.TableFormatError(f"{directory / _dense_file(name)} holds {rows.shape} rows, "
                                              f"expected ({count}, {params.size})")
            store = SealedDenseStore(params, rows, state["present"][name])
            index_path = directory / _index_file(name)
            if index_path.exists():
                store.index = faiss.read_index(str(index_path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
            segment.dense[name] = store
        segment.sparse = {}
        for name in config.sparse:
            sparse_store = SparseStore()
            for vector in state["sparse"][name]:
                sparse_store.append(vector)
            segment.sparse[name] = sparse_store
        segment.directory = directory
        segment.version = 0
        segment.filter_columns = {}
        segment.state_file = None  # the state file that holds this version, once written
        segment.synced = False
        return segment

    def sync_files(self) -> None:
        """fsync the sealed files and their folders once (they never change afterwards)."""
        if self.synced:
            return
        sync_tree(self.sealed_directory)
        self.synced = True

    def save_state(self, tag: str) -> str:
        """Write the changeable state to a new folder `state-<tag>` unless the current version
        is on disk already; returns the folder name the checkpoint should reference. Older
        folders stay until the checkpoint that stops referencing them is in place."""
        if self.state_file is not None and self.state_version == self.version:
            return self.state_file
        name = f"{STATE_PREFIX}{tag}"
        tables.save_state(self.sealed_directory / name, self.sealed_state())
        sync_tree(self.sealed_directory / name)
        self.state_file, self.state_version = name, self.version
        return name

    @classmethod
    def load_sealed(cls, config: CollectionConfig, directory: Path, state_file: str) -> Segment:
        ids = tables.load_ids(directory / IDS_FILE)
        state = tables.load_state(directory / state_file, len(ids), list(config.dense), list(config.sparse))
        segment = cls.open_sealed(config, directory, state, ids)
        segment.state_file, segment.state_version = state_file, segment.version
        return segment

    def drop_old_states(self) -> None:
        for path in self.sealed_directory.glob(f"{STATE_PREFIX}*"):
            if path.name != self.state_file:
                shutil.rmtree(path, ignore_errors=True)

    def save_index(self, name: str, index: faiss.Index) -> None:
        """Persist a built graph next to the rows (atomically), then serve it memory-mapped."""
        path = self.sealed_directory / _index_file(name)
        tmp = path.with_suffix(".tmp")
        faiss.write_index(index, str(tmp))
        sync_file(tmp)
        tmp.replace(path)
        self.dense[name].index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)

    def export_live(self) -> dict:
        """Every live point as plain data (for the mutable segment in a snapshot, and merges)."""
        offsets = np.array(sorted(self.offset_of.values()), dtype=np.int64)
        dense = {}
        for name, store in self.dense.items():
            present = np.array(store.present.view()[offsets], dtype=np.bool_) if len(offsets) else np.zeros(0, bool)
            rows = np.array(store.rows()[offsets], dtype=np.float32) if len(offsets) else np.zeros((0, store.params.size), np.float32)
            dense[name] = (rows, present)
        return {
            "ids": [self.ids[o] for o in offsets.tolist()],
            "payloads": [self.payloads[o] for o in offsets.tolist()],
            "dense": dense,
            "multi": {name: [store.get(o) for o in offsets.tolist()] for name, store in self.multi.items()},
            "sparse": {name: [store.vectors[o] for o in offsets.tolist()] for name, store in self.sparse.items()},
        }

    @classmethod
    def from_export(cls, config: CollectionConfig, data: dict) -> Segment:
        segment = cls(config)
        segment.append_export(data)
        return segment

    def _append_rows(self, data: dict) -> None:
        """append_export for new ids and no multivectors, column by column: a checkpoint
        rebuilds the mutable segment this way while writers wait (per point it was ~10 us)."""
        ids = list(data["ids"])
        count = len(ids)
        if count == 0:
            return
        base = len(self.ids)
        self.ids.extend(ids)
        self.offset_of.update(zip(ids, range(base, base + count)))
        self.alive.extend(np.ones(count, dtype=np.bool_))
        self.payloads.extend(data["payloads"])
        for name, store in self.dense.items():
            assert isinstance(store, DenseStore), "only the mutable segment takes new rows"
            if name in data["dense"]:
                rows, present = data["dense"][name]
                present = np.asarray(present, dtype=np.bool_)
                rows = np.where(present[:, None], np.asarray(rows, dtype=np.float32), np.float32(0))
            else:
                present = np.zeros(count, dtype=np.bool_)
                rows = np.zeros((count, store.params.size), dtype=np.float32)
            store.index.add(np.ascontiguousarray(rows, dtype=np.float32))
            store.present.extend(present)
        for name, sparse_store in self.sparse.items():
            column = data["sparse"].get(name)
            for i in range(count):
                sparse_store.append(column[i] if column is not None else None)
        self.version += 1

    def append_export(self, data: dict) -> None:
        ids = data["ids"]
        if not self.sealed and not self.multi and not any(point_id in self.offset_of for point_id in ids):
            self._append_rows(data)
            return
        for i, point_id in enumerate(ids):
            vectors = {}
            for name, (rows, present) in data["dense"].items():
                if name in self.dense and present[i]:
                    vectors[name] = rows[i]
            for name, matrices in data.get("multi", {}).items():
                if name in self.multi and matrices[i] is not None:
                    vectors[name] = matrices[i]
            for name, column in data["sparse"].items():
                if name in self.sparse and column[i] is not None:
                    vectors[name] = column[i]
            self.upsert(point_id, vectors, data["payloads"][i])
