"""Collection bodies in JSON: create and update settings, payload index schemas, and the
collection info that clients parse strictly (only the fields Qdrant's schema has)."""

from __future__ import annotations

import time
from typing import Any

from vecinfer.api.rest.json_input import Fields, JsonFormatError, Node
from vecinfer.domain.collections import (
    FIELD_INDEX_TYPES,
    CollectionConfig,
    CollectionInfo,
    CollectionUpdate,
    DenseVectorParams,
    Distance,
    HnswConfig,
    Modifier,
    OptimizersConfig,
    SparseVectorParams,
)
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.points import DEFAULT_VECTOR

MAX_DIMENSION = 65536
_CREATE_KEYS = {
    "vectors", "sparse_vectors", "shard_number", "sharding_method", "replication_factor",
    "write_consistency_factor", "on_disk_payload", "payload", "hnsw_config", "wal_config",
    "optimizers_config", "optimizer_config", "quantization_config", "quantization", "strict_mode_config",
    "metadata", "init_from",
}
_VECTOR_KEYS = {"size", "distance", "hnsw_config", "quantization_config", "on_disk", "memory", "datatype",
                "multivector_config"}
_HNSW_KEYS = {"m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "on_disk", "memory", "payload_m",
              "inline_storage"}
_HNSW_SUPPORTED = ("m", "ef_construct", "full_scan_threshold")
_OPTIMIZER_KEYS = {"deleted_threshold", "vacuum_min_vector_number", "default_segment_number", "max_segment_size",
                   "memmap_threshold", "indexing_threshold", "flush_interval_sec", "max_optimization_threads",
                   "prevent_unoptimized"}
_OPTIMIZER_INTEGERS = ("vacuum_min_vector_number", "default_segment_number", "max_segment_size",
                       "indexing_threshold", "flush_interval_sec")


def _refuse(fields: Fields, names: set[str] | tuple[str, ...], where: str = "") -> None:
    for name in sorted(names):
        if fields.has(name):
            raise Unimplemented(f"the collection setting `{where}{name}`")


def _single_node(fields: Fields) -> None:
    """Distribution settings: a single node has one shard and one replica."""
    for name in ("shard_number", "replication_factor", "write_consistency_factor"):
        node = fields.get(name)
        if node is not None and node.integer(1) != 1:
            raise Unimplemented(f"`{name}` above 1 (vecinfer is one node; put it in front of a Qdrant cluster)")
    method = fields.get("sharding_method")
    if method is not None and method.value != "auto":
        raise Unimplemented("custom sharding (`sharding_method`)")
    on_disk_payload = fields.get("on_disk_payload")
    if on_disk_payload is not None:
        on_disk_payload.boolean()  # where payloads live changes no answer


def _dense(node: Node, label: str) -> DenseVectorParams:
    fields = node.fields(_VECTOR_KEYS, "vector params {\"size\", \"distance\"}")
    _refuse(fields, {"hnsw_config", "quantization_config", "memory", "multivector_config", "on_disk"}, label)
    datatype = fields.get("datatype")
    if datatype is not None and datatype.value != "float32":
        raise Unimplemented(f"the vector datatype {datatype.value!r} (vecinfer stores float32)")
    size_node = fields.require("size")
    size = size_node.integer()
    if not 1 <= size <= MAX_DIMENSION:
        size_node.invalid(f"must be between 1 and {MAX_DIMENSION}, got {size}")
    distance = fields.require("distance")
    try:
        return DenseVectorParams(size, Distance(distance.value))
    except ValueError:
        distance.fail("\"Cosine\", \"Dot\", \"Euclid\" or \"Manhattan\"")


def _hnsw(node: Node) -> dict[str, int]:
    fields = node.fields(_HNSW_KEYS, "an hnsw_config object")
    _refuse(fields, _HNSW_KEYS - set(_HNSW_SUPPORTED), "hnsw_config.")
    out = {name: n.integer() for name in _HNSW_SUPPORTED if (n := fields.get(name)) is not None}
    if "m" in out and out["m"] < 2:
        fields.require("m").invalid("must be at least 2")
    if "ef_construct" in out and out["ef_construct"] < 4:
        fields.require("ef_construct").invalid("must be at least 4")
    return out


def _optimizers(node: Node) -> dict[str, float | int]:
    fields = node.fields(_OPTIMIZER_KEYS, "an optimizers_config object")
    _refuse(fields, {"memmap_threshold", "max_optimization_threads", "prevent_unoptimized"}, "optimizers_config.")
    out: dict[str, float | int] = {name: n.integer() for name in _OPTIMIZER_INTEGERS
                                   if (n := fields.get(name)) is not None}
    deleted = fields.get("deleted_threshold")
    if deleted is not None:
        value = deleted.number()
        if not 0 <= value <= 1:
            deleted.invalid("must be between 0 and 1")
        out["deleted_threshold"] = value
    return out


