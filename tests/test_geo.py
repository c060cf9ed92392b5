"""Geo filter conditions (`geo_radius`, `geo_bounding_box`, `geo_polygon` with holes) through the
real qdrant-client over both doors, on the worked examples of shared/spec/qdrant-semantics.md
§3.11, with the refusals of bad geo input and strict mode's `geo` index rule (§10); then the
storage code itself: exact polygon tests on the edges, and the vectorised column path against
the point-by-point one."""

from __future__ import annotations

import json
import math
import random
from fractions import Fraction

import grpc
import numpy as np
import pytest
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import make_client
from rest_http import call
from vecinfer.domain import filters as f
from vecinfer.domain.errors import InvalidArgument
from vecinfer.storage import geo
from vecinfer.storage.filters import PointView, check_filter

DOORS = ["grpc", "rest"]
P = models.GeoPoint

# From (0, 0) to (lat 1, lon 0) and to (lat 0, lon 1): the same haversine distance (spec §3.11).
D = 111195.0802335329

LOCATIONS = {
    1: {"lon": 0.5, "lat": 0.5},
    2: {"lon": 0.25, "lat": 0.25},
    3: [{"lon": 10, "lat": 10}, {"lon": 0.2, "lat": 0.2}],  # any element may match
    4: {"lon": 0, "lat": 0},
    5: {"lon": 1, "lat": 0},
    6: {"lon": 0, "lat": 1},
    7: {"lon": "0.5", "lat": "0.5"},  # string coordinates are not a point
    8: None,  # no location at all
    9: {"lon": 0.5},  # no latitude
    10: {"lon": 0.2, "lat": 0.25},  # on the edge of the hole below
    11: {"lon": 0.5, "lat": 0},  # on the edge of the unit square
    12: {"lon": 179.9, "lat": 0},
    13: {"lon": -179.9, "lat": 5},
    14: {"lon": True, "lat": 0.5},  # a boolean is not a number
    15: [[{"lon": 0.5, "lat": 0.5}]],  # flattened one level only: the inner array is not a point
}
ALL = sorted(LOCATIONS)


def square(x0: float, y0: float, x1: float, y1: float) -> models.GeoLineString:
    return models.GeoLineString(points=[P(lon=x0, lat=y0), P(lon=x1, lat=y0), P(lon=x1, lat=y1),
                                        P(lon=x0, lat=y1), P(lon=x0, lat=y0)])


UNIT = square(0, 0, 1, 1)
HOLE = square(0.2, 0.2, 0.3, 0.3)


def radius(r: float, lat: float = 0, lon: float = 0) -> models.GeoRadius:
    return models.GeoRadius(center=P(lon=lon, lat=lat), radius=r)


def box(tl_lon: float, tl_lat: float, br_lon: float, br_lat: float) -> models.GeoBoundingBox:
    return models.GeoBoundingBox(top_left=P(lon=tl_lon, lat=tl_lat), bottom_right=P(lon=br_lon, lat=br_lat))


def field(key: str = "loc", **condition) -> models.FieldCondition:
    return models.FieldCondition(key=key, **condition)


@pytest.fixture(scope="module")
def clients(shared_server):
    made = {"grpc": make_client(shared_server), "rest": make_client(shared_server, prefer_grpc=False)}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(params=DOORS)
def door(request):
    return request.param


@pytest.fixture(scope="module")
def places(clients) -> str:
    client = clients["grpc"]
    name = "geo_places"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    payloads = {i: ({} if loc is None else {"loc": loc}) for i, loc in LOCATIONS.items()}
    payloads[1]["trips"] = [{"to": {"lon": 13.405, "lat": 52.52}}, {"to": {"lon": 2.35, "lat": 48.86}}]
    payloads[2]["trips"] = [{"to": {"lon": -0.13, "lat": 51.51}}]
    payloads[3]["trips"] = {"to": {"lon": 13.405, "lat": 52.52}}  # an object, not an array
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, float(i)], payload=p)
                                for i, p in payloads.items()])
    return name


def ids(client, name: str, flt: models.Filter) -> list[int]:
    found = client.scroll(name, scroll_filter=flt, limit=100, with_payload=False)[0]
    got = sorted(int(r.id) for r in found)
    assert client.count(name, count_filter=flt, exact=True).count == len(got)
    return got


# ------------------------------------------------------------------------- worked examples


