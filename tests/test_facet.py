"""Facet counts end to end through qdrant-client 1.20 over both doors (spec §8.2): points counted
per value of a match-capable index's type, ordered by count then value; filters, limits, nested
keys, UUIDs hyphenated; no index (or one that cannot match) refused as Qdrant refuses it;
strict mode's limit, exact and unindexed filters."""

from __future__ import annotations

import json

import grpc
import pytest
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import make_client
from rest_http import call

DOORS = ("grpc", "rest")
# Spec §8.1's payloads.
KEYS = {1: "a", 2: ["a", "b"], 3: "b", 4: 1, 5: [1, True], 6: 1.5, 7: {}, 8: ["c", "c"], 9: "a", 10: True}
U1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
U2 = "0e3f4a6b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture(scope="module")
def clients(shared_server):
    made = {"grpc": make_client(shared_server), "rest": make_client(shared_server, prefer_grpc=False)}
    yield made
    for client in made.values():
        client.close()


@pytest.fixture(params=DOORS)
def door(request):
    return request.param


def _fresh(client, name: str, points: dict, **kwargs) -> str:
    client.delete_collection(name)
    client.create_collection(name, vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT), **kwargs)
    client.upsert(name, points=[models.PointStruct(id=i, vector=[1.0, 0.0], payload=p) for i, p in points.items()])
    return name


def _hits(response) -> list[tuple]:
    return [(hit.value, hit.count) for hit in response.hits]


def _typed(response) -> list[tuple]:
    return [(type(hit.value).__name__, hit.value, hit.count) for hit in response.hits]


def _refusal(door: str, call_it) -> tuple[object, str]:
    if door == "grpc":
        with pytest.raises(grpc.RpcError) as info:
            call_it()
        return info.value.code(), info.value.details()
    with pytest.raises(UnexpectedResponse) as info:
        call_it()
    return info.value.status_code, json.loads(info.value.content)["status"]["error"]


def _no_index_message(key: str) -> str:
    return (f"Wrong input: No appropriate index for faceting: `{key}`. Please create one to facet on this field. "
            "Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas "
            "support Match conditions")


@pytest.fixture(scope="module")
def spec_facets(clients):
    """One collection per index type on the §8.1 data (the server reads one index per key)."""
    client = clients["grpc"]
    names = {}
    for kind in ("keyword", "integer", "bool"):
        names[kind] = _fresh(client, f"facet_spec_{kind}", {i: {"k": k, "n": i} for i, k in KEYS.items()})
        client.create_payload_index(names[kind], "k", kind)
    return names


def test_spec_data_per_index_type(clients, door, spec_facets):
    client = clients[door]
    # Local mode, with no index, mixes the types: ('a',3) (True,2) (1,2) ('b',2) ('c',1).
    assert _typed(client.facet(spec_facets["keyword"], "k")) == [("str", "a", 3), ("str", "b", 2), ("str", "c", 1)]
    assert _typed(client.facet(spec_facets["integer"], "k")) == [("int", 1, 2)]
    assert _typed(client.facet(spec_facets["bool"], "k")) == [("bool", True, 2)]


def test_limit_filter_and_exact(clients, door, spec_facets):
    client = clients[door]
    name = spec_facets["keyword"]
    assert _hits(client.facet(name, "k", limit=2)) == [("a", 3), ("b", 2)]
    small = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(lte=3))])
    assert _hits(client.facet(name, "k", facet_filter=small)) == [("a", 2), ("b", 2)]
    assert _hits(client.facet(name, "k", limit=5, exact=True)) == _hits(client.facet(name, "k", exact=False))
    nothing = models.Filter(must=[models.FieldCondition(key="n", range=models.Range(gt=100))])
    assert _hits(client.facet(name, "k", facet_filter=nothing)) == []


def test_order_is_count_then_value(clients, door):
    client = clients[door]
    payloads = {1: {"t": "b"}, 2: {"t": "a"}, 3: {"t": ["c", "a"]}, 4: {"t": "c"}, 5: {"t": "b"}, 6: {"t": "z"},
                7: {"t": "A"}, 8: {"t": "é"}, 9: {"t": ["d", "d", "d"]}}
    name = _fresh(client, f"facet_order_{door}", payloads)
    client.create_payload_index(name, "t", models.PayloadSchemaType.KEYWORD)
    assert _hits(client.facet(name, "t")) == [("a", 2), ("b", 2), ("c", 2), ("A", 1), ("d", 1), ("z", 1), ("é", 1)]
    ints = _fresh(client, f"facet_ints_{door}", {1: {"i": [5, -3]}, 2: {"i": 5}, 3: {"i": -3}, 4: {"i": 0},
                                                  5: {"i": 2.0}, 6: {"i": "5"}})
    client.create_payload_index(ints, "i", models.PayloadSchemaType.INTEGER)
    assert _typed(client.facet(ints, "i")) == [("int", -3, 2), ("int", 5, 2), ("int", 0, 1)]


