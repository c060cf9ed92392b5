"""Grouped queries, facet counts and distance matrices (Qdrant's `query/groups`, `facet` and
`search/matrix`), as plain requests and results."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from vecinfer.domain.filters import Filter
from vecinfer.domain.points import PointId
from vecinfer.domain.query import PayloadSelector, QueryRequest, Record, ScoredPoint, VectorSelector

# A group key: a payload value that is a string or an integer (bools, floats and the rest are not keys).
GroupId = Union[int, str]
# A facet value: a keyword (UUIDs hyphenated), an integer or a bool.
FacetValue = Union[str, int, bool]

DEFAULT_GROUP_SIZE = 3
DEFAULT_FACET_LIMIT = 10
DEFAULT_SAMPLE = 10
DEFAULT_MATRIX_LIMIT = 3


@dataclass
class WithLookup:
    """Fetch, for each group, the point of `collection` whose id is the group key."""

    collection: str
    with_payload: PayloadSelector = field(default_factory=lambda: PayloadSelector(enable=True))
    with_vectors: VectorSelector = field(default_factory=VectorSelector)


@dataclass
class GroupsRequest:
    """`query.root.limit` is the number of groups; `query.offset` is always 0 (groups have none)."""

    query: QueryRequest
    group_by: str
    group_size: int = DEFAULT_GROUP_SIZE
    with_lookup: WithLookup | None = None

    @property
    def limit(self) -> int:
        return self.query.root.limit


@dataclass
class PointGroup:
    id: GroupId
    hits: list[ScoredPoint]
    lookup: Record | None = None


@dataclass
class FacetRequest:
    key: str
    filter: Filter | None = None
    limit: int = DEFAULT_FACET_LIMIT
    # Qdrant may approximate counts without it; vecinfer always counts exactly.
    exact: bool = False


@dataclass(frozen=True)
class FacetHit:
    value: FacetValue
    count: int


@dataclass
class MatrixRequest:
    filter: Filter | None = None
    sample: int = DEFAULT_SAMPLE
    limit: int = DEFAULT_MATRIX_LIMIT
    using: str | None = None


@dataclass
class DistanceMatrix:
    """The sampled points in id order, and per point (row) its nearest neighbours within the
    sample as (column index into `ids`, score), best first."""

    ids: list[PointId]
    rows: list[list[tuple[int, float]]]

    def pairs(self) -> list[tuple[PointId, PointId, float]]:
        return [(self.ids[i], self.ids[j], score) for i, row in enumerate(self.rows) for j, score in row]

    def offsets(self) -> tuple[list[int], list[int], list[float]]:
        """COO coordinates: (rows, columns, scores)."""
        rows = [i for i, row in enumerate(self.rows) for _ in row]
        cols = [j for row in self.rows for j, _ in row]
        scores = [score for row in self.rows for _, score in row]
        return rows, cols, scores
