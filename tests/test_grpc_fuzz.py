"""Property-based fuzzing of the gRPC door (qdrant.Points, qdrant.Collections, qdrant.Qdrant) with hypothesis.

Every method of the three services, as qdrant-client's descriptors list them (the ones vecinfer
does not serve must answer UNIMPLEMENTED), gets:
  1. random bytes, and listed byte strings that are not a valid message (corrupt wire format,
     invalid UTF-8 in a string, nesting past protobuf's depth limit, ...),
  2. structurally valid messages built from qdrant_client.grpc's message classes with random
     field values: ids (empty PointId too), vectors of any length with NaN / inf, huge numbers,
     filters and payload values nested up to 90 (filters) or 150 (payloads) levels, unicode and
     control characters, unknown collection names, empty oneofs, unknown enum numbers,
     A second kind starts from a valid message of a served method and changes one to three of its
     fields anywhere in the tree (random value, cleared, repeated grown / shrunk / duplicated);
  3. valid messages of each served method with one to three byte-level mutations (flip, set,
     insert, delete, duplicate, truncate, a huge length), sent raw.
Listed edge cases (LISTED, RAW_SAMPLES, deep nestings at the limits) run on every run besides.

Every call must answer within CALL_TIMEOUT (a hang fails), with one of the statuses Qdrant's
clients handle (never INTERNAL, UNKNOWN or DATA_LOSS; UNAVAILABLE only for requests that carry an
inference object, whose providers point at an unreachable port), with details that are non-empty
and short; an OK answer must decode as the method's response type. After every example the server
is alive and its RSS under RSS_LIMIT. A write answered with an error must leave the collection
exactly as it was: write examples snapshot the collection (all points with payloads and vectors,
the count, the config and the payload indexes) before and after; one answered OK must leave it
readable. Last, a restart must read the same collection back.

The test process never imports vecinfer's generated protos (they clash with qdrant_client's in one
descriptor pool): it builds requests with qdrant_client.grpc and sends them serialized, through
`channel.unary_unary(path)` without serializers, to one server started for the module.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import message_factory, text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from qdrant_client import grpc as qgrpc

from conftest import ServerProcess

COLL = "fuzz"             # the fixed collection every collection-scoped request targets
MISSING = "fuzz_missing"  # a collection that never exists
FRESH = "fuzz_fresh"      # what valid create requests create (and the test deletes again)
DIM = 4
UUID1 = "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"
UUID2 = "0e3f4a6b-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
CALL_TIMEOUT = 20.0          # seconds; no request here needs more than a fraction of one
RSS_LIMIT = 1536 * 1024 ** 2  # bytes of server memory
DETAILS_LIMIT = 1000          # characters of status details

C = grpc.StatusCode
ALLOWED = {C.OK, C.INVALID_ARGUMENT, C.NOT_FOUND, C.ALREADY_EXISTS, C.UNIMPLEMENTED, C.RESOURCE_EXHAUSTED,
           C.FAILED_PRECONDITION}
# Requests with an inference object may also find its provider unreachable.
ALLOWED_WITH_INFERENCE = ALLOWED | {C.UNAVAILABLE}
INFERENCE_TYPES = {"qdrant.Document", "qdrant.Image", "qdrant.InferenceObject"}


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.filter_too_much])


def _note(text: str) -> None:
    try:
        note(text)
    except Exception:  # outside a hypothesis test
        pass


# ---------------------------------------------------------------------------------- methods

WRITES = {
    "Points": {"Upsert", "Delete", "UpdateVectors", "DeleteVectors", "SetPayload", "OverwritePayload",
               "DeletePayload", "ClearPayload", "CreateFieldIndex", "DeleteFieldIndex", "UpdateBatch",
               "CreateVectorName", "DeleteVectorName"},
    "Collections": {"Update", "UpdateAliases", "UpdateCollectionClusterSetup", "CreateShardKey", "DeleteShardKey"},
}


@dataclass(frozen=True)
class Method:
    service: str
    name: str
    request: type[Message]
    response: type[Message]
    kind: str  # read | write | create | drop

    @property
    def path(self) -> str:
        return f"/qdrant.{self.service}/{self.name}"

    def __str__(self) -> str:
        return self.path


def _kind(service: str, name: str) -> str:
    if service == "Collections" and name == "Create":
        return "create"
    if service == "Collections" and name == "Delete":
        return "drop"
    return "write" if name in WRITES.get(service, set()) else "read"


def _methods() -> list[Method]:
    found = []
    for module, service in ((qgrpc.qdrant_pb2, "Qdrant"), (qgrpc.collections_service_pb2, "Collections"),
                            (qgrpc.points_service_pb2, "Points")):
        for m in module.DESCRIPTOR.services_by_name[service].methods:
            found.append(Method(service, m.name, message_factory.GetMessageClass(m.input_type),
                                message_factory.GetMessageClass(m.output_type), _kind(service, m.name)))
    return found


METHODS = _methods()
METHOD = {m.path: m for m in METHODS}


# ---------------------------------------------------------------------------------- wire helpers

def _varint(n: int) -> bytes:
    out = bytearray()
    n &= (1 << 64) - 1
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _ld(number: int, payload: bytes) -> bytes:
    """A length-delimited field (a sub-message or a string)."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _no(cls: Any, field: str) -> int:
    return cls.DESCRIPTOR.fields_by_name[field].number


def _has_inference(msg: Message) -> bool:
    if msg.DESCRIPTOR.full_name in INFERENCE_TYPES:
        return True
    for field, value in msg.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            items = value.values() if field.message_type.fields_by_name["value"].message_type else []
        elif field.is_repeated:
            items = value
        else:
            items = [value]
        if any(_has_inference(item) for item in items):
            return True
    return False


def _parsed(method: Method, raw: bytes) -> Message | None:
    try:
        return method.request.FromString(raw)
    except Exception:
        return None


def _render(method: Method, raw: bytes) -> str:
    shown = raw if len(raw) <= 300 else raw[:200] + b"..." + raw[-60:]
    text = f"{shown!r} ({len(raw)} bytes)"
    parsed = _parsed(method, raw)
    if parsed is not None and raw:
        fields = text_format.MessageToString(parsed, as_utf8=True, as_one_line=True)
        text += f"\n  as text:  {fields[:800]}"
    return text


# ---------------------------------------------------------------------------------- the door


@dataclass
class Reply:
    method: Method
    sent: bytes
    code: grpc.StatusCode
    details: str
    data: bytes | None
    seconds: float

    def __str__(self) -> str:
        answer = f"{self.code.name} {self.details[:600]!r}" if self.code != C.OK else f"OK ({len(self.data or b'')} bytes)"
        return (f"\n  method:   {self.method}\n  request:  {_render(self.method, self.sent)}"
                f"\n  response: {answer} after {self.seconds:.2f}s")


def _value(obj: Any) -> qgrpc.Value:
    if obj is None:
        return qgrpc.Value(null_value=qgrpc.NullValue.NULL_VALUE)
    if isinstance(obj, bool):
        return qgrpc.Value(bool_value=obj)
    if isinstance(obj, int):
        return qgrpc.Value(integer_value=obj)
    if isinstance(obj, float):
        return qgrpc.Value(double_value=obj)
    if isinstance(obj, str):
        return qgrpc.Value(string_value=obj)
    if isinstance(obj, list):
        return qgrpc.Value(list_value=qgrpc.ListValue(values=[_value(v) for v in obj]))
    return qgrpc.Value(struct_value=qgrpc.Struct(fields=_payload(obj)))


def _payload(obj: dict[str, Any]) -> dict[str, qgrpc.Value]:
    return {k: _value(v) for k, v in obj.items()}


def _pid(pid: int | str) -> qgrpc.PointId:
    return qgrpc.PointId(num=pid) if isinstance(pid, int) else qgrpc.PointId(uuid=pid)


def _dense(data: list[float]) -> qgrpc.Vector:
    return qgrpc.Vector(dense=qgrpc.DenseVector(data=data))


def _sparse(indices: list[int], values: list[float]) -> qgrpc.Vector:
    return qgrpc.Vector(sparse=qgrpc.SparseVector(indices=indices, values=values))


def _named(**vectors: qgrpc.Vector) -> qgrpc.Vectors:
    return qgrpc.Vectors(vectors=qgrpc.NamedVectors(vectors=vectors))


def _point(pid: int | str, payload: dict[str, Any] | None = None, **vectors: qgrpc.Vector) -> qgrpc.PointStruct:
    return qgrpc.PointStruct(id=_pid(pid), vectors=_named(**vectors), payload=_payload(payload or {}))


def _match(key: str, **match: Any) -> qgrpc.Condition:
    return qgrpc.Condition(field=qgrpc.FieldCondition(key=key, match=qgrpc.Match(**match)))


def _ids(*ids: int | str) -> qgrpc.PointsSelector:
    return qgrpc.PointsSelector(points=qgrpc.PointsIdsList(ids=[_pid(i) for i in ids]))


def _by_filter(flt: qgrpc.Filter) -> qgrpc.PointsSelector:
    return qgrpc.PointsSelector(filter=flt)


SEED_POINTS = [
    _point(1, {"city": "Berlin", "n": 1, "tags": ["a", "b"], "nested": {"x": 1, "y": [1, 2]}},
           d=_dense([1, 0, 0, 0]), s=_sparse([1, 5], [0.5, 1.0])),
    _point(2, {"city": "Paris", "n": 2, "price": 9.5}, d=_dense([0, 1, 0, 0])),
    _point(3, {"city": "Rome", "n": 3, "flag": True, "none": None}, d=_dense([0, 0, 1, 0]), s=_sparse([2], [0.25])),
    _point(4, {}, d=_dense([0.5, 0.5, 0.5, 0.5])),
    _point(5, {"city": ["Paris", 7, None], "n": "five", "tags": "solo", "flag": 1, "big": 2 ** 63 - 1},
           d=_dense([0, 0, 0, 1])),
    _point(UUID1, {"city": "Berlin", "when": "2024-01-31T12:00:00Z", "txt": "hello fuzzy world"},
           d=_dense([1, 1, 0, 0]), s=_sparse([7, 9], [1.0, 2.0])),
]


def _create_request(name: str) -> qgrpc.CreateCollection:
    return qgrpc.CreateCollection(
        collection_name=name,
        vectors_config=qgrpc.VectorsConfig(params_map=qgrpc.VectorParamsMap(
            map={"d": qgrpc.VectorParams(size=DIM, distance=qgrpc.Distance.Cosine)})),
        sparse_vectors_config=qgrpc.SparseVectorConfig(map={"s": qgrpc.SparseVectorParams()}),
    )


