"""Filter messages -> domain filters."""

from __future__ import annotations

from typing import Any

from vecinfer.api.grpc.convert.values import point_id_from
from vecinfer.domain import filters as f
from vecinfer.domain import json_path
from vecinfer.domain.errors import InvalidArgument, Unimplemented
from vecinfer_proto.qdrant import qdrant_common_pb2 as cpb


def filter_from(msg: cpb.Filter) -> f.Filter:
    min_should = None
    if msg.HasField("min_should"):
        min_should = f.MinShould(tuple(_condition(c) for c in msg.min_should.conditions), msg.min_should.min_count)
    return f.Filter(
        must=tuple(_condition(c) for c in msg.must),
        should=tuple(_condition(c) for c in msg.should),
        must_not=tuple(_condition(c) for c in msg.must_not),
        min_should=min_should,
    )


def optional_filter(parent: Any, field: str = "filter") -> f.Filter | None:
    if not parent.HasField(field):
        return None
    flt = filter_from(getattr(parent, field))
    return None if flt.is_empty() else flt


def _bounds(msg: Any, names: tuple[str, ...] = ("lt", "gt", "gte", "lte")) -> dict[str, Any]:
    return {n: getattr(msg, n) for n in names if msg.HasField(n)}


def _condition(msg: cpb.Condition) -> f.Condition:
    kind = msg.WhichOneof("condition_one_of")
    if kind == "field":
        return _field_condition(msg.field)
    if kind == "is_empty":
        return f.IsEmpty(_key(msg.is_empty.key))
    if kind == "is_null":
        return f.IsNull(_key(msg.is_null.key))
    if kind == "has_id":
        return f.HasId(frozenset(point_id_from(p, "has_id") for p in msg.has_id.has_id))
    if kind == "has_vector":
        return f.HasVector(msg.has_vector.has_vector)
    if kind == "filter":
        return filter_from(msg.filter)
    if kind == "nested":
        return f.Nested(_key(msg.nested.key), filter_from(msg.nested.filter))
    if kind is None:
        raise InvalidArgument("Filter condition is empty: set one of field, is_empty, has_id, filter, is_null, nested, has_vector")
    raise Unimplemented(f"the `{kind}` filter condition")


def _key(key: str) -> str:
    """A payload path, checked (spec §1: an invalid path is refused, not matched against)."""
    json_path.parse(key)
    return key


def _micros(ts: Any) -> int:
    """A Timestamp as whole microseconds since the epoch (finer parts are cut, as Qdrant does)."""
    return int(ts.seconds) * 1_000_000 + int(ts.nanos) // 1000


def _field_condition(msg: cpb.FieldCondition) -> f.Condition:
    key = msg.key
    if not key:
        raise InvalidArgument("FieldCondition.key is empty: give the payload path to test, e.g. `city` or `a.b`")
    _key(key)
    parts: list[f.Condition] = []
    if msg.HasField("match"):
        parts.append(_match(key, msg.match))
    if msg.HasField("range"):
        parts.append(f.Range(key, **_bounds(msg.range)))
    if msg.HasField("datetime_range"):
        bounds = {n: _micros(t) for n, t in _bounds(msg.datetime_range).items()}
        parts.append(f.Range(key, datetime=True, **bounds))
    if msg.HasField("values_count"):
        parts.append(f.ValuesCount(key, **_bounds(msg.values_count)))
    if msg.HasField("is_empty"):
        parts.append(f.IsEmpty(key) if msg.is_empty else f.Not(f.IsEmpty(key)))
    if msg.HasField("is_null"):
        parts.append(f.IsNull(key) if msg.is_null else f.Not(f.IsNull(key)))
    for geo in ("geo_bounding_box", "geo_radius", "geo_polygon"):
        if msg.HasField(geo):
            parts.append(_geo(key, geo, getattr(msg, geo)))
    if not parts:
        raise InvalidArgument(f"FieldCondition on `{key}` has no condition: set match, range, datetime_range, "
                              "geo_bounding_box, geo_radius, geo_polygon or values_count")
    return parts[0] if len(parts) == 1 else f.Filter(must=tuple(parts))


class _GeoInvalid(Exception):
    def __init__(self, where: str, problem: str) -> None:
        self.where, self.problem = where, problem


def _geo(key: str, kind: str, msg: Any) -> f.Condition:
    """A geo condition; a bad part is refused naming where it is, e.g. `geo_polygon.interiors[0]`."""
    try:
        if kind == "geo_radius":
            return f.GeoRadius(key, _geo_point(msg, "center", kind), float(msg.radius))
        if kind == "geo_bounding_box":
            return f.GeoBoundingBox(key, _geo_point(msg, "top_left", kind), _geo_point(msg, "bottom_right", kind))
        if not msg.HasField("exterior"):
            raise _GeoInvalid(kind, "Malformed GeoPolygon type - field `exterior` is required")
        rings = [(f"{kind}.exterior", msg.exterior)] + [(f"{kind}.interiors[{i}]", ring)
                                                        for i, ring in enumerate(msg.interiors)]
        points = [_ring(where, ring) for where, ring in rings]
        return f.GeoPolygon(key, points[0], tuple(points[1:]))
    except _GeoInvalid as exc:
        raise InvalidArgument(f"FieldCondition on `{key}`: {exc.where}: {exc.problem}") from None


def _geo_point(msg: Any, name: str, kind: str) -> f.GeoPoint:
    if not msg.HasField(name):
        what = "GeoRadius" if kind == "geo_radius" else "GeoBoundingBox"
        raise _GeoInvalid(kind, f"Malformed {what} type - field `{name}` is required")
    return _point(f"{kind}.{name}", getattr(msg, name))


def _point(where: str, msg: cpb.GeoPoint) -> f.GeoPoint:
    try:
        return f.GeoPoint(msg.lon, msg.lat)
    except InvalidArgument as exc:
        raise _GeoInvalid(where, exc.message) from None


def _ring(where: str, msg: cpb.GeoLineString) -> tuple[f.GeoPoint, ...]:
    points = tuple(_point(f"{where}.points[{i}]", p) for i, p in enumerate(msg.points))
    try:
        f.check_ring(points)
    except InvalidArgument as exc:
        raise _GeoInvalid(where, exc.message) from None
    return points


def _match(key: str, msg: cpb.Match) -> f.Match:
    kind = msg.WhichOneof("match_value")
    if kind is None:
        raise InvalidArgument(f"Match on `{key}` is empty: set keyword, integer, boolean, keywords, integers, ...")
    value = getattr(msg, kind)
    if kind in ("keywords", "except_keywords"):
        value = frozenset(value.strings)
    elif kind in ("integers", "except_integers"):
        value = frozenset(value.integers)
    return f.Match(key, kind, value)