@pytest.mark.parametrize("condition, expected", [
    # geo_radius: strictly less than the radius; D excludes (lat 1, lon 0) and (lat 0, lon 1), D + 1 takes them.
    (field(geo_radius=radius(D)), [1, 2, 3, 4, 10, 11]),
    (field(geo_radius=radius(D + 1)), [1, 2, 3, 4, 5, 6, 10, 11]),
    (field(geo_radius=radius(0)), []),
    (field(geo_radius=radius(-5)), []),  # accepted, as Qdrant does; nothing is that close
    (field(geo_radius=radius(1000, lat=0.5, lon=0.5)), [1]),
    # geo_bounding_box: strict on both axes, so the square's edges and corners are out.
    (field(geo_bounding_box=box(0, 1, 1, 0)), [1, 2, 3, 10]),
    (field(geo_bounding_box=box(0.5, 1, 1, 0)), []),
    (field(geo_bounding_box=box(179, 10, -179, -10)), [12, 13]),  # across the antimeridian
    (field(geo_bounding_box=box(-180, 90, 180, -90)), [1, 2, 3, 4, 5, 6, 10, 11, 12, 13]),
    # geo_polygon: the unit square without and with a hole (spec §3.11).
    (field(geo_polygon=models.GeoPolygon(exterior=UNIT)), [1, 2, 3, 10]),
    (field(geo_polygon=models.GeoPolygon(exterior=UNIT, interiors=[HOLE])), [1]),
    (field(geo_polygon=models.GeoPolygon(exterior=UNIT, interiors=[square(0.4, 0.4, 0.6, 0.6), HOLE])), []),
    # Polygons are plain lon/lat shapes, never wrapped: this triangle spans lon -179..179 the long
    # way round, so it holds (lon 1, lat 0) and (lon 0.5, lat 0) but not (lon 179.9, lat 0).
    (field(geo_polygon=models.GeoPolygon(exterior=models.GeoLineString(points=[
        P(lon=179, lat=-10), P(lon=-179, lat=-10), P(lon=179, lat=10), P(lon=179, lat=-10)]))), [5, 11]),
], ids=["radius-d", "radius-d+1", "radius-0", "radius-negative", "radius-small", "box", "box-edge",
        "box-antimeridian", "box-world", "polygon", "polygon-hole", "polygon-two-holes", "polygon-no-wrap"])
def test_worked_examples(clients, door, places, condition, expected):
    client = clients[door]
    assert ids(client, places, models.Filter(must=[condition])) == expected
    # must_not is the complement over every point, with or without a location.
    assert ids(client, places, models.Filter(must_not=[condition])) == sorted(set(ALL) - set(expected))


def test_clauses_nested_and_array_paths(clients, door, places):
    client = clients[door]
    in_square = field(geo_polygon=models.GeoPolygon(exterior=UNIT))
    near_origin = field(geo_radius=radius(D))
    assert ids(client, places, models.Filter(should=[field(geo_bounding_box=box(179, 10, -179, -10)), near_origin])) \
        == [1, 2, 3, 4, 10, 11, 12, 13]
    assert ids(client, places, models.Filter(must=[in_square], must_not=[near_origin])) == []
    assert ids(client, places, models.Filter(min_should=models.MinShould(
        conditions=[in_square, near_origin, field(geo_radius=radius(D + 1))], min_count=3))) == [1, 2, 3, 10]
    berlin = radius(50_000, lat=52.52, lon=13.4)
    assert ids(client, places, models.Filter(must=[field("trips[].to", geo_radius=berlin)])) == [1]
    assert ids(client, places, models.Filter(must=[models.NestedCondition(nested=models.Nested(
        key="trips", filter=models.Filter(must=[field("to", geo_radius=berlin)])))])) == [1]
    assert ids(client, places, models.Filter(must=[field("trips[].to", geo_bounding_box=box(-1, 60, 20, 45))])) \
        == [1, 2]


def test_queries_and_formulas_see_geo_filters(clients, door, places):
    client = clients[door]
    flt = models.Filter(must=[field(geo_radius=radius(D))])
    hits = client.query_points(places, query=[0.0, 1.0], query_filter=flt, limit=3).points
    assert [h.id for h in hits] == [11, 10, 4]
    # A geo condition inside a formula is 1 where it holds.
    boosted = client.query_points(places, prefetch=models.Prefetch(query=[1.0, 0.0], limit=20),
                                  query=models.FormulaQuery(formula=models.SumExpression(sum=[
                                      "$score", models.MultExpression(mult=[10.0, flt.must[0]])])), limit=20).points
    assert sorted(h.id for h in boosted if h.score > 5) == [1, 2, 3, 4, 10, 11]


