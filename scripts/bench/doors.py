"""The two doors of one server: Qdrant's REST API against its gRPC API, raw and through
qdrant-client, on the same data in the same `vecinfer serve` process.

    .venv/bin/python scripts/bench/doors.py [--n 100000] [--queries 200] [--rounds 3]

Data: real all-MiniLM-L6-v2 embeddings (384-d) of short passages (scripts/bench/data.py,
cached under .cache/bench). One server, two collections with default settings (Cosine,
384-d): `grpc_bench` is loaded and queried through gRPC, `rest_bench` through REST.

Doors (one row each):
  grpc raw     qdrant_client.grpc stubs (Points.Upsert, Points.Query), one channel per client
  rest raw     plain HTTP/1.1 keep-alive (http.client), json.dumps / json.loads of lists
  grpc client  QdrantClient(prefer_grpc=True): upsert(PointStruct...), query_points
  rest client  QdrantClient() (REST, its default)

Upsert: all n points in batches of 256 with wait=true into a freshly created collection;
between loads the optimizer is left to finish (status green) so that one door's indexing does
not slow the next door's load. The optimizer indexes while points arrive, so a slow load
leaves less indexing for afterwards: "load + index s" (until status green) is the time until
the data is searchable at full speed. Queries: 1 client sequential (QPS, p50, p99), then 8 client
threads at once (QPS), `{"query": [...], "limit": 10}` / Points.Query, after the optimizer is
idle. Every measurement is warmed up, the doors alternate (ABCD DCBA ...) within each round so
that a neighbour's load hits them alike, and each figure is the median over the rounds.
The time to build a request (JSON / protobuf / pydantic) is part of what a client pays, so it
is inside the timed loops. Ratios are to the "grpc raw" row.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, _proc_cpu_seconds, percentile  # noqa: E402

from data import minilm_embeddings  # noqa: E402

BATCH = 256
LIMIT = 10
CLIENTS = 8
DOORS = ["grpc raw", "rest raw", "grpc client", "rest client"]
COLLECTION = {"grpc raw": "grpc_bench", "grpc client": "grpc_bench",
              "rest raw": "rest_bench", "rest client": "rest_bench"}


# ---------------------------------------------------------------------------- REST helpers

class Http:
    """One keep-alive HTTP/1.1 connection speaking JSON (not thread-safe: one per client)."""

    def __init__(self, port: int, timeout: float = 300):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def call(self, method: str, path: str, body: bytes | None = None) -> dict:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        if response.status >= 300:
            raise RuntimeError(f"{method} {path}: HTTP {response.status} {data[:300]!r}")
        return json.loads(data)

    def close(self) -> None:
        self.conn.close()


# ---------------------------------------------------------------------------- the doors
# Each door: upsert(collection, corpus, start, stop) sends points [start, stop) in batches of
# 256; searcher() returns a function query -> ids for one client thread (its own connection
# where the door's client is not shared).

class GrpcRaw:
    def __init__(self, server: Server):
        import grpc
        from qdrant_client import grpc as qgrpc

        self.grpc, self.qgrpc, self.port = grpc, qgrpc, server.grpc_port
        self.channels = []
        self.points = self._stub()

    def _stub(self):
        channel = self.grpc.insecure_channel(f"127.0.0.1:{self.port}", options=[
            ("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1),
            ("grpc.use_local_subchannel_pool", 1)])  # a connection of its own, like the REST clients
        self.channels.append(channel)
        return self.qgrpc.PointsStub(channel)

    def upsert(self, collection, corpus, start, stop):
        q = self.qgrpc
        for s in range(start, stop, BATCH):
            points = [q.PointStruct(id=q.PointId(num=i), vectors=q.Vectors(vector=q.Vector(
                dense=q.DenseVector(data=corpus[i].tolist())))) for i in range(s, min(stop, s + BATCH))]
            self.points.Upsert(q.UpsertPoints(collection_name=collection, wait=True, points=points), timeout=300)

    def searcher(self):
        q, stub = self.qgrpc, self._stub()

        def search(collection, vector):
            request = q.QueryPoints(collection_name=collection, limit=LIMIT, query=q.Query(
                nearest=q.VectorInput(dense=q.DenseVector(data=vector.tolist()))))
            return [p.id.num for p in stub.Query(request, timeout=60).result]

        return search

    def close(self):
        for channel in self.channels:
            channel.close()


class RestRaw:
    def __init__(self, server: Server):
        self.port = server.http_port
        self.connections = []
        self.http = self._connection()

    def _connection(self) -> Http:
        conn = Http(self.port)
        self.connections.append(conn)
        return conn

    def upsert(self, collection, corpus, start, stop):
        path = f"/collections/{collection}/points?wait=true"
        for s in range(start, stop, BATCH):
            body = json.dumps({"points": [{"id": i, "vector": corpus[i].tolist()} for i in range(s, min(stop, s + BATCH))]})
            self.http.call("PUT", path, body.encode())

    def searcher(self):
        conn = self._connection()

        def search(collection, vector):
            body = json.dumps({"query": vector.tolist(), "limit": LIMIT}).encode()
            return [p["id"] for p in conn.call("POST", f"/collections/{collection}/points/query", body)["result"]["points"]]

        return search

    def close(self):
        for conn in self.connections:
            conn.close()


class ClientDoor:
    """qdrant-client's high-level API, one QdrantClient shared by all client threads."""

    def __init__(self, server: Server, prefer_grpc: bool):
        from qdrant_client import QdrantClient, models

        self.models = models
        self.client = QdrantClient(host="127.0.0.1", port=server.http_port, grpc_port=server.grpc_port,
                                   prefer_grpc=prefer_grpc, timeout=300, check_compatibility=False)

    def upsert(self, collection, corpus, start, stop):
        m = self.models
        for s in range(start, stop, BATCH):
            points = [m.PointStruct(id=i, vector=corpus[i].tolist()) for i in range(s, min(stop, s + BATCH))]
            self.client.upsert(collection_name=collection, points=points, wait=True)

    def searcher(self):
        client = self.client

        def search(collection, vector):
            return [p.id for p in client.query_points(collection_name=collection, query=vector.tolist(), limit=LIMIT).points]

        return search

    def close(self):
        self.client.close()


