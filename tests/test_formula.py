"""The `formula` query (score boosting) through the real qdrant-client over both doors, on the
worked examples of shared/spec/qdrant-semantics.md §7.7 (results quoted from local mode)."""

from __future__ import annotations

import pytest
from qdrant_client import models

from conftest import make_client
from rest_http import call

DOORS = [pytest.param(True, id="grpc"), pytest.param(False, id="rest")]

# §7.7: a Dot prefetch gives scores 1, .5, .2, .1 for ids 1-4; ids 1 and 4 have tag "a".
SCORES = {1: 1.0, 2: 0.5, 3: 0.2, 4: 0.1}
TAGS = {1: {"tag": "a"}, 2: {}, 3: {}, 4: {"tag": "a"}}
TAG_A = models.FieldCondition(key="tag", match=models.MatchValue(value="a"))


@pytest.fixture(scope="module", params=DOORS)
def qc(request, shared_server):
    client = make_client(shared_server, prefer_grpc=request.param)
    client.door = "grpc" if request.param else "rest"
    yield client
    client.close()


def _collection(qc, name: str, vectors: dict[int, list[float]], payloads: dict[int, dict] | None = None) -> str:
    name = f"formula_{name}_{qc.door}"
    qc.delete_collection(name)
    qc.create_collection(name, vectors_config=models.VectorParams(size=len(next(iter(vectors.values()))),
                                                                  distance=models.Distance.DOT))
    qc.upsert(name, points=[models.PointStruct(id=i, vector=v, payload=(payloads or {}).get(i, {}))
                            for i, v in vectors.items()])
    return name


@pytest.fixture(scope="module")
def scored(qc) -> str:
    """ids 1-4 whose prefetch `query=[1.0]` scores them 1, .5, .2, .1."""
    return _collection(qc, "scored", {i: [s] for i, s in SCORES.items()}, TAGS)


def _query(qc, collection: str, formula, defaults=None, prefetch=None, **kwargs):
    prefetch = prefetch if prefetch is not None else models.Prefetch(query=[1.0], limit=10)
    query = models.FormulaQuery(formula=formula, defaults=defaults or {})
    return qc.query_points(collection, prefetch=prefetch, query=query, **kwargs).points


def _pairs(points, digits: int = 6) -> list[tuple[int, float]]:
    return [(p.id, round(p.score, digits)) for p in points]


# ------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize("formula, expected", [
    (models.SumExpression(sum=["$score", models.MultExpression(mult=[0.5, TAG_A])]),
     [(1, 1.5), (4, 0.6), (2, 0.5), (3, 0.2)]),
    (models.ExpDecayExpression(exp_decay=models.DecayParamsExpression(x="$score")),
     [(4, 0.933033), (3, 0.870551), (2, 0.707107), (1, 0.5)]),
    (models.GaussDecayExpression(gauss_decay=models.DecayParamsExpression(x="$score", target=1.0, scale=0.5)),
     [(1, 1.0), (2, 0.5), (3, 0.169576), (4, 0.105843)]),
    (models.LinDecayExpression(lin_decay=models.DecayParamsExpression(x="$score", target=1.0, scale=1.0)),
     [(1, 1.0), (2, 0.75), (3, 0.6), (4, 0.55)]),
], ids=["sum-mult-condition", "exp_decay", "gauss_decay", "lin_decay"])
def test_spec_examples(qc, scored, formula, expected):
    assert _pairs(_query(qc, scored, formula)) == expected


def test_missing_score_is_zero_or_its_default(qc, scored):
    assert {p.score for p in _query(qc, scored, "$score[1]")} == {0.0}
    assert {p.score for p in _query(qc, scored, "$score[1]", defaults={"$score[1]": 7})} == {7.0}
    # `$score` and `$score[0]` share one default; a point in the prefetch has a score, so it is not used.
    assert _pairs(_query(qc, scored, "$score[0]", defaults={"$score": 9}))[0] == (1, 1.0)


