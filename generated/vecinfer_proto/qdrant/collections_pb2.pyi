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

class QuantizationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    UnknownQuantization: _ClassVar[QuantizationType]
    Int8: _ClassVar[QuantizationType]

class CompressionRatio(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    x4: _ClassVar[CompressionRatio]
    x8: _ClassVar[CompressionRatio]
    x16: _ClassVar[CompressionRatio]
    x32: _ClassVar[CompressionRatio]
    x64: _ClassVar[CompressionRatio]

class BinaryQuantizationEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OneBit: _ClassVar[BinaryQuantizationEncoding]
    TwoBits: _ClassVar[BinaryQuantizationEncoding]
    OneAndHalfBits: _ClassVar[BinaryQuantizationEncoding]

class TurboQuantBitSize(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Bits1: _ClassVar[TurboQuantBitSize]
    Bits1_5: _ClassVar[TurboQuantBitSize]
    Bits2: _ClassVar[TurboQuantBitSize]
    Bits4: _ClassVar[TurboQuantBitSize]
    Bits8: _ClassVar[TurboQuantBitSize]

class TokenizerType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Unknown: _ClassVar[TokenizerType]
    Prefix: _ClassVar[TokenizerType]
    Whitespace: _ClassVar[TokenizerType]
    Word: _ClassVar[TokenizerType]
    Multilingual: _ClassVar[TokenizerType]
    Code: _ClassVar[TokenizerType]

class TextScoringType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    Bm25: _ClassVar[TextScoringType]
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
UnknownQuantization: QuantizationType
Int8: QuantizationType
x4: CompressionRatio
x8: CompressionRatio
x16: CompressionRatio
x32: CompressionRatio
x64: CompressionRatio
OneBit: BinaryQuantizationEncoding
TwoBits: BinaryQuantizationEncoding
OneAndHalfBits: BinaryQuantizationEncoding
Bits1: TurboQuantBitSize
Bits1_5: TurboQuantBitSize
Bits2: TurboQuantBitSize
Bits4: TurboQuantBitSize
Bits8: TurboQuantBitSize
Unknown: TokenizerType
Prefix: TokenizerType
Whitespace: TokenizerType
Word: TokenizerType
Multilingual: TokenizerType
Code: TokenizerType
Bm25: TextScoringType

class MultiVectorConfig(_message.Message):
    __slots__ = ("comparator",)
    COMPARATOR_FIELD_NUMBER: _ClassVar[int]
    comparator: MultiVectorComparator
    def __init__(self, comparator: _Optional[_Union[MultiVectorComparator, str]] = ...) -> None: ...

class VectorParams(_message.Message):
    __slots__ = ("size", "distance", "hnsw_config", "quantization_config", "on_disk", "datatype", "multivector_config", "memory")
    SIZE_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    DATATYPE_FIELD_NUMBER: _ClassVar[int]
    MULTIVECTOR_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    size: int
    distance: Distance
    hnsw_config: HnswConfigDiff
    quantization_config: QuantizationConfig
    on_disk: bool
    datatype: Datatype
    multivector_config: MultiVectorConfig
    memory: Memory
    def __init__(self, size: _Optional[int] = ..., distance: _Optional[_Union[Distance, str]] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., quantization_config: _Optional[_Union[QuantizationConfig, _Mapping]] = ..., on_disk: _Optional[bool] = ..., datatype: _Optional[_Union[Datatype, str]] = ..., multivector_config: _Optional[_Union[MultiVectorConfig, _Mapping]] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

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
    __slots__ = ("collection_name", "hnsw_config", "wal_config", "optimizers_config", "shard_number", "on_disk_payload", "timeout", "vectors_config", "replication_factor", "write_consistency_factor", "quantization_config", "sharding_method", "sparse_vectors_config", "strict_mode_config", "metadata", "payload", "id_tracker")
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
    QUANTIZATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SHARDING_METHOD_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STRICT_MODE_CONFIG_FIELD_NUMBER: _ClassVar[int]
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
    quantization_config: QuantizationConfig
    sharding_method: ShardingMethod
    sparse_vectors_config: SparseVectorConfig
    strict_mode_config: StrictModeConfig
    metadata: _containers.MessageMap[str, _json_with_int_pb2.Value]
    payload: PayloadStorageParams
    id_tracker: IdTrackerParams
    def __init__(self, collection_name: _Optional[str] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., wal_config: _Optional[_Union[WalConfigDiff, _Mapping]] = ..., optimizers_config: _Optional[_Union[OptimizersConfigDiff, _Mapping]] = ..., shard_number: _Optional[int] = ..., on_disk_payload: _Optional[bool] = ..., timeout: _Optional[int] = ..., vectors_config: _Optional[_Union[VectorsConfig, _Mapping]] = ..., replication_factor: _Optional[int] = ..., write_consistency_factor: _Optional[int] = ..., quantization_config: _Optional[_Union[QuantizationConfig, _Mapping]] = ..., sharding_method: _Optional[_Union[ShardingMethod, str]] = ..., sparse_vectors_config: _Optional[_Union[SparseVectorConfig, _Mapping]] = ..., strict_mode_config: _Optional[_Union[StrictModeConfig, _Mapping]] = ..., metadata: _Optional[_Mapping[str, _json_with_int_pb2.Value]] = ..., payload: _Optional[_Union[PayloadStorageParams, _Mapping]] = ..., id_tracker: _Optional[_Union[IdTrackerParams, _Mapping]] = ...) -> None: ...

class BinaryQuantizationQueryEncoding(_message.Message):
    __slots__ = ("setting",)
    class Setting(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        Default: _ClassVar[BinaryQuantizationQueryEncoding.Setting]
        Binary: _ClassVar[BinaryQuantizationQueryEncoding.Setting]
        Scalar4Bits: _ClassVar[BinaryQuantizationQueryEncoding.Setting]
        Scalar8Bits: _ClassVar[BinaryQuantizationQueryEncoding.Setting]
    Default: BinaryQuantizationQueryEncoding.Setting
    Binary: BinaryQuantizationQueryEncoding.Setting
    Scalar4Bits: BinaryQuantizationQueryEncoding.Setting
    Scalar8Bits: BinaryQuantizationQueryEncoding.Setting
    SETTING_FIELD_NUMBER: _ClassVar[int]
    setting: BinaryQuantizationQueryEncoding.Setting
    def __init__(self, setting: _Optional[_Union[BinaryQuantizationQueryEncoding.Setting, str]] = ...) -> None: ...

class ScalarQuantization(_message.Message):
    __slots__ = ("type", "quantile", "always_ram", "memory")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    QUANTILE_FIELD_NUMBER: _ClassVar[int]
    ALWAYS_RAM_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    type: QuantizationType
    quantile: float
    always_ram: bool
    memory: Memory
    def __init__(self, type: _Optional[_Union[QuantizationType, str]] = ..., quantile: _Optional[float] = ..., always_ram: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class ProductQuantization(_message.Message):
    __slots__ = ("compression", "always_ram", "memory")
    COMPRESSION_FIELD_NUMBER: _ClassVar[int]
    ALWAYS_RAM_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    compression: CompressionRatio
    always_ram: bool
    memory: Memory
    def __init__(self, compression: _Optional[_Union[CompressionRatio, str]] = ..., always_ram: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class BinaryQuantization(_message.Message):
    __slots__ = ("always_ram", "encoding", "query_encoding", "memory")
    ALWAYS_RAM_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    QUERY_ENCODING_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    always_ram: bool
    encoding: BinaryQuantizationEncoding
    query_encoding: BinaryQuantizationQueryEncoding
    memory: Memory
    def __init__(self, always_ram: _Optional[bool] = ..., encoding: _Optional[_Union[BinaryQuantizationEncoding, str]] = ..., query_encoding: _Optional[_Union[BinaryQuantizationQueryEncoding, _Mapping]] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class TurboQuantization(_message.Message):
    __slots__ = ("always_ram", "bits", "memory")
    ALWAYS_RAM_FIELD_NUMBER: _ClassVar[int]
    BITS_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    always_ram: bool
    bits: TurboQuantBitSize
    memory: Memory
    def __init__(self, always_ram: _Optional[bool] = ..., bits: _Optional[_Union[TurboQuantBitSize, str]] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class QuantizationConfig(_message.Message):
    __slots__ = ("scalar", "product", "binary", "turboquant")
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    TURBOQUANT_FIELD_NUMBER: _ClassVar[int]
    scalar: ScalarQuantization
    product: ProductQuantization
    binary: BinaryQuantization
    turboquant: TurboQuantization
    def __init__(self, scalar: _Optional[_Union[ScalarQuantization, _Mapping]] = ..., product: _Optional[_Union[ProductQuantization, _Mapping]] = ..., binary: _Optional[_Union[BinaryQuantization, _Mapping]] = ..., turboquant: _Optional[_Union[TurboQuantization, _Mapping]] = ...) -> None: ...

class Disabled(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QuantizationConfigDiff(_message.Message):
    __slots__ = ("scalar", "product", "disabled", "binary", "turboquant")
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    BINARY_FIELD_NUMBER: _ClassVar[int]
    TURBOQUANT_FIELD_NUMBER: _ClassVar[int]
    scalar: ScalarQuantization
    product: ProductQuantization
    disabled: Disabled
    binary: BinaryQuantization
    turboquant: TurboQuantization
    def __init__(self, scalar: _Optional[_Union[ScalarQuantization, _Mapping]] = ..., product: _Optional[_Union[ProductQuantization, _Mapping]] = ..., disabled: _Optional[_Union[Disabled, _Mapping]] = ..., binary: _Optional[_Union[BinaryQuantization, _Mapping]] = ..., turboquant: _Optional[_Union[TurboQuantization, _Mapping]] = ...) -> None: ...

class StrictModeSparse(_message.Message):
    __slots__ = ("max_length",)
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    max_length: int
    def __init__(self, max_length: _Optional[int] = ...) -> None: ...

class StrictModeSparseConfig(_message.Message):
    __slots__ = ("sparse_config",)
    class SparseConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StrictModeSparse
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StrictModeSparse, _Mapping]] = ...) -> None: ...
    SPARSE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    sparse_config: _containers.MessageMap[str, StrictModeSparse]
    def __init__(self, sparse_config: _Optional[_Mapping[str, StrictModeSparse]] = ...) -> None: ...

class StrictModeMultivector(_message.Message):
    __slots__ = ("max_vectors",)
    MAX_VECTORS_FIELD_NUMBER: _ClassVar[int]
    max_vectors: int
    def __init__(self, max_vectors: _Optional[int] = ...) -> None: ...

class StrictModeMultivectorConfig(_message.Message):
    __slots__ = ("multivector_config",)
    class MultivectorConfigEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: StrictModeMultivector
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[StrictModeMultivector, _Mapping]] = ...) -> None: ...
    MULTIVECTOR_CONFIG_FIELD_NUMBER: _ClassVar[int]
    multivector_config: _containers.MessageMap[str, StrictModeMultivector]
    def __init__(self, multivector_config: _Optional[_Mapping[str, StrictModeMultivector]] = ...) -> None: ...

class StrictModeConfig(_message.Message):
    __slots__ = ("enabled", "max_query_limit", "max_timeout", "unindexed_filtering_retrieve", "unindexed_filtering_update", "search_max_hnsw_ef", "search_allow_exact", "search_max_oversampling", "upsert_max_batchsize", "max_collection_vector_size_bytes", "read_rate_limit", "write_rate_limit", "max_collection_payload_size_bytes", "filter_max_conditions", "condition_max_size", "multivector_config", "sparse_config", "max_points_count", "max_payload_index_count", "search_max_batchsize", "max_resident_memory_percent")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_QUERY_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    UNINDEXED_FILTERING_RETRIEVE_FIELD_NUMBER: _ClassVar[int]
    UNINDEXED_FILTERING_UPDATE_FIELD_NUMBER: _ClassVar[int]
    SEARCH_MAX_HNSW_EF_FIELD_NUMBER: _ClassVar[int]
    SEARCH_ALLOW_EXACT_FIELD_NUMBER: _ClassVar[int]
    SEARCH_MAX_OVERSAMPLING_FIELD_NUMBER: _ClassVar[int]
    UPSERT_MAX_BATCHSIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_COLLECTION_VECTOR_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    READ_RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    WRITE_RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    MAX_COLLECTION_PAYLOAD_SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    FILTER_MAX_CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    CONDITION_MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    MULTIVECTOR_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SPARSE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MAX_POINTS_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_PAYLOAD_INDEX_COUNT_FIELD_NUMBER: _ClassVar[int]
    SEARCH_MAX_BATCHSIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_RESIDENT_MEMORY_PERCENT_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    max_query_limit: int
    max_timeout: int
    unindexed_filtering_retrieve: bool
    unindexed_filtering_update: bool
    search_max_hnsw_ef: int
    search_allow_exact: bool
    search_max_oversampling: float
    upsert_max_batchsize: int
    max_collection_vector_size_bytes: int
    read_rate_limit: int
    write_rate_limit: int
    max_collection_payload_size_bytes: int
    filter_max_conditions: int
    condition_max_size: int
    multivector_config: StrictModeMultivectorConfig
    sparse_config: StrictModeSparseConfig
    max_points_count: int
    max_payload_index_count: int
    search_max_batchsize: int
    max_resident_memory_percent: int
    def __init__(self, enabled: _Optional[bool] = ..., max_query_limit: _Optional[int] = ..., max_timeout: _Optional[int] = ..., unindexed_filtering_retrieve: _Optional[bool] = ..., unindexed_filtering_update: _Optional[bool] = ..., search_max_hnsw_ef: _Optional[int] = ..., search_allow_exact: _Optional[bool] = ..., search_max_oversampling: _Optional[float] = ..., upsert_max_batchsize: _Optional[int] = ..., max_collection_vector_size_bytes: _Optional[int] = ..., read_rate_limit: _Optional[int] = ..., write_rate_limit: _Optional[int] = ..., max_collection_payload_size_bytes: _Optional[int] = ..., filter_max_conditions: _Optional[int] = ..., condition_max_size: _Optional[int] = ..., multivector_config: _Optional[_Union[StrictModeMultivectorConfig, _Mapping]] = ..., sparse_config: _Optional[_Union[StrictModeSparseConfig, _Mapping]] = ..., max_points_count: _Optional[int] = ..., max_payload_index_count: _Optional[int] = ..., search_max_batchsize: _Optional[int] = ..., max_resident_memory_percent: _Optional[int] = ...) -> None: ...

class VectorParamsDiff(_message.Message):
    __slots__ = ("hnsw_config", "quantization_config", "on_disk", "memory")
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    hnsw_config: HnswConfigDiff
    quantization_config: QuantizationConfigDiff
    on_disk: bool
    memory: Memory
    def __init__(self, hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., quantization_config: _Optional[_Union[QuantizationConfigDiff, _Mapping]] = ..., on_disk: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ...) -> None: ...

class VectorParamsDiffMap(_message.Message):
    __slots__ = ("map",)
    class MapEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: VectorParamsDiff
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[VectorParamsDiff, _Mapping]] = ...) -> None: ...
    MAP_FIELD_NUMBER: _ClassVar[int]
    map: _containers.MessageMap[str, VectorParamsDiff]
    def __init__(self, map: _Optional[_Mapping[str, VectorParamsDiff]] = ...) -> None: ...

class VectorsConfigDiff(_message.Message):
    __slots__ = ("params", "params_map")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_MAP_FIELD_NUMBER: _ClassVar[int]
    params: VectorParamsDiff
    params_map: VectorParamsDiffMap
    def __init__(self, params: _Optional[_Union[VectorParamsDiff, _Mapping]] = ..., params_map: _Optional[_Union[VectorParamsDiffMap, _Mapping]] = ...) -> None: ...

class CollectionParamsDiff(_message.Message):
    __slots__ = ("replication_factor", "write_consistency_factor", "on_disk_payload", "read_fan_out_factor", "read_fan_out_delay_ms", "payload", "id_tracker")
    REPLICATION_FACTOR_FIELD_NUMBER: _ClassVar[int]
    WRITE_CONSISTENCY_FACTOR_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    READ_FAN_OUT_FACTOR_FIELD_NUMBER: _ClassVar[int]
    READ_FAN_OUT_DELAY_MS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ID_TRACKER_FIELD_NUMBER: _ClassVar[int]
    replication_factor: int
    write_consistency_factor: int
    on_disk_payload: bool
    read_fan_out_factor: int
    read_fan_out_delay_ms: int
    payload: PayloadStorageParams
    id_tracker: IdTrackerParams
    def __init__(self, replication_factor: _Optional[int] = ..., write_consistency_factor: _Optional[int] = ..., on_disk_payload: _Optional[bool] = ..., read_fan_out_factor: _Optional[int] = ..., read_fan_out_delay_ms: _Optional[int] = ..., payload: _Optional[_Union[PayloadStorageParams, _Mapping]] = ..., id_tracker: _Optional[_Union[IdTrackerParams, _Mapping]] = ...) -> None: ...

class UpdateCollection(_message.Message):
    __slots__ = ("collection_name", "optimizers_config", "timeout", "params", "hnsw_config", "vectors_config", "quantization_config", "sparse_vectors_config", "strict_mode_config", "metadata")
    class MetadataEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _json_with_int_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_json_with_int_pb2.Value, _Mapping]] = ...) -> None: ...
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    OPTIMIZERS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    HNSW_CONFIG_FIELD_NUMBER: _ClassVar[int]
    VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    QUANTIZATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    SPARSE_VECTORS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STRICT_MODE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    optimizers_config: OptimizersConfigDiff
    timeout: int
    params: CollectionParamsDiff
    hnsw_config: HnswConfigDiff
    vectors_config: VectorsConfigDiff
    quantization_config: QuantizationConfigDiff
    sparse_vectors_config: SparseVectorConfig
    strict_mode_config: StrictModeConfig
    metadata: _containers.MessageMap[str, _json_with_int_pb2.Value]
    def __init__(self, collection_name: _Optional[str] = ..., optimizers_config: _Optional[_Union[OptimizersConfigDiff, _Mapping]] = ..., timeout: _Optional[int] = ..., params: _Optional[_Union[CollectionParamsDiff, _Mapping]] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., vectors_config: _Optional[_Union[VectorsConfigDiff, _Mapping]] = ..., quantization_config: _Optional[_Union[QuantizationConfigDiff, _Mapping]] = ..., sparse_vectors_config: _Optional[_Union[SparseVectorConfig, _Mapping]] = ..., strict_mode_config: _Optional[_Union[StrictModeConfig, _Mapping]] = ..., metadata: _Optional[_Mapping[str, _json_with_int_pb2.Value]] = ...) -> None: ...

