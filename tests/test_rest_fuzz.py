"""Property-based fuzzing of the REST door (Qdrant's HTTP API) with hypothesis.

Random valid and invalid bodies go to every REST path:
  1. arbitrary JSON values,
  2. "nearly valid" bodies: a valid body of each endpoint with one to three fields broken
     (wrong type, bad id, unknown key, wrong dimension, empty list, ...),
  3. raw bytes that are not JSON (or JSON Python's parser takes and Qdrant's does not),
and on top of that random collection names, path ids and query parameters.

Every answer must come quickly (a hang fails on the client timeout), have one of Qdrant's
statuses (never 500), and carry Qdrant's envelope:
  success `{"status": "ok", "result": ..., "time": float}`,
  error   `{"status": {"error": "<non-empty>"}, "time": float}`,
in standard JSON. A write answered with an error must leave the collection exactly as it was:
every write example snapshots the collection (all points with payloads and vectors, the count,
the config and the payload indexes) before and after. Batches whose first operations are valid
and a later one is not check the same atomicity explicitly.

The test process speaks HTTP only (http.client), to one server started for the module.
"""

from __future__ import annotations

import copy
import http.client
import json
import math
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from conftest import ServerProcess

COLL = "fuzz"            # the fixed collection every collection-scoped request targets
MISSING = "fuzz_missing"  # a collection that never exists
FRESH = "fuzz_fresh"      # what valid create bodies create (and the test deletes again)
DIM = 4
UUID1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
UUID2 = "0e3f4a6b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
ALLOWED = {200, 400, 404, 408, 409, 422, 501}
HTTP_TIMEOUT = 20.0  # seconds; no request here needs more than a fraction of one

BIG_FLOAT = "__1e999__"  # a JSON number Python's json cannot write: replaced after dumps
NO_BODY: Any = object()  # send no body at all (None is the JSON body `null`)


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


# ---------------------------------------------------------------------------------- HTTP


def _dumps(body: Any) -> bytes:
    return json.dumps(body).replace(json.dumps(BIG_FLOAT), "1e999").encode()


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not standard JSON")


def _path(template: str, **parts: str) -> str:
    """A path with its parameters percent-encoded as one segment each."""
    def quote(text: str) -> str:
        quoted = urllib.parse.quote(text, safe="")
        # "." and ".." would be resolved as path steps by the server's URL parser
        return quoted.replace(".", "%2E") if set(text) == {"."} else quoted
    return template.format(**{k: quote(v) for k, v in parts.items()})


@dataclass
class Reply:
    method: str
    target: str
    sent: bytes | None
    status: int
    data: bytes

    def json(self) -> Any:
        return json.loads(self.data, parse_constant=_no_constants)

    def __str__(self) -> str:
        sent = "" if self.sent is None else self.sent[:600].decode("utf-8", "replace")
        return (f"\n  request:  {self.method} {self.target}\n  body:     {sent}"
                f"\n  response: {self.status} {self.data[:600].decode('utf-8', 'replace')}")


class Http:
    def __init__(self, port: int):
        self.port = port

    def call(self, method: str, path: str, body: Any = NO_BODY, *, raw: bytes | None = None,
             query: dict[str, str] | None = None) -> Reply:
        if raw is None and body is not NO_BODY:
            raw = _dumps(body)
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
        try:
            headers = {"Content-Type": "application/json"} if raw is not None else {}
            conn.request(method, target, body=raw, headers=headers)
            response = conn.getresponse()
            reply = Reply(method, target, raw, response.status, response.read())
        except TimeoutError as exc:
            sent = (raw or b"")[:600]
            raise AssertionError(f"no answer within {HTTP_TIMEOUT}s (hang): {method} {target} {sent!r}") from exc
        finally:
            conn.close()
        return reply

    def ok(self, method: str, path: str, body: Any = NO_BODY, *, strict: bool = True, **kwargs: Any) -> Any:
        """The result of a request that must succeed; `strict=False` also takes NaN/Infinity."""
        reply = self.call(method, path, body, **kwargs)
        assert reply.status == 200, f"setup request failed{reply}"
        if not strict:
            return json.loads(reply.data)["result"]
        try:
            return reply.json()["result"]
        except ValueError as exc:
            raise AssertionError(f"the answer is not standard JSON ({exc}){reply}") from None


def _note(text: str) -> None:
    try:
        note(text)
    except Exception:  # outside a hypothesis test
        pass


def check_reply(reply: Reply) -> Any:
    """The status is one Qdrant uses for these requests and the body its envelope, in standard JSON."""
    assert reply.status in ALLOWED, f"status {reply.status} is not one of {sorted(ALLOWED)}{reply}"
    try:
        data = reply.json()
    except ValueError as exc:
        raise AssertionError(f"the answer is not standard JSON ({exc}){reply}") from None
    assert isinstance(data, dict), f"the answer is not a JSON object{reply}"
    assert type(data.get("time")) is float and math.isfinite(data["time"]) and data["time"] >= 0, \
        f"`time` is not a float of seconds{reply}"
    if reply.status == 200:
        assert data.get("status") == "ok", f"a 200 without status \"ok\"{reply}"
        assert "result" in data, f"a 200 without `result`{reply}"
    else:
        status = data.get("status")
        assert isinstance(status, dict) and isinstance(status.get("error"), str) and status["error"].strip(), \
            f"an error without {{\"status\": {{\"error\": <message>}}}}{reply}"
        assert "result" not in data, f"an error with a `result`{reply}"
    return data


# ---------------------------------------------------------------------------------- the fixed collection

CREATE_BODY = {"vectors": {"d": {"size": DIM, "distance": "Cosine"}}, "sparse_vectors": {"s": {}}}
SEED_INDEXES = [{"field_name": "city", "field_schema": "keyword"}, {"field_name": "n", "field_schema": "integer"}]
SEED_POINTS = [
    {"id": 1, "vector": {"d": [1, 0, 0, 0], "s": {"indices": [1, 5], "values": [0.5, 1.0]}},
     "payload": {"city": "Berlin", "n": 1, "tags": ["a", "b"], "nested": {"x": 1, "y": [1, 2]}}},
    {"id": 2, "vector": {"d": [0, 1, 0, 0]}, "payload": {"city": "Paris", "n": 2, "price": 9.5}},
    {"id": 3, "vector": {"d": [0, 0, 1, 0], "s": {"indices": [2], "values": [0.25]}},
     "payload": {"city": "Rome", "n": 3, "flag": True, "none": None}},
    {"id": 4, "vector": {"d": [0.5, 0.5, 0.5, 0.5]}, "payload": {}},
    # Valid JSON payload values of other types under the same keys, and a u64 beyond int64.
    {"id": 5, "vector": {"d": [0, 0, 0, 1]},
     "payload": {"city": ["Paris", 7, None], "n": "five", "tags": "solo", "flag": 1, "big": 2 ** 63}},
    {"id": UUID1, "vector": {"d": [1, 1, 0, 0], "s": {"indices": [7, 9], "values": [1.0, 2.0]}},
     "payload": {"city": "Berlin", "when": "2024-01-31T12:00:00Z", "txt": "hello fuzzy world"}},
]


