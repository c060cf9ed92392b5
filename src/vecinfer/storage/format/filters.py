"""Filters as JSON, for log records that select points by filter (docs/storage-format.md,
"Filters"). Each condition is an object with one key naming its kind."""

from __future__ import annotations

import json
from typing import Any

from vecinfer.domain import filters as f
from vecinfer.domain.points import PointId

# Match kinds whose value is a set of keywords or integers.
_SET_KINDS = ("keywords", "integers", "except_keywords", "except_integers")


class FilterFormatError(ValueError):
    """A stored filter that does not decode."""


def dumps(flt: f.Filter) -> str:
    return json.dumps(_filter(flt), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> f.Filter:
    try:
        return _read_filter(json.loads(text))
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise FilterFormatError(f"stored filter does not decode: {exc}") from None


def _filter(flt: f.Filter) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for clause in ("must", "should", "must_not"):
        conditions = getattr(flt, clause)
        if conditions:
            out[clause] = [_condition(c) for c in conditions]
    if flt.min_should is not None:
        out["min_should"] = {"conditions": [_condition(c) for c in flt.min_should.conditions],
                             "min_count": flt.min_should.min_count}
    return out


def _point(p: f.GeoPoint) -> list[float]:
    return [p.lon, p.lat]


def _id_order(point_id: PointId) -> tuple[bool, str]:
    return isinstance(point_id, str), str(point_id)


def _condition(c: f.Condition) -> dict[str, Any]:
    if isinstance(c, f.Match):
        value = sorted(c.value, key=str) if c.kind in _SET_KINDS else c.value
        return {"match": {"key": c.key, "kind": c.kind, "value": value}}
    if isinstance(c, f.Range):
        return {"range": {"key": c.key, "lt": c.lt, "gt": c.gt, "gte": c.gte, "lte": c.lte, "datetime": c.datetime}}
    if isinstance(c, f.ValuesCount):
        return {"values_count": {"key": c.key, "lt": c.lt, "gt": c.gt, "gte": c.gte, "lte": c.lte}}
    if isinstance(c, f.IsEmpty):
        return {"is_empty": c.key}
    if isinstance(c, f.IsNull):
        return {"is_null": c.key}
    if isinstance(c, f.HasId):
        return {"has_id": sorted(c.ids, key=_id_order)}
    if isinstance(c, f.HasVector):
        return {"has_vector": c.name}
    if isinstance(c, f.Nested):
        return {"nested": {"key": c.key, "filter": _filter(c.filter)}}
    if isinstance(c, f.Not):
        return {"not": _condition(c.condition)}
    if isinstance(c, f.Filter):
        return {"filter": _filter(c)}
    if isinstance(c, f.GeoRadius):
        return {"geo_radius": {"key": c.key, "center": _point(c.center), "radius": c.radius}}
    if isinstance(c, f.GeoBoundingBox):
        return {"geo_bounding_box": {"key": c.key, "top_left": _point(c.top_left),
                                     "bottom_right": _point(c.bottom_right)}}
    if isinstance(c, f.GeoPolygon):
        return {"geo_polygon": {"key": c.key, "exterior": [_point(p) for p in c.exterior],
                                "interiors": [[_point(p) for p in ring] for ring in c.interiors]}}
    raise TypeError(f"no stored form for condition {c!r}")


def _read_filter(data: dict[str, Any]) -> f.Filter:
    min_should = None
    if "min_should" in data:
        ms = data["min_should"]
        min_should = f.MinShould(tuple(_read_condition(c) for c in ms["conditions"]), int(ms["min_count"]))
    return f.Filter(
        must=tuple(_read_condition(c) for c in data.get("must", ())),
        should=tuple(_read_condition(c) for c in data.get("should", ())),
        must_not=tuple(_read_condition(c) for c in data.get("must_not", ())),
        min_should=min_should,
    )


def _read_point(value: list[float]) -> f.GeoPoint:
    lon, lat = value
    return f.GeoPoint(lon=float(lon), lat=float(lat))


def _read_condition(data: dict[str, Any]) -> f.Condition:
    if len(data) != 1:
        raise ValueError(f"a condition has one kind, got {sorted(data)}")
    ((kind, body),) = data.items()
    if kind == "match":
        value = frozenset(body["value"]) if body["kind"] in _SET_KINDS else body["value"]
        return f.Match(body["key"], body["kind"], value)
    if kind == "range":
        return f.Range(body["key"], body["lt"], body["gt"], body["gte"], body["lte"], bool(body["datetime"]))
    if kind == "values_count":
        return f.ValuesCount(body["key"], body["lt"], body["gt"], body["gte"], body["lte"])
    if kind == "is_empty":
        return f.IsEmpty(body)
    if kind == "is_null":
        return f.IsNull(body)
    if kind == "has_id":
        return f.HasId(frozenset(body))
    if kind == "has_vector":
        return f.HasVector(body)
    if kind == "nested":
        return f.Nested(body["key"], _read_filter(body["filter"]))
    if kind == "not":
        return f.Not(_read_condition(body))
    if kind == "filter":
        return _read_filter(body)
    if kind == "geo_radius":
        return f.GeoRadius(body["key"], _read_point(body["center"]), float(body["radius"]))
    if kind == "geo_bounding_box":
        return f.GeoBoundingBox(body["key"], _read_point(body["top_left"]), _read_point(body["bottom_right"]))
    if kind == "geo_polygon":
        return f.GeoPolygon(body["key"], tuple(_read_point(p) for p in body["exterior"]),
                            tuple(tuple(_read_point(p) for p in ring) for ring in body["interiors"]))
    raise ValueError(f"unknown condition kind {kind!r}")
