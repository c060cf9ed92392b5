"""Gateway benchmark: the latency a gateway (`vecinfer serve --upstream`) adds, and Document
upserts with one and two gateways in front of one upstream (an embedded vecinfer).

    .venv/bin/python scripts/bench/gateway.py [--points 5000] [--rounds 3] [--docs 320] [--passes 2]

Latency: one client, queries alternating between the gateway and the upstream directly (order
shuffled per query), both doing the same search: a dense query (a vector: passed through as
raw bytes) and a BM25 query (through the gateway a Document, whose sparse vector the gateway
computes; directly, the same sparse vector computed beforehand in this process).

Throughput: MiniLM Documents (8-40 words) in batches, `--clients` concurrent upsert streams
with wait=true, into a fresh collection per measurement: directly to the upstream (which then
embeds them itself), through one gateway, and through two gateways (streams spread over both).
Measured in the order A B C, then C B A (`--passes`); the figures are over both passes.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).parent))
from common import ROOT, CpuMeter, _proc_cpu_seconds, free_port, percentile, text_corpus  # noqa: E402

from data import minilm_embeddings  # noqa: E402
from vecinfer.domain.inference import Document  # noqa: E402  (no protos: safe beside qdrant_client)
from vecinfer.inference.bm25.model import Bm25Backend  # noqa: E402

MINILM = "sentence-transformers/all-minilm-l6-v2"
BM25 = "qdrant/bm25"


class Node:
    """One `vecinfer serve` process on free loopback ports, ready once /readyz answers 200."""

    def __init__(self, name: str, tmp: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.grpc_port, self.http_port = free_port(), free_port()
        self.log = open(tmp / f"{name}.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vecinfer.cli", "serve", "--host", "127.0.0.1", "--grpc-port", str(self.grpc_port),
             "--http-port", str(self.http_port), "--storage-dir", str(tmp / f"{name}-storage")],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
            env={"VECINFER_EMBEDDING_CACHE_BYTES": "0", **os.environ, **(env or {})})  # measure the model, not the cache

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def wait_ready(self, timeout: float = 300) -> Node:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}/readyz", timeout=1) as answer:
                    if answer.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} not ready within {timeout} s; see {self.log.name}")

    def memory_mb(self) -> tuple[float, float]:
        """(current RSS, peak RSS) in MB."""
        fields = dict(line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines())
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class Target:
    """Raw gRPC stubs (qdrant_client.grpc) on one channel to one process."""

    def __init__(self, node: Node) -> None:
        from qdrant_client import grpc as q

        self.channel = grpc.insecure_channel(node.grpc_address, options=[
            ("grpc.max_receive_message_length", 64 << 20), ("grpc.max_send_message_length", 64 << 20)])
        self.points = q.PointsStub(self.channel)
        self.collections = q.CollectionsStub(self.channel)


def stats(latencies: list[float]) -> tuple[float, float]:
    return percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=5000, help="points in the query collection (real MiniLM vectors)")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 200 queries, per kind and path")
    parser.add_argument("--docs", type=int, default=320, help="documents upserted per configuration and pass")
    parser.add_argument("--passes", type=int, default=2, help="throughput passes (A B C, then C B A, ...)")
    parser.add_argument("--batch", type=int, default=32, help="documents per upsert request")
    parser.add_argument("--clients", type=int, default=4, help="concurrent upsert streams")
    args = parser.parse_args()
    from qdrant_client import grpc as q

    corpus, query_vectors, corpus_texts, query_texts = minilm_embeddings(args.points)
    bm25 = Bm25Backend()
    sparse_queries = bm25.embed_sync([Document(model=BM25, text=t) for t in query_texts], "query").vectors
    docs = text_corpus(args.docs * args.passes)
    cores = os.cpu_count()
    print(f"machine: {cores} cores; upstream = vecinfer embedded; gateways = vecinfer serve --upstream "
          f"(default settings: {cores} inference workers, batches up to 64)")

    tmp_dir = tempfile.TemporaryDirectory(prefix="vecinfer-gateway-bench-")
    tmp = Path(tmp_dir.name)
    upstream = Node("upstream", tmp)
    nodes = [upstream]
    try:
        upstream.wait_ready()
        gateway_env = {"VECINFER_UPSTREAM": upstream.grpc_address, "VECINFER_UPSTREAM_HTTP": f"127.0.0.1:{upstream.http_port}"}
        gateways = [Node(f"gateway{i}", tmp, gateway_env) for i in (1, 2)]
        nodes += gateways
        for g in gateways:
            g.wait_ready()
        pids = [os.getpid()] + [n.proc.pid for n in nodes]
        direct, through = Target(upstream), [Target(g) for g in gateways]

        # ---- latency: one collection, real MiniLM vectors and BM25 (IDF) of the same passages ----
        direct.collections.Create(q.CreateCollection(
            collection_name="lat",
            vectors_config=q.VectorsConfig(params_map=q.VectorParamsMap(map={
                "dense": q.VectorParams(size=corpus.shape[1], distance=q.Distance.Cosine)})),
            sparse_vectors_config=q.SparseVectorConfig(map={"bm25": q.SparseVectorParams(modifier=q.Modifier.Idf)})),
            timeout=60)
        for start in range(0, len(corpus), 256):
            direct.points.Upsert(q.UpsertPoints(collection_name="lat", wait=True, points=[
                q.PointStruct(id=q.PointId(num=i), vectors=q.Vectors(vectors=q.NamedVectors(vectors={
                    "dense": q.Vector(dense=q.DenseVector(data=corpus[i].tolist())),
                    "bm25": q.Vector(document=q.Document(text=corpus_texts[i], model=BM25))})))
                for i in range(start, min(start + 256, len(corpus)))]), timeout=120)

        def dense_query(i: int) -> q.QueryPoints:
            return q.QueryPoints(collection_name="lat", using="dense", limit=10, query=q.Query(
                nearest=q.VectorInput(dense=q.DenseVector(data=query_vectors[i].tolist()))))

        def bm25_document(i: int) -> q.QueryPoints:
            return q.QueryPoints(collection_name="lat", using="bm25", limit=10, query=q.Query(
                nearest=q.VectorInput(document=q.Document(text=query_texts[i], model=BM25))))

        def bm25_sparse(i: int) -> q.QueryPoints:
            v = sparse_queries[i]
            return q.QueryPoints(collection_name="lat", using="bm25", limit=10, query=q.Query(
                nearest=q.VectorInput(sparse=q.SparseVector(indices=v.indices.tolist(), values=v.values.tolist()))))

        gateway = through[0]
        rng = random.Random(13)
        latency: dict[str, dict[str, list[float]]] = {}
        for kind, via_gateway, via_direct in (("dense vector (pass-through)", dense_query, dense_query),
                                              ("BM25 Document", bm25_document, bm25_sparse)):
            for i in range(20):  # warm-up, both paths
                gateway.points.Query(via_gateway(i), timeout=30)
                direct.points.Query(via_direct(i), timeout=30)
            times: dict[str, list[float]] = {"direct": [], "gateway": []}
            agree = 0
            with CpuMeter(pids) as meter:
                for _ in range(args.rounds):
                    for i in range(len(query_texts)):
                        paths = [("direct", direct, via_direct(i)), ("gateway", gateway, via_gateway(i))]
                        rng.shuffle(paths)
                        ids = {}
                        for name, target, request in paths:
                            t0 = time.perf_counter()
                            answer = target.points.Query(request, timeout=30)
                            times[name].append(time.perf_counter() - t0)
                            ids[name] = [p.id.num for p in answer.result]
                        agree += ids["direct"] == ids["gateway"]
            times["agree"] = [agree / (args.rounds * len(query_texts))]
            times["other"] = [meter.other_cores]
            latency[kind] = times

        # ---- throughput: MiniLM Document upserts ----
        configs = {"direct to the upstream (it embeds)": [direct], "1 gateway": through[:1], "2 gateways": through}
        results: dict[str, dict[str, float]] = {name: {"docs": 0, "seconds": 0, "other": 0, "up_cpu": 0, "gw_cpu": 0}
                                                for name in configs}
        order = list(configs)
        collection_number = 0
        for pass_number in range(args.passes):
            part = docs[pass_number * args.docs:(pass_number + 1) * args.docs]
            batches = [part[i:i + args.batch] for i in range(0, len(part), args.batch)]
            for name in (order if pass_number % 2 == 0 else order[::-1]):
                targets = configs[name]
                collection_number += 1
                collection = f"upsert{collection_number}"
                direct.collections.Create(q.CreateCollection(
                    collection_name=collection, vectors_config=q.VectorsConfig(params=q.VectorParams(
                        size=384, distance=q.Distance.Cosine))), timeout=60)
                for t, target in enumerate(targets):  # warm-up: connections, the batcher
                    target.points.Upsert(q.UpsertPoints(collection_name=collection, wait=True, points=[
                        q.PointStruct(id=q.PointId(num=10**9 + 8 * t + j), vectors=q.Vectors(vector=q.Vector(
                            document=q.Document(text=f"warm up {j}", model=MINILM)))) for j in range(8)]), timeout=120)
                warm = 8 * len(targets)

                def stream(client: int, batches: list[list[str]] = batches, targets: list[Target] = targets,
                           collection: str = collection) -> None:
                    target = targets[client % len(targets)]
                    for b in range(client, len(batches), args.clients):
                        target.points.Upsert(q.UpsertPoints(collection_name=collection, wait=True, points=[
                            q.PointStruct(id=q.PointId(num=b * args.batch + j), vectors=q.Vectors(vector=q.Vector(
                                document=q.Document(text=text, model=MINILM)))) for j, text in enumerate(batches[b])]),
                            timeout=600)

                cpu0 = {n.name: _proc_cpu_seconds(n.proc.pid) for n in nodes}
                with CpuMeter(pids) as meter:
                    t0 = time.perf_counter()
                    with ThreadPoolExecutor(args.clients) as pool:
                        list(pool.map(stream, range(args.clients)))
                    seconds = time.perf_counter() - t0
                cpu = {n.name: _proc_cpu_seconds(n.proc.pid) - cpu0[n.name] for n in nodes}
                stored = direct.points.Count(q.CountPoints(collection_name=collection, exact=True), timeout=60).result.count
                assert stored == len(part) + warm, (name, stored)
                r = results[name]
                r["docs"] += len(part)
                r["seconds"] += seconds
                r["other"] += meter.other_cores * seconds
                r["up_cpu"] += cpu["upstream"]
                r["gw_cpu"] += sum(cpu[g.name] for g in gateways)
                print(f"  pass {pass_number + 1} {name}: {len(part) / seconds:.1f} docs/s, other CPU "
                      f"{meter.other_cores:.2f} cores", flush=True)
                direct.collections.Delete(q.DeleteCollection(collection_name=collection), timeout=60)
        memory = {n.name: n.memory_mb() for n in nodes}
    finally:
        for node in reversed(nodes):
            node.stop()
        tmp_dir.cleanup()

    n = args.rounds * len(query_texts)
    print(f"\nLatency: {args.points} points (real MiniLM vectors + BM25 with IDF), {n} queries per kind and path, "
          "one client, limit 10")
    print(f"{'query':<30}{'direct p50':>11}{'p99':>8}{'gateway p50':>13}{'p99':>8}{'added p50':>11}{'p99':>8}"
          f"{'paired':>8}{'same top-10':>13}{'other CPU':>11}")
    for kind, t in latency.items():
        d50, d99 = stats(t["direct"])
        g50, g99 = stats(t["gateway"])
        paired = percentile([g - d for g, d in zip(t["gateway"], t["direct"])], 50) * 1e3
        print(f"{kind:<30}{d50:>11.2f}{d99:>8.2f}{g50:>13.2f}{g99:>8.2f}{g50 - d50:>11.2f}{g99 - d99:>8.2f}"
              f"{paired:>8.2f}{t['agree'][0]:>13.3f}{t['other'][0]:>11.2f}")
    print("(ms; added = gateway - direct; paired = median over queries of the gateway's time minus the direct "
          "time for the same query)")
    print(f"\nDocument upserts: {args.docs * args.passes} MiniLM documents (8-40 words) per configuration, "
          f"batches of {args.batch}, {args.clients} streams, wait=true")
    base = results[order[0]]["docs"] / results[order[0]]["seconds"]
    print(f"{'configuration':<38}{'docs/s':>8}{'ratio':>7}{'gateway CPU s/1k':>18}{'upstream CPU s/1k':>19}"
          f"{'other CPU':>11}")
    for name, r in results.items():
        rate = r["docs"] / r["seconds"]
        print(f"{name:<38}{rate:>8.1f}{rate / base:>7.2f}{r['gw_cpu'] / r['docs'] * 1e3:>18.1f}"
              f"{r['up_cpu'] / r['docs'] * 1e3:>19.1f}{r['other'] / r['seconds']:>11.2f}")
    print("\nmemory MB (RSS now / peak): " + ", ".join(f"{k} {v[0]:.0f} / {v[1]:.0f}" for k, v in memory.items()))


if __name__ == "__main__":
    main()