class FixedCollection:
    """The collection the fuzzing runs against, its expected state, and a way back to it."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.http = Http(server.http_port)
        self.dirs = server.storage_dir / "collections"
        self.reseed()
        self.baseline = self.snapshot()
        assert len(self.baseline["points"]) == len(SEED_POINTS)

    def reseed(self) -> None:
        self.http.call("DELETE", _path("/collections/{c}", c=COLL))
        self.http.ok("PUT", _path("/collections/{c}", c=COLL), CREATE_BODY)
        for index in SEED_INDEXES:
            self.http.ok("PUT", _path("/collections/{c}/index", c=COLL), index, query={"wait": "true"})
        self.http.ok("PUT", _path("/collections/{c}/points", c=COLL), {"points": SEED_POINTS}, query={"wait": "true"})

    def snapshot(self, strict: bool = True) -> dict[str, Any]:
        """Everything a write can change (not the optimizer's segment counts or status colour)."""
        info = self.http.ok("GET", _path("/collections/{c}", c=COLL), strict=strict)
        page = self.http.ok("POST", _path("/collections/{c}/points/scroll", c=COLL),
                            {"limit": 100_000, "with_payload": True, "with_vector": True}, strict=strict)
        assert page["next_page_offset"] is None
        count = self.http.ok("POST", _path("/collections/{c}/points/count", c=COLL), {"exact": True}, strict=strict)
        return {"config": info["config"], "payload_schema": info["payload_schema"],
                "points_count": info["points_count"], "count": count["count"],
                "points": sorted(page["points"], key=lambda p: json.dumps(p["id"]))}

    def names(self) -> list[str]:
        return sorted(c["name"] for c in self.http.ok("GET", "/collections")["collections"])

    def directories(self) -> set[str]:
        return {p.name for p in self.dirs.iterdir()}

    def fresh_snapshot(self) -> dict[str, Any]:
        """The state before one write example: the baseline (restored if an earlier example changed it)."""
        before = self.snapshot(strict=False)
        if before != self.baseline:
            self.reseed()
            before = self.snapshot()
            assert before == self.baseline
        return before


def _diff(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = [f"  {key}: {before[key]!r:.300} -> {after[key]!r:.300}"
             for key in ("config", "payload_schema", "points_count", "count") if before[key] != after[key]]
    old = {json.dumps(p["id"]): p for p in before["points"]}
    new = {json.dumps(p["id"]): p for p in after["points"]}
    for pid in sorted(set(old) | set(new)):
        if old.get(pid) != new.get(pid):
            lines.append(f"  point {pid}: {old.get(pid)!r:.300} -> {new.get(pid)!r:.300}")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def fixed(tmp_path_factory) -> FixedCollection:
    tmp = tmp_path_factory.mktemp("rest_fuzz")
    unreachable = "http://127.0.0.1:9"  # no fuzzed inference object may reach the network
    server = ServerProcess(tmp / "storage", tmp / "server.log", env={
        "VECINFER_OPENAI_BASE_URL": unreachable, "VECINFER_COHERE_BASE_URL": unreachable,
        "VECINFER_JINA_BASE_URL": unreachable, "VECINFER_OPENROUTER_BASE_URL": unreachable,
        "VECINFER_PROVIDER_MAX_ATTEMPTS": "1", "VECINFER_IMAGE_FETCH_TIMEOUT_SECONDS": "2",
        # Checkpoints (snapshot + log reset) after almost every write, so fuzzed writes run through them too.
        "VECINFER_WAL_CHECKPOINT_BYTES": "4096",
    }).start()
    try:
        yield FixedCollection(server)
    finally:
        server.stop()


# ---------------------------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # parameters: {c} collection, {id} point id, {field} payload key
    kind: str  # read | write | create | drop | root | todo

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


P = "/collections/{c}/points"
ROUTES = [
    Route("GET", "/", "root"),
    Route("GET", "/collections", "read"),
    Route("GET", "/collections/{c}", "read"),
    Route("PUT", "/collections/{c}", "create"),
    Route("PATCH", "/collections/{c}", "write"),
    Route("DELETE", "/collections/{c}", "drop"),
    Route("GET", "/collections/{c}/exists", "read"),
    Route("PUT", "/collections/{c}/index", "write"),
    Route("DELETE", "/collections/{c}/index/{field}", "write"),
    Route("PUT", P, "write"),
    Route("POST", P, "read"),
    Route("POST", P + "/delete", "write"),
    Route("PUT", P + "/vectors", "write"),
    Route("POST", P + "/vectors/delete", "write"),
    Route("POST", P + "/payload", "write"),
    Route("PUT", P + "/payload", "write"),
    Route("POST", P + "/payload/delete", "write"),
    Route("POST", P + "/payload/clear", "write"),
    Route("POST", P + "/batch", "write"),
    Route("POST", P + "/scroll", "read"),
    Route("POST", P + "/count", "read"),
    Route("POST", P + "/query", "read"),
    Route("POST", P + "/query/batch", "read"),
    Route("GET", P + "/{id}", "read"),
    Route("POST", P + "/query/groups", "read"),
    Route("POST", P + "/search", "read"),
    Route("POST", P + "/search/batch", "read"),
    Route("POST", P + "/search/groups", "read"),
    Route("POST", P + "/search/matrix/pairs", "read"),
    Route("POST", P + "/search/matrix/offsets", "read"),
    Route("POST", P + "/recommend", "read"),
    Route("POST", P + "/recommend/batch", "read"),
    Route("POST", P + "/recommend/groups", "read"),
    Route("POST", P + "/discover", "read"),
    Route("POST", P + "/discover/batch", "read"),
    Route("POST", "/collections/{c}/facet", "read"),
    Route("POST", "/collections/aliases", "write"),
    Route("GET", "/aliases", "read"),
    Route("GET", "/collections/{c}/aliases", "read"),
    Route("GET", "/collections/{c}/snapshots", "read"),
    Route("POST", "/collections/{c}/snapshots", "read"),
    Route("DELETE", "/collections/{c}/snapshots/x.snapshot", "read"),
    Route("PUT", "/collections/{c}/snapshots/recover", "write"),
    Route("POST", "/collections/{c}/snapshots/upload", "write"),
    Route("GET", "/snapshots", "read"),
    # Qdrant paths vecinfer answers 501
    Route("GET", "/telemetry", "todo"),
    Route("GET", "/cluster", "todo"),
    Route("POST", "/cluster/recover", "todo"),
    Route("POST", "/collections/{c}/cluster", "todo"),
    Route("PUT", "/collections/{c}/shards", "todo"),
]
ROUTE = {f"{r.method} {r.path}": r for r in ROUTES}


def run(fixed: FixedCollection, route: Route, body: Any = NO_BODY, *, raw: bytes | None = None, collection: str = COLL,
        point: str = "1", field: str = "city", query: dict[str, str] | None = None) -> Reply:
    """Send one request and check its answer, and for writes that an error changed nothing."""
    path = _path(route.path, c=collection, id=point, field=field)

    def send() -> Reply:
        reply = fixed.http.call(route.method, path, body, raw=raw, query=query)
        _note(str(reply))
        return reply

    def check(reply: Reply) -> Reply:
        if route.kind == "root":
            assert reply.status == 200 and "version" in reply.json(), f"GET / failed{reply}"
            return reply
        check_reply(reply)
        if route.kind == "todo":
            assert reply.status == 501, f"a path vecinfer does not serve should answer 501{reply}"
        return reply

    if route.kind == "write":
        before = fixed.fresh_snapshot()
        reply = send()
        try:
            after = fixed.snapshot()
        except AssertionError as exc:
            raise AssertionError(f"after this write{reply}\nreading the collection failed: {exc}") from None
        if reply.status != 200:
            assert after == before, f"an error answer, but the collection changed (partial write):{reply}\n" \
                                    f"{_diff(before, after)}"
        elif after != before:
            fixed.reseed()  # every example starts from the same collection
        return check(reply)
    if route.kind == "create":
        names, dirs = fixed.names(), fixed.directories()
        before = fixed.fresh_snapshot() if collection == COLL else None
        reply = send()
        if reply.status == 200:
            assert collection in fixed.names(), f"created, but not listed{reply}"
            gone = fixed.http.call("DELETE", _path("/collections/{c}", c=collection))
            assert gone.status == 200 and gone.json()["result"] is True, f"cannot delete what was created{gone}"
        else:
            assert fixed.names() == names, f"an error answer, but the collections changed{reply}"
            if before is not None:
                after = fixed.snapshot()
                assert after == before, f"create on an existing name changed it:{reply}\n{_diff(before, after)}"
        left = fixed.directories() - dirs
        assert not left, f"storage directories left behind: {sorted(left)}{reply}"
        return check(reply)
    if route.kind == "drop":
        assert collection != COLL
        names = fixed.names()
        reply = check(send())
        assert reply.status == 200 and reply.json()["result"] is False, f"deleted a collection that did not exist{reply}"
        assert fixed.names() == names
        return reply
    return check(send())


# ---------------------------------------------------------------------------------- strategies

PAYLOAD_KEYS = ["city", "n", "tags", "nested", "nested.x", "nested.y", "price", "flag", "none", "when", "txt",
                "big", "missing"]
KNOWN_KEYS = [
    "points", "batch", "ids", "id", "vectors", "vector", "payload", "payloads", "filter", "must", "should",
    "must_not", "min_should", "conditions", "min_count", "key", "match", "value", "any", "except", "text", "range",
    "gt", "gte", "lt", "lte", "values_count", "is_empty", "is_null", "has_id", "has_vector", "nested", "query",
    "prefetch", "using", "limit", "offset", "with_payload", "with_vector", "include", "exclude", "searches",
    "operations", "upsert", "delete", "set_payload", "overwrite_payload", "delete_payload", "clear_payload",
    "update_vectors", "delete_vectors", "keys", "indices", "values", "model", "options", "image", "object",
    "nearest", "fusion", "rrf", "k", "weights", "params", "hnsw_ef", "exact", "score_threshold", "field_name",
    "field_schema", "type", "size", "distance", "sparse_vectors", "hnsw_config", "m", "ef_construct",
    "optimizers_config", "deleted_threshold", "indexing_threshold", "metadata", "update_filter", "update_mode",
    "shard_key", "d", "s", "", *PAYLOAD_KEYS,
]
MAGIC_STRINGS = [
    *PAYLOAD_KEYS, "", "d", "s", "keyword", "integer", "Cosine", "Dot", "rrf", "dbsf", "qdrant/bm25", "bm25", UUID1,
    UUID1.upper(), "not-a-uuid", "5", "-1", "1.5", "²", "١", "\ud800", "\x00", ".", "..", "a.b", "a[]", "nested.x",
    "2024-01-31T12:00:00Z", "2024-13-45", "random", "upsert", "insert_only", "none", "idf",
]
INTS = st.one_of(
    st.integers(-(2 ** 70), 2 ** 70),
    st.sampled_from([0, 1, -1, 3, 4, 5, 2 ** 31, 2 ** 32, 2 ** 63 - 1, 2 ** 63, 2 ** 64 - 1, 2 ** 64, -(2 ** 63),
                     10 ** 30]),
)
FLOATS = st.one_of(st.floats(allow_nan=False, allow_infinity=False),
                   st.sampled_from([0.5, -0.0, 1e308, -1e308, 5e-324, 3.5e38, 1e39]))
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, st.text(max_size=12), st.sampled_from(MAGIC_STRINGS))
KEYS = st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8))
JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                     st.dictionaries(KEYS, inner, max_size=5)), max_leaves=24)
SMALL_JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                           st.dictionaries(KEYS, inner, max_size=3)), max_leaves=6)

