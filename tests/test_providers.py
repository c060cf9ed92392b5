"""External providers against emulators of their published APIs (loopback HTTP servers)."""

from __future__ import annotations

import json
import time

import grpc
import numpy as np
import pytest
from qdrant_client import grpc as qgrpc
from qdrant_client import models

from conftest import ServerProcess, make_client
from provider_emulators import VALID_KEY, vector_for

KEY = {"openai-api-key": VALID_KEY}


@pytest.fixture(scope="module")
def server(tmp_path_factory, emulator):
    tmp = tmp_path_factory.mktemp("providers")
    s = ServerProcess(tmp / "storage", tmp / "server.log", env={
        **emulator.env(), "VECINFER_PROVIDER_TIMEOUT_SECONDS": "2", "VECINFER_PROVIDER_MAX_ATTEMPTS": "3",
        "VECINFER_IMAGE_ALLOW_PRIVATE_NETWORKS": "true", "VECINFER_LOG_LEVEL": "DEBUG",
    }).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def client(server):
    c = make_client(server, cloud_inference=True)
    yield c
    c.close()


@pytest.fixture
def emu(emulator):
    emulator.clear()
    return emulator


def collection(client, name: str, **sizes: int) -> str:
    if client.collection_exists(name):
        client.delete_collection(name)
    client.create_collection(name, vectors_config={n: models.VectorParams(size=s, distance=models.Distance.COSINE) for n, s in sizes.items()})
    return name


def doc(text: str, model: str, **options) -> models.Document:
    return models.Document(text=text, model=model, options=options)


def test_openai_request_shape(client, emu):
    name = collection(client, "p_openai", v=512)
    client.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("hello world", "openai/text-embedding-3-small", dimensions=512, **KEY)})])
    (call,) = emu.of("openai")
    assert call.path == "/openai/v1/embeddings"
    assert call.authorization == f"Bearer {VALID_KEY}"
    assert call.body == {"model": "text-embedding-3-small", "input": ["hello world"], "encoding_format": "float", "dimensions": 512}
    (point,) = client.retrieve(name, ids=[1], with_vectors=True)
    assert np.allclose(point.vector["v"], vector_for("hello world", 512), atol=1e-6)


def test_cohere_request_shape_and_input_types(client, emu):
    name = collection(client, "p_cohere", v=1536)
    key = {"cohere-api-key": VALID_KEY}
    client.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("a passage", "cohere/embed-v4.0", **key)})])
    client.query_points(name, query=doc("a question", "cohere/embed-v4.0", **key), using="v")
    client.query_points(name, query=doc("a question", "cohere/embed-v4.0", input_type="classification", **key), using="v")
    upsert, query, given = emu.of("cohere")
    assert upsert.path == "/cohere/v2/embed" and upsert.authorization == f"Bearer {VALID_KEY}"
    assert upsert.body == {"model": "embed-v4.0", "input_type": "search_document", "embedding_types": ["float"], "texts": ["a passage"]}
    assert query.body["input_type"] == "search_query"
    assert given.body["input_type"] == "classification"


def test_cohere_images_arrive_as_data_urls(client, emu, clip_models):
    name = collection(client, "p_cohere_img", v=1536)
    key = {"cohere-api-key": VALID_KEY}
    url = f"http://127.0.0.1:{emu.port}/img.png"
    client.upsert(name, points=[
        models.PointStruct(id=1, vector={"v": models.Image(image=url, model="cohere/embed-v4.0", options=key)}),
        models.PointStruct(id=2, vector={"v": models.Image(image=clip_models.png_base64("red"), model="cohere/embed-v4.0", options=key)}),
    ])
    calls = emu.of("cohere")
    assert len(calls) == 2  # Cohere takes one image per call
    images = sorted(c.body["images"][0] for c in calls)
    assert all(i.startswith("data:image/png;base64,") for i in images)
    assert all(c.body["input_type"] == "search_document" for c in calls)


