"""Differential test for multivectors: vecinfer (a real server, queried through both doors)
against qdrant-client's local mode (`QdrantClient(":memory:")`, the executable reference of
Qdrant's semantics), on MaxSim queries of every kind.

- One seeded dataset per distance (`VECINFER_DIFF_SEED`, default 11), loaded into both sides
  once per module: matrices of 1–4 rows of 3 numbers (some from a small integer set, so that
  exact ties happen), a payload key `g`, a plain dense vector `d`, and some points without the
  multivector.
- hypothesis (`derandomize=True`: the same cases every run; `VECINFER_DIFF_SCALE` multiplies the
  case count) draws the query: nearest by matrix or by id, recommend (average_vector,
  best_score, sum_scores; ids and matrices, positive and negative), discover, context, MMR, a
  MaxSim prefetch rescored by another MaxSim query, with a filter, limit, offset and
  score_threshold, and the door.
- Rankings are compared tie-tolerantly: scores position by position (relative 1e-4; local mode
  mixes float64 into the sums), and ids wherever the scores are not (nearly) tied.
"""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from conftest import make_client

SEED = int(os.environ.get("VECINFER_DIFF_SEED", "11"))
SCALE = float(os.environ.get("VECINFER_DIFF_SCALE", "1"))
DIM = 3
POINTS = 30
DISTANCES = [models.Distance.COSINE, models.Distance.DOT, models.Distance.EUCLID, models.Distance.MANHATTAN]
TOLERANCE = 1e-4


def matrix(rng: random.Random, rows: int | None = None) -> list[list[float]]:
    rows = rows or rng.randint(1, 4)
    if rng.random() < 0.3:  # small integers: exact ties
        return [[float(rng.randint(-2, 2)) for _ in range(DIM)] for _ in range(rows)]
    return [[round(rng.gauss(0, 1), 2) for _ in range(DIM)] for _ in range(rows)]


def dataset(distance: models.Distance) -> list[models.PointStruct]:
    rng = random.Random(f"{SEED}-{distance.value}")
    points = []
    for i in range(1, POINTS + 1):
        vector: dict = {"d": [round(rng.gauss(0, 1), 2) for _ in range(2)]}
        if i % 7 != 0:  # every seventh point has no multivector
            vector["mv"] = matrix(rng)
        points.append(models.PointStruct(id=i, vector=vector, payload={"g": i % 3}))
    return points


def config(distance: models.Distance) -> dict:
    return {"mv": models.VectorParams(size=DIM, distance=distance, multivector_config=models.MultiVectorConfig(
                comparator=models.MultiVectorComparator.MAX_SIM)),
            "d": models.VectorParams(size=2, distance=distance)}


@pytest.fixture(scope="module")
def sides(shared_server):
    local = QdrantClient(":memory:")
    grpc_client = make_client(shared_server)
    rest_client = make_client(shared_server, prefer_grpc=False)
    for distance in DISTANCES:
        name = f"diff_multi_{distance.value}"
        for client in (local, grpc_client):
            client.delete_collection(name)
            client.create_collection(name, vectors_config=config(distance))
            client.upsert(name, points=dataset(distance))
    yield {"local": local, "grpc": grpc_client, "rest": rest_client}
    for client in (local, grpc_client, rest_client):
        client.close()


# ---------------------------------------------------------------------------- drawing queries

VALUES = st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 2.0, 0.3, -0.7, 1.5])
MATRIX = st.lists(st.lists(VALUES, min_size=DIM, max_size=DIM), min_size=1, max_size=4)
# Ids of points that hold the multivector (every seventh does not).
POINT_IDS = st.integers(1, POINTS).filter(lambda i: i % 7 != 0)
EXAMPLE = st.one_of(POINT_IDS, MATRIX)


