"""Every setting a client may send on create and update is kept, returned by get_collection in
Qdrant's shape through both doors, and survives a restart; payload index parameters too."""

from __future__ import annotations

import pytest
from qdrant_client import models

from conftest import make_client
from rest_http import call

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]

CREATE = dict(
    vectors_config={
        "text": models.VectorParams(
            size=8, distance=models.Distance.COSINE, on_disk=True,
            hnsw_config=models.HnswConfigDiff(m=24, ef_construct=80, payload_m=8),
            quantization_config=models.ProductQuantization(
                product=models.ProductQuantizationConfig(compression=models.CompressionRatio.X16, always_ram=True)),
            datatype=models.Datatype.FLOAT32,
        ),
        "image": models.VectorParams(size=4, distance=models.Distance.EUCLID),
    },
    sparse_vectors_config={
        "bm25": models.SparseVectorParams(
            index=models.SparseIndexParams(full_scan_threshold=500, on_disk=False), modifier=models.Modifier.IDF),
    },
    shard_number=2, replication_factor=2, write_consistency_factor=1, on_disk_payload=False,
    hnsw_config=models.HnswConfigDiff(m=20, ef_construct=90, full_scan_threshold=5000, max_indexing_threads=2,
                                      on_disk=True, payload_m=12),
    optimizers_config=models.OptimizersConfigDiff(deleted_threshold=0.3, vacuum_min_vector_number=500,
                                                  default_segment_number=2, memmap_threshold=20000,
                                                  indexing_threshold=15000, flush_interval_sec=7,
                                                  max_optimization_threads=1),
    wal_config=models.WalConfigDiff(wal_capacity_mb=64, wal_segments_ahead=1),
    quantization_config=models.ScalarQuantization(
        scalar=models.ScalarQuantizationConfig(type=models.ScalarType.INT8, quantile=0.99, always_ram=True)),
    strict_mode_config=models.StrictModeConfig(
        enabled=True, max_query_limit=100, max_timeout=30, unindexed_filtering_retrieve=True,
        unindexed_filtering_update=True, search_max_hnsw_ef=256, search_allow_exact=True,
        search_max_oversampling=3.0, upsert_max_batchsize=1000, search_max_batchsize=20,
        max_collection_vector_size_bytes=10**9, read_rate_limit=10000, write_rate_limit=10000,
        max_collection_payload_size_bytes=10**9, filter_max_conditions=50, condition_max_size=200,
        max_points_count=10**6, max_payload_index_count=20,
        sparse_config={"bm25": models.StrictModeSparse(max_length=400)},
    ),
    metadata={"team": "search", "version": 3},
)

INDEXES = {
    "tenant": models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True, on_disk=True),
    "year": models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER, lookup=False, range=True,
                                      is_principal=True),
    "price": models.FloatIndexParams(type=models.FloatIndexType.FLOAT, is_principal=True),
    "body": models.TextIndexParams(
        type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WORD, lowercase=True, min_token_len=2,
        max_token_len=20, phrase_matching=True, ascii_folding=True,
        stopwords=models.StopwordsSet(languages=[models.Language.ENGLISH], custom=["foo"]),
        stemmer=models.SnowballParams(type=models.Snowball.SNOWBALL, language=models.SnowballLanguage.ENGLISH),
    ),
    "when": models.DatetimeIndexParams(type=models.DatetimeIndexType.DATETIME, is_principal=True),
    "uid": models.UuidIndexParams(type=models.UuidIndexType.UUID, is_tenant=True),
    "flag": models.BoolIndexParams(type=models.BoolIndexType.BOOL),
    "place": models.GeoIndexParams(type=models.GeoIndexType.GEO, on_disk=True),
}


def _sent(model: object) -> dict:
    assert hasattr(model, "model_dump")
    return model.model_dump(exclude_none=True, mode="json")


