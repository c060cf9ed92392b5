"""CreateCollection -> CollectionConfig, UpdateCollection -> CollectionUpdate, and a collection ->
CollectionInfo."""

from __future__ import annotations

import time
from typing import Any

from vecinfer.api.grpc.convert.settings import fill, to_settings
from vecinfer.api.grpc.convert.values import fill_map, map_to_py
from vecinfer.domain.collections import (
    FIELD_INDEX_TYPES,
    AliasAction,
    CollectionConfig,
    CollectionInfo,
    CollectionUpdate,
    CreateAlias,
    DeleteAlias,
    DenseVectorParams,
    Distance,
    Modifier,
    RenameAlias,
    SparseVectorParams,
    VectorUpdate,
    hnsw_with,
    optimizers_with,
    strict_mode_from,
    strict_mode_settings,
)
from vecinfer.domain.errors import InvalidArgument
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
    extra = {k: v for k, v in to_settings(msg).items() if k not in ("size", "distance")}
    return DenseVectorParams(msg.size, _DISTANCES[msg.distance], extra)


def _sparse_params(params: cpb.SparseVectorParams) -> SparseVectorParams:
    modifier = Modifier.IDF if params.HasField("modifier") and params.modifier == cpb.Idf else Modifier.NONE
    extra = {"index": to_settings(params.index)} if params.HasField("index") else {}
    return SparseVectorParams(modifier, extra)


# CreateCollection fields that REST writes inside `params`.
_PARAMS_FIELDS = ("shard_number", "on_disk_payload", "replication_factor", "write_consistency_factor",
                  "sharding_method", "payload", "id_tracker")


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
            sparse[name] = _sparse_params(params)
    settings = to_settings(msg)
    defaults = CollectionConfig()
    quantization = settings.get("quantization_config") or None
    strict_mode = settings.get("strict_mode_config")
    return CollectionConfig(
        dense=dense, sparse=sparse, unnamed=unnamed, created_at=time.time(), metadata=map_to_py(msg.metadata),
        hnsw=hnsw_with(defaults.hnsw, settings.get("hnsw_config", {})),
        optimizers=optimizers_with(defaults.optimizers, settings.get("optimizers_config", {})),
        wal={**defaults.wal, **settings.get("wal_config", {})},
        params={**defaults.params, **{k: settings[k] for k in _PARAMS_FIELDS if k in settings}},
        quantization=quantization,
        strict_mode=strict_mode_from(strict_mode) if strict_mode is not None else None,
    )


def _vector_update(msg: cpb.VectorParamsDiff) -> VectorUpdate:
    settings = to_settings(msg)
    return VectorUpdate(
        hnsw=settings.get("hnsw_config"),
        quantization=settings["quantization_config"] if msg.HasField("quantization_config") else None,
        on_disk=settings.get("on_disk"), memory=settings.get("memory"),
    )


def update_from(msg: cpb.UpdateCollection) -> CollectionUpdate:
    settings = to_settings(msg)
    vectors: dict[str, VectorUpdate] = {}
    if msg.HasField("vectors_config"):
        if msg.vectors_config.WhichOneof("config") == "params":
            vectors[DEFAULT_VECTOR] = _vector_update(msg.vectors_config.params)
        else:
            vectors.update((name, _vector_update(diff)) for name, diff in msg.vectors_config.params_map.map.items())
    if msg.HasField("sparse_vectors_config"):
        for name, params in msg.sparse_vectors_config.map.items():
            if name in vectors:
                raise InvalidArgument(f"sparse_vectors_config: `{name}` is also in vectors_config")
            vectors[name] = VectorUpdate(
                sparse_index=to_settings(params.index) if params.HasField("index") else None,
                modifier=_sparse_params(params).modifier if params.HasField("modifier") else None,
            )
    return CollectionUpdate(
        hnsw=settings.get("hnsw_config"),
        optimizers=settings.get("optimizers_config"),
        metadata=map_to_py(msg.metadata) if msg.metadata else None,
        params=settings.get("params"),
        quantization=settings["quantization_config"] if msg.HasField("quantization_config") else None,
        strict_mode=settings.get("strict_mode_config"),
        vectors=vectors or None,
    )