class ChangeAliases(_message.Message):
    __slots__ = ("actions", "timeout")
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    actions: _containers.RepeatedCompositeFieldContainer[AliasOperations]
    timeout: int
    def __init__(self, actions: _Optional[_Iterable[_Union[AliasOperations, _Mapping]]] = ..., timeout: _Optional[int] = ...) -> None: ...

class AliasOperations(_message.Message):
    __slots__ = ("create_alias", "rename_alias", "delete_alias")
    CREATE_ALIAS_FIELD_NUMBER: _ClassVar[int]
    RENAME_ALIAS_FIELD_NUMBER: _ClassVar[int]
    DELETE_ALIAS_FIELD_NUMBER: _ClassVar[int]
    create_alias: CreateAlias
    rename_alias: RenameAlias
    delete_alias: DeleteAlias
    def __init__(self, create_alias: _Optional[_Union[CreateAlias, _Mapping]] = ..., rename_alias: _Optional[_Union[RenameAlias, _Mapping]] = ..., delete_alias: _Optional[_Union[DeleteAlias, _Mapping]] = ...) -> None: ...

class CreateAlias(_message.Message):
    __slots__ = ("collection_name", "alias_name")
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    ALIAS_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    alias_name: str
    def __init__(self, collection_name: _Optional[str] = ..., alias_name: _Optional[str] = ...) -> None: ...