def test_div_mult_datetime_and_geo_constants(qc, scored):
    div = models.DivExpression(div=models.DivParams(left=1.0, right=0.0, by_zero_default=42.0))
    assert {p.score for p in _query(qc, scored, div)} == {42.0}
    assert {p.score for p in _query(qc, scored, models.MultExpression(mult=[0.0, "nope"]))} == {0.0}
    assert {p.score for p in _query(qc, scored, models.DatetimeExpression(datetime="1970-01-01T00:01:00Z"))} == {60.0}
    with pytest.raises(Exception, match="produced a non-finite number"):
        _query(qc, scored, models.DivExpression(div=models.DivParams(left=1.0, right=0.0)))


def test_payload_variables_and_defaults(qc):
    """§7.7: field x, default 10; a second prefetch (limit 2) holding ids 5 and 4."""
    vectors = {1: [1.0, 0.0], 2: [0.5, 0.0], 3: [0.1, 0.0], 4: [0.0, 1.0], 5: [0.0, 1.0]}
    payloads = {1: {"x": 2}, 2: {"x": [3]}, 3: {}, 4: {"x": []}, 5: {}}
    name = _collection(qc, "vars", vectors, payloads)
    prefetch = [models.Prefetch(query=[1.0, 0.0], limit=2), models.Prefetch(query=[0.0, 1.0], limit=2)]
    formula = models.SumExpression(sum=["x", "$score[1]"])
    points = _query(qc, name, formula, defaults={"x": 10}, prefetch=prefetch)
    assert sorted(_pairs(points), key=lambda p: (-p[1], p[0])) == [(4, 11.0), (5, 11.0), (2, 3.0), (1, 2.0)]
    with pytest.raises(Exception, match="Expected number value for x in the payload and/or in the formula defaults"):
        _query(qc, name, formula, prefetch=prefetch)
    for bad in (None, [1, 2]):
        qc.overwrite_payload(name, payload={"x": bad}, points=[1], wait=True)  # set_payload would drop a null
        with pytest.raises(Exception, match="Value is not a number"):
            _query(qc, name, formula, defaults={"x": 10}, prefetch=prefetch)
    qc.set_payload(name, payload={"x": 2}, points=[1], wait=True)


def test_geo_distance_and_datetime_key(qc):
    payloads = {1: {"loc": {"lat": 0.0, "lon": 1.0}, "t": "1970-01-02T00:00:00Z"},
                2: {"loc": [{"lat": 0.0, "lon": 0.0}], "t": "1970-01-01"}}
    name = _collection(qc, "geo", {1: [1.0], 2: [0.5]}, payloads)
    geo = models.GeoDistance(geo_distance=models.GeoDistanceParams(origin=models.GeoPoint(lat=0.0, lon=0.0), to="loc"))
    assert _pairs(_query(qc, name, geo), 3) == [(1, 111195.078), (2, 0.0)]
    assert _pairs(_query(qc, name, models.DatetimeKeyExpression(datetime_key="t"))) == [(1, 86400.0), (2, 0.0)]
    # Decay over days since a date: the usual "freshness" boost.
    fresh = models.ExpDecayExpression(exp_decay=models.DecayParamsExpression(
        x=models.DatetimeKeyExpression(datetime_key="t"),
        target=models.DatetimeExpression(datetime="1970-01-02T00:00:00Z"), scale=86400.0, midpoint=0.5))
    assert _pairs(_query(qc, name, fresh)) == [(1, 1.0), (2, 0.5)]


def test_client_1_20_operators(qc, scored):
    formula = models.SumExpression(sum=[
        models.MaxExpression(max=["$score", 0.3]),
        models.MinExpression(min=["$score", 0.3]),
        models.AcoshExpression(acosh=1.0),
    ])
    assert _pairs(_query(qc, scored, formula)) == [(1, 1.3), (2, 0.8), (3, 0.5), (4, 0.4)]


def test_every_operator_once(qc, scored):
    formula = models.SumExpression(sum=[
        models.NegExpression(neg="$score"),
        models.AbsExpression(abs=-2.0),
        models.SqrtExpression(sqrt=16.0),
        models.PowExpression(pow=models.PowParams(base=2.0, exponent=3.0)),
        models.ExpExpression(exp=0.0),
        models.LnExpression(ln=1.0),
        models.Log10Expression(log10=100.0),
        models.DivExpression(div=models.DivParams(left=3.0, right=4.0)),
    ])
    # 2 + 4 + 8 + 1 + 0 + 2 + .75 = 17.75, minus the score
    assert _pairs(_query(qc, scored, formula), 4) == [(4, 17.65), (3, 17.55), (2, 17.25), (1, 16.75)]


