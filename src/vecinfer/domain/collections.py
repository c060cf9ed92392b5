"""Collection configuration."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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


# Settings vecinfer keeps and returns but does not act on (storage placement, quantization,
# distribution) are held in Qdrant's REST shape, e.g. `{"scalar": {"type": "int8"}}`: the doors
# check them against Qdrant's schema, storage saves them, `get_collection` returns them.
Settings = dict[str, Any]


@dataclass(frozen=True)
class DenseVectorParams:
    size: int
    distance: Distance
    # Per-vector overrides, REST shape: `hnsw_config` (HnswConfigDiff), `quantization_config`,
    # `on_disk`, `memory`, `datatype` ("float32" only: what vecinfer stores).
    extra: Settings = field(default_factory=dict)


@dataclass(frozen=True)
class SparseVectorParams:
    modifier: Modifier = Modifier.NONE
    # `index` (SparseIndexParams, REST shape); kept and returned.
    extra: Settings = field(default_factory=dict)


@dataclass(frozen=True)
class HnswConfig:
    m: int = 16
    ef_construct: int = 100
    full_scan_threshold: int = 10_000
    # Kept and returned: `max_indexing_threads`, `on_disk`, `payload_m`, `inline_storage`, `memory`.
    extra: Settings = field(default_factory=dict)


# Qdrant's default segment size limit per CPU when `max_segment_size` is unset.
MAX_SEGMENT_PER_CPU_KB = 200_000


@dataclass(frozen=True)
class OptimizersConfig:
    # Kilobytes of vectors in a segment before it gets an HNSW index (Qdrant's default).
    indexing_threshold: int = 10_000
    deleted_threshold: float = 0.2
    vacuum_min_vector_number: int = 1000
    default_segment_number: int = 0
    flush_interval_sec: int = 5
    # Kilobytes of vectors a merged segment may reach; merges stop there (rewriting a big
    # segment for every small one would cost more than searching one more segment). None (as
    # in Qdrant, and reported as unset): MAX_SEGMENT_PER_CPU_KB per CPU.
    max_segment_size: int | None = None
    # Kept and returned: `memmap_threshold`, `max_optimization_threads`, `prevent_unoptimized`.
    extra: Settings = field(default_factory=dict)


_HNSW_CORE = ("m", "ef_construct", "full_scan_threshold")
_OPTIMIZERS_CORE = ("deleted_threshold", "vacuum_min_vector_number", "default_segment_number", "max_segment_size",
                    "indexing_threshold", "flush_interval_sec")


def hnsw_with(base: HnswConfig, change: Settings) -> HnswConfig:
    """`base` with the HnswConfigDiff `change` (REST shape) applied."""
    core = {k: int(v) for k, v in change.items() if k in _HNSW_CORE}
    extra = {**base.extra, **{k: v for k, v in change.items() if k not in _HNSW_CORE}}
    return replace(base, **core, extra=extra)


def optimizers_with(base: OptimizersConfig, change: Settings) -> OptimizersConfig:
    """`base` with the OptimizersConfigDiff `change` (REST shape) applied."""
    core: dict[str, Any] = {k: (float(v) if k == "deleted_threshold" else int(v))
                            for k, v in change.items() if k in _OPTIMIZERS_CORE}
    extra = {**base.extra, **{k: v for k, v in change.items() if k not in _OPTIMIZERS_CORE}}
    return replace(base, **core, extra=extra)


@dataclass(frozen=True)
class StrictModeConfig:
    """Qdrant's strict mode: limits checked only while `enabled` is true; None = no limit."""

    enabled: bool | None = None
    max_query_limit: int | None = None
    max_timeout: int | None = None
    unindexed_filtering_retrieve: bool | None = None
    unindexed_filtering_update: bool | None = None
    search_max_hnsw_ef: int | None = None
    search_allow_exact: bool | None = None
    search_max_oversampling: float | None = None
    upsert_max_batchsize: int | None = None
    search_max_batchsize: int | None = None
    max_collection_vector_size_bytes: int | None = None
    read_rate_limit: int | None = None
    write_rate_limit: int | None = None
    max_collection_payload_size_bytes: int | None = None
    filter_max_conditions: int | None = None
    condition_max_size: int | None = None
    max_points_count: int | None = None
    max_payload_index_count: int | None = None
    max_resident_memory_percent: int | None = None
    # By vector name: the most indices a sparse vector / vectors a multivector may have.
    sparse_max_length: dict[str, int] | None = None
    multivector_max_vectors: dict[str, int] | None = None

    @property
    def active(self) -> bool:
        return bool(self.enabled)


