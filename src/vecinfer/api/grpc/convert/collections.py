"""CreateCollection -> CollectionConfig, and a collection -> CollectionInfo."""

from __future__ import annotations

import time

from vecinfer.api.grpc.convert.values import fill_map, map_to_py
from vecinfer.domain.collections import (
    FIELD_INDEX_TYPES,
    CollectionConfig,
    CollectionInfo,
    DenseVectorParams,
    Distance,
    HnswConfig,
    Modifier,
    OptimizersConfig,
    SparseVectorParams,
)
from vecinfer.domain.errors import InvalidArgument, Unimplemented
from vecinfer.domain.points import DEFAULT_VECTOR
from vecinfer_proto.qdrant import collections_pb2 as cpb
from vecinfer_proto.qdrant import points_pb2 as pb

MAX_DIMENSION = 65536  # Qdrant's bound on a dense vector's size
_DISTANCES = {cpb.Cosine: Distance.COSINE, cpb.Dot: Distance.DOT, cpb.Euclid: Distance.EUCLID, cpb.Manhattan: Distance.MANHATTAN}
_DISTANCE_CODES = {v: k for k, v in _DISTANCES.items()}
_SCHEMA_TYPES = {
    "keyword": cpb.Keyword, "integer": cpb.Integer, "float": cpb.Float, "geo": cpb.Geo,
    "text": cpb.Text, "bool": cpb.Bool, "datetime": cpb.Datetime, "uuid": cpb.Uuid,
}


def _dense_params(name: str, msg: cpb.VectorParams) -> DenseVectorParams:
    label = "vectors_config.params" if name == DEFAULT_VECTOR else f"vectors_config.params_map[{name!r}]"
    if not 1 <= msg.size <= MAX_DIMENSION:
        raise InvalidArgument(f"{label}.size must be between 1 and {MAX_DIMENSION}, got {msg.size}")
    if msg.distance not in _DISTANCES:
        raise InvalidArgument(f"{label}.distance must be Cosine, Dot, Euclid or Manhattan")
    if msg.HasField("multivector_config"):
        raise Unimplemented(f"multivectors (`{label}.multivector_config`)")
    return DenseVectorParams(msg.size, _DISTANCES[msg.distance])


def config_from(msg: cpb.CreateCollection) -> CollectionConfig:
    dense: dict[str, DenseVectorParams] = {}
    unnamed = False
    if msg.HasField("vectors_config"):
        kind = msg.vectors_config.WhichOneof("config")
        if kind == "params":
            dense[DEFAULT_VECTOR] = _dense_params(DEFAULT_VECTOR, msg.vectors_config.params)
            unnamed = True
        elif kind == "params_map":
            for name, params in msg.vectors_config.params_map.map.items():
                if not name:
                    raise InvalidArgument("vectors_config.params_map: vector names must not be empty")
                dense[name] = _dense_params(name, params)
    sparse = {}
    if msg.HasField("sparse_vectors_config"):
        for name, params in msg.sparse_vectors_config.map.items():
            if not name:
                raise InvalidArgument("sparse_vectors_config: vector names must not be empty")
            if name in dense:
                raise InvalidArgument(f"sparse_vectors_config: `{name}` is already a dense vector name")
            modifier = Modifier.IDF if params.HasField("modifier") and params.modifier == cpb.Idf else Modifier.NONE
            sparse[name] = SparseVectorParams(modifier)
    hnsw = HnswConfig()
    if msg.HasField("hnsw_config") and msg.hnsw_config.HasField("m") and msg.hnsw_config.m < 2:
        raise InvalidArgument("hnsw_config.m must be at least 2")
    if msg.HasField("hnsw_config"):
        h = msg.hnsw_config
        hnsw = HnswConfig(
            m=h.m if h.HasField("m") else hnsw.m,
            ef_construct=h.ef_construct if h.HasField("ef_construct") else hnsw.ef_construct,
            full_scan_threshold=h.full_scan_threshold if h.HasField("full_scan_threshold") else hnsw.full_scan_threshold,
        )
    optimizers = OptimizersConfig()
    if msg.HasField("optimizers_config"):
        o = msg.optimizers_config
        optimizers = OptimizersConfig(
            indexing_threshold=o.indexing_threshold if o.HasField("indexing_threshold") else optimizers.indexing_threshold,
            deleted_threshold=o.deleted_threshold if o.HasField("deleted_threshold") else optimizers.deleted_threshold,
            vacuum_min_vector_number=(o.vacuum_min_vector_number if o.HasField("vacuum_min_vector_number")
                                      else optimizers.vacuum_min_vector_number),
            default_segment_number=(o.default_segment_number if o.HasField("default_segment_number")
                                    else optimizers.default_segment_number),
            max_segment_size=o.max_segment_size if o.HasField("max_segment_size") else optimizers.max_segment_size,
        )
    return CollectionConfig(
        dense=dense, sparse=sparse, hnsw=hnsw, optimizers=optimizers, unnamed=unnamed,
        created_at=time.time(), metadata=map_to_py(msg.metadata),
    )


