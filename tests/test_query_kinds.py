"""Recommend, discover, context, order_by, sample, MMR, relevance feedback and lookup_from
through the real qdrant-client over both doors, on the worked examples of
shared/spec/qdrant-semantics.md §7."""

from __future__ import annotations

import pytest
from qdrant_client import models

from conftest import make_client

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]
RECO_POINTS = {1: [1.0, 0.0], 2: [0.0, 1.0], 3: [1.0, 1.0], 4: [-1.0, 0.5], 5: [0.5, -1.0]}


@pytest.fixture(scope="module", params=DOORS)
def qc(request, shared_server):
    client = make_client(shared_server, prefer_grpc=request.param)
    client.door = "grpc" if request.param else "rest"
    yield client
    client.close()


def _collection(qc, name: str, points: dict[int, list[float]], distance=models.Distance.DOT,
                payloads: dict[int, dict] | None = None) -> str:
    name = f"{name}_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(size=len(next(iter(points.values()))),
                                                                  distance=distance))
    qc.upsert(name, points=[models.PointStruct(id=i, vector=v, payload=(payloads or {}).get(i, {}))
                            for i, v in points.items()])
    return name


def _pairs(points) -> list[tuple[int, float]]:
    return [(p.id, round(p.score, 5)) for p in points]


@pytest.mark.parametrize("strategy, negative, expected", [
    (models.RecommendStrategy.AVERAGE_VECTOR, [4], [(3, 2.5), (5, 0.5), (2, 0.5)]),
    (models.RecommendStrategy.BEST_SCORE, [4], [(3, 0.75), (2, 0.75), (5, 0.66667)]),
    (models.RecommendStrategy.SUM_SCORES, [4], [(3, 2.5), (5, 0.5), (2, 0.5)]),
])
def test_recommend_strategies(qc, strategy, negative, expected):
    name = _collection(qc, "reco", RECO_POINTS)
    got = qc.query_points(name, query=models.RecommendQuery(recommend=models.RecommendInput(
        positive=[1, [0.0, 1.0]], negative=negative, strategy=strategy)), limit=3).points
    assert {p.id for p in got} == {p for p, _ in expected}  # ties are unordered in Qdrant
    assert sorted(_pairs(got), key=lambda x: (-x[1], x[0])) == sorted(expected, key=lambda x: (-x[1], x[0]))


def test_recommend_best_score_with_negatives_only(qc):
    name = _collection(qc, "reco_neg", RECO_POINTS)
    got = qc.query_points(name, query=models.RecommendQuery(recommend=models.RecommendInput(
        negative=[4], strategy=models.RecommendStrategy.BEST_SCORE)), limit=10).points
    assert sorted(_pairs(got), key=lambda x: (-x[1], x[0])) == [(1, -0.25), (5, -0.25), (3, -0.33333), (2, -0.66667)]


def test_recommend_average_needs_positives(qc):
    name = _collection(qc, "reco_bad", RECO_POINTS)
    with pytest.raises(Exception, match="Positive vectors should not be empty"):
        qc.query_points(name, query=models.RecommendQuery(recommend=models.RecommendInput(negative=[4])))


def test_discover_and_context(qc):
    name = _collection(qc, "disco", RECO_POINTS)
    pair = models.ContextPair(positive=[1.0, 0.0], negative=[0.0, 1.0])
    got = qc.query_points(name, query=models.DiscoverQuery(discover=models.DiscoverInput(
        target=[1.0, 1.0], context=[pair])), limit=5).points
    assert _pairs(got) == [(1, 1.75), (5, 1.33333), (3, 0.83333), (2, -0.25), (4, -0.66667)]
    got = qc.query_points(name, query=models.ContextQuery(context=[pair]), limit=5).points
    scores = {p.id: p.score for p in got}
    assert {i for i, s in scores.items() if s == 0} == {1, 5}
    assert scores[3] == pytest.approx(-1.19e-7, rel=0.01)
    assert (scores[2], scores[4]) == pytest.approx((-0.5, -0.6))