# Listed values are each tried on every run (the *_samples tests); the strategies mix them with random ones.
NAME_SAMPLES = ["fuzz_other", ".", "..", "...", "a/b", "a\\b", "a:b", "a*b", "c-x", "\x1f", "\x00", " ", "{", "a}b",
                "x" * 255, "x" * 256, "é" * 127, "é" * 128, "c-" + "y" * 126, "c-" + "y" * 130, ".h" + "y" * 130,
                "%41", "a?b", "ﬁ", "\u200b"]
COLLECTION_NAMES = st.one_of(
    st.text(min_size=1, max_size=30),
    st.sampled_from(NAME_SAMPLES),
    st.text(st.characters(min_codepoint=0x80, max_codepoint=0x2FFF), min_size=100, max_size=255),
).filter(lambda name: name != COLL)
PATH_ID_SAMPLES = ["1", "4", "999", "0", "-1", "1.5", "1e3", " 1", "0x1", "²", "١", "٣", UUID1, UUID1.upper(),
                   "{" + UUID1 + "}", "urn:uuid:" + UUID1, UUID1.replace("-", ""), "not-a-uuid",
                   "18446744073709551615", "18446744073709551616", "9" * 40, "..", "%"]
PATH_IDS = st.one_of(st.text(min_size=1, max_size=40), INTS.map(str), st.sampled_from(PATH_ID_SAMPLES))
FIELD_SAMPLES = ["city", "n", "nope", ".", "..", "a.b", "a[]", "²", "{x}", "%"]
FIELDS = st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(FIELD_SAMPLES))
QUERY_NAMES = ["wait", "timeout", "ordering", "consistency"]
QUERY_SAMPLES = ["true", "false", "", "1", "0", "-1", "5", "²", "١", "weak", "medium", "strong", "majority", "quorum",
                 "all", "abc", "1.5", "99999999999999999999", "TRUE", "\x00"]