_STRICT_MAPS = {"sparse_max_length": ("sparse_config", "max_length"),
                "multivector_max_vectors": ("multivector_config", "max_vectors")}


def strict_mode_from(settings: Settings) -> StrictModeConfig:
    """From Qdrant's REST shape (`{"enabled": true, "sparse_config": {"v": {"max_length": 9}}}`),
    already checked against the schema by a door."""
    values: dict[str, Any] = {}
    for name in StrictModeConfig.__dataclass_fields__:
        if name in _STRICT_MAPS:
            key, inner = _STRICT_MAPS[name]
            if settings.get(key) is not None:
                values[name] = {v: limits[inner] for v, limits in settings[key].items() if limits.get(inner) is not None}
        elif settings.get(name) is not None:
            values[name] = settings[name]
    return StrictModeConfig(**values)


def strict_mode_settings(config: StrictModeConfig) -> Settings:
    """Qdrant's REST shape, set fields only."""
    out: Settings = {}
    for name in StrictModeConfig.__dataclass_fields__:
        value = getattr(config, name)
        if value is None:
            continue
        if name in _STRICT_MAPS:
            key, inner = _STRICT_MAPS[name]
            out[key] = {v: {inner: limit} for v, limit in value.items()}
        else:
            out[name] = value
    return out


def merged_strict_mode(current: StrictModeConfig | None, change: Settings) -> StrictModeConfig:
    """`current` with the fields `change` sets (Qdrant merges a strict-mode update field by field)."""
    settings = strict_mode_settings(current) if current is not None else {}
    for key, value in change.items():
        if key in ("sparse_config", "multivector_config") and isinstance(value, dict):
            settings[key] = {**settings.get(key, {}), **value}
        else:
            settings[key] = value
    return strict_mode_from(settings)


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
    # WalConfig, REST shape (`wal_capacity_mb`, `wal_segments_ahead`, `wal_retain_closed`).
    wal: Settings = field(default_factory=lambda: {"wal_capacity_mb": 32, "wal_segments_ahead": 0})
    # CollectionParams beyond vectors, REST shape: `shard_number`, `replication_factor`,
    # `write_consistency_factor`, `read_fan_out_factor`, `read_fan_out_delay_ms`,
    # `on_disk_payload`, `sharding_method` ("auto"), `payload`, `id_tracker`.
    params: Settings = field(default_factory=lambda: {"shard_number": 1, "replication_factor": 1,
                                                      "write_consistency_factor": 1, "on_disk_payload": True})
    quantization: Settings | None = None  # `{"scalar"|"product"|"binary"|"turbo": {...}}`; searches ignore it
    strict_mode: StrictModeConfig | None = None

    def hnsw_for(self, name: str) -> HnswConfig:
        """The graph settings of one dense vector: the collection's, overridden by the vector's own."""
        params = self.dense.get(name)
        own = params.extra.get("hnsw_config") if params is not None else None
        if not own:
            return self.hnsw
        core = {k: v for k, v in own.items() if k in ("m", "ef_construct", "full_scan_threshold")}
        return replace(self.hnsw, **core)


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
class VectorUpdate:
    """Changes to one vector's settings (REST shape of VectorParamsDiff / SparseVectorParams)."""

    hnsw: Settings | None = None  # HnswConfigDiff, merged into the vector's own
    quantization: Settings | None = None  # a config, or {} to disable
    on_disk: bool | None = None
    memory: str | None = None
    sparse_index: Settings | None = None  # SparseIndexParams, merged
    modifier: Modifier | None = None


@dataclass(frozen=True)
class CollectionUpdate:
    """The settings `Collections/Update` and `PATCH /collections/{name}` may change; None
    leaves a setting as it is. A `None` value inside `metadata` removes that key."""

    hnsw: dict[str, Any] | None = None  # HnswConfigDiff: m/ef_construct/full_scan_threshold ints, extras as given
    optimizers: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    params: Settings | None = None  # CollectionParamsDiff, merged
    quantization: Settings | None = None  # a config, or {} for "Disabled"
    strict_mode: Settings | None = None  # StrictModeConfig fields to change
    vectors: dict[str, VectorUpdate] | None = None  # by name ("" = unnamed), dense or sparse


@dataclass(frozen=True)
class CreateAlias:
    """Points `alias` at `collection` (re-pointing it if it exists)."""

    collection: str
    alias: str


@dataclass(frozen=True)
class RenameAlias:
    old: str
    new: str


@dataclass(frozen=True)
class DeleteAlias:
    alias: str


AliasAction = CreateAlias | RenameAlias | DeleteAlias