class Door:
    """The server's gRPC door, the fixed collection it is fuzzed against, and a way back to it."""

    def __init__(self, server: ServerProcess):
        self.server = server
        self.dirs = server.storage_dir / "collections"
        self.connect()
        self.served = self._served()
        self.reseed()
        self.baseline = self.snapshot()
        assert self.baseline["count"] == len(SEED_POINTS)

    def connect(self) -> None:
        self.channel = grpc.insecure_channel(self.server.grpc_address, options=[
            ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)])
        self.points = qgrpc.PointsStub(self.channel)
        self.collections = qgrpc.CollectionsStub(self.channel)
        self.callables: dict[str, Any] = {}

    def _served(self) -> set[str]:
        """The methods of the three services the server lists through reflection."""
        from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

        database = ProtoReflectionDescriptorDatabase(self.channel)
        served = set()
        for service in ("qdrant.Qdrant", "qdrant.Collections", "qdrant.Points"):
            file = database.FindFileContainingSymbol(service)
            for s in file.service:
                if f"{file.package}.{s.name}" == service:
                    served |= {f"/{service}/{m.name}" for m in s.method}
        return served

    # ------------------------------------------------------------------ calls

    def call(self, method: Method | str, raw: bytes) -> Reply:
        method = METHOD[method] if isinstance(method, str) else method
        stub = self.callables.get(method.path)
        if stub is None:
            stub = self.callables[method.path] = self.channel.unary_unary(
                method.path, request_serializer=None, response_deserializer=None)
        start = time.monotonic()
        try:
            data = stub(raw, timeout=CALL_TIMEOUT)
            reply = Reply(method, raw, C.OK, "", data, time.monotonic() - start)
        except grpc.RpcError as exc:
            reply = Reply(method, raw, exc.code(), exc.details() or "", None, time.monotonic() - start)
        _note(str(reply))
        return reply

    def rss(self) -> int:
        assert self.server.proc is not None
        with open(f"/proc/{self.server.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS in /proc/<pid>/status")

    def alive(self) -> bool:
        return self.server.proc is not None and self.server.proc.poll() is None

    # ------------------------------------------------------------------ state

    def reseed(self) -> None:
        self.collections.Delete(qgrpc.DeleteCollection(collection_name=COLL), timeout=CALL_TIMEOUT)
        self.collections.Create(_create_request(COLL), timeout=CALL_TIMEOUT)
        for field, kind in (("city", qgrpc.FieldType.FieldTypeKeyword), ("n", qgrpc.FieldType.FieldTypeInteger)):
            self.points.CreateFieldIndex(qgrpc.CreateFieldIndexCollection(
                collection_name=COLL, field_name=field, field_type=kind, wait=True), timeout=CALL_TIMEOUT)
        self.points.Upsert(qgrpc.UpsertPoints(collection_name=COLL, wait=True, points=SEED_POINTS), timeout=CALL_TIMEOUT)

    def snapshot(self) -> dict[str, Any]:
        """Everything a write can change (not the optimizer's segment counts or status colour)."""
        info = self.collections.Get(qgrpc.GetCollectionInfoRequest(collection_name=COLL), timeout=CALL_TIMEOUT).result
        page = self.points.Scroll(qgrpc.ScrollPoints(
            collection_name=COLL, limit=100_000, with_payload=qgrpc.WithPayloadSelector(enable=True),
            with_vectors=qgrpc.WithVectorsSelector(enable=True)), timeout=CALL_TIMEOUT)
        count = self.points.Count(qgrpc.CountPoints(collection_name=COLL, exact=True), timeout=CALL_TIMEOUT)
        return {"config": MessageToDict(info.config),
                "payload_schema": {k: MessageToDict(v) for k, v in sorted(info.payload_schema.items())},
                "points_count": info.points_count, "count": count.result.count,
                "points": sorted((MessageToDict(p) for p in page.result), key=json.dumps)}

    def fresh_snapshot(self) -> dict[str, Any]:
        """The state before one write example: the baseline (restored if an earlier example changed it)."""
        try:
            before = self.snapshot()
        except grpc.RpcError:
            before = None
        if before != self.baseline:
            self.reseed()
            before = self.snapshot()
            assert before == self.baseline
        return before

    def names(self) -> list[str]:
        listed = self.collections.List(qgrpc.ListCollectionsRequest(), timeout=CALL_TIMEOUT)
        return sorted(c.name for c in listed.collections)

    def directories(self) -> set[str]:
        return {p.name for p in self.dirs.iterdir()} if self.dirs.exists() else set()


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
def door(tmp_path_factory) -> Door:
    tmp = tmp_path_factory.mktemp("grpc_fuzz")
    unreachable = "http://127.0.0.1:9"  # no fuzzed inference object may reach the network
    server = ServerProcess(tmp / "storage", tmp / "server.log", env={
        "VECINFER_OPENAI_BASE_URL": unreachable, "VECINFER_COHERE_BASE_URL": unreachable,
        "VECINFER_JINA_BASE_URL": unreachable, "VECINFER_OPENROUTER_BASE_URL": unreachable,
        "VECINFER_PROVIDER_MAX_ATTEMPTS": "1", "VECINFER_IMAGE_FETCH_TIMEOUT_SECONDS": "2",
        # Checkpoints (snapshot + log reset) after almost every write, so fuzzed writes run through them too.
        "VECINFER_WAL_CHECKPOINT_BYTES": "4096",
    }).start()
    door = None
    try:
        door = Door(server)
        yield door
    finally:
        if door is not None:
            door.channel.close()
        server.stop()


# ---------------------------------------------------------------------------------- checks


def expect(condition: bool, message: str) -> None:
    """`assert` without pytest's rewriting: the message alone says what went wrong."""
    if not condition:
        raise AssertionError(message)


def check_reply(door: Door, reply: Reply, inference: bool) -> None:
    expect(door.alive(), f"the server died{reply}\n{door.server.log()[-3000:]}")
    expect(not (reply.code == C.DEADLINE_EXCEEDED and reply.seconds >= CALL_TIMEOUT * 0.9),
           f"no answer within {CALL_TIMEOUT}s (hang){reply}")
    if reply.method.path not in door.served:
        expect(reply.code == C.UNIMPLEMENTED, f"a method vecinfer does not serve should answer UNIMPLEMENTED{reply}")
    allowed = ALLOWED_WITH_INFERENCE if inference else ALLOWED
    expect(reply.code in allowed, f"status {reply.code.name} is not one of {sorted(c.name for c in allowed)}{reply}")
    if reply.code == C.OK:
        try:
            reply.method.response.FromString(reply.data or b"")
        except Exception as exc:
            raise AssertionError(f"the answer does not decode as {reply.method.response.__name__}: {exc}{reply}") from None
    else:
        expect(bool(reply.details.strip()), f"an error without details{reply}")
        expect(len(reply.details) < DETAILS_LIMIT, f"details of {len(reply.details)} characters{reply}")
    rss = door.rss()
    expect(rss < RSS_LIMIT, f"server RSS {rss >> 20} MiB is over {RSS_LIMIT >> 20} MiB{reply}")


def run(door: Door, method: Method | str, request: Message | bytes, inference: bool | None = None) -> Reply:
    """Send one request (a message or raw bytes) and check its answer, and for writes that an error changed nothing."""
    method = METHOD[method] if isinstance(method, str) else method
    raw = request if isinstance(request, bytes) else request.SerializeToString()
    if inference is None:
        if isinstance(request, Message):
            inference = _has_inference(request)
        else:
            parsed = _parsed(method, raw)
            inference = parsed is not None and _has_inference(parsed)

    if method.path not in door.served or method.kind == "read":
        reply = door.call(method, raw)
        check_reply(door, reply, inference)
        return reply
    if method.kind == "write":
        before = door.fresh_snapshot()
        reply = door.call(method, raw)
        problems = []  # a partial write or an unreadable collection first, then what is wrong with the answer
        try:
            after = door.snapshot()
        except grpc.RpcError as exc:
            door.reseed()  # the next examples start from the fixed collection again
            problems.append(f"after this write{reply}\nthe collection cannot be read back (Scroll of all points "
                            f"with payloads): {exc.code().name} {exc.details()!r}")
        else:
            if reply.code != C.OK and after != before:
                problems.append(f"an error answer, but the collection changed (partial write):{reply}\n"
                                f"{_diff(before, after)}")
            if after != before:
                door.reseed()  # every example starts from the same collection
        try:
            check_reply(door, reply, inference)
        except AssertionError as exc:
            problems.append(str(exc))
        expect(not problems, "\n\n".join(problems))
        return reply
    if method.kind == "create":
        names, dirs = door.names(), door.directories()
        before = door.fresh_snapshot()
        reply = door.call(method, raw)
        problems = []  # what the collections and storage show first, then what is wrong with the answer
        now = door.names()
        if reply.code == C.OK:
            new = set(now) - set(names)
            parsed = _parsed(method, raw)
            if parsed is None or new != {parsed.collection_name}:
                problems.append(f"created, but the new collections are {sorted(new)}{reply}")
            for name in new:
                gone = door.collections.Delete(qgrpc.DeleteCollection(collection_name=name), timeout=CALL_TIMEOUT)
                expect(gone.result, f"cannot delete what was created{reply}")
        else:
            if now != names:
                problems.append(f"an error answer, but the collections changed: {names} -> {now}{reply}")
            left = door.directories() - dirs
            if left:
                problems.append(f"an error answer, but storage directories were left behind: {sorted(left)}{reply}")
        after = door.snapshot()
        if after != before:
            problems.append(f"creating a collection changed `{COLL}`:{reply}\n{_diff(before, after)}")
        try:
            check_reply(door, reply, inference)
        except AssertionError as exc:
            problems.append(str(exc))
        expect(not problems, "\n\n".join(problems))
        return reply
    assert method.kind == "drop"
    names = door.names()
    reply = door.call(method, raw)
    check_reply(door, reply, inference)
    now = door.names()
    removed = set(names) - set(now)
    expect(set(now) <= set(names) and len(removed) <= 1, f"collections changed: {names} -> {now}{reply}")
    if reply.code == C.OK:
        result = qgrpc.CollectionOperationResponse.FromString(reply.data or b"").result
        expect(result == bool(removed), f"result {result}, but removed {sorted(removed)}{reply}")
    else:
        expect(not removed, f"an error answer, but {sorted(removed)} was deleted{reply}")
    if COLL in removed:
        door.reseed()
    return reply


# ---------------------------------------------------------------------------------- value strategies

PAYLOAD_KEYS = ["city", "n", "tags", "nested", "nested.x", "nested.y", "nested.y[]", "tags[]", "price", "flag",
                "none", "when", "txt", "big", "missing", "", ".", "a..b", "[]", "a[0]", "\x00", "é"]
VECTOR_NAMES = ["d", "s", "", "nope", "D", "d ", "\x00"]
MODELS = ["qdrant/bm25", "Qdrant/BM25", "bm25", "", "sentence-transformers/all-minilm-l6-v2",
          "openai/text-embedding-3-small", "cohere/embed-english-v3.0", "jinaai/jina-clip-v2", "openrouter/x/y",
          "no/such-model", "openai/", "/", "x" * 300]
UUIDS = [UUID1, UUID2, UUID1.upper(), "not-a-uuid", "", "{" + UUID1 + "}", "urn:uuid:" + UUID1,
         UUID1.replace("-", ""), "5c56c793-69f3-4fbf-87e6-c4bf54c28c2g", "00000000-0000-0000-0000-000000000000",
         "١" * 36]
NAME_SAMPLES = [MISSING, FRESH, "", ".", "..", "a/b", "a\\b", "\x00", " ", "x" * 255,
                "x" * 256, "é" * 128, "x" * 5000, "ﬁ", "\u200b", "fuzz\x00", "FUZZ", "fuzz "]
