"""Distance matrices end to end through qdrant-client 1.20 over both doors (spec §8.3): the sample
is random, so a whole-collection sample is compared exactly and smaller samples by property (ids
in order, drawn from the points that pass the filter and hold the vector, each row's neighbours
the true nearest within the sample, itself excluded); distances, sparse vectors, errors and
strict mode."""

from __future__ import annotations

import json

import grpc
import numpy as np
import pytest
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import make_client
from rest_http import call

DOORS = ("grpc", "rest")


@pytest.fixture(scope="module")
def clients(shared_server):
    made = {"grpc": make_client(shared_server), "rest": make_client(shared_server, prefer_grpc=False)}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(params=DOORS)
def door(request):
    return request.param


def _refusal(door: str, call_it) -> tuple[object, str]:
    if door == "grpc":
        with pytest.raises(grpc.RpcError) as info:
            call_it()
        return info.value.code(), info.value.details()
    with pytest.raises(UnexpectedResponse) as info:
        call_it()
    return info.value.status_code, json.loads(info.value.content)["status"]["error"]


@pytest.fixture(scope="module")
def spec_matrix(clients):
    """Spec §8.3: points [i, 1] for i = 1..4, Dot."""
    client = clients["grpc"]
    name = "matrix_spec"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[float(i), 1.0], payload={"i": i}) for i in range(1, 5)])
    return name


def _rows_of_pairs(pairs) -> dict:
    rows: dict = {}
    for pair in pairs:
        rows.setdefault(pair.a, []).append((pair.b, pair.score))
    return rows


def test_spec_offsets_whole_collection(clients, door, spec_matrix):
    result = clients[door].search_matrix_offsets(spec_matrix, sample=10, limit=1)
    assert result.ids == [1, 2, 3, 4]
    assert result.offsets_row == [0, 1, 2, 3]
    assert result.offsets_col == [3, 3, 3, 2]
    assert result.scores == [5.0, 9.0, 13.0, 13.0]


def test_spec_pairs_whole_collection(clients, door, spec_matrix):
    result = clients[door].search_matrix_pairs(spec_matrix, sample=4, limit=2)
    assert [(p.a, p.b, p.score) for p in result.pairs] == [
        (1, 4, 5.0), (1, 3, 4.0), (2, 4, 9.0), (2, 3, 7.0), (3, 4, 13.0), (3, 2, 7.0), (4, 3, 13.0), (4, 2, 9.0)]


def test_spec_pairs_sample_of_three_by_property(clients, door, spec_matrix):
    vectors = {i: np.array([float(i), 1.0]) for i in range(1, 5)}
    seen = set()
    for _ in range(12):
        result = clients[door].search_matrix_pairs(spec_matrix, sample=3, limit=2)
        rows = _rows_of_pairs(result.pairs)
        sample = sorted(rows)
        assert len(sample) == 3 and set(sample) <= {1, 2, 3, 4}
        assert [p.a for p in result.pairs] == sorted(p.a for p in result.pairs)  # rows in id order
        for a, found in rows.items():
            expected = sorted(((b, float(vectors[a] @ vectors[b])) for b in sample if b != a), key=lambda x: -x[1])
            assert found == expected, (a, sample)
        seen.add(tuple(sample))
    assert len(seen) > 1  # the sample is random


def _random_collection(client, name: str, distance: models.Distance, n: int = 40, seed: int = 7) -> dict:
    rng = np.random.default_rng(seed)
    vectors = {i: rng.normal(size=4).astype(np.float32) for i in range(1, n + 1)}
    client.delete_collection(name)
    client.create_collection(name, vectors_config={"v": models.VectorParams(size=4, distance=distance)})
    client.upsert(name, points=[models.PointStruct(id=i, vector={"v": v.tolist()}, payload={"even": i % 2 == 0})
                                for i, v in vectors.items()])
    return vectors


def _score(distance: models.Distance, a: np.ndarray, b: np.ndarray) -> float:
    if distance == models.Distance.COSINE:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    if distance == models.Distance.DOT:
        return float(a @ b)
    if distance == models.Distance.EUCLID:
        return float(np.linalg.norm(a - b))
    return float(np.abs(a - b).sum())


@pytest.mark.parametrize("distance", [models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID,
                                      models.Distance.MANHATTAN])
def test_neighbours_are_the_nearest_within_the_sample(clients, door, distance):
    client = clients[door]
    name = f"matrix_{distance.value.lower()}_{door}"
    vectors = _random_collection(client, name, distance)
    evens = models.Filter(must=[models.FieldCondition(key="even", match=models.MatchValue(value=True))])
    result = client.search_matrix_offsets(name, sample=8, limit=3, using="v", query_filter=evens)
    assert len(result.ids) == 8 and all(i % 2 == 0 for i in result.ids) and result.ids == sorted(result.ids)
    smaller_is_better = distance in (models.Distance.EUCLID, models.Distance.MANHATTAN)
    for row in range(8):
        cols = [c for r, c in zip(result.offsets_row, result.offsets_col) if r == row]
        scores = [s for r, s in zip(result.offsets_row, result.scores) if r == row]
        a = result.ids[row]
        truth = sorted((_score(distance, vectors[a], vectors[b]) for b in result.ids if b != a),
                       reverse=not smaller_is_better)[:3]
        assert len(cols) == 3 and row not in cols
        assert scores == pytest.approx(truth, rel=1e-4, abs=1e-5)
        for col, score in zip(cols, scores):
            assert score == pytest.approx(_score(distance, vectors[a], vectors[result.ids[col]]), rel=1e-4, abs=1e-5)


