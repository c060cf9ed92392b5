"""Reads that return points as they are: retrieve by id, scroll in id order, count."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING

import numpy as np

from vecinfer.domain.filters import Filter
from vecinfer.domain.points import PointId, id_sort_key
from vecinfer.domain.query import PayloadSelector, Record, VectorSelector
from vecinfer.query.filters import filter_mask, raw_values

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection


def select_payload(payload: dict, selector: PayloadSelector) -> dict | None:
    if selector.include is not None:
        out: dict = {}
        for key in selector.include:
            top = key.split(".")[0].split("[")[0]
            if top in payload:
                if top == key:
                    out[top] = copy.deepcopy(payload[top])
                else:
                    values = raw_values(payload, key)
                    if values:
                        target = out
                        parts = key.split(".")
                        for part in parts[:-1]:
                            target = target.setdefault(part, {})
                        target[parts[-1]] = copy.deepcopy(values[0] if len(values) == 1 else values)
        return out
    if selector.exclude is not None:
        out = copy.deepcopy(payload)
        for key in selector.exclude:
            out.pop(key, None)
        return out
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
    segment = collection.segments
    vectors = None
    if with_vectors.enable or with_vectors.names is not None:
        vectors = select_vectors(segment.vectors(offset), with_vectors)
    return Record(segment.id_at(offset), select_payload(segment.payload(offset), with_payload), vectors)


def retrieve(collection: Collection, ids: list[PointId], with_payload: PayloadSelector, with_vectors: VectorSelector) -> list[Record]:
    out, seen = [], set()
    for point_id in ids:
        offset = collection.segments.offset_of.get(point_id)
        if offset is not None and point_id not in seen:
            seen.add(point_id)
            out.append(record_of(collection, offset, with_payload, with_vectors))
    return out


def scroll(collection: Collection, flt: Filter | None, start: PointId | None, limit: int,
           with_payload: PayloadSelector, with_vectors: VectorSelector) -> tuple[list[Record], PointId | None]:
    """Points in id order from `start` (inclusive); also the id that starts the next page."""
    segment = collection.segments
    mask = filter_mask(segment, flt)
    offsets = np.flatnonzero(mask).tolist()
    keyed = sorted((id_sort_key(segment.id_at(o)), o) for o in offsets)
    if start is not None:
        start_key = id_sort_key(start)
        keyed = [item for item in keyed if item[0] >= start_key]
    page = keyed[: limit + 1]
    next_offset = segment.id_at(page[limit][1]) if len(page) > limit else None
    records = [record_of(collection, o, with_payload, with_vectors) for _, o in page[:limit]]
    return records, next_offset


def count(collection: Collection, flt: Filter | None) -> int:
    return int(filter_mask(collection.segments, flt).sum())