TEXT_SAMPLES = ["", "hello fuzzy world", "Berlin", "Paris", "five", "\x00", "\ud7ff\ue000", "a" * 2000, "²", "١٢",
                "2024-01-31T12:00:00Z", "\u202e\u0301", "🙂" * 10, "\n\t\r"]

EDGE_INTS = [0, 1, -1, 2, 3, 4, 5, 7, 10, 64, 65, 100, 255, 256, 1000, 10_000, 100_000, 100_001, 2 ** 31 - 1,
             2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 + 1, 2 ** 63 - 1, -(2 ** 63), 2 ** 63, 2 ** 64 - 1, -(2 ** 31)]
F = FieldDescriptor
INT_RANGES = {
    F.TYPE_INT64: (-(2 ** 63), 2 ** 63 - 1), F.TYPE_SINT64: (-(2 ** 63), 2 ** 63 - 1),
    F.TYPE_SFIXED64: (-(2 ** 63), 2 ** 63 - 1), F.TYPE_UINT64: (0, 2 ** 64 - 1), F.TYPE_FIXED64: (0, 2 ** 64 - 1),
    F.TYPE_INT32: (-(2 ** 31), 2 ** 31 - 1), F.TYPE_SINT32: (-(2 ** 31), 2 ** 31 - 1),
    F.TYPE_SFIXED32: (-(2 ** 31), 2 ** 31 - 1), F.TYPE_UINT32: (0, 2 ** 32 - 1), F.TYPE_FIXED32: (0, 2 ** 32 - 1),
}


def ints(lo: int, hi: int) -> st.SearchStrategy[int]:
    return st.one_of(st.sampled_from([v for v in EDGE_INTS if lo <= v <= hi]), st.integers(lo, hi))


FLOATS = st.one_of(st.sampled_from([0.0, -0.0, 0.5, 1.0, -1.0, math.nan, math.inf, -math.inf, 3.4e38, 1e-45, 1e39]),
                   st.floats(width=32))
DOUBLES = st.one_of(st.sampled_from([0.0, -0.0, 0.5, 1.0, 2.5, -1.0, math.nan, math.inf, -math.inf, 1e308, 5e-324]),
                    st.floats())
TEXTS = st.one_of(st.sampled_from(TEXT_SAMPLES), st.text(max_size=12))
PAYLOAD_KEY = st.one_of(st.sampled_from(PAYLOAD_KEYS), st.text(max_size=8))
VECTOR_NAME = st.one_of(st.sampled_from(VECTOR_NAMES), st.text(max_size=4))
COLLECTION_NAMES = st.one_of(st.just(COLL), st.just(COLL), st.just(COLL), st.sampled_from(NAME_SAMPLES),
                             st.text(max_size=20))
UINT64 = ints(0, 2 ** 64 - 1)

POINT_IDS = st.one_of(
    st.builds(lambda n: qgrpc.PointId(num=n), st.one_of(st.integers(0, 6), st.sampled_from([999, 2 ** 64 - 1]))),
    st.builds(lambda u: qgrpc.PointId(uuid=u), st.one_of(st.sampled_from(UUIDS), st.text(max_size=40))),
    st.builds(lambda n: qgrpc.PointId(num=n), UINT64),
    st.just(qgrpc.PointId()),  # an empty oneof
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), ints(-(2 ** 63), 2 ** 63 - 1), DOUBLES, TEXTS)
JSON = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                          st.dictionaries(PAYLOAD_KEY, inner, max_size=3)),
                    max_leaves=10)
VALUES = st.one_of(JSON.map(_value), st.just(qgrpc.Value()))  # Value() has no kind set
DENSE = st.builds(lambda data: qgrpc.DenseVector(data=data), st.one_of(
    st.lists(FLOATS, min_size=DIM, max_size=DIM), st.lists(FLOATS, max_size=6),
    st.integers(0, 3000).map(lambda n: [0.5] * n)))
SPARSE = st.builds(lambda i, v: qgrpc.SparseVector(indices=i, values=v),
                   st.lists(ints(0, 2 ** 32 - 1), max_size=4), st.lists(FLOATS, max_size=4))
BM25_OPTIONS = st.dictionaries(st.sampled_from(["k", "b", "avg_len", "tokenizer", "language", "lowercase",
                                                "ascii_folding", "stopwords", "stemmer", "min_token_len",
                                                "max_token_len", "openai-api-key", "api_key", "dimensions"]),
                               JSON.map(_value), max_size=3)
DOCUMENTS = st.builds(lambda text, model, options: qgrpc.Document(text=text, model=model, options=options),
                      TEXTS, st.one_of(st.sampled_from(MODELS), st.text(max_size=10)), BM25_OPTIONS)
IMAGE_VALUES = st.one_of(st.sampled_from(["", "aGVsbG8=", "data:image/png;base64,aGVsbG8=", "data:,x",
                                          "http://127.0.0.1:9/x.png", "file:///etc/passwd", "\x00"]),
                         JSON).map(_value)


def _with_value(cls: Any, field: str) -> Callable[..., Message]:
    def build(value: qgrpc.Value | None, model: str, options: dict[str, qgrpc.Value]) -> Message:
        msg = cls(model=model, options=options)
        if value is not None:
            getattr(msg, field).CopyFrom(value)
        return msg
    return build


MODEL_NAMES = st.one_of(st.sampled_from(MODELS), st.text(max_size=10))
IMAGES = st.builds(_with_value(qgrpc.Image, "image"), st.one_of(st.none(), IMAGE_VALUES), MODEL_NAMES, BM25_OPTIONS)
OBJECTS = st.builds(_with_value(qgrpc.InferenceObject, "object"), st.one_of(st.none(), IMAGE_VALUES), MODEL_NAMES,
                    BM25_OPTIONS)


# ---------------------------------------------------------------------------------- messages from descriptors

MAX_DEPTH = 5  # message levels the generic strategy fills; deeper message fields stay unset
# Whole messages drawn from a strategy of their own instead of field by field.
MESSAGE_OVERRIDES: dict[str, st.SearchStrategy[Message]] = {
    "qdrant.PointId": POINT_IDS,
    "qdrant.Value": VALUES,
    "qdrant.DenseVector": DENSE,
    "qdrant.SparseVector": SPARSE,
    "qdrant.Document": DOCUMENTS,
    "qdrant.Image": IMAGES,
    "qdrant.InferenceObject": OBJECTS,
}
# String fields by name.
STRING_FIELDS: dict[str, st.SearchStrategy[str]] = {
    "collection_name": COLLECTION_NAMES,
    "key": PAYLOAD_KEY, "field_name": PAYLOAD_KEY, "keys": PAYLOAD_KEY, "fields": PAYLOAD_KEY,
    "using": VECTOR_NAME, "names": VECTOR_NAME, "vector_name": VECTOR_NAME, "has_vector": VECTOR_NAME,
    "model": MODEL_NAMES, "uuid": st.one_of(st.sampled_from(UUIDS), st.text(max_size=40)),
    "keyword": st.one_of(st.sampled_from(["Berlin", "Paris", "five"]), TEXTS),
}
SMALL_INT_FIELDS = {"limit", "offset", "hnsw_ef", "k", "min_count", "size", "m", "ef_construct", "vectors_count",
                    "shard_number", "replication_factor", "full_scan_threshold", "max_indexing_threads",
                    "default_segment_number", "max_segment_size", "indexing_threshold", "flush_interval_sec"}


def _synthetic(oneof: OneofDescriptor | None) -> bool:
    """A proto3 `optional` field's own one-member oneof."""
    return oneof is not None and len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == F.TYPE_STRING:
        return STRING_FIELDS.get(field.name, TEXTS)
    if field.type == F.TYPE_BYTES:
        return st.binary(max_size=16)
    if field.type == F.TYPE_BOOL:
        return st.booleans()
    if field.type == F.TYPE_FLOAT:
        return FLOATS
    if field.type == F.TYPE_DOUBLE:
        return DOUBLES
    if field.type == F.TYPE_ENUM:
        numbers = sorted(v.number for v in field.enum_type.values)
        return st.sampled_from([*numbers, numbers[-1] + 1, 99, -1])  # unknown numbers too (open enums)
    lo, hi = INT_RANGES[field.type]
    if field.name in SMALL_INT_FIELDS:
        return st.one_of(st.integers(max(lo, 0), 20), ints(lo, hi))
    return ints(lo, hi)


_STRATEGIES: dict[tuple[str, int], st.SearchStrategy[Any]] = {}


