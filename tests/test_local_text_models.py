"""all-MiniLM-L6-v2 served from its PyPI package: parity, the seed flow, de-duplication, errors."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import numpy as np
import pytest
from qdrant_client import grpc as qgrpc
from qdrant_client import models

MINILM = "sentence-transformers/all-minilm-l6-v2"
REFERENCE = json.loads((Path(__file__).parent / "data" / "minilm_reference.json").read_text())


@pytest.fixture(scope="module")
def texts(cloud_client):
    name = "minilm_texts"
    cloud_client.create_collection(name, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    return name


def test_served_embeddings_match_sentence_transformers(cloud_client, texts):
    sentences = REFERENCE["sentences"]
    cloud_client.upsert(texts, points=[models.PointStruct(id=i, vector=models.Document(text=s, model=MINILM))
                                       for i, s in enumerate(sentences)])
    stored = cloud_client.retrieve(texts, ids=list(range(len(sentences))), with_vectors=True)
    assert len(stored) == len(sentences)
    for point in stored:
        got = np.array(point.vector, dtype=np.float64)
        want = np.array(REFERENCE["embeddings"][point.id], dtype=np.float64)
        cosine = got @ want / (np.linalg.norm(got) * np.linalg.norm(want))
        assert cosine >= 0.9999, (sentences[point.id][:40], cosine)


def test_seed_text_flow_ranks_the_recipe_first(cloud_client):
    name = "minilm_seed"
    cloud_client.create_collection(name, vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    docs = ["Recipe for baking chocolate chip cookies", "The stock market fell sharply on Monday.",
            "How to change a flat tyre on a bicycle", "A history of the Roman empire", "Best hiking trails in Norway"]
    cloud_client.upsert(name, points=[models.PointStruct(id=i, vector=models.Document(text=t, model=MINILM), payload={"text": t})
                                      for i, t in enumerate(docs)])
    hits = cloud_client.query_points(name, query=models.Document(text="How to bake cookies?", model=MINILM), limit=3).points
    assert hits[0].payload["text"] == docs[0]
    assert hits[0].score > hits[1].score + 0.2


def test_three_models_in_one_point(cloud_client, clip_models):
    name = "minilm_clip_bm25"
    cloud_client.create_collection(name, vectors_config={
        "text": models.VectorParams(size=384, distance=models.Distance.COSINE),
        "image": models.VectorParams(size=clip_models.dimension, distance=models.Distance.COSINE),
    }, sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    cloud_client.upsert(name, points=[models.PointStruct(id=1, vector={
        "text": models.Document(text="A red square", model=MINILM),
        "image": models.Image(image=clip_models.png_base64("red"), model=clip_models.vision),
        "bm25": models.Document(text="A red square", model="qdrant/bm25"),
    })])
    (point,) = cloud_client.retrieve(name, ids=[1], with_vectors=True)
    assert len(point.vector["text"]) == 384
    assert len(point.vector["image"]) == clip_models.dimension
    assert np.linalg.norm(point.vector["image"]) == pytest.approx(1.0, abs=1e-5)
    assert point.vector["bm25"].indices  # sparse, computed by BM25
    hits = cloud_client.query_points(name, query=models.Document(text="red", model=clip_models.text), using="image").points
    assert [p.id for p in hits] == [1]


def _upsert_raw(server, collection: str, points: list) -> qgrpc.PointsOperationResponse:
    with grpc.insecure_channel(server.grpc_address) as channel:
        return qgrpc.PointsStub(channel).Upsert(
            qgrpc.UpsertPoints(collection_name=collection, wait=True, points=points), timeout=60)


def _doc_point(i: int, text: str, model: str = MINILM) -> qgrpc.PointStruct:
    vector = qgrpc.Vector(document=qgrpc.Document(text=text, model=model))
    return qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=vector))


def test_identical_documents_in_one_request_are_embedded_once(shared_server, texts):
    text = "Recipe for baking chocolate chip cookies"  # 8 word pieces with [CLS] and [SEP]
    single = _upsert_raw(shared_server, texts, [_doc_point(100, text)])
    assert single.usage.inference.models[MINILM].tokens == 8
    many = _upsert_raw(shared_server, texts, [_doc_point(200 + i, text) for i in range(50)])
    assert many.usage.inference.models[MINILM].tokens == 8  # one model run for 50 points
    two = _upsert_raw(shared_server, texts, [_doc_point(300, text), _doc_point(301, text + "!")])
    assert two.usage.inference.models[MINILM].tokens == 8 + 9


def test_long_text_is_truncated_to_the_window(shared_server, cloud_client, texts):
    long_text = REFERENCE["sentences"][-1]  # over 256 word pieces
    reply = _upsert_raw(shared_server, texts, [_doc_point(400, long_text)])
    assert reply.usage.inference.models[MINILM].tokens == 256
    (point,) = cloud_client.retrieve(texts, ids=[400], with_vectors=True)
    want = np.array(REFERENCE["embeddings"][-1])
    assert np.dot(point.vector, want) / np.linalg.norm(want) >= 0.9999


def rpc_error(call):
    with pytest.raises(grpc.RpcError) as info:
        call()
    return info.value


def test_errors_name_the_problem_and_store_nothing(cloud_client, texts, clip_models):
    before = cloud_client.count(texts).count
    err = rpc_error(lambda: cloud_client.upsert(texts, points=[models.PointStruct(id=900, vector=models.Document(text="x", model="acme/unknown"))]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "acme/unknown" in err.details() and MINILM in err.details() and "qdrant/bm25" in err.details()
    err = rpc_error(lambda: cloud_client.upsert(texts, points=[models.PointStruct(id=900, vector=models.Image(image=clip_models.png_base64("red"), model=MINILM))]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "takes text" in err.details()
    err = rpc_error(lambda: cloud_client.upsert(texts, points=[models.PointStruct(id=900, vector=models.InferenceObject(object={"a": 1}, model=MINILM))]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "InferenceObject" in err.details()
    err = rpc_error(lambda: cloud_client.upsert(texts, points=[models.PointStruct(id=900, vector=models.Document(text="red", model=clip_models.vision))]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "takes an image" in err.details()
    err = rpc_error(lambda: cloud_client.upsert(texts, points=[
        models.PointStruct(id=901, vector=models.Document(text="fine", model=MINILM)),
        models.PointStruct(id=902, vector=models.Document(text="wrong size", model=clip_models.text)),
    ]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert f"expected dim: 384, got {clip_models.dimension}" in err.details()
    err = rpc_error(lambda: cloud_client.query_points(texts, query=models.Document(text="q", model="acme/unknown")))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert cloud_client.count(texts).count == before


def test_a_lone_query_does_not_wait_for_companions(server_factory):
    # With a worker idle, a batch does not wait to be topped up: an arrival would run at once
    # beside it anyway. A 3 s wait setting makes the difference plain (inference takes ~20 ms).
    import time

    from conftest import make_client

    server = server_factory(env={"VECINFER_INFERENCE_MAX_WAIT_MS": "3000", "VECINFER_INFERENCE_WORKERS": "2"}).start()
    client = make_client(server, prefer_grpc=True, cloud_inference=True)
    client.create_collection("lone", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    client.upsert("lone", points=[models.PointStruct(id=1, vector=[1.0] * 384)])
    elapsed = []
    for i in range(3):
        started = time.monotonic()
        client.query_points("lone", query=models.Document(text=f"a lone query {i}", model=MINILM), limit=1)
        elapsed.append(time.monotonic() - started)
    assert min(elapsed) < 1.5, f"a lone query waited for companions: {elapsed}"
    client.close()


def test_a_batch_alone_runs_on_every_core_and_gives_the_same_vectors(server_factory):
    """A batch with no other batch running or waiting runs on the wide session (every core);
    batches beside others stay on one core each. Either way a text gets the same vector."""
    from concurrent.futures import ThreadPoolExecutor

    from conftest import make_client
    from test_inference_isolation import metric

    server = server_factory(env={"VECINFER_INFERENCE_WORKERS": "2"}).start()
    client = make_client(server, prefer_grpc=True, cloud_inference=True)
    client.create_collection("wide", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    alone_metric = "vecinfer_inference_batches_alone_total"
    batches_metric = "vecinfer_inference_batches_total"
    label = {"batcher": MINILM.split("/")[-1]}
    before_alone, before_all = metric(server, alone_metric, **label), metric(server, batches_metric, **label)
    texts = [f"the {i}th text about gardens, rivers and old bridges" for i in range(24)]
    for i, text in enumerate(texts[:4]):  # one after another: each batch is alone
        client.upsert("wide", points=[models.PointStruct(id=i, vector=models.Document(text=text, model=MINILM))])
    assert metric(server, alone_metric, **label) - before_alone == 4
    assert metric(server, batches_metric, **label) - before_all == 4

    def send(i: int) -> None:
        client.upsert("wide", points=[models.PointStruct(id=100 + i, vector=models.Document(text=texts[i], model=MINILM))])

    with ThreadPoolExecutor(8) as pool:  # 8 at once: batches run side by side on one core each
        list(pool.map(send, range(len(texts))))
    alone = metric(server, alone_metric, **label) - before_alone
    assert metric(server, batches_metric, **label) - before_all > alone
    points = {p.id: p.vector for p in client.retrieve("wide", ids=[0, 1, 2, 3, 100, 101, 102, 103], with_vectors=True)}
    for i in range(4):
        assert np.allclose(points[i], points[100 + i], atol=1e-5)
    client.close()