QUERY_VALUES = st.one_of(st.sampled_from(QUERY_SAMPLES), st.text(max_size=6))
QUERIES = st.dictionaries(st.sampled_from(QUERY_NAMES), QUERY_VALUES, min_size=1, max_size=4)


# ---------------------------------------------------------------------------------- valid templates

D = [0.1, 0.2, 0.3, 0.4]
QUERIES_VALID = [
    {"query": D, "using": "d", "limit": 3, "with_payload": True},
    {"prefetch": [{"query": [1, 0, 0, 0], "using": "d", "limit": 5},
                  {"query": {"indices": [1, 5], "values": [1.0, 0.5]}, "using": "s"}],
     "query": {"fusion": "rrf"}, "limit": 3, "with_vector": ["d"]},
    {"query": {"nearest": 1}, "using": "d", "offset": 1, "score_threshold": 0.0, "params": {"hnsw_ef": 16, "exact": True},
     "filter": {"must": [{"key": "city", "match": {"except": ["Rome"]}}], "must_not": {"has_id": [4]}}},
    {"query": {"nearest": {"text": "hello world", "model": "qdrant/bm25"}}, "using": "s", "with_payload": ["city"]},
    {"prefetch": {"query": [0, 1, 0, 0], "using": "d", "filter": {"should": [{"key": "n", "range": {"gte": 2}}]}},
     "query": {"rrf": {"k": 10}}, "with_payload": {"exclude": ["tags"]}},
    {"query": UUID1, "using": "d", "filter": {"min_should": {"conditions": [{"key": "n", "match": {"any": [1, 2]}},
                                                                          {"is_empty": {"key": "tags"}}],
                                                           "min_count": 1}}},
    {"filter": {"must": [{"key": "when", "range": {"gte": "2024-01-01T00:00:00Z"}}]}, "limit": 2},
]
VALID_OPS = [
    {"upsert": {"points": [{"id": 200, "vector": {"d": [1, 2, 3, 4]}, "payload": {"new": True}}]}},
    {"upsert": {"batch": {"ids": [201, UUID2], "vectors": {"d": [[1, 0, 0, 1], [0, 1, 1, 0]]}}}},
    {"set_payload": {"payload": {"touched": 1}, "points": [1, 2]}},
    {"set_payload": {"payload": {"deep": 1}, "filter": {"must": {"key": "city", "match": {"value": "Berlin"}}},
                     "key": "nested"}},
    {"overwrite_payload": {"payload": {}, "points": [3]}},
    {"delete": {"points": [2]}},
    {"delete": {"filter": {"must": [{"key": "flag", "match": {"value": True}}]}}},
    {"delete_payload": {"keys": ["city"], "filter": {"must": [{"key": "n", "range": {"gte": 0}}]}}},
    {"clear_payload": {"points": [1]}},
    {"update_vectors": {"points": [{"id": 4, "vector": {"d": [0, 0, 0, 1]}}]}},
    {"delete_vectors": {"vector": ["s"], "points": [1, 3]}},
]
TEMPLATES: dict[str, list[Any]] = {
    "PUT /collections/{c}/points": [
        {"points": [{"id": 100, "vector": {"d": D, "s": {"indices": [1, 7], "values": [0.5, 0.25]}},
                     "payload": {"city": "Oslo", "n": 7, "tags": ["x"]}},
                    {"id": UUID2, "vector": {"d": [4, 3, 2, 1]}, "payload": None}]},
        {"batch": {"ids": [101, 102], "vectors": {"d": [[1, 2, 3, 4], [4, 3, 2, 1]]},
                   "payloads": [{"city": "Lima"}, {"n": 2}]}},
        {"batch": {"ids": [103], "vectors": {"d": [[1, 1, 1, 1]]}}, "update_mode": "insert_only"},
        {"points": [{"id": 1, "vector": {"d": [1, 2, 3, 4]}, "payload": {"city": "Berlin"}}],
         "update_filter": {"must": [{"key": "city", "match": {"value": "Berlin"}}]}, "update_mode": "upsert"},
        {"points": [{"id": 104, "vectors": {"s": {"text": "hello fuzzy world", "model": "qdrant/bm25"}}}]},
    ],
    "POST /collections/{c}/points/delete": [
        {"points": [1, UUID1]},
        {"filter": {"must": [{"key": "n", "range": {"gte": 2, "lt": 3.5}}]}},
    ],
    "PUT /collections/{c}/points/vectors": [
        {"points": [{"id": 2, "vector": {"d": [0, 0, 0, 1]}}]},
        {"points": [{"id": 1, "vector": {"s": {"indices": [3], "values": [2.0]}}}],
         "update_filter": {"must": {"has_id": [1]}}},
    ],
    "POST /collections/{c}/points/vectors/delete": [
        {"vector": ["s"], "points": [1]},
        {"vectors": ["s"], "filter": {"must": [{"key": "city", "match": {"any": ["Rome", "Paris"]}}]}},
    ],
    "POST /collections/{c}/points/payload": [
        {"payload": {"x": 1, "nested": {"z": [1, 2]}}, "points": [1, 2]},
        {"payload": {"z": "q"}, "filter": {"should": [{"is_empty": {"key": "city"}}]}, "key": "deep.inner"},
    ],
    "PUT /collections/{c}/points/payload": [
        {"payload": {"only": True}, "points": [3, UUID1]},
    ],
    "POST /collections/{c}/points/payload/delete": [
        {"keys": ["city", "nested.x"], "points": [1]},
        {"keys": ["n"], "filter": {"must_not": [{"is_null": {"key": "n"}}]}},
    ],
    "POST /collections/{c}/points/payload/clear": [
        {"points": [4]},
        {"filter": {"must": [{"key": "flag", "match": {"value": True}}]}},
    ],
    "POST /collections/{c}/points/batch": [
        {"operations": [VALID_OPS[0], VALID_OPS[2], VALID_OPS[10], VALID_OPS[5]]},
        {"operations": [VALID_OPS[1], VALID_OPS[9], VALID_OPS[7]]},
    ],
    "POST /collections/{c}/points": [
        {"ids": [1, 2, UUID1, 999], "with_payload": True, "with_vector": ["d"]},
    ],
    "POST /collections/{c}/points/scroll": [
        {"limit": 2, "offset": 2, "with_payload": {"include": ["city"]}, "with_vector": True},
        {"filter": {"must": [{"key": "city", "match": {"value": "Berlin"}}, {"has_vector": "s"}]}, "limit": 10},
    ],
    "POST /collections/{c}/points/count": [
        {"filter": {"must": [{"nested": {"key": "nested", "filter": {"must": [{"key": "x", "match": {"value": 1}}]}}}]},
         "exact": True},
        {"filter": {"must": {"key": "tags", "values_count": {"gte": 1, "lt": 5}}}},
    ],
    "POST /collections/{c}/points/query": QUERIES_VALID,
    "POST /collections/{c}/points/query/batch": [{"searches": QUERIES_VALID[:3]}, {"searches": QUERIES_VALID[3:]}],
    "PUT /collections/{c}": [
        {"vectors": {"size": DIM, "distance": "Dot"}, "hnsw_config": {"m": 8, "ef_construct": 50},
         "optimizers_config": {"deleted_threshold": 0.5, "indexing_threshold": 1000},
         "sparse_vectors": {"t": {"modifier": "idf"}}, "metadata": {"k": "v"}, "on_disk_payload": True},
        {"vectors": {"a": {"size": 2, "distance": "Euclid"}, "b": {"size": 3, "distance": "Manhattan"}},
         "shard_number": 1, "replication_factor": 1},
    ],
    "PATCH /collections/{c}": [
        {"hnsw_config": {"m": 12}, "optimizers_config": {"indexing_threshold": 1000}, "metadata": {"owner": "fuzz"}},
    ],
    "PUT /collections/{c}/index": [
        {"field_name": "tags", "field_schema": "keyword"},
        {"field_name": "price", "field_schema": {"type": "float"}},
        {"field_name": "when", "field_type": "datetime"},
    ],
}
TEMPLATE_CASES = [(key, i) for key, bodies in TEMPLATES.items() for i in range(len(bodies))]

