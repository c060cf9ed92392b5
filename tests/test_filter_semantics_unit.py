"""Filter conditions follow Qdrant 1.20 (../shared/spec/qdrant-semantics.md §3): the worked
examples, checked point by point (the column path is covered end to end in test_client_flow)."""

from __future__ import annotations

import pytest

from vecinfer.domain import filters as f
from vecinfer.storage.filters import PointView, check_filter

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
