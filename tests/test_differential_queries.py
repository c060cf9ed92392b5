"""Differential tests against qdrant-client's local mode (the executable reference of Qdrant's
query semantics): random collections, then recommend (each strategy), discover, context,
nearest with MMR, order_by, sample, no-query, prefetch rescoring, thresholds and lookup_from,
run on vecinfer (both doors) and on `QdrantClient(":memory:")`, answers compared.

Ties are unordered in Qdrant, so results are compared as score sequences plus, for each group of
equal scores, the set of ids; every query asks for all points so no tie is cut at the limit."""

from __future__ import annotations

import itertools
import os

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from conftest import make_client

DISTANCES = [models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID, models.Distance.MANHATTAN]
QUERIES_PER_DATASET = 12
DATASETS = 100  # x QUERIES_PER_DATASET = 1200 generated queries per run
_names = itertools.count()


@pytest.fixture(scope="module")
def clients(shared_server):
    grpc_client = make_client(shared_server, prefer_grpc=True)
    rest_client = make_client(shared_server, prefer_grpc=False)
    local = QdrantClient(":memory:")
    yield grpc_client, rest_client, local
    grpc_client.close()
    rest_client.close()
    local.close()


# Fine-grained components: a tie inside a prefetch would make fusion ranks ambiguous.
component = st.integers(-3000, 3000).map(lambda x: x / 1000 + 0.00013)


@st.composite
def datasets(draw):
    dim = draw(st.integers(2, 4))
    n = draw(st.integers(4, 14))
    # Distinct directions: equal vectors tie, and a tie cut by a limit has no single right answer.
    vectors = draw(st.lists(st.lists(component, min_size=dim, max_size=dim), min_size=n, max_size=n,
                            unique_by=lambda v: tuple(round(x / max(abs(y) for y in v), 3) for x in v)))
    payloads = []
    for _ in range(n):
        payload = {"g": draw(st.integers(0, 2))}
        value = draw(st.one_of(st.none(), st.integers(-5, 5), st.floats(-5, 5).map(lambda x: round(x, 2)),
                               st.lists(st.integers(-5, 5), max_size=3),
                               st.sampled_from(["2024-01-01T00:00:00Z", "2023-05-06T07:08:09Z", "2025-12-31"])))
        if value is not None:
            payload["o"] = value
        number = draw(st.one_of(st.none(), st.integers(-5, 5), st.floats(-5, 5).map(lambda x: round(x, 2))))
        if number is not None:
            payload["n"] = number  # plain numbers only: the column path of order_by
        payloads.append(payload)
    return {"dim": dim, "distance": draw(st.sampled_from(DISTANCES)), "vectors": vectors, "payloads": payloads}


def _example(draw, data: dict) -> object:
    n = len(data["vectors"])
    if draw(st.booleans()):
        return draw(st.integers(1, n))
    return draw(st.lists(component, min_size=data["dim"], max_size=data["dim"]))


@st.composite
def queries(draw, data: dict) -> dict:
    kind = draw(st.sampled_from(["recommend", "discover", "context", "mmr", "nearest", "order_by", "none",
                                 "rescore"]))
    example = lambda: _example(draw, data)  # noqa: E731
    flt = None
    if draw(st.booleans()):
        flt = models.Filter(must_not=[models.FieldCondition(key="g", match=models.MatchValue(value=draw(
            st.integers(0, 2))))])
    request: dict = {"query_filter": flt}
    if kind == "recommend":
        strategy = draw(st.sampled_from(list(models.RecommendStrategy)))
        positive = draw(st.lists(st.builds(example), min_size=1 if strategy == "average_vector" else 0, max_size=3))
        negative = draw(st.lists(st.builds(example), min_size=0 if positive else 1, max_size=2))
        request["query"] = models.RecommendQuery(recommend=models.RecommendInput(
            positive=positive, negative=negative, strategy=strategy))
    elif kind in ("discover", "context"):
        pairs = [models.ContextPair(positive=example(), negative=example())
                 for _ in range(draw(st.integers(1 if kind == "context" else 0, 3)))]
        request["query"] = (models.DiscoverQuery(discover=models.DiscoverInput(target=example(), context=pairs))
                            if kind == "discover" else models.ContextQuery(context=pairs))
    elif kind == "mmr":
        request["query"] = models.NearestQuery(nearest=example(), mmr=models.Mmr(
            diversity=draw(st.sampled_from([0.0, 0.3, 0.5, 0.8, 1.0])), candidates_limit=draw(st.integers(2, 20))))
        request["limit"] = draw(st.integers(1, 6))
    elif kind == "nearest":
        request["query"] = example()
        if draw(st.booleans()):
            request["score_threshold"] = draw(st.floats(-3, 3).map(lambda x: round(x, 3)))
    elif kind == "order_by":
        request["query"] = models.OrderByQuery(order_by=models.OrderBy(
            key=draw(st.sampled_from(["o", "n"])), direction=draw(st.sampled_from([models.Direction.ASC, models.Direction.DESC])),
            start_from=draw(st.one_of(st.none(), st.integers(-3, 3)))))
    elif kind == "rescore":
        request["prefetch"] = [models.Prefetch(query=example(), limit=draw(st.integers(1, 8)))
                               for _ in range(draw(st.integers(1, 2)))]
        request["query"] = draw(st.sampled_from([
            example(),
            models.RecommendQuery(recommend=models.RecommendInput(positive=[example()], strategy="best_score")),
            models.FusionQuery(fusion=models.Fusion.RRF)]))
    request.setdefault("limit", 100)
    return request



