"""Geo conditions as Qdrant 1.20 evaluates them (spec §3.11): a point is an object whose `lat`
and `lon` are finite JSON numbers; `geo_radius` is the `geo` crate's haversine, strictly less
than the radius; `geo_bounding_box` is strict on both axes and wraps the antimeridian;
`geo_polygon` is `geo::Polygon::contains` (winding number with exact orientation tests: a point
on an edge of the exterior or of a hole is not inside).

Two ways to answer, with the same results: `check_*` for one value, and `GeoColumn` masks for
every point of a segment at once (numpy, with the cases float rounding could tip re-checked
one by one by the exact code).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from vecinfer.domain.filters import GeoBoundingBox, GeoPoint, GeoPolygon, GeoRadius

MEAN_EARTH_RADIUS = 6371008.8  # metres, the `geo` crate's Haversine
_RADIANS = math.pi / 180.0  # what Rust's f64::to_radians and Python's math.radians multiply by

GeoCondition = GeoRadius | GeoBoundingBox | GeoPolygon
Coord = tuple[float, float]  # (x = lon, y = lat), the `geo` crate's order


def point_of(value: Any) -> Coord | None:
    """`(lon, lat)` of a payload value that is a geo point, else None."""
    if not isinstance(value, dict):
        return None
    lon: Any = value.get("lon")
    lat: Any = value.get("lat")
    if type(lon) not in (int, float) or type(lat) not in (int, float):  # bool is not a number
        return None
    try:
        x, y = float(lon), float(lat)
    except OverflowError:  # an integer too large for f64
        return None
    if not (math.isfinite(x) and math.isfinite(y)):
        return None
    return x, y


# ------------------------------------------------------------------------------------- radius


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Metres from (lat1, lon1) to (lat2, lon2), operation for operation as the `geo` crate's
    `Haversine.distance(origin, destination)`, so that results agree to the last bit."""
    theta1 = lat1 * _RADIANS
    theta2 = lat2 * _RADIANS
    half_dtheta = (lat2 - lat1) * _RADIANS / 2.0
    half_dlambda = (lon2 - lon1) * _RADIANS / 2.0
    s1, s2 = math.sin(half_dtheta), math.sin(half_dlambda)
    a = s1 * s1 + math.cos(theta1) * math.cos(theta2) * (s2 * s2)
    return MEAN_EARTH_RADIUS * (2.0 * math.asin(math.sqrt(a)))


def in_radius(cond: GeoRadius, x: float, y: float) -> bool:
    return haversine(cond.center.lat, cond.center.lon, y, x) < cond.radius


# -------------------------------------------------------------------------------- bounding box


def in_box(cond: GeoBoundingBox, x: float, y: float) -> bool:
    tl, br = cond.top_left, cond.bottom_right
    if tl.lon > br.lon:  # the box crosses the antimeridian
        lon_ok = x > tl.lon or x < br.lon
    else:
        lon_ok = tl.lon < x < br.lon
    return lon_ok and br.lat < y < tl.lat


# ------------------------------------------------------------------------------------- polygon

# Shewchuk's bound for the float orientation determinant: beyond it the sign is certain.
_CCW_ERRBOUND = (3.0 + 16.0 * 2.0**-53) * 2.0**-53
_TINY = 1e-280  # below this, products may have lost bits to underflow: decide exactly


def orient(ax: float, ay: float, bx: float, by: float, cx: float, cy: float) -> int:
    """Exact sign of the turn a → b → c (1 counter-clockwise, -1 clockwise, 0 collinear), as
    the `robust` crate's orient2d."""
    left = (ax - cx) * (by - cy)
    right = (ay - cy) * (bx - cx)
    det = left - right
    bound = _CCW_ERRBOUND * (abs(left) + abs(right))
    if abs(det) > bound and abs(det) > _TINY:
        return 1 if det > 0 else -1
    exact = (Fraction(ax) - Fraction(cx)) * (Fraction(by) - Fraction(cy)) \
        - (Fraction(ay) - Fraction(cy)) * (Fraction(bx) - Fraction(cx))
    return (exact > 0) - (exact < 0)


def _between(value: float, a: float, b: float) -> bool:
    return a <= value <= b if a < b else b <= value <= a


INSIDE, OUTSIDE, BOUNDARY = 1, 0, -1


