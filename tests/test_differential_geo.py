"""Differential test of the geo conditions: vecinfer (both doors) against qdrant-client's local
mode (`QdrantClient(":memory:")`, the executable reference of Qdrant's semantics).

- Two datasets, seeded (`VECINFER_DIFF_SEED`): "grid", whose coordinates are multiples of 1/4
  (so that local mode's float arithmetic is exact and points may sit exactly on polygon edges,
  vertices and box sides), and "world", with arbitrary floats, points by the antimeridian and
  locations that are not points (strings, booleans, missing coordinates, nested arrays).
- Hypothesis draws filters: geo_radius, geo_bounding_box and geo_polygon (with holes) on plain,
  dotted and array paths and inside `nested`, mixed with keyword matches and has_id under
  must / should / must_not / min_should, nested to any depth. `derandomize=True`;
  `VECINFER_DIFF_SCALE` multiplies the number of cases.
- Where float rounding could tip an answer the two sides compute differently (a point within
  1e-9 of a circle or of a polygon edge with non-dyadic coordinates), the case is not drawn:
  local mode's boundary test is inexact, Qdrant's (and vecinfer's) is exact. Rings are simple
  (not self-intersecting): there the server's winding number and local mode's even-odd rule
  part ways (SPEC: the server wins; covered in test_geo.py).
- A gRPC radius is an f32 on the wire, so drawn radii are f32 values.
"""

from __future__ import annotations

import math
import os
import random
from fractions import Fraction
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st
from qdrant_client import QdrantClient, models
from qdrant_client.local.geo import geo_distance

from conftest import make_client

SEED = int(os.environ.get("VECINFER_DIFF_SEED", "11"))
SCALE = float(os.environ.get("VECINFER_DIFF_SCALE", "1"))
TAGS = ["a", "b", "c"]


def examples(n: int) -> settings:
    phases = [Phase.explicit, Phase.generate] if os.environ.get("VECINFER_DIFF_NO_SHRINK") else list(Phase)
    return settings(max_examples=max(1, int(n * SCALE)), derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), phases=phases)


# ------------------------------------------------------------------------------------ datasets