INVALID_OPS = [
    {"upsert": {"points": [{"id": 300, "vector": {"d": [1, 2, 3]}}]}},              # wrong dimension
    {"upsert": {"points": [{"id": 301, "vector": {"nope": [1, 2, 3, 4]}}]}},        # unknown vector name
    {"upsert": {"points": [{"id": 302, "vector": {"s": [1, 2, 3, 4]}}]}},           # dense into the sparse vector
    {"upsert": {"points": [{"id": 303, "vector": {"d": {"indices": [1], "values": [1.0]}}}]}},  # sparse into dense
    {"upsert": {"points": [{"id": 304, "vector": [1, 2, 3, 4]}]}},                  # unnamed vector: there is none
    {"upsert": {"points": [{"id": -1, "vector": {"d": [1, 2, 3, 4]}}]}},            # bad id
    {"upsert": {"points": [{"id": 305, "vector": {"d": [1e39, 0, 0, 0]}}]}},        # not a float32
    {"upsert": {"points": [{"id": 306, "vector": {"d": [1, 2, 3, 4]}, "payload": [1]}]}},
    {"upsert": {"batch": {"ids": [307, 308], "vectors": {"d": [[1, 2, 3, 4]]}}}},   # one vector for two ids
    {"upsert": {"points": [{"id": 309, "vector": {"s": {"indices": [1, 1], "values": [1.0, 2.0]}}}]}},
    {"upsert": {"points": [{"id": 310, "vector": {"s": {"text": "x", "model": "no/such-model"}}}]}},
    {"update_vectors": {"points": [{"id": 999, "vector": {"d": [1, 2, 3, 4]}}]}},   # missing point
    {"update_vectors": {"points": [{"id": 1, "vector": {}}]}},                       # no vector
    {"update_vectors": {"points": []}},
    {"delete_vectors": {"vector": ["nope"], "points": [1]}},
    {"delete_vectors": {"vector": ["d"], "points": ["not-a-uuid"]}},
    {"set_payload": {"payload": {"a": 1}, "points": [1], "key": ""}},
    {"set_payload": {"payload": [1], "points": [1]}},
    {"set_payload": {"payload": {"a": 1}}},                                          # neither points nor filter
    {"overwrite_payload": {"payload": {"a": 1}, "points": [1], "key": "a"}},
    {"delete_payload": {"keys": [1], "points": [1]}},
    {"delete": {}},
    {"delete": {"points": [1], "filter": {}}},
    {"clear_payload": {"filter": {"must": [{"key": "", "match": {"value": 1}}]}}},
    {"clear_payload": {"filter": {"must": [{"key": "n"}]}}},                         # no condition
    {"delete": {"filter": {"must": [{"key": "n", "range": {"gte": "not a date"}}]}}},
    {"no_such_operation": {}},
    {"upsert": {}, "delete": {"points": [1]}},
    {"delete": {"points": [1], "shard_key": "a"}},
]


@st.composite
def mutated(draw: st.DrawFn, template: Any) -> Any:
    """`template` with one to three parts broken."""
    body = copy.deepcopy(template)
    for _ in range(draw(st.integers(1, 3))):
        body = _mutate_once(draw, body)
    return body


