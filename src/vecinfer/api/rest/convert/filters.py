"""Filters in JSON -> domain filters. Conditions are an untagged union, told apart by keys."""

from __future__ import annotations

from vecinfer.api.rest.convert.values import point_id
from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.domain import filters as f
from vecinfer.domain import json_path
from vecinfer.domain.errors import InvalidArgument, Unimplemented

_FILTER_KEYS = {"must", "should", "must_not", "min_should"}
_FIELD_KEYS = {"key", "match", "range", "geo_bounding_box", "geo_radius", "geo_polygon", "values_count",
               "is_empty", "is_null", "datetime_range"}
_BOUNDS = ("lt", "gt", "gte", "lte")
CONDITION_EXPECTED = ("a condition: {\"key\", \"match\"|\"range\"|...}, {\"is_empty\"}, {\"is_null\"}, {\"has_id\"}, "
                      "{\"has_vector\"}, {\"nested\"} or a filter")


def filter_from(node: Node) -> f.Filter:
    fields = node.fields(_FILTER_KEYS, "a filter {\"must\", \"should\", \"must_not\", \"min_should\"}")
    min_should = None
    ms = fields.get("min_should")
    if ms is not None:
        ms_fields = ms.fields({"conditions", "min_count"})
        min_count_node = ms_fields.require("min_count")
        min_count = min_count_node.integer()
        if min_count < 1:
            min_count_node.invalid("must be at least 1")
        min_should = f.MinShould(tuple(condition(c) for c in ms_fields.require("conditions").items()), min_count)

    def group(name: str) -> tuple[f.Condition, ...]:
        value = fields.get(name)
        return () if value is None else tuple(condition(c) for c in value.one_or_many())

    return f.Filter(must=group("must"), should=group("should"), must_not=group("must_not"), min_should=min_should)


def optional_filter(node: Node | None) -> f.Filter | None:
    if node is None:
        return None
    flt = filter_from(node)
    return None if flt.is_empty() else flt


def condition(node: Node) -> f.Condition:
    if not node.is_object:
        node.fail(CONDITION_EXPECTED)
    keys = set(node.value)
    if "key" in keys:
        return _field_condition(node)
    if keys == {"is_empty"}:
        inner = node.fields({"is_empty"}).require("is_empty")
        return f.IsEmpty(payload_key(inner.fields({"key"}).require("key")))
    if keys == {"is_null"}:
        inner = node.fields({"is_null"}).require("is_null")
        return f.IsNull(payload_key(inner.fields({"key"}).require("key")))
    if keys == {"has_id"}:
        ids = node.fields({"has_id"}).require("has_id")
        return f.HasId(frozenset(point_id(item) for item in ids.items("a list of point ids")))
    if keys == {"has_vector"}:
        return f.HasVector(node.fields({"has_vector"}).require("has_vector").string())
    if keys == {"nested"}:
        nested = node.fields({"nested"}).require("nested").fields({"key", "filter"})
        return f.Nested(payload_key(nested.require("key")), filter_from(nested.require("filter")))
    if keys == {"slice"}:
        raise Unimplemented("the `slice` filter condition")
    if keys <= _FILTER_KEYS:  # `{}` too: a filter with no clauses, true for every point
        return filter_from(node)
    node.fail(CONDITION_EXPECTED)


def payload_key(node: Node) -> str:
    """A payload path (spec §1); an invalid one is refused, naming where it was."""
    key = node.string()
    if not key:
        node.invalid("must not be empty: give the payload path to test, e.g. `city` or `a.b`")
    try:
        json_path.parse(key)
    except InvalidArgument as exc:
        raise JsonFormatError(node.path, exc.message) from None
    return key


def _field_condition(node: Node) -> f.Condition:
    fields = node.fields(_FIELD_KEYS)
    key = payload_key(fields.require("key"))
    parts: list[f.Condition] = []
    match = fields.get("match")
    if match is not None:
        parts.append(_match(key, match))
    for name in ("range", "datetime_range"):
        bounds = fields.get(name)
        if bounds is not None:
            parts.append(_range(key, bounds, force_datetime=name == "datetime_range"))
    values_count = fields.get("values_count")
    if values_count is not None:
        vc = values_count.fields(set(_BOUNDS))
        parts.append(f.ValuesCount(key, **{b: n.integer() for b in _BOUNDS if (n := vc.get(b)) is not None}))
    is_empty = fields.get("is_empty")
    if is_empty is not None:
        parts.append(f.IsEmpty(key) if is_empty.boolean() else f.Not(f.IsEmpty(key)))
    is_null = fields.get("is_null")
    if is_null is not None:
        parts.append(f.IsNull(key) if is_null.boolean() else f.Not(f.IsNull(key)))
    for geo in ("geo_bounding_box", "geo_radius", "geo_polygon"):
        geo_node = fields.get(geo)
        if geo_node is not None:
            parts.append(_geo(key, geo, geo_node))
    if not parts:
        node.invalid("At least one field condition must be specified: match, range, geo_bounding_box, geo_radius, "
                     "geo_polygon, values_count, is_empty or is_null")
    return parts[0] if len(parts) == 1 else f.Filter(must=tuple(parts))