def collection_config(node: Node) -> CollectionConfig:
    fields = node.fields(_CREATE_KEYS, "a collection config object")
    _single_node(fields)
    _refuse(fields, {"payload", "wal_config", "quantization_config", "quantization", "strict_mode_config",
                     "init_from"})
    dense: dict[str, DenseVectorParams] = {}
    unnamed = False
    vectors = fields.get("vectors")
    if vectors is not None:
        if vectors.is_object and "size" in vectors.value:
            dense[DEFAULT_VECTOR] = _dense(vectors, "vectors.")
            unnamed = True
        else:
            for name, params in vectors.entries("vector params, or an object of named vector params"):
                if not name:
                    params.invalid("vector names must not be empty")
                dense[name] = _dense(params, f"vectors.{name}.")
    sparse: dict[str, SparseVectorParams] = {}
    sparse_node = fields.get("sparse_vectors")
    if sparse_node is not None:
        for name, params in sparse_node.entries():
            if name in dense:
                params.invalid(f"`{name}` is already a dense vector name")
            sp = params.fields({"index", "modifier"}, "sparse vector params {\"modifier\"}")
            _refuse(sp, {"index"}, f"sparse_vectors.{name}.")
            modifier = sp.get("modifier")
            if modifier is not None and modifier.value not in ("none", "idf"):
                modifier.fail("\"none\" or \"idf\"")
            sparse[name] = SparseVectorParams(Modifier(modifier.value) if modifier is not None else Modifier.NONE)
    hnsw = HnswConfig()
    hnsw_node = fields.get("hnsw_config")
    if hnsw_node is not None:
        hnsw = HnswConfig(**{**vars(hnsw), **_hnsw(hnsw_node)})
    optimizers = OptimizersConfig()
    optimizers_node = fields.get("optimizers_config", "optimizer_config")
    if optimizers_node is not None:
        optimizers = OptimizersConfig(**{**vars(optimizers), **_optimizers(optimizers_node)})
    metadata = fields.get("metadata")
    if metadata is not None and not metadata.is_object:
        metadata.fail("an object")
    return CollectionConfig(dense=dense, sparse=sparse, hnsw=hnsw, optimizers=optimizers, unnamed=unnamed,
                            created_at=time.time(), metadata=dict(metadata.value) if metadata is not None else {})


def collection_update(node: Node) -> CollectionUpdate:
    fields = node.fields({"vectors", "optimizers_config", "params", "hnsw_config", "quantization_config",
                          "sparse_vectors", "strict_mode_config", "metadata"}, "a collection update object")
    _refuse(fields, {"vectors", "params", "quantization_config", "sparse_vectors", "strict_mode_config"})
    hnsw_node = fields.get("hnsw_config")
    optimizers_node = fields.get("optimizers_config")
    metadata = fields.get("metadata")
    if metadata is not None and not metadata.is_object:
        metadata.fail("an object")
    return CollectionUpdate(
        hnsw=_hnsw(hnsw_node) if hnsw_node is not None else None,
        optimizers=_optimizers(optimizers_node) if optimizers_node is not None else None,
        metadata=dict(metadata.value) if metadata is not None else None,
    )


def field_index(node: Node) -> tuple[str, str]:
    """(field name, index type) from `{"field_name", "field_schema"}`."""
    fields = node.fields({"field_name", "field_schema", "field_type"})
    name = fields.require("field_name").string()
    schema = fields.get("field_schema", "field_type")
    if schema is None:
        raise JsonFormatError(node.path, "missing field `field_schema` (keyword, integer, float, geo, text, bool, "
                                         "datetime or uuid)")
    kind = schema.value
    if schema.is_object:
        kind = schema.value.get("type")
        extra = sorted(set(schema.value) - {"type"})
        if extra:
            raise Unimplemented(f"payload index parameters ({', '.join(f'`{k}`' for k in extra)})")
    if kind not in FIELD_INDEX_TYPES:
        schema.fail(f"one of {', '.join(FIELD_INDEX_TYPES)} (or an object with `type`)")
    return name, str(kind)


# ------------------------------------------------------------------ output


def _vector_params(params: DenseVectorParams) -> dict[str, Any]:
    return {"size": params.size, "distance": params.distance.value}


def info_out(info: CollectionInfo) -> dict[str, Any]:
    config = info.config
    if config.unnamed:
        vectors: dict[str, Any] = _vector_params(config.dense[DEFAULT_VECTOR])
    else:
        vectors = {name: _vector_params(p) for name, p in config.dense.items()}
    params: dict[str, Any] = {"vectors": vectors, "shard_number": 1, "replication_factor": 1,
                              "write_consistency_factor": 1, "on_disk_payload": True}
    if config.sparse:
        params["sparse_vectors"] = {
            name: ({"modifier": "idf"} if p.modifier is Modifier.IDF else {}) for name, p in config.sparse.items()
        }
    opt = config.optimizers
    out_config: dict[str, Any] = {
        "params": params,
        "hnsw_config": {"m": config.hnsw.m, "ef_construct": config.hnsw.ef_construct,
                        "full_scan_threshold": config.hnsw.full_scan_threshold},
        "optimizer_config": {
            "deleted_threshold": opt.deleted_threshold, "vacuum_min_vector_number": opt.vacuum_min_vector_number,
            "default_segment_number": opt.default_segment_number, "max_segment_size": opt.max_segment_size,
            "memmap_threshold": None, "indexing_threshold": opt.indexing_threshold,
            "flush_interval_sec": opt.flush_interval_sec, "max_optimization_threads": None,
        },
        "wal_config": {"wal_capacity_mb": 32, "wal_segments_ahead": 0},
        "quantization_config": None,
    }
    if config.metadata:
        out_config["metadata"] = config.metadata
    return {
        "status": info.status,
        "optimizer_status": "ok",
        "indexed_vectors_count": info.indexed_vectors_count,
        "points_count": info.points_count,
        "segments_count": info.segments_count,
        "config": out_config,
        "payload_schema": {
            name: {"data_type": index.type, "points": index.points} for name, index in info.payload_schema.items()
        },
    }