def _locations(value: Any, at: tuple = ()) -> list[tuple]:
    out = [at]
    if isinstance(value, dict):
        for key, item in value.items():
            out.extend(_locations(item, (*at, key)))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out.extend(_locations(item, (*at, i)))
    return out


def _replace(body: Any, at: tuple, value: Any) -> Any:
    if not at:
        return value
    holder = body
    for step in at[:-1]:
        holder = holder[step]
    holder[at[-1]] = value
    return body


BAD_VALUES = st.one_of(
    st.sampled_from([-1, 1.5, "5", "not-a-uuid", None, True, False, 0, [], {}, "", 2 ** 64, -(2 ** 63), 10 ** 30,
                     1e308, -1e308, BIG_FLOAT, "\ud800", "²", "d", "s", "nope", UUID1, [1, 2, 3], [[1, 2], [3, 4]],
                     {"bogus": 1}, [None], ["d"], {"indices": [1], "values": [1.0]},
                     {"text": "hi", "model": "qdrant/bm25"}, {"text": "hi", "model": ""}]),
    SMALL_JSON,
)


def _mutate_once(draw: st.DrawFn, body: Any) -> Any:
    at = draw(st.sampled_from(_locations(body)))
    node = body
    for step in at:
        node = node[step]
    kinds = ["replace", "wrap"]
    if isinstance(node, dict):
        kinds += ["unknown_key", "empty"] + (["drop_key"] if node else [])
    if isinstance(node, list):
        kinds += ["empty", "grow"] + (["shrink", "duplicate"] if node else [])
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        kinds += ["negate", "stringify", "huge"]
    if isinstance(node, str):
        kinds += ["case", "suffix", "rekey"]
    kind = draw(st.sampled_from(kinds))
    # Drawn values are copied: sampled constants must never be changed by a later mutation.
    if kind == "replace":
        return _replace(body, at, copy.deepcopy(draw(BAD_VALUES)))
    if kind == "wrap":
        return _replace(body, at, [copy.deepcopy(node)])
    if kind == "unknown_key":
        key = draw(st.sampled_from(["bogus", "", "vector", "points", "filter", "key", "id"]))
        node[key] = copy.deepcopy(draw(SMALL_JSON))
        return body
    if kind == "drop_key":
        del node[draw(st.sampled_from(sorted(node)))]
        return body
    if kind == "empty":
        node.clear()
        return body
    if kind == "grow":  # for a vector: one dimension too many
        node.append(copy.deepcopy(draw(st.sampled_from([0.5, 1, None, "x", [1.0]])) if not node else node[-1]))
        return body
    if kind == "shrink":  # for a vector: one dimension too few
        node.pop()
        return body
    if kind == "duplicate":
        node.append(copy.deepcopy(node[0]))
        return body
    if kind == "negate":
        return _replace(body, at, -node if node else -1)
    if kind == "stringify":
        return _replace(body, at, str(node))
    if kind == "huge":
        return _replace(body, at, draw(st.sampled_from([2 ** 64, 10 ** 30, 1e308, BIG_FLOAT, 2 ** 63])))
    if kind == "rekey":  # e.g. a filter on another payload key, whose stored values differ
        return _replace(body, at, draw(st.sampled_from(PAYLOAD_KEYS)))
    if kind == "case":
        return _replace(body, at, node.upper() if node.upper() != node else node.lower() + "x")
    return _replace(body, at, node + draw(st.sampled_from([".", "[]", " ", "\x00", "²", "x"])))


# ---------------------------------------------------------------------------------- filters

FILTER_KEYS = st.one_of(st.sampled_from(PAYLOAD_KEYS), st.text(min_size=1, max_size=6))
MATCH_VALUES = st.one_of(st.booleans(), INTS, st.text(max_size=6), st.sampled_from(["Berlin", "Paris", "five"]))
BOUNDS = st.sampled_from(["gt", "gte", "lt", "lte"])
DATETIMES = st.sampled_from(["2024-01-01T00:00:00Z", "2024-01-31", "2024-01-31 12:00", "2030-01-01T00:00:00+02:00"])
COUNTS = st.one_of(st.integers(0, 5), st.sampled_from([2 ** 31, 2 ** 63, 2 ** 64 - 1]))