class Dataset:
    def __init__(self, name: str, grid: bool, payloads: dict[int, dict[str, Any]]) -> None:
        self.name, self.grid, self.payloads = name, grid, payloads
        self.ids = sorted(payloads)
        # Every (lon, lat) a condition may look at, for the ambiguity checks.
        self.coords: list[tuple[float, float]] = sorted({c for p in payloads.values() for c in _coords(p)})

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self.ids)} points)"

    def create(self, client: QdrantClient) -> None:
        if client.collection_exists(self.name):
            client.delete_collection(self.name)
        client.create_collection(self.name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
        client.upsert(self.name, points=[models.PointStruct(id=i, vector=[1.0, 0.0], payload=p)
                                         for i, p in self.payloads.items()], wait=True)


def _coords(value: Any) -> list[tuple[float, float]]:
    if isinstance(value, dict):
        lon, lat = value.get("lon"), value.get("lat")
        found = [(float(lon), float(lat))] if all(type(v) in (int, float) for v in (lon, lat)) else []
        return found + [c for v in value.values() for c in _coords(v)]
    if isinstance(value, list):
        return [c for v in value for c in _coords(v)]
    return []


def _grid(rng: random.Random, span: int = 24) -> float:
    """A multiple of 1/4 in [-span/4, span/4], sometimes as a JSON integer."""
    q = rng.randint(-span, span)
    return q // 4 if q % 4 == 0 and rng.random() < 0.5 else q / 4


def _location(rng: random.Random, grid: bool) -> Any:
    def point() -> dict[str, Any]:
        if grid:
            return {"lon": _grid(rng), "lat": _grid(rng)}
        r = rng.random()
        if r < 0.15:  # by the antimeridian
            return {"lon": rng.choice([-1, 1]) * rng.uniform(178, 180), "lat": rng.uniform(-20, 20)}
        if r < 0.2:  # out of range: not checked when stored, used as is (Qdrant's unindexed path)
            return {"lon": rng.uniform(-10, 10), "lat": rng.choice([-1, 1]) * rng.uniform(90.5, 95)}
        return {"lon": rng.uniform(-12, 12), "lat": rng.uniform(-12, 12)}

    r = rng.random()
    if r < 0.6:
        p = point()
        if rng.random() < 0.1:
            p["name"] = "extra keys are fine"
        return p
    if r < 0.8:
        return [point() for _ in range(rng.randint(0, 3))]
    return rng.choice([
        {"lon": "1", "lat": 1}, {"lon": True, "lat": 0}, {"lat": 1.0}, None, "1,1", 5,
        [[point()]],  # flattened one level only
        [point(), {"lon": 1}, "x"],
    ])


def _payload(rng: random.Random, grid: bool) -> dict[str, Any]:
    p: dict[str, Any] = {}
    if rng.random() < 0.9:
        p["loc"] = _location(rng, grid)
    if rng.random() < 0.5:
        p["o"] = {"loc": _location(rng, grid)} if rng.random() < 0.8 else _location(rng, grid)
    if rng.random() < 0.6:
        p["trips"] = [{"to": _location(rng, grid), "tag": rng.choice(TAGS)} for _ in range(rng.randint(0, 3))]
    if rng.random() < 0.7:
        p["tag"] = rng.choice(TAGS)
    return p


def make_datasets(rng: random.Random) -> list[Dataset]:
    return [Dataset(f"diffgeo_{kind}", kind == "grid", {i: _payload(rng, kind == "grid") for i in range(1, 161)})
            for kind in ("grid", "world")]


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def doors(shared_server):
    grpc_client = make_client(shared_server, prefer_grpc=True)
    rest_client = make_client(shared_server, prefer_grpc=False)
    yield {"grpc": grpc_client, "rest": rest_client}
    grpc_client.close()
    rest_client.close()


@pytest.fixture(scope="module")
def local():
    client = QdrantClient(":memory:")
    yield client
    client.close()


@pytest.fixture(scope="module")
def datasets(doors, local) -> list[Dataset]:
    out = make_datasets(random.Random(SEED))
    for ds in out:
        ds.create(local)
        ds.create(doors["grpc"])
    return out


# ---------------------------------------------------------------------------------- geometry


def _f32(x: float) -> float:
    return float(np.float32(x))


def _cross(o: tuple[Fraction, Fraction], a: tuple[Fraction, Fraction], b: tuple[Fraction, Fraction]) -> Fraction:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _segments_cross(p1: Any, p2: Any, q1: Any, q2: Any) -> bool:
    """Whether two closed segments share a point (exact)."""
    d1, d2, d3, d4 = _cross(q1, q2, p1), _cross(q1, q2, p2), _cross(p1, p2, q1), _cross(p1, p2, q2)
    if ((d1 > 0 > d2) or (d1 < 0 < d2)) and ((d3 > 0 > d4) or (d3 < 0 < d4)):
        return True

    def on(a: Any, b: Any, c: Any) -> bool:
        return min(a[0], b[0]) <= c[0] <= max(a[0], b[0]) and min(a[1], b[1]) <= c[1] <= max(a[1], b[1])

    return (d1 == 0 and on(q1, q2, p1)) or (d2 == 0 and on(q1, q2, p2)) or (d3 == 0 and on(p1, p2, q1)) \
        or (d4 == 0 and on(p1, p2, q2))


def is_simple(ring: list[tuple[float, float]]) -> bool:
    """A closed ring with no repeated vertex, no zero-length edge and no two non-adjacent edges
    touching."""
    pts = [(Fraction(x), Fraction(y)) for x, y in ring[:-1]]
    n = len(pts)
    if n < 3 or len(set(pts)) != n:
        return False
    edges = [(pts[i], pts[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            if j == i + 1 or (i == 0 and j == n - 1):
                continue
            if _segments_cross(*edges[i], *edges[j]):
                return False
    return True


def near_an_edge(ds: Dataset, ring: list[tuple[float, float]]) -> bool:
    """A point of the dataset within 1e-9 of an edge (where local mode's float test may err)."""
    for (ax, ay), (bx, by) in zip(ring, ring[1:]):
        dx, dy = bx - ax, by - ay
        length2 = dx * dx + dy * dy
        for x, y in ds.coords:
            t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
            if math.hypot(x - (ax + t * dx), y - (ay + t * dy)) < 1e-9:
                return True
    return False


# ---------------------------------------------------------------------------------- strategies


def _coordinate(ds: Dataset, draw: Any, lo: float, hi: float) -> float:
    if ds.grid:
        return draw(st.integers(int(lo * 4), int(hi * 4))) / 4
    return draw(st.floats(lo, hi, allow_nan=False))


@st.composite
def geo_point(draw: Any, ds: Dataset) -> models.GeoPoint:
    if ds.coords and draw(st.booleans()):  # a point of the dataset: exact boundaries
        lon, lat = draw(st.sampled_from(ds.coords))
        if -180 <= lon <= 180 and -90 <= lat <= 90:
            return models.GeoPoint(lon=lon, lat=lat)
    return models.GeoPoint(lon=_coordinate(ds, draw, -14, 14), lat=_coordinate(ds, draw, -14, 14))


@st.composite
def geo_radius(draw: Any, ds: Dataset) -> models.GeoRadius:
    center = draw(geo_point(ds))
    how = draw(st.integers(0, 3))
    if how == 0:  # just inside or outside a point of the dataset
        lon, lat = draw(st.sampled_from(ds.coords))
        base = geo_distance(center.lon, center.lat, lon, lat)
        radius = base * (1 + draw(st.sampled_from([-1, 1])) * 10.0 ** -draw(st.integers(3, 6)))
    elif how == 1:
        radius = draw(st.sampled_from([0.0, -1.0, 1e9]))
    else:
        radius = draw(st.floats(0, 2_500_000))
    radius = _f32(radius)
    for lon, lat in ds.coords:
        d = geo_distance(center.lon, center.lat, lon, lat)
        if d == 0.0:  # the same point: 0 on both sides, exactly
            continue
        assume(not abs(d - radius) <= 1e-9 * abs(radius) + 1e-6)
    return models.GeoRadius(center=center, radius=radius)


@st.composite
def geo_box(draw: Any, ds: Dataset) -> models.GeoBoundingBox:
    a, b = draw(geo_point(ds)), draw(geo_point(ds))
    if draw(st.integers(0, 4)) == 0 and not ds.grid:  # across the antimeridian
        tl = models.GeoPoint(lon=draw(st.floats(170, 180)), lat=max(a.lat, b.lat) + 5)
        br = models.GeoPoint(lon=draw(st.floats(-180, -170)), lat=min(a.lat, b.lat) - 5)
        return models.GeoBoundingBox(top_left=tl, bottom_right=br)
    if draw(st.integers(0, 5)) == 0:  # any corners at all: inverted boxes too
        return models.GeoBoundingBox(top_left=a, bottom_right=b)
    return models.GeoBoundingBox(top_left=models.GeoPoint(lon=min(a.lon, b.lon), lat=max(a.lat, b.lat)),
                                 bottom_right=models.GeoPoint(lon=max(a.lon, b.lon), lat=min(a.lat, b.lat)))


@st.composite
def ring(draw: Any, ds: Dataset, size: float, centre: tuple[float, float] | None = None) -> list[tuple[float, float]]:
    """A simple closed ring: vertices around a centre by angle (on the grid for "grid"), or on
    the grid an axis-parallel rectangle (whose sides run through many points of the dataset)."""
    if centre is None:
        point = draw(geo_point(ds))
        centre = (point.lon, point.lat)
    if ds.grid and draw(st.integers(0, 2)) == 0:
        x0, y0 = round(centre[0] * 4) / 4, round(centre[1] * 4) / 4
        w, h = draw(st.integers(1, int(size * 8))) / 4, draw(st.integers(1, int(size * 8))) / 4
        rect = [(x0 - w, y0 - h), (x0 + w, y0 - h), (x0 + w, y0 + h), (x0 - w, y0 + h)]
        if draw(st.booleans()):
            rect.reverse()
        return [*rect, rect[0]]
    c = models.GeoPoint(lon=centre[0], lat=centre[1])
    k = draw(st.integers(3, 8))
    spacing = 2 * math.pi / k
    start = draw(st.floats(0, 2 * math.pi))
    vertices = []
    for i in range(k):
        angle = start + i * spacing + draw(st.floats(-spacing / 3, spacing / 3))
        r = size * draw(st.floats(0.2, 1.0))
        x, y = c.lon + r * math.cos(angle), c.lat + r * math.sin(angle)
        if ds.grid:
            x, y = round(x * 4) / 4, round(y * 4) / 4
        vertices.append((x, y))
    if draw(st.booleans()):
        vertices.reverse()  # clockwise rings too
    closed = [*vertices, vertices[0]]
    assume(is_simple(closed))
    assume(all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in closed))
    if not ds.grid:
        assume(not near_an_edge(ds, closed))
    return closed


def _line(points: list[tuple[float, float]]) -> models.GeoLineString:
    return models.GeoLineString(points=[models.GeoPoint(lon=x, lat=y) for x, y in points])


@st.composite
def geo_polygon(draw: Any, ds: Dataset) -> models.GeoPolygon:
    exterior = draw(ring(ds, draw(st.floats(1, 10))))
    # Holes mostly around a vertex of the exterior or its middle, so that they cut into it.
    anchors = st.sampled_from(exterior) | st.just((sum(x for x, _ in exterior[:-1]) / (len(exterior) - 1),
                                                   sum(y for _, y in exterior[:-1]) / (len(exterior) - 1)))
    holes = draw(st.lists(st.builds(lambda size, centre: (size, centre), st.floats(1 if ds.grid else 0.5, 4),
                                    st.none() | anchors).flatmap(lambda sc: ring(ds, sc[0], sc[1])), max_size=2))
    return models.GeoPolygon(exterior=_line(exterior), interiors=[_line(h) for h in holes] or None)


def geo_condition(ds: Dataset, keys: list[str]) -> st.SearchStrategy[models.FieldCondition]:
    key = st.sampled_from(keys)
    return st.one_of(
        st.builds(lambda k, g: models.FieldCondition(key=k, geo_radius=g), key, geo_radius(ds)),
        st.builds(lambda k, g: models.FieldCondition(key=k, geo_bounding_box=g), key, geo_box(ds)),
        st.builds(lambda k, g: models.FieldCondition(key=k, geo_polygon=g), key, geo_polygon(ds)),
        st.builds(lambda k, g: models.FieldCondition(key=k, geo_polygon=g), key, geo_polygon(ds)),
    )


def tag_condition(key: str) -> st.SearchStrategy[models.FieldCondition]:
    return st.builds(lambda t: models.FieldCondition(key=key, match=models.MatchValue(value=t)), st.sampled_from(TAGS))


def filters(ds: Dataset) -> st.SearchStrategy[models.Filter]:
    inner_leaf = geo_condition(ds, ["to"]) | geo_condition(ds, ["to"]) | tag_condition("tag")
    # Inside `nested` only non-empty `should` lists (spec §2: the server's plain checker reads an
    # empty one as false there).
    inner = st.builds(lambda must, should, must_not: models.Filter(must=must, should=should, must_not=must_not),
                      st.lists(inner_leaf, max_size=2), st.none() | st.lists(inner_leaf, min_size=1, max_size=2),
                      st.lists(inner_leaf, max_size=1))
    leaf = st.one_of(
        geo_condition(ds, ["loc", "loc", "o.loc", "trips[].to", "trips[0].to", "loc[]", "missing"]),
        geo_condition(ds, ["loc"]),
        tag_condition("tag"),
        st.builds(lambda chosen: models.HasIdCondition(has_id=chosen), st.lists(st.sampled_from(ds.ids), max_size=40)),
        st.builds(lambda k, f: models.NestedCondition(nested=models.Nested(key=k, filter=f)),
                  st.sampled_from(["trips", "trips[]"]), inner),
    )

    def combine(children: st.SearchStrategy[Any]) -> st.SearchStrategy[models.Filter]:
        lists = st.lists(children, max_size=3)
        return st.builds(
            lambda must, should, must_not, ms: models.Filter(must=must, should=should, must_not=must_not, min_should=ms),
            st.none() | lists, st.none() | lists, st.none() | lists,
            st.none() | st.builds(lambda c, n: models.MinShould(conditions=c, min_count=n),
                                  st.lists(children, min_size=1, max_size=3), st.integers(1, 2)))

    tree = st.recursive(leaf, combine, max_leaves=5)
    return st.builds(lambda t, clause: t if isinstance(t, models.Filter) else models.Filter(**{clause: [t]}),
                     tree, st.sampled_from(["must", "should", "must_not"]))


_FILTERS: dict[str, st.SearchStrategy[models.Filter]] = {}


def filters_for(ds: Dataset) -> st.SearchStrategy[models.Filter]:
    if ds.name not in _FILTERS:
        _FILTERS[ds.name] = filters(ds)
    return _FILTERS[ds.name]


# ----------------------------------------------------------------------------------------- test


def matching(client: QdrantClient, ds: Dataset, flt: models.Filter) -> list[Any]:
    found = client.scroll(ds.name, scroll_filter=flt, limit=len(ds.ids) + 1, with_payload=False)[0]
    return sorted(r.id for r in found)


@examples(360)
@given(data=st.data())
def test_geo_filters_match_local_mode(data, datasets, local, doors):
    ds = datasets[data.draw(st.integers(0, len(datasets) - 1), label="dataset")]
    door = data.draw(st.sampled_from(sorted(doors)), label="door")
    flt = data.draw(filters_for(ds), label="filter")
    remote = doors[door]
    want, got = matching(local, ds, flt), matching(remote, ds, flt)
    event(f"{ds.name}: " + ("none match" if not want else "all match" if len(want) == len(ds.ids) else "some match"))
    differ = sorted(set(want) ^ set(got))
    assert want == got, (f"{door}: only local {sorted(set(want) - set(got))}, only vecinfer "
                         f"{sorted(set(got) - set(want))}\n" + "\n".join(f"  {i}: {ds.payloads[i]!r}" for i in differ))
    assert remote.count(ds.name, count_filter=flt, exact=True).count == len(want), f"{door} count"