def test_geo_index_is_accepted_and_changes_nothing(clients, door, places):
    client = clients[door]
    name = f"geo_indexed_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.create_payload_index(name, "loc", models.PayloadSchemaType.GEO)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, 0.0], payload={} if loc is None else {"loc": loc})
                                for i, loc in LOCATIONS.items()])
    assert client.get_collection(name).payload_schema["loc"].data_type == models.PayloadSchemaType.GEO
    flt = models.Filter(must=[field(geo_polygon=models.GeoPolygon(exterior=UNIT, interiors=[HOLE]))])
    assert ids(client, name, flt) == [1]
    client.delete(name, points_selector=models.FilterSelector(filter=models.Filter(must=[field(geo_radius=radius(D))])))
    assert ids(client, name, models.Filter()) == [5, 6, 7, 8, 9, 12, 13, 14, 15]


def test_points_written_after_a_query_are_seen(clients, door):
    """The vectorised column of a segment is rebuilt when the segment changes."""
    client = clients[door]
    name = f"geo_moving_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    flt = models.Filter(must=[field(geo_bounding_box=box(0, 1, 1, 0))])
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1, 0], payload={"loc": {"lon": 0.5, "lat": 0.5}})])
    assert ids(client, name, flt) == [1]
    client.set_payload(name, payload={"loc": {"lon": 5, "lat": 5}}, points=[1])
    client.upsert(name, points=[models.PointStruct(id=2, vector=[1, 0], payload={"loc": [{"lon": 0.1, "lat": 0.9}]})])
    assert ids(client, name, flt) == [2]


# ----------------------------------------------------------------------------- refusals


def refusal(door: str, call_it) -> str:
    if door == "grpc":
        with pytest.raises(grpc.RpcError) as info:
            call_it()
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
        return info.value.details()
    with pytest.raises(UnexpectedResponse) as info:
        call_it()
    assert info.value.status_code == 400, info.value.content
    return json.loads(info.value.content)["status"]["error"]


OPEN_RING = models.GeoLineString(points=[P(lon=0, lat=0), P(lon=1, lat=0), P(lon=1, lat=1), P(lon=0, lat=1)])
SHORT_RING = models.GeoLineString(points=[P(lon=0, lat=0), P(lon=1, lat=0), P(lon=0, lat=0)])


@pytest.mark.parametrize("condition, where, problem", [
    (field(geo_radius=radius(10, lat=91)), "geo_radius.center",
     "Wrong format of GeoPoint payload: expected `lat` = 91 within [-90;90] and `lon` = 0 within [-180;180]"),
    (field(geo_bounding_box=box(-180.5, 1, 1, 0)), "geo_bounding_box.top_left",
     "Wrong format of GeoPoint payload: expected `lat` = 1 within [-90;90] and `lon` = -180.5 within [-180;180]"),
    (field(geo_bounding_box=box(0, 1, 1, -90.25)), "geo_bounding_box.bottom_right", "`lat` = -90.25 within"),
    (field(geo_polygon=models.GeoPolygon(exterior=SHORT_RING)), "geo_polygon.exterior",
     "polygon invalid, the size must be at least 4, got 3"),
    (field(geo_polygon=models.GeoPolygon(exterior=OPEN_RING)), "geo_polygon.exterior",
     "polygon invalid, the first and the last points should be the same to form a closed line"),
    (field(geo_polygon=models.GeoPolygon(exterior=UNIT, interiors=[HOLE, OPEN_RING])), "geo_polygon.interiors[1]",
     "polygon invalid, the first and the last points should be the same to form a closed line"),
    (field(geo_polygon=models.GeoPolygon(exterior=models.GeoLineString(points=[]))), "geo_polygon.exterior",
     "polygon invalid, the size must be at least 4, got 0"),
    (field(geo_polygon=models.GeoPolygon(exterior=square(0, 0, 1, 200))), "geo_polygon.exterior.points[2]",
     "`lat` = 200 within [-90;90]"),
], ids=["center-lat", "top-left-lon", "bottom-right-lat", "short-ring", "open-ring", "open-hole", "empty-ring",
        "ring-point"])
