"""Collection bodies in JSON: create and update settings, payload index schemas, and the
collection info that clients parse strictly (only the fields Qdrant's schema has)."""

from __future__ import annotations

import time
from typing import Any

from vecinfer.api.rest.convert import settings
from vecinfer.api.rest.json_input import Fields, JsonFormatError, Node
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
    PayloadIndexInfo,
    RenameAlias,
    SparseVectorParams,
    VectorUpdate,
    hnsw_with,
    optimizers_with,
    strict_mode_from,
    strict_mode_settings,
)
from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.points import DEFAULT_VECTOR

MAX_DIMENSION = 65536
_CREATE_KEYS = {
    "vectors", "sparse_vectors", "hnsw_config", "wal_config", "optimizers_config", "optimizer_config",
    "quantization_config", "quantization", "strict_mode_config", "metadata", "init_from", *settings.PARAMS,
}


def _dense(node: Node) -> DenseVectorParams:
    fields = node.fields({"size", "distance", *settings.VECTOR_EXTRA}, "vector params {\"size\", \"distance\"}")
    size_node = fields.require("size")
    size = size_node.integer()
    if not 1 <= size <= MAX_DIMENSION:
        size_node.invalid(f"must be between 1 and {MAX_DIMENSION}, got {size}")
    distance = fields.require("distance")
    if distance.value not in [d.value for d in Distance]:
        distance.fail("\"Cosine\", \"Dot\", \"Euclid\" or \"Manhattan\"")
    extra = {name: kind.read(child) for name, kind in settings.VECTOR_EXTRA.items()
             if (child := fields.get(name)) is not None}
    return DenseVectorParams(size, Distance(distance.value), extra)


def _sparse(node: Node) -> SparseVectorParams:
    values = settings.SPARSE_PARAMS.read(node)
    modifier = Modifier(values.pop("modifier", "none"))
    return SparseVectorParams(modifier, values)


def _metadata(fields: Fields) -> dict[str, Any] | None:
    metadata = fields.get("metadata")
    if metadata is None:
        return None
    if not metadata.is_object:
        metadata.fail("an object")
    return dict(metadata.value)


def collection_config(node: Node) -> CollectionConfig:
    fields = node.fields(_CREATE_KEYS, "a collection config object")
    if fields.has("init_from"):
        raise Unimplemented("the collection setting `init_from` (copying another collection)")
    dense: dict[str, DenseVectorParams] = {}
    unnamed = False
    vectors = fields.get("vectors")
    if vectors is not None:
        if vectors.is_object and "size" in vectors.value:
            dense[DEFAULT_VECTOR] = _dense(vectors)
            unnamed = True
        else:
            for name, params in vectors.entries("vector params, or an object of named vector params"):
                if not name:
                    params.invalid("vector names must not be empty")
                dense[name] = _dense(params)
    sparse: dict[str, SparseVectorParams] = {}
    sparse_node = fields.get("sparse_vectors")
    if sparse_node is not None:
        for name, params in sparse_node.entries():
            if name in dense:
                params.invalid(f"`{name}` is already a dense vector name")
            sparse[name] = _sparse(params)
    defaults = CollectionConfig()
    hnsw_node = fields.get("hnsw_config")
    optimizers_node = fields.get("optimizers_config", "optimizer_config")
    wal_node = fields.get("wal_config")
    quantization = fields.get("quantization_config", "quantization")
    strict_mode = fields.get("strict_mode_config")
    distribution = {name: kind.read(child) for name, kind in settings.PARAMS.items()
                    if (child := fields.get(name)) is not None}
    return CollectionConfig(
        dense=dense, sparse=sparse, unnamed=unnamed, created_at=time.time(), metadata=_metadata(fields) or {},
        hnsw=hnsw_with(defaults.hnsw, settings.HNSW_DIFF.read(hnsw_node)) if hnsw_node is not None else defaults.hnsw,
        optimizers=(optimizers_with(defaults.optimizers, settings.OPTIMIZERS_DIFF.read(optimizers_node))
                    if optimizers_node is not None else defaults.optimizers),
        wal={**defaults.wal, **(settings.WAL_DIFF.read(wal_node) if wal_node is not None else {})},
        params={**defaults.params, **distribution},
        quantization=settings.QUANTIZATION.read(quantization) if quantization is not None else None,
        strict_mode=strict_mode_from(settings.STRICT_MODE.read(strict_mode)) if strict_mode is not None else None,
    )


def _quantization_change(node: Node | None) -> dict[str, Any] | None:
    if node is None:
        return None
    value = settings.QUANTIZATION_DIFF.read(node)
    return {} if value == settings.DISABLED else value


