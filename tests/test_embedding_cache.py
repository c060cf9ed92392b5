"""The persistent embedding cache: a hit is the miss's vector bit for bit, reported in usage
on both doors, kept across restarts, bounded on disk, free of provider keys, the source of
MRL sizes, off at 0, and a damaged file never fails a request.

Servers run as subprocesses (conftest) with the real MiniLM and the provider emulators. The
unit tests at the end drive the cache module itself (no protos in it)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.protobuf.unknown_fields import UnknownFieldSet
from qdrant_client import grpc as qgrpc
from qdrant_client import models

from conftest import gateway_in_front, make_client
from provider_emulators import VALID_KEY
from rest_http import call
from vecinfer.config import Settings
from vecinfer.domain.inference import Document, Image, split_secrets
from vecinfer.inference import cache as cache_module
from vecinfer.inference.cache import EmbeddingCache, encode, key_digest

MINILM = "sentence-transformers/all-minilm-l6-v2"
OPENAI = "openai/text-embedding-3-small"
CACHE_HITS_FIELD = 1001  # ModelUsage.cache_hits, unknown to qdrant-client's protos
MiB = 1 << 20
# The cache at its default size, said explicitly: other tests may run servers with it off.
ON = {"VECINFER_EMBEDDING_CACHE_BYTES": str(256 * MiB)}


def cache_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.glob("embeddings.sqlite*") if p.is_file())


def disk_bytes(directory: Path) -> int:
    return sum(p.stat().st_size for p in cache_files(directory) if "damaged" not in p.name)


def create(server, name: str, vectors: dict) -> None:
    status, _, body = call(server.http_port, "PUT", f"/collections/{name}", {"vectors": vectors})
    assert status == 200, body


def rest_query(server, name: str, document: dict, using: str | None = None, headers: dict | None = None) -> dict:
    body: dict = {"query": document, "limit": 1}
    if using:
        body["using"] = using
    status, _, answer = call(server.http_port, "POST", f"/collections/{name}/points/query", body, headers=headers)
    assert status == 200, answer
    return answer["usage"]["inference"]["models"]


def rest_upsert(server, name: str, points: list[dict]) -> dict:
    status, _, answer = call(server.http_port, "PUT", f"/collections/{name}/points?wait=true", {"points": points})
    assert status == 200, answer
    return answer["usage"]["inference"]["models"]


def grpc_vectors(server, name: str, ids: list[int]) -> dict:
    """Stored vectors as float32 arrays (the gRPC door sends them as packed float32)."""
    with grpc.insecure_channel(server.grpc_address) as channel:
        reply = qgrpc.PointsStub(channel).Get(qgrpc.GetPoints(
            collection_name=name, ids=[qgrpc.PointId(num=i) for i in ids],
            with_vectors=qgrpc.WithVectorsSelector(enable=True)), timeout=30)
    out = {}
    for point in reply.result:
        if point.vectors.HasField("vector"):
            out[point.id.num] = np.array(point.vectors.vector.dense.data, dtype=np.float32)
        else:
            out[point.id.num] = {k: np.array(v.dense.data, dtype=np.float32) for k, v in point.vectors.vectors.vectors.items()}
    return out


def grpc_query_usage(server, name: str, text: str, model: str = MINILM) -> dict[str, tuple[int, int]]:
    """{model: (tokens, cache_hits)} of a gRPC Query, through qdrant-client's own protos."""
    with grpc.insecure_channel(server.grpc_address) as channel:
        reply = qgrpc.PointsStub(channel).Query(qgrpc.QueryPoints(collection_name=name, query=qgrpc.Query(
            nearest=qgrpc.VectorInput(document=qgrpc.Document(text=text, model=model)))), timeout=30)
    out = {}
    for model_name, usage in reply.usage.inference.models.items():
        hits = [f.data for f in UnknownFieldSet(usage) if f.field_number == CACHE_HITS_FIELD]
        out[model_name] = (usage.tokens, hits[0] if hits else 0)
    return out


