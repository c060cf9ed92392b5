"""Query trees: a root query over nested prefetches, as in Qdrant's universal query API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

from vecinfer.domain.filters import Filter
from vecinfer.domain.formula import FormulaQuery
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


@dataclass
class Example:
    """A vector slot of recommend, discover, context, MMR or relevance feedback: a vector or an
    inference object (`vector`, replaced by its embedding before the query runs), or a stored
    point (`point_id`, its vector looked up in this collection or `lookup_from`)."""

    vector: VectorValue | None = None
    point_id: PointId | None = None


RECOMMEND_STRATEGIES = ("average_vector", "best_score", "sum_scores")


@dataclass(frozen=True)
class Recommend:
    positive: tuple[Example, ...] = ()
    negative: tuple[Example, ...] = ()
    strategy: str = "average_vector"  # one of RECOMMEND_STRATEGIES


@dataclass(frozen=True)
class ContextPair:
    positive: Example
    negative: Example


@dataclass(frozen=True)
class Discover:
    target: Example
    pairs: tuple[ContextPair, ...] = ()


@dataclass(frozen=True)
class Context:
    pairs: tuple[ContextPair, ...] = ()


@dataclass(frozen=True)
class OrderBy:
    key: str
    descending: bool = False
    # Inclusive bound: a number, or an RFC 3339 datetime string.
    start_from: float | str | None = None


@dataclass(frozen=True)
class Sample:
    """`sample: random`: matching points in random order, score 1.0."""


@dataclass(frozen=True)
class NearestMmr:
    """`nearest` re-ranked by Maximal Marginal Relevance."""

    nearest: Example
    diversity: float = 0.5
    candidates_limit: int | None = None  # default: the node's limit


@dataclass(frozen=True)
class FeedbackItem:
    example: Example
    score: float


@dataclass(frozen=True)
class RelevanceFeedback:
    """The naive strategy: a·sim(target, x) + Σ conf^b · c · (sim(A, x) − sim(B, x))."""

    target: Example
    feedback: tuple[FeedbackItem, ...] = ()
    a: float = 1.0
    b: float = 1.0
    c: float = 1.0


QueryKind = Union[Nearest, Fusion, Recommend, Discover, Context, OrderBy, Sample, NearestMmr, RelevanceFeedback,
                  FormulaQuery]


def examples_of(query: object) -> list[Example]:
    """The example slots of a query kind that takes examples (recommend, discover, context,
    MMR, relevance feedback); none for the others."""
    if isinstance(query, Recommend):
        return [*query.positive, *query.negative]
    if isinstance(query, (Discover, Context)):
        pairs = [e for pair in query.pairs for e in (pair.positive, pair.negative)]
        return [query.target, *pairs] if isinstance(query, Discover) else pairs
    if isinstance(query, NearestMmr):
        return [query.nearest]
    if isinstance(query, RelevanceFeedback):
        return [query.target, *(item.example for item in query.feedback)]
    return []


@dataclass(frozen=True)
class LookupFrom:
    """Where point ids inside a query find their vectors: another collection, another vector name."""

    collection: str
    vector: str | None = None


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
    lookup_from: LookupFrom | None = None


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
    # The value an order_by query sorted by (datetimes as microseconds since the epoch).
    order_value: float | int | None = None


@dataclass
class Record:
    id: PointId
    payload: dict | None = None
    vectors: dict | None = None
    order_value: float | int | None = None  # set by a scroll with order_by


@dataclass
class ScrollRequest:
    filter: Filter | None = None
    offset: PointId | None = None  # inclusive: the first id of the page
    limit: int = 10
    with_payload: PayloadSelector = field(default_factory=lambda: PayloadSelector(enable=True))
    with_vectors: VectorSelector = field(default_factory=VectorSelector)
    order_by: OrderBy | None = None  # no paging then: next_page_offset stays None


@dataclass
class ScrollPage:
    points: list[Record]
    next_page_offset: PointId | None