# ------------------------------------------------------------------------- ranking


def test_threshold_is_inclusive_limit_and_offset(qc, scored):
    formula = models.SumExpression(sum=["$score", models.MultExpression(mult=[0.5, TAG_A])])
    assert _pairs(_query(qc, scored, formula, score_threshold=0.5)) == [(1, 1.5), (4, 0.6), (2, 0.5)]
    assert _pairs(_query(qc, scored, formula, limit=2, offset=1)) == [(4, 0.6), (2, 0.5)]


def test_formula_inside_a_prefetch_tree(qc, scored):
    """A formula prefetch keeps its best 2; the root re-scores them by vector."""
    inner = models.Prefetch(prefetch=models.Prefetch(query=[1.0], limit=4),
                            query=models.FormulaQuery(formula=models.NegExpression(neg="$score")), limit=2)
    points = qc.query_points(scored, prefetch=inner, query=[1.0]).points
    assert _pairs(points) == [(3, 0.2), (4, 0.1)]
    # The outer filter is pushed into the prefetch under the formula.
    points = _query(qc, scored, "$score", query_filter=models.Filter(must=[TAG_A]))
    assert _pairs(points) == [(1, 1.0), (4, 0.1)]


def test_payload_and_vectors_come_back(qc, scored):
    points = _query(qc, scored, "$score", limit=1, with_payload=True, with_vectors=True)
    assert points[0].id == 1 and points[0].payload == {"tag": "a"} and points[0].vector == [1.0]


def test_conditions_on_ids_and_vectors(qc, scored):
    formula = models.SumExpression(sum=[models.HasIdCondition(has_id=[2]), models.HasVectorCondition(has_vector="")])
    assert dict(_pairs(_query(qc, scored, formula))) == {1: 1.0, 2: 2.0, 3: 1.0, 4: 1.0}


# ------------------------------------------------------------------------- errors


def test_formula_needs_prefetches(qc, scored):
    with pytest.raises(Exception, match="cannot apply Formula without prefetches"):
        qc.query_points(scored, query=models.FormulaQuery(formula="$score"))


@pytest.mark.parametrize("formula, message", [
    (models.SqrtExpression(sqrt=-1.0), "-1 = NaN produced a non-finite number"),  # "√-1", escaped in JSON
    (models.LinDecayExpression(lin_decay=models.DecayParamsExpression(x="$score", midpoint=1.5)),
     r"Linear decay midpoint should be in the range \[0.0, 1.0\], got 1.5"),
    (models.ExpDecayExpression(exp_decay=models.DecayParamsExpression(x="$score", scale=-1.0)),
     "Decay scale should be non-zero positive, got -1"),
    ("$score[x]", "Invalid reserved variable"),
    ("a..b", "Invalid payload variable"),
    (models.DatetimeExpression(datetime="yesterday"), "not in a supported date/time format"),
], ids=["non-finite", "lin-midpoint", "scale", "score-index", "payload-path", "datetime"])
def test_errors(qc, scored, formula, message):
    with pytest.raises(Exception, match=message) as info:
        _query(qc, scored, formula)
    text = str(info.value)
    assert ("INVALID_ARGUMENT" in text) if qc.door == "grpc" else ("400" in text)


def test_rest_errors_name_the_json_path(shared_server):
    port = shared_server.http_port
    name = "formula_rest_paths"
    call(port, "DELETE", f"/collections/{name}")
    call(port, "PUT", f"/collections/{name}", {"vectors": {"size": 1, "distance": "Dot"}})
    body = {"prefetch": {"query": [1.0]}, "query": {"formula": {"sum": ["$score", {"mul": [1, 2]}]}}}
    status, _, answer = call(port, "POST", f"/collections/{name}/points/query", body)
    assert status == 400
    assert "query.formula.sum[1]" in answer["status"]["error"]
    body = {"prefetch": {"query": [1.0]}, "query": {"formula": {"max": []}}}
    status, _, answer = call(port, "POST", f"/collections/{name}/points/query", body)
    assert status == 400 and "`max` needs at least one operand" in answer["status"]["error"]