def _check_config(info: models.CollectionInfo) -> None:
    config = info.config
    params = config.params
    assert (params.shard_number, params.replication_factor, params.write_consistency_factor) == (2, 2, 1)
    assert params.on_disk_payload is False
    for name in ("text", "image"):
        sent = _sent(CREATE["vectors_config"][name])
        got = _sent(params.vectors[name])
        assert {k: v for k, v in got.items() if k in sent} == sent, name
    assert _sent(params.sparse_vectors["bm25"]) == _sent(CREATE["sparse_vectors_config"]["bm25"])
    hnsw = _sent(config.hnsw_config)
    assert {k: hnsw[k] for k in _sent(CREATE["hnsw_config"])} == _sent(CREATE["hnsw_config"])
    optimizers = _sent(config.optimizer_config)
    assert {k: optimizers[k] for k in _sent(CREATE["optimizers_config"])} == _sent(CREATE["optimizers_config"])
    assert (config.wal_config.wal_capacity_mb, config.wal_config.wal_segments_ahead) == (64, 1)
    quantization = _sent(config.quantization_config)
    assert quantization["scalar"]["type"] == "int8" and quantization["scalar"]["always_ram"] is True
    assert quantization["scalar"]["quantile"] == pytest.approx(0.99)
    strict = _sent(config.strict_mode_config)
    sent_strict = _sent(CREATE["strict_mode_config"])
    assert strict.pop("search_max_oversampling") == pytest.approx(sent_strict.pop("search_max_oversampling"))
    assert strict == sent_strict
    assert config.metadata == CREATE["metadata"]
    for field, index in INDEXES.items():
        schema = info.payload_schema[field]
        assert schema.data_type.value == index.type.value, field
        if _sent(index) == {"type": index.type.value} and schema.params is None:
            continue  # nothing but the type: the gRPC client sends no parameters at all
        assert _sent(schema.params) == _sent(index), field


def _create(client, name: str) -> None:
    client.create_collection(name, **CREATE)
    for field, index in INDEXES.items():
        client.create_payload_index(name, field, field_schema=index)


@pytest.mark.parametrize("grpc_door", DOORS)
def test_settings_round_trip_through_both_doors_and_a_restart(server_factory, grpc_door):
    server = server_factory().start()
    client = make_client(server, prefer_grpc=grpc_door)
    _create(client, "kept")
    _check_config(client.get_collection("kept"))
    # The other door reads the same settings.
    other = make_client(server, prefer_grpc=not grpc_door)
    _check_config(other.get_collection("kept"))
    client.close()
    other.close()
    server.stop()

    restarted = server_factory(storage_dir=server.storage_dir).start()
    for door in (True, False):
        reader = make_client(restarted, prefer_grpc=door)
        _check_config(reader.get_collection("kept"))
        reader.close()


@pytest.mark.parametrize("grpc_door", DOORS)
def test_update_collection_changes_each_setting_and_keeps_it(server_factory, grpc_door):
    server = server_factory().start()
    client = make_client(server, prefer_grpc=grpc_door)
    _create(client, "changing")
    assert client.update_collection(
        "changing",
        optimizers_config=models.OptimizersConfigDiff(indexing_threshold=30000, prevent_unoptimized=True),
        hnsw_config=models.HnswConfigDiff(ef_construct=120, payload_m=16),
        vectors_config={"text": models.VectorParamsDiff(
            hnsw_config=models.HnswConfigDiff(m=32), quantization_config=models.Disabled.DISABLED, on_disk=False)},
        quantization_config=models.BinaryQuantization(binary=models.BinaryQuantizationConfig(always_ram=False)),
        sparse_vectors_config={"bm25": models.SparseVectorParams(index=models.SparseIndexParams(full_scan_threshold=900))},
        strict_mode_config=models.StrictModeConfig(max_query_limit=50, read_rate_limit=500),
        collection_params=models.CollectionParamsDiff(replication_factor=3, read_fan_out_factor=1),
        metadata={"version": 4, "team": None},
    )

    def check(info: models.CollectionInfo) -> None:
        config = info.config
        assert config.optimizer_config.indexing_threshold == 30000
        assert config.optimizer_config.prevent_unoptimized is True
        assert config.optimizer_config.memmap_threshold == 20000  # untouched settings stay
        assert (config.hnsw_config.m, config.hnsw_config.ef_construct, config.hnsw_config.payload_m) == (20, 120, 16)
        text = config.params.vectors["text"]
        assert text.hnsw_config.m == 32 and text.hnsw_config.ef_construct == 80
        assert text.quantization_config is None and text.on_disk is False
        assert _sent(config.quantization_config) == {"binary": {"always_ram": False}}
        index = config.params.sparse_vectors["bm25"].index
        assert (index.full_scan_threshold, index.on_disk) == (900, False)
        assert config.params.sparse_vectors["bm25"].modifier == models.Modifier.IDF
        strict = config.strict_mode_config
        assert (strict.enabled, strict.max_query_limit, strict.read_rate_limit, strict.max_timeout) == (True, 50, 500, 30)
        assert strict.sparse_config["bm25"].max_length == 400
        assert (config.params.replication_factor, config.params.read_fan_out_factor) == (3, 1)
        assert config.metadata == {"version": 4}

    check(client.get_collection("changing"))
    client.close()
    server.stop()
    restarted = server_factory(storage_dir=server.storage_dir).start()
    for door in (True, False):
        reader = make_client(restarted, prefer_grpc=door)
        check(reader.get_collection("changing"))
        reader.close()