def open_doors(server: Server) -> dict:
    return {"grpc raw": GrpcRaw(server), "rest raw": RestRaw(server),
            "grpc client": ClientDoor(server, prefer_grpc=True), "rest client": ClientDoor(server, prefer_grpc=False)}


# ---------------------------------------------------------------------------- measurements

class Admin:
    """Collection management through REST (untimed)."""

    def __init__(self, server: Server):
        self.http = Http(server.http_port)

    def recreate(self, name: str, dim: int) -> None:
        self.http.call("DELETE", f"/collections/{name}")
        self.http.call("PUT", f"/collections/{name}", json.dumps({"vectors": {"size": dim, "distance": "Cosine"}}).encode())

    def info(self, name: str) -> dict:
        return self.http.call("GET", f"/collections/{name}")["result"]

    def wait_green(self, name: str, timeout: float = 3600) -> float:
        started = time.perf_counter()
        while self.info(name)["status"] != "green":
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"{name} still not green after {timeout} s")
            time.sleep(0.25)
        return time.perf_counter() - started


class Cpu:
    """Server and client (this process) CPU seconds, and other processes' cores, over a block."""

    def __init__(self, server_pid: int):
        self.server_pid = server_pid

    def __enter__(self):
        self.meter = CpuMeter([os.getpid(), self.server_pid]).__enter__()
        self.server0, self.client0 = _proc_cpu_seconds(self.server_pid), time.process_time()
        return self

    def __exit__(self, *exc):
        self.meter.__exit__(*exc)
        self.server = _proc_cpu_seconds(self.server_pid) - self.server0
        self.client = time.process_time() - self.client0
        self.other = self.meter.other_cores