def test_jina_request_shape_with_text_and_image(client, emu):
    name = collection(client, "p_jina", v=1024)
    key = {"jina-api-key": VALID_KEY}
    url = f"http://127.0.0.1:{emu.port}/img.png"
    client.upsert(name, points=[
        models.PointStruct(id=1, vector={"v": doc("a cat", "jinaai/jina-clip-v2", **key)}),
        models.PointStruct(id=2, vector={"v": models.Image(image=url, model="jinaai/jina-clip-v2", options=key)}),
    ])
    client.query_points(name, query=doc("cat", "jinaai/jina-clip-v2", **key), using="v")
    upsert, query = emu.of("jina")
    assert upsert.path == "/jina/v1/embeddings" and upsert.authorization == f"Bearer {VALID_KEY}"
    assert upsert.body["model"] == "jina-clip-v2" and upsert.body["task"] == "retrieval.passage"
    assert sorted(map(str, upsert.body["input"])) == sorted([str({"text": "a cat"}), str({"image": url})])
    assert query.body["task"] == "retrieval.query"


def test_openrouter_request_shape(client, emu):
    name = collection(client, "p_openrouter", v=1024)
    client.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("bonjour", "openrouter/mistralai/mistral-embed-2312",
                                                                         **{"openrouter-api-key": VALID_KEY})})])
    (call,) = emu.of("openrouter")
    assert call.path == "/openrouter/api/v1/embeddings"
    assert call.body == {"model": "mistralai/mistral-embed-2312", "input": ["bonjour"], "encoding_format": "float"}


def test_repeated_document_is_one_upstream_call(client, emu):
    name = collection(client, "p_dedup", v=1536)
    client.upsert(name, points=[models.PointStruct(id=i, vector={"v": doc("same text", "openai/text-embedding-3-small", **KEY)})
                                for i in range(50)])
    (call,) = emu.of("openai")
    assert call.body["input"] == ["same text"]
    assert client.count(name).count == 50


def test_distinct_documents_share_one_call_per_model(client, emu):
    name = collection(client, "p_grouped", v=1536)
    client.upsert(name, points=[models.PointStruct(id=i, vector={"v": doc(f"text {i}", "openai/text-embedding-3-small", **KEY)})
                                for i in range(30)])
    (call,) = emu.of("openai")
    assert len(call.body["input"]) == 30


def test_large_and_small_mrl_pair_is_one_call(client, emu):
    name = collection(client, "p_mrl_pair", large=3072, small=64)
    text = "Matryoshka embeddings nest smaller vectors"
    client.upsert(name, points=[models.PointStruct(id=1, vector={
        "large": doc(text, "openai/text-embedding-3-large", **KEY),
        "small": doc(text, "openai/text-embedding-3-large", mrl=64, **KEY),
    })])
    (call,) = emu.of("openai")
    assert "mrl" not in call.body and call.body["input"] == [text]
    (point,) = client.retrieve(name, ids=[1], with_vectors=True)
    full = np.array(vector_for(text, 3072))
    assert np.allclose(point.vector["large"], full, atol=1e-6)
    expected_small = full[:64] / np.linalg.norm(full[:64])
    assert np.allclose(point.vector["small"], expected_small, atol=1e-6)


def test_seed_mrl_flow_through_the_client(client, emu):
    name = collection(client, "p_mrl_flow", large=3072, small=64)
    model = "openai/text-embedding-3-large"
    texts = ["Qdrant is a vector database", "Cats sleep most of the day", "Vector search finds nearest neighbours",
             "The weather is sunny", "Embeddings map text to vectors"]
    client.upsert(name, points=[models.PointStruct(id=i, vector={"large": doc(t, model, **KEY), "small": doc(t, model, mrl=64, **KEY)})
                                for i, t in enumerate(texts)])
    emu.clear()
    query = texts[2]
    hits = client.query_points(name, prefetch=models.Prefetch(query=doc(query, model, mrl=64, **KEY), using="small", limit=3),
                               query=doc(query, model, **KEY), using="large", limit=2).points
    assert hits[0].id == 2 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert len(emu.of("openai")) == 1  # the prefetch and the re-score share one computation