def test_bad_geo_input_is_refused_naming_the_field(clients, door, places, condition, where, problem):
    client = clients[door]
    flt = models.Filter(must=[models.Filter(should=[condition])])
    message = refusal(door, lambda: client.count(places, count_filter=flt))
    assert problem in message and where in message, message
    if door == "rest":  # the JSON path of the offending value
        assert f"filter.must[0].should[0].{where}" in message, message
    else:
        assert "`loc`" in message, message
    # Update filters too: nothing is deleted.
    refusal(door, lambda: client.delete(places, points_selector=models.FilterSelector(filter=flt)))
    assert client.count(places).count == len(ALL)


def test_malformed_rest_bodies(shared_server, places):
    def count(condition) -> tuple[int, str]:
        status, _, body = call(shared_server.http_port, "POST", f"/collections/{places}/points/count",
                               {"filter": {"must": [{"key": "loc", **condition}]}})
        return status, body["status"]["error"]

    status, error = count({"geo_radius": {"center": {"lon": 0, "lat": 0}}})
    assert status == 400 and "filter.must[0].geo_radius: missing field `radius`" in error
    status, error = count({"geo_radius": {"center": {"lon": 0, "lat": "1"}, "radius": 1}})
    assert status == 400 and "filter.must[0].geo_radius.center.lat: expected a number" in error
    status, error = count({"geo_bounding_box": {"top_left": {"lon": 0, "lat": 1}}})
    assert status == 400 and "missing field `bottom_right`" in error
    status, error = count({"geo_polygon": {"exterior": [{"lon": 0, "lat": 0}]}})
    assert status == 400 and "filter.must[0].geo_polygon.exterior" in error
    status, error = count({"geo_radius": {"center": {"lon": 0, "lat": 0, "alt": 3}, "radius": 1}})
    assert status == 400 and "unknown field `alt`" in error
    raw = b'{"filter": {"must": [{"key": "loc", "geo_radius": {"center": {"lon": 1' + b"0" * 400 + b', "lat": 0}, ' \
          b'"radius": 1}}]}}'
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{places}/points/count", raw=raw)
    assert status == 400 and "geo_radius.center.lon: number out of range" in body["status"]["error"]
    # A closing point within f64::EPSILON of the first is closed (Qdrant's check).
    ring = [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 1},
            {"lon": 1e-17, "lat": 0}]
    status, _, body = call(shared_server.http_port, "POST", f"/collections/{places}/points/count",
                           {"filter": {"must": [{"key": "loc", "geo_polygon": {"exterior": {"points": ring}}}]},
                            "exact": True})
    assert status == 200 and body["result"]["count"] == 4


def test_malformed_grpc_messages(clients, places):
    from qdrant_client import grpc as qgrpc

    client = clients["grpc"]

    def count(**geo) -> grpc.RpcError:
        request = qgrpc.CountPoints(collection_name=places, exact=True, filter=qgrpc.Filter(must=[
            qgrpc.Condition(field=qgrpc.FieldCondition(key="loc", **geo))]))
        with pytest.raises(grpc.RpcError) as info:
            client.grpc_points.Count(request, timeout=10)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
        return info.value

    assert "Malformed GeoRadius type - field `center` is required" in count(
        geo_radius=qgrpc.GeoRadius(radius=1.0)).details()
    assert "Malformed GeoBoundingBox type - field `bottom_right` is required" in count(
        geo_bounding_box=qgrpc.GeoBoundingBox(top_left=qgrpc.GeoPoint(lon=0, lat=1))).details()
    assert "Malformed GeoPolygon type - field `exterior` is required" in count(
        geo_polygon=qgrpc.GeoPolygon()).details()
    assert "`lon` = NaN within" in count(
        geo_radius=qgrpc.GeoRadius(center=qgrpc.GeoPoint(lon=math.nan, lat=0), radius=1.0)).details()


# ---------------------------------------------------------------------------- strict mode


