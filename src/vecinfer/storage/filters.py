"""Payload filter evaluation over a segment's points, with Qdrant's rules (spec §1-§3).

Keys are JSON paths parsed by `domain.json_path`: `a.b` walks objects, `arr[]` every element of
an array, `arr[0]` one element, `"a.b"` a key with a dot. Match, range, text and geo conditions
look at the values found with arrays at the end flattened one level; `is_empty`, `is_null` and
`values_count` look at them raw.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from vecinfer.domain import json_path
from vecinfer.domain.filters import (
    Condition,
    Filter,
    GeoBoundingBox,
    GeoPolygon,
    GeoRadius,
    HasId,
    HasVector,
    IsEmpty,
    IsNull,
    Match,
    MinShould,
    Nested,
    Not,
    Range,
    ValuesCount,
    parse_datetime,
)
from vecinfer.domain.json_path import values_at
from vecinfer.domain.points import PointId
from vecinfer.storage import geo
from vecinfer.storage.text_match import TEXT_KINDS, UNINDEXED, TextMatcher

if TYPE_CHECKING:
    from vecinfer.storage.segment import Segment
    from vecinfer.storage.segments import SegmentSet


def raw_values(payload: Any, key: str) -> list[Any]:
    """Values found at `key`, arrays at the end of the path not flattened."""
    return values_at(payload, json_path.parse(key))


def leaf_values(payload: Any, key: str) -> list[Any]:
    """Values at `key` with arrays flattened one level: a condition holds if it holds for any."""
    out: list[Any] = []
    for value in raw_values(payload, key):
        if isinstance(value, list):
            out.extend(value)
        else:
            out.append(value)
    return out


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _match_one(kind: str, expected: Any, value: Any) -> bool:
    if kind == "keyword":
        return isinstance(value, str) and value == expected
    if kind == "integer":
        return _is_int(value) and value == expected
    if kind == "boolean":
        return isinstance(value, bool) and value == expected
    if kind == "keywords":
        return isinstance(value, str) and value in expected
    if kind == "integers":
        return _is_int(value) and value in expected
    if not isinstance(value, str):
        return False
    if kind == "substring":
        return expected in value
    if kind == "prefix":
        return value.startswith(expected)
    return False


def _match(cond: Match, payload: dict, text: Mapping[str, TextMatcher]) -> bool:
    values = leaf_values(payload, cond.key)
    if cond.kind in TEXT_KINDS:
        return text.get(cond.key, UNINDEXED).matches(cond.kind, cond.value, values)
    # `except` holds when some value is present (not null) and outside the set.
    if cond.kind == "except_keywords":
        return any(v is not None and not (isinstance(v, str) and v in cond.value) for v in values)
    if cond.kind == "except_integers":
        return any(v is not None and not (_is_int(v) and v in cond.value) for v in values)
    return any(_match_one(cond.kind, cond.value, v) for v in values)


def _in_range(cond: Range | ValuesCount, x: float | int) -> bool:
    return (
        (cond.lt is None or x < cond.lt)
        and (cond.gt is None or x > cond.gt)
        and (cond.lte is None or x <= cond.lte)
        and (cond.gte is None or x >= cond.gte)
    )


def _range(cond: Range, payload: dict) -> bool:
    for value in leaf_values(payload, cond.key):
        if cond.datetime:
            x: float | int | None = parse_datetime(value) if isinstance(value, str) else None
        else:
            x = float(value) if _is_number(value) else None
        if x is not None and _in_range(cond, x):
            return True
    return False


def _values_count(cond: ValuesCount, payload: dict) -> bool:
    """Each value found counts (null 0, an array its length, else 1; a missing field one count
    of 0); true when one count meets every bound."""
    counts = [0 if v is None else len(v) if isinstance(v, list) else 1 for v in raw_values(payload, cond.key)]
    return any(_in_range(cond, c) for c in counts or [0])


def _is_empty(key: str, payload: dict) -> bool:
    """Nothing at the path, or only nulls and empty arrays (`[null]` is not empty)."""
    return all(v is None or v == [] for v in raw_values(payload, key))


def _is_null(key: str, payload: dict) -> bool:
    """Some value is null, or an array holding a null (a missing field is not null)."""
    return any(v is None or (isinstance(v, list) and any(item is None for item in v))
               for v in raw_values(payload, key))


class PointView:
    """What a condition can look at: id, payload, and which vectors the point has. Inside a
    `nested` condition the view is one array element: no id, no vectors."""

    __slots__ = ("id", "payload", "has_vector", "text")

    def __init__(self, point_id: PointId | None, payload: dict, has_vector: Callable[[str], bool],
                 text: Mapping[str, TextMatcher] | None = None) -> None:
        self.id = point_id
        self.payload = payload
        self.has_vector = has_vector
        self.text = text if text is not None else {}  # full-text matchers by indexed key


def _no_vectors(name: str) -> bool:
    return False


def nested_elements(payload: Any, key: str) -> list[dict]:
    """The objects a `nested` filter looks at one by one: the object elements of the arrays at
    `key` (`data` and `data[]` are the same). A plain object or a scalar has no elements."""
    steps = json_path.parse(key)
    if len(steps) > 1 and steps[-1].every:
        steps = steps[:-1]
    return [element for value in values_at(payload, steps) if isinstance(value, list)
            for element in value if isinstance(element, dict)]


def check(condition: Condition, point: PointView) -> bool:
    if isinstance(condition, Filter):
        return check_filter(condition, point)
    if isinstance(condition, Match):
        return _match(condition, point.payload, point.text)
    if isinstance(condition, Range):
        return _range(condition, point.payload)
    if isinstance(condition, ValuesCount):
        return _values_count(condition, point.payload)
    if isinstance(condition, IsEmpty):
        return _is_empty(condition.key, point.payload)
    if isinstance(condition, IsNull):
        return _is_null(condition.key, point.payload)
    if isinstance(condition, HasId):
        return point.id is not None and point.id in condition.ids
    if isinstance(condition, (GeoRadius, GeoBoundingBox, GeoPolygon)):
        return geo.check_values(condition, leaf_values(point.payload, condition.key))
    if isinstance(condition, HasVector):
        return point.has_vector(condition.name)
    if isinstance(condition, Not):
        return not check(condition.condition, point)
    if isinstance(condition, Nested):
        return any(check_filter(condition.filter, PointView(None, element, _no_vectors))
                   for element in nested_elements(point.payload, condition.key))
    raise TypeError(f"unknown condition {condition!r}")


def _min_should(ms: MinShould, point: PointView) -> bool:
    hits = 0
    for condition in ms.conditions:
        if check(condition, point):
            hits += 1
            if hits >= ms.min_count:
                return True
    return hits >= ms.min_count


def check_filter(flt: Filter, point: PointView) -> bool:
    if not all(check(c, point) for c in flt.must):
        return False
    if flt.should and not any(check(c, point) for c in flt.should):
        return False
    if any(check(c, point) for c in flt.must_not):
        return False
    if flt.min_should is not None and not _min_should(flt.min_should, point):
        return False
    return True


def filter_mask(segments: SegmentSet, flt: Filter | None) -> np.ndarray:
    """Boolean mask over all offsets of a SegmentSet: live points that pass `flt`."""
    mask = segments.live_mask()
    if flt is None or flt.is_empty():
        return mask
    parts = [_segment_mask(segment, flt, segments.text_matchers) for segment in segments.all]
    return np.concatenate(parts) & mask if parts else mask


# ---------------------------------------------------------------------------- vectorised masks
#
# Conditions on a top-level key whose values are scalars are answered from a per-segment
# column (numpy arrays, rebuilt when the segment changes), geo conditions on any path from a
# per-segment table of the geo points found there (storage/geo.py); everything else falls back
# to checking the points one by one. Both give the same answers.

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


class _Column:
    def __init__(self, segment: Segment, key: str) -> None:
        self._by_string: dict[str, np.ndarray] | None = None
        n = segment.size
        self.numbers = np.full(n, np.nan)
        self.ints = np.zeros(n, dtype=np.int64)
        self.is_int = np.zeros(n, dtype=np.bool_)
        self.is_bool = np.zeros(n, dtype=np.bool_)
        self.strings = np.empty(n, dtype=object)
        self.scalar = True  # False if any value is a list or object: use the slow path
        for offset in range(n):
            payload = segment.payloads[offset]
            if not payload or key not in payload:
                continue
            value = payload[key]
            if isinstance(value, bool):
                self.is_bool[offset] = True
                self.ints[offset] = int(value)
            elif isinstance(value, int):
                if not _INT64_MIN <= value <= _INT64_MAX:  # JSON allows it; int64 columns do not
                    self.scalar = False
                    return
                self.is_int[offset] = True
                self.ints[offset] = value
                self.numbers[offset] = value
            elif isinstance(value, float):
                self.numbers[offset] = value
            elif isinstance(value, str):
                self.strings[offset] = value
            elif value is not None:
                self.scalar = False
                return

    def offsets_of_strings(self, values: tuple[str, ...]) -> np.ndarray:
        """Mask of the points whose value is one of `values`, from an inverted map built on first
        use (a keyword match then costs its matches, not a comparison per point)."""
        if self._by_string is None:
            by_string: dict[str, list[int]] = {}
            for offset in np.flatnonzero(self.strings != None).tolist():  # noqa: E711
                by_string.setdefault(self.strings[offset], []).append(offset)
            self._by_string = {v: np.array(o, dtype=np.int64) for v, o in by_string.items()}
        out = np.zeros(len(self.strings), dtype=np.bool_)
        for value in values:
            found = self._by_string.get(value) if isinstance(value, str) else None
            if found is not None:
                out[found] = True
        return out


def _column(segment: Segment, key: str) -> _Column | None:
    """The column of a path that names one top-level key (`a`, `"a.b"`), if all its values in
    the segment are scalars."""
    steps = json_path.parse(key)
    if len(steps) != 1 or steps[0].key is None:
        return None
    name = steps[0].key
    cache = segment.filter_columns
    cached = cache.get(name)
    if cached is None or cached[0] != segment.version:
        cached = cache[name] = (segment.version, _Column(segment, name))
    column = cached[1]
    return column if column.scalar else None


def _geo_column(segment: Segment, key: str) -> geo.GeoColumn:
    """Every geo point at `key` (flattened one level) in the segment, rebuilt when it changes."""
    cache = segment.filter_columns
    cached = cache.get(("geo", key))
    if cached is None or cached[0] != segment.version:
        steps = json_path.parse(key)

        def points() -> Iterator[tuple[int, geo.Coord]]:
            for offset in range(segment.size):
                payload = segment.payloads[offset]
                if not payload:
                    continue
                for value in values_at(payload, steps):
                    for item in value if isinstance(value, list) else (value,):
                        point = geo.point_of(item)
                        if point is not None:
                            yield offset, point

        cached = cache[("geo", key)] = (segment.version, geo.GeoColumn(segment.size, points()))
    column: geo.GeoColumn = cached[1]
    return column


def _int64s(values: frozenset) -> list[int]:
    """The integers of a match list an int64 column can hold (no stored integer equals the rest)."""
    return [v for v in values if _INT64_MIN <= v <= _INT64_MAX]


def _vector_condition(segment: Segment, cond: Condition, text: Mapping[str, TextMatcher]) -> np.ndarray | None:
    if isinstance(cond, Match) and cond.kind in TEXT_KINDS:
        # Full-text conditions: the matcher answers a whole segment from its inverted index.
        segment_mask = getattr(text.get(cond.key, UNINDEXED), "segment_mask", None)
        if segment_mask is None:
            return None
        mask: np.ndarray = segment_mask(segment, cond.key, cond.kind, cond.value, leaf_values)
        return mask
    if isinstance(cond, Match) and cond.kind in ("keyword", "integer", "boolean", "keywords", "integers",
                                                   "except_keywords", "except_integers"):
        column = _column(segment, cond.key)
        if column is None:
            return None
        if cond.kind == "keyword":
            return column.offsets_of_strings((cond.value,))
        if cond.kind == "integer":
            if not _INT64_MIN <= cond.value <= _INT64_MAX:
                return np.zeros(segment.size, dtype=np.bool_)
            return column.is_int & (column.ints == cond.value)
        if cond.kind == "boolean":
            return column.is_bool & (column.ints == int(cond.value))
        if cond.kind == "keywords":
            return column.offsets_of_strings(tuple(cond.value))
        if cond.kind == "integers":
            return column.is_int & np.isin(column.ints, _int64s(cond.value))
        present = (column.strings != None) | column.is_int | column.is_bool | ~np.isnan(column.numbers)  # noqa: E711
        if cond.kind == "except_keywords":
            return present & ~np.isin(column.strings, list(cond.value))
        return present & ~(column.is_int & np.isin(column.ints, _int64s(cond.value)))
    if isinstance(cond, Range) and not cond.datetime:
        column = _column(segment, cond.key)
        if column is None:
            return None
        x = column.numbers
        with np.errstate(invalid="ignore"):
            out = ~np.isnan(x)
            if cond.lt is not None:
                out &= x < cond.lt
            if cond.gt is not None:
                out &= x > cond.gt
            if cond.lte is not None:
                out &= x <= cond.lte
            if cond.gte is not None:
                out &= x >= cond.gte
        return out
    if isinstance(cond, (GeoRadius, GeoBoundingBox, GeoPolygon)):
        return _geo_column(segment, cond.key).mask(cond)
    if isinstance(cond, HasId):
        out = np.zeros(segment.size, dtype=np.bool_)
        for point_id in cond.ids:
            offset = segment.offset_of.get(point_id)
            if offset is not None:
                out[offset] = True
        return out
    if isinstance(cond, Filter):
        return _segment_mask(segment, cond, text)
    if isinstance(cond, Not):
        inner = _condition_mask(segment, cond.condition, text)
        return ~inner
    return None


def _has_vector_at(segment: Segment, offset: int) -> Callable[[str], bool]:
    return lambda name: segment.has_vector(offset, name)


def _condition_mask(segment: Segment, cond: Condition, text: Mapping[str, TextMatcher]) -> np.ndarray:
    fast = _vector_condition(segment, cond, text)
    if fast is not None:
        return fast
    out = np.zeros(segment.size, dtype=np.bool_)
    for offset, point_id in segment.iter_live():
        view = PointView(point_id, segment.payload(offset), _has_vector_at(segment, offset), text)
        out[offset] = check(cond, view)
    return out


def _segment_mask(segment: Segment, flt: Filter, text: Mapping[str, TextMatcher]) -> np.ndarray:
    out = segment.live_mask()
    for cond in flt.must:
        out &= _condition_mask(segment, cond, text)
    if flt.should:
        any_should = np.zeros(segment.size, dtype=np.bool_)
        for cond in flt.should:
            any_should |= _condition_mask(segment, cond, text)
        out &= any_should
    for cond in flt.must_not:
        out &= ~_condition_mask(segment, cond, text)
    if flt.min_should is not None:
        hits = np.zeros(segment.size, dtype=np.int64)
        for cond in flt.min_should.conditions:
            hits += _condition_mask(segment, cond, text)
        out &= hits >= flt.min_should.min_count
    return out


def number_column(segments: SegmentSet, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(numbers as float64, NaN where a point has none; the same as int64; which are ints) over all
    offsets, for a path naming one top-level key whose values are all numbers or absent; None
    when some value is an array, object or string (those need the per-point path)."""
    columns = []
    for segment in segments.all:
        column = _column(segment, key)
        if column is None or bool((column.strings != None).any()):  # noqa: E711
            return None
        columns.append(column)
    if not columns:
        return None
    ints = np.concatenate([c.ints for c in columns])
    is_int = np.concatenate([c.is_int for c in columns])
    if bool((np.abs(ints[is_int]) > 2**53).any()):
        return None  # not exact as float64: ordering them needs the per-point path
    return np.concatenate([c.numbers for c in columns]), ints, is_int