def is_miss(usage: dict, model: str = MINILM) -> bool:
    """Computed: tokens spent, nothing from the cache."""
    return set(usage) == {model} and usage[model]["tokens"] > 0 and "cache_hits" not in usage[model]


def metric(server, name: str) -> float:
    status, _, text = call(server.http_port, "GET", "/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


def wait_for_writes(server, entries: int, timeout: float = 20) -> None:
    """Cache writes run after the answer: wait until the cache holds `entries`."""
    deadline = time.monotonic() + timeout
    while metric(server, "vecinfer_embedding_cache_entries") < entries:
        assert time.monotonic() < deadline, "cache writes did not land"
        time.sleep(0.05)


# ------------------------------------------------------------------------------- servers


def test_a_hit_is_the_miss_bit_for_bit_and_usage_says_so_on_both_doors(server_factory, tmp_path):
    server = server_factory(env=ON).start()
    create(server, "c", {"size": 384, "distance": "Dot"})  # Dot: stored as computed, no normalising
    text = "Recipe for baking chocolate chip cookies"
    first = rest_upsert(server, "c", [{"id": 1, "vector": {"text": text, "model": MINILM}}])
    assert first == {MINILM: {"tokens": 8}}
    wait_for_writes(server, 1)
    second = rest_upsert(server, "c", [{"id": 2, "vector": {"text": text, "model": MINILM}}])
    assert second == {MINILM: {"tokens": 0, "cache_hits": 1}}
    vectors = grpc_vectors(server, "c", [1, 2])
    assert vectors[1].tobytes() == vectors[2].tobytes()

    # Queries are their own entries (models may prefix them): a miss, then a hit, on gRPC.
    assert grpc_query_usage(server, "c", text) == {MINILM: (8, 0)}
    wait_for_writes(server, 2)
    assert grpc_query_usage(server, "c", text) == {MINILM: (0, 1)}
    # A request mixing a hit and a miss: tokens only for what was computed.
    mixed = rest_upsert(server, "c", [{"id": 3, "vector": {"text": text, "model": MINILM}},
                                      {"id": 4, "vector": {"text": text + "!", "model": MINILM}}])
    assert mixed == {MINILM: {"tokens": 9, "cache_hits": 1}}

    # qdrant-client 1.20 reads the answers on both doors (pydantic ignores the extra JSON
    # field; protobuf keeps the extra field as unknown).
    for prefer_grpc in (True, False):
        client = make_client(server, prefer_grpc=prefer_grpc, cloud_inference=True)
        client.upsert("c", points=[models.PointStruct(id=5, vector=models.Document(text=text, model=MINILM))])
        hits = client.query_points("c", query=models.Document(text=text, model=MINILM), limit=1).points
        assert hits and hits[0].id in (1, 2, 3, 5)
        client.close()
    assert metric(server, 'vecinfer_embedding_cache_lookups_total{outcome="hit"}') >= 4


def labelled(server, name: str, label: str) -> float:
    status, _, text = call(server.http_port, "GET", "/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + "{") and label in line:
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name}{{{label}}} not in /metrics")


def test_grpc_hits_are_answered_on_the_worker_without_the_event_loop(server_factory, tmp_path):
    server = server_factory(env=ON).start()
    create(server, "c", {"size": 384, "distance": "Dot"})
    create(server, "m", {"size": 32, "distance": "Dot"})
    loop_calls = "vecinfer_grpc_loop_calls_total"
    text = "Lighthouses guide ships along rocky coasts"

    def upsert(collection: str, points: dict[int, str], options: dict | None = None) -> tuple[float, dict]:
        before = metric(server, loop_calls)
        with grpc.insecure_channel(server.grpc_address) as channel:
            reply = qgrpc.PointsStub(channel).Upsert(qgrpc.UpsertPoints(collection_name=collection, wait=True, points=[
                qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=qgrpc.Vector(
                    document=qgrpc.Document(text=t, model=MINILM, options={
                        k: qgrpc.Value(integer_value=v) for k, v in (options or {}).items()}))))
                for i, t in points.items()]), timeout=60)
        usage = {}
        for name, model_usage in reply.usage.inference.models.items():
            hits = [f.data for f in UnknownFieldSet(model_usage) if f.field_number == CACHE_HITS_FIELD]
            usage[name] = (model_usage.tokens, hits[0] if hits else 0)
        return metric(server, loop_calls) - before, usage

    loop, usage = upsert("c", {1: text})
    assert loop == 1 and usage[MINILM][0] > 0 and usage[MINILM][1] == 0  # a miss: the model runs on the loop
    tokens = usage[MINILM][0]
    wait_for_writes(server, 1)
    assert upsert("c", {2: text}) == (0, {MINILM: (0, 1)})  # a hit: answered on the worker
    vectors = grpc_vectors(server, "c", [1, 2])
    assert vectors[1].tobytes() == vectors[2].tobytes()

    # Queries: a miss, then a hit that never reaches the loop, with the same answer.
    before = metric(server, loop_calls)
    assert grpc_query_usage(server, "c", text) == {MINILM: (tokens, 0)}
    wait_for_writes(server, 2)
    assert grpc_query_usage(server, "c", text) == {MINILM: (0, 1)}
    assert metric(server, loop_calls) == before + 1

    # A request mixing a hit and a miss goes to the loop, and its lookups are counted once.
    hits, misses = (labelled(server, "vecinfer_embedding_cache_lookups_total", f'outcome="{o}"') for o in ("hit", "miss"))
    loop, usage = upsert("c", {3: text, 4: text + " and harbours"})
    assert loop == 1 and usage[MINILM][0] > tokens and usage[MINILM][1] == 1
    assert labelled(server, "vecinfer_embedding_cache_lookups_total", 'outcome="hit"') == hits + 1
    assert labelled(server, "vecinfer_embedding_cache_lookups_total", 'outcome="miss"') == misses + 1

    # MRL on the worker: the smaller vector is cut from the cached full one, as the REST door
    # (which resolves on the loop) cuts it.
    assert upsert("m", {1: text}, {"mrl": 32}) == (0, {MINILM: (0, 1)})
    small = {"text": text, "model": MINILM, "options": {"mrl": 32}}
    assert rest_upsert(server, "m", [{"id": 2, "vector": small}]) == {MINILM: {"tokens": 0, "cache_hits": 1}}
    cut = grpc_vectors(server, "m", [1, 2])
    assert len(cut[1]) == 32 and cut[1].tobytes() == cut[2].tobytes()


