"""Acknowledged writes survive SIGKILL; restarts restore every collection."""

from __future__ import annotations

import numpy as np
from qdrant_client import models

from conftest import make_client


def _vectors(n: int, dim: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def test_acknowledged_upserts_survive_sigkill(server_factory):
    server = server_factory().start()
    client = make_client(server)
    client.create_collection("durable", vectors_config=models.VectorParams(size=16, distance=models.Distance.DOT))
    client.create_collection("other", vectors_config={}, sparse_vectors_config={"kw": models.SparseVectorParams()})
    vectors = _vectors(500, 16, 1)
    for start in range(0, 500, 50):
        client.upsert("durable", wait=True, points=[
            models.PointStruct(id=i, vector=vectors[i].tolist(), payload={"n": i}) for i in range(start, start + 50)])
    client.delete("durable", points_selector=[0, 1, 2])
    client.set_payload("durable", payload={"marked": True}, points=[10])
    client.upsert("other", points=[models.PointStruct(id=1, vector={"kw": models.SparseVector(indices=[3], values=[0.5])})])
    client.close()
    server.kill()  # SIGKILL right after the acknowledgements: no shutdown code runs

    restarted = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(restarted)
    assert sorted(c.name for c in client.get_collections().collections) == ["durable", "other"]
    assert client.count("durable").count == 497
    records, _ = client.scroll("durable", limit=1000, with_vectors=True)
    assert [r.id for r in records] == list(range(3, 500))
    for r in records:
        assert np.allclose(r.vector, vectors[r.id])
    assert client.retrieve("durable", ids=[10])[0].payload == {"n": 10, "marked": True}
    (point,) = client.retrieve("other", ids=[1], with_vectors=True)
    assert point.vector["kw"].indices == [3]
    client.close()


def test_checkpoint_then_more_writes_then_kill(server_factory):
    server = server_factory().start()
    client = make_client(server)
    client.create_collection("c", vectors_config=models.VectorParams(size=4, distance=models.Distance.EUCLID))
    client.upsert("c", points=[models.PointStruct(id=i, vector=[i, 0, 0, 0]) for i in range(100)])
    client.close()
    assert server.stop() == 0  # SIGTERM: checkpoint written, log emptied
    assert "storage flushed" in server.log()
    assert (server.storage_dir / "collections" / "c" / "checkpoint.json").exists()

    second = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(second)
    client.upsert("c", points=[models.PointStruct(id=i, vector=[-i, 0, 0, 0]) for i in range(50, 150)])
    client.delete("c", points_selector=[0])
    client.close()
    second.kill()

    third = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(third)
    assert client.count("c").count == 149
    (p,) = client.retrieve("c", ids=[60], with_vectors=True)
    assert p.vector == [-60.0, 0, 0, 0]
    top = client.query_points("c", query=[-149, 0, 0, 0], limit=1).points
    assert top[0].id == 149 and top[0].score == 0.0
    client.close()


def test_torn_log_tail_is_cut_off(server_factory):
    server = server_factory().start()
    client = make_client(server)
    client.create_collection("t", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.upsert("t", points=[models.PointStruct(id=1, vector=[1, 2])])
    client.close()
    server.kill()
    wal = server.storage_dir / "collections" / "t" / "operations.log"
    with open(wal, "ab") as f:
        f.write(b"\x40\x00\x00\x00garbage-from-a-crash-mid-append")  # a record header promising more bytes

    restarted = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(restarted)
    assert client.count("t").count == 1
    client.upsert("t", points=[models.PointStruct(id=2, vector=[3, 4])])
    client.close()
    restarted.kill()

    again = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(again)
    assert sorted(r.id for r in client.scroll("t")[0]) == [1, 2]
    client.close()


def test_deleted_collection_stays_deleted(server_factory):
    server = server_factory().start()
    client = make_client(server)
    client.create_collection("gone", vectors_config=models.VectorParams(size=2, distance=models.Distance.DOT))
    client.delete_collection("gone")
    client.close()
    server.kill()
    restarted = server_factory(storage_dir=server.storage_dir).start()
    client = make_client(restarted)
    assert not client.collection_exists("gone")
    client.close()