def test_order_by_needs_a_range_index_and_orders_by_value(qc):
    payloads = {5: {"p": 3}, 1: {"p": 1.5}, 3: {"p": [2, 10]}, 2: {"p": 3}, 4: {}, 9: {"p": 3}, 7: {"p": True},
                8: {"p": "abc"}}
    name = _collection(qc, "ordered", {i: [1.0, 0.0] for i in payloads}, payloads=payloads)
    with pytest.raises(Exception, match="No range index for `order_by` key: `p`"):
        qc.query_points(name, query=models.OrderByQuery(order_by="p"))
    qc.create_payload_index(name, "p", field_schema=models.PayloadSchemaType.FLOAT)
    got = qc.query_points(name, query=models.OrderByQuery(order_by="p"), limit=10).points
    assert [(p.id, p.order_value) for p in got] == [(1, 1.5), (3, 2), (5, 3), (2, 3), (9, 3), (3, 10)]
    assert all(p.score == 1.0 for p in got)
    got = qc.query_points(name, query=models.OrderByQuery(order_by=models.OrderBy(
        key="p", direction=models.Direction.DESC, start_from=3)), limit=10).points
    assert [p.id for p in got][:3] in ([5, 2, 9], [9, 2, 5]) and [p.id for p in got][3:] == [3, 1]
    with pytest.raises(Exception, match="use score_threshold with an order_by query"):
        qc.query_points(name, query=models.OrderByQuery(order_by="p"), score_threshold=0.5)


def test_sample_returns_random_matching_points_scoring_one(qc):
    name = _collection(qc, "sampled", {i: [1.0, float(i)] for i in range(1, 31)},
                       payloads={i: {"even": i % 2 == 0} for i in range(1, 31)})
    flt = models.Filter(must=[models.FieldCondition(key="even", match=models.MatchValue(value=True))])
    seen = set()
    for _ in range(5):
        got = qc.query_points(name, query=models.SampleQuery(sample=models.Sample.RANDOM), query_filter=flt,
                              limit=5).points
        assert len(got) == 5 and all(p.id % 2 == 0 and p.score == 1.0 for p in got)
        seen.add(tuple(p.id for p in got))
    assert len(seen) > 1


@pytest.mark.parametrize("diversity, limit, offset, expected", [
    (0.0, 3, 0, [2, 1, 3]),
    (0.5, 3, 0, [2, 5, 1]),
    (1.0, 3, 0, [2, 4, 5]),
    (0.5, 2, 1, [5, 1]),
])
def test_mmr_picks_for_diversity(qc, diversity, limit, offset, expected):
    points = {1: [1.0, 0.0], 2: [0.99, 0.14], 3: [0.8, 0.6], 4: [0.0, 1.0], 5: [0.6, -0.8]}
    name = _collection(qc, "mmr", points, distance=models.Distance.COSINE)
    got = qc.query_points(name, query=models.NearestQuery(nearest=[1.0, 0.1], mmr=models.Mmr(
        diversity=diversity, candidates_limit=5)), limit=limit, offset=offset).points
    assert [p.id for p in got] == expected
    plain = {p.id: p.score for p in qc.query_points(name, query=[1.0, 0.1], limit=5).points}
    assert [p.score for p in got] == pytest.approx([plain[p.id] for p in got], abs=1e-5)  # original scores


def test_lookup_from_takes_vectors_from_another_collection(qc):
    name = _collection(qc, "lookup_target", RECO_POINTS)
    source = _collection(qc, "lookup_source", {1: [0.1, 1.0], 2: [1.0, 0.0]})
    got = qc.query_points(name, query=1, lookup_from=models.LookupLocation(collection=source), limit=2).points
    assert [p.id for p in got] == [3, 2]  # [.1,1] from the other collection; id 1 here may be returned
    got = qc.query_points(name, query=models.RecommendQuery(recommend=models.RecommendInput(positive=[2])),
                          lookup_from=models.LookupLocation(collection=source), limit=1).points
    assert got[0].id == 3 or got[0].id == 1


