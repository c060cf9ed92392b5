"""set_payload / delete_payload paths follow Qdrant's rules (../shared/spec/qdrant-semantics.md §5)."""

from __future__ import annotations

import copy

import pytest

from vecinfer.domain.json_path import parse
from vecinfer.storage.payload_edits import delete_at as _delete_at
from vecinfer.storage.payload_edits import set_at as _set_at


@pytest.mark.parametrize("start, payload, key, result", [
    ({"a": 1, "b": {"c": 2}}, {"b": {"d": 3}}, None, {"a": 1, "b": {"d": 3}}),
    ({"a": 1, "b": 2}, {"a": None}, None, {"b": 2}),
    ({}, {"x": 1}, "a.b", {"a": {"b": {"x": 1}}}),
    ({"a": 5}, {"x": 1}, "a.b", {"a": {"b": {"x": 1}}}),
    ({"a": {"b": {"y": 0}}}, {"x": 1}, "a.b", {"a": {"b": {"x": 1, "y": 0}}}),
    ({"a": {"b": 7}}, {"x": 1}, "a.b", {"a": {"b": {"x": 1}}}),
    ({"a": [1, {"y": 2}]}, {"x": 1}, "a[]", {"a": [{"x": 1}, {"x": 1, "y": 2}]}),
    ({"a": [1, {"y": 2}]}, {"x": 1}, "a[0]", {"a": [{"x": 1}, {"y": 2}]}),
    ({"a": [1, {"y": 2}]}, {"x": 1}, "a[5]", {"a": [1, {"y": 2}]}),
    ({}, {"x": 1}, "a[0]", {"a": []}),
    ({}, {"x": 1}, "a[].b", {"a": []}),
    ({"a": [{"b": 1}, {"c": 2}]}, {"x": 1}, "a[].b", {"a": [{"b": {"x": 1}}, {"b": {"x": 1}, "c": 2}]}),
    ({"a": {"b": 1, "x": 5}}, {"x": None}, "a", {"a": {"b": 1}}),
    ({"a": 1}, {"x": 1}, '"a.b"', {"a": 1, "a.b": {"x": 1}}),
])
def test_set_payload(start, payload, key, result):
    steps = parse(key) if key is not None else ()
    assert _set_at(copy.deepcopy(start), steps, payload) == result


@pytest.mark.parametrize("start, key, result", [
    ({"a": {"b": 1, "c": 2}}, "a.b", {"a": {"c": 2}}),
    ({"a": [{"b": 1, "c": 2}, {"b": 3}]}, "a[].b", {"a": [{"c": 2}, {}]}),
    ({"a": [1, 2]}, "a[0]", {"a": [1, 2]}),
    ({"a": [1, 2]}, "a[]", {"a": []}),
    ({"a": [{"b": 1}, {"b": 2}]}, "a[1].b", {"a": [{"b": 1}, {}]}),
    ({"a": 1}, "missing.path", {"a": 1}),
])
def test_delete_payload(start, key, result):
    payload = copy.deepcopy(start)
    _delete_at(payload, parse(key))
    assert payload == result