def measure_upsert(door, admin: Admin, server: Server, collection: str, corpus: np.ndarray) -> dict:
    admin.recreate(collection, corpus.shape[1])
    with Cpu(server.proc.pid) as cpu:
        started = time.perf_counter()
        door.upsert(collection, corpus, 0, len(corpus))
        elapsed = time.perf_counter() - started
    count = admin.info(collection)["points_count"]
    if count != len(corpus):
        raise RuntimeError(f"{collection}: {count} points after loading {len(corpus)}")
    index_s = admin.wait_green(collection)
    n = len(corpus) / 1000
    return {"upsert_pts_s": len(corpus) / elapsed, "load_green_s": elapsed + index_s, "upsert_server_cpu": cpu.server / n,
            "upsert_client_cpu": cpu.client / n, "upsert_other": cpu.other, "index_s": index_s}


def measure_queries(door, server: Server, collection: str, queries: np.ndarray, searchers: list) -> dict:
    single = searchers[0]
    latencies, found = [], []
    with Cpu(server.proc.pid) as cpu1:
        for q in queries:
            t0 = time.perf_counter()
            found.append(single(collection, q))
            latencies.append(time.perf_counter() - t0)
    # 8 clients: each thread takes its own searcher and works through a share of the queries
    # (the query list twice over, so each of the 8 has about 50 calls with the defaults).
    work = list(queries) * 2
    shares = [work[i::CLIENTS] for i in range(CLIENTS)]
    barrier = threading.Barrier(CLIENTS + 1)

    def client(i):
        barrier.wait()
        for q in shares[i]:
            searchers[i](collection, q)

    with ThreadPoolExecutor(CLIENTS) as pool, Cpu(server.proc.pid) as cpu8:
        futures = [pool.submit(client, i) for i in range(CLIENTS)]
        barrier.wait()
        t0 = time.perf_counter()
        for f in futures:
            f.result()
        elapsed8 = time.perf_counter() - t0
    total = len(queries) + len(work)
    return {"qps_1": len(queries) / sum(latencies), "p50_ms": percentile(latencies, 50) * 1e3,
            "p99_ms": percentile(latencies, 99) * 1e3, "qps_8": len(work) / elapsed8,
            "query_server_cpu": (cpu1.server + cpu8.server) / total * 1000,
            "query_client_cpu": (cpu1.client + cpu8.client) / total * 1000,
            "query_other": max(cpu1.other, cpu8.other), "found": found}


def round_orders(rounds: int) -> list[list[str]]:
    """ABCD, DCBA, ABCD, ...: each door is measured early and late equally often."""
    return [DOORS if r % 2 == 0 else DOORS[::-1] for r in range(rounds)]


def median_of(runs: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in runs) for k in runs[0] if isinstance(runs[0][k], (int, float))}


COLUMNS = [("upsert_pts_s", "upsert pts/s", "{:,.0f}"), ("load_green_s", "load + index s", "{:.1f}"), ("qps_1", "QPS 1 client", "{:,.0f}"),
           ("qps_8", "QPS 8 clients", "{:,.0f}"), ("p50_ms", "p50 ms", "{:.2f}"), ("p99_ms", "p99 ms", "{:.2f}"),
           ("query_server_cpu", "server CPU s / 1k queries", "{:.2f}"),
           ("query_client_cpu", "client CPU s / 1k queries", "{:.2f}"),
           ("upsert_server_cpu", "server CPU s / 1k points", "{:.2f}")]