class RenameAlias(_message.Message):
    __slots__ = ("old_alias_name", "new_alias_name")
    OLD_ALIAS_NAME_FIELD_NUMBER: _ClassVar[int]
    NEW_ALIAS_NAME_FIELD_NUMBER: _ClassVar[int]
    old_alias_name: str
    new_alias_name: str
    def __init__(self, old_alias_name: _Optional[str] = ..., new_alias_name: _Optional[str] = ...) -> None: ...

class DeleteAlias(_message.Message):
    __slots__ = ("alias_name",)
    ALIAS_NAME_FIELD_NUMBER: _ClassVar[int]
    alias_name: str
    def __init__(self, alias_name: _Optional[str] = ...) -> None: ...

class ListAliasesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListCollectionAliasesRequest(_message.Message):
    __slots__ = ("collection_name",)
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    collection_name: str
    def __init__(self, collection_name: _Optional[str] = ...) -> None: ...

class AliasDescription(_message.Message):
    __slots__ = ("alias_name", "collection_name")
    ALIAS_NAME_FIELD_NUMBER: _ClassVar[int]
    COLLECTION_NAME_FIELD_NUMBER: _ClassVar[int]
    alias_name: str
    collection_name: str
    def __init__(self, alias_name: _Optional[str] = ..., collection_name: _Optional[str] = ...) -> None: ...

