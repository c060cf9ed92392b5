"""Reads that return points as they are: retrieve by id, scroll in id order, count."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import numpy as np

from vecinfer.domain import json_path
from vecinfer.domain.filters import Filter
from vecinfer.domain.json_path import EVERY, Step, is_prefix
from vecinfer.domain.points import PointId, id_sort_key
from vecinfer.domain.query import PayloadSelector, Record, VectorSelector

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection


_DROP = object()


def _include(value: Any, path: tuple[Step, ...], patterns: list[tuple[Step, ...]]) -> Any:
    """Keep a node when its path and a pattern are prefixes one of the other (Qdrant's rule)."""
    if any(is_prefix(pattern, path) for pattern in patterns):
        return copy.deepcopy(value)
    if not any(is_prefix(path, pattern) for pattern in patterns):
        return _DROP
    if isinstance(value, dict):
        kept = {k: _include(v, (*path, Step(key=k)), patterns) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_include(item, (*path, EVERY), patterns) for item in value) if v is not _DROP]
    return value  # a scalar partway along a pattern is kept whole


def _exclude(value: Any, path: tuple[Step, ...], patterns: list[tuple[Step, ...]]) -> Any:
    """Drop a node when a pattern is a prefix of its path."""
    if any(is_prefix(pattern, path) for pattern in patterns):
        return _DROP
    if isinstance(value, dict):
        kept = {k: _exclude(v, (*path, Step(key=k)), patterns) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v is not _DROP}
    if isinstance(value, list):
        return [v for v in (_exclude(item, (*path, EVERY), patterns) for item in value) if v is not _DROP]
    return copy.deepcopy(value)


def select_payload(payload: dict[str, Any], selector: PayloadSelector) -> dict[str, Any] | None:
    if selector.include is not None:
        result = _include(payload, (), [json_path.parse(p) for p in selector.include])
        return {} if result is _DROP else dict(result)
    if selector.exclude is not None:
        result = _exclude(payload, (), [json_path.parse(p) for p in selector.exclude])
        return {} if result is _DROP else dict(result)
    if selector.enable:
        return copy.deepcopy(payload)
    return None


def select_vectors(vectors: dict, selector: VectorSelector) -> dict | None:
    if selector.names is not None:
        return {name: v for name, v in vectors.items() if name in selector.names}
    if selector.enable:
        return vectors
    return None


def record_of(collection: Collection, offset: int, with_payload: PayloadSelector, with_vectors: VectorSelector) -> Record:
    vectors = None
    if with_vectors.enable or with_vectors.names is not None:
        vectors = select_vectors(collection.vectors_at(offset), with_vectors)
    payload = None  # not even read when none is wanted (most queries)
    if with_payload.enable or with_payload.include is not None or with_payload.exclude is not None:
        payload = select_payload(collection.payload_at(offset), with_payload)
    return Record(collection.id_at(offset), payload, vectors)


def retrieve(collection: Collection, ids: list[PointId], with_payload: PayloadSelector, with_vectors: VectorSelector) -> list[Record]:
    out, seen = [], set()
    for point_id in ids:
        offset = collection.offset_of(point_id)
        if offset is not None and point_id not in seen:
            seen.add(point_id)
            out.append(record_of(collection, offset, with_payload, with_vectors))
    return out


def scroll(collection: Collection, flt: Filter | None, start: PointId | None, limit: int,
           with_payload: PayloadSelector, with_vectors: VectorSelector) -> tuple[list[Record], PointId | None]:
    """Points in id order from `start` (inclusive); also the id that starts the next page."""
    mask = collection.matching(flt)
    offsets = np.flatnonzero(mask).tolist()
    keyed = sorted((id_sort_key(collection.id_at(o)), o) for o in offsets)
    if start is not None:
        start_key = id_sort_key(start)
        keyed = [item for item in keyed if item[0] >= start_key]
    page = keyed[: limit + 1]
    next_offset = collection.id_at(page[limit][1]) if len(page) > limit else None
    records = [record_of(collection, o, with_payload, with_vectors) for _, o in page[:limit]]
    return records, next_offset


def count(collection: Collection, flt: Filter | None) -> int:
    return int(np.count_nonzero(collection.matching(flt)))
