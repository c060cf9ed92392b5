"""Filter conditions follow Qdrant 1.20 (../shared/spec/qdrant-semantics.md §1, §3): the worked
examples, checked point by point (the column path is covered end to end in test_client_flow and
test_differential_local_mode)."""

from __future__ import annotations

import pytest

from vecinfer.domain import filters as f
from vecinfer.domain import json_path
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.filters import parse_datetime
from vecinfer.storage.filters import PointView, check_filter, leaf_values, raw_values

_MISSING = object()
VALUES = {1: 1, 2: [1, 2], 3: None, 4: [], 5: [None], 6: _MISSING, 7: 1.0, 8: True, 9: "1", 10: [[1], 2],
          11: {"b": 1}, 12: [None, 3]}


def matching(condition: f.Condition, values: dict) -> list[int]:
    flt = f.Filter(must=(condition,))
    out = []
    for point_id, value in values.items():
        payload = {} if value is _MISSING else {"a": value}
        if check_filter(flt, PointView(point_id, payload, lambda name: False)):
            out.append(point_id)
    return out


@pytest.mark.parametrize("condition, expected", [
    (f.Match("a", "integer", 1), [1, 2]),
    (f.Match("a", "boolean", True), [8]),
    (f.Match("a", "keyword", "1"), [9]),
    (f.Match("a", "integers", frozenset({1, 3})), [1, 2, 12]),
    (f.Match("a", "integers", frozenset()), []),
    (f.Match("a", "except_integers", frozenset({1})), [2, 7, 8, 9, 10, 11, 12]),
    (f.Match("a", "except_keywords", frozenset({"x"})), [1, 2, 7, 8, 9, 10, 11, 12]),
    (f.Match("a", "except_keywords", frozenset()), [1, 2, 7, 8, 9, 10, 11, 12]),
    (f.Range("a", gte=1), [1, 2, 7, 10, 12]),
    (f.Range("a", gt=1), [2, 10, 12]),
    (f.IsEmpty("a"), [3, 4, 6]),
    (f.IsNull("a"), [3, 5, 12]),
    (f.Not(f.IsNull("a")), [1, 2, 4, 6, 7, 8, 9, 10, 11]),
    (f.ValuesCount("a", gte=1), [1, 2, 5, 7, 8, 9, 10, 11, 12]),
    (f.ValuesCount("a", lt=1), [3, 4, 6]),
    (f.ValuesCount("a", gte=2), [2, 10, 12]),
    (f.ValuesCount("a", gte=1, lte=1), [1, 5, 7, 8, 9, 11]),
    (f.Match("a.b", "integer", 1), [11]),
])
def test_worked_examples(condition, expected):
    assert matching(condition, VALUES) == expected


TEXTS = {1: "Hello, World!", 2: "goodness only", 3: "the quick brown fox", 4: ["quick", "brown fox"],
         5: "snake_case-word", 6: "Café crème", 7: 42, 8: "fox brown quick"}


@pytest.mark.parametrize("query, text, text_any, phrase", [
    ("HELLO world", [1], [1], [1]),
    ("world hello", [1], [1], []),
    ("good", [], [], []),
    ("quick fox", [3, 8], [3, 4, 8], []),
    ("brown fox", [3, 4, 8], [3, 4, 8], [3, 4]),
    ("case word", [5], [5], [5]),
    ("café", [6], [6], [6]),
    ("cafe", [], [], []),
    ("42", [], [], []),
    ("", [], [], []),
    ("!!!", [], [], []),
])
def test_text_without_an_index_matches_whole_tokens(query, text, text_any, phrase):
    def run(kind: str) -> list[int]:
        flt = f.Filter(must=(f.Match("t", kind, query),))
        return [i for i, v in TEXTS.items() if check_filter(flt, PointView(i, {"t": v}, lambda name: False))]

    assert (run("text"), run("text_any"), run("phrase")) == (text, text_any, phrase)


# §1: paths, raw and flattened values.
PATHS = {"a": {"b": [1, 2], "c": {"d": 5}}, "l": [{"x": 1, "y": [10, 11]}, {"x": 2, "y": 12}, {"z": 3}, 7, [{"x": 99}]],
         "a.b": "dotted", "e": []}


@pytest.mark.parametrize("path, flattened, raw", [
    ("a.b", [1, 2], [[1, 2]]),
    ("l[].x", [1, 2], [1, 2]),
    ("l[].y", [10, 11, 12], [[10, 11], 12]),
    ("l[0].y", [10, 11], [[10, 11]]),
    ("l[3]", [7], [7]),
    ("l[4].x", [], []),
    ("l[4][0].x", [99], [99]),
    ("l[][].x", [99], [99]),
    ('"a.b"', ["dotted"], ["dotted"]),
    ("a.b[]", [1, 2], [1, 2]),
    ("e", [], [[]]),
    ("a[].b", [], []),
    ("a[0]", [], []),
    ("l.x", [], []),  # a key step works on objects only
    ("a.c.d", [5], [5]),
    ("l[9]", [], []),
])
def test_path_values(path, flattened, raw):
    assert leaf_values(PATHS, path) == flattened
    assert raw_values(PATHS, path) == raw


