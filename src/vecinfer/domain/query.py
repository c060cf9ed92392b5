"""Query trees: a root query over nested prefetches, as in Qdrant's universal query API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from vecinfer.domain.filters import Filter
from vecinfer.domain.points import PointId, VectorValue


@dataclass(frozen=True)
class Nearest:
    """Nearest neighbours of a vector, an inference object, or a stored point (by id)."""

    vector: VectorValue | None = None
    point_id: PointId | None = None


@dataclass(frozen=True)
class Fusion:
    """Fuse the ranked lists of the prefetches. method: "rrf" or "dbsf"."""

    method: str
    k: int = 2
    weights: tuple[float, ...] = ()


QueryKind = Union[Nearest, Fusion]


@dataclass
class SearchParams:
    exact: bool = False
    hnsw_ef: int | None = None
    idf_corpus: Filter | None = None
    # `quantization.oversampling`: searches are full precision, but strict mode bounds it.
    oversampling: float | None = None


@dataclass
class Prefetch:
    prefetch: list[Prefetch] = field(default_factory=list)
    query: QueryKind | None = None
    using: str | None = None
    filter: Filter | None = None
    params: SearchParams = field(default_factory=SearchParams)
    score_threshold: float | None = None
    limit: int = 10


@dataclass
class PayloadSelector:
    """Which payload keys to return: none, all, only `include`, or all but `exclude`."""

    enable: bool = False
    include: tuple[str, ...] | None = None
    exclude: tuple[str, ...] | None = None


@dataclass
class VectorSelector:
    enable: bool = False
    names: tuple[str, ...] | None = None


@dataclass
class QueryRequest:
    root: Prefetch
    offset: int = 0
    with_payload: PayloadSelector = field(default_factory=PayloadSelector)
    with_vectors: VectorSelector = field(default_factory=VectorSelector)


@dataclass
class ScoredPoint:
    id: PointId
    score: float
    payload: dict | None = None
    vectors: dict | None = None


@dataclass
class Record:
    id: PointId
    payload: dict | None = None
    vectors: dict | None = None


@dataclass
class ScrollRequest:
    filter: Filter | None = None
    offset: PointId | None = None  # inclusive: the first id of the page
    limit: int = 10
    with_payload: PayloadSelector = field(default_factory=lambda: PayloadSelector(enable=True))
    with_vectors: VectorSelector = field(default_factory=VectorSelector)


@dataclass
class ScrollPage:
    points: list[Record]
    next_page_offset: PointId | None