@st.composite
def queries(draw) -> tuple[str, dict]:
    kind = draw(st.sampled_from(["nearest", "nearest", "recommend", "discover", "context", "mmr", "prefetch"]))
    if kind == "nearest":
        return kind, {"query": draw(st.one_of(MATRIX, POINT_IDS))}
    if kind == "recommend":
        strategy = draw(st.sampled_from(list(models.RecommendStrategy)))
        positive = draw(st.lists(EXAMPLE, min_size=0 if strategy != models.RecommendStrategy.AVERAGE_VECTOR else 1,
                                 max_size=3))
        negative = draw(st.lists(EXAMPLE, min_size=0 if positive else 1, max_size=2))
        return kind, {"query": models.RecommendQuery(recommend=models.RecommendInput(
            positive=positive, negative=negative, strategy=strategy))}
    # A pair of the same example would compare two equal similarities, which local mode's BLAS
    # products do not always find equal (a rank of ±1 instead of 0): pairs are of two examples.
    pairs = draw(st.lists(st.builds(lambda p, n: models.ContextPair(positive=p, negative=n), EXAMPLE, EXAMPLE).filter(
        lambda pair: pair.positive != pair.negative), min_size=1, max_size=3))
    if kind == "discover":
        return kind, {"query": models.DiscoverQuery(discover=models.DiscoverInput(target=draw(EXAMPLE), context=pairs))}
    if kind == "context":
        return kind, {"query": models.ContextQuery(context=pairs)}
    if kind == "mmr":
        return kind, {"query": models.NearestQuery(nearest=draw(MATRIX), mmr=models.Mmr(
            diversity=draw(st.sampled_from([0.0, 0.3, 0.5, 1.0])), candidates_limit=draw(st.integers(2, 20))))}
    return kind, {"prefetch": models.Prefetch(query=draw(MATRIX), using="mv", limit=draw(st.integers(1, 15))),
                  "query": draw(MATRIX)}


def higher_is_better(distance: models.Distance, kind: str, request: dict) -> bool:
    """Nearest and average_vector keep the distance's order; the other kinds are larger-first."""
    query = request["query"]
    if kind in ("nearest", "mmr", "prefetch"):
        return distance in (models.Distance.COSINE, models.Distance.DOT)
    if kind == "recommend" and query.recommend.strategy == models.RecommendStrategy.AVERAGE_VECTOR:
        return distance in (models.Distance.COSINE, models.Distance.DOT)
    return True


# ---------------------------------------------------------------------------- comparing


def near(a: float, b: float) -> bool:
    return abs(a - b) <= TOLERANCE * max(1.0, abs(a), abs(b))


def check_same(ours: list[tuple], ref: list[tuple], ordered_by_pick: bool = False, open_start: bool = False) -> None:
    """Same length and scores; the same ids wherever the reference's scores are not tied with
    a neighbour (a tie at the end of the list, or at its start after an offset, may let
    different points in)."""
    assert len(ours) == len(ref), (ours, ref)
    for (_, s), (_, t) in zip(ours, ref):
        assert near(s, t), (ours, ref)
    if ordered_by_pick:
        assert [i for i, _ in ours] == [i for i, _ in ref], (ours, ref)
        return
    start = 0
    while start < len(ref):
        end = start + 1
        while end < len(ref) and near(ref[end][1], ref[end - 1][1]):
            end += 1
        if end < len(ref) and not (open_start and start == 0):  # a closed group of ties: the same points, in any order
            assert {i for i, _ in ours[start:end]} == {i for i, _ in ref[start:end]}, (ours, ref)
        start = end


def tied(local: QdrantClient, name: str, query, query_filter, limit: int) -> bool:
    """Whether the `limit` best for `query` (and the next point, which a tie could let in)
    hold near-equal scores: then which of them make a candidate set is not defined."""
    scores = [p.score for p in local.query_points(name, query=query, using="mv", query_filter=query_filter,
                                                  limit=limit + 1).points]
    return any(near(a, b) for a, b in zip(scores, scores[1:]))


def internal_maxsim(distance: models.Distance, query: np.ndarray, rows: np.ndarray) -> float:
    if distance in (models.Distance.COSINE, models.Distance.DOT):
        sims = query @ rows.T
    else:
        diff = query[:, None, :] - rows[None, :, :]
        sims = -(diff * diff).sum(-1) if distance == models.Distance.EUCLID else -np.abs(diff).sum(-1)
    return float(sims.max(axis=1).sum())


def undecided_comparisons(local: QdrantClient, name: str, distance: models.Distance, query) -> bool:
    """Whether discover's pairs, or best_score's best positive and best negative, are (nearly)
    equal for some point: then float noise decides the comparison (a rank of ±1, or σ(P)
    against −σ(N)), on either side and in Qdrant too."""
    stored = {p.id: np.asarray(p.vector["mv"]) for p in local.scroll(name, with_vectors=["mv"], limit=1000)[0]
              if p.vector and "mv" in p.vector}

    def resolve(example) -> np.ndarray:
        if isinstance(example, int):
            return stored[example]
        m = np.asarray(example, dtype=np.float64)
        if distance == models.Distance.COSINE:
            norms = np.linalg.norm(m, axis=1, keepdims=True)
            m = m / np.where(norms > 0, norms, 1)
        return m

    if isinstance(query, models.DiscoverQuery):
        compared = [([resolve(p.positive)], [resolve(p.negative)]) for p in query.discover.context]
    elif isinstance(query, models.RecommendQuery) and query.recommend.strategy == models.RecommendStrategy.BEST_SCORE:
        compared = [([resolve(e) for e in query.recommend.positive or []], [resolve(e) for e in query.recommend.negative or []])]
    else:
        return False
    for rows in stored.values():
        for positive, negative in compared:
            if positive and negative and near(max(internal_maxsim(distance, e, rows) for e in positive),
                                              max(internal_maxsim(distance, e, rows) for e in negative)):
                return True
    return False