def test_the_cache_survives_a_restart(server_factory, tmp_path):
    server = server_factory(env=ON)
    server.start()
    create(server, "c", {"size": 384, "distance": "Dot"})
    text = "How to bake cookies?"
    assert is_miss(rest_upsert(server, "c", [{"id": 1, "vector": {"text": text, "model": MINILM}}]))
    server.stop()
    server.start()
    assert rest_upsert(server, "c", [{"id": 2, "vector": {"text": text, "model": MINILM}}]) == {
        MINILM: {"tokens": 0, "cache_hits": 1}}
    vectors = grpc_vectors(server, "c", [1, 2])
    assert vectors[1].tobytes() == vectors[2].tobytes()
    server.kill()  # no orderly close: what was written before is still there
    server.start()
    assert is_miss(rest_query(server, "c", {"text": text, "model": MINILM}))
    wait_for_writes(server, 2)
    server.kill()
    server.start()
    assert rest_query(server, "c", {"text": text, "model": MINILM}) == {MINILM: {"tokens": 0, "cache_hits": 1}}


def test_the_cache_stays_within_its_bound_and_evicts_the_least_recently_used(server_factory, tmp_path, emulator):
    bound = 1 * MiB
    server = server_factory(env={**emulator.env(), "VECINFER_EMBEDDING_CACHE_BYTES": str(bound)}).start()
    directory = tmp_path / "storage" / "embedding-cache"
    create(server, "c", {"size": 1536, "distance": "Dot"})
    key = {"openai-api-key": VALID_KEY}
    texts = [f"passage number {i} about cookies" for i in range(400)]  # 6 KiB each: 2.4 MiB in all
    kept = texts[0]
    for start in range(0, len(texts), 20):
        points = [{"id": i, "vector": {"text": texts[i], "model": OPENAI, "options": key}} for i in range(start, start + 20)]
        rest_upsert(server, "c", points)
        # One early text in use all along stays; its neighbours fall out.
        rest_upsert(server, "c", [{"id": 10_000, "vector": {"text": kept, "model": OPENAI, "options": key}}])
        assert disk_bytes(directory) <= bound + (256 << 10)  # while a write runs: the bound and that write
    time.sleep(1)
    entries = metric(server, "vecinfer_embedding_cache_entries")
    assert 50 <= entries <= bound // 6144
    assert metric(server, "vecinfer_embedding_cache_evictions_total") >= 400 - entries
    assert metric(server, "vecinfer_embedding_cache_bytes") <= bound
    assert disk_bytes(directory) <= bound
    usage = rest_upsert(server, "c", [{"id": 20_000, "vector": {"text": kept, "model": OPENAI, "options": key}},
                                      {"id": 20_001, "vector": {"text": texts[-1], "model": OPENAI, "options": key}}])
    assert usage[OPENAI]["cache_hits"] == 2
    usage = rest_upsert(server, "c", [{"id": 20_002, "vector": {"text": texts[1], "model": OPENAI, "options": key}}])
    assert is_miss(usage, OPENAI)  # evicted: computed again
    server.stop()
    assert disk_bytes(directory) <= bound
    with sqlite3.connect(f"file:{directory / 'embeddings.sqlite'}?mode=ro", uri=True) as db:
        count, largest = db.execute("SELECT count(*), max(length(value)) FROM entries").fetchone()
    assert count * largest <= bound and largest == 1536 * 4