def _field(kind: str, value_strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.builds(lambda key, value: {"key": key, kind: value}, FILTER_KEYS, value_strategy)


CONDITIONS = st.one_of(
    _field("match", st.builds(lambda v: {"value": v}, MATCH_VALUES)),
    _field("match", st.builds(lambda kind, vs: {kind: vs}, st.sampled_from(["any", "except"]),
                              st.one_of(st.lists(INTS, max_size=3), st.lists(st.text(max_size=5), max_size=3)))),
    _field("match", st.builds(lambda kind, text: {kind: text}, st.sampled_from(["text", "text_any", "phrase", "prefix"]),
                              st.text(max_size=8))),
    _field("range", st.one_of(st.dictionaries(BOUNDS, st.one_of(INTS, FLOATS), min_size=1, max_size=2),
                              st.dictionaries(BOUNDS, DATETIMES, min_size=1, max_size=2))),
    _field("datetime_range", st.dictionaries(BOUNDS, DATETIMES, min_size=1, max_size=2)),
    _field("values_count", st.dictionaries(BOUNDS, COUNTS, min_size=1, max_size=2)),
    _field("is_empty", st.booleans()),
    _field("is_null", st.booleans()),
    st.builds(lambda key: {"is_empty": {"key": key}}, FILTER_KEYS),
    st.builds(lambda key: {"is_null": {"key": key}}, FILTER_KEYS),
    st.builds(lambda ids: {"has_id": ids}, st.lists(st.sampled_from([1, 2, 5, 999, UUID1, UUID2]), max_size=3)),
    st.builds(lambda name: {"has_vector": name}, st.sampled_from(["d", "s", "nope"])),
)


def _filter(conditions: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional={
        "must": st.one_of(conditions, st.lists(conditions, max_size=2)),
        "should": st.lists(conditions, max_size=2),
        "must_not": st.lists(conditions, max_size=2),
        "min_should": st.builds(lambda cs, n: {"conditions": cs, "min_count": n},
                                st.lists(conditions, min_size=1, max_size=2), st.integers(1, 2)),
    })


FILTERS = _filter(st.one_of(
    CONDITIONS, CONDITIONS, CONDITIONS,
    _filter(CONDITIONS).filter(bool),
    st.builds(lambda key, flt: {"nested": {"key": key, "filter": flt}}, FILTER_KEYS, _filter(CONDITIONS)),
))
# Where a filter goes: the route and a body holding it (a write first does something valid where it can).
FILTER_USES = [
    ("POST /collections/{c}/points/count", lambda f: {"filter": f}),
    ("POST /collections/{c}/points/scroll", lambda f: {"filter": f, "limit": 3, "with_payload": True}),
    ("POST /collections/{c}/points/query", lambda f: {"query": D, "using": "d", "filter": f}),
    ("POST /collections/{c}/points/query", lambda f: {"prefetch": {"query": [1, 0, 0, 0], "using": "d", "filter": f},
                                                      "query": {"fusion": "dbsf"}}),
    ("POST /collections/{c}/points/query", lambda f: {"query": {"indices": [1], "values": [1.0]}, "using": "s",
                                                      "params": {"idf": {"corpus": f}}}),
    ("POST /collections/{c}/points/delete", lambda f: {"filter": f}),
    ("POST /collections/{c}/points/payload", lambda f: {"payload": {"x": 1}, "filter": f}),
    ("POST /collections/{c}/points/vectors/delete", lambda f: {"vector": ["s"], "filter": f}),
    ("PUT /collections/{c}/points", lambda f: {"points": [{"id": 1, "vector": {"d": D}}, {"id": 2, "vector": {"d": D}}],
                                               "update_filter": f}),
    ("POST /collections/{c}/points/batch", lambda f: {"operations": [VALID_OPS[0], {"delete": {"filter": f}}]}),
    ("POST /collections/{c}/points/batch", lambda f: {"operations": [VALID_OPS[2], {"clear_payload": {"filter": f}},
                                                                     VALID_OPS[9]]}),
]


# ---------------------------------------------------------------------------------- raw bytes

def _deep(depth: int) -> bytes:
    """A valid upsert whose payload nests `depth` lists."""
    return (b'{"points":[{"id":77,"vector":{"d":[1,2,3,4]},"payload":{"a":' + b"[" * depth + b"]" * depth + b"}}]}")


RAW_SAMPLES = [
    b"", b" ", b"\n", b"{", b"}", b"[", b"null", b"true", b"0", b"-1", b'"x"', b"{}", b"[]", b"\xff\xfe\x00",
    b"\xef\xbb\xbf{}", b"{'a': 1}", b'{"a": NaN}', b'{"a": Infinity}', b'{"a": -Infinity}', b"NaN",
    b'{"a":1,}', b'{"a":1}{"b":2}', b'{"a":1} x', b'{"points": [}', b'{"limit": 1e999}', b'{"limit": 1.0}',
    b'{"limit": 10e0}', b'{"limit": 01}', b'{"a": "\\ud800"}', b'{"a": "\xff"}', b'{"ids": [1]}\x00',
    b'{"points": [], "points": [1]}', b"[" * 100_000, b"{\"a\":" * 50_000,
    b'{"points":[{"id":78,"vector":{"d":[1e999,0,0,0]}}]}',
    b'{"points":[{"id":79,"vector":{"d":[1,2,3,4]},"payload":{"x":1e999}}]}',
    b'{"points":[{"id":80,"vector":{"d":[1,2,3,4]},"payload":{"x":"\\ud800"}}]}',
    b'{"points":[{"id":81,"vector":{"d":[1,2,3,4]},"payload":{"\\udfff":1}}]}',
    b'{"points":[{"id":82.0,"vector":{"d":[1,2,3,4]}}]}',
    b'{"points":[{"id":83,"vector":{"d":[1,2,3,4]},"payload":{"a":1,"a":2}}]}',
    b'{"points":[{"id":84,"vector":{"d":[1,2,3,4]},"payload":{"n":99999999999999999999999}}]}',
    b'{"points":[{"id":85,"vector":{"s":{"indices":[1],"values":[1e308]}}}]}',
    b'{"points":[{"id":86,"vector":{"s":{"indices":[1],"values":[1e999]}}}]}',
    b'{"points":[{"id":87,"vector":{"d":[1e38,1e38,1e38,1e38]}}]}',
    b'{"query":{"indices":[1],"values":[1e308]},"using":"s","with_vector":true}',
    b'{"query":[1e38,1e38,0,0],"using":"d","score_threshold":1e999}',
    b'{"prefetch":[{"query":[1,2,3,4],"using":"d"}],"query":{"rrf":{"weights":[1e999]}}}',
    _deep(100), _deep(450), _deep(490), _deep(500), _deep(700), _deep(990), _deep(5000),
]
RAW_BODIES = st.one_of(st.binary(max_size=120), st.text(max_size=60).map(str.encode), st.sampled_from(RAW_SAMPLES))


# ---------------------------------------------------------------------------------- tests


@pytest.mark.parametrize("key,index", TEMPLATE_CASES, ids=[f"{k}#{i}" for k, i in TEMPLATE_CASES])
def test_valid_templates_are_accepted(fixed, key, index):
    """The bodies the mutations start from are valid, so a mutated one is nearly valid."""
    route = ROUTE[key]
    collection = FRESH if route.kind == "create" else COLL
    fixed.fresh_snapshot()
    reply = run(fixed, route, TEMPLATES[key][index], collection=collection, query={"wait": "true"})
    assert reply.status == 200, f"a valid body was refused{reply}"


@given(data=st.data())
@_settings(300)
def test_arbitrary_json_on_every_route(fixed, data):
    route = data.draw(st.sampled_from(ROUTES), "route")
    body = data.draw(JSON, "body")
    if route.kind == "create":
        collection = data.draw(st.sampled_from([COLL, FRESH]), "collection")
    elif route.kind == "drop":
        collection = data.draw(st.sampled_from([MISSING, FRESH]), "collection")
    else:
        collection = data.draw(st.sampled_from([COLL, COLL, COLL, MISSING]), "collection")
    run(fixed, route, body, collection=collection, point=data.draw(st.sampled_from(["1", UUID1, "999"]), "id"),
        field=data.draw(st.sampled_from(["city", "n", "nope"]), "field"), query={"wait": "true"})


@given(data=st.data())
@_settings(400)
def test_nearly_valid_bodies(fixed, data):
    key = data.draw(st.sampled_from(sorted(TEMPLATES)), "route")
    route = ROUTE[key]
    template = data.draw(st.sampled_from(TEMPLATES[key]), "template")
    body = data.draw(mutated(template), "body")
    collection = FRESH if route.kind == "create" else COLL
    run(fixed, route, body, collection=collection, query={"wait": "true"})


def _filter_uses(kinds: tuple[str, ...]) -> st.SearchStrategy:
    return st.sampled_from([(key, build) for key, build in FILTER_USES if ROUTE[key].kind in kinds])


@given(use=_filter_uses(("read",)), flt=FILTERS)
@_settings(200)
def test_filters_in_reads(fixed, use, flt):
    """Valid filters of every kind, over keys whose stored values have various types."""
    key, build = use
    run(fixed, ROUTE[key], build(flt))


@given(use=_filter_uses(("write",)), flt=FILTERS)
@_settings(100)
def test_filters_in_writes(fixed, use, flt):
    """The same in writes; some run a valid operation before the filtered one."""
    key, build = use
    run(fixed, ROUTE[key], build(flt), query={"wait": "true"})


@given(data=st.data())
@_settings(150)
def test_raw_bytes_that_are_not_json(fixed, data):
    route = data.draw(st.sampled_from([r for r in ROUTES if r.kind != "drop"]), "route")
    raw = data.draw(RAW_BODIES, "raw")
    collection = FRESH if route.kind == "create" else COLL
    run(fixed, route, raw=raw, collection=collection, query={"wait": "true"})


@given(valid=st.lists(st.sampled_from(VALID_OPS), min_size=1, max_size=3),
       invalid=st.sampled_from(INVALID_OPS),
       tail=st.lists(st.sampled_from(VALID_OPS), max_size=1),
       wait=st.sampled_from(["true", "false"]))
@_settings(120)
def test_batch_with_a_bad_operation_writes_nothing(fixed, valid, invalid, tail, wait):
    """Valid operations first, an invalid one later: the whole batch is refused and nothing of it stays."""
    reply = run(fixed, ROUTE["POST /collections/{c}/points/batch"], {"operations": [*valid, invalid, *tail]},
                query={"wait": wait})
    assert reply.status != 200, f"a batch holding an invalid operation was accepted{reply}"


def _collection_name_checks(fixed: FixedCollection, name: str, body: Any) -> None:
    run(fixed, ROUTE["PUT /collections/{c}"], body, collection=name)
    for key in ("GET /collections/{c}", "GET /collections/{c}/exists", "POST /collections/{c}/points/scroll"):
        run(fixed, ROUTE[key], collection=name)
    run(fixed, ROUTE["DELETE /collections/{c}"], collection=name)


@given(data=st.data())
@_settings(100)
def test_collection_names(fixed, data):
    """Create (with a valid or broken body), inspect and delete collections of random names."""
    name = data.draw(COLLECTION_NAMES, "name")
    template = data.draw(st.sampled_from(TEMPLATES["PUT /collections/{c}"]), "template")
    body = data.draw(st.one_of(st.just(template), mutated(template)), "body")
    _collection_name_checks(fixed, name, body)


def _each(cases: list[tuple[str, Any]], check: Any) -> None:
    """Run every case and report all that fail, not only the first."""
    failures = []
    for label, case in cases:
        try:
            check(case)
        except AssertionError as exc:
            failures.append(f"{label}: {exc}")
    assert not failures, f"{len(failures)} of {len(cases)} failed:\n\n" + "\n\n".join(failures)


def test_collection_name_samples(fixed):
    body = TEMPLATES["PUT /collections/{c}"][0]
    _each([(f"name {n!r} ({len(n.encode())} bytes)", n) for n in NAME_SAMPLES],
          lambda name: _collection_name_checks(fixed, name, body))


@pytest.mark.parametrize("key", ["PUT /collections/{c}/points", "POST /collections/{c}/points/scroll",
                                 "POST /collections/{c}/points/query", "PUT /collections/{c}"])
def test_raw_samples(fixed, key):
    """Every listed raw body, on a write and a query (required bodies), a scroll and a create (optional ones)."""
    route = ROUTE[key]
    collection = FRESH if route.kind == "create" else COLL

    def label(raw: bytes) -> str:
        shown = raw if len(raw) <= 100 else raw[:60] + b"..." + raw[-30:]
        return f"raw body {shown!r} ({len(raw)} bytes)"

    _each([(label(raw), raw) for raw in RAW_SAMPLES],
          lambda raw: run(fixed, route, raw=raw, collection=collection, query={"wait": "true"}))


def test_path_samples(fixed):
    point, index = ROUTE["GET /collections/{c}/points/{id}"], ROUTE["DELETE /collections/{c}/index/{field}"]
    cases = [(f"point id {i!r}", lambda i=i: run(fixed, point, point=i)) for i in PATH_ID_SAMPLES]
    cases += [(f"field {f!r}", lambda f=f: run(fixed, index, field=f, query={"wait": "true"})) for f in FIELD_SAMPLES]
    _each(cases, lambda case: case())


@given(point=PATH_IDS)
@_settings(50)
def test_point_ids_in_the_path(fixed, point):
    run(fixed, ROUTE["GET /collections/{c}/points/{id}"], point=point)


@given(field=FIELDS)
@_settings(30)
def test_index_fields_in_the_path(fixed, field):
    run(fixed, ROUTE["DELETE /collections/{c}/index/{field}"], field=field, query={"wait": "true"})


def test_query_parameter_samples(fixed):
    """Each parameter with each listed value, on a read and on a write."""
    routes = [ROUTE["POST /collections/{c}/points/count"], ROUTE["POST /collections/{c}/points/payload/clear"]]
    cases = [(f"{route} ?{name}={value!r}", (route, {name: value}))
             for route in routes for name in QUERY_NAMES for value in QUERY_SAMPLES]
    _each(cases, lambda case: run(fixed, case[0], TEMPLATES[f"{case[0].method} {case[0].path}"][0], query=case[1]))


@given(data=st.data())
@_settings(100)
def test_query_parameters(fixed, data):
    route = data.draw(st.sampled_from([r for r in ROUTES if r.kind in ("read", "write")]), "route")
    template = TEMPLATES.get(f"{route.method} {route.path}", [NO_BODY])[0]
    run(fixed, route, template, query=data.draw(QUERIES, "query"))


def test_server_memory_is_bounded(fixed):
    """Last: after all the fuzzing above the server is alive and its resident memory bounded."""
    proc = fixed.server.proc
    assert proc is not None and proc.poll() is None, fixed.server.log()[-3000:]
    status = Path(f"/proc/{proc.pid}/status").read_text()
    rss_kib = int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))
    assert rss_kib < 1536 * 1024, f"server RSS {rss_kib // 1024} MiB"
