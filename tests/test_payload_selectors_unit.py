"""Payload selectors follow Qdrant's include / exclude rules (../shared/spec/qdrant-semantics.md §4)."""

from __future__ import annotations

import pytest

from vecinfer.domain.query import PayloadSelector
from vecinfer.query.records import select_payload

PAYLOAD = {"a": {"b": 1, "c": 2}, "aa": {"b": 3}, "a.b": 4, "l": [{"b": 5, "c": 6}, 7, [8]], "n": 5}


@pytest.mark.parametrize("include, expected", [
    (["a.b"], {"a": {"b": 1}}),
    (['"a.b"'], {"a.b": 4}),
    (["l[].c"], {"l": [{"c": 6}, 7, []]}),
    (["l[0]"], {"l": []}),
    (["a", "a.b"], {"a": {"b": 1, "c": 2}}),
    (["n.x"], {"n": 5}),
    (["missing"], {}),
    ([], {}),
])
def test_include(include, expected):
    assert select_payload(PAYLOAD, PayloadSelector(include=tuple(include))) == expected


@pytest.mark.parametrize("exclude, expected", [
    (["a", "l[].b"], {"aa": {"b": 3}, "a.b": 4, "l": [{"c": 6}, 7, [8]], "n": 5}),
    (["l[]"], {**PAYLOAD, "l": []}),
    (["l[0]"], PAYLOAD),
    (["a.b"], {**PAYLOAD, "a": {"c": 2}}),
])
def test_exclude(exclude, expected):
    assert select_payload(PAYLOAD, PayloadSelector(enable=True, exclude=tuple(exclude))) == expected


def test_selection_is_a_copy():
    out = select_payload(PAYLOAD, PayloadSelector(include=("a",)))
    out["a"]["b"] = 99
    assert PAYLOAD["a"]["b"] == 1