def messages(desc: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    if desc.full_name in MESSAGE_OVERRIDES:
        return MESSAGE_OVERRIDES[desc.full_name]
    key = (desc.full_name, min(depth, MAX_DEPTH))
    if key not in _STRATEGIES:
        _STRATEGIES[key] = _generic(desc, min(depth, MAX_DEPTH))
    return _STRATEGIES[key]


def _field_value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    key = (field.full_name, depth)
    if key in _STRATEGIES:
        return _STRATEGIES[key]
    if field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        key_field, value_field = field.message_type.fields_by_name["key"], field.message_type.fields_by_name["value"]
        if value_field.type == F.TYPE_MESSAGE:
            keys = PAYLOAD_KEY if value_field.message_type.full_name == "qdrant.Value" else VECTOR_NAME
            values = messages(value_field.message_type, depth + 1)
        else:
            keys, values = _scalar(key_field), _scalar(value_field)
        strategy = st.dictionaries(keys, values, max_size=3)
    else:
        item = messages(field.message_type, depth + 1) if field.type == F.TYPE_MESSAGE else _scalar(field)
        strategy = st.lists(item, max_size=3) if field.is_repeated else item
    _STRATEGIES[key] = strategy
    return strategy


def _set(msg: Message, field: FieldDescriptor, value: Any) -> None:
    target = getattr(msg, field.name)
    if field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        for k, v in value.items():
            if isinstance(v, Message):
                target[k].MergeFrom(v)
            else:
                target[k] = v
    elif field.is_repeated:
        if field.type == F.TYPE_MESSAGE:
            for v in value:
                target.add().MergeFrom(v)
        else:
            target.extend(value)
    elif field.type == F.TYPE_MESSAGE:
        target.SetInParent()
        target.MergeFrom(value)
    else:
        setattr(msg, field.name, value)


def _fits(field: FieldDescriptor, depth: int) -> bool:
    return field.type != F.TYPE_MESSAGE or depth < MAX_DEPTH or field.message_type.full_name in MESSAGE_OVERRIDES


@st.composite
def _generic(draw: Any, desc: Descriptor, depth: int) -> Message:
    msg = message_factory.GetMessageClass(desc)()
    chosen = set()
    for oneof in desc.oneofs:
        if not _synthetic(oneof):
            # None first: shrinks to an empty oneof
            member = draw(st.sampled_from([None, *oneof.fields]))
            if member is not None:
                chosen.add(member.name)
    for field in desc.fields:
        in_oneof = field.containing_oneof is not None and not _synthetic(field.containing_oneof)
        if in_oneof:
            if field.name not in chosen:
                continue
            if not _fits(field, depth):  # at the depth limit a chosen message member stays empty
                getattr(msg, field.name).SetInParent()
                continue
        elif field.name == "collection_name" and depth == 0:
            pass  # always drawn: mostly the fixed collection
        elif not _fits(field, depth) or draw(st.integers(0, depth + 2)) != depth + 2:
            continue  # each field is set with probability 1/(depth+3)
        _set(msg, field, draw(_field_value(field, depth)))
    return msg


def requests(method: Method) -> st.SearchStrategy[Message]:
    strategy = messages(method.request.DESCRIPTOR)
    if method.kind == "drop":  # never the fixed collection: reseeding costs time
        return strategy.map(lambda m: _renamed(m, MISSING) if m.collection_name == COLL else m)
    return strategy


def _renamed(msg: Message, name: str) -> Message:
    msg.collection_name = name
    return msg


# ---------------------------------------------------------------------------------- nearly valid messages

@st.composite
def tweaked(draw: Any, template: Message) -> Message:
    """A copy of a valid message with one to three fields, anywhere in it, replaced, cleared or
    (repeated fields) grown, shrunk or duplicated."""
    msg = type(template)()
    msg.CopyFrom(template)
    for _ in range(draw(st.integers(1, 3))):
        node, depth = msg, 0
        while True:
            present = [f for f, _ in node.ListFields()]
            # mostly a field that is set (to walk into the structure), sometimes any other
            pool = present if present and draw(st.integers(0, 3)) else list(node.DESCRIPTOR.fields)
            field = draw(st.sampled_from(sorted(pool, key=lambda f: f.number)))
            target = getattr(node, field.name)
            is_message = field.type == F.TYPE_MESSAGE and field.message_type.full_name not in MESSAGE_OVERRIDES
            is_map = field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry
            if is_message and not is_map and depth < MAX_DEPTH and draw(st.booleans()):
                if not field.is_repeated:
                    node, depth = target, depth + 1  # walks in (and sets it, if it was not)
                    continue
                if len(target):
                    node, depth = target[draw(st.integers(0, len(target) - 1))], depth + 1
                    continue
            _tweak(draw, node, field, depth)
            break
    return msg


def _tweak(draw: Any, node: Message, field: FieldDescriptor, depth: int) -> None:
    target = getattr(node, field.name)
    kinds = ["random", "random", "clear"] + (["append", "drop", "duplicate"] if field.is_repeated else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "clear":
        node.ClearField(field.name)
    elif kind == "random":
        node.ClearField(field.name)
        _set(node, field, draw(_field_value(field, min(depth, MAX_DEPTH))))
    elif kind == "append":
        item = draw(_field_value(field, min(depth, MAX_DEPTH)))
        _set(node, field, dict(list(item.items())[:1]) if isinstance(item, dict) else item[:1])
    elif not len(target):
        node.ClearField(field.name)
    elif field.type == F.TYPE_MESSAGE and field.message_type.GetOptions().map_entry:
        key = draw(st.sampled_from(sorted(target)))
        if kind == "drop":
            del target[key]
    else:
        index = draw(st.integers(0, len(target) - 1))
        if kind == "drop":
            del target[index]
        elif field.type == F.TYPE_MESSAGE:
            target.add().CopyFrom(target[index])
        else:
            target.append(target[index])


# ---------------------------------------------------------------------------------- deep nesting (as bytes)
# Protobuf's Python runtime cannot even build messages nested past ~100 levels, so these are
# encoded by hand; what the server's parser refuses must still get a proper status.

LEAF = qgrpc.Filter(must=[_match("n", integer=1)]).SerializeToString()
FILTER_STEPS = ["must", "should", "must_not", "min_should", "nested"]


def deep_filter(steps: list[str]) -> bytes:
    """A Filter nested once per step (innermost last), around a leaf `n == 1`."""
    inner = LEAF
    for step in reversed(steps):
        if step == "nested":
            nested = qgrpc.NestedCondition(key="nested").SerializeToString() + _ld(_no(qgrpc.NestedCondition, "filter"), inner)
            inner = _ld(_no(qgrpc.Filter, "must"), _ld(_no(qgrpc.Condition, "nested"), nested))
        elif step == "min_should":
            cond = _ld(_no(qgrpc.Condition, "filter"), inner)
            min_should = _ld(_no(qgrpc.MinShould, "conditions"), cond) + qgrpc.MinShould(min_count=1).SerializeToString()
            inner = _ld(_no(qgrpc.Filter, "min_should"), min_should)
        else:
            inner = _ld(_no(qgrpc.Filter, step), _ld(_no(qgrpc.Condition, "filter"), inner))
    return inner


def deep_value(steps: list[str]) -> bytes:
    """A payload Value nested once per step (a list or an object), around the integer 1."""
    inner = _value(1).SerializeToString()
    for step in reversed(steps):
        if step == "list":
            inner = _ld(_no(qgrpc.Value, "list_value"), _ld(_no(qgrpc.ListValue, "values"), inner))
        else:
            entry = qgrpc.Struct.FieldsEntry(key="k").SerializeToString() + _ld(2, inner)
            inner = _ld(_no(qgrpc.Value, "struct_value"), _ld(_no(qgrpc.Struct, "fields"), entry))
    return inner


def deep_prefetch(depth: int) -> bytes:
    leaf = qgrpc.PrefetchQuery(query=qgrpc.Query(nearest=qgrpc.VectorInput(dense=qgrpc.DenseVector(data=[1, 0, 0, 0]))),
                               using="d").SerializeToString()
    inner = leaf
    for _ in range(depth - 1):
        inner = leaf + _ld(_no(qgrpc.PrefetchQuery, "prefetch"), inner)
    return inner


def _append(msg: Message, field: str, raw: bytes) -> bytes:
    return msg.SerializeToString() + _ld(_no(type(msg), field), raw)


def _map_entry(key: str, value: bytes) -> bytes:
    return _ld(1, key.encode()) + _ld(2, value)


D = [0.1, 0.2, 0.3, 0.4]
NEAREST = qgrpc.Query(nearest=qgrpc.VectorInput(dense=qgrpc.DenseVector(data=D)))
# Where a filter goes: the method and how to put the filter's bytes into a request.
FILTER_CARRIERS: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("/qdrant.Points/Count", lambda f: _append(qgrpc.CountPoints(collection_name=COLL, exact=True), "filter", f)),
    ("/qdrant.Points/Scroll", lambda f: _append(qgrpc.ScrollPoints(collection_name=COLL, limit=3), "filter", f)),
    ("/qdrant.Points/Query", lambda f: _append(qgrpc.QueryPoints(collection_name=COLL, query=NEAREST, using="d"),
                                               "filter", f)),
    ("/qdrant.Points/Delete", lambda f: _append(qgrpc.DeletePoints(collection_name=COLL, wait=True), "points",
                                                _ld(_no(qgrpc.PointsSelector, "filter"), f))),
    ("/qdrant.Points/SetPayload", lambda f: _append(
        qgrpc.SetPayloadPoints(collection_name=COLL, wait=True, payload=_payload({"x": 1})), "points_selector",
        _ld(_no(qgrpc.PointsSelector, "filter"), f))),
    ("/qdrant.Points/Upsert", lambda f: _append(
        qgrpc.UpsertPoints(collection_name=COLL, wait=True, points=[_point(1, d=_dense(D)), _point(2, d=_dense(D))]),
        "update_filter", f)),
]


def _upsert_payload(v: bytes) -> bytes:
    point = _point(77, d=_dense([1, 2, 3, 4])).SerializeToString()
    point += _ld(_no(qgrpc.PointStruct, "payload"), _map_entry("a", v))
    return qgrpc.UpsertPoints(collection_name=COLL, wait=True).SerializeToString() + \
        _ld(_no(qgrpc.UpsertPoints, "points"), point)


def _query_document_options(v: bytes) -> bytes:
    doc = qgrpc.Document(text="hello", model="qdrant/bm25").SerializeToString()
    doc += _ld(_no(qgrpc.Document, "options"), _map_entry("k", v))
    vector_input = _ld(_no(qgrpc.VectorInput, "document"), doc)
    query = _ld(_no(qgrpc.Query, "nearest"), vector_input)
    return _append(qgrpc.QueryPoints(collection_name=COLL, using="s"), "query", query)


VALUE_CARRIERS: list[tuple[str, Callable[[bytes], bytes]]] = [
    ("/qdrant.Points/Upsert", _upsert_payload),
    ("/qdrant.Points/SetPayload", lambda v: _append(
        qgrpc.SetPayloadPoints(collection_name=COLL, wait=True, points_selector=_ids(1)), "payload",
        _map_entry("a", v))),
    ("/qdrant.Points/Query", _query_document_options),
    ("/qdrant.Collections/Create", lambda v: _append(_create_request(FRESH), "metadata", _map_entry("m", v))),
]


def _prefetch_query(depth: int) -> bytes:
    return _append(qgrpc.QueryPoints(collection_name=COLL, query=NEAREST, using="d"), "prefetch", deep_prefetch(depth))


# ---------------------------------------------------------------------------------- valid templates

VALID_OPS = [
    qgrpc.PointsUpdateOperation(upsert=qgrpc.PointsUpdateOperation.PointStructList(
        points=[_point(200, {"new": True}, d=_dense([1, 2, 3, 4]))])),
    qgrpc.PointsUpdateOperation(set_payload=qgrpc.PointsUpdateOperation.SetPayload(
        payload=_payload({"touched": 1}), points_selector=_ids(1, 2))),
    qgrpc.PointsUpdateOperation(delete_points=qgrpc.PointsUpdateOperation.DeletePoints(points=_ids(2))),
    qgrpc.PointsUpdateOperation(delete_vectors=qgrpc.PointsUpdateOperation.DeleteVectors(
        points_selector=_ids(1, 3), vectors=qgrpc.VectorsSelector(names=["s"]))),
    qgrpc.PointsUpdateOperation(clear_payload=qgrpc.PointsUpdateOperation.ClearPayload(points=_ids(1))),
    qgrpc.PointsUpdateOperation(update_vectors=qgrpc.PointsUpdateOperation.UpdateVectors(
        points=[qgrpc.PointVectors(id=_pid(4), vectors=_named(d=_dense([0, 0, 0, 1])))])),
    qgrpc.PointsUpdateOperation(delete_payload=qgrpc.PointsUpdateOperation.DeletePayload(
        keys=["city"], points_selector=_by_filter(qgrpc.Filter(must=[qgrpc.Condition(field=qgrpc.FieldCondition(
            key="n", range=qgrpc.Range(gte=0)))])))),
]
BERLIN = qgrpc.Filter(must=[_match("city", keyword="Berlin")])
PAYLOAD_ON = qgrpc.WithPayloadSelector(enable=True)
VECTORS_ON = qgrpc.WithVectorsSelector(enable=True)
QUERIES_VALID = [
    qgrpc.QueryPoints(collection_name=COLL, query=NEAREST, using="d", limit=3, with_payload=PAYLOAD_ON),
    qgrpc.QueryPoints(collection_name=COLL, prefetch=[
        qgrpc.PrefetchQuery(query=qgrpc.Query(nearest=qgrpc.VectorInput(dense=qgrpc.DenseVector(data=[1, 0, 0, 0]))),
                            using="d", limit=5),
        qgrpc.PrefetchQuery(query=qgrpc.Query(nearest=qgrpc.VectorInput(sparse=qgrpc.SparseVector(
            indices=[1, 5], values=[1.0, 0.5]))), using="s")],
        query=qgrpc.Query(fusion=qgrpc.Fusion.RRF), limit=3, with_vectors=VECTORS_ON),
    qgrpc.QueryPoints(collection_name=COLL, query=qgrpc.Query(nearest=qgrpc.VectorInput(id=_pid(1))), using="d",
                      offset=1, score_threshold=0.0, params=qgrpc.SearchParams(hnsw_ef=16, exact=True),
                      filter=qgrpc.Filter(must_not=[qgrpc.Condition(has_id=qgrpc.HasIdCondition(has_id=[_pid(4)]))])),
    qgrpc.QueryPoints(collection_name=COLL, query=qgrpc.Query(nearest=qgrpc.VectorInput(
        document=qgrpc.Document(text="hello world", model="qdrant/bm25"))), using="s"),
    qgrpc.QueryPoints(collection_name=COLL, prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d", filter=BERLIN)],
                      query=qgrpc.Query(rrf=qgrpc.Rrf(k=10)), with_payload=qgrpc.WithPayloadSelector(
                          exclude=qgrpc.PayloadExcludeSelector(fields=["tags"]))),
]
TEMPLATES: dict[str, list[Message]] = {
    "/qdrant.Qdrant/HealthCheck": [qgrpc.HealthCheckRequest()],
    "/qdrant.Collections/Get": [qgrpc.GetCollectionInfoRequest(collection_name=COLL)],
    "/qdrant.Collections/List": [qgrpc.ListCollectionsRequest()],
    "/qdrant.Collections/CollectionExists": [qgrpc.CollectionExistsRequest(collection_name=COLL)],
    "/qdrant.Collections/Create": [
        _create_request(FRESH),
        qgrpc.CreateCollection(collection_name=FRESH, vectors_config=qgrpc.VectorsConfig(params=qgrpc.VectorParams(
            size=3, distance=qgrpc.Distance.Dot)), hnsw_config=qgrpc.HnswConfigDiff(m=8, ef_construct=50),
            optimizers_config=qgrpc.OptimizersConfigDiff(indexing_threshold=1000),
            sparse_vectors_config=qgrpc.SparseVectorConfig(map={"t": qgrpc.SparseVectorParams(
                modifier=qgrpc.Modifier.Idf)}), metadata=_payload({"k": "v"})),
    ],
    "/qdrant.Collections/Update": [
        qgrpc.UpdateCollection(collection_name=COLL),
        qgrpc.UpdateCollection(collection_name=COLL, optimizers_config=qgrpc.OptimizersConfigDiff(
            indexing_threshold=2000), hnsw_config=qgrpc.HnswConfigDiff(payload_m=4),
            quantization_config=qgrpc.QuantizationConfigDiff(scalar=qgrpc.ScalarQuantization(
                type=qgrpc.QuantizationType.Int8)),
            params=qgrpc.CollectionParamsDiff(replication_factor=1), metadata=_payload({"k": "w"})),
    ],
    "/qdrant.Collections/UpdateAliases": [qgrpc.ChangeAliases(actions=[
        qgrpc.AliasOperations(create_alias=qgrpc.CreateAlias(collection_name=COLL, alias_name="fuzz_alias")),
        qgrpc.AliasOperations(rename_alias=qgrpc.RenameAlias(old_alias_name="fuzz_alias",
                                                             new_alias_name="fuzz_alias2")),
        qgrpc.AliasOperations(delete_alias=qgrpc.DeleteAlias(alias_name="fuzz_alias2"))])],
    "/qdrant.Collections/ListAliases": [qgrpc.ListAliasesRequest()],
    "/qdrant.Collections/ListCollectionAliases": [qgrpc.ListCollectionAliasesRequest(collection_name=COLL)],
    "/qdrant.Collections/Delete": [qgrpc.DeleteCollection(collection_name=MISSING)],
    "/qdrant.Points/Upsert": [
        qgrpc.UpsertPoints(collection_name=COLL, wait=True, points=[
            _point(100, {"city": "Oslo", "n": 7, "tags": ["x"]}, d=_dense(D), s=_sparse([1, 7], [0.5, 0.25])),
            _point(UUID2, None, d=_dense([4, 3, 2, 1]))]),
        qgrpc.UpsertPoints(collection_name=COLL, wait=True, points=[_point(1, {"city": "Berlin"}, d=_dense(D))],
                           update_filter=BERLIN),
        qgrpc.UpsertPoints(collection_name=COLL, wait=True, points=[_point(
            104, d=_dense(D), s=qgrpc.Vector(document=qgrpc.Document(text="hello fuzzy world", model="qdrant/bm25")))]),
    ],
    "/qdrant.Points/Delete": [
        qgrpc.DeletePoints(collection_name=COLL, wait=True, points=_ids(1, UUID1)),
        qgrpc.DeletePoints(collection_name=COLL, wait=True, points=_by_filter(qgrpc.Filter(must=[qgrpc.Condition(
            field=qgrpc.FieldCondition(key="n", range=qgrpc.Range(gte=2, lt=3.5)))]))),
    ],
    "/qdrant.Points/Get": [qgrpc.GetPoints(collection_name=COLL, ids=[_pid(1), _pid(2), _pid(UUID1), _pid(999)],
                                           with_payload=PAYLOAD_ON, with_vectors=VECTORS_ON)],
    "/qdrant.Points/UpdateVectors": [qgrpc.UpdatePointVectors(collection_name=COLL, wait=True, points=[
        qgrpc.PointVectors(id=_pid(2), vectors=_named(d=_dense([0, 0, 0, 1]), s=_sparse([3], [2.0])))])],
    "/qdrant.Points/DeleteVectors": [qgrpc.DeletePointVectors(
        collection_name=COLL, wait=True, points_selector=_ids(1), vectors=qgrpc.VectorsSelector(names=["s"]))],
    "/qdrant.Points/SetPayload": [
        qgrpc.SetPayloadPoints(collection_name=COLL, wait=True, payload=_payload({"x": 1, "nested": {"z": [1, 2]}}),
                               points_selector=_ids(1, 2)),
        qgrpc.SetPayloadPoints(collection_name=COLL, wait=True, payload=_payload({"z": "q"}),
                               points_selector=_by_filter(BERLIN), key="deep.inner"),
    ],
    "/qdrant.Points/OverwritePayload": [qgrpc.SetPayloadPoints(collection_name=COLL, wait=True,
                                                               payload=_payload({"only": True}),
                                                               points_selector=_ids(3, UUID1))],
    "/qdrant.Points/DeletePayload": [qgrpc.DeletePayloadPoints(collection_name=COLL, wait=True,
                                                               keys=["city", "nested.x"], points_selector=_ids(1))],
    "/qdrant.Points/ClearPayload": [qgrpc.ClearPayloadPoints(collection_name=COLL, wait=True,
                                                             points=_by_filter(BERLIN))],
    "/qdrant.Points/CreateFieldIndex": [qgrpc.CreateFieldIndexCollection(
        collection_name=COLL, wait=True, field_name="tags", field_type=qgrpc.FieldType.FieldTypeKeyword)],
    "/qdrant.Points/DeleteFieldIndex": [qgrpc.DeleteFieldIndexCollection(collection_name=COLL, wait=True,
                                                                         field_name="city")],
    "/qdrant.Points/Scroll": [
        qgrpc.ScrollPoints(collection_name=COLL, limit=2, offset=_pid(2), with_payload=qgrpc.WithPayloadSelector(
            include=qgrpc.PayloadIncludeSelector(fields=["city"])), with_vectors=VECTORS_ON),
        qgrpc.ScrollPoints(collection_name=COLL, filter=BERLIN, limit=10),
    ],
    "/qdrant.Points/Count": [
        qgrpc.CountPoints(collection_name=COLL, exact=True, filter=qgrpc.Filter(must=[qgrpc.Condition(
            nested=qgrpc.NestedCondition(key="nested", filter=qgrpc.Filter(must=[_match("x", integer=1)])))])),
        qgrpc.CountPoints(collection_name=COLL, filter=qgrpc.Filter(should=[qgrpc.Condition(
            field=qgrpc.FieldCondition(key="tags", values_count=qgrpc.ValuesCount(gte=1, lt=5)))])),
    ],
    "/qdrant.Points/Query": QUERIES_VALID,
    "/qdrant.Points/QueryBatch": [qgrpc.QueryBatchPoints(collection_name=COLL, query_points=QUERIES_VALID[:3]),
                                  qgrpc.QueryBatchPoints(collection_name=COLL, query_points=QUERIES_VALID[3:])],
    "/qdrant.Points/Search": [qgrpc.SearchPoints(collection_name=COLL, vector=D, vector_name="d", limit=3,
                                                 filter=BERLIN, with_payload=qgrpc.WithPayloadSelector(enable=True))],
    "/qdrant.Points/SearchBatch": [qgrpc.SearchBatchPoints(collection_name=COLL, search_points=[
        qgrpc.SearchPoints(collection_name=COLL, vector=D, vector_name="d", limit=2),
        qgrpc.SearchPoints(collection_name=COLL, vector=[0.5], vector_name="s", sparse_indices=qgrpc.SparseIndices(
            data=[7]), limit=2)])],
    "/qdrant.Points/Recommend": [qgrpc.RecommendPoints(
        collection_name=COLL, positive=[_pid(1)], positive_vectors=[qgrpc.Vector(dense=qgrpc.DenseVector(data=D))],
        using="d", limit=3, strategy=qgrpc.RecommendStrategy.BestScore)],
    "/qdrant.Points/RecommendBatch": [qgrpc.RecommendBatchPoints(collection_name=COLL, recommend_points=[
        qgrpc.RecommendPoints(collection_name=COLL, positive=[_pid(1)], using="d", limit=2)])],
    "/qdrant.Points/Discover": [qgrpc.DiscoverPoints(
        collection_name=COLL, using="d", limit=3,
        target=qgrpc.TargetVector(single=qgrpc.VectorExample(vector=qgrpc.Vector(dense=qgrpc.DenseVector(data=D)))),
        context=[qgrpc.ContextExamplePair(positive=qgrpc.VectorExample(id=_pid(1)),
                                          negative=qgrpc.VectorExample(id=_pid(3)))])],
    "/qdrant.Points/DiscoverBatch": [qgrpc.DiscoverBatchPoints(collection_name=COLL, discover_points=[
        qgrpc.DiscoverPoints(collection_name=COLL, using="d", limit=2, target=qgrpc.TargetVector(
            single=qgrpc.VectorExample(id=_pid(1))))])],
    "/qdrant.Points/QueryGroups": [
        qgrpc.QueryPointGroups(collection_name=COLL, query=NEAREST, using="d", group_by="city", group_size=2, limit=3,
                               with_payload=PAYLOAD_ON, with_lookup=qgrpc.WithLookup(collection=COLL)),
        qgrpc.QueryPointGroups(collection_name=COLL, prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d", limit=2)],
                               query=qgrpc.Query(fusion=qgrpc.Fusion.RRF), group_by="tags", filter=BERLIN,
                               with_vectors=VECTORS_ON),
    ],
    "/qdrant.Points/SearchGroups": [qgrpc.SearchPointGroups(collection_name=COLL, vector=D, vector_name="d",
                                                            group_by="n", group_size=1, limit=2)],
    "/qdrant.Points/RecommendGroups": [qgrpc.RecommendPointGroups(
        collection_name=COLL, positive=[_pid(1)], negative_vectors=[qgrpc.Vector(dense=qgrpc.DenseVector(data=D))],
        using="d", group_by="city", group_size=1, limit=3, strategy=qgrpc.RecommendStrategy.SumScores,
        with_lookup=qgrpc.WithLookup(collection=COLL, with_payload=PAYLOAD_ON))],
    "/qdrant.Points/Facet": [qgrpc.FacetCounts(collection_name=COLL, key="city", limit=5),
                             qgrpc.FacetCounts(collection_name=COLL, key="n", filter=BERLIN, exact=True)],
    "/qdrant.Points/SearchMatrixPairs": [qgrpc.SearchMatrixPoints(collection_name=COLL, sample=5, limit=2, using="d")],
    "/qdrant.Points/SearchMatrixOffsets": [qgrpc.SearchMatrixPoints(collection_name=COLL, using="s", filter=qgrpc.Filter(
        must_not=[qgrpc.Condition(has_id=qgrpc.HasIdCondition(has_id=[_pid(3)]))]))],
    "/qdrant.Points/UpdateBatch": [qgrpc.UpdateBatchPoints(collection_name=COLL, wait=True, operations=VALID_OPS[:4]),
                                   qgrpc.UpdateBatchPoints(collection_name=COLL, wait=True, operations=VALID_OPS[4:])],
}
TEMPLATE_CASES = [(path, i) for path, msgs in TEMPLATES.items() for i in range(len(msgs))]


# ---------------------------------------------------------------------------------- raw bytes

def _invalid_utf8_name() -> bytes:
    return _ld(_no(qgrpc.CountPoints, "collection_name"), b"fu\xffzz")


RAW_SAMPLES = [
    b"\x00", b"\xff", b"\x80", b"\xff" * 11, b"\x08", b"\x0a", b"\x0a\x05ab", b"\x0a\xff\xff\xff\xff\x0f",
    b"\x0b", b"\x0c", b"\x13\x14", b"\x0f", b"\x0e", b"\x07\x00", b"\x0d\x00\x00", b"\x09" + b"\x00" * 3,
    b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", b"\xf8\xff\xff\xff\x7f\x00",  # an over-long varint; field 2**28-1
    _invalid_utf8_name(),
    _ld(_no(qgrpc.CountPoints, "collection_name"), "fuzz".encode("utf-16")),
    b"\x0a\x04fuzz" * 3, b"\x0a\x04fuzz\x12\x00", b"\x0a\x04fuzz\x12\x01\x00",
    _ld(1, b"") * 10_000, b"\x12" * 20_000, b"\x0a\x04fuzz" + _ld(15, b"\x00" * 100_000),
]


# ---------------------------------------------------------------------------------- mutations

@st.composite
def mutated(draw: Any, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["flip", "set", "insert", "delete", "duplicate", "truncate", "huge_length"]))
        pos = draw(st.integers(0, len(buf)))
        if kind == "flip" and pos < len(buf):
            buf[pos] ^= 1 << draw(st.integers(0, 7))
        elif kind == "set" and pos < len(buf):
            buf[pos] = draw(st.sampled_from([0x00, 0x01, 0x7F, 0x80, 0xFF, 0x0A, 0x12, 0x08]) | st.integers(0, 255))
        elif kind == "insert":
            buf[pos:pos] = draw(st.binary(min_size=1, max_size=4))
        elif kind == "delete":
            del buf[pos:pos + draw(st.integers(1, 4))]
        elif kind == "duplicate":
            end = min(len(buf), pos + draw(st.integers(1, 16)))
            buf[end:end] = buf[pos:end]
        elif kind == "truncate":
            del buf[pos:]
        elif kind == "huge_length":
            buf[pos:pos] = _varint(draw(st.sampled_from([2 ** 31 - 1, 2 ** 32, 2 ** 63, 2 ** 64 - 1, 1 << 20])))
    return bytes(buf)