def ring_position(x: float, y: float, ring: Sequence[Coord]) -> int:
    """INSIDE, OUTSIDE or BOUNDARY of a closed ring: the `geo` crate's winding number with the
    on-edge short cut (`coord_pos_relative_to_ring`). A ring that winds around a point twice
    holds it (not the even-odd rule)."""
    winding = 0
    for i in range(len(ring) - 1):
        (sx, sy), (ex, ey) = ring[i], ring[i + 1]
        if sy <= y:
            if ey >= y:
                o = orient(sx, sy, ex, ey, x, y)
                if o == 1 and ey != y:
                    winding += 1
                elif o == 0 and _between(x, sx, ex):
                    return BOUNDARY
        elif ey <= y:
            o = orient(sx, sy, ex, ey, x, y)
            if o == -1:
                winding -= 1
            elif o == 0 and _between(x, sx, ex):
                return BOUNDARY
    return OUTSIDE if winding == 0 else INSIDE


class PreparedPolygon:
    """A GeoPolygon as `geo::Polygon::new` builds it: rings of (lon, lat), each closed (the first
    point appended when the last differs from it), with the exterior's bounding box."""

    def __init__(self, cond: GeoPolygon) -> None:
        self.exterior = _ring(cond.exterior)
        self.holes = [_ring(ring) for ring in cond.interiors]
        xs = [x for x, _ in self.exterior]
        ys = [y for _, y in self.exterior]
        self.min_x, self.max_x, self.min_y, self.max_y = min(xs), max(xs), min(ys), max(ys)

    def contains(self, x: float, y: float) -> bool:
        """Strictly inside: inside the exterior, not on it, and neither inside nor on a hole."""
        if not (self.min_x <= x <= self.max_x and self.min_y <= y <= self.max_y):
            return False
        if ring_position(x, y, self.exterior) != INSIDE:
            return False
        return all(ring_position(x, y, hole) == OUTSIDE for hole in self.holes)


def _ring(points: Iterable[GeoPoint]) -> list[Coord]:
    ring = [(float(p.lon), float(p.lat)) for p in points]
    if ring and ring[0] != ring[-1]:
        ring.append(ring[0])
    return ring


_PREPARED: dict[int, tuple[GeoPolygon, PreparedPolygon]] = {}


def prepared(cond: GeoPolygon) -> PreparedPolygon:
    """The prepared form of a polygon, kept for as long as the condition object lives in one
    request's run (a small cache by identity, cleared when it grows)."""
    found = _PREPARED.get(id(cond))
    if found is not None and found[0] is cond:
        return found[1]
    if len(_PREPARED) > 256:
        _PREPARED.clear()
    poly = PreparedPolygon(cond)
    _PREPARED[id(cond)] = (cond, poly)
    return poly


# ----------------------------------------------------------------------------------- one value


def tester(cond: GeoCondition) -> Callable[[float, float], bool]:
    """A test of one (lon, lat) for the condition."""
    if isinstance(cond, GeoRadius):
        return lambda x, y: in_radius(cond, x, y)
    if isinstance(cond, GeoBoundingBox):
        return lambda x, y: in_box(cond, x, y)
    return prepared(cond).contains


def check_values(cond: GeoCondition, values: Iterable[Any]) -> bool:
    """True when some value (payload values at the key, flattened one level) is a matching point."""
    test: Callable[[float, float], bool] | None = None
    for value in values:
        point = point_of(value)
        if point is None:
            continue
        if test is None:
            test = tester(cond)
        if test(*point):
            return True
    return False


# --------------------------------------------------------------------------------- many points