class ListAliasesResponse(_message.Message):
    __slots__ = ("aliases", "time")
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedCompositeFieldContainer[AliasDescription]
    time: float
    def __init__(self, aliases: _Optional[_Iterable[_Union[AliasDescription, _Mapping]]] = ..., time: _Optional[float] = ...) -> None: ...

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
    __slots__ = ("is_tenant", "on_disk", "enable_hnsw", "prefix", "memory", "nested")
    IS_TENANT_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    is_tenant: bool
    on_disk: bool
    enable_hnsw: bool
    prefix: KeywordPrefixParams
    memory: Memory
    nested: str
    def __init__(self, is_tenant: _Optional[bool] = ..., on_disk: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., prefix: _Optional[_Union[KeywordPrefixParams, _Mapping]] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class KeywordPrefixParams(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

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

class FloatIndexParams(_message.Message):
    __slots__ = ("on_disk", "is_principal", "enable_hnsw", "memory", "nested")
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    IS_PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    on_disk: bool
    is_principal: bool
    enable_hnsw: bool
    memory: Memory
    nested: str
    def __init__(self, on_disk: _Optional[bool] = ..., is_principal: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class GeoIndexParams(_message.Message):
    __slots__ = ("on_disk", "enable_hnsw", "memory", "nested")
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    on_disk: bool
    enable_hnsw: bool
    memory: Memory
    nested: str
    def __init__(self, on_disk: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class StopwordsSet(_message.Message):
    __slots__ = ("languages", "custom")
    LANGUAGES_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_FIELD_NUMBER: _ClassVar[int]
    languages: _containers.RepeatedScalarFieldContainer[str]
    custom: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, languages: _Optional[_Iterable[str]] = ..., custom: _Optional[_Iterable[str]] = ...) -> None: ...

class SnowballParams(_message.Message):
    __slots__ = ("language",)
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    language: str
    def __init__(self, language: _Optional[str] = ...) -> None: ...

class DisabledStemmer(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StemmingAlgorithm(_message.Message):
    __slots__ = ("snowball", "disabled")
    SNOWBALL_FIELD_NUMBER: _ClassVar[int]
    DISABLED_FIELD_NUMBER: _ClassVar[int]
    snowball: SnowballParams
    disabled: DisabledStemmer
    def __init__(self, snowball: _Optional[_Union[SnowballParams, _Mapping]] = ..., disabled: _Optional[_Union[DisabledStemmer, _Mapping]] = ...) -> None: ...

class TextScoringParams(_message.Message):
    __slots__ = ("type",)
    TYPE_FIELD_NUMBER: _ClassVar[int]
    type: TextScoringType
    def __init__(self, type: _Optional[_Union[TextScoringType, str]] = ...) -> None: ...

class TextIndexParams(_message.Message):
    __slots__ = ("tokenizer", "lowercase", "min_token_len", "max_token_len", "on_disk", "stopwords", "phrase_matching", "stemmer", "ascii_folding", "enable_hnsw", "memory", "scoring", "nested")
    TOKENIZER_FIELD_NUMBER: _ClassVar[int]
    LOWERCASE_FIELD_NUMBER: _ClassVar[int]
    MIN_TOKEN_LEN_FIELD_NUMBER: _ClassVar[int]
    MAX_TOKEN_LEN_FIELD_NUMBER: _ClassVar[int]
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    STOPWORDS_FIELD_NUMBER: _ClassVar[int]
    PHRASE_MATCHING_FIELD_NUMBER: _ClassVar[int]
    STEMMER_FIELD_NUMBER: _ClassVar[int]
    ASCII_FOLDING_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    SCORING_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    tokenizer: TokenizerType
    lowercase: bool
    min_token_len: int
    max_token_len: int
    on_disk: bool
    stopwords: StopwordsSet
    phrase_matching: bool
    stemmer: StemmingAlgorithm
    ascii_folding: bool
    enable_hnsw: bool
    memory: Memory
    scoring: TextScoringParams
    nested: str
    def __init__(self, tokenizer: _Optional[_Union[TokenizerType, str]] = ..., lowercase: _Optional[bool] = ..., min_token_len: _Optional[int] = ..., max_token_len: _Optional[int] = ..., on_disk: _Optional[bool] = ..., stopwords: _Optional[_Union[StopwordsSet, _Mapping]] = ..., phrase_matching: _Optional[bool] = ..., stemmer: _Optional[_Union[StemmingAlgorithm, _Mapping]] = ..., ascii_folding: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., scoring: _Optional[_Union[TextScoringParams, _Mapping]] = ..., nested: _Optional[str] = ...) -> None: ...

class BoolIndexParams(_message.Message):
    __slots__ = ("on_disk", "enable_hnsw", "memory", "nested")
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    on_disk: bool
    enable_hnsw: bool
    memory: Memory
    nested: str
    def __init__(self, on_disk: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class DatetimeIndexParams(_message.Message):
    __slots__ = ("on_disk", "is_principal", "enable_hnsw", "memory", "nested")
    ON_DISK_FIELD_NUMBER: _ClassVar[int]
    IS_PRINCIPAL_FIELD_NUMBER: _ClassVar[int]
    ENABLE_HNSW_FIELD_NUMBER: _ClassVar[int]
    MEMORY_FIELD_NUMBER: _ClassVar[int]
    NESTED_FIELD_NUMBER: _ClassVar[int]
    on_disk: bool
    is_principal: bool
    enable_hnsw: bool
    memory: Memory
    nested: str
    def __init__(self, on_disk: _Optional[bool] = ..., is_principal: _Optional[bool] = ..., enable_hnsw: _Optional[bool] = ..., memory: _Optional[_Union[Memory, str]] = ..., nested: _Optional[str] = ...) -> None: ...

class UuidIndexParams(_message.Message):
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

class PayloadIndexParams(_message.Message):
    __slots__ = ("keyword_index_params", "integer_index_params", "float_index_params", "geo_index_params", "text_index_params", "bool_index_params", "datetime_index_params", "uuid_index_params")
    KEYWORD_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    INTEGER_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    FLOAT_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    GEO_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    TEXT_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    BOOL_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    DATETIME_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    UUID_INDEX_PARAMS_FIELD_NUMBER: _ClassVar[int]
    keyword_index_params: KeywordIndexParams
    integer_index_params: IntegerIndexParams
    float_index_params: FloatIndexParams
    geo_index_params: GeoIndexParams
    text_index_params: TextIndexParams
    bool_index_params: BoolIndexParams
    datetime_index_params: DatetimeIndexParams
    uuid_index_params: UuidIndexParams
    def __init__(self, keyword_index_params: _Optional[_Union[KeywordIndexParams, _Mapping]] = ..., integer_index_params: _Optional[_Union[IntegerIndexParams, _Mapping]] = ..., float_index_params: _Optional[_Union[FloatIndexParams, _Mapping]] = ..., geo_index_params: _Optional[_Union[GeoIndexParams, _Mapping]] = ..., text_index_params: _Optional[_Union[TextIndexParams, _Mapping]] = ..., bool_index_params: _Optional[_Union[BoolIndexParams, _Mapping]] = ..., datetime_index_params: _Optional[_Union[DatetimeIndexParams, _Mapping]] = ..., uuid_index_params: _Optional[_Union[UuidIndexParams, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("params", "hnsw_config", "optimizer_config", "wal_config", "quantization_config", "strict_mode_config", "metadata")
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
    QUANTIZATION_CONFIG_FIELD_NUMBER: _ClassVar[int]
    STRICT_MODE_CONFIG_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    params: CollectionParams
    hnsw_config: HnswConfigDiff
    optimizer_config: OptimizersConfigDiff
    wal_config: WalConfigDiff
    quantization_config: QuantizationConfig
    strict_mode_config: StrictModeConfig
    metadata: _containers.MessageMap[str, _json_with_int_pb2.Value]
    def __init__(self, params: _Optional[_Union[CollectionParams, _Mapping]] = ..., hnsw_config: _Optional[_Union[HnswConfigDiff, _Mapping]] = ..., optimizer_config: _Optional[_Union[OptimizersConfigDiff, _Mapping]] = ..., wal_config: _Optional[_Union[WalConfigDiff, _Mapping]] = ..., quantization_config: _Optional[_Union[QuantizationConfig, _Mapping]] = ..., strict_mode_config: _Optional[_Union[StrictModeConfig, _Mapping]] = ..., metadata: _Optional[_Mapping[str, _json_with_int_pb2.Value]] = ...) -> None: ...

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
