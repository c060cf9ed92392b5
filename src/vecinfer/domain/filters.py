"""Payload filters: a tree of conditions over a point's id, payload and vectors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Union

from vecinfer.domain.errors import InvalidArgument


@dataclass(frozen=True)
class Match:
    """Value match on a payload path. `kind` is one of MATCH_KINDS."""

    key: str
    kind: str
    value: Any


MATCH_KINDS = (
    "keyword", "integer", "boolean", "keywords", "integers", "except_keywords",
    "except_integers", "text", "phrase", "text_any", "prefix", "substring",
)


@dataclass(frozen=True)
class Range:
    """Numeric range on a payload path. With `datetime`, the bounds are datetimes as whole
    microseconds since the Unix epoch (UTC), and only strings that parse as datetimes match."""

    key: str
    lt: float | None = None
    gt: float | None = None
    gte: float | None = None
    lte: float | None = None
    datetime: bool = False


@dataclass(frozen=True)
class ValuesCount:
    key: str
    lt: int | None = None
    gt: int | None = None
    gte: int | None = None
    lte: int | None = None


@dataclass(frozen=True)
class IsEmpty:
    """The path is missing, null or an empty array."""

    key: str


@dataclass(frozen=True)
class IsNull:
    key: str


@dataclass(frozen=True)
class HasId:
    ids: frozenset


@dataclass(frozen=True)
class HasVector:
    name: str


@dataclass(frozen=True)
class Nested:
    """Each element of the array at `key` is checked against `filter` on its own."""

    key: str
    filter: Filter


@dataclass(frozen=True)
class Not:
    condition: Condition


@dataclass(frozen=True)
class MinShould:
    conditions: tuple[Condition, ...]
    min_count: int


@dataclass(frozen=True)
class GeoPoint:
    """A point of a geo condition, checked as Qdrant reads one: `lat` in [-90, 90] and `lon` in
    [-180, 180] (non-finite values are outside)."""

    lon: float
    lat: float

    def __post_init__(self) -> None:
        if not (-90.0 <= self.lat <= 90.0 and -180.0 <= self.lon <= 180.0):
            from vecinfer.domain.formula import format_float  # formula imports this module

            raise InvalidArgument(f"Wrong format of GeoPoint payload: expected `lat` = {format_float(self.lat)} "
                                  f"within [-90;90] and `lon` = {format_float(self.lon)} within [-180;180]")


@dataclass(frozen=True)
class GeoRadius:
    """Some geo point at `key` is strictly closer than `radius` metres to `center` (haversine).
    A negative or NaN radius is accepted, as Qdrant does, and matches nothing."""

    key: str
    center: GeoPoint
    radius: float


@dataclass(frozen=True)
class GeoBoundingBox:
    """Some geo point at `key` lies strictly inside the box; when `top_left.lon` is greater than
    `bottom_right.lon` the box crosses the antimeridian."""

    key: str
    top_left: GeoPoint
    bottom_right: GeoPoint


@dataclass(frozen=True)
class GeoPolygon:
    """Some geo point at `key` lies strictly inside `exterior` and neither inside nor on the
    edge of any of `interiors` (the holes). Each ring has at least 4 points and ends where it
    starts (within f64::EPSILON, as Qdrant checks)."""

    key: str
    exterior: tuple[GeoPoint, ...]
    interiors: tuple[tuple[GeoPoint, ...], ...] = ()

    def __post_init__(self) -> None:
        check_ring(self.exterior)
        for ring in self.interiors:
            check_ring(ring)


def check_ring(points: tuple[GeoPoint, ...]) -> None:
    """A polygon ring as Qdrant's `GeoPolygon::validate_line_string` accepts it."""
    if len(points) <= 3:
        raise InvalidArgument(f"polygon invalid, the size must be at least 4, got {len(points)}")
    first, last = points[0], points[-1]
    if not (abs(first.lat - last.lat) <= _F64_EPSILON and abs(first.lon - last.lon) <= _F64_EPSILON):
        raise InvalidArgument("polygon invalid, the first and the last points should be the same to form a closed line")


_F64_EPSILON = 2.220446049250313e-16
GEO_CONDITIONS = (GeoRadius, GeoBoundingBox, GeoPolygon)


@dataclass(frozen=True)
class Filter:
    must: tuple[Condition, ...] = field(default_factory=tuple)
    should: tuple[Condition, ...] = field(default_factory=tuple)
    must_not: tuple[Condition, ...] = field(default_factory=tuple)
    min_should: MinShould | None = None

    def is_empty(self) -> bool:
        return not (self.must or self.should or self.must_not or self.min_should)


Condition = Union[Match, Range, ValuesCount, IsEmpty, IsNull, HasId, HasVector, GeoRadius, GeoBoundingBox, GeoPolygon,
                  Nested, Not, Filter]


def combine(*filters: Filter | None) -> Filter | None:
    """AND of the given filters (None means no restriction)."""
    present = [f for f in filters if f is not None and not f.is_empty()]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return Filter(must=tuple(present))


# ------------------------------------------------------------------------------ datetimes

# What Qdrant reads as a datetime (spec §3.6): RFC 3339 and its relatives. A date, then
# optionally `T`/`t`/space and hh:mm (naive) or hh:mm:ss[.fraction] with an optional offset
# (`Z`, `+01:00`, `+0100`, `+01`, optionally after a space). Fractions finer than a
# microsecond are cut; naive values are UTC.
_DATETIME = re.compile(
    r"(\d{4})-(1[0-2]|0[1-9]|[1-9])-(3[01]|[12]\d|0[1-9]|[1-9])"
    r"(?:[Tt ](2[0-3]|[01]\d|\d):([0-5]\d|\d)"
    r"(?::([0-5]\d|\d)(?:\.(\d{1,6})\d*)?"
    r"(?: ?(Z|([+-])(\d\d)(?::?([0-5]\d)(?::?([0-5]\d))?)?))?)?)?"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


@lru_cache(maxsize=65536)
def parse_datetime(text: str) -> int | None:
    """Microseconds since the Unix epoch (UTC) of a datetime string as Qdrant reads one, or
    None when it is not one."""
    text = text.lstrip()
    if text.endswith(" UTC"):
        text = text[:-4] + "Z"
    elif text.endswith("z"):
        text = text[:-1] + "Z"
    m = _DATETIME.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, fraction, zone, sign, oh, om, osec = m.groups()
    try:
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                          int((fraction or "0").ljust(6, "0")), tzinfo=UTC)
    except ValueError:  # 2024-02-30 and the like
        return None
    micros = (moment - _EPOCH) // _MICROSECOND
    if zone is not None and zone != "Z":
        offset = int(oh) * 3600 + int(om or 0) * 60 + int(osec or 0)
        if offset >= 24 * 3600:
            return None
        micros -= (offset if sign == "+" else -offset) * 1_000_000
    return micros
