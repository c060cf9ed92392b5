import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from vecinfer_proto.qdrant import json_with_int_pb2 as _json_with_int_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Datatype(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Default: _ClassVar[Datatype]
    Float32: _ClassVar[Datatype]
    Uint8: _ClassVar[Datatype]
    Float16: _ClassVar[Datatype]
    Turbo4: _ClassVar[Datatype]
    Turbo8: _ClassVar[Datatype]
    Turbo16: _ClassVar[Datatype]

class Memory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MemoryUnknown: _ClassVar[Memory]
    Cold: _ClassVar[Memory]
    Cached: _ClassVar[Memory]
    Pinned: _ClassVar[Memory]

class Distance(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UnknownDistance: _ClassVar[Distance]
    Cosine: _ClassVar[Distance]
    Euclid: _ClassVar[Distance]
    Dot: _ClassVar[Distance]
    Manhattan: _ClassVar[Distance]

class Modifier(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    None: _ClassVar[Modifier]
    Idf: _ClassVar[Modifier]

class MultiVectorComparator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MaxSim: _ClassVar[MultiVectorComparator]

class ShardingMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Auto: _ClassVar[ShardingMethod]
    Custom: _ClassVar[ShardingMethod]

class CollectionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UnknownCollectionStatus: _ClassVar[CollectionStatus]
    Green: _ClassVar[CollectionStatus]
    Yellow: _ClassVar[CollectionStatus]
    Red: _ClassVar[CollectionStatus]
    Grey: _ClassVar[CollectionStatus]

class PayloadSchemaType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UnknownType: _ClassVar[PayloadSchemaType]
    Keyword: _ClassVar[PayloadSchemaType]
    Integer: _ClassVar[PayloadSchemaType]
    Float: _ClassVar[PayloadSchemaType]
    Geo: _ClassVar[PayloadSchemaType]
    Text: _ClassVar[PayloadSchemaType]
    Bool: _ClassVar[PayloadSchemaType]
    Datetime: _ClassVar[PayloadSchemaType]
    Uuid: _ClassVar[PayloadSchemaType]
Default: Datatype
Float32: Datatype
Uint8: Datatype
Float16: Datatype
Turbo4: Datatype
Turbo8: Datatype
Turbo16: Datatype
MemoryUnknown: Memory
Cold: Memory
Cached: Memory
Pinned: Memory
UnknownDistance: Distance
Cosine: Distance
Euclid: Distance
Dot: Distance
Manhattan: Distance
None: Modifier
Idf: Modifier
MaxSim: MultiVectorComparator
Auto: ShardingMethod
Custom: ShardingMethod
UnknownCollectionStatus: CollectionStatus
Green: CollectionStatus
Yellow: CollectionStatus
Red: CollectionStatus
Grey: CollectionStatus
UnknownType: PayloadSchemaType
Keyword: PayloadSchemaType
Integer: PayloadSchemaType
Float: PayloadSchemaType
Geo: PayloadSchemaType
Text: PayloadSchemaType
Bool: PayloadSchemaType
Datetime: PayloadSchemaType
Uuid: PayloadSchemaType

class MultiVectorConfig(_message.Message):
    __slots__ = ("comparator",)
    COMPARATOR_FIELD_NUMBER: _ClassVar[int]
    comparator: MultiVectorComparator
    def __init__(self, comparator: _Optional[_Union[MultiVectorComparator, str]] = ...) -> None: ...

class VectorParams(_message.Message):
    __slots__ = ("size", "distance", "hnsw_config", "on_disk", "datatype", "multivector_config", "memory")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    MULTIVECTOR_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    size: int
    distance: Distance
    hnsw_config: HnswConfigDiff
    on_disk: bool
    datatype: Datatype
    multivector_config: MultiVectorConfig
    memory: Memory
    def __init__(self, size: _Optional[int] = ..., distance: _Optional[_Union[Distance, str]] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., on_disk: _Optional[bool] = ..., datatype: _Optional[_Union[Datatype, str]] = ..., multivector_config: _Optional[_Union[MultiVectorConfig, _Mapping]] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class VectorParamsMap(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: VectorParams
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[VectorParams, _Mapping]] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.MessageMap[str, VectorParams]
    def __init__(self, map: _Optional[_Mapping[str, VectorParams]] = ...) -> None: ...

class VectorsConfig(_message.Message):
    __slots__ = ("params", "params_map")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_MAP_FIELD_NUMBER: _ClassVar[int]
    params: VectorParams
    params_map: VectorParamsMap
    def __init__(self, params: _Optional[_Union[VectorParams, _Mapping]] = ..., params_map: _Optional[_Union[VectorParamsMap, _Mapping]] = ...) -> None: ...

class SparseIndexConfig(_message.Message):
    __slots__ = ("full_scan_threshold", "on_disk", "datatype", "memory")
    FULL_SCAN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    full_scan_threshold: int
    on_disk: bool
    datatype: Datatype
    memory: Memory
    def __init__(self, full_scan_threshold: _Optional[int] = ..., on_disk: _Optional[bool] = ..., datatype: _Optional[_Union[Datatype, str]] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class SparseVectorParams(_message.Message):
    __slots__ = ("index", "modifier")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    MODIFIER_FIELD_NUMBER: _ClassVar[int]
    index: SparseIndexConfig
    modifier: Modifier
    def __init__(self, index: _Optional[_Union[SparseIndexConfig, _Mapping]] = ..., modifier: _Optional[_Union[Modifier, str]] = ...) -> None: ...

class SparseVectorConfig(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SparseVectorParams
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SparseVectorParams, _Mapping]] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.MessageMap[str, SparseVectorParams]
    def __init__(self, map: _Optional[_Mapping[str, SparseVectorParams]] = ...) -> None: ...

class HnswConfigDiff(_message.Message):
    __slots__ = ("m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk", "payload_m", "inline_storage", "memory")
    M_FIELD_NUMBER: _ClassVar[int]
    EF_CONSTRUCT_FIELD_NUMBER: _ClassVar[int]
    FULL_SCAN_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MAX_INDEXING_THREADS_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_M_FIELD_NUMBER: _ClassVar[int]
    INLINE_STORAGE_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    m: int
    ef_construct: int
    full_scan_threshold: int
    max_indexing_threads: int
    on_disk: bool
    payload_m: int
    inline_storage: bool
    memory: Memory
    def __init__(self, m: _Optional[int] = ..., ef_construct: _Optional[int] = ..., full_scan_threshold: _Optional[int] = ..., max_indexing_threads: _Optional[int] = ..., on_disk: _Optional[bool] = ..., payload_m: _Optional[int] = ..., inline_storage: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class WalConfigDiff(_message.Message):
    __slots__ = ("wal_capacity_mb", "wal_segments_ahead", "wal_retain_closed")
    WAL_CAPACITY_MB_FIELD_NUMBER: _ClassVar[int]
    WAL_SEGMENTS_AHEAD_FIELD_NUMBER: _ClassVar[int]
    WAL_RETAIN_CLOSED_FIELD_NUMBER: _ClassVar[int]
    wal_capacity_mb: int
    wal_segments_ahead: int
    wal_retain_closed: int
    def __init__(self, wal_capacity_mb: _Optional[int] = ..., wal_segments_ahead: _Optional[int] = ..., wal_retain_closed: _Optional[int] = ...) -> None: ...

class MaxOptimizationThreads(_message.Message):
    __slots__ = ("value", "setting")
    class Setting(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        Auto: _ClassVar[MaxOptimizationThreads.Setting]
    Auto: MaxOptimizationThreads.Setting
    VALUE_FIELD_NUMBER: _ClassVar[int]
    SETTING_FIELD_NUMBER: _ClassVar[int]
    value: int
    setting: MaxOptimizationThreads.Setting
    def __init__(self, value: _Optional[int] = ..., setting: _Optional[_Union[MaxOptimizationThreads.Setting, str]] = ...) -> None: ...

class OptimizersConfigDiff(_message.Message):
    __slots__ = ("deleted_threshold", "vacuum_min_vector_number", "default_segment_number", "max_segment_size", "memmap_threshold", "indexing_threshold", "flush_interval_sec", "deprecated_max_optimization_threads", "max_optimization_threads", "prevent_unoptimized")
    DELETED_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    VACUUM_MIN_VECTOR_NUMBER_FIELD_NUMBER: _ClassVar[int]
    DEFAULT_SEGMENT_NUMBER_FIELD_NUMBER: _ClassVar[int]
    MAX_SEGMENT_SIZE_FIELD_NUMBER: _ClassVar[int]
    MEMMAP_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    INDEXING_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    FLUSH_INTERVAL_SEC_FIELD_NUMBER: _ClassVar[int]
    DEPRECATED_MAX_OPTIMIZATION_THREADS_FIELD_NUMBER: _ClassVar[int]
    MAX_OPTIMIZATION_THREADS_FIELD_NUMBER: _ClassVar[int]
    PREVENT_UNOPTIMIZED_FIELD_NUMBER: _ClassVar[int]
    deleted_threshold: float
    vacuum_min_vector_number: int
    default_segment_number: int
    max_segment_size: int
    memmap_threshold: int
    indexing_threshold: int
    flush_interval_sec: int
    deprecated_max_optimization_threads: int
    max_optimization_threads: MaxOptimizationThreads
    prevent_unoptimized: bool
    def __init__(self, deleted_threshold: _Optional[float] = ..., vacuum_min_vector_number: _Optional[int] = ..., default_segment_number: _Optional[int] = ..., max_segment_size: _Optional[int] = ..., memmap_threshold: _Optional[int] = ..., indexing_threshold: _Optional[int] = ..., flush_interval_sec: _Optional[int] = ..., deprecated_max_optimization_threads: _Optional[int] = ..., max_optimization_threads: _Optional[_Union[MaxOptimizationThreads, _Mapping]] = ..., prevent_unoptimized: _Optional[bool] = ...) -> None: ...

class PayloadStorageParams(_message.Message):
    __slots__ = ("memory",)
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    memory: Memory
    def __init__(self, memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class IdTrackerParams(_message.Message):
    __slots__ = ("memory",)
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    memory: Memory
    def __init__(self, memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class CreateCollection(_message.Message):
    __slots__ = ("collection_name", "hnsw_config", "wal_config", "optimizers_config", "shard_number", "on_disk_payload", "timeout", "vectors_config", "replication_factor", "write_consistency_factor", "sharding_method", "sparse_vectors_config", "metadata", "payload", "id_tracker")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _json_with_int_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_json_with_int_pb2.Value, _Mapping]] = ...) -> None: ...
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    WAL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZERS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SHARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    WRITE_CONSISTENCY_FACTOR_FIELD_NUMBER: _ClassVar[int]
    SHARDING_METHOD_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ID_TRACKER_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    hnsw_config: HnswConfigDiff
    wal_config: WalConfigDiff
    optimizers_config: OptimizersConfigDiff
    shard_number: int
    on_disk_payload: bool
    timeout: int
    vectors_config: VectorsConfig
    replication_factor: int
    write_consistency_factor: int
    sharding_method: ShardingMethod
    sparse_vectors_config: SparseVectorConfig
    metadata: _containers.MessageMap[str, _json_with_int_pb2.Value]
    payload: PayloadStorageParams
    id_tracker: IdTrackerParams
    def __init__(self, collection_name: _Optional[str] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., wal_config: _Optional[_Union[WalConfigDiff, _Mapping]] = ..., optimizers_config: _Optional[_Union[OptimizersConfigDiff, _Mapping]] = ..., shard_number: _Optional[int] = ..., on_disk_payload: _Optional[bool] = ..., timeout: _Optional[int] = ..., vectors_config: _Optional[_Union[VectorsConfig, _Mapping]] = ..., replication_factor: _Optional[int] = ..., write_consistency_factor: _Optional[int] = ..., sharding_method: _Optional[_Union[ShardingMethod, str]] = ..., sparse_vectors_config: _Optional[_Union[SparseVectorConfig, _Mapping]] = ..., metadata: _Optional[_Mapping[str, _json_with_int_pb2.Value]] = ..., payload: _Optional[_Union[PayloadStorageParams, _Mapping]] = ..., id_tracker: _Optional[_Union[IdTrackerParams, _Mapping]] = ...) -> None: ...

class DeleteCollection(_message.Message):
    __slots__ = ("collection_name", "timeout")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    timeout: int
    def __init__(self, collection_name: _Optional[str] = ..., timeout: _Optional[int] = ...) -> None: ...

class CollectionOperationResponse(_message.Message):
    __slots__ = ("result", "time")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    result: bool
    time: float
    def __init__(self, result: _Optional[bool] = ..., time: _Optional[float] = ...) -> None: ...

class GetCollectionInfoRequest(_message.Message):
    __slots__ = ("collection_name",)
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    def __init__(self, collection_name: _Optional[str] = ...) -> None: ...

class GetCollectionInfoResponse(_message.Message):
    __slots__ = ("result", "time")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    result: CollectionInfo
    time: float
    def __init__(self, result: _Optional[_Union[CollectionInfo, _Mapping]] = ..., time: _Optional[float] = ...) -> None: ...

class ListCollectionsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CollectionDescription(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListCollectionsResponse(_message.Message):
    __slots__ = ("collections", "time")
    COLLECTIONS_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    collections: _containers.RepeatedCompositeFieldContainer[CollectionDescription]
    time: float
    def __init__(self, collections: _Optional[_Iterable[_Union[CollectionDescription, _Mapping]]] = ..., time: _Optional[float] = ...) -> None: ...

class CollectionExistsRequest(_message.Message):
    __slots__ = ("collection_name",)
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    def __init__(self, collection_name: _Optional[str] = ...) -> None: ...

class CollectionExists(_message.Message):
    __slots__ = ("exists",)
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    exists: bool
    def __init__(self, exists: _Optional[bool] = ...) -> None: ...

class CollectionExistsResponse(_message.Message):
    __slots__ = ("result", "time")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    result: CollectionExists
    time: float
    def __init__(self, result: _Optional[_Union[CollectionExists, _Mapping]] = ..., time: _Optional[float] = ...) -> None: ...

class OptimizerStatus(_message.Message):
    __slots__ = ("ok", "error")
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    error: str
    def __init__(self, ok: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class CollectionWarning(_message.Message):
    __slots__ = ("message",)
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    message: str
    def __init__(self, message: _Optional[str] = ...) -> None: ...

class UpdateQueueInfo(_message.Message):
    __slots__ = ("length", "deferred_points")
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    DEFERRED_POINTS_FIELD_NUMBER: _ClassVar[int]
    length: int
    deferred_points: int
    def __init__(self, length: _Optional[int] = ..., deferred_points: _Optional[int] = ...) -> None: ...

class KeywordIndexParams(_message.Message):
    __slots__ = ("is_tenant", "on_disk", "enable_hnsw", "memory", "nested")
    IS_TENANT_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    is_tenant: bool
    on_disk: bool
    enable_hnsw: bool
    memory: Memory
    nested: str
    def __init__(self, is_tenant: _Optional[bool] = ..., on_disk: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class IntegerIndexParams(_message.Message):
    __slots__ = ("lookup", "range", "is_principal", "on_disk", "enable_hnsw", "memory", "nested")
    LOOKUP_FIELD_NUMBER: _ClassVar[int]
    RANGE_FIELD_NUMBER: _ClassVar[int]
    IS_PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    lookup: bool
    range: bool
    is_principal: bool
    on_disk: bool
    enable_hnsw: bool
    memory: Memory
    nested: str
    def __init__(self, lookup: _Optional[bool] = ..., range: _Optional[bool] = ..., is_principal: _Optional[bool] = ..., on_disk: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class PayloadIndexParams(_message.Message):
    __slots__ = ("keyword_index_params", "integer_index_params")
    KEYWORD_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    INTEGER_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    keyword_index_params: KeywordIndexParams
    integer_index_params: IntegerIndexParams
    def __init__(self, keyword_index_params: _Optional[_Union[KeywordIndexParams, _Mapping]] = ..., integer_index_params: _Optional[_Union[IntegerIndexParams, _Mapping]] = ...) -> None: ...

class PayloadSchemaInfo(_message.Message):
    __slots__ = ("data_type", "params", "points")
    DATA_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    data_type: PayloadSchemaType
    params: PayloadIndexParams
    points: int
    def __init__(self, data_type: _Optional[_Union[PayloadSchemaType, str]] = ..., params: _Optional[_Union[PayloadIndexParams, _Mapping]] = ..., points: _Optional[int] = ...) -> None: ...

class CollectionParams(_message.Message):
    __slots__ = ("shard_number", "on_disk_payload", "vectors_config", "replication_factor", "write_consistency_factor", "read_fan_out_factor", "sharding_method", "sparse_vectors_config", "read_fan_out_delay_ms", "payload", "id_tracker")
    SHARD_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    WRITE_CONSISTENCY_FACTOR_FIELD_NUMBER: _ClassVar[int]
    READ_FAN_OUT_FACTOR_FIELD_NUMBER: _ClassVar[int]
    SHARDING_METHOD_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    READ_FAN_OUT_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ID_TRACKER_FIELD_NUMBER: _ClassVar[int]
    shard_number: int
    on_disk_payload: bool
    vectors_config: VectorsConfig
    replication_factor: int
    write_consistency_factor: int
    read_fan_out_factor: int
    sharding_method: ShardingMethod
    sparse_vectors_config: SparseVectorConfig
    read_fan_out_delay_ms: int
    payload: PayloadStorageParams
    id_tracker: IdTrackerParams
    def __init__(self, shard_number: _Optional[int] = ..., on_disk_payload: _Optional[bool] = ..., vectors_config: _Optional[_Union[VectorsConfig, _Mapping]] = ..., replication_factor: _Optional[int] = ..., write_consistency_factor: _Optional[int] = ..., read_fan_out_factor: _Optional[int] = ..., sharding_method: _Optional[_Union[ShardingMethod, str]] = ..., sparse_vectors_config: _Optional[_Union[SparseVectorConfig, _Mapping]] = ..., read_fan_out_delay_ms: _Optional[int] = ..., payload: _Optional[_Union[PayloadStorageParams, _Mapping]] = ..., id_tracker: _Optional[_Union[IdTrackerParams, _Mapping]] = ...) -> None: ...

class CollectionConfig(_message.Message):
    __slots__ = ("params", "hnsw_config", "optimizer_config", "wal_config", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _json_with_int_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_json_with_int_pb2.Value, _Mapping]] = ...) -> None: ...
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_CONFIG_FIELD_NUMBER: _ClassVar[int]
    WAL_CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    params: CollectionParams
    hnsw_config: HnswConfigDiff
    optimizer_config: OptimizersConfigDiff
    wal_config: WalConfigDiff
    metadata: _containers.MessageMap[str, _json_with_int_pb2.Value]
    def __init__(self, params: _Optional[_Union[CollectionParams, _Mapping]] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., optimizer_config: _Optional[_Union[OptimizersConfigDiff, _Mapping]] = ..., wal_config: _Optional[_Union[WalConfigDiff, _Mapping]] = ..., metadata: _Optional[_Mapping[str, _json_with_int_pb2.Value]] = ...) -> None: ...

class CollectionInfo(_message.Message):
    __slots__ = ("status", "optimizer_status", "segments_count", "config", "payload_schema", "points_count", "indexed_vectors_count", "warnings", "update_queue", "created_at")
    class PayloadSchemaEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: PayloadSchemaInfo
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[PayloadSchemaInfo, _Mapping]] = ...) -> None: ...
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZER_STATUS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_SCHEMA_FIELD_NUMBER: _ClassVar[int]
    POINTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    INDEXED_VECTORS_COUNT_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_QUEUE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    status: CollectionStatus
    optimizer_status: OptimizerStatus
    segments_count: int
    config: CollectionConfig
    payload_schema: _containers.MessageMap[str, PayloadSchemaInfo]
    points_count: int
    indexed_vectors_count: int
    warnings: _containers.RepeatedCompositeFieldContainer[CollectionWarning]
    update_queue: UpdateQueueInfo
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, status: _Optional[_Union[CollectionStatus, str]] = ..., optimizer_status: _Optional[_Union[OptimizerStatus, _Mapping]] = ..., segments_count: _Optional[int] = ..., config: _Optional[_Union[CollectionConfig, _Mapping]] = ..., payload_schema: _Optional[_Mapping[str, PayloadSchemaInfo]] = ..., points_count: _Optional[int] = ..., indexed_vectors_count: _Optional[int] = ..., warnings: _Optional[_Iterable[_Union[CollectionWarning, _Mapping]]] = ..., update_queue: _Optional[_Union[UpdateQueueInfo, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