def test_points_without_the_vector_and_small_samples(clients, door):
    client = clients[door]
    name = f"matrix_named_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config={"a": models.VectorParams(size=2, distance=models.Distance.DOT),
                                                   "b": models.VectorParams(size=2, distance=models.Distance.DOT)})
    client.upsert(name, points=[
        models.PointStruct(id=1, vector={"a": [1.0, 0.0], "b": [1.0, 0.0]}),
        models.PointStruct(id=2, vector={"a": [0.0, 1.0]}),
        models.PointStruct(id=3, vector={"b": [0.5, 0.5]}),
        models.PointStruct(id="0e3f4a6b-1c2d-4e5f-8a9b-0c1d2e3f4a5b", vector={"b": [2.0, 0.0]}),
    ])
    result = client.search_matrix_offsets(name, using="b", sample=10, limit=5)
    assert result.ids == [1, 3, "0e3f4a6b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"]  # integers before UUIDs
    assert len(result.scores) == 6
    result = client.search_matrix_pairs(name, using="a", sample=10, limit=1)
    assert [(p.a, p.b, p.score) for p in result.pairs] == [(1, 2, 0.0), (2, 1, 0.0)]
    only_one = models.Filter(must=[models.HasIdCondition(has_id=[1])])
    assert client.search_matrix_pairs(name, using="a", query_filter=only_one).pairs == []
    empty = client.search_matrix_offsets(name, using="a", query_filter=only_one)
    assert (empty.ids, empty.offsets_row, empty.offsets_col, empty.scores) == ([], [], [], [])


def test_sparse_vectors(clients, door):
    client = clients[door]
    name = f"matrix_sparse_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config={}, sparse_vectors_config={"s": models.SparseVectorParams()})
    client.upsert(name, points=[
        models.PointStruct(id=1, vector={"s": models.SparseVector(indices=[1, 2], values=[1.0, 1.0])}),
        models.PointStruct(id=2, vector={"s": models.SparseVector(indices=[2], values=[3.0])}),
        models.PointStruct(id=3, vector={"s": models.SparseVector(indices=[9], values=[1.0])}),
    ])
    result = client.search_matrix_pairs(name, using="s", sample=3, limit=2)
    # A sparse neighbour needs an overlap: point 3 shares no index with the others.
    assert [(p.a, p.b, p.score) for p in result.pairs] == [(1, 2, 3.0), (2, 1, 3.0)]


def test_errors(clients, door, spec_matrix):
    client = clients[door]
    code, message = _refusal(door, lambda: client.search_matrix_pairs(spec_matrix, sample=1))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 422) and "sample" in message
    code, message = _refusal(door, lambda: client.search_matrix_offsets(spec_matrix, limit=0))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 422) and "limit" in message
    code, message = _refusal(door, lambda: client.search_matrix_pairs(spec_matrix, using="nope"))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 400) and "Not existing vector name" in message
    code, _ = _refusal(door, lambda: client.search_matrix_pairs("matrix_missing_collection"))
    assert code in (grpc.StatusCode.NOT_FOUND, 404)


def test_rest_shapes(shared_server, spec_matrix):
    port = shared_server.http_port
    status, _, body = call(port, "POST", f"/collections/{spec_matrix}/points/search/matrix/offsets",
                           {"sample": 4, "limit": 1})
    assert status == 200, body
    assert body["result"] == {"offsets_row": [0, 1, 2, 3], "offsets_col": [3, 3, 3, 2],
                              "scores": [5.0, 9.0, 13.0, 13.0], "ids": [1, 2, 3, 4]}
    status, _, body = call(port, "POST", f"/collections/{spec_matrix}/points/search/matrix/pairs",
                           {"filter": {"must": [{"key": "i", "range": {"lte": 2}}]}})
    assert status == 200, body
    assert body["result"] == {"pairs": [{"a": 1, "b": 2, "score": 3.0}, {"a": 2, "b": 1, "score": 3.0}]}
    status, _, body = call(port, "POST", f"/collections/{spec_matrix}/points/search/matrix/pairs", {"sample": "x"})
    assert status == 400 and "sample" in body["status"]["error"], body
    # No body: the defaults (sample 10, limit 3).
    status, _, body = call(port, "POST", f"/collections/{spec_matrix}/points/search/matrix/pairs")
    assert status == 200 and len(body["result"]["pairs"]) == 12, body


def test_strict_mode(clients, door):
    client = clients[door]
    name = f"matrix_strict_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             strict_mode_config=models.StrictModeConfig(enabled=True, max_query_limit=20,
                                                                        unindexed_filtering_retrieve=False))
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)], payload={"i": i}) for i in range(5)])
    assert _refusal(door, lambda: client.search_matrix_pairs(name, sample=10, limit=3))[1] == (
        'Bad request: Limit exceeded 30 > 20 for "limit". Help: Reduce the "limit" parameter to or below 20.')
    by_i = models.Filter(must=[models.FieldCondition(key="i", range=models.Range(gte=1))])
    assert _refusal(door, lambda: client.search_matrix_pairs(name, sample=5, limit=2, query_filter=by_i))[1] == (
        'Bad request: Index required but not found for "i" of one of the following types: [float, integer]. '
        "Help: Create an index for this key or use a different filter.")
    assert len(client.search_matrix_offsets(name, sample=5, limit=4).scores) == 20