def collection_update(node: Node) -> CollectionUpdate:
    fields = node.fields({"vectors", "optimizers_config", "params", "hnsw_config", "quantization_config",
                          "sparse_vectors", "strict_mode_config", "metadata"}, "a collection update object")
    vectors: dict[str, VectorUpdate] = {}
    vectors_node = fields.get("vectors")
    if vectors_node is not None:
        for name, diff in vectors_node.entries("an object of vector settings by name (\"\" for the unnamed vector)"):
            diff_fields = diff.fields(settings.VECTOR_DIFF.fields, settings.VECTOR_DIFF.expected)
            values = settings.VECTOR_DIFF.read(diff)
            vectors[name] = VectorUpdate(
                hnsw=values.get("hnsw_config"), quantization=_quantization_change(diff_fields.get("quantization_config")),
                on_disk=values.get("on_disk"), memory=values.get("memory"),
            )
    sparse_node = fields.get("sparse_vectors")
    if sparse_node is not None:
        for name, params in sparse_node.entries():
            if name in vectors:
                params.invalid(f"`{name}` is also under `vectors`")
            values = settings.SPARSE_PARAMS.read(params)
            vectors[name] = VectorUpdate(
                sparse_index=values.get("index"),
                modifier=Modifier(values["modifier"]) if "modifier" in values else None,
            )
    hnsw_node = fields.get("hnsw_config")
    optimizers_node = fields.get("optimizers_config")
    params_node = fields.get("params")
    strict_mode = fields.get("strict_mode_config")
    return CollectionUpdate(
        hnsw=settings.HNSW_DIFF.read(hnsw_node) if hnsw_node is not None else None,
        optimizers=settings.OPTIMIZERS_DIFF.read(optimizers_node) if optimizers_node is not None else None,
        metadata=_metadata(fields),
        params=settings.PARAMS_DIFF.read(params_node) if params_node is not None else None,
        quantization=_quantization_change(fields.get("quantization_config")),
        strict_mode=settings.STRICT_MODE.read(strict_mode) if strict_mode is not None else None,
        vectors=vectors or None,
    )


def alias_actions(node: Node) -> list[AliasAction]:
    """`{"actions": [{"create_alias": {...}} | {"delete_alias": {...}} | {"rename_alias": {...}}]}`."""
    out: list[AliasAction] = []
    for action in node.fields({"actions"}, '{"actions": [...]}').require("actions").items():
        fields = action.fields({"create_alias", "delete_alias", "rename_alias"},
                               "an alias action {\"create_alias\"|\"delete_alias\"|\"rename_alias\": {...}}")
        if len(action.value) != 1:
            action.fail("exactly one of create_alias, delete_alias, rename_alias")
        if (create := fields.get("create_alias")) is not None:
            f = create.fields({"collection_name", "alias_name"})
            out.append(CreateAlias(f.require("collection_name").string(), f.require("alias_name").string()))
        elif (delete := fields.get("delete_alias")) is not None:
            out.append(DeleteAlias(delete.fields({"alias_name"}).require("alias_name").string()))
        else:
            rename = fields.require("rename_alias")
            f = rename.fields({"old_alias_name", "new_alias_name"})
            out.append(RenameAlias(f.require("old_alias_name").string(), f.require("new_alias_name").string()))
    return out


def field_index(node: Node) -> tuple[str, str, dict[str, Any] | None]:
    """(field name, index type, parameters or None) from `{"field_name", "field_schema"}`."""
    fields = node.fields({"field_name", "field_schema", "field_type"})
    name = fields.require("field_name").string()
    schema = fields.get("field_schema", "field_type")
    if schema is None:
        raise JsonFormatError(node.path, "missing field `field_schema` (keyword, integer, float, geo, text, bool, "
                                         "datetime or uuid)")
    if not schema.is_object:
        if schema.value not in FIELD_INDEX_TYPES:
            schema.fail(f"one of {', '.join(FIELD_INDEX_TYPES)} (or an object with `type`)")
        return name, str(schema.value), None
    kind = schema.value.get("type")
    if kind not in FIELD_INDEX_TYPES:
        schema.fail(f"an object whose `type` is one of {', '.join(FIELD_INDEX_TYPES)}")
    params = settings.PAYLOAD_INDEX_PARAMS[kind].read(schema)
    return name, kind, params


# ------------------------------------------------------------------ output


def _vector_params(params: DenseVectorParams) -> dict[str, Any]:
    return {"size": params.size, "distance": params.distance.value, **params.extra}


def info_out(info: CollectionInfo) -> dict[str, Any]:
    config = info.config
    if config.unnamed:
        vectors: dict[str, Any] = _vector_params(config.dense[DEFAULT_VECTOR])
    else:
        vectors = {name: _vector_params(p) for name, p in config.dense.items()}
    params: dict[str, Any] = {"vectors": vectors, **config.params}
    if config.sparse:
        params["sparse_vectors"] = {
            name: ({"modifier": "idf"} if p.modifier is Modifier.IDF else {}) | p.extra for name, p in config.sparse.items()
        }
    opt = config.optimizers
    hnsw = config.hnsw
    out_config: dict[str, Any] = {
        "params": params,
        "hnsw_config": {"m": hnsw.m, "ef_construct": hnsw.ef_construct, "full_scan_threshold": hnsw.full_scan_threshold,
                        **hnsw.extra},
        "optimizer_config": {
            "deleted_threshold": opt.deleted_threshold, "vacuum_min_vector_number": opt.vacuum_min_vector_number,
            "default_segment_number": opt.default_segment_number, "max_segment_size": opt.max_segment_size,
            "memmap_threshold": None, "indexing_threshold": opt.indexing_threshold,
            "flush_interval_sec": opt.flush_interval_sec, "max_optimization_threads": None, **opt.extra,
        },
        "wal_config": config.wal,
        "quantization_config": config.quantization,
    }
    if config.strict_mode is not None:
        out_config["strict_mode_config"] = strict_mode_settings(config.strict_mode)
    if config.metadata:
        out_config["metadata"] = config.metadata
    return {
        "status": info.status,
        "optimizer_status": "ok",
        "indexed_vectors_count": info.indexed_vectors_count,
        "points_count": info.points_count,
        "segments_count": info.segments_count,
        "config": out_config,
        "payload_schema": {name: _index_out(index) for name, index in info.payload_schema.items()},
    }


def _index_out(index: PayloadIndexInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"data_type": index.type, "points": index.points}
    if index.params is not None:
        out["params"] = index.params
    return out