class GeoColumn:
    """Every geo point found at one key in a segment: `x` (lon), `y` (lat) and the `owner`
    offset of each (a point with an array of locations has several rows)."""

    def __init__(self, size: int, points: Iterable[tuple[int, Coord]]) -> None:
        owners: list[int] = []
        xs: list[float] = []
        ys: list[float] = []
        for offset, (x, y) in points:
            owners.append(offset)
            xs.append(x)
            ys.append(y)
        self.size = size
        self.owner = np.asarray(owners, dtype=np.int64)
        self.x = np.asarray(xs, dtype=np.float64)
        self.y = np.asarray(ys, dtype=np.float64)

    def mask(self, cond: GeoCondition) -> np.ndarray:
        """Offsets (of `size`) that hold at least one point matching `cond`."""
        out = np.zeros(self.size, dtype=np.bool_)
        if self.owner.size == 0:
            return out
        if isinstance(cond, GeoRadius):
            hits = self._radius(cond)
        elif isinstance(cond, GeoBoundingBox):
            hits = self._box(cond)
        else:
            hits = self._polygon(prepared(cond))
        out[self.owner[hits]] = True
        return out

    def _exact(self, rows: np.ndarray, test: Callable[[float, float], bool]) -> np.ndarray:
        return np.fromiter((test(float(self.x[r]), float(self.y[r])) for r in rows.tolist()),
                           dtype=np.bool_, count=rows.size)

    def _radius(self, cond: GeoRadius) -> np.ndarray:
        lat1, lon1 = float(cond.center.lat), float(cond.center.lon)
        theta1 = lat1 * _RADIANS
        theta2 = self.y * _RADIANS
        s1 = np.sin((self.y - lat1) * _RADIANS / 2.0)
        s2 = np.sin((self.x - lon1) * _RADIANS / 2.0)
        with np.errstate(invalid="ignore"):
            a = s1 * s1 + math.cos(theta1) * np.cos(theta2) * (s2 * s2)
            d = MEAN_EARTH_RADIUS * (2.0 * np.arcsin(np.sqrt(a)))
            hits = d < cond.radius
            # numpy's sin/cos may differ from libm in the last bit: decide the points within
            # a couple of metres of the circle with the scalar code (libm, as Qdrant).
            close = np.abs(d - cond.radius) <= 2.0 + 1e-9 * abs(cond.radius)
        rows = np.flatnonzero(close)
        if rows.size:
            hits[rows] = self._exact(rows, lambda x, y: in_radius(cond, x, y))
        return hits

    def _box(self, cond: GeoBoundingBox) -> np.ndarray:
        tl, br = cond.top_left, cond.bottom_right
        if tl.lon > br.lon:
            lon_ok = (self.x > tl.lon) | (self.x < br.lon)
        else:
            lon_ok = (self.x > tl.lon) & (self.x < br.lon)
        hits: np.ndarray = lon_ok & (self.y > br.lat) & (self.y < tl.lat)
        return hits

    def _polygon(self, poly: PreparedPolygon) -> np.ndarray:
        hits = np.zeros(self.owner.size, dtype=np.bool_)
        rows = np.flatnonzero((self.x >= poly.min_x) & (self.x <= poly.max_x)
                              & (self.y >= poly.min_y) & (self.y <= poly.max_y))
        edges = len(poly.exterior) + sum(len(hole) for hole in poly.holes)
        step = max(1, _CELLS_PER_CHUNK // edges)  # bounds the (points × edges) arrays
        for start in range(0, rows.size, step):
            chunk = rows[start:start + step]
            x, y = self.x[chunk], self.y[chunk]
            position, unsure = _ring_positions(x, y, poly.exterior)
            inside = position == INSIDE
            for hole in poly.holes:
                hole_position, hole_unsure = _ring_positions(x, y, hole)
                inside &= hole_position == OUTSIDE
                unsure |= hole_unsure
            hits[chunk] = inside
            if unsure.any():
                again = chunk[unsure]
                hits[again] = self._exact(again, poly.contains)
        return hits


_CELLS_PER_CHUNK = 1 << 18


def _ring_positions(x: np.ndarray, y: np.ndarray, ring: Sequence[Coord]) -> tuple[np.ndarray, np.ndarray]:
    """`ring_position` for many points at once in float arithmetic, and which points had an
    orientation test too close to call (those are re-checked exactly)."""
    ring_arr = np.asarray(ring, dtype=np.float64)
    sx, sy = ring_arr[:-1, 0][None, :], ring_arr[:-1, 1][None, :]
    ex, ey = ring_arr[1:, 0][None, :], ring_arr[1:, 1][None, :]
    px, py = x[:, None], y[:, None]
    left = (sx - px) * (ey - py)
    right = (sy - py) * (ex - px)
    det = left - right
    bound = np.maximum(_CCW_ERRBOUND * (np.abs(left) + np.abs(right)), _TINY)
    ccw, cw = det > bound, det < -bound
    upward = (sy <= py) & (ey >= py)
    downward = (sy > py) & (ey <= py)
    tested = upward | downward
    unsure = (tested & ~ccw & ~cw).any(axis=1)
    winding = (upward & ccw & (ey != py)).sum(axis=1) - (downward & cw).sum(axis=1)
    position = np.where(winding == 0, OUTSIDE, INSIDE)
    return position, unsure