def _load(client, name: str, data: dict) -> None:
    client.create_collection(name, vectors_config=models.VectorParams(size=data["dim"], distance=data["distance"]))
    client.upsert(name, points=[models.PointStruct(id=i + 1, vector=v, payload=p)
                                for i, (v, p) in enumerate(zip(data["vectors"], data["payloads"]))])


def _answer(client, name: str, request: dict) -> tuple[str, object]:
    try:
        points = client.query_points(name, **request).points
    except Exception as exc:  # both must refuse the same requests
        return "error", type(exc).__name__
    return "ok", [(p.id, p.score, p.order_value) for p in points]


def _groups(points: list, ordered: bool, tolerance: float) -> list:
    """Consecutive runs of equal scores (or order values) as sets, with their score."""
    out: list = []
    for point_id, score, order_value in points:
        key = order_value if ordered else score
        if out and (abs(out[-1][0] - key) <= tolerance * max(1.0, abs(key)) if not ordered else out[-1][0] == key):
            out[-1][1].add(point_id)
        else:
            out.append([key, {point_id}])
    return out


def _compare(ours: tuple, theirs: tuple, request: dict) -> None:
    assert ours[0] == theirs[0], f"vecinfer {ours}, local mode {theirs}"
    if ours[0] == "error":
        return
    query = request.get("query")
    mmr = isinstance(query, models.NearestQuery) and query.mmr is not None
    ordered = isinstance(query, models.OrderByQuery)
    # MMR keeps its pick order; equal relevance (f32 here, f64 in local mode) may pick either first.
    a, b = _groups(ours[1], ordered, 1e-5 if mmr else 1e-3), _groups(theirs[1], ordered, 1e-5 if mmr else 1e-3)
    assert [g[1] for g in a] == [g[1] for g in b], f"vecinfer {ours[1]}\nlocal mode {theirs[1]}"
    assert [g[0] for g in a] == pytest.approx([g[0] for g in b], rel=1e-3, abs=1e-3)


# Shrinking a failure costs minutes: off unless VECINFER_SHRINK=1 (the failing example is printed either way).
PHASES = tuple(Phase) if os.environ.get("VECINFER_SHRINK") == "1" else (Phase.explicit, Phase.reuse, Phase.generate)


@settings(max_examples=DATASETS, derandomize=True, deadline=None, phases=PHASES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large])
@given(data=datasets(), draw=st.data())
def test_query_kinds_agree_with_local_mode(clients, data, draw):
    grpc_client, rest_client, local = clients
    name = f"diffq_{next(_names)}"
    ours = grpc_client if draw.draw(st.booleans(), "door") else rest_client
    _load(ours, name, data)
    for key in ("o", "n"):  # order_by needs a range index
        ours.create_payload_index(name, key, field_schema=models.PayloadSchemaType.FLOAT)
    _load(local, name, data)
    try:
        for _ in range(QUERIES_PER_DATASET):
            request = draw.draw(queries(data), "request")
            try:
                _compare(_answer(ours, name, request), _answer(local, name, request), request)
            except AssertionError as exc:
                raise AssertionError(f"{exc}\nrequest: {request}") from None
    finally:
        ours.delete_collection(name)
        local.delete_collection(name)


@settings(max_examples=20, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=datasets(), limit=st.integers(1, 20), g=st.integers(0, 2))
def test_sample_returns_matching_points_scoring_one(clients, data, limit, g):
    grpc_client, _, _ = clients
    name = f"diffs_{next(_names)}"
    _load(grpc_client, name, data)
    try:
        flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=g))])
        matching = {i + 1 for i, p in enumerate(data["payloads"]) if p["g"] == g}
        points = grpc_client.query_points(name, query=models.SampleQuery(sample=models.Sample.RANDOM),
                                          query_filter=flt, limit=limit).points
        assert len(points) == min(limit, len(matching)) and len({p.id for p in points}) == len(points)
        assert {p.id for p in points} <= matching and all(p.score == 1.0 for p in points)
    finally:
        grpc_client.delete_collection(name)
