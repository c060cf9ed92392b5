"""Collection configuration."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Distance(str, Enum):
    COSINE = "Cosine"
    DOT = "Dot"
    EUCLID = "Euclid"
    MANHATTAN = "Manhattan"

    @property
    def higher_is_better(self) -> bool:
        return self in (Distance.COSINE, Distance.DOT)


class Modifier(str, Enum):
    NONE = "none"
    IDF = "idf"


@dataclass(frozen=True)
class DenseVectorParams:
    size: int
    distance: Distance


@dataclass(frozen=True)
class SparseVectorParams:
    modifier: Modifier = Modifier.NONE


@dataclass(frozen=True)
class HnswConfig:
    m: int = 16
    ef_construct: int = 100
    full_scan_threshold: int = 10_000


@dataclass(frozen=True)
class OptimizersConfig:
    # Kilobytes of vectors in a segment before it gets an HNSW index (Qdrant's default).
    indexing_threshold: int = 10_000
    deleted_threshold: float = 0.2
    vacuum_min_vector_number: int = 1000
    default_segment_number: int = 0
    flush_interval_sec: int = 5
    # Kilobytes of vectors a merged segment may reach; merges stop there (rewriting a big
    # segment for every small one would cost more than searching one more segment).
    max_segment_size: int = 200_000


@dataclass(frozen=True)
class CollectionConfig:
    # Dense vectors by name; the unnamed vector has the name "" (DEFAULT_VECTOR).
    dense: dict[str, DenseVectorParams] = field(default_factory=dict)
    sparse: dict[str, SparseVectorParams] = field(default_factory=dict)
    hnsw: HnswConfig = field(default_factory=HnswConfig)
    optimizers: OptimizersConfig = field(default_factory=OptimizersConfig)
    # True when the collection was created with one unnamed vector (VectorsConfig.params).
    unnamed: bool = False
    created_at: float = 0.0
    metadata: dict[str, Any] = field(default_factory=dict)


# Payload index kinds, named as in FieldType without the prefix.
FIELD_INDEX_TYPES = ("keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid")


@dataclass(frozen=True)
class PayloadIndex:
    type: str  # one of FIELD_INDEX_TYPES
    # Qdrant's REST shape, `type` included; None when the index was asked for by type alone.
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class PayloadIndexInfo:
    type: str  # one of FIELD_INDEX_TYPES
    points: int  # points with a value under the indexed key
    params: dict[str, Any] | None = None


@dataclass(frozen=True)
class CollectionInfo:
    """What `Collections/Get` and `GET /collections/{name}` report."""

    config: CollectionConfig
    # "green" when every segment is indexed, "yellow" while the optimizer has work queued.
    status: str
    segments_count: int
    points_count: int
    indexed_vectors_count: int
    payload_schema: dict[str, PayloadIndexInfo]


@dataclass(frozen=True)
class CollectionUpdate:
    """The settings `PATCH /collections/{name}` may change; None leaves a setting as it is.
    A `None` value inside `metadata` removes that key."""

    hnsw: dict[str, int] | None = None
    optimizers: dict[str, float | int] | None = None
    metadata: dict[str, Any] | None = None
