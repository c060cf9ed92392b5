"""Facet counts: how many matching points hold each value of a payload key.

As Qdrant's server does, a facet reads a payload index able to serve `match` on the key
(keyword, integer with lookup, bool or uuid) and counts only the values of that index's type
(UUIDs reported hyphenated). A value repeated in one point counts once. Hits are ordered by count,
descending, then by value, ascending. Counts are always exact.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from vecinfer.domain import json_path
from vecinfer.domain.collections import PayloadIndex
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.groups import FacetHit, FacetRequest, FacetValue
from vecinfer.storage.filters import leaf_values

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection


def _keyword(value: Any) -> FacetValue | None:
    return value if isinstance(value, str) else None


def _integer(value: Any) -> FacetValue | None:
    """Integer indexes hold i64 values."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 63) <= value < 1 << 63:
        return value
    return None


def _boolean(value: Any) -> FacetValue | None:
    return value if isinstance(value, bool) else None


def _uuid(value: Any) -> FacetValue | None:
    if not isinstance(value, str):
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def _reader(index: PayloadIndex) -> Callable[[Any], FacetValue | None] | None:
    """How an index that serves `match` reads a payload value (None: a value it does not hold);
    None for an index that cannot serve a facet."""
    if index.type == "keyword":
        return _keyword
    if index.type == "integer":
        return _integer if (index.params or {}).get("lookup", True) is not False else None
    if index.type == "bool":
        return _boolean
    if index.type == "uuid":
        return _uuid
    return None


def facet_index(schema: Mapping[str, PayloadIndex], key: str) -> PayloadIndex | None:
    """The payload index on `key` (compared as JSON paths), if it can serve a facet."""
    path = json_path.parse(key)
    for indexed, index in schema.items():
        try:
            same = json_path.parse(indexed) == path
        except InvalidArgument:
            same = indexed == key
        if same and _reader(index) is not None:
            return index
    return None


def no_index(key: str) -> InvalidArgument:
    return InvalidArgument(
        f"Wrong input: No appropriate index for faceting: `{key}`. Please create one to facet on this field. "
        "Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas "
        "support Match conditions")


def _order(hit: tuple[FacetValue, int]) -> tuple[int, Any]:
    return -hit[1], hit[0]


def count(collection: Collection, request: FacetRequest) -> list[FacetHit]:
    """The facet of one key; the caller holds the collection's read lock."""
    index = facet_index(collection.payload_schema, request.key)
    read = _reader(index) if index is not None else None
    if read is None:
        raise no_index(request.key)
    counts: Counter[FacetValue] = Counter()
    for offset in np.flatnonzero(collection.matching(request.filter)).tolist():
        values = {v for v in (read(value) for value in leaf_values(collection.payload_at(offset), request.key))
                  if v is not None}
        counts.update(values)
    ranked = sorted(counts.items(), key=_order)[: request.limit]
    return [FacetHit(value, n) for value, n in ranked]
