"""A segment: point ids, payloads, dense vectors (FAISS) and sparse postings, by offset.

Points are appended; replacing a point appends a new offset and retires the old one, so
offsets are stable while a query runs. Retired offsets are dropped at the next checkpoint.
"""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from vecinfer.domain.collections import CollectionConfig
from vecinfer.domain.points import PointId, SparseVector
from vecinfer.storage.dense import DenseStore
from vecinfer.storage.growable import GrowableArray
from vecinfer.storage.sparse import SparseStore


class Segment:
    def __init__(self, config: CollectionConfig):
        self.ids: list[PointId] = []
        self.offset_of: dict[PointId, int] = {}
        self.alive = GrowableArray(np.bool_, False)
        self.payloads: list[dict[str, Any] | None] = []
        self.dense = {name: DenseStore(params) for name, params in config.dense.items()}
        self.sparse = {name: SparseStore() for name in config.sparse}

    # ------------------------------------------------------------------ reads

    def __len__(self) -> int:
        return len(self.offset_of)

    def live_mask(self) -> np.ndarray:
        return self.alive.view().copy()

    def live_offsets(self) -> np.ndarray:
        return np.flatnonzero(self.alive.view())

    def iter_live(self) -> Iterator[tuple[int, PointId]]:
        for point_id, offset in self.offset_of.items():
            yield offset, point_id

    def payload(self, offset: int) -> dict[str, Any]:
        return self.payloads[offset] or {}

    def vector(self, offset: int, name: str):
        if name in self.dense:
            return self.dense[name].get(offset)
        return self.sparse[name].get(offset)

    def has_vector(self, offset: int, name: str) -> bool:
        if name in self.dense:
            return bool(self.dense[name].present[offset])
        if name in self.sparse:
            return self.sparse[name].has(offset)
        return False

    def vectors(self, offset: int) -> dict[str, np.ndarray | SparseVector]:
        out = {}
        for name in (*self.dense, *self.sparse):
            value = self.vector(offset, name)
            if value is not None:
                out[name] = value
        return out

    # ------------------------------------------------------------------ writes

    def upsert(self, point_id: PointId, vectors: dict, payload: dict[str, Any]) -> None:
        self.delete(point_id)
        offset = len(self.ids)
        self.ids.append(point_id)
        self.offset_of[point_id] = offset
        self.alive.append(True)
        self.payloads.append(payload)
        for name, store in self.dense.items():
            store.append(vectors.get(name))
        for name, store in self.sparse.items():
            store.append(vectors.get(name))

    def delete(self, point_id: PointId) -> None:
        offset = self.offset_of.pop(point_id, None)
        if offset is None:
            return
        self.alive[offset] = False
        self.payloads[offset] = None
        for store in self.sparse.values():
            store.set(offset, None)
        for store in self.dense.values():
            store.set(offset, None)

    def set_vector(self, point_id: PointId, name: str, vector) -> None:
        """Set (or with None, remove) one named vector of an existing point."""
        offset = self.offset_of[point_id]
        if name in self.dense:
            self.dense[name].set(offset, vector)
        else:
            self.sparse[name].set(offset, vector)

    def set_payload(self, point_id: PointId, payload: dict[str, Any]) -> None:
        self.payloads[self.offset_of[point_id]] = payload

    # ------------------------------------------------------------------ persistence

    def export_live(self) -> dict:
        """Every live point as plain data, for a checkpoint."""
        offsets = np.array(sorted(self.offset_of.values()), dtype=np.int64)
        dense = {}
        for name, store in self.dense.items():
            present = store.present.view()[offsets] if len(offsets) else np.zeros(0, bool)
            rows = store.rows()[offsets] if len(offsets) else np.zeros((0, store.params.size), np.float32)
            dense[name] = (rows.copy(), present.copy())
        return {
            "ids": [self.ids[o] for o in offsets.tolist()],
            "payloads": [self.payloads[o] for o in offsets.tolist()],
            "dense": dense,
            "sparse": {name: [store.vectors[o] for o in offsets.tolist()] for name, store in self.sparse.items()},
        }

    @classmethod
    def from_export(cls, config: CollectionConfig, data: dict) -> "Segment":
        segment = cls(config)
        for i, point_id in enumerate(data["ids"]):
            vectors = {}
            for name, (rows, present) in data["dense"].items():
                if name in segment.dense and present[i]:
                    vectors[name] = rows[i]
            for name, column in data["sparse"].items():
                if name in segment.sparse and column[i] is not None:
                    vectors[name] = column[i]
            segment.upsert(point_id, vectors, data["payloads"][i])
        return segment