def test_strict_mode_wants_a_geo_index(clients, door):
    client = clients[door]
    name = f"geo_strict_{door}"
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT),
                             strict_mode_config=models.StrictModeConfig(
                                 enabled=True, unindexed_filtering_retrieve=False, unindexed_filtering_update=False,
                                 filter_max_conditions=3, condition_max_size=2))
    client.upsert(name, points=[models.PointStruct(id=1, vector=[1, 0], payload={
        "loc": {"lon": 0.5, "lat": 0.5}, "trips": [{"to": {"lon": 0.5, "lat": 0.5}}]})])
    flt = models.Filter(must=[field(geo_polygon=models.GeoPolygon(exterior=UNIT, interiors=[HOLE]))])
    message = ('Bad request: Index required but not found for "loc" of one of the following types: [geo]. '
               "Help: Create an index for this key or use a different filter.")
    assert refusal(door, lambda: client.count(name, count_filter=flt)) == message
    assert refusal(door, lambda: client.delete(name, points_selector=models.FilterSelector(filter=flt))) == message
    client.create_payload_index(name, "loc", models.PayloadSchemaType.KEYWORD)  # not one that serves geo
    assert refusal(door, lambda: client.query_points(name, query=[1, 0], query_filter=flt)) == message
    client.delete_payload_index(name, "loc")
    client.create_payload_index(name, "loc", models.PayloadSchemaType.GEO)
    assert client.count(name, count_filter=flt).count == 1
    # Inside `nested` the key is outer[].inner.
    nested = models.Filter(must=[models.NestedCondition(nested=models.Nested(key="trips", filter=models.Filter(
        must=[field("to", geo_radius=radius(1000, lat=0.5, lon=0.5))])))])
    assert 'not found for "trips[].to" of one of the following types: [geo]' in refusal(
        door, lambda: client.count(name, count_filter=nested))
    client.create_payload_index(name, "trips[].to", models.PayloadSchemaType.GEO)
    assert client.count(name, count_filter=nested).count == 1
    # A geo condition counts as one condition, of size 0 however many points its polygon has.
    big = models.Filter(must=[field(geo_polygon=models.GeoPolygon(exterior=UNIT, interiors=[HOLE] * 5))] * 3)
    assert client.count(name, count_filter=big).count == 1
    assert refusal(door, lambda: client.count(name, count_filter=models.Filter(must=big.must * 2))) == (
        "Bad request: Filter condition limit reached (6 > 3). Help: Reduce the amount of conditions of your filter.")


# ------------------------------------------------------------------------ storage, unit level


def test_domain_checks():
    with pytest.raises(InvalidArgument, match="got 3"):
        f.GeoPolygon("a", (f.GeoPoint(0, 0), f.GeoPoint(1, 1), f.GeoPoint(0, 0)))
    with pytest.raises(InvalidArgument, match=r"`lon` = inf within"):
        f.GeoPoint(math.inf, 0)
    f.GeoPoint(-180, -90)
    f.GeoPoint(180, 90)


@pytest.mark.parametrize("value, expected", [
    ({"lon": 1, "lat": 2}, (1.0, 2.0)), ({"lon": 1.5, "lat": -2, "x": "y"}, (1.5, -2.0)),
    ({"lon": "1", "lat": 2}, None), ({"lon": True, "lat": 2}, None), ({"lat": 2}, None), ({"lon": None, "lat": 2}, None),
    ([{"lon": 1, "lat": 2}], None), ({"lon": 10**400, "lat": 0}, None), ({"lon": math.nan, "lat": 0}, None),
    ({"lon": 500, "lat": 0}, (500.0, 0.0)),  # stored values are not range-checked (Qdrant's unindexed path)
])
def test_what_counts_as_a_point(value, expected):
    assert geo.point_of(value) == expected


def test_haversine_matches_the_spec_example():
    assert geo.haversine(0, 0, 1, 0) == pytest.approx(111195.080, abs=5e-4)
    assert geo.haversine(0, 0, 1, 0) == D


def test_orientation_is_exact():
    # Points a hair off the line through (0, 0) and (3, 1): float arithmetic gets some signs
    # wrong or calls them collinear; the test compares with exact fractions of the same floats.
    for k in range(1, 400):
        x = k * 0.1
        y = x / 3
        exact = 3 * Fraction(y) - Fraction(x)
        assert geo.orient(0, 0, 3, 1, x, y) == (exact > 0) - (exact < 0), x
    assert geo.orient(0, 0, 1, 1, 0.5, 0.5) == 0
    assert geo.orient(0, 0, 1, 0, 0.5, 1e-300) == 1


