"""Payload filters: a tree of conditions over a point's id, payload and vectors."""

from __future__ import annotations

from dataclasses import dataclass, field
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
    """Numeric range on a payload path; also used for datetimes (as epoch seconds)."""

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