def alias_actions_from(msg: cpb.ChangeAliases) -> list[AliasAction]:
    out: list[AliasAction] = []
    for i, action in enumerate(msg.actions):
        kind = action.WhichOneof("action")
        if kind == "create_alias":
            out.append(CreateAlias(action.create_alias.collection_name, action.create_alias.alias_name))
        elif kind == "delete_alias":
            out.append(DeleteAlias(action.delete_alias.alias_name))
        elif kind == "rename_alias":
            out.append(RenameAlias(action.rename_alias.old_alias_name, action.rename_alias.new_alias_name))
        else:
            raise InvalidArgument(f"actions[{i}] is empty: set create_alias, delete_alias or rename_alias")
    return out


def field_index_from(msg: pb.CreateFieldIndexCollection) -> tuple[str, dict[str, Any] | None]:
    """(index type, its parameters in REST shape or None)."""
    if not msg.field_name:
        raise InvalidArgument("field_name is empty: name the payload key to index")
    params_kind = msg.field_index_params.WhichOneof("index_params") if msg.HasField("field_index_params") else None
    from_params = params_kind.removesuffix("_index_params") if params_kind is not None else None
    if not msg.HasField("field_type"):
        if from_params is None:
            raise InvalidArgument("field_type is missing: set it to Keyword, Integer, Float, Geo, Text, Bool, Datetime or Uuid")
        kind = from_params
    elif msg.field_type >= len(FIELD_INDEX_TYPES):
        raise InvalidArgument(f"field_type {msg.field_type} is not a known FieldType")
    else:
        kind = FIELD_INDEX_TYPES[msg.field_type]
    if params_kind is None:
        return kind, None
    if from_params != kind:
        raise InvalidArgument(f"field_index_params are {from_params} index parameters but field_type is {kind}: "
                              "make them agree")
    params = to_settings(getattr(msg.field_index_params, params_kind))
    return kind, {"type": kind, **params}


def _vector_params(params: DenseVectorParams, out: cpb.VectorParams) -> None:
    out.size = params.size
    out.distance = _DISTANCE_CODES[params.distance]
    fill(out, params.extra)


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
    fill(params, config.params)
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
            fill(entry, sparse.extra)
    hnsw = out.config.hnsw_config
    hnsw.m, hnsw.ef_construct, hnsw.full_scan_threshold = config.hnsw.m, config.hnsw.ef_construct, config.hnsw.full_scan_threshold
    fill(hnsw, config.hnsw.extra)
    opt = out.config.optimizer_config
    opt.deleted_threshold = config.optimizers.deleted_threshold
    opt.vacuum_min_vector_number = config.optimizers.vacuum_min_vector_number
    opt.default_segment_number = config.optimizers.default_segment_number
    opt.indexing_threshold = config.optimizers.indexing_threshold
    opt.flush_interval_sec = config.optimizers.flush_interval_sec
    if config.optimizers.max_segment_size is not None:
        opt.max_segment_size = config.optimizers.max_segment_size
    fill(opt, config.optimizers.extra)
    fill(out.config.wal_config, config.wal)
    if config.quantization:
        fill(out.config.quantization_config, config.quantization)
    if config.strict_mode is not None:
        out.config.strict_mode_config.SetInParent()
        fill(out.config.strict_mode_config, strict_mode_settings(config.strict_mode))
    fill_map(config.metadata, out.config.metadata)
    for field, index in info.payload_schema.items():
        entry = out.payload_schema[field]
        entry.data_type = _SCHEMA_TYPES[index.type]
        entry.points = index.points
        if index.params is not None:
            fill(getattr(entry.params, f"{index.type}_index_params"),
                 {k: v for k, v in index.params.items() if k != "type"})
