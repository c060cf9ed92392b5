"""Sealed, HNSW-indexed segments: built in the background while writes continue, correct
under deletes and updates, kept across restarts."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from qdrant_client import models

from conftest import make_client

DIM = 32
rng = np.random.default_rng(42)
CENTRES = rng.normal(size=(50, DIM)).astype(np.float32)


def clustered(n: int, seed: int) -> np.ndarray:
    """Points around 50 centres: structured like real embeddings, unlike uniform noise."""
    r = np.random.default_rng(seed)
    return (CENTRES[r.integers(0, 50, n)] + 0.3 * r.normal(size=(n, DIM))).astype(np.float32)


def small_segments(client, name: str, **optimizers) -> None:
    # 64 KB of 32-d float vectors = 512 points per segment.
    client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.COSINE),
                             optimizers_config=models.OptimizersConfigDiff(indexing_threshold=64, **optimizers),
                             hnsw_config=models.HnswConfigDiff(m=16, ef_construct=100))


def wait_green(client, name: str, timeout: float = 120) -> models.CollectionInfo:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = client.get_collection(name)
        if info.status == models.CollectionStatus.GREEN:
            return info
        time.sleep(0.2)
    raise AssertionError(f"collection {name} still optimizing after {timeout}s: {info}")


def recall(client, name: str, queries: np.ndarray, flt=None) -> float:
    hits = []
    for q in queries:
        approx = {p.id for p in client.query_points(name, query=q.tolist(), limit=10, query_filter=flt).points}
        exact = {p.id for p in client.query_points(name, query=q.tolist(), limit=10, query_filter=flt,
                                                   search_params=models.SearchParams(exact=True)).points}
        hits.append(len(approx & exact) / max(1, len(exact)))
    return float(np.mean(hits))


def test_segments_sealed_and_indexed_while_writes_continue(server_factory):
    server = server_factory().start()
    client = make_client(server)
    small_segments(client, "live")
    data = clustered(6000, 1)
    queries = clustered(30, 2)
    errors: list = []
    written = [0]  # points acknowledged so far

    def writer():
        try:
            for start in range(0, 6000, 200):
                client.upsert("live", points=[models.PointStruct(id=i, vector=data[i].tolist(), payload={"g": i % 4})
                                              for i in range(start, start + 200)])
                written[0] = start + 200
        except Exception as exc:  # surfaced below
            errors.append(exc)

    normed = data / np.linalg.norm(data, axis=1, keepdims=True)

    def correct_fraction(query: np.ndarray) -> float:
        # Points written meanwhile may rightly enter the top 10, so a hit counts if it scores at
        # least as well as the 10th best point acknowledged before the query started.
        visible = written[0]
        hits = client.query_points("live", query=query.tolist(), limit=10).points
        if visible < 10:
            return 1.0
        scores = normed[:visible] @ (query / np.linalg.norm(query))
        tenth = np.sort(scores)[-10]
        return sum(normed[p.id] @ (query / np.linalg.norm(query)) >= tenth - 1e-5 for p in hits) / 10

    thread = threading.Thread(target=writer)
    thread.start()
    during = []
    while thread.is_alive():
        during.append(np.mean([correct_fraction(q) for q in queries[:5]]))
    thread.join()
    assert not errors
    info = wait_green(client, "live")
    assert info.points_count == 6000
    assert info.segments_count >= 2  # sealed segment(s) plus the mutable one
    assert info.indexed_vectors_count > 0
    assert "indexed a segment" in server.log()
    assert len(during) >= 3 and np.mean(during) >= 0.9  # right while segments were sealed and indexed
    assert recall(client, "live", queries) >= 0.95
    flt = models.Filter(must=[models.FieldCondition(key="g", match=models.MatchValue(value=1))])
    assert recall(client, "live", queries, flt) >= 0.95
    # Exact search agrees with a brute-force computation.
    q = queries[0] / np.linalg.norm(queries[0])
    exact = [p.id for p in client.query_points("live", query=queries[0].tolist(), limit=10,
                                               search_params=models.SearchParams(exact=True)).points]
    assert exact == np.argsort(-(normed @ q))[:10].tolist()


def test_deletes_and_updates_across_sealed_segments(server_factory):
    server = server_factory().start()
    client = make_client(server)
    small_segments(client, "edits", vacuum_min_vector_number=100, deleted_threshold=0.2)
    data = clustered(3000, 3)
    for start in range(0, 3000, 500):
        client.upsert("edits", points=[models.PointStruct(id=i, vector=data[i].tolist(), payload={"n": i})
                                       for i in range(start, start + 500)])
    wait_green(client, "edits")
    # Delete a third of the points (most of them in sealed segments): vacuum rebuilds segments.
    gone = list(range(0, 3000, 3))
    client.delete("edits", points_selector=gone)
    # Move a sealed point by giving it a new vector; change a payload in place.
    client.update_vectors("edits", points=[models.PointVectors(id=1, vector=(-data[1]).tolist())])
    client.set_payload("edits", payload={"tag": "kept"}, points=[4])
    client.delete_vectors("edits", vectors=[""], points=[7])
    wait_green(client, "edits")
    time.sleep(1)  # let a vacuum merge that started finish its catch-up
    wait_green(client, "edits")
    assert client.count("edits").count == 2000
    assert "merged 1 segment(s)" in server.log() or "merged 2 segment(s)" in server.log()
    hits = client.query_points("edits", query=(-data[1]).tolist(), limit=1).points
    assert hits[0].id == 1 and hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert client.retrieve("edits", ids=[4])[0].payload == {"n": 4, "tag": "kept"}
    (seven,) = client.retrieve("edits", ids=[7], with_vectors=True)
    assert not seven.vector
    results = client.query_points("edits", query=data[0].tolist(), limit=50).points
    assert not {p.id for p in results} & set(gone)
    assert 7 not in {p.id for p in results}


def test_restart_keeps_the_built_index(server_factory):
    server = server_factory().start()
    client = make_client(server)
    small_segments(client, "kept", default_segment_number=2)
    data = clustered(2500, 4)
    for start in range(0, 2500, 600):  # each batch of 600 fills and seals a 512-point segment
        client.upsert("kept", points=[models.PointStruct(id=i, vector=data[i].tolist()) for i in range(start, min(2500, start + 600))])
    wait_green(client, "kept")
    time.sleep(0.5)
    wait_green(client, "kept")
    assert "appended" in server.log()  # small segments were added into a big one's graph
    exact = [p.id for p in client.query_points("kept", query=data[0].tolist(), limit=10,
                                               search_params=models.SearchParams(exact=True)).points]
    approx = [p.id for p in client.query_points("kept", query=data[0].tolist(), limit=10).points]
    assert len(set(exact) & set(approx)) >= 9
    before = {p: p.stat().st_mtime_ns for p in (server.storage_dir / "collections" / "kept" / "segments").rglob("hnsw-*.faiss")}
    assert before
    answer = [p.id for p in client.query_points("kept", query=data[0].tolist(), limit=10).points]
    client.close()
    assert server.stop() == 0

    restarted = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(restarted)
    info = client.get_collection("kept")
    assert info.status == models.CollectionStatus.GREEN and info.indexed_vectors_count > 0
    assert [p.id for p in client.query_points("kept", query=data[0].tolist(), limit=10).points] == answer
    after = {p: p.stat().st_mtime_ns for p in (server.storage_dir / "collections" / "kept" / "segments").rglob("hnsw-*.faiss")}
    assert after == before  # same graph files, not rebuilt
    assert "indexed a segment" not in restarted.log().split("serving gRPC")[-1]
    client.close()


def test_sealed_segments_survive_sigkill(server_factory):
    server = server_factory().start()
    client = make_client(server)
    small_segments(client, "crash")
    data = clustered(1800, 5)
    for start in range(0, 1800, 300):
        client.upsert("crash", points=[models.PointStruct(id=i, vector=data[i].tolist(), payload={"i": i})
                                       for i in range(start, start + 300)])
    client.delete("crash", points_selector=[0, 600, 1200])
    server.kill()
    restarted = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(restarted)
    assert client.count("crash").count == 1797
    records, _ = client.scroll("crash", limit=2000, with_vectors=True)
    assert len(records) == 1797
    for r in records[::97]:
        expected = data[r.id] / np.linalg.norm(data[r.id])
        assert np.allclose(r.vector, expected, atol=1e-6) and r.payload == {"i": r.id}
    wait_green(client, "crash")
    client.close()