# ---------------------------------------------------------------------------------- tests


def _each(cases: list[tuple[str, Any]], check: Any) -> None:
    """Run every case and report all that fail, not only the first: grouped by what went wrong,
    with the first two cases of each group."""
    groups: dict[str, list[str]] = {}
    for label, case in cases:
        try:
            check(case)
        except AssertionError as exc:
            text = str(exc)
            groups.setdefault(text.split("\n", 1)[0], []).append(f"{label}: {text}")
    if groups:
        total = sum(len(g) for g in groups.values())
        parts = [f"{len(g)} x {what}\n\n" + "\n\n".join(g[:2]) + (f"\n\n... and {len(g) - 2} more" if len(g) > 2 else "")
                 for what, g in groups.items()]
        raise AssertionError(f"{total} of {len(cases)} failed:\n\n" + "\n\n------\n\n".join(parts))


def test_reflection_lists_known_methods(door):
    """What the server serves is a subset of Qdrant's methods, which the fuzzing below sends to."""
    assert door.served, "reflection lists no methods"
    assert door.served <= set(METHOD), f"served, but not in qdrant-client's protos: {sorted(door.served - set(METHOD))}"
    assert {"/qdrant.Points/Upsert", "/qdrant.Points/Query", "/qdrant.Collections/Create",
            "/qdrant.Qdrant/HealthCheck"} <= door.served


