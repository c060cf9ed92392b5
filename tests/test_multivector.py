"""Multivectors (a dense vector created with `multivector_config: {comparator: max_sim}`) end to
end through qdrant-client 1.20, over both doors: the spec's MaxSim example (§6.4), writes and
reads of matrices, every query kind that takes a vector (nearest, prefetch rescoring,
recommend's three strategies, discover, context, MMR, relevance feedback, lookup_from),
score_threshold, has_vector, errors, strict mode's max_vectors, inference objects refused for a
multivector slot, and persistence across restarts through sealed segments and optimizer merges.
Expected scores come from a numpy MaxSim written here from the spec."""

from __future__ import annotations

import json
import time
from contextlib import closing

import grpc
import numpy as np
import pytest
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import make_client
from rest_http import call

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]
MAXSIM = models.MultiVectorConfig(comparator=models.MultiVectorComparator.MAX_SIM)


@pytest.fixture(scope="module", params=DOORS)
def qc(request, shared_server):
    client = make_client(shared_server, prefer_grpc=request.param)
    client.door = "grpc" if request.param else "rest"
    yield client
    client.close()


def multi_params(size: int, distance=models.Distance.DOT) -> models.VectorParams:
    return models.VectorParams(size=size, distance=distance, multivector_config=MAXSIM)


def fresh(qc, name: str, vectors_config, **kwargs) -> str:
    name = f"{name}_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(name, vectors_config=vectors_config, **kwargs)
    return name


def pairs(points) -> list[tuple[int, float]]:
    return [(p.id, round(p.score, 4)) for p in points]


def error_of(qc, call_it) -> str:
    """A refused request: INVALID_ARGUMENT over gRPC, 400 or 422 over REST; returns the message."""
    if qc.door == "grpc":
        with pytest.raises(grpc.RpcError) as info:
            call_it()
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
        return info.value.details()
    with pytest.raises(UnexpectedResponse) as info:
        call_it()
    assert info.value.status_code in (400, 422), info.value.content
    return json.loads(info.value.content)["status"]["error"]


# ---------------------------------------------------------------------------- a MaxSim reference