def pairs(points) -> list[tuple]:
    return [(p.id, p.score) for p in points]


def settings_for(n: int) -> settings:
    return settings(max_examples=max(1, int(n * SCALE)), derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@settings_for(400)
@given(data=st.data())
def test_multivector_queries_match_local_mode(sides, data):
    distance = data.draw(st.sampled_from(DISTANCES), "distance")
    door = data.draw(st.sampled_from(["grpc", "rest"]), "door")
    kind, request = data.draw(queries(), "query")
    limit = data.draw(st.integers(1, 10), "limit")
    offset = data.draw(st.integers(0, 3), "offset") if kind in ("nearest", "recommend") else 0
    flt = data.draw(st.one_of(st.none(), st.integers(0, 2)), "g")
    query_filter = None if flt is None else models.Filter(must=[models.FieldCondition(
        key="g", match=models.MatchValue(value=flt))])
    name = f"diff_multi_{distance.value}"
    args = dict(request, using="mv", limit=limit, offset=offset, query_filter=query_filter)
    ref = pairs(sides["local"].query_points(name, **args).points)
    if kind in ("nearest", "recommend") and data.draw(st.booleans(), "threshold") and len(ref) >= 2:
        # a threshold between two distinct scores, so that float noise cannot move it
        cut = data.draw(st.integers(0, len(ref) - 2), "cut")
        a, b = ref[cut][1], ref[cut + 1][1]
        if not near(a, b):
            args["score_threshold"] = (a + b) / 2
            ref = pairs(sides["local"].query_points(name, **args).points)
    ours = pairs(sides[door].query_points(name, **args).points)
    if undecided_comparisons(sides["local"], name, distance, request["query"]):
        assert len(ours) == len(ref), (ours, ref)
        return
    if kind == "prefetch" and tied(sides["local"], name, request["prefetch"].query, query_filter,
                                   request["prefetch"].limit):
        assert len(ours) == len(ref), (ours, ref)  # the prefetch's candidates are not defined
        return
    if kind == "mmr" and tied(sides["local"], name, request["query"].nearest, query_filter,
                              request["query"].mmr.candidates_limit):
        # MMR visits tied candidates in an order neither side defines (nor does Qdrant): only
        # the number of picks and their scores (each a candidate's own score) must agree.
        assert len(ours) == len(ref), (ours, ref)
        plain = [s for _, s in pairs(sides["local"].query_points(
            name, query=request["query"].nearest, using="mv", limit=request["query"].mmr.candidates_limit,
            query_filter=query_filter).points)]
        assert all(any(near(s, t) for t in plain) for _, s in ours), (ours, plain)
        return
    check_same(ours, ref, ordered_by_pick=kind == "mmr", open_start=offset > 0)
    better = higher_is_better(distance, kind, request)
    if kind != "mmr":
        scores = [s for _, s in ours]
        assert all(near(x, y) or (x > y) == better for x, y in zip(scores, scores[1:])), ours


def test_retrieved_matrices_match_local_mode(sides):
    """What each side stores (Cosine rows normalised) and returns, through both doors."""
    for distance in DISTANCES:
        name = f"diff_multi_{distance.value}"
        ids = list(range(1, POINTS + 1))
        ref = {p.id: p.vector for p in sides["local"].retrieve(name, ids, with_vectors=True)}
        for door in ("grpc", "rest"):
            ours = {p.id: p.vector for p in sides[door].retrieve(name, ids, with_vectors=True)}
            assert ours.keys() == ref.keys()
            for point_id, vectors in ref.items():
                assert set(ours[point_id]) == set(vectors), point_id
                if "mv" in vectors:
                    assert np.allclose(ours[point_id]["mv"], vectors["mv"], atol=1e-6), (distance, point_id)
