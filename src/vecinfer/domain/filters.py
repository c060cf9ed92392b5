"""Payload filters: a tree of conditions over a point's id, payload and vectors."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, Union


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
class Filter:
    must: tuple[Condition, ...] = field(default_factory=tuple)
    should: tuple[Condition, ...] = field(default_factory=tuple)
    must_not: tuple[Condition, ...] = field(default_factory=tuple)
    min_should: MinShould | None = None

    def is_empty(self) -> bool:
        return not (self.must or self.should or self.must_not or self.min_should)


Condition = Union[Match, Range, ValuesCount, IsEmpty, IsNull, HasId, HasVector, Nested, Not, Filter]


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