def test_retry_after_429_honours_retry_after(client, emu):
    name = collection(client, "p_retry", v=256)
    started = time.monotonic()
    client.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("x", "openai/test-429-once", **KEY)})])
    elapsed = time.monotonic() - started
    assert len(emu.of("openai")) == 2
    second_start = emu.of("openai")[1].started - emu.of("openai")[0].started
    assert second_start >= 0.95  # waited for Retry-After: 1
    assert elapsed >= 1.0
    assert client.count(name).count == 1


def rpc_error(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


@pytest.mark.parametrize("model, options, code, needles", [
    ("openai/test-400", KEY, grpc.StatusCode.INVALID_ARGUMENT, ["openai model test-400", "maximum context length"]),
    ("openai/text-embedding-3-small", {"openai-api-key": "sk-wrong"}, grpc.StatusCode.PERMISSION_DENIED, ["openai model", "Incorrect API key"]),
    ("cohere/test-500", {"cohere-api-key": VALID_KEY}, grpc.StatusCode.UNAVAILABLE, ["cohere model test-500", "500"]),
    ("openai/test-not-numbers", KEY, grpc.StatusCode.UNAVAILABLE, ["openai model test-not-numbers", "not a list of numbers"]),
    ("jinaai/test-slow", {"jina-api-key": VALID_KEY}, grpc.StatusCode.UNAVAILABLE, ["jinaai model test-slow", "did not answer"]),
    ("openai/text-embedding-3-small", {}, grpc.StatusCode.INVALID_ARGUMENT, ["openai-api-key"]),
    ("openai/text-embedding-3-small", {"openai-api-key": "sk-a\r\nX-Injected: 1"}, grpc.StatusCode.INVALID_ARGUMENT,
     ["control characters"]),
    ("openrouter/x", {"openai-api-key": VALID_KEY}, grpc.StatusCode.INVALID_ARGUMENT, ["openrouter-api-key"]),
])
def test_error_mapping(client, emu, model, options, code, needles):
    name = collection(client, "p_errors", v=256)
    err = rpc_error(lambda: client.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("x", model, **options)})]))
    assert err.code() == code, err.details()
    for needle in needles:
        assert needle in err.details()
    assert client.count(name).count == 0


def test_persistent_429_is_resource_exhausted_with_retry_after(client, emu):
    from qdrant_client.common.client_exceptions import ResourceExhaustedResponse

    name = collection(client, "p_429", v=256)
    # The client turns RESOURCE_EXHAUSTED + `retry-after` metadata into its own exception.
    with pytest.raises(ResourceExhaustedResponse) as info:
        client.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("x", "openai/test-429", **KEY)})])
    assert info.value.retry_after_s == 1
    assert "openai model test-429" in str(info.value) and "rate limited" in str(info.value)
    assert len(emu.of("openai")) == 3  # VECINFER_PROVIDER_MAX_ATTEMPTS
    assert client.count(name).count == 0