@pytest.mark.parametrize("path", ["a..b", "a.", ".a", "[0]", "a[x]", "a[-1]", "a b", "", '"a', "a[0", "a.[0]", "a[0]b"])
def test_invalid_paths(path):
    with pytest.raises(InvalidArgument):
        json_path.parse(path)


@pytest.mark.parametrize("path, steps", [
    ("ключ-1_x", (json_path.Step(key="ключ-1_x"),)),
    ('a."".b', (json_path.Step(key="a"), json_path.Step(key=""), json_path.Step(key="b"))),
    ('"a b"[0][]', (json_path.Step(key="a b"), json_path.Step(index=0), json_path.EVERY)),
])
def test_valid_paths(path, steps):
    assert json_path.parse(path) == steps


# §3.6: datetimes, compared as UTC microseconds.
DATES = {1: "2024-01-01T00:00:00Z", 2: "2024-01-01T00:30:00+01:00", 3: "2024-01-01",
         4: ["2023-12-31T23:59:59Z", "2024-06-01"], 5: "garbage", 6: 1704067200}
JAN1 = 1704067200 * 1_000_000


@pytest.mark.parametrize("condition, expected", [
    (f.Range("a", gte=JAN1, datetime=True), [1, 3, 4]),
    (f.Range("a", lt=JAN1, datetime=True), [2, 4]),
    (f.Range("a", gt=JAN1, datetime=True), [4]),
    (f.Range("a", gte=0), [6]),
])
def test_datetime_range(condition, expected):
    assert matching(condition, DATES) == expected


@pytest.mark.parametrize("text, micros", [
    ("2024-01-01T00:00:00Z", JAN1),
    ("2024-01-01T00:00:00.000000999Z", JAN1),  # nanoseconds are cut
    ("2024-01-01 00:00:00 UTC", JAN1),
    ("2024-01-01T01:00:00+0100", JAN1),
    ("2024-01-01T01:00:00+01", JAN1),
    ("2023-12-31T21:00:00.5-03", JAN1 + 500_000),
    ("2024-01-01T00:00", JAN1),
    ("2024-01-01 00:00", JAN1),
    ("2024-01-01t00:00:00z", JAN1),
    ("2024-01-01T00", None),
    ("01/02/2024", None),
    ("20240101", None),
    ("2024-02-30", None),
    ("2024-01-01T00:00+01", None),
])
def test_parse_datetime(text, micros):
    assert parse_datetime(text) == micros


# §3.12: nested filters see one object element at a time.
DIET = {1: [{"food": "leaves", "likes": False}, {"food": "meat", "likes": True}],
        2: [{"food": "leaves", "likes": True}, {"food": "meat", "likes": False}],
        3: {"food": "meat", "likes": True}, 4: [[{"food": "meat", "likes": True}]],
        5: [{"food": "meat", "likes": True, "sub": [{"k": 1}, {"k": 2}]}], 6: [], 7: _MISSING}
MEAT_LOVED = f.Filter(must=(f.Match("food", "keyword", "meat"), f.Match("likes", "boolean", True)))


@pytest.mark.parametrize("condition, expected", [
    (f.Filter(must=(f.Match("a[].food", "keyword", "meat"), f.Match("a[].likes", "boolean", True))), [1, 2, 5]),
    (f.Nested("a", MEAT_LOVED), [1, 5]),
    (f.Nested("a[]", MEAT_LOVED), [1, 5]),
    (f.Not(f.Nested("a", MEAT_LOVED)), [2, 3, 4, 6, 7]),
    (f.Nested("a", f.Filter(must=(f.Nested("sub", f.Filter(must=(f.Match("k", "integer", 2),))),))), [5]),
    (f.Nested("a", f.Filter(must_not=(f.Match("likes", "boolean", True),))), [1, 2]),
    (f.Nested("a", f.Filter(must=(f.HasId(frozenset({1})),))), []),
    (f.Nested("a", f.Filter(must=(f.HasVector("v"),))), []),
])
def test_nested(condition, expected):
    flt = f.Filter(must=(condition,))
    out = []
    for point_id, value in DIET.items():
        payload = {} if value is _MISSING else {"a": value}
        if check_filter(flt, PointView(point_id, payload, lambda name: True)):
            out.append(point_id)
    assert out == expected
