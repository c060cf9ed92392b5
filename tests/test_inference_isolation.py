"""One request's inference cannot hurt the others: BM25 off the event loop, per-text and
per-request bounds checked before any work, cancelled work dropped from the micro-batcher.

Assertions are about behaviour (what finished first, what ran, what was refused), never about
how fast something was.
"""

from __future__ import annotations

import json
import threading
import time

import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families
from qdrant_client import grpc as qgrpc
from qdrant_client import models

from conftest import ServerProcess, make_client
from rest_http import call

MINILM = "sentence-transformers/all-minilm-l6-v2"
MINILM_BATCHER = "all-minilm-l6-v2"
BM25 = "qdrant/bm25"
SECRET = "zebracorn"  # a word the error messages must not echo


def metric(server: ServerProcess, name: str, **labels: str) -> float:
    status, _, text = call(server.http_port, "GET", "/metrics")
    assert status == 200
    want = sorted(labels.items())
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sorted(sample.labels.items()) == want:
                return sample.value
    return 0.0


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.02)


def rpc_error(call_):
    with pytest.raises(grpc.RpcError) as info:
        call_()
    return info.value


def distinct_words_text(chars: int) -> str:
    """About `chars` characters of distinct 8-hex-digit words (no token repeats, so
    tokenising cannot lean on caches)."""
    words = (format((i * 2654435761) & 0xFFFFFFFF, "08x") for i in range(chars // 9 + 1))
    return " ".join(words)[:chars]


def doc_point(i: int, text: str, model: str, name: str = "") -> qgrpc.PointStruct:
    vector = qgrpc.Vector(document=qgrpc.Document(text=text, model=model))
    vectors = (qgrpc.Vectors(vectors=qgrpc.NamedVectors(vectors={name: vector})) if name
               else qgrpc.Vectors(vector=vector))
    return qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=vectors)


def upsert_raw(server: ServerProcess, collection: str, points: list, timeout: float = 120) -> None:
    with grpc.insecure_channel(server.grpc_address) as channel:
        qgrpc.PointsStub(channel).Upsert(qgrpc.UpsertPoints(collection_name=collection, wait=True, points=points),
                                         timeout=timeout)


# ---------------------------------------------------------------- a roomy server: (a) and (d)

@pytest.fixture(scope="module")
def roomy(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("isolation")
    server = ServerProcess(tmp / "storage", tmp / "server.log", env={"VECINFER_MAX_TEXT_CHARS": "5000000"}).start()
    yield server
    server.stop()


def test_a_long_bm25_text_does_not_block_other_requests(roomy):
    client = make_client(roomy)
    client.create_collection("plain", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("plain", points=[models.PointStruct(id=1, vector=[1.0, 0.0])])
    client.create_collection("long_bm25", vectors_config={},
                             sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    text = distinct_words_text(4_900_000)
    started_batches = metric(roomy, "vecinfer_inference_batches_total", batcher="bm25")
    finished: dict[str, float] = {}

    def big() -> None:
        upsert_raw(roomy, "long_bm25", [doc_point(1, text, BM25, "bm25")])
        finished["big"] = time.monotonic()

    thread = threading.Thread(target=big)
    thread.start()
    try:
        # The server has started tokenising once its BM25 batcher has started a batch; this
        # poll goes over REST, whose handlers share the event loop with gRPC.
        wait_until(lambda: "big" in finished or metric(roomy, "vecinfer_inference_batches_total", batcher="bm25")
                   > started_batches, 120, "the BM25 batch to start")
        assert "big" not in finished, "the BM25 upsert finished before it was seen running"
        hits = client.query_points("plain", query=[1.0, 0.0], limit=1).points
        small_done = time.monotonic()
    finally:
        thread.join(300)
    assert [p.id for p in hits] == [1]
    assert "big" in finished, "the BM25 upsert failed"
    assert small_done < finished["big"]  # answered while the long text was being tokenised
    (point,) = client.retrieve("long_bm25", ids=[1], with_vectors=True)
    assert len(point.vector["bm25"].indices) > 400_000  # every distinct word was counted
    client.close()


def test_d_a_cancelled_upsert_drops_its_queued_work(roomy):
    client = make_client(roomy, cloud_inference=True)
    client.create_collection("cancelled", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
    n = 5000
    points = [doc_point(i, f"passage {i} on subject {i % 97} and theme {i % 13}", MINILM) for i in range(n)]
    ran_before = metric(roomy, "vecinfer_inference_batch_inputs_total", batcher=MINILM_BATCHER)
    dropped_before = metric(roomy, "vecinfer_inference_dropped_inputs_total", batcher=MINILM_BATCHER)

    err = rpc_error(lambda: upsert_raw(roomy, "cancelled", points, timeout=2.0))  # far too little time for 5000
    assert err.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    wait_until(lambda: metric(roomy, "vecinfer_inference_dropped_inputs_total", batcher=MINILM_BATCHER)
               > dropped_before, 60, "the server to drop the cancelled inputs")

    hits = client.query_points("cancelled", query=models.Document(text="subject", model=MINILM), limit=3).points
    assert hits == []  # the next small query answers; nothing of the cancelled upsert was stored
    assert client.count("cancelled").count == 0

    ran = metric(roomy, "vecinfer_inference_batch_inputs_total", batcher=MINILM_BATCHER) - ran_before
    dropped = metric(roomy, "vecinfer_inference_dropped_inputs_total", batcher=MINILM_BATCHER) - dropped_before
    # Every input of the cancelled upsert either ran before its deadline or was dropped; the
    # small query is the one more input that ran. Most of the upsert never ran.
    assert ran + dropped == n + 1
    assert dropped > n / 2
    client.close()


# ------------------------------------------------------ a tight server: (b) and (c), bounds

TIGHT = {"VECINFER_MAX_TEXT_CHARS": "1000", "VECINFER_MAX_INFERENCE_INPUTS": "5",
         "VECINFER_MAX_REQUEST_TEXT_CHARS": "2500"}


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tight")
    server = ServerProcess(tmp / "storage", tmp / "server.log", env=TIGHT).start()
    client = make_client(server, cloud_inference=True)
    client.create_collection("bounded", vectors_config={"dense": models.VectorParams(size=384, distance=models.Distance.COSINE)},
                             sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
    yield server, client
    client.close()
    server.stop()


def work_done(server: ServerProcess) -> float:
    return sum(metric(server, "vecinfer_inference_batch_inputs_total", batcher=b) for b in ("bm25", MINILM_BATCHER))


def long_text(chars: int) -> str:
    return (SECRET + " ") * (chars // (len(SECRET) + 1)) + "x" * (chars % (len(SECRET) + 1))


@pytest.mark.parametrize("model, vector_name", [(BM25, "bm25"), (MINILM, "dense")])
def test_b_an_over_long_text_is_refused_by_name(tight, model, vector_name):
    server, client = tight
    before = work_done(server)
    too_long, at_limit = long_text(1001), long_text(1000)
    assert len(too_long) == 1001 and len(at_limit) == 1000
    err = rpc_error(lambda: client.upsert("bounded", points=[models.PointStruct(
        id=1, vector={vector_name: models.Document(text=too_long, model=model)})]))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "VECINFER_MAX_TEXT_CHARS" in err.details() and "1001" in err.details()
    assert SECRET not in err.details()
    err = rpc_error(lambda: client.query_points("bounded", query=models.Document(text=too_long, model=model),
                                                using=vector_name))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "VECINFER_MAX_TEXT_CHARS" in err.details()
    status, _, body = call(server.http_port, "PUT", "/collections/bounded/points?wait=true", {"points": [
        {"id": 1, "vector": {vector_name: {"text": too_long, "model": model}}}]})
    assert status == 400 and "VECINFER_MAX_TEXT_CHARS" in body["status"]["error"]
    assert SECRET not in json.dumps(body)
    assert work_done(server) == before  # refused before any model ran
    assert client.count("bounded").count == 0
    client.upsert("bounded", points=[models.PointStruct(id=2, vector={vector_name: models.Document(text=at_limit, model=model)})])
    assert client.count("bounded").count == 1
    client.delete("bounded", points_selector=[2])


def test_c_too_many_inputs_or_characters_per_request(tight):
    server, client = tight
    before = work_done(server)
    six = [models.PointStruct(id=i, vector={"dense": models.Document(text=f"text {i}", model=MINILM)}) for i in range(6)]
    err = rpc_error(lambda: client.upsert("bounded", points=six))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "VECINFER_MAX_INFERENCE_INPUTS" in err.details() and "6" in err.details()
    # The bound counts inference objects, whichever vectors of a point they fill.
    mixed = [models.PointStruct(id=i, vector={"dense": models.Document(text=f"t{i}", model=MINILM),
                                              "bm25": models.Document(text=f"t{i}", model=BM25)}) for i in range(3)]
    err = rpc_error(lambda: client.upsert("bounded", points=mixed))
    assert "VECINFER_MAX_INFERENCE_INPUTS" in err.details()
    three = [models.PointStruct(id=i, vector={"bm25": models.Document(text=long_text(900), model=BM25)}) for i in range(3)]
    err = rpc_error(lambda: client.upsert("bounded", points=three))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "VECINFER_MAX_REQUEST_TEXT_CHARS" in err.details() and "2700" in err.details()
    assert SECRET not in err.details()
    prefetch = [models.Prefetch(query=models.Document(text=long_text(900), model=BM25), using="bm25") for _ in range(3)]
    err = rpc_error(lambda: client.query_points("bounded", prefetch=prefetch, query=models.FusionQuery(fusion=models.Fusion.RRF)))
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT and "VECINFER_MAX_REQUEST_TEXT_CHARS" in err.details()
    assert work_done(server) == before  # refused before any model ran
    assert client.count("bounded").count == 0
    # At the bounds: 5 inputs, 2500 characters.
    five = [models.PointStruct(id=i, vector={"bm25": models.Document(text=long_text(500), model=BM25)}) for i in range(5)]
    client.upsert("bounded", points=five)
    assert client.count("bounded").count == 5
    client.delete("bounded", points_selector=list(range(5)))