@pytest.mark.parametrize("path,index", TEMPLATE_CASES, ids=[f"{p.rsplit('/', 2)[1]}.{p.rsplit('/', 1)[1]}#{i}"
                                                            for p, i in TEMPLATE_CASES])
def test_valid_templates_are_accepted(door, path, index):
    """The messages the mutations start from are valid, so a mutated one is nearly valid."""
    reply = run(door, path, TEMPLATES[path][index])
    assert reply.code == C.OK, f"a valid request was refused{reply}"


# Methods the protos list (reflection describes them) that answer UNIMPLEMENTED naming the feature.
DECLINED = {"/qdrant.Points/CreateVectorName": qgrpc.CreateVectorNameRequest(collection_name=COLL, vector_name="x"),
            "/qdrant.Points/DeleteVectorName": qgrpc.DeleteVectorNameRequest(collection_name=COLL, vector_name="d")}


def test_templates_cover_every_served_method(door):
    missing = door.served - set(TEMPLATES) - set(DECLINED)
    assert not missing, f"served methods without a template: {sorted(missing)}"


@pytest.mark.parametrize("path", sorted(DECLINED))
def test_declined_methods_name_what_is_missing(door, path):
    reply = run(door, path, DECLINED[path])
    assert reply.code == C.UNIMPLEMENTED and "VectorName" in reply.details, reply


@given(data=st.data())
@_settings(250)
def test_random_bytes_to_every_method(door, data):
    method = data.draw(st.sampled_from(METHODS), "method")
    raw = data.draw(st.one_of(st.binary(max_size=64), st.binary(min_size=64, max_size=400)), "raw")
    run(door, method, raw)


@pytest.mark.parametrize("service", ["Qdrant", "Collections", "Points"])
def test_raw_samples_to_every_method(door, service):
    """Every listed undecodable (or odd) byte string, to every method of the service."""
    cases = [(f"{m} {s[:40]!r} ({len(s)} bytes)", (m, s)) for m in METHODS if m.service == service for s in RAW_SAMPLES]
    _each(cases, lambda case: run(door, *case))


@given(data=st.data())
@_settings(450)
def test_structured_messages_to_every_method(door, data):
    """qdrant-client messages with every field random (or absent), to every method."""
    method = data.draw(st.sampled_from(METHODS), "method")
    run(door, method, data.draw(requests(method), "request"))


@given(data=st.data())
@_settings(250)
def test_structured_messages_to_served_methods(door, data):
    """The same, only to the methods vecinfer serves (most of the examples above find UNIMPLEMENTED)."""
    method = data.draw(st.sampled_from([m for m in METHODS if m.path in door.served]), "method")
    run(door, method, data.draw(requests(method), "request"))


@given(data=st.data())
@_settings(400)
def test_nearly_valid_messages(door, data):
    """A valid message of a served method with one to three fields changed anywhere in it."""
    path, index = data.draw(st.sampled_from([(p, i) for p, i in TEMPLATE_CASES if METHOD[p].request.DESCRIPTOR.fields]),
                            "template")
    run(door, path, data.draw(tweaked(TEMPLATES[path][index]), "request"))


@given(data=st.data())
@_settings(250)
def test_mutated_valid_messages(door, data):
    path, index = data.draw(st.sampled_from(TEMPLATE_CASES), "template")
    raw = data.draw(mutated(TEMPLATES[path][index].SerializeToString()), "raw")
    run(door, path, raw)


@given(data=st.data())
@_settings(120)
def test_deep_filters(door, data):
    """Filters nested 1 to 90 levels (past the server's filter limit and protobuf's depth limit)."""
    path, build = data.draw(st.sampled_from(FILTER_CARRIERS), "carrier")
    depth = data.draw(st.one_of(st.integers(1, 90), st.sampled_from([30, 47, 48, 49, 50, 63, 64, 65, 90])), "depth")
    steps = data.draw(st.lists(st.sampled_from(FILTER_STEPS), min_size=depth, max_size=depth), "steps")
    run(door, path, build(deep_filter(steps)))


@given(data=st.data())
@_settings(80)
def test_deep_payload_values(door, data):
    """Payload values (and document options, collection metadata) nested 1 to 150 levels."""
    path, build = data.draw(st.sampled_from(VALUE_CARRIERS), "carrier")
    depth = data.draw(st.one_of(st.integers(1, 150), st.sampled_from([30, 45, 46, 47, 48, 49, 50, 100])), "depth")
    steps = data.draw(st.lists(st.sampled_from(["list", "struct"]), min_size=depth, max_size=depth), "steps")
    run(door, path, build(deep_value(steps)))


def test_deep_samples(door):
    """Each carrier at listed depths around the limits, every run."""
    cases = [(f"{path} filter depth {n}", (path, build(deep_filter(["must"] * n))))
             for path, build in FILTER_CARRIERS for n in (40, 48, 50, 64, 65, 90)]
    cases += [(f"{path} value depth {n}", (path, build(deep_value(["list"] * n))))
              for path, build in VALUE_CARRIERS for n in (20, 45, 48, 50, 100, 150)]
    cases += [(f"{path} value depth {n} (objects)", (path, build(deep_value(["struct"] * n))))
              for path, build in VALUE_CARRIERS for n in (30, 31, 32, 33, 34)]
    cases += [(f"prefetch depth {n}", ("/qdrant.Points/Query", _prefetch_query(n))) for n in (10, 40, 48, 50, 64, 65, 90)]
    # SetPayload's `key` puts the payload that many levels down
    cases += [(f"SetPayload key of {n} parts", ("/qdrant.Points/SetPayload", qgrpc.SetPayloadPoints(
        collection_name=COLL, wait=True, payload=_payload({"x": 1}), points_selector=_ids(1), key=".".join(["k"] * n))))
        for n in (10, 40, 45, 50, 60, 100)]
    _each(cases, lambda case: run(door, *case))


NAN, INF = math.nan, math.inf