def _geo(key: str, kind: str, node: Node) -> f.Condition:
    if kind == "geo_radius":
        radius = node.fields({"center", "radius"}, "a geo radius {\"center\", \"radius\"}")
        return f.GeoRadius(key, geo_point(radius.require("center")), _f64(radius.require("radius")))
    if kind == "geo_bounding_box":
        box = node.fields({"top_left", "bottom_right"}, "a geo bounding box {\"top_left\", \"bottom_right\"}")
        return f.GeoBoundingBox(key, geo_point(box.require("top_left")), geo_point(box.require("bottom_right")))
    polygon = node.fields({"exterior", "interiors"}, "a geo polygon {\"exterior\", \"interiors\"}")
    exterior = _ring(polygon.require("exterior"))
    interiors_node = polygon.get("interiors")
    interiors = () if interiors_node is None else tuple(_ring(ring) for ring in interiors_node.items())
    return f.GeoPolygon(key, exterior, interiors)


def geo_point(node: Node) -> f.GeoPoint:
    """A geo point {"lon", "lat"}, in the ranges Qdrant accepts (else a format error, as Qdrant's)."""
    point = node.fields({"lon", "lat"}, "a geo point {\"lon\", \"lat\"}")
    lon, lat = _f64(point.require("lon")), _f64(point.require("lat"))
    try:
        return f.GeoPoint(lon, lat)
    except InvalidArgument as exc:
        raise JsonFormatError(node.path, exc.message) from None


def _f64(node: Node) -> float:
    """A number as an f64; an integer too large for one is a format error (as serde's)."""
    try:
        return node.number()
    except OverflowError:
        raise JsonFormatError(node.path, "number out of range") from None


def _ring(node: Node) -> tuple[f.GeoPoint, ...]:
    """A polygon ring {"points": [...]}: at least 4 points, closed."""
    ring = node.fields({"points"}, "a line string {\"points\": [{\"lon\", \"lat\"}, ...]}")
    points = tuple(geo_point(p) for p in ring.require("points").items("a list of geo points"))
    try:
        f.check_ring(points)
    except InvalidArgument as exc:
        raise JsonFormatError(node.path, exc.message) from None
    return points


def _match(key: str, node: Node) -> f.Match:
    fields = node.fields({"value", "any", "except", "text", "text_any", "phrase", "prefix", "substring"},
                         "a match {\"value\"|\"any\"|\"except\"|\"text\"|\"text_any\"|\"phrase\"|...}")
    present = [name for name in node.value if node.value[name] is not None]
    if len(present) != 1:
        node.fail("exactly one of value, any, except, text, text_any, phrase, prefix, substring")
    kind = present[0]
    value = fields.require(kind)
    if kind == "value":
        if isinstance(value.value, bool):
            return f.Match(key, "boolean", value.value)
        if value.is_integer:
            return f.Match(key, "integer", value.value)
        if value.is_string:
            return f.Match(key, "keyword", value.value)
        value.fail("a string, an integer or a boolean")
    if kind in ("any", "except"):
        items = value.items()
        prefix = "" if kind == "any" else "except_"
        if all(item.is_integer for item in items) and items:
            return f.Match(key, f"{prefix}integers", frozenset(item.value for item in items))
        if all(item.is_string for item in items):
            return f.Match(key, f"{prefix}keywords", frozenset(item.value for item in items))
        value.fail("a list of strings or a list of integers")
    return f.Match(key, kind, value.string())


def parse_datetime(node: Node) -> int:
    """A datetime bound, as microseconds since the epoch (the formats Qdrant reads, spec §3.6)."""
    text = node.string()
    micros = f.parse_datetime(text)
    if micros is None:
        raise JsonFormatError(node.path, f"{text!r} is not a datetime (e.g. 2024-01-31T12:00:00Z or 2024-01-31)")
    return micros


def _range(key: str, node: Node, force_datetime: bool) -> f.Range:
    fields = node.fields(set(_BOUNDS), "a range {\"lt\", \"gt\", \"gte\", \"lte\"}")
    bounds = {b: n for b in _BOUNDS if (n := fields.get(b)) is not None}
    # Any string bound makes the whole range a datetime range, as in Qdrant.
    is_datetime = force_datetime or any(n.is_string for n in bounds.values())
    values: dict[str, float | int] = {b: parse_datetime(n) if is_datetime else n.number()
                                      for b, n in bounds.items()}
    return f.Range(key, lt=values.get("lt"), gt=values.get("gt"), gte=values.get("gte"), lte=values.get("lte"),
                   datetime=is_datetime)