def test_polygon_edges_vertices_and_winding():
    unit = f.GeoPolygon("a", tuple(f.GeoPoint(x, y) for x, y in [(0, 0), (1, 0), (1, 1), (0, 1), (0, 0)]),
                        (tuple(f.GeoPoint(x, y) for x, y in [(0.2, 0.2), (0.3, 0.2), (0.3, 0.3), (0.2, 0.3), (0.2, 0.2)]),))
    poly = geo.prepared(unit)
    cases = {(0.5, 0.5): True, (0.25, 0.25): False, (0.2, 0.25): False, (0.3, 0.3): False, (0, 0.5): False,
             (1, 1): False, (0.5, 1): False, (1e-300, 0.5): True, (0.5, 1 - 1e-16): True, (0.1, 0.2): True,
             (0.2, 0.1): True, (-1e-300, 0.5): False}
    for (x, y), expected in cases.items():
        assert poly.contains(x, y) is expected, (x, y)
    column = geo.GeoColumn(len(cases), enumerate(cases))
    assert column.mask(unit).tolist() == list(cases.values())
    # A ring that winds twice around its middle holds it (the server's winding number; local
    # mode's even-odd rule would not).
    star = [(math.cos(math.radians(90 + 144 * i)), math.sin(math.radians(90 + 144 * i))) for i in range(5)]
    pentagram = f.GeoPolygon("a", tuple(f.GeoPoint(x, y) for x, y in [*star, star[0]]))
    assert geo.prepared(pentagram).contains(0.0, 0.0)
    # A ring closed within f64::EPSILON is closed by repeating its first point, as geo::Polygon::new does.
    almost = f.GeoPolygon("a", tuple(f.GeoPoint(x, y) for x, y in [(0, 0), (1, 0), (1, 1), (0, 1), (1e-17, 0)]))
    assert geo.prepared(almost).exterior[-1] == (0.0, 0.0)
    assert geo.prepared(almost).contains(0.5, 0.5)


def _random_polygon(rng: random.Random, cx: float, cy: float, size: float) -> list[tuple[float, float]]:
    angles = sorted(rng.uniform(0, 2 * math.pi) for _ in range(rng.randint(3, 9)))
    ring = [(cx + size * rng.uniform(0.2, 1) * math.cos(a), cy + size * rng.uniform(0.2, 1) * math.sin(a))
            for a in angles]
    return [*ring, ring[0]]


def test_column_path_agrees_with_the_point_by_point_path():
    """Many points, many of them on edges, vertices and circles: numpy's answer with its exact
    re-checks equals the scalar code's."""
    rng = random.Random(5)
    polygons = []
    for _ in range(30):
        exterior = _random_polygon(rng, rng.uniform(-10, 10), rng.uniform(-10, 10), rng.uniform(0.5, 5))
        holes = [_random_polygon(rng, exterior[0][0] * 0.9, exterior[0][1] * 0.9, 0.3) for _ in range(rng.randint(0, 2))]
        polygons.append(f.GeoPolygon("a", tuple(f.GeoPoint(x, y) for x, y in exterior),
                                     tuple(tuple(f.GeoPoint(x, y) for x, y in h) for h in holes)))
    points: list[tuple[float, float]] = []
    for poly in polygons[:10]:
        for ring in (poly.exterior, *poly.interiors):
            for a, b in zip(ring, ring[1:]):
                points.append((a.lon, a.lat))  # vertices
                t = rng.random()
                points.append((a.lon + t * (b.lon - a.lon), a.lat + t * (b.lat - a.lat)))  # (almost) on edges
                points.append(((a.lon + b.lon) / 2, (a.lat + b.lat) / 2))
    points += [(rng.uniform(-15, 15), rng.uniform(-15, 15)) for _ in range(3000)]
    radii = [f.GeoRadius("a", f.GeoPoint(rng.uniform(-10, 10), rng.uniform(-10, 10)), rng.uniform(0, 1e6))
             for _ in range(20)]
    for r in radii[:5]:  # points on (or within rounding of) the circle: along the meridian through the centre
        lat = r.center.lat + r.radius / (geo.MEAN_EARTH_RADIUS * math.pi / 180)
        if lat < 90:
            points += [(r.center.lon, float(np.nextafter(lat, s))) for s in (-1e9, 1e9)] + [(r.center.lon, lat)]
    boxes = [f.GeoBoundingBox("a", f.GeoPoint(x0, y1), f.GeoPoint(x1, y0))
             for x0, x1, y0, y1 in [(-5, 5, -5, 5), (0, 1, 0, 1), (5, -5, -2, 2)]]
    column = geo.GeoColumn(len(points), enumerate(points))
    for cond in [*polygons, *radii, *boxes]:
        slow = [check_filter(f.Filter(must=(cond,)), PointView(i, {"a": {"lon": x, "lat": y}}, lambda n: False))
                for i, (x, y) in enumerate(points)]
        assert column.mask(cond).tolist() == slow, cond