def _upsert(*points: qgrpc.PointStruct) -> qgrpc.UpsertPoints:
    return qgrpc.UpsertPoints(collection_name=COLL, wait=True, points=list(points))


def _unnamed(vector: qgrpc.Vector) -> qgrpc.PointStruct:
    return qgrpc.PointStruct(id=_pid(90), vectors=qgrpc.Vectors(vector=vector))


def _query(**fields: Any) -> qgrpc.QueryPoints:
    return qgrpc.QueryPoints(collection_name=COLL, **fields)


def _count(condition: qgrpc.Condition) -> qgrpc.CountPoints:
    return qgrpc.CountPoints(collection_name=COLL, exact=True, filter=qgrpc.Filter(must=[condition]))


def _field(**fields: Any) -> qgrpc.Condition:
    return qgrpc.Condition(field=qgrpc.FieldCondition(**fields))


def _create(**fields: Any) -> qgrpc.CreateCollection:
    return qgrpc.CreateCollection(collection_name=FRESH, **fields)


def _params(**fields: Any) -> qgrpc.VectorsConfig:
    return qgrpc.VectorsConfig(params=qgrpc.VectorParams(**{"size": DIM, "distance": qgrpc.Distance.Cosine, **fields}))


def _document(model: str, **options: Any) -> qgrpc.Vector:
    return qgrpc.Vector(document=qgrpc.Document(text="hello fuzzy world", model=model, options=_payload(options)))


def _timestamp(seconds: int, nanos: int = 0) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    return Timestamp(seconds=seconds, nanos=nanos)