def test_wrong_dimension_is_caught_before_writing(client, emu):
    name = collection(client, "p_dims", v=1024)
    err = rpc_error(lambda: client.upsert(name, points=[
        models.PointStruct(id=1, vector={"v": doc("ok", "jinaai/jina-embeddings-v3", **{"jina-api-key": VALID_KEY})}),
        models.PointStruct(id=2, vector={"v": doc("too big", "openai/text-embedding-3-small", **KEY)}),
    ]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "expected dim: 1024, got 1536" in err.details()
    assert client.count(name).count == 0


def test_key_from_grpc_metadata_and_options_win(server, client, emu):
    name = collection(client, "p_metadata", v=1536)
    vector = qgrpc.Vector(document=qgrpc.Document(text="from metadata", model="openai/text-embedding-3-small"))
    point = qgrpc.PointStruct(id=qgrpc.PointId(num=1), vectors=qgrpc.Vectors(vectors=qgrpc.NamedVectors(vectors={"v": vector})))
    with grpc.insecure_channel(server.grpc_address) as channel:
        stub = qgrpc.PointsStub(channel)
        stub.Upsert(qgrpc.UpsertPoints(collection_name=name, wait=True, points=[point]),
                    metadata=(("openai-api-key", VALID_KEY),), timeout=30)
        keyed = qgrpc.Vector(document=qgrpc.Document(text="option key", model="openai/text-embedding-3-small",
                                                     options={"openai-api-key": qgrpc.Value(string_value=VALID_KEY)}))
        point2 = qgrpc.PointStruct(id=qgrpc.PointId(num=2), vectors=qgrpc.Vectors(vectors=qgrpc.NamedVectors(vectors={"v": keyed})))
        stub.Upsert(qgrpc.UpsertPoints(collection_name=name, wait=True, points=[point2]),
                    metadata=(("openai-api-key", "sk-wrong"),), timeout=30)
    assert [c.authorization for c in emu.of("openai")] == [f"Bearer {VALID_KEY}"] * 2
    assert client.count(name).count == 2


def test_different_providers_run_concurrently(client, emu):
    name = collection(client, "p_concurrent", a=256, b=256)
    client.upsert(name, points=[models.PointStruct(id=1, vector={
        "a": doc("x", "openai/test-half-second", **KEY),
        "b": doc("x", "cohere/test-half-second", **{"cohere-api-key": VALID_KEY}),
    })])
    (a,), (b,) = emu.of("openai"), emu.of("cohere")
    assert a.started < b.finished and b.started < a.finished  # the two calls overlapped


def test_usage_per_model(server, emu):
    vector = qgrpc.Vector(document=qgrpc.Document(text="three word text", model="openai/text-embedding-3-small",
                                                  options={"openai-api-key": qgrpc.Value(string_value=VALID_KEY)}))
    with grpc.insecure_channel(server.grpc_address) as channel:
        qgrpc.CollectionsStub(channel).Create(qgrpc.CreateCollection(
            collection_name="p_usage", vectors_config=qgrpc.VectorsConfig(params=qgrpc.VectorParams(size=1536, distance=qgrpc.Cosine))), timeout=30)
        reply = qgrpc.PointsStub(channel).Upsert(qgrpc.UpsertPoints(collection_name="p_usage", wait=True, points=[
            qgrpc.PointStruct(id=qgrpc.PointId(num=1), vectors=qgrpc.Vectors(vector=vector))]), timeout=30)
    assert reply.usage.inference.models["openai/text-embedding-3-small"].tokens == 3


def test_api_key_is_nowhere_on_disk_or_in_the_log(tmp_path, emulator):
    secret = "sk-distinctive-secret-4f9a7c1e"
    server = ServerProcess(tmp_path / "storage", tmp_path / "server.log",
                           env={**emulator.env(), "VECINFER_LOG_LEVEL": "DEBUG", "VECINFER_PROVIDER_MAX_ATTEMPTS": "1"}).start()
    try:
        c = make_client(server, cloud_inference=True)
        c.create_collection("k", vectors_config={"v": models.VectorParams(size=1536, distance=models.Distance.COSINE)})
        wrong = {"openai-api-key": secret}
        for call in (
            lambda: c.upsert("k", points=[models.PointStruct(id=1, vector={"v": doc("t", "openai/text-embedding-3-small", **wrong)})]),
            lambda: c.query_points("k", query=doc("q", "openai/text-embedding-3-small", **wrong), using="v"),
            lambda: c.upsert("k", points=[models.PointStruct(id=2, vector={"v": doc("t", "openai/test-400", **wrong)})]),
        ):
            with pytest.raises(grpc.RpcError):
                call()
        # The emulator accepts only VALID_KEY: a successful write and query carry that one.
        ok = {"openai-api-key": VALID_KEY}
        c.upsert("k", points=[models.PointStruct(id=3, vector={"v": doc("t", "openai/text-embedding-3-small", **ok)})])
        c.query_points("k", query=doc("q", "openai/text-embedding-3-small", **ok), using="v")
        assert c.count("k").count == 1
        c.close()
    finally:
        server.stop()
    for path in [*(tmp_path / "storage").rglob("*"), tmp_path / "server.log"]:
        if path.is_file():
            assert secret.encode() not in path.read_bytes(), path
            assert VALID_KEY.encode() not in path.read_bytes(), path


def test_sigterm_lets_in_flight_requests_finish(tmp_path, emulator):
    import signal
    import threading

    server = ServerProcess(tmp_path / "storage", tmp_path / "server.log", env=emulator.env()).start()
    c = make_client(server, cloud_inference=True)
    c.create_collection("drain", vectors_config={"v": models.VectorParams(size=256, distance=models.Distance.COSINE)})
    outcome: list = []

    def slow_upsert():  # the emulator takes 0.5 s to answer this model
        try:
            c.upsert("drain", points=[models.PointStruct(id=1, vector={"v": doc("x", "openai/test-half-second", **KEY)})])
            outcome.append("ok")
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=slow_upsert)
    thread.start()
    time.sleep(0.2)
    server.proc.send_signal(signal.SIGTERM)
    thread.join(30)
    assert outcome == ["ok"]
    assert server.proc.wait(30) == 0
    c.close()
    restarted = ServerProcess(tmp_path / "storage", tmp_path / "server2.log", env=emulator.env()).start()
    c = make_client(restarted)
    assert c.count("drain").count == 1  # acknowledged before shutdown, and kept
    c.close()
    restarted.stop()


# ---------------------------------------------------------------------- the REST door


@pytest.mark.parametrize("model, headers, status, needles, retry_after", [
    ("openai/test-400", KEY, 400, ["openai model test-400", "maximum context length"], None),
    ("openai/text-embedding-3-small", {"openai-api-key": "sk-wrong"}, 403, ["Incorrect API key"], None),
    ("openai/test-429", KEY, 429, ["rate limited"], "1"),
    ("cohere/test-500", {"cohere-api-key": VALID_KEY}, 502, ["cohere model test-500", "500"], None),
    ("jinaai/test-slow", {"jina-api-key": VALID_KEY}, 504, ["did not answer"], None),
    ("openai/text-embedding-3-small", {}, 400, ["openai-api-key"], None),
])
def test_rest_provider_errors_and_keys_in_headers(server, client, emu, model, headers, status, needles, retry_after):
    from rest_http import call

    name = collection(client, "p_rest_errors", v=256)
    got, response_headers, body = call(server.http_port, "PUT", f"/collections/{name}/points?wait=true",
                                       {"points": [{"id": 1, "vector": {"v": {"text": "x", "model": model}}}]},
                                       headers=headers)
    assert got == status, body
    for needle in needles:
        assert needle in body["status"]["error"]
    assert response_headers.get("Retry-After") == retry_after
    assert VALID_KEY not in json.dumps(body)
    assert client.count(name).count == 0


def test_rest_key_from_header_reaches_the_provider(server, client, emu):
    from rest_http import call

    name = collection(client, "p_rest_key", v=1536)
    status, _, body = call(server.http_port, "POST", f"/collections/{name}/points/query",
                           {"query": {"text": "q", "model": "openai/text-embedding-3-small"}, "using": "v"},
                           headers={"openai-api-key": VALID_KEY})
    assert status == 200, body
    assert body["usage"]["inference"]["models"]["openai/text-embedding-3-small"]["tokens"] > 0
    (recorded,) = emu.of("openai")
    assert recorded.authorization == f"Bearer {VALID_KEY}"
    assert recorded.body["input"] == ["q"]


def test_rest_read_past_its_timeout_is_408(server, client, emu):
    from rest_http import call

    name = collection(client, "p_rest_timeout", v=1024)
    status, _, body = call(server.http_port, "POST", f"/collections/{name}/points/query?timeout=1",
                           {"query": {"text": "q", "model": "jinaai/test-slow"}, "using": "v"},
                           headers={"jina-api-key": VALID_KEY})
    assert status == 408, body
    assert body["status"]["error"].startswith("Timeout:")


def test_a_server_side_key_serves_requests_that_bring_none(server_factory, emulator):
    emulator.clear()
    server = server_factory(env={**emulator.env(), "VECINFER_OPENAI_API_KEY": VALID_KEY}).start()
    c = make_client(server, cloud_inference=True)
    name = collection(c, "p_server_key", v=512)
    c.upsert(name, points=[models.PointStruct(id=1, vector={"v": doc("hello", "openai/text-embedding-3-small",
                                                                       dimensions=512)})])
    c.close()
    (call,) = emulator.of("openai")
    assert call.authorization == f"Bearer {VALID_KEY}"
    assert VALID_KEY not in server.log()  # used, never logged