def test_relevance_feedback_naive(qc):
    name = _collection(qc, "feedback", RECO_POINTS)
    got = qc.query_points(name, query=models.RelevanceFeedbackQuery(relevance_feedback=models.RelevanceFeedbackInput(
        target=[1.0, 1.0],
        feedback=[models.FeedbackItem(example=[1.0, 0.0], score=0.9), models.FeedbackItem(example=[0.0, 1.0],
                                                                                          score=0.1)],
        strategy=models.NaiveFeedbackStrategy(naive=models.NaiveFeedbackStrategyParams(a=1.0, b=1.0, c=1.0)))),
        limit=5).points
    # score = sim(target, x) + 0.8 · (x0 − x1) on Dot
    expected = {i: (v[0] + v[1]) + 0.8 * (v[0] - v[1]) for i, v in RECO_POINTS.items()}
    assert {p.id: round(p.score, 4) for p in got} == {i: round(s, 4) for i, s in expected.items()}
    assert [p.id for p in got] == sorted(expected, key=lambda i: -expected[i])


def test_recommend_in_a_prefetch_tree_and_exclusion(qc):
    name = _collection(qc, "reco_tree", RECO_POINTS)
    got = qc.query_points(name, prefetch=[models.Prefetch(query=[1.0, 1.0], limit=4)],
                          query=models.RecommendQuery(recommend=models.RecommendInput(
                              positive=[3], strategy=models.RecommendStrategy.SUM_SCORES)), limit=10).points
    ids = [p.id for p in got]
    assert 3 not in ids and set(ids) <= {1, 2, 4, 5}


def test_scroll_with_order_by(qc):
    payloads = {1: {"t": "2024-01-02T00:00:00Z"}, 2: {"t": "2024-01-01T00:00:00Z"}, 3: {"t": ["2023-06-01"]}, 4: {}}
    name = _collection(qc, "scroll_ordered", {i: [1.0, 0.0] for i in payloads}, payloads=payloads)
    qc.create_payload_index(name, "t", field_schema=models.PayloadSchemaType.DATETIME)
    records, next_offset = qc.scroll(name, order_by=models.OrderBy(key="t", direction=models.Direction.DESC), limit=10)
    assert [r.id for r in records] == [1, 2, 3] and next_offset is None
    assert records[1].order_value == 1704067200000000  # microseconds since the epoch
    records, _ = qc.scroll(name, order_by=models.OrderBy(key="t", start_from="2024-01-01T00:00:00Z"), limit=10)
    assert [r.id for r in records] == [2, 1]
    with pytest.raises(Exception, match="Cannot use an `offset` when using `order_by`"):
        qc.scroll(name, order_by="t", offset=2)


@pytest.mark.parametrize("query, message", [
    ({"nearest": [1.0, 0.0], "mmr": {"candidates_limit": 16385}}, "candidates_limit value 16385 is invalid"),
    ({"nearest": [1.0, 0.0], "mmr": {"diversity": 1.5}}, "mmr.diversity must be between 0 and 1"),
    ({"recommend": {"positive": [1], "strategy": "best_ever"}}, "recommend.strategy"),
    ({"relevance_feedback": {"target": [1.0, 0.0], "feedback": [],
                             "strategy": {"naive": {"a": 1, "b": -1, "c": 1}}}}, "`b` must be 0 or more"),
])
def test_query_parameters_out_of_range_are_refused(shared_server, query, message):
    from rest_http import call

    client = make_client(shared_server, prefer_grpc=False)
    client.door = "bounds"
    name = _collection(client, "bounds", RECO_POINTS)
    client.close()
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{name}/points/query", {"query": query})
    assert status == 400 and message in body["status"]["error"], body
