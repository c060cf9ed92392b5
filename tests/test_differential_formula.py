"""Differential test of the `formula` query: vecinfer (both doors) against qdrant-client's local
mode (`QdrantClient(":memory:")`, `hybrid/formula.py`) on hypothesis-drawn expression trees.

- One dataset (10 points, two prefetches whose scores are exact in f32, payloads with numbers,
  arrays of one and of two, missing fields, nulls, strings, datetimes and geo points); each drawn
  formula runs on local mode and on vecinfer over gRPC and over REST.
- Either both sides fail (any error: only the texts differ) or both return the same points with
  the same scores (relative 1e-6: geo distances round differently in the last bits).
- `derandomize=True`: every run draws the same cases; `VECINFER_DIFF_SCALE` multiplies their count.
- Where local mode and the server disagree, vecinfer follows the server (spec §0) and the
  difference is not drawn here (it is covered in test_formula_unit.py); a comment starting with
  "SERVER:" says what:
  - constants, `by_zero_default` and decay `scale`/`midpoint` are f32 in Qdrant; local mode keeps
    the f64 it was given. Drawn values are exact in f32.
  - a default for `$score[i]` that is not a number counts as none; local mode returns it as is.
    Drawn score defaults are numbers.
  - a list given as a default is an array (not a number); local mode unwraps `[x]`. Drawn
    defaults are scalars or geo points.
  - `sqrt`, `exp`, `ln`, `log10` of an infinite value fail in Qdrant. Drawn leaves are small
    enough that no infinity appears without an error first.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models

from conftest import make_client

SCALE = float(os.environ.get("VECINFER_DIFF_SCALE", "1"))
COLLECTION = "formula_differential"

# Prefetch 0 queries [1, 0], prefetch 1 [0, 1]: the scores are the components, exact in f32 and
# distinct, so both sides pick the same top 6 of each.
VECTORS = {
    1: [1.5, -0.25], 2: [0.75, 0.5], 3: [-1.0, 1.25], 4: [0.125, 2.0], 5: [2.0, -1.5],
    6: [-0.5, 0.0], 7: [1.0, 1.0], 8: [0.25, -0.75], 9: [-1.5, 0.75], 10: [0.5, 1.75],
}
PAYLOADS: dict[int, dict[str, Any]] = {
    1: {"a": 2, "b": 0.5, "tag": "x", "t": "2024-01-01T00:00:00Z", "loc": {"lat": 52.52, "lon": 13.405}, "w": [3]},
    2: {"a": -3.5, "tag": "y", "t": "2024-01-02", "loc": [{"lat": 48.85, "lon": 2.35}], "w": 1},
    3: {"a": [4], "b": -2, "tag": ["x", "z"], "t": "2023-12-31 12:00:00", "loc": {"lat": 0.0, "lon": 0.0}, "w": 0},
    4: {"a": 0, "tag": "z", "t": "2024-01-01T06:30:00+02:00", "loc": {"lat": -33.9, "lon": 151.2}, "w": 2.5},
    5: {"a": 1.25, "b": 3, "t": "2024-03-01", "loc": {"lat": 40.7, "lon": -74.0}, "w": 5},
    6: {"a": 7, "tag": "x", "t": "2024-01-01 00:00", "w": -1},
    7: {"a": [], "b": 1, "tag": "y", "t": "2024-02-29T23:59:59.5Z", "loc": {"lat": 35.7, "lon": 139.7}, "w": [1, 2]},
    8: {"a": 0.5, "tag": "x", "t": 17, "loc": {"lat": 1.0, "lon": 1.0}, "w": 4},
    9: {"b": 2.25, "t": "2024-01-05", "loc": {"lat": -1.0, "lon": -1.0}, "w": "7"},
    10: {"a": -1, "b": None, "tag": "z", "t": "garbage", "loc": "here", "w": 3},
}
PREFETCH = [models.Prefetch(query=[1.0, 0.0], limit=6), models.Prefetch(query=[0.0, 1.0], limit=6)]
DATETIMES = ["2024-01-01T00:00:00Z", "2024-01-02", "2023-12-31 12:00:00", "2024-01-01T06:30:00+02:00",
             "2024-03-01T00:00:00.25Z"]


# ---------------------------------------------------------------------------- strategies


def f32s(low: float, high: float) -> st.SearchStrategy[float]:
    """Floats exact in f32 (SERVER: Qdrant reads constants as f32)."""
    return st.one_of(
        st.integers(int(low), int(high)).map(float),
        st.integers(int(low * 8), int(high * 8)).map(lambda n: n / 8),
        st.floats(low, high, width=32, allow_nan=False, allow_infinity=False),
    )


CONSTANTS = f32s(-16, 16)
VARIABLES = st.sampled_from(["$score", "$score[0]", "$score[1]", "$score[2]", "a", "b", "w", "c", "a[0]", "w[]"])
CONDITIONS = st.one_of(
    st.sampled_from(["x", "y", "z"]).map(
        lambda v: models.FieldCondition(key="tag", match=models.MatchValue(value=v))),
    st.lists(st.sampled_from(["x", "y", "z"]), min_size=1, max_size=2).map(
        lambda vs: models.FieldCondition(key="tag", match=models.MatchAny(any=vs))),
    f32s(-4, 4).map(lambda c: models.FieldCondition(key="a", range=models.Range(gte=c))),
    st.sampled_from(["a", "b", "c"]).map(lambda k: models.IsEmptyCondition(is_empty=models.PayloadField(key=k))),
    st.sampled_from(["x", "y"]).map(lambda v: models.Filter(must_not=[
        models.FieldCondition(key="tag", match=models.MatchValue(value=v))])),
)
GEO = st.builds(lambda lat, lon, to: models.GeoDistance(geo_distance=models.GeoDistanceParams(
    origin=models.GeoPoint(lat=lat, lon=lon), to=to)),
    st.sampled_from([0.0, 45.5, -12.25, 52.0]), st.sampled_from([0.0, 10.0, -120.5, 179.0]),
    st.sampled_from(["loc", "loc", "nowhere"]))
DATETIME = st.one_of(
    st.sampled_from(DATETIMES).map(lambda d: models.DatetimeExpression(datetime=d)),
    st.just(models.DatetimeKeyExpression(datetime_key="t")),
)
LEAVES = st.one_of(CONSTANTS, VARIABLES, CONDITIONS, GEO, DATETIME)


def _decay(kind: str) -> Any:
    model = {"lin": models.LinDecayExpression, "exp": models.ExpDecayExpression,
             "gauss": models.GaussDecayExpression}[kind]
    return lambda x, target, scale, midpoint: model(**{f"{kind}_decay": models.DecayParamsExpression(
        x=x, target=target, scale=scale, midpoint=midpoint)})


def _extend(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    some = st.lists(children, min_size=1, max_size=3)
    optional = st.one_of(st.none(), children)
    scale = st.one_of(st.none(), st.floats(0.125, 1e5, width=32))
    # Mostly in the domain of sqrt, ln, log10 and acosh (|x| + 1 >= 1), else most cases would fail.
    positive = st.one_of(children.map(lambda x: models.SumExpression(sum=[models.AbsExpression(abs=x), 1.0])),
                         children)
    return st.one_of(
        some.map(lambda xs: models.SumExpression(sum=xs)),
        st.lists(children, min_size=0, max_size=3).map(lambda xs: models.MultExpression(mult=xs)),
        some.map(lambda xs: models.MaxExpression(max=xs)),
        some.map(lambda xs: models.MinExpression(min=xs)),
        children.map(lambda x: models.NegExpression(neg=x)),
        children.map(lambda x: models.AbsExpression(abs=x)),
        positive.map(lambda x: models.SqrtExpression(sqrt=x)),
        children.map(lambda x: models.ExpExpression(exp=x)),
        positive.map(lambda x: models.LnExpression(ln=x)),
        positive.map(lambda x: models.Log10Expression(log10=x)),
        positive.map(lambda x: models.AcoshExpression(acosh=x)),
        st.builds(lambda b, e: models.PowExpression(pow=models.PowParams(base=b, exponent=e)), children,
                  st.one_of(children, st.sampled_from([0.5, 2.0, 3.0, -1.0]))),
        st.builds(lambda left, right, default: models.DivExpression(div=models.DivParams(
            left=left, right=right, by_zero_default=default)), children, children, st.one_of(st.none(), CONSTANTS)),
        st.builds(_decay("lin"), children, optional, scale, st.one_of(st.none(), f32s(0, 1))),
        st.builds(_decay("exp"), children, optional, scale,
                  st.one_of(st.none(), st.floats(0.015625, 0.984375, width=32))),
        st.builds(_decay("gauss"), children, optional, scale,
                  st.one_of(st.none(), st.floats(0.015625, 0.984375, width=32))),
    )


FORMULAS = st.recursive(LEAVES, _extend, max_leaves=8)
# SERVER: score defaults are numbers, other defaults scalars or geo points (see the docstring).
DEFAULTS = st.dictionaries(
    st.sampled_from(["$score", "$score[1]", "$score[2]", "a", "b", "c", "w", "loc", "nowhere", "t"]),
    st.one_of(CONSTANTS, st.just({"lat": 10.0, "lon": 20.0}), st.sampled_from(DATETIMES)),
    max_size=3,
).filter(lambda d: all(isinstance(v, float) for k, v in d.items() if k.startswith("$")))
THRESHOLDS = st.one_of(st.none(), st.sampled_from([0.0, 0.5, 1.0]))


# ---------------------------------------------------------------------------- sides


@pytest.fixture(scope="module")
def sides(shared_server):
    local = QdrantClient(":memory:")
    clients = {"local": local, "grpc": make_client(shared_server, prefer_grpc=True),
               "rest": make_client(shared_server, prefer_grpc=False)}
    for name in ("local", "grpc"):
        client = clients[name]
        client.delete_collection(COLLECTION)
        client.create_collection(COLLECTION, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert(COLLECTION, points=[models.PointStruct(id=i, vector=v, payload=PAYLOADS[i])
                                          for i, v in VECTORS.items()], wait=True)
    yield clients
    for client in clients.values():
        client.close()


def _run(client: QdrantClient, formula: Any, defaults: dict, threshold: float | None) -> list[tuple[int, float]] | str:
    try:
        points = client.query_points(COLLECTION, prefetch=PREFETCH,
                                     query=models.FormulaQuery(formula=formula, defaults=defaults),
                                     score_threshold=threshold, limit=20).points
    except Exception as exc:  # noqa: BLE001 - any error: both sides must fail
        return f"error: {str(exc)[:300]}"
    return [(int(p.id), p.score) for p in points]


def _same(expected: list[tuple[int, float]], got: list[tuple[int, float]]) -> bool:
    if [i for i, _ in sorted(expected)] != [i for i, _ in sorted(got)]:
        return False
    scores = dict(got)
    if not all(math.isclose(s, scores[i], rel_tol=1e-6, abs_tol=1e-9) for i, s in expected):
        return False
    ranked = [s for _, s in got]
    return all(a >= b for a, b in zip(ranked, ranked[1:]))


COUNTS = {"cases": 0, "errors": 0}


@settings(max_examples=max(1, int(300 * SCALE)), derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(formula=FORMULAS, defaults=DEFAULTS, threshold=THRESHOLDS)
def test_formula_matches_local_mode(sides, formula, defaults, threshold):
    expected = _run(sides["local"], formula, defaults, threshold)
    COUNTS["cases"] += 1
    COUNTS["errors"] += isinstance(expected, str)
    for door in ("grpc", "rest"):
        got = _run(sides[door], formula, defaults, threshold)
        if isinstance(expected, str) or isinstance(got, str):
            assert isinstance(expected, str) == isinstance(got, str), (door, expected, got)
        else:
            assert _same(expected, got), (door, expected, got)


def test_the_cases_were_varied():
    """The drawn cases are not all errors, nor all successes (runs after the differential test)."""
    if COUNTS["cases"] == 0:
        pytest.skip("the differential test did not run")
    assert COUNTS["cases"] >= 300 * SCALE
    assert 0.1 < COUNTS["errors"] / COUNTS["cases"] < 0.8, COUNTS


def test_scores_in_the_dataset_are_exact_in_f32():
    for vector in VECTORS.values():
        assert [float(np.float32(x)) for x in vector] == vector