def test_provider_keys_never_enter_the_cache_and_a_hit_still_needs_one(server_factory, tmp_path, emulator):
    server = server_factory(env={**emulator.env(), **ON}).start()
    create(server, "c", {"v": {"size": 1536, "distance": "Dot"}})
    key = {"openai-api-key": VALID_KEY}
    for text in ("in options", "also in options"):
        usage = rest_upsert(server, "c", [{"id": 1, "vector": {"v": {"text": text, "model": OPENAI, "options": key}}}])
        assert usage[OPENAI]["tokens"] > 0
    rest_query(server, "c", {"text": "as a header", "model": OPENAI}, using="v", headers=key)
    with grpc.insecure_channel(server.grpc_address) as channel:
        qgrpc.PointsStub(channel).Query(qgrpc.QueryPoints(collection_name="c", using="v", query=qgrpc.Query(
            nearest=qgrpc.VectorInput(document=qgrpc.Document(text="as metadata", model=OPENAI)))),
            metadata=[("openai-api-key", VALID_KEY)], timeout=30)
    wait_for_writes(server, 4)
    # A hit without a key fails as the miss would, naming the option, on both doors.
    status, _, body = call(server.http_port, "POST", "/collections/c/points/query",
                           {"query": {"text": "as a header", "model": OPENAI}, "using": "v"})
    assert status == 400 and "openai-api-key" in body["status"]["error"], body
    with grpc.insecure_channel(server.grpc_address) as channel, pytest.raises(grpc.RpcError) as err:
        qgrpc.PointsStub(channel).Query(qgrpc.QueryPoints(collection_name="c", using="v", query=qgrpc.Query(
            nearest=qgrpc.VectorInput(document=qgrpc.Document(text="as metadata", model=OPENAI)))), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "openai-api-key" in err.value.details()
    assert rest_query(server, "c", {"text": "as a header", "model": OPENAI}, using="v", headers=key) == {
        OPENAI: {"tokens": 0, "cache_hits": 1}}
    server.stop()
    files = cache_files(tmp_path / "storage" / "embedding-cache")
    assert files and sum(p.stat().st_size for p in files) > 4 * 1536 * 4
    for path in files:
        data = path.read_bytes()
        assert VALID_KEY.encode() not in data and b"openai-api-key" not in data, path
        assert b"in options" not in data, path  # inputs are kept as digests only


def test_mrl_sizes_come_from_the_cached_full_vector(server_factory, tmp_path, emulator):
    key = {"openai-api-key": VALID_KEY}
    vectors = {"large": {"size": 1536, "distance": "Dot"}, "small": {"size": 64, "distance": "Dot"}}
    text = "matryoshka dolls nest inside one another"
    cached = server_factory(env={**emulator.env(), **ON}).start()
    create(cached, "c", vectors)
    rest_upsert(cached, "c", [{"id": 1, "vector": {"large": {"text": text, "model": OPENAI, "options": key}}}])
    wait_for_writes(cached, 1)
    emulator.clear()
    usage = rest_upsert(cached, "c", [{"id": 2, "vector": {
        "small": {"text": text, "model": OPENAI, "options": {**key, "mrl": 64}}}}])
    assert usage == {OPENAI: {"tokens": 0, "cache_hits": 1}} and not emulator.of("openai")
    plain = server_factory(tmp_path / "plain", env={**emulator.env(), "VECINFER_EMBEDDING_CACHE_BYTES": "0"}).start()
    create(plain, "c", vectors)
    usage = rest_upsert(plain, "c", [{"id": 2, "vector": {"small": {"text": text, "model": OPENAI, "options": {**key, "mrl": 64}}}}])
    assert is_miss(usage, OPENAI)
    from_cache, computed = grpc_vectors(cached, "c", [2])[2]["small"], grpc_vectors(plain, "c", [2])[2]["small"]
    assert len(from_cache) == 64 and from_cache.tobytes() == computed.tobytes()
    # And a local model: MiniLM's 384 cut to 32 from the cached full vector.
    for server in (cached, plain):
        create(server, "full", {"size": 384, "distance": "Dot"})
        create(server, "m", {"size": 32, "distance": "Dot"})
    rest_upsert(cached, "full", [{"id": 1, "vector": {"text": text, "model": MINILM}}])
    wait_for_writes(cached, 2)
    small = {"id": 1, "vector": {"text": text, "model": MINILM, "options": {"mrl": 32}}}
    assert rest_upsert(cached, "m", [small]) == {MINILM: {"tokens": 0, "cache_hits": 1}}
    assert rest_upsert(plain, "m", [small])[MINILM]["tokens"] > 0
    from_cache, computed = grpc_vectors(cached, "m", [1])[1], grpc_vectors(plain, "m", [1])[1]
    assert len(from_cache) == 32 and from_cache.tobytes() == computed.tobytes()


def test_zero_turns_the_cache_off(server_factory, tmp_path):
    server = server_factory(env={"VECINFER_EMBEDDING_CACHE_BYTES": "0"}).start()
    create(server, "c", {"size": 384, "distance": "Cosine"})
    for _ in range(2):
        assert is_miss(rest_query(server, "c", {"text": "no cache here", "model": MINILM}))
    assert not (tmp_path / "storage" / "embedding-cache").exists()


def test_a_damaged_cache_file_is_moved_aside_and_requests_go_on(server_factory, tmp_path):
    server = server_factory(env=ON)
    server.start()
    directory = tmp_path / "storage" / "embedding-cache"
    create(server, "c", {"size": 384, "distance": "Cosine"})
    assert is_miss(rest_query(server, "c", {"text": "cookies", "model": MINILM}))
    server.stop()
    database = directory / "embeddings.sqlite"
    size = database.stat().st_size
    database.write_bytes(b"not a database, whatever it was " * (size // 32 + 1))
    server.start()
    assert is_miss(rest_query(server, "c", {"text": "cookies", "model": MINILM}))
    wait_for_writes(server, 1)
    assert rest_query(server, "c", {"text": "cookies", "model": MINILM}) == {MINILM: {"tokens": 0, "cache_hits": 1}}
    (aside,) = directory.glob("embeddings.sqlite.damaged-*[0-9]")
    assert aside.read_bytes().startswith(b"not a database")
    assert "is damaged" in server.log() and str(aside.name) in server.log()


def test_the_gateway_caches_and_merges_hits_into_the_upstreams_usage(tmp_path, monkeypatch):
    monkeypatch.setenv("VECINFER_EMBEDDING_CACHE_DIR", str(tmp_path / "gateway-cache"))
    monkeypatch.setenv("VECINFER_EMBEDDING_CACHE_BYTES", ON["VECINFER_EMBEDDING_CACHE_BYTES"])
    with gateway_in_front(tmp_path) as (gateway, upstream):
        create(gateway, "c", {"size": 384, "distance": "Cosine"})
        assert is_miss(rest_query(gateway, "c", {"text": "through the gateway", "model": MINILM}))
        wait_for_writes(gateway, 1)
        assert rest_query(gateway, "c", {"text": "through the gateway", "model": MINILM}) == {
            MINILM: {"tokens": 0, "cache_hits": 1}}
        # The same query on the gRPC door: one cache for both doors, hits merged there too.
        assert grpc_query_usage(gateway, "c", "through the gateway") == {MINILM: (0, 1)}
    assert cache_files(tmp_path / "gateway-cache")


# ------------------------------------------------------------------------------- unit


def _doc(text: str, model: str = OPENAI, **options) -> Document:
    plain, secrets = split_secrets(options)
    return Document(model=model, text=text, options=plain, secrets=secrets)


def test_keys_leave_out_provider_keys_and_mrl_and_keep_what_changes_the_vector():
    base = key_digest("id", "query", _doc("t", dimensions=64))
    assert key_digest("id", "query", _doc("t", dimensions=64, **{"openai-api-key": "sk-1"})) == base
    assert key_digest("id", "query", _doc("t", dimensions=64, mrl=32)) == base
    assert key_digest("id", "query", Document(model=OPENAI, text="t", options={"dimensions": 64, "X-API-KEY": "k"})) == base
    others = {
        key_digest("id", "document", _doc("t", dimensions=64)),  # models prefix queries, not documents
        key_digest("other", "query", _doc("t", dimensions=64)),  # another model file or base URL
        key_digest("id", "query", _doc("t", dimensions=32)),
        key_digest("id", "query", _doc("t ", dimensions=64)),
        key_digest("id", "query", _doc("t", "openai/text-embedding-3-large", dimensions=64)),
        key_digest("id", "query", Image(model=OPENAI, image="t", options={"dimensions": 64})),
    }
    assert base not in others and len(others) == 6
    assert key_digest("id", "query", _doc("t", "OpenAI/Text-Embedding-3-Small", dimensions=64)) == base


def test_only_float32_vectors_are_kept_and_they_come_back_bit_for_bit():
    vector = np.random.default_rng(1).standard_normal(384).astype(np.float32)
    vector[0], vector[1] = np.float32(-0.0), np.nextafter(np.float32(0), np.float32(1))  # signed zero, subnormal
    blob = encode(vector)
    assert blob is not None and cache_module.decode(blob).tobytes() == vector.tobytes()
    assert cache_module.decode(blob).flags.writeable
    assert encode(vector.astype(np.float64)) is None and encode(vector.reshape(2, -1)) is None and encode([1.0]) is None


def _fill(cache: EmbeddingCache, count: int, dim: int = 384, start: int = 0) -> list[bytes]:
    digests = [i.to_bytes(32, "big") for i in range(start, start + count)]
    vector = encode(np.ones(dim, dtype=np.float32))
    assert vector is not None
    for i in range(0, count, 10):
        cache.put_many([(d, vector) for d in digests[i:i + 10]])
    return digests


def test_eviction_keeps_the_files_within_the_bound_and_the_recently_used(tmp_path):
    cache = EmbeddingCache(tmp_path, MiB)
    first = _fill(cache, 50)
    for round_ in range(20):
        cache.get_many(first[:5])  # in use all along: these stay
        _fill(cache, 100, start=1000 + 100 * round_)
        assert cache.disk_bytes() <= MiB
    held = cache.get_many(first)
    assert all(v is not None for v in held[:5]) and all(v is None for v in held[5:])
    stats = cache.stats()
    assert 300 <= stats.entries <= MiB // 1536
    cache.close()
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) <= MiB


def test_a_lowered_bound_evicts_on_open(tmp_path):
    cache = EmbeddingCache(tmp_path, 4 * MiB)
    _fill(cache, 2000)
    cache.close()
    assert sum(p.stat().st_size for p in tmp_path.iterdir()) > 2 * MiB
    cache = EmbeddingCache(tmp_path, MiB)
    assert cache.disk_bytes() <= MiB
    cache.close()


def test_damage_is_moved_aside_at_open_and_on_read(tmp_path):
    cache = EmbeddingCache(tmp_path, MiB)
    digests = _fill(cache, 20)
    cache.close()
    # A row whose value no longer matches its checksum (bit rot SQLite cannot see).
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as db:
        db.execute("UPDATE entries SET value = zeroblob(1536) WHERE digest = ?", (digests[3],))
    db.close()
    cache = EmbeddingCache(tmp_path, MiB)
    assert cache.get_many(digests[:5]) == [None] * 5  # served as misses, never an error
    assert len(list(tmp_path.glob("embeddings.sqlite.damaged-*[0-9]"))) == 1
    assert cache.stats().entries == 0
    _fill(cache, 3)  # the new file works
    assert all(v is not None for v in cache.get_many(digests[:3]))
    cache.close()
    # A file of another format (or not a database at all) is moved aside when opened.
    for path in tmp_path.glob("embeddings.sqlite.damaged-*"):
        path.unlink()
    with sqlite3.connect(tmp_path / "embeddings.sqlite") as db:
        db.execute("PRAGMA user_version = 99")
    db.close()
    cache = EmbeddingCache(tmp_path, MiB)
    assert cache.get_many(digests[:1]) == [None]
    assert len(list(tmp_path.glob("embeddings.sqlite.damaged-*[0-9]"))) == 1
    cache.close()


def test_an_unusable_directory_turns_the_cache_off_with_a_reason(tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings = Settings(embedding_cache_dir=blocker / "cache", embedding_cache_bytes=MiB)
    assert cache_module.open_cache(settings) is None
    assert "embedding cache off" in caplog.text
    assert cache_module.open_cache(Settings(embedding_cache_bytes=0)) is None
    assert cache_module.open_cache(Settings(embedding_cache_dir=tmp_path, embedding_cache_bytes=1000)) is None


def test_default_place_per_mode(tmp_path):
    embedded = Settings(storage_dir=tmp_path / "s", embedding_cache_dir=None)
    gateway = Settings(storage_dir=tmp_path / "s", upstream="h:1", cache_dir=tmp_path / "c",
                                embedding_cache_dir=None)
    assert cache_module.cache_dir(embedded) == tmp_path / "s" / "embedding-cache"
    assert cache_module.cache_dir(gateway) == tmp_path / "c" / "embeddings"


def test_threads_share_one_cache(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    cache = EmbeddingCache(tmp_path, 4 * MiB)
    vector = np.arange(16, dtype=np.float32)
    blob = encode(vector)
    assert blob is not None

    def work(worker: int) -> bool:
        digests = [bytes([worker]) * 16 + i.to_bytes(16, "big") for i in range(50)]
        cache.put_many([(d, blob) for d in digests])
        return all(v is not None and v.tobytes() == vector.tobytes() for v in cache.get_many(digests))

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(work, range(8)))
    assert cache.stats().entries == 400
    cache.close()