def test_nested_keys_and_uuids(clients, door):
    client = clients[door]
    name = _fresh(client, f"facet_nested_{door}", {
        1: {"doc": {"tags": ["x", "y"]}, "items": [{"u": U1}, {"u": U2.upper()}]},
        2: {"doc": {"tags": "x"}, "items": [{"u": U1.replace("-", "")}]},
        3: {"doc": {}, "items": [{"u": "not a uuid"}]},
    })
    client.create_payload_index(name, "doc.tags", models.PayloadSchemaType.KEYWORD)
    client.create_payload_index(name, "items[].u", models.PayloadSchemaType.UUID)
    assert _hits(client.facet(name, "doc.tags")) == [("x", 2), ("y", 1)]
    # Each UUID spelling counts under the hyphenated form; "not a uuid" is not in a uuid index.
    assert _hits(client.facet(name, "items[].u")) == [(U1, 2), (U2, 1)]


def test_no_appropriate_index(clients, door):
    client = clients[door]
    name = _fresh(client, f"facet_noindex_{door}", {1: {"k": "a", "f": 1.5, "t": "some words"}})
    code, message = _refusal(door, lambda: client.facet(name, "k"))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 400)
    assert message == _no_index_message("k")
    client.create_payload_index(name, "f", models.PayloadSchemaType.FLOAT)
    client.create_payload_index(name, "t", models.PayloadSchemaType.TEXT)
    for key in ("f", "t"):
        assert _refusal(door, lambda: client.facet(name, key))[1] == _no_index_message(key)
    client.create_payload_index(name, "r", models.IntegerIndexParams(type=models.IntegerIndexType.INTEGER,
                                                                     lookup=False, range=True))
    assert _refusal(door, lambda: client.facet(name, "r"))[1] == _no_index_message("r")


def test_bad_requests(clients, door, spec_facets):
    client = clients[door]
    code, message = _refusal(door, lambda: client.facet(spec_facets["keyword"], "k", limit=0))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 422) and "limit" in message
    code, _ = _refusal(door, lambda: client.facet("facet_missing_collection", "k"))
    assert code in (grpc.StatusCode.NOT_FOUND, 404)
    code, _ = _refusal(door, lambda: client.facet(spec_facets["keyword"], "k..x"))
    assert code in (grpc.StatusCode.INVALID_ARGUMENT, 400)


def test_rest_shapes(shared_server, spec_facets):
    port = shared_server.http_port
    status, _, body = call(port, "POST", f"/collections/{spec_facets['bool']}/facet", {"key": "k"})
    assert status == 200, body
    assert body["result"] == {"hits": [{"value": True, "count": 2}]}
    status, _, body = call(port, "POST", f"/collections/{spec_facets['keyword']}/facet?timeout=5",
                           {"key": "k", "limit": 1, "exact": True,
                            "filter": {"must": [{"key": "n", "match": {"any": [3, 8]}}]}})
    assert status == 200, body
    assert body["result"] == {"hits": [{"value": "b", "count": 1}]}
    status, _, body = call(port, "POST", f"/collections/{spec_facets['keyword']}/facet", {"key": "k", "bogus": 1})
    assert status == 400 and "bogus" in body["status"]["error"], body
    status, _, body = call(port, "POST", f"/collections/{spec_facets['keyword']}/facet", {})
    assert status == 400 and "key" in body["status"]["error"], body


def test_strict_mode(clients, door):
    client = clients[door]
    name = _fresh(client, f"facet_strict_{door}", {1: {"k": "a", "n": 1}}, strict_mode_config=models.StrictModeConfig(
        enabled=True, max_query_limit=5, search_allow_exact=False, unindexed_filtering_retrieve=False))
    client.create_payload_index(name, "k", models.PayloadSchemaType.KEYWORD)
    assert _refusal(door, lambda: client.facet(name, "k", limit=6))[1] == (
        'Bad request: Limit exceeded 6 > 5 for "limit". Help: Reduce the "limit" parameter to or below 5.')
    assert _refusal(door, lambda: client.facet(name, "k", limit=5, exact=True))[1] == (
        "Bad request: Exact search disabled!. Help: Set exact=false.")
    by_n = models.Filter(must=[models.FieldCondition(key="n", match=models.MatchValue(value=1))])
    assert _refusal(door, lambda: client.facet(name, "k", limit=5, facet_filter=by_n))[1] == (
        'Bad request: Index required but not found for "n" of one of the following types: [integer]. '
        "Help: Create an index for this key or use a different filter.")
    assert _hits(client.facet(name, "k", limit=5)) == [("a", 1)]