def similarities(distance: str, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Internal similarity of each query row to each document row."""
    if distance in ("Cosine", "Dot"):
        return query @ rows.T
    diff = query[:, None, :] - rows[None, :, :]
    return -(diff * diff).sum(-1) if distance == "Euclid" else -np.abs(diff).sum(-1)


def normalized(matrix) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float64)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms > 0, norms, 1)


def maxsim(distance: str, query, rows) -> float:
    q, d = np.asarray(query, dtype=np.float64), np.asarray(rows, dtype=np.float64)
    if distance == "Cosine":
        q, d = normalized(q), normalized(d)
    return float(similarities(distance, q, d).max(axis=1).sum())


def returned(distance: str, s: float) -> float:
    return float(np.sqrt(abs(s))) if distance == "Euclid" else abs(s) if distance == "Manhattan" else s


def sigmoid(x: float) -> float:
    return 0.5 * (x / (1 + abs(x)) + 1)


# ---------------------------------------------------------------------------- the spec's example (§6.4)

SPEC_DOCS = {1: [[1.0, 0.0], [0.0, 1.0]], 2: [[2.0, 2.0]]}
SPEC_QUERY = [[1.0, 0.0], [1.0, 1.0]]


@pytest.mark.parametrize("distance, expected", [
    (models.Distance.DOT, [(2, 6.0), (1, 2.0)]),
    (models.Distance.EUCLID, [(1, 1.0), (2, 2.6458)]),
    (models.Distance.COSINE, [(1, 1.7071), (2, 1.7071)]),
    (models.Distance.MANHATTAN, [(1, 1.0), (2, 5.0)]),
])
def test_spec_maxsim_example(qc, distance, expected):
    name = fresh(qc, f"spec_{distance.value}", {"mv": multi_params(2, distance)})
    qc.upsert(name, points=[models.PointStruct(id=i, vector={"mv": v}) for i, v in SPEC_DOCS.items()])
    got = qc.query_points(name, query=SPEC_QUERY, using="mv").points
    if distance is models.Distance.COSINE:  # a tie: the order is not fixed
        assert sorted(pairs(got)) == expected
    else:
        assert pairs(got) == expected
    for point_id, score in expected:
        assert returned(distance.value, maxsim(distance.value, SPEC_QUERY, SPEC_DOCS[point_id])) == pytest.approx(score, abs=1e-4)


# ---------------------------------------------------------------------------- config, writes and reads


def test_config_round_trips_through_both_doors(qc, shared_server):
    name = fresh(qc, "config", {"mv": multi_params(3), "plain": models.VectorParams(size=3, distance=models.Distance.DOT)})
    for other in (True, False):
        with closing(make_client(shared_server, prefer_grpc=other)) as reader:
            vectors = reader.get_collection(name).config.params.vectors
            assert vectors["mv"].multivector_config == MAXSIM
            assert vectors["plain"].multivector_config is None
    status, _, body = call(shared_server.http_port, "GET", f"/collections/{name}")
    assert body["result"]["config"]["params"]["vectors"]["mv"]["multivector_config"] == {"comparator": "max_sim"}


def test_matrices_are_stored_and_returned_as_matrices(qc, shared_server):
    name = fresh(qc, "rw", {"mv": multi_params(3, models.Distance.COSINE), "e": multi_params(2, models.Distance.EUCLID)})
    qc.upsert(name, points=[
        models.PointStruct(id=1, vector={"mv": [[3, 0, 4], [0, 0, 2]], "e": [[1, 2]]}, payload={"k": 1}),
        models.PointStruct(id=2, vector={"e": [[1, 1], [2, 2], [3, 3]]}),
    ])
    for other in (True, False):
        with closing(make_client(shared_server, prefer_grpc=other)) as reader:
            one, two = reader.retrieve(name, [1, 2], with_vectors=True)
            assert np.allclose(one.vector["mv"], [[0.6, 0, 0.8], [0, 0, 1]])  # Cosine rows normalised one by one
            assert one.vector["e"] == [[1.0, 2.0]]
            assert two.vector == {"e": [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]}
            scrolled, _ = reader.scroll(name, with_vectors=["e"])
            assert [p.vector for p in scrolled] == [{"e": [[1.0, 2.0]]}, {"e": [[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]}]
    # update_vectors: more rows, fewer rows; delete_vectors; has_vector
    qc.update_vectors(name, points=[models.PointVectors(id=2, vector={"mv": [[0, 1, 0]] * 4}),
                                    models.PointVectors(id=1, vector={"e": [[5, 5], [6, 6]]})])
    qc.update_vectors(name, points=[models.PointVectors(id=2, vector={"mv": [[1, 0, 0]]})])
    one, two = qc.retrieve(name, [1, 2], with_vectors=True)
    assert one.vector["e"] == [[5.0, 5.0], [6.0, 6.0]] and two.vector["mv"] == [[1.0, 0.0, 0.0]]
    qc.delete_vectors(name, vectors=["mv"], points=[1])
    assert set(qc.retrieve(name, [1], with_vectors=True)[0].vector) == {"e"}
    has_mv = qc.count(name, count_filter=models.Filter(must=[models.HasVectorCondition(has_vector="mv")])).count
    assert has_mv == 1
    hits = qc.query_points(name, query=[[1, 0, 0]], using="mv").points
    assert pairs(hits) == [(2, 1.0)]  # point 1 lost its matrix


def test_unnamed_multivector_collection(qc, shared_server):
    name = fresh(qc, "unnamed", multi_params(2))
    qc.upsert(name, points=[models.PointStruct(id=i, vector=v) for i, v in SPEC_DOCS.items()])
    assert pairs(qc.query_points(name, query=SPEC_QUERY).points) == [(2, 6.0), (1, 2.0)]
    assert qc.retrieve(name, [1], with_vectors=True)[0].vector == [[1.0, 0.0], [0.0, 1.0]]
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{name}/points",
                           {"ids": [2], "with_vector": True})
    assert status == 200 and body["result"][0]["vector"] == [[2.0, 2.0]]
    # REST batch form: one matrix per id
    status, _, body = call(shared_server.http_port, "PUT", f"/collections/{name}/points?wait=true",
                           {"batch": {"ids": [3, 4], "vectors": [[[1, 1]], [[0, 3], [3, 0]]]}})
    assert status == 200, body
    assert pairs(qc.query_points(name, query=[[1, 0]], limit=2).points) == [(4, 3.0), (2, 2.0)]


def test_legacy_grpc_encoding_with_vectors_count(shared_server):
    """Older clients send a multivector as `data` with `vectors_count` rows."""
    from qdrant_client import grpc as qgrpc

    with closing(make_client(shared_server)) as client:
        name = "legacy_count"
        client.delete_collection(name)
        client.create_collection(name, vectors_config={"mv": multi_params(2)})
        vectors = qgrpc.Vectors(vectors=qgrpc.NamedVectors(vectors={"mv": qgrpc.Vector(data=[1, 2, 3, 4], vectors_count=2)}))
        client.grpc_points.Upsert(qgrpc.UpsertPoints(collection_name=name, wait=True, points=[
            qgrpc.PointStruct(id=qgrpc.PointId(num=1), vectors=vectors)]), timeout=10)
        assert client.retrieve(name, [1], with_vectors=True)[0].vector == {"mv": [[1.0, 2.0], [3.0, 4.0]]}
        with pytest.raises(grpc.RpcError) as info:
            client.grpc_points.Upsert(qgrpc.UpsertPoints(collection_name=name, wait=True, points=[
                qgrpc.PointStruct(id=qgrpc.PointId(num=2), vectors=qgrpc.Vectors(vectors=qgrpc.NamedVectors(
                    vectors={"mv": qgrpc.Vector(data=[1, 2, 3], vectors_count=2)})))]), timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "vectors_count" in info.value.details()


# ---------------------------------------------------------------------------- errors


def test_wrong_shapes_are_refused(qc, shared_server):
    name = fresh(qc, "errors", {"mv": multi_params(2), "plain": models.VectorParams(size=2, distance=models.Distance.DOT)})
    message = error_of(qc, lambda: qc.upsert(name, points=[models.PointStruct(id=1, vector={"mv": [1.0, 2.0]})]))
    assert "Conversion between multi and regular vectors failed" in message and "`mv`" in message
    message = error_of(qc, lambda: qc.upsert(name, points=[models.PointStruct(id=1, vector={"plain": [[1.0, 2.0]]})]))
    assert "Conversion between multi and regular vectors failed" in message and "`plain`" in message
    message = error_of(qc, lambda: qc.upsert(name, points=[models.PointStruct(id=1, vector={"mv": [[1.0, 2.0, 3.0]]})]))
    assert "expected dim: 2, got 3" in message
    message = error_of(qc, lambda: qc.query_points(name, query=[1.0, 2.0], using="mv"))
    assert "Conversion between multi and regular vectors failed" in message
    message = error_of(qc, lambda: qc.query_points(name, query=[[1.0, 2.0]], using="plain"))
    assert "Conversion between multi and regular vectors failed" in message
    assert qc.count(name).count == 0
    port = shared_server.http_port
    for vector, problem in [([[1, 2], []], "all vectors must be non-empty"),
                            ([[1, 2], [3]], "all vectors must have the same dimension, found vector with dimension 1")]:
        status, _, body = call(port, "PUT", f"/collections/{name}/points?wait=true",
                               {"points": [{"id": 1, "vector": {"mv": vector}}]})
        assert status == 422 and problem in body["status"]["error"] and "points[0].vector.mv" in body["status"]["error"]
    status, _, body = call(port, "PUT", f"/collections/{name}/points?wait=true",
                           {"points": [{"id": 1, "vector": {"mv": [[1, "x"]]}}]})
    assert status == 400 and "points[0].vector.mv[0]" in body["status"]["error"]


def test_inference_objects_cannot_fill_a_multivector(shared_server, clip_models):
    with closing(make_client(shared_server, cloud_inference=True)) as client:
        name = "multi_inference"
        client.delete_collection(name)
        client.create_collection(name, vectors_config={"mv": multi_params(clip_models.dimension, models.Distance.COSINE)})
        document = models.Document(text="a red square", model=clip_models.text)
        image = models.Image(image=clip_models.png_base64("red"), model=clip_models.vision)
        for value in (document, image):
            with pytest.raises(grpc.RpcError) as info:
                client.upsert(name, points=[models.PointStruct(id=1, vector={"mv": value})])
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            details = info.value.details()
            assert "`mv`" in details and "one vector, not a matrix" in details, details
        with pytest.raises(grpc.RpcError) as info:
            client.query_points(name, query=document, using="mv")
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "one vector, not a matrix" in info.value.details()
        assert client.count(name).count == 0


def test_strict_mode_max_vectors(qc):
    name = fresh(qc, "strict", {"mv": multi_params(2)}, strict_mode_config=models.StrictModeConfig(
        enabled=True, multivector_config={"mv": models.StrictModeMultivector(max_vectors=2)}))
    qc.upsert(name, points=[models.PointStruct(id=1, vector={"mv": [[1, 0], [0, 1]]})])
    message = error_of(qc, lambda: qc.upsert(name, points=[models.PointStruct(id=2, vector={"mv": [[1, 0]] * 3})]))
    assert "Multivector 'mv' has a limit of 2 vectors, but 3 were provided!" in message
    message = error_of(qc, lambda: qc.update_vectors(name, points=[models.PointVectors(id=1, vector={"mv": [[1, 0]] * 5})]))
    assert "but 5 were provided!" in message
    assert qc.retrieve(name, [1], with_vectors=True)[0].vector == {"mv": [[1.0, 0.0], [0.0, 1.0]]}
    assert qc.count(name).count == 1


# ---------------------------------------------------------------------------- query kinds

RNG = np.random.default_rng(7)
DIM = 4
DOCS = {i: np.round(RNG.normal(size=(int(RNG.integers(1, 5)), DIM)), 2) for i in range(1, 21)}


def loaded(qc, distance=models.Distance.DOT, tag: str = "") -> str:
    name = fresh(qc, f"kinds{tag}_{distance.value}", {"mv": multi_params(DIM, distance),
                                                      "first": models.VectorParams(size=DIM, distance=distance)})
    qc.upsert(name, points=[models.PointStruct(id=i, vector={"mv": m.tolist(), "first": m[0].tolist()},
                                               payload={"even": i % 2 == 0}) for i, m in DOCS.items()])
    return name


def expected_nearest(distance: str, query, candidates=DOCS, limit: int = 10) -> list[tuple[int, float]]:
    scored = [(i, returned(distance, maxsim(distance, query, m))) for i, m in candidates.items()]
    scored.sort(key=lambda x: -x[1] if distance in ("Cosine", "Dot") else x[1])
    return [(i, round(s, 4)) for i, s in scored[:limit]]


def close(got: list[tuple[int, float]], expected: list[tuple[int, float]]) -> None:
    assert [i for i, _ in got] == [i for i, _ in expected], (got, expected)
    assert [s for _, s in got] == pytest.approx([s for _, s in expected], abs=2e-3)


@pytest.mark.parametrize("distance", list(models.Distance)[:4], ids=lambda d: d.value)
def test_nearest_matches_the_reference(qc, distance):
    name = loaded(qc, distance)
    query = np.round(RNG.normal(size=(3, DIM)), 2).tolist()
    close(pairs(qc.query_points(name, query=query, using="mv", limit=7).points), expected_nearest(distance.value, query, limit=7))
    # by point id: the point itself is left out
    got = pairs(qc.query_points(name, query=5, using="mv", limit=5).points)
    others = {i: m for i, m in DOCS.items() if i != 5}
    close(got, expected_nearest(distance.value, DOCS[5], others, 5))
    # filtered, with offset
    got = pairs(qc.query_points(name, query=query, using="mv", limit=3, offset=2, query_filter=models.Filter(
        must=[models.FieldCondition(key="even", match=models.MatchValue(value=True))])).points)
    close(got, expected_nearest(distance.value, query, {i: m for i, m in DOCS.items() if i % 2 == 0}, 5)[2:])


def test_score_threshold(qc):
    name = loaded(qc, models.Distance.EUCLID)
    query = DOCS[3].tolist()
    ranked = expected_nearest("Euclid", query, limit=20)
    cut = (ranked[4][1] + ranked[5][1]) / 2  # smaller is better: an upper bound
    got = pairs(qc.query_points(name, query=query, using="mv", limit=20, score_threshold=cut).points)
    close(got, ranked[:5])
    name = loaded(qc, models.Distance.DOT)
    ranked = expected_nearest("Dot", query, limit=20)
    cut = (ranked[3][1] + ranked[4][1]) / 2
    got = pairs(qc.query_points(name, query=query, using="mv", limit=20, score_threshold=cut).points)
    close(got, ranked[:4])


def test_prefetch_rescoring_with_a_multivector(qc):
    """The documented pattern: a cheap dense prefetch, rescored by MaxSim."""
    name = loaded(qc)
    query = np.round(RNG.normal(size=(2, DIM)), 2)
    dense_query = query[0].tolist()
    first = [(i, float(m[0] @ query[0])) for i, m in DOCS.items()]
    candidates = {i for i, _ in sorted(first, key=lambda x: -x[1])[:8]}
    got = pairs(qc.query_points(name, prefetch=models.Prefetch(query=dense_query, using="first", limit=8),
                                query=query.tolist(), using="mv", limit=4).points)
    close(got, expected_nearest("Dot", query, {i: DOCS[i] for i in candidates}, 4))
    # and the other way round: a MaxSim prefetch rescored by the dense vector
    mv_candidates = [i for i, _ in expected_nearest("Dot", query, limit=6)]
    got = pairs(qc.query_points(name, prefetch=models.Prefetch(query=query.tolist(), using="mv", limit=6),
                                query=dense_query, using="first", limit=3).points)
    rescored = sorted(((i, float(DOCS[i][0] @ query[0])) for i in mv_candidates), key=lambda x: -x[1])[:3]
    close(got, [(i, round(s, 4)) for i, s in rescored])


@pytest.mark.parametrize("distance", [models.Distance.DOT, models.Distance.EUCLID], ids=lambda d: d.value)
def test_recommend_strategies(qc, distance):
    name = loaded(qc, distance, "reco")
    d = distance.value
    extra = np.round(RNG.normal(size=(2, DIM)), 2)
    positive, negative = [DOCS[1], extra], [DOCS[2]]
    others = {i: m for i, m in DOCS.items() if i not in (1, 2)}
    reco = lambda strategy: qc.query_points(name, using="mv", limit=6, query=models.RecommendQuery(  # noqa: E731
        recommend=models.RecommendInput(positive=[1, extra.tolist()], negative=[2], strategy=strategy))).points
    # average_vector: the positives' rows and the negative rows negated, as one query matrix
    concatenated = np.concatenate([DOCS[1], extra, -DOCS[2]])
    close(pairs(reco(models.RecommendStrategy.AVERAGE_VECTOR)), expected_nearest(d, concatenated, others, 6))

    def by(score) -> list[tuple[int, float]]:
        scored = sorted(((i, score(m)) for i, m in others.items()), key=lambda x: -x[1])
        return [(i, round(s, 4)) for i, s in scored[:6]]

    def best(m) -> float:
        p = max(maxsim(d, e, m) for e in positive)
        n = max(maxsim(d, e, m) for e in negative)
        return sigmoid(p) if p > n else -sigmoid(n)

    close(pairs(reco(models.RecommendStrategy.BEST_SCORE)), by(best))
    close(pairs(reco(models.RecommendStrategy.SUM_SCORES)),
          by(lambda m: sum(maxsim(d, e, m) for e in positive) - sum(maxsim(d, e, m) for e in negative)))


def test_discover_and_context(qc):
    name = loaded(qc, tag="disc")
    others = {i: m for i, m in DOCS.items() if i not in (1, 2, 3)}
    target = DOCS[3]

    def rank(m) -> int:
        p, n = maxsim("Dot", DOCS[1], m), maxsim("Dot", DOCS[2], m)
        return 1 if p > n else 0 if p == n else -1

    got = pairs(qc.query_points(name, using="mv", limit=5, query=models.DiscoverQuery(discover=models.DiscoverInput(
        target=3, context=[models.ContextPair(positive=1, negative=2)]))).points)
    expected = sorted(((i, rank(m) + sigmoid(maxsim("Dot", target, m))) for i, m in others.items()), key=lambda x: -x[1])
    close(got, [(i, round(s, 4)) for i, s in expected[:5]])

    def context(m) -> float:
        x = min(maxsim("Dot", DOCS[1], m) - maxsim("Dot", DOCS[2], m) - 1.1920929e-7, 0)
        return x / (1 + abs(x))

    got = qc.query_points(name, using="mv", limit=20, query=models.ContextQuery(
        context=[models.ContextPair(positive=1, negative=2)])).points
    assert {p.id for p in got} == set(DOCS) - {1, 2}
    for point in got:
        assert point.score == pytest.approx(context(DOCS[point.id]), abs=1e-4)


def test_mmr_and_relevance_feedback(qc):
    name = loaded(qc, models.Distance.COSINE, "mmr")
    query = np.round(RNG.normal(size=(2, DIM)), 2)
    nearest = expected_nearest("Cosine", query, limit=8)
    got = qc.query_points(name, using="mv", limit=4, query=models.NearestQuery(
        nearest=query.tolist(), mmr=models.Mmr(diversity=0.0, candidates_limit=8))).points
    close(pairs(got), nearest[:4])  # no diversity: plain relevance order
    got = qc.query_points(name, using="mv", limit=4, query=models.NearestQuery(
        nearest=query.tolist(), mmr=models.Mmr(diversity=0.7, candidates_limit=8))).points
    # MMR picks by its own rule (checked against local mode in the differential test); each keeps its score
    assert got[0].id == nearest[0][0]
    scores = dict(nearest)
    for point in got:
        assert point.score == pytest.approx(scores[point.id], abs=2e-3)
    feedback = qc.query_points(name, using="mv", limit=3, query=models.RelevanceFeedbackQuery(
        relevance_feedback=models.RelevanceFeedbackInput(target=query.tolist(), feedback=[
            models.FeedbackItem(example=4, score=1.0), models.FeedbackItem(example=5, score=0.0)],
            strategy=models.NaiveFeedbackStrategy(naive=models.NaiveFeedbackStrategyParams(a=1.0, b=1.0, c=1.0))))).points
    others = {i: m for i, m in DOCS.items() if i not in (4, 5)}
    expected = sorted(((i, maxsim("Cosine", query, m) + maxsim("Cosine", DOCS[4], m) - maxsim("Cosine", DOCS[5], m))
                       for i, m in others.items()), key=lambda x: -x[1])
    close(pairs(feedback), [(i, round(s, 4)) for i, s in expected[:3]])


def test_lookup_from_another_collection(qc):
    source = fresh(qc, "lookup_source", {"cols": multi_params(DIM)})
    qc.upsert(source, points=[models.PointStruct(id=100, vector={"cols": DOCS[7].tolist()})])
    name = loaded(qc, tag="lookup")
    got = pairs(qc.query_points(name, using="mv", limit=4, query=models.RecommendQuery(
        recommend=models.RecommendInput(positive=[100])), lookup_from=models.LookupLocation(
        collection=source, vector="cols")).points)
    close(got, expected_nearest("Dot", DOCS[7], limit=4))  # 7 itself is a result: the example came from elsewhere


# ---------------------------------------------------------------------------- persistence


def wait_green(client, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while client.get_collection(name).status != models.CollectionStatus.GREEN:
        assert time.monotonic() < deadline, "the optimizer did not finish"
        time.sleep(0.1)


def test_survives_restarts_through_sealed_segments_and_merges(server_factory):
    """A small indexing threshold seals a segment every few points; the optimizer merges them
    (default_segment_number 2) and vacuums one after many deletes; updates and deletes land in
    sealed segments; all of it reads back the same after a restart (checkpoint + sealed files)
    and after a kill (log replay)."""
    server = server_factory().start()
    rng = np.random.default_rng(3)
    docs = {i: np.round(rng.normal(size=(int(rng.integers(1, 9)), 8)), 2) for i in range(1, 301)}
    query = np.round(rng.normal(size=(3, 8)), 2).tolist()
    with closing(make_client(server)) as client:
        client.create_collection("persist", vectors_config={"mv": multi_params(8, models.Distance.COSINE),
                                                            "d": models.VectorParams(size=2, distance=models.Distance.DOT)},
                                 optimizers_config=models.OptimizersConfigDiff(
                                     indexing_threshold=4, default_segment_number=2, vacuum_min_vector_number=20,
                                     deleted_threshold=0.1))
        for start in range(1, 301, 25):
            client.upsert("persist", points=[models.PointStruct(id=i, vector={"mv": docs[i].tolist(), "d": [1, 0]})
                                             for i in range(start, start + 25)])
        wait_green(client, "persist")
        assert "appended" in server.log()  # small sealed segments were merged into bigger ones
        assert client.get_collection("persist").segments_count > 1
        # changes that land in sealed segments; enough deletes to have one vacuumed (rewritten)
        client.update_vectors("persist", points=[models.PointVectors(id=3, vector={"mv": [[1] * 8]})])
        client.delete_vectors("persist", vectors=["mv"], points=[4])
        client.delete("persist", points_selector=models.PointIdsList(points=[5, 6, *range(100, 160)]))
        docs[3] = np.ones((1, 8))
        for i in [4, 5, 6, *range(100, 160)]:
            del docs[i]
        wait_green(client, "persist")
        assert "merged 1 segment(s)" in server.log()
        expected = expected_nearest("Cosine", query, docs, 10)
        close(pairs(client.query_points("persist", query=query, using="mv", limit=10).points), expected)
        before = client.retrieve("persist", [3, 7, 250], with_vectors=True)
    server.stop()
    server.start()
    with closing(make_client(server)) as client:
        assert client.count("persist").count == 238
        close(pairs(client.query_points("persist", query=query, using="mv", limit=10).points), expected)
        assert client.retrieve("persist", [3, 7, 250], with_vectors=True) == before
        assert client.count("persist", count_filter=models.Filter(must=[models.HasVectorCondition(has_vector="mv")])).count == 237
        client.upsert("persist", points=[models.PointStruct(id=1000, vector={"mv": [[2] * 8, [-1] * 8]})])
    server.kill()  # no checkpoint: the last write comes back from the log
    server.start()
    with closing(make_client(server)) as client:
        assert np.allclose(client.retrieve("persist", [1000], with_vectors=True)[0].vector["mv"],
                           normalized([[2] * 8, [-1] * 8]), atol=1e-6)
        docs[1000] = np.array([[2] * 8, [-1] * 8])
        close(pairs(client.query_points("persist", query=query, using="mv", limit=10).points),
              expected_nearest("Cosine", query, docs, 10))


# ---------------------------------------------------------------------------- the kernel


@pytest.mark.parametrize("layout", ["uniform", "varied", "gaps"])
def test_maxsim_kernel_matches_a_naive_loop(layout, monkeypatch):
    """storage.multidense.maxsim over blocks, row spans and gathers, against a plain loop."""
    from vecinfer.domain.collections import Distance
    from vecinfer.storage import multidense

    monkeypatch.setattr(multidense, "_BLOCK_ROWS", 50)  # several blocks
    rng = np.random.default_rng(5)
    counts = np.full(60, 4) if layout == "uniform" else rng.integers(1, 7, 60)
    starts = np.cumsum(counts) - counts
    if layout == "gaps":  # rows left behind between points, points out of order
        starts = starts * 3 + 1
        order = rng.permutation(60)
        starts, counts = starts[order], counts[order]
    rows = rng.normal(size=(int((starts + counts).max()) + 3, 5)).astype(np.float32)
    query = rng.normal(size=(3, 5)).astype(np.float32)
    for subset in (np.arange(60), np.sort(rng.choice(60, 7, replace=False))):
        for distance in Distance:
            got = multidense.maxsim(distance, rows, starts[subset], counts[subset], query)
            expected = [maxsim(distance.value if distance is not Distance.COSINE else "Dot", query,
                               rows[starts[i]: starts[i] + counts[i]]) for i in subset]
            assert got == pytest.approx(expected, rel=1e-5, abs=1e-5), (layout, distance)
