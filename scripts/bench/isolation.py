"""Isolation benchmark: does one big inference request starve small ones?

    .venv/bin/python scripts/bench/isolation.py [--docs 10000] [--idle-queries 100]

Phases, on one server (all-MiniLM-L6-v2, default batching settings):

1. idle: single-text MiniLM queries one after another, nothing else running;
2. alone: one upsert of `--docs` MiniLM documents in one request, nothing else running (docs/s);
3. loaded: the same upsert in one thread while another thread sends single-text MiniLM
   queries back to back: the queries' p50/p99 against idle, and the upsert's docs/s;
4. cancelled: the same upsert with a 2 s client deadline, then one single-text query at once:
   that query's latency, and the server's CPU in the 3 s after the query (work left running
   by the cancelled request shows up there);
5. bm25: one BM25 upsert of 8 texts x `--bm25-chars` characters while another thread sends
   plain-vector queries (no inference): the longest such query during the upsert.

Queries go to their own small collection, so the numbers are about inference, not storage locks.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Server, _proc_cpu_seconds, percentile  # noqa: E402

from data import short_passages  # noqa: E402

MINILM = "sentence-transformers/all-minilm-l6-v2"
BM25 = "qdrant/bm25"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=10_000)
    parser.add_argument("--idle-queries", type=int, default=100)
    parser.add_argument("--bm25-chars", type=int, default=1_000_000, help="characters per BM25 text (phase 5)")
    parser.add_argument("--skip", default="", help="comma-separated phases to skip (alone,cancelled,bm25)")
    parser.add_argument("--max-batch", type=int, help="the server's VECINFER_INFERENCE_MAX_BATCH (default: its own)")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    import grpc
    from qdrant_client import models

    texts = short_passages(args.docs + 2000)
    docs, query_texts = texts[: args.docs], texts[args.docs :]
    server = Server({"VECINFER_INFERENCE_MAX_BATCH": str(args.max_batch)} if args.max_batch else None)
    try:
        client = server.client(cloud_inference=True)
        client.create_collection("bench", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE))
        client.create_collection("probe", vectors_config=models.VectorParams(size=384, distance=models.Distance.COSINE),
                                 sparse_vectors_config={"bm25": models.SparseVectorParams(modifier=models.Modifier.IDF)})
        client.upsert("probe", points=[models.PointStruct(id=i, vector={"": models.Document(text=t, model=MINILM)})
                                       for i, t in enumerate(query_texts[:50])])
        counter = iter(range(10**9))

        def query(c) -> float:
            text = query_texts[next(counter) % len(query_texts)]
            started = time.perf_counter()
            c.query_points("probe", query=models.Document(text=text, model=MINILM), limit=5)
            return time.perf_counter() - started

        def upsert(c, n: int, id_base: int = 0) -> None:
            c.upsert("bench", points=[models.PointStruct(id=id_base + i, vector=models.Document(text=t, model=MINILM))
                                      for i, t in enumerate(docs[:n])])

        for _ in range(10):
            query(client)
        idle = [query(client) for _ in range(args.idle_queries)]

        alone_rate = None
        if "alone" not in skip:
            started = time.perf_counter()
            upsert(client, args.docs)
            alone_rate = args.docs / (time.perf_counter() - started)

        # 3. loaded: the big upsert in one thread, small queries back to back in another.
        done = threading.Event()
        loaded: list[tuple[float, float]] = []  # (sent, answered) per query
        upsert_span: list[float] = []
        small_client = server.client(cloud_inference=True)

        def big() -> None:
            upsert_span.append(time.perf_counter())
            try:
                upsert(client, args.docs, id_base=10**6)
            finally:
                upsert_span.append(time.perf_counter())
                done.set()

        def small() -> None:
            while not done.is_set():
                sent = time.perf_counter()
                query(small_client)
                loaded.append((sent, time.perf_counter()))

        threads = [threading.Thread(target=big), threading.Thread(target=small)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        # A query still running when the upsert ended is counted: it waited during it.
        loaded_latency = [answered - sent for sent, answered in loaded]
        upsert_start, upsert_end = upsert_span
        loaded_rate = args.docs / (upsert_end - upsert_start)
        worst_sent, worst_answered = max(loaded, key=lambda q: q[1] - q[0])

        cancelled = None
        if "cancelled" not in skip:
            from qdrant_client import QdrantClient

            short = QdrantClient(host="127.0.0.1", grpc_port=server.grpc_port, port=server.http_port, prefer_grpc=True,
                                 timeout=2, check_compatibility=False, cloud_inference=True)  # 2 s gRPC deadline
            sent = time.perf_counter()
            try:
                upsert(short, args.docs, id_base=2 * 10**6)
                outcome = "finished"
            except grpc.RpcError as exc:
                outcome = exc.code().name
            elapsed = time.perf_counter() - sent
            after_cancel = query(small_client)
            cpu0, t0 = _proc_cpu_seconds(server.proc.pid), time.perf_counter()
            time.sleep(3)
            busy = (_proc_cpu_seconds(server.proc.pid) - cpu0) / (time.perf_counter() - t0)
            cancelled = (outcome, elapsed, after_cancel, busy)
            short.close()

        bm25 = None
        if "bm25" not in skip:
            words = short_passages(2000)
            blob = " ".join(words)
            long_texts = [((blob + " ") * (args.bm25_chars // len(blob) + 1))[: args.bm25_chars - 1] + str(i)
                          for i in range(8)]
            client.upsert("probe", points=[models.PointStruct(id=10**6, vector={"": [1.0] * 384})])
            pings: list[float] = []
            bm25_done = threading.Event()
            bm25_seconds: list[float] = []

            def bm25_upsert() -> None:
                started = time.perf_counter()
                try:
                    client.upsert("probe", points=[models.PointStruct(id=2 * 10**6 + i, vector={
                        "bm25": models.Document(text=t, model=BM25)}) for i, t in enumerate(long_texts)])
                finally:
                    bm25_seconds.append(time.perf_counter() - started)
                    bm25_done.set()

            def ping() -> None:
                while not bm25_done.is_set():
                    started = time.perf_counter()
                    small_client.query_points("probe", query=[0.5] * 384, limit=1)
                    pings.append(time.perf_counter() - started)

            threads = [threading.Thread(target=bm25_upsert), threading.Thread(target=ping)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            bm25 = (bm25_seconds[0], pings)
        small_client.close()
        client.close()
    finally:
        server.stop()

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f}"

    print(f"{args.docs} short passages (6-12 words) in one MiniLM upsert; single-text MiniLM queries; "
          f"{os.cpu_count()} cores")
    print(f"{'measure':<52}{'n':>6}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    print(f"{'small query, idle':<52}{len(idle):>6}{ms(percentile(idle, 50)):>10}{ms(percentile(idle, 99)):>10}"
          f"{ms(max(idle)):>10}")
    print(f"{'small query, during the big upsert':<52}{len(loaded):>6}{ms(percentile(loaded_latency, 50)):>10}"
          f"{ms(percentile(loaded_latency, 99)):>10}{ms(max(loaded_latency)):>10}")
    print(f"ratio during / idle: p50 {percentile(loaded_latency, 50) / percentile(idle, 50):.1f}x, "
          f"p99 {percentile(loaded_latency, 99) / percentile(idle, 99):.1f}x; slowest query sent "
          f"{worst_sent - upsert_start:.1f} s into the upsert, answered {upsert_end - worst_answered:.1f} s before its end")
    if alone_rate is not None:
        print(f"big upsert alone: {alone_rate:.0f} docs/s")
    print(f"big upsert with queries beside it: {loaded_rate:.0f} docs/s ({upsert_end - upsert_start:.1f} s)")
    if cancelled is not None:
        outcome, seconds, after, busy = cancelled
        print(f"cancelled upsert (2 s deadline): {outcome} after {seconds:.1f} s; next small query {ms(after)} ms; "
              f"server CPU in the following 3 s: {busy:.2f} cores")
    if bm25 is not None:
        seconds, pings = bm25
        print(f"BM25 upsert of 8 x {args.bm25_chars} chars: {seconds:.1f} s; plain-vector queries meanwhile: "
              f"{len(pings)}, p50 {ms(percentile(pings, 50))} ms, max {ms(max(pings))} ms")


if __name__ == "__main__":
    main()