def field_index_type(msg: pb.CreateFieldIndexCollection) -> str:
    if not msg.field_name:
        raise InvalidArgument("field_name is empty: name the payload key to index")
    if not msg.HasField("field_type"):
        kind = msg.field_index_params.WhichOneof("index_params") if msg.HasField("field_index_params") else None
        if kind is None:
            raise InvalidArgument("field_type is missing: set it to Keyword, Integer, Float, Geo, Text, Bool, Datetime or Uuid")
        return kind.removesuffix("_index_params")
    if msg.field_type >= len(FIELD_INDEX_TYPES):
        raise InvalidArgument(f"field_type {msg.field_type} is not a known FieldType")
    return FIELD_INDEX_TYPES[msg.field_type]


def _vector_params(params: DenseVectorParams, out: cpb.VectorParams) -> None:
    out.size = params.size
    out.distance = _DISTANCE_CODES[params.distance]


def info_to(info: CollectionInfo, out: cpb.CollectionInfo) -> None:
    config = info.config
    out.status = cpb.Yellow if info.status == "yellow" else cpb.Green
    out.optimizer_status.ok = True
    out.segments_count = info.segments_count
    out.points_count = info.points_count
    out.indexed_vectors_count = info.indexed_vectors_count
    out.update_queue.length = 0
    out.created_at.FromNanoseconds(int(config.created_at * 1e9))
    params = out.config.params
    params.shard_number = 1
    params.replication_factor = 1
    params.write_consistency_factor = 1
    if config.unnamed:
        _vector_params(config.dense[DEFAULT_VECTOR], params.vectors_config.params)
    elif config.dense:
        for name, dense in config.dense.items():
            _vector_params(dense, params.vectors_config.params_map.map[name])
    if config.sparse:
        for name, sparse in config.sparse.items():
            entry = params.sparse_vectors_config.map[name]
            if sparse.modifier is Modifier.IDF:
                entry.modifier = cpb.Idf
    hnsw = out.config.hnsw_config
    hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold = config.hnsw.m, config.hnsw.ef_construct, config.hnsw.full_scan_threshold
    opt = out.config.optimizer_config
    opt.deleted_threshold = config.optimizers.deleted_threshold
    opt.vacuum_min_vector_number = config.optimizers.vacuum_min_vector_number
    opt.default_segment_number = config.optimizers.default_segment_number
    opt.indexing_threshold = config.optimizers.indexing_threshold
    opt.flush_interval_sec = config.optimizers.flush_interval_sec
    opt.max_segment_size = config.optimizers.max_segment_size
    wal = out.config.wal_config
    wal.wal_capacity_mb, wal.wal_segments_ahead = 32, 0
    fill_map(config.metadata, out.config.metadata)
    for field, index in info.payload_schema.items():
        entry = out.payload_schema[field]
        entry.data_type = _SCHEMA_TYPES[index.type]
        entry.points = index.points