def table(results: dict[str, dict]) -> str:
    anchor = results["grpc raw"]
    lines = ["| door | " + " | ".join(c[1] for c in COLUMNS) + " |", "|---" * (len(COLUMNS) + 1) + "|"]
    for door, r in results.items():
        cells = []
        for key, _, fmt in COLUMNS:
            cell = fmt.format(r[key])
            if door != "grpc raw" and anchor[key]:
                cell += f" ({r[key] / anchor[key]:.2f}x)"
            cells.append(cell)
        lines.append(f"| {door} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    started = time.perf_counter()
    corpus, queries, _, _ = minilm_embeddings(args.n, args.queries)
    corpus, queries = np.ascontiguousarray(corpus, dtype=np.float32), np.ascontiguousarray(queries, dtype=np.float32)
    print(f"data: {len(corpus)} x {corpus.shape[1]} MiniLM vectors, {len(queries)} queries", flush=True)

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops the server
    server = Server()
    doors: dict = {}
    try:
        admin = Admin(server)
        doors = open_doors(server)
        # Warm-up: each door loads a few batches (connections, imports, code paths) ...
        warm = corpus[: min(len(corpus), 4 * BATCH)]
        for door in doors.values():
            admin.recreate("warmup", corpus.shape[1])
            door.upsert("warmup", warm, 0, len(warm))
        admin.http.call("DELETE", "/collections/warmup")

        upserts: dict[str, list] = {d: [] for d in DOORS}
        for r, order in enumerate(round_orders(args.rounds)):
            for name in order:
                result = measure_upsert(doors[name], admin, server, COLLECTION[name], corpus)
                upserts[name].append(result)
                print(f"  upsert round {r + 1} {name}: {result['upsert_pts_s']:,.0f} pts/s "
                      f"(server {result['upsert_server_cpu']:.2f} / client {result['upsert_client_cpu']:.2f} CPU s per 1k, "
                      f"other {result['upsert_other']:.2f} cores; then {result['index_s']:.1f} s to green)", flush=True)

        for collection in ("grpc_bench", "rest_bench"):
            admin.wait_green(collection)
        segments = {c: admin.info(c)["segments_count"] for c in ("grpc_bench", "rest_bench")}
        # ... and answers queries before timing: 20 sequential, one pass of 8 clients.
        searchers = {name: [door.searcher() for _ in range(CLIENTS)] for name, door in doors.items()}
        for name in DOORS:
            measure_queries(doors[name], server, COLLECTION[name], queries[:20], searchers[name])
        query_runs: dict[str, list] = {d: [] for d in DOORS}
        for r, order in enumerate(round_orders(args.rounds)):
            for name in order:
                result = measure_queries(doors[name], server, COLLECTION[name], queries, searchers[name])
                query_runs[name].append(result)
                print(f"  query round {r + 1} {name}: {result['qps_1']:,.0f} QPS 1 client, p50 {result['p50_ms']:.2f} ms, "
                      f"{result['qps_8']:,.0f} QPS 8 clients, server {result['query_server_cpu']:.2f} CPU s / 1k queries, "
                      f"other {result['query_other']:.2f} cores", flush=True)
    finally:
        for door in doors.values():
            try:
                door.close()
            except Exception:  # noqa: BLE001 - stopping the server matters more
                pass
        try:
            server.stop()
        except Exception:  # noqa: BLE001 - did not stop within its grace period
            server.proc.kill()
            server.proc.wait()
            server.tmp.cleanup()

    results = {name: {**median_of(upserts[name]), **median_of(query_runs[name])} for name in DOORS}
    # The two collections were built separately: check they answer alike.
    agreement = float(np.mean([len(set(a) & set(b)) / LIMIT for a, b in
                               zip(query_runs["grpc raw"][0]["found"], query_runs["rest raw"][0]["found"])]))
    other = max(max(r["upsert_other"] for runs in upserts.values() for r in runs),
                max(r["query_other"] for runs in query_runs.values() for r in runs))
    print(f"\n### REST vs gRPC door: {args.n} MiniLM vectors (384-d, Cosine), {args.queries} queries, "
          f"median of {args.rounds} rounds\n")
    print("Ratios to \"grpc raw\" in brackets (higher is better for pts/s and QPS; lower for s, ms and CPU).\n")
    print(table(results))
    print(f"\nsegments: grpc_bench {segments['grpc_bench']}, rest_bench {segments['rest_bench']}; "
          f"top-10 agreement grpc_bench vs rest_bench {agreement:.3f}; "
          f"index build after each load (to green), median s: "
          + ", ".join(f"{d} {results[d]['index_s']:.1f}" for d in DOORS)
          + "; client CPU s / 1k points upserted: "
          + ", ".join(f"{d} {results[d]['upsert_client_cpu']:.2f}" for d in DOORS)
          + f"; other processes' CPU, worst measurement: {other:.2f} cores; "
          f"total run {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
