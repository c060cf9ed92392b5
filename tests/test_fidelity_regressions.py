"""Issue 11's "Why", one named test per bullet, through the real qdrant-client and both doors:
each was an answer that differed from Qdrant's without any error."""

from __future__ import annotations

import pytest
from qdrant_client import models

from conftest import make_client

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]


@pytest.fixture(scope="module", params=DOORS)
def qc(request, shared_server):
    client = make_client(shared_server, prefer_grpc=request.param)
    client.door = "grpc" if request.param else "rest"  # collection names per door
    yield client
    client.close()


def _collection(qc, name: str, payloads: dict[int, dict]) -> str:
    name = f"{name}_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                         sparse_vectors_config={"kw": models.SparseVectorParams()})
    qc.upsert(name, points=[models.PointStruct(id=i, vector={"": [1.0, 0.0]}, payload=p) for i, p in payloads.items()])
    return name


def _ids(qc, name: str, condition: models.Condition) -> list[int]:
    records, _ = qc.scroll(name, scroll_filter=models.Filter(must=[condition]), limit=100)
    return sorted(int(r.id) for r in records)


def test_text_match_without_an_index_matches_whole_tokens_not_substrings(qc):
    name = _collection(qc, "why_text", {1: {"t": "elephant giraffe"}, 2: {"t": "an ant colony"}})
    assert _ids(qc, name, models.FieldCondition(key="t", match=models.MatchText(text="ant"))) == [2]
    assert _ids(qc, name, models.FieldCondition(key="t", match=models.MatchText(text="Giraffe"))) == [1]


def test_values_count_is_empty_and_is_null_follow_qdrant_on_nulls_and_arrays(qc):
    name = _collection(qc, "why_counts", {1: {"a": None}, 2: {"a": []}, 3: {"a": [None]}, 4: {"a": [1, 2]},
                                          5: {}, 6: {"a": 7}})
    assert _ids(qc, name, models.IsEmptyCondition(is_empty=models.PayloadField(key="a"))) == [1, 2, 5]
    assert _ids(qc, name, models.IsNullCondition(is_null=models.PayloadField(key="a"))) == [1, 3]
    assert _ids(qc, name, models.FieldCondition(key="a", values_count=models.ValuesCount(gte=1))) == [3, 4, 6]
    assert _ids(qc, name, models.FieldCondition(key="a", values_count=models.ValuesCount(lt=1))) == [1, 2, 5]


def test_payload_exclude_of_a_nested_key_removes_it(qc):
    name = _collection(qc, "why_exclude", {1: {"nested": {"id": 1, "keep": 2}, "top": 3}})
    (record,) = qc.retrieve(name, ids=[1], with_payload=models.PayloadSelectorExclude(exclude=["nested.id"]))
    assert record.payload == {"nested": {"keep": 2}, "top": 3}


def test_set_payload_with_an_array_index_key_updates_the_element(qc):
    name = _collection(qc, "why_set_key", {1: {"nest": [{"a": 1}, {"a": 2}]}})
    qc.set_payload(name, payload={"b": 9}, points=[1], key="nest[0]")
    (record,) = qc.retrieve(name, ids=[1])
    assert record.payload == {"nest": [{"a": 1, "b": 9}, {"a": 2}]}


def test_sparse_vectors_come_back_sorted_by_index(qc):
    name = _collection(qc, "why_sparse", {})
    qc.upsert(name, points=[models.PointStruct(id=1, vector={"kw": models.SparseVector(indices=[9, 2, 5],
                                                                                        values=[0.9, 0.2, 0.5])})])
    (record,) = qc.retrieve(name, ids=[1], with_vectors=["kw"])
    assert record.vector["kw"].indices == [2, 5, 9]
    assert record.vector["kw"].values == pytest.approx([0.2, 0.5, 0.9])


def test_a_query_without_query_or_prefetch_scores_one(qc):
    name = _collection(qc, "why_score", {1: {}, 2: {}})
    points = qc.query_points(name, limit=10).points
    assert [(p.id, p.score) for p in points] == [(1, 1.0), (2, 1.0)]


def test_payload_index_parameters_come_back(qc):
    name = _collection(qc, "why_index", {})
    qc.create_payload_index(name, "tenant", field_schema=models.KeywordIndexParams(
        type=models.KeywordIndexType.KEYWORD, is_tenant=True))
    qc.create_payload_index(name, "body", field_schema=models.TextIndexParams(
        type=models.TextIndexType.TEXT, tokenizer=models.TokenizerType.WHITESPACE, lowercase=False))
    schema = qc.get_collection(name).payload_schema
    assert schema["tenant"].params.is_tenant is True
    assert schema["body"].params.tokenizer == models.TokenizerType.WHITESPACE
    assert schema["body"].params.lowercase is False


def test_quantization_per_vector_settings_and_strict_mode_are_returned(qc):
    name = f"why_settings_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(
        name,
        vectors_config={"v": models.VectorParams(size=4, distance=models.Distance.COSINE, on_disk=True,
                                                 hnsw_config=models.HnswConfigDiff(m=8))},
        quantization_config=models.ScalarQuantization(scalar=models.ScalarQuantizationConfig(
            type=models.ScalarType.INT8)),
        strict_mode_config=models.StrictModeConfig(enabled=False, max_query_limit=10),
    )
    config = qc.get_collection(name).config
    assert config.quantization_config.scalar.type == models.ScalarType.INT8
    assert config.params.vectors["v"].on_disk is True and config.params.vectors["v"].hnsw_config.m == 8
    assert (config.strict_mode_config.enabled, config.strict_mode_config.max_query_limit) == (False, 10)


def test_collections_update_changes_settings_after_creation(qc):
    name = _collection(qc, "why_update", {})
    assert qc.update_collection(name, hnsw_config=models.HnswConfigDiff(ef_construct=64),
                                optimizers_config=models.OptimizersConfigDiff(indexing_threshold=1234))
    config = qc.get_collection(name).config
    assert config.hnsw_config.ef_construct == 64 and config.optimizer_config.indexing_threshold == 1234
