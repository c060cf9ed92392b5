"""Grouped queries (`group_by`): the query's ranked points gathered into groups by a payload key.

A point's keys are the values at `group_by` (arrays flattened one level, a value repeated in one
point counted once); only strings and integers are keys, and one value of any other type (bool,
float, null, object, array) keeps the whole point out of every group. Groups come in the order of
their best hit, each with at most `group_size` hits in score order; `limit` counts groups.

Qdrant's server fills groups with a few rounds of growing searches and may miss hits; this follows
qdrant-client's local mode, which is exhaustive: every prefetch runs with no limit, and the root
query is widened until the first `limit` groups are full or the ranking is exhausted.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from vecinfer.domain.groups import GroupId, GroupsRequest, PointGroup
from vecinfer.domain.points import PointId
from vecinfer.domain.query import (
    NearestMmr,
    PayloadSelector,
    Prefetch,
    QueryRequest,
    Record,
    Sample,
    ScoredPoint,
    VectorSelector,
)
from vecinfer.query import planner
from vecinfer.query.records import record_of, retrieve
from vecinfer.storage.filters import leaf_values

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection

# The first round fetches this many times `limit · group_size` points (at least FIRST_ROUND_MIN);
# each further round GROWTH times more, until the groups are settled.
FIRST_ROUND_FACTOR = 4
FIRST_ROUND_MIN = 64
GROWTH = 4


def group_keys(payload: Any, group_by: str) -> list[GroupId]:
    """The groups a point joins: its distinct string and integer values at `group_by`, in payload
    order; none when any value there has another type."""
    keys: dict[GroupId, None] = {}
    for value in leaf_values(payload, group_by):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            return []
        if isinstance(value, int) and not -(1 << 63) <= value < 1 << 64:
            return []  # a JSON number past i64/u64 is a float to Qdrant
        keys[value] = None
    return list(keys)


def lookup_id(key: GroupId) -> PointId | None:
    """The point id a group key names, if it is one (an unsigned integer or a UUID)."""
    if isinstance(key, int):
        return key if 0 <= key < 1 << 64 else None
    try:
        return str(uuid.UUID(key))
    except ValueError:
        return None


def _unlimited(node: Prefetch, limit: int) -> Prefetch:
    """A copy of the tree whose prefetches all fetch `limit` points (the root is set per round)."""
    return dataclasses.replace(node, prefetch=[dataclasses.replace(_unlimited(child, limit), limit=limit)
                                               for child in node.prefetch])


class _Groups:
    def __init__(self, request: GroupsRequest) -> None:
        self.request = request
        self.groups: dict[GroupId, list[tuple[ScoredPoint, int]]] = {}

    def add(self, collection: Collection, ranked: list[ScoredPoint]) -> None:
        """Gather ranked points (best first) into groups, from scratch."""
        self.groups = {}
        size = self.request.group_size
        for point in ranked:
            offset = collection.offset_of(point.id)
            if offset is None:
                continue
            for key in group_keys(collection.payload_at(offset), self.request.group_by):
                hits = self.groups.setdefault(key, [])
                if len(hits) < size:
                    hits.append((point, offset))

    def settled(self) -> bool:
        """More points further down the ranking can change nothing: the first `limit` groups are full."""
        first = list(self.groups.values())[: self.request.limit]
        return len(first) == self.request.limit and all(len(hits) >= self.request.group_size for hits in first)

    def best(self) -> list[tuple[GroupId, list[tuple[ScoredPoint, int]]]]:
        return list(self.groups.items())[: self.request.limit]


def _hit(collection: Collection, point: ScoredPoint, offset: int, query: QueryRequest) -> ScoredPoint:
    record = record_of(collection, offset, query.with_payload, query.with_vectors)
    return ScoredPoint(point.id, point.score, record.payload, record.vectors, point.order_value)


def _lookup(target: Collection, key: GroupId, with_payload: PayloadSelector,
            with_vectors: VectorSelector) -> Record | None:
    point_id = lookup_id(key)
    if point_id is None:
        return None
    found = retrieve(target, [point_id], with_payload, with_vectors)
    return found[0] if found else None


def execute(collection: Collection, request: GroupsRequest, lookup: Mapping[str, Collection] | None = None,
            lookup_target: Collection | None = None) -> list[PointGroup]:
    """Run a grouped query that `planner.validate` accepted; the caller holds the read locks of
    `collection`, of the `lookup_from` collections in `lookup` and of `lookup_target`, the
    collection `with_lookup` names."""
    everything = max(1, collection.points_count())
    root = _unlimited(request.query.root, everything)
    want = request.limit * request.group_size
    # MMR and random sampling are not prefixes of a longer ranking: those run once, in full.
    in_full = isinstance(root.query, (NearestMmr, Sample))
    fetch = everything if in_full else min(everything, max(FIRST_ROUND_MIN, FIRST_ROUND_FACTOR * want))
    groups = _Groups(request)
    while True:
        ranked = planner.execute(collection, QueryRequest(dataclasses.replace(root, limit=fetch)),
                                 dict(lookup or {}))
        groups.add(collection, ranked)
        if len(ranked) < fetch or fetch >= everything or groups.settled():
            break
        fetch = min(everything, fetch * GROWTH)

    out = []
    for key, hits in groups.best():
        group = PointGroup(key, [_hit(collection, point, offset, request.query) for point, offset in hits])
        if request.with_lookup is not None and lookup_target is not None:
            group.lookup = _lookup(lookup_target, key, request.with_lookup.with_payload,
                                   request.with_lookup.with_vectors)
        out.append(group)
    return out