def test_quantization_disabled_removes_it(shared_server):
    client = make_client(shared_server)
    client.create_collection("quantized", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT),
                             quantization_config=CREATE["quantization_config"])
    client.update_collection("quantized", quantization_config=models.Disabled.DISABLED)
    assert client.get_collection("quantized").config.quantization_config is None
    client.close()


@pytest.mark.parametrize("grpc_door", DOORS)
def test_max_segment_size_is_unset_until_a_client_sets_it(shared_server, grpc_door):
    """As in Qdrant: unset means 200,000 KB per CPU, and get_collection says unset (null), not a
    number the client never sent; a value the client sends is kept and returned."""
    client = make_client(shared_server, prefer_grpc=grpc_door)
    name = f"segment_size_{'grpc' if grpc_door else 'rest'}"
    client.create_collection(name, vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    assert client.get_collection(name).config.optimizer_config.max_segment_size is None
    client.update_collection(name, optimizers_config=models.OptimizersConfigDiff(max_segment_size=150_000))
    assert client.get_collection(name).config.optimizer_config.max_segment_size == 150_000
    client.close()


@pytest.mark.parametrize("body, status, message", [
    ({"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 16, "bogus": 1}}, 400,
     "hnsw_config.bogus: unknown field"),
    ({"vectors": {"size": 4, "distance": "Dot"}, "quantization_config": {"scalar": {"type": "int4"}}}, 400,
     "quantization_config.scalar.type"),
    ({"vectors": {"size": 4, "distance": "Dot"}, "quantization_config": {"scalar": {}, "binary": {}}}, 400,
     "quantization_config"),
    ({"vectors": {"size": 4, "distance": "Dot"}, "strict_mode_config": {"enabled": "yes"}}, 400,
     "strict_mode_config.enabled"),
    ({"vectors": {"size": 4, "distance": "Dot"}, "wal_config": {"wal_capacity_mb": 0}}, 400,
     "wal_config.wal_capacity_mb"),
    ({"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 0}}, 501, "Not implemented: `hnsw_config.m` = 0"),
])
def test_bad_settings_name_the_field(shared_server, body, status, message):
    got, _, answer = call(shared_server.http_port, "PUT", "/collections/bad_settings", body)
    assert got == status, answer
    assert message in answer["status"]["error"]
    got, _, _ = call(shared_server.http_port, "GET", "/collections/bad_settings")
    assert got == 404


def test_updating_an_unknown_vector_is_refused(shared_server):
    client = make_client(shared_server)
    client.create_collection("one_vector", vectors_config=models.VectorParams(size=4, distance=models.Distance.DOT))
    for door in (True, False):
        c = make_client(shared_server, prefer_grpc=door)
        with pytest.raises(Exception, match="Not existing vector name error: missing"):
            c.update_collection("one_vector", vectors_config={"missing": models.VectorParamsDiff(on_disk=True)})
        c.close()
    client.close()


@pytest.mark.parametrize("schema, message", [
    ({"type": "keyword", "is_tenant": "yes"}, "field_schema.is_tenant"),
    ({"type": "text", "tokenizer": "letters"}, "field_schema.tokenizer"),
    ({"type": "integer", "prefix": True}, "field_schema.prefix: unknown field"),
    ({"type": "text", "stemmer": {"type": "snowball", "language": "klingon"}}, "field_schema.stemmer.language"),
])
def test_bad_index_params_name_the_field(shared_server, schema, message):
    call(shared_server.http_port, "PUT", "/collections/index_params",
         {"vectors": {"size": 4, "distance": "Dot"}})
    got, _, answer = call(shared_server.http_port, "PUT", "/collections/index_params/index",
                          {"field_name": "f", "field_schema": schema})
    assert got == 400, answer
    assert message in answer["status"]["error"]