BIG = 2 ** 64 - 1
P, CO = "/qdrant.Points/", "/qdrant.Collections/"
# Listed edge cases, each tried on every run (the fuzzing above finds them only by chance).
LISTED: list[tuple[str, str, Message]] = [
    ("DeletePayload key ''", P + "DeletePayload", qgrpc.DeletePayloadPoints(
        collection_name=COLL, wait=True, keys=[""], points_selector=_ids(1))),
    ("DeletePayload keys 'city', ''", P + "DeletePayload", qgrpc.DeletePayloadPoints(
        collection_name=COLL, wait=True, keys=["city", ""], points_selector=_ids(1, 2))),
    ("DeletePayload key '.'", P + "DeletePayload", qgrpc.DeletePayloadPoints(
        collection_name=COLL, wait=True, keys=["."], points_selector=_ids(1))),
    ("DeletePayload key 'tags[]'", P + "DeletePayload", qgrpc.DeletePayloadPoints(
        collection_name=COLL, wait=True, keys=["tags[]", "nested.y[]"], points_selector=_ids(1))),
    ("SetPayload key ''", P + "SetPayload", qgrpc.SetPayloadPoints(
        collection_name=COLL, wait=True, payload=_payload({"x": 1}), points_selector=_ids(1), key="")),
    ("SetPayload key '..'", P + "SetPayload", qgrpc.SetPayloadPoints(
        collection_name=COLL, wait=True, payload=_payload({"x": 1}), points_selector=_ids(1), key="..")),
    ("SetPayload key 'tags[]'", P + "SetPayload", qgrpc.SetPayloadPoints(
        collection_name=COLL, wait=True, payload=_payload({"x": 1}), points_selector=_ids(1), key="tags[]")),
    ("QueryBatch named with 5000 characters", P + "QueryBatch", qgrpc.QueryBatchPoints(
        collection_name="x" * 5000, query_points=[_query(query=NEAREST, using="d")])),
    ("QueryBatch with an inner name of 5000 characters", P + "QueryBatch", qgrpc.QueryBatchPoints(
        collection_name=COLL, query_points=[qgrpc.QueryPoints(collection_name="x" * 5000)])),
    ("Upsert an empty PointId", P + "Upsert", _upsert(qgrpc.PointStruct(id=qgrpc.PointId(), vectors=_named(d=_dense(D))))),
    ("Upsert id 2**64-1", P + "Upsert", _upsert(_point(BIG, d=_dense(D)))),
    ("Upsert a NaN vector", P + "Upsert", _upsert(_point(91, d=_dense([NAN, 0, 0, 0])))),
    ("Upsert an infinite vector", P + "Upsert", _upsert(_point(91, d=_dense([INF, 0, 0, 0])))),
    ("Upsert a zero vector (Cosine)", P + "Upsert", _upsert(_point(91, d=_dense([0, 0, 0, 0])))),
    ("Upsert float32 extremes", P + "Upsert", _upsert(_point(91, d=_dense([3.4e38, 3.4e38, -3.4e38, 1e-45])))),
    ("Upsert 5000 dimensions", P + "Upsert", _upsert(_point(91, d=_dense([0.5] * 5000)))),
    ("Upsert an empty dense vector", P + "Upsert", _upsert(_point(91, d=_dense([])))),
    ("Upsert sparse: duplicate indices", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_sparse([1, 1], [1, 2])))),
    ("Upsert sparse: lengths differ", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_sparse([1, 2, 3], [1])))),
    ("Upsert sparse: NaN value", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_sparse([1], [NAN])))),
    ("Upsert sparse: index 2**32-1", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_sparse([2 ** 32 - 1], [1])))),
    ("Upsert sparse into the dense name", P + "Upsert", _upsert(_point(91, d=_sparse([1], [1])))),
    ("Upsert an unnamed vector", P + "Upsert", _upsert(_unnamed(_dense(D)))),
    ("Upsert an unnamed sparse vector", P + "Upsert", _upsert(_unnamed(_sparse([1], [1])))),
    ("Upsert legacy Vector, vectors_count 0", P + "Upsert", _upsert(_point(91, d=qgrpc.Vector(data=D, vectors_count=0)))),
    ("Upsert legacy Vector, vectors_count 3 of 4 floats", P + "Upsert", _upsert(_point(
        91, d=qgrpc.Vector(data=D, vectors_count=3)))),
    ("Upsert legacy sparse, indices longer than data", P + "Upsert", _upsert(_point(
        91, d=_dense(D), s=qgrpc.Vector(data=[1.0], indices=qgrpc.SparseIndices(data=[1, 2, 3]))))),
    ("Upsert an empty Vector", P + "Upsert", _upsert(_point(91, d=qgrpc.Vector()))),
    ("Upsert an empty Vectors", P + "Upsert", _upsert(qgrpc.PointStruct(id=_pid(91), vectors=qgrpc.Vectors()))),
    ("Upsert payload NaN", P + "Upsert", _upsert(qgrpc.PointStruct(
        id=_pid(91), vectors=_named(d=_dense(D)), payload={"x": qgrpc.Value(double_value=NAN)}))),
    ("Upsert payload Value without kind", P + "Upsert", _upsert(qgrpc.PointStruct(
        id=_pid(91), vectors=_named(d=_dense(D)), payload={"x": qgrpc.Value()}))),
    ("Upsert payload key ''", P + "Upsert", _upsert(_point(91, {"": 1, "\x00": 2}, d=_dense(D)))),
    ("Upsert the same id twice", P + "Upsert", _upsert(_point(91, d=_dense(D)), _point(91, d=_dense([NAN] * 4)))),
    ("Upsert, the second point bad", P + "Upsert", _upsert(_point(91, d=_dense(D)), _point(92, d=_dense([1])))),
    ("Upsert update_mode 99", P + "Upsert", qgrpc.UpsertPoints(
        collection_name=COLL, wait=True, points=[_point(91, d=_dense(D))], update_mode=99)),
    ("Upsert bm25, k NaN", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_document("qdrant/bm25", k=NAN)))),
    ("Upsert bm25, avg_len 0", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_document("qdrant/bm25", avg_len=0)))),
    ("Upsert bm25, language 'xx'", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_document(
        "qdrant/bm25", language="xx")))),
    ("Upsert bm25, options of the wrong type", P + "Upsert", _upsert(_point(91, d=_dense(D), s=_document(
        "qdrant/bm25", k="x", b=[1], tokenizer=7, stopwords={"a": None}, min_token_len=-1)))),
    ("Upsert bm25 into the dense name", P + "Upsert", _upsert(_point(91, d=_document("qdrant/bm25")))),
    ("Upsert MiniLM into the 4-dim name", P + "Upsert", _upsert(_point(
        91, d=_document("sentence-transformers/all-minilm-l6-v2")))),
    ("Upsert an unreachable provider's model", P + "Upsert", _upsert(_point(91, d=_document("openai/x")))),
    ("Upsert an image that is not one", P + "Upsert", _upsert(_point(91, d=qgrpc.Vector(image=qgrpc.Image(
        image=_value("data:image/png;base64,aGVsbG8="), model="openai/x"))))),
    ("UpdateVectors on a missing point", P + "UpdateVectors", qgrpc.UpdatePointVectors(
        collection_name=COLL, wait=True, points=[qgrpc.PointVectors(id=_pid(999), vectors=_named(d=_dense(D)))])),
    ("UpdateVectors, the second point missing", P + "UpdateVectors", qgrpc.UpdatePointVectors(
        collection_name=COLL, wait=True, points=[qgrpc.PointVectors(id=_pid(1), vectors=_named(d=_dense(D))),
                                                 qgrpc.PointVectors(id=_pid(999), vectors=_named(d=_dense(D)))])),
    ("DeleteVectors of an unknown name", P + "DeleteVectors", qgrpc.DeletePointVectors(
        collection_name=COLL, wait=True, points_selector=_ids(1), vectors=qgrpc.VectorsSelector(names=["s", "nope"]))),
    ("UpdateBatch, the last operation bad", P + "UpdateBatch", qgrpc.UpdateBatchPoints(
        collection_name=COLL, wait=True, operations=[*VALID_OPS[:3], qgrpc.PointsUpdateOperation()])),
    ("UpdateBatch, a bad key last", P + "UpdateBatch", qgrpc.UpdateBatchPoints(
        collection_name=COLL, wait=True, operations=[VALID_OPS[1], qgrpc.PointsUpdateOperation(
            delete_payload=qgrpc.PointsUpdateOperation.DeletePayload(keys=[""], points_selector=_ids(1)))])),
    ("Query limit 0", P + "Query", _query(query=NEAREST, using="d", limit=0)),
    ("Query limit 2**64-1", P + "Query", _query(query=NEAREST, using="d", limit=BIG)),
    ("Query offset 2**64-1", P + "Query", _query(query=NEAREST, using="d", offset=BIG)),
    ("Query hnsw_ef 2**64-1", P + "Query", _query(query=NEAREST, using="d", params=qgrpc.SearchParams(hnsw_ef=BIG))),
    ("Query score_threshold NaN", P + "Query", _query(query=NEAREST, using="d", score_threshold=NAN)),
    ("Query a NaN vector", P + "Query", _query(query=qgrpc.Query(nearest=qgrpc.VectorInput(
        dense=qgrpc.DenseVector(data=[NAN, 0, 0, 0]))), using="d")),
    ("Query a zero vector", P + "Query", _query(query=qgrpc.Query(nearest=qgrpc.VectorInput(
        dense=qgrpc.DenseVector(data=[0, 0, 0, 0]))), using="d")),
    ("Query a sparse NaN", P + "Query", _query(query=qgrpc.Query(nearest=qgrpc.VectorInput(
        sparse=qgrpc.SparseVector(indices=[1, 1], values=[NAN, INF]))), using="s")),
    ("Query by a missing id", P + "Query", _query(query=qgrpc.Query(nearest=qgrpc.VectorInput(id=_pid(BIG))), using="d")),
    ("Query by an empty id", P + "Query", _query(query=qgrpc.Query(nearest=qgrpc.VectorInput(id=qgrpc.PointId())),
                                                  using="d")),
    ("Query an empty VectorInput", P + "Query", _query(query=qgrpc.Query(nearest=qgrpc.VectorInput()), using="d")),
    ("Query an empty Query", P + "Query", _query(query=qgrpc.Query(), using="d")),
    ("Query fusion 99", P + "Query", _query(prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d")],
                                            query=qgrpc.Query(fusion=99))),
    ("Query rrf k 0, NaN weight", P + "Query", _query(prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d")],
                                                      query=qgrpc.Query(rrf=qgrpc.Rrf(k=0, weights=[NAN])))),
    ("Query rrf weights for 3 of 1 prefetch", P + "Query", _query(
        prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d")], query=qgrpc.Query(rrf=qgrpc.Rrf(weights=[1, 2, 3])))),
    ("Query rrf k 2**32-1", P + "Query", _query(prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d")],
                                                query=qgrpc.Query(rrf=qgrpc.Rrf(k=2 ** 32 - 1)))),
    ("Query dbsf of identical scores", P + "Query", _query(prefetch=[
        qgrpc.PrefetchQuery(query=NEAREST, using="d", filter=qgrpc.Filter(must=[qgrpc.Condition(
            has_id=qgrpc.HasIdCondition(has_id=[_pid(1)]))]))], query=qgrpc.Query(fusion=qgrpc.Fusion.DBSF))),
    ("Query a prefetch limit 0", P + "Query", _query(prefetch=[qgrpc.PrefetchQuery(query=NEAREST, using="d", limit=0)],
                                                     query=qgrpc.Query(fusion=qgrpc.Fusion.RRF))),
    ("Query bm25 of an empty text", P + "Query", _query(
        query=qgrpc.Query(nearest=qgrpc.VectorInput(document=qgrpc.Document(text="", model="qdrant/bm25"))),
        using="s")),
    ("Query an unreachable provider's model", P + "Query", _query(
        query=qgrpc.Query(nearest=qgrpc.VectorInput(document=qgrpc.Document(text="x", model="cohere/x"))), using="d")),
    ("Query an empty image", P + "Query", _query(
        query=qgrpc.Query(nearest=qgrpc.VectorInput(image=qgrpc.Image(model="openai/x"))), using="d")),
    ("Scroll limit 0", P + "Scroll", qgrpc.ScrollPoints(collection_name=COLL, limit=0)),
    ("Scroll from a bad uuid", P + "Scroll", qgrpc.ScrollPoints(collection_name=COLL, offset=_pid("x"))),
    ("Scroll from id 2**64-1", P + "Scroll", qgrpc.ScrollPoints(collection_name=COLL, offset=_pid(BIG))),
    ("Get 10000 ids", P + "Get", qgrpc.GetPoints(collection_name=COLL, ids=[_pid(i) for i in range(10_000)])),
    ("Count range NaN", P + "Count", _count(_field(key="n", range=qgrpc.Range(gte=NAN, lt=INF)))),
    ("Count datetime seconds 2**63-1", P + "Count", _count(_field(
        key="when", datetime_range=qgrpc.DatetimeRange(gte=_timestamp(2 ** 63 - 1))))),
    ("Count datetime seconds -2**63, nanos -1", P + "Count", _count(_field(
        key="when", datetime_range=qgrpc.DatetimeRange(lt=_timestamp(-(2 ** 63), -1))))),
    ("Count datetime nanos 2**31-1", P + "Count", _count(_field(
        key="when", datetime_range=qgrpc.DatetimeRange(lt=_timestamp(0, 2 ** 31 - 1))))),
    ("Count values_count 2**64-1", P + "Count", _count(_field(key="tags", values_count=qgrpc.ValuesCount(gt=BIG)))),
    ("Count geo radius NaN", P + "Count", _count(_field(key="city", geo_radius=qgrpc.GeoRadius(
        center=qgrpc.GeoPoint(lon=NAN, lat=INF), radius=-1)))),
    ("Count an empty Match", P + "Count", _count(_field(key="city", match=qgrpc.Match()))),
    ("Count an empty FieldCondition", P + "Count", _count(_field(key="city"))),
    ("Count integers []", P + "Count", _count(_field(key="n", match=qgrpc.Match(
        integers=qgrpc.RepeatedIntegers(integers=[]))))),
    ("Count min_should 2**64-1 of 1", P + "Count", qgrpc.CountPoints(collection_name=COLL, filter=qgrpc.Filter(
        min_should=qgrpc.MinShould(conditions=[_match("city", keyword="Berlin")], min_count=BIG)))),
    ("Count text match of '\x00'", P + "Count", _count(_field(key="txt", match=qgrpc.Match(text="\x00")))),
    ("Count has_id with an empty id", P + "Count", _count(qgrpc.Condition(has_id=qgrpc.HasIdCondition(
        has_id=[qgrpc.PointId()])))),
    ("Count an empty Condition", P + "Count", _count(qgrpc.Condition())),
    ("Count key 'a[0]'", P + "Count", _count(_field(key="nested.y[0]", match=qgrpc.Match(integer=1)))),
    ("Create size 100000", CO + "Create", _create(vectors_config=_params(size=100_000))),
    ("Create size 2**31", CO + "Create", _create(vectors_config=_params(size=2 ** 31))),
    ("Create size 2**64-1", CO + "Create", _create(vectors_config=_params(size=BIG))),
    ("Create size 2**63", CO + "Create", _create(vectors_config=_params(size=2 ** 63))),
    ("Create size 4 (after the one above)", CO + "Create", _create(vectors_config=_params(size=4))),
    ("Create distance 99", CO + "Create", _create(vectors_config=_params(distance=99))),
    ("Create distance Unknown", CO + "Create", _create(vectors_config=_params(distance=0))),
    ("Create datatype 99", CO + "Create", _create(vectors_config=_params(datatype=99))),
    ("Create hnsw m 2**64-1", CO + "Create", _create(vectors_config=_params(), hnsw_config=qgrpc.HnswConfigDiff(m=BIG))),
    ("Create hnsw max_indexing_threads 2**64-1", CO + "Create", _create(
        vectors_config=_params(), hnsw_config=qgrpc.HnswConfigDiff(max_indexing_threads=BIG))),
    ("Create optimizers deleted_threshold NaN", CO + "Create", _create(
        vectors_config=_params(), optimizers_config=qgrpc.OptimizersConfigDiff(deleted_threshold=NAN))),
    ("Create metadata NaN", CO + "Create", _create(vectors_config=_params(), metadata={"x": qgrpc.Value(
        double_value=NAN)})),
    ("Create shard_number 0", CO + "Create", _create(vectors_config=_params(), shard_number=0)),
    ("Create an empty VectorsConfig", CO + "Create", _create(vectors_config=qgrpc.VectorsConfig())),
    ("Create a vector named ''", CO + "Create", _create(vectors_config=qgrpc.VectorsConfig(
        params_map=qgrpc.VectorParamsMap(map={"": qgrpc.VectorParams(size=2, distance=qgrpc.Distance.Dot)})))),
    ("Create dense and sparse of one name", CO + "Create", _create(vectors_config=qgrpc.VectorsConfig(
        params_map=qgrpc.VectorParamsMap(map={"x": qgrpc.VectorParams(size=2, distance=qgrpc.Distance.Dot)})),
        sparse_vectors_config=qgrpc.SparseVectorConfig(map={"x": qgrpc.SparseVectorParams()}))),
    ("Create sparse modifier 99", CO + "Create", _create(sparse_vectors_config=qgrpc.SparseVectorConfig(
        map={"x": qgrpc.SparseVectorParams(modifier=99)}))),
    ("Create the fixed collection again", CO + "Create", _create_request(COLL)),
    ("CreateFieldIndex type 99", P + "CreateFieldIndex", qgrpc.CreateFieldIndexCollection(
        collection_name=COLL, wait=True, field_name="tags", field_type=99)),
    ("CreateFieldIndex key ''", P + "CreateFieldIndex", qgrpc.CreateFieldIndexCollection(
        collection_name=COLL, wait=True, field_name="", field_type=qgrpc.FieldType.FieldTypeKeyword)),
    ("CreateFieldIndex a type that does not fit the values", P + "CreateFieldIndex", qgrpc.CreateFieldIndexCollection(
        collection_name=COLL, wait=True, field_name="city", field_type=qgrpc.FieldType.FieldTypeDatetime)),
    ("CreateFieldIndex text, tokenizer 99, min_token_len 2**64-1", P + "CreateFieldIndex",
     qgrpc.CreateFieldIndexCollection(collection_name=COLL, wait=True, field_name="txt",
                                      field_type=qgrpc.FieldType.FieldTypeText,
                                      field_index_params=qgrpc.PayloadIndexParams(text_index_params=qgrpc.TextIndexParams(
                                          tokenizer=99, min_token_len=BIG, max_token_len=0)))),
    ("DeleteFieldIndex of no index", P + "DeleteFieldIndex", qgrpc.DeleteFieldIndexCollection(
        collection_name=COLL, wait=True, field_name="nope")),
    ("Delete an empty selector", P + "Delete", qgrpc.DeletePoints(collection_name=COLL, wait=True,
                                                                 points=qgrpc.PointsSelector())),
    ("Delete no ids", P + "Delete", qgrpc.DeletePoints(collection_name=COLL, wait=True, points=_ids())),
    ("Collections Delete ''", CO + "Delete", qgrpc.DeleteCollection(collection_name="")),
    ("Collections Get of 5000 characters", CO + "Get", qgrpc.GetCollectionInfoRequest(collection_name="é" * 5000)),
]


def test_listed_requests(door):
    _each([(f"{label} ({path})", (path, msg)) for label, path, msg in LISTED], lambda case: run(door, *case))


def test_server_memory_is_bounded(door):
    """After everything above the server is alive and its RSS under the bound."""
    assert door.alive(), f"the server died:\n{door.server.log()[-3000:]}"
    rss = door.rss()
    assert rss < RSS_LIMIT, f"server RSS {rss >> 20} MiB is over {RSS_LIMIT >> 20} MiB"


def test_restart_after_fuzzing_keeps_the_collection(door):
    """Last: after the fuzzing and one more of each valid write (all through the write-ahead log
    and its checkpoints), a restart reads the same collections and the same points back."""
    door.fresh_snapshot()
    for path, messages in TEMPLATES.items():  # every kind of write, applied one after the other
        if METHOD[path].kind == "write":
            for msg in messages:
                reply = door.call(path, msg.SerializeToString())
                assert reply.code in (C.OK, C.NOT_FOUND), f"a valid write failed{reply}"
    before, names = door.snapshot(), door.names()
    assert before != door.baseline
    door.channel.close()
    assert door.server.stop() == 0, f"the server did not stop cleanly:\n{door.server.log()[-3000:]}"
    door.server.start()
    door.connect()
    assert door.names() == names
    after = door.snapshot()
    assert after == before, f"the collection changed over a restart:\n{_diff(before, after)}"
