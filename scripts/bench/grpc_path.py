"""The gRPC path: where a dense query's and an upsert's Python time goes, and the converters' cost.

    .venv/bin/python scripts/bench/grpc_path.py micro [--repeat 5]
    .venv/bin/python scripts/bench/grpc_path.py load [--n 20000] [--seconds 20] [--concurrency 4] [--py-spy DIR]
    .venv/bin/python scripts/bench/grpc_path.py top DIR/query.json [--threads] [--rows 25]

`micro` times the gRPC converters in this process, each variant against the one the server
uses, interleaved round by round; ratios are what to read (times move with neighbours' load).

`load` starts `vecinfer serve` (scripts/bench/common.Server), upserts the cached MiniLM set
(scripts/bench/data.py; random unit vectors when it is not cached; beyond 100k, search.py's set
of real vectors plus jittered copies) in UpsertPoints of 256 points
through raw `qdrant_client.grpc` stubs, waits for indexing, then sends QueryPoints (dense
nearest, limit 10) from `--concurrency` grpc.aio calls in flight for `--seconds`. It prints
points/s, QPS and the server's CPU per point / per query. With `--py-spy DIR` it records the
server with py-spy (speedscope JSON, --native, 500 Hz) during each phase into DIR.

`top` summarises such a profile: samples per thread, then the frames with the largest self and
total share of all samples (py-spy records only non-idle samples).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import CpuMeter, Server, _proc_cpu_seconds  # noqa: E402

from data import CACHE, REAL_MAX, search_vectors  # noqa: E402

DIM = 384
BATCH = 256


def dataset(n: int, queries: int = 200) -> tuple[np.ndarray, np.ndarray, str]:
    if n > REAL_MAX:  # search.py's 1M set: real vectors plus jittered copies
        corpus, query_vectors, _ = search_vectors(n, queries)
        return corpus, query_vectors, "MiniLM + jittered copies"
    cached = CACHE / "minilm-100000-200.npz"
    if cached.exists():
        data = np.load(cached)
        return data["corpus"][:n].astype(np.float32), data["queries"][:queries].astype(np.float32), "MiniLM"
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n + queries, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors[:n], vectors[n:], "random"


# ---------------------------------------------------------------------------- micro

def _time(fn: Callable[[], object], loops: int) -> float:
    started = time.perf_counter()
    for _ in range(loops):
        fn()
    return (time.perf_counter() - started) / loops


def compare(title: str, variants: dict[str, Callable[[], object]], loops: int, repeat: int) -> None:
    """Interleaved rounds; best per variant; ratio to the first variant (the baseline)."""
    best = {name: float("inf") for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            best[name] = min(best[name], _time(fn, loops))
    base = next(iter(best.values()))
    print(f"\n{title}")
    for name, seconds in best.items():
        print(f"  {name:<44} {seconds * 1e6:9.2f} µs  {base / seconds:5.2f}x")


# The converters as they were before this script's changes (commit 2c199d7), for before/after
# ratios in one process run.

def _value_before(value: Any) -> Any:
    kind = value.WhichOneof("kind")
    if kind is None or kind == "null_value":
        return None
    if kind == "struct_value":
        return _map_before(value.struct_value.fields)
    if kind == "list_value":
        return [_value_before(v) for v in value.list_value.values]
    return getattr(value, kind)


def _map_before(fields: Any) -> dict[str, Any]:
    return {key: _value_before(v) for key, v in fields.items()}


def _fill_scored_before(scored: list[Any], out: Any) -> None:
    from vecinfer.api.grpc.convert.values import fill_map, point_id_to
    from vecinfer.api.grpc.convert.vectors import vectors_to

    for point in scored:
        item = out.add()
        point_id_to(point.id, item.id)
        item.score = point.score
        if point.payload:
            fill_map(point.payload, item.payload)
        if point.vectors is not None:
            vectors_to(point.vectors, item.vectors)
        if isinstance(point.order_value, int):
            item.order_value.int = point.order_value
        elif point.order_value is not None:
            item.order_value.float = point.order_value


def micro(repeat: int) -> None:
    from vecinfer.api.grpc.convert import writes
    from vecinfer.api.grpc.convert.queries import query_request_from
    from vecinfer.api.grpc.convert.values import map_to_py
    from vecinfer.api.grpc.output import fill_scored
    from vecinfer.domain.query import ScoredPoint
    from vecinfer_proto.qdrant import json_with_int_pb2 as jpb
    from vecinfer_proto.qdrant import points_pb2 as pb
    from vecinfer_proto.qdrant import qdrant_common_pb2 as cpb

    rng = np.random.default_rng(1)
    corpus = rng.standard_normal((BATCH, DIM)).astype(np.float32)
    # Parsed from bytes, as the server gets them.
    query = pb.QueryPoints.FromString(pb.QueryPoints(collection_name="bench", limit=10, query=pb.Query(
        nearest=pb.VectorInput(dense=pb.DenseVector(data=corpus[0].tolist())))).SerializeToString())
    upsert_bytes = {
        payload: pb.UpsertPoints(collection_name="bench", wait=True, points=[
            pb.PointStruct(id=cpb.PointId(num=i), vectors=pb.Vectors(vector=pb.Vector(dense=pb.DenseVector(
                data=corpus[i].tolist()))), payload={"bucket": jpb.Value(integer_value=i)} if payload else None)
            for i in range(BATCH)]).SerializeToString()
        for payload in (False, True)}
    data = query.query.nearest.dense.data

    compare("packed float field (384) -> float32 array", {
        "np.asarray(field, float32) [kept]": lambda: np.asarray(data, dtype=np.float32),
        "field.__array__() (what asarray calls)": lambda: data.__array__(),
        "np.array(list(field), float32)": lambda: np.array(list(data), dtype=np.float32),
        "np.fromiter(field, float32, len)": lambda: np.fromiter(data, dtype=np.float32, count=len(data)),
    }, 2000, repeat)

    compare("QueryPoints (dense nearest) -> QueryRequest", {
        "query_request_from": lambda: query_request_from(query),
    }, 2000, repeat)

    payloads = {name: pb.PointStruct.FromString(pb.PointStruct(payload=payload).SerializeToString()).payload
                for name, payload in (("empty", {}), ("1 key", {"bucket": jpb.Value(integer_value=3)}), (
                    "3 keys", {"bucket": jpb.Value(integer_value=3), "name": jpb.Value(string_value="x"),
                               "tags": jpb.Value(list_value=jpb.ListValue(values=[jpb.Value(string_value="a")]))}))}
    for name, fields in payloads.items():
        assert map_to_py(fields) == _map_before(fields)
        compare(f"payload map -> dict ({name})", {
            "before (.items(), no empty fast path)": lambda fields=fields: _map_before(fields),
            "map_to_py": lambda fields=fields: map_to_py(fields),
        }, 5000, repeat)

    def upsert_before(raw: bytes) -> object:
        writes.map_to_py = _map_before  # type: ignore[attr-defined]
        try:
            return writes.upsert_request(pb.UpsertPoints.FromString(raw))
        finally:
            writes.map_to_py = map_to_py  # type: ignore[attr-defined]

    for payload, raw in upsert_bytes.items():
        compare(f"UpsertPoints ({BATCH} dense points{', 1-key payload' if payload else ''}) parse + convert", {
            "before (old map_to_py)": lambda raw=raw: upsert_before(raw),
            "parse + writes.upsert_request": lambda raw=raw: writes.upsert_request(pb.UpsertPoints.FromString(raw)),
            "parse only": lambda raw=raw: pb.UpsertPoints.FromString(raw),
        }, 30, repeat)

    bare = [ScoredPoint(id=i, score=float(1 - i / 100)) for i in range(10)]
    with_payload = [ScoredPoint(id=i, score=float(1 - i / 100), payload={"bucket": i, "name": f"n{i}"})
                    for i in range(10)]

    def response(points: list[ScoredPoint], fill: Callable[[list[Any], Any], None]) -> Callable[[], bytes]:
        def run() -> bytes:
            out = pb.QueryResponse(time=0.001)
            fill(points, out.result)
            return out.SerializeToString()
        return run

    # The hand-off every read makes (service/points.py: `await asyncio.to_thread(run)`), with a
    # trivial `run`, against calling it on the loop; `loops` calls one after another.
    def hops(kind: str, loops: int = 500) -> Callable[[], None]:
        def noop() -> int:
            return 1

        async def run() -> None:
            for _ in range(loops):
                if kind == "to_thread":
                    await asyncio.to_thread(noop)
                elif kind == "wait_for":
                    await asyncio.wait_for(asyncio.to_thread(noop), 60)
                else:
                    noop()
        loop = asyncio.new_event_loop()
        return lambda: loop.run_until_complete(run())

    compare("500 calls of a no-op on the event loop vs through asyncio.to_thread (+ wait_for, as with a deadline)", {
        "direct": hops("direct"),
        "asyncio.to_thread": hops("to_thread"),
        "wait_for(asyncio.to_thread)": hops("wait_for"),
    }, 3, repeat)

    for title, points in (("ids + scores", bare), ("ids + scores + 2-key payload", with_payload)):
        assert response(points, fill_scored)() == response(points, _fill_scored_before)()
        compare(f"QueryResponse of 10 ScoredPoints, {title} (build + serialize)", {
            "before": response(points, _fill_scored_before),
            "fill_scored": response(points, fill_scored),
        }, 3000, repeat)


# ---------------------------------------------------------------------------- load

def python_thread_names(pid: int) -> dict[str, str]:
    """OS thread id -> Python thread name, from `py-spy dump` (empty when py-spy is missing)."""
    import re

    spy = Path(sys.executable).with_name("py-spy")
    if not spy.exists():
        return {}
    dump = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True, text=True, timeout=60).stdout
    return dict(re.findall(r'^Thread (\d+) \([a-z-]+\): "([^"]*)"', dump, re.M))


def thread_cpu(pid: int, names: dict[str, str] | None = None) -> dict[str, float]:
    """CPU seconds per thread name of a process (threads of one name summed; asyncio_N -> asyncio)."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (names or {}).get(task.name) or (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = name.rstrip("0123456789_") or name
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def report_threads(before: dict[str, float], after: dict[str, float], per: int, unit: str) -> None:
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    total = sum(spent.values())
    parts = ", ".join(f"{k} {v / per * 1e6:.0f}" for k, v in sorted(spent.items(), key=lambda x: -x[1]) if v > 0)
    print(f"  server CPU by thread, µs/{unit}: {parts} (total {total / per * 1e6:.0f})")


class PySpy:
    def __init__(self, out_dir: Path | None, pid: int, native: bool = True) -> None:
        self.out_dir, self.pid, self.native = out_dir, pid, native
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, phase: str) -> None:
        if self.out_dir is None:
            return
        spy = Path(sys.executable).with_name("py-spy")
        native = ["--native"] if self.native else []
        self.proc = subprocess.Popen([str(spy), "record", *native, "-r", "500", "--format", "speedscope",
                                      "-o", str(self.out_dir / f"{phase}.json"), "--pid", str(self.pid)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1.0)  # let it attach

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(2)  # SIGINT: py-spy writes its file
            self.proc.wait(timeout=120)
            self.proc = None


def load(n: int, seconds: float, concurrency: int, spy_dir: Path | None, native: bool = True) -> None:
    import grpc
    from qdrant_client import grpc as qgrpc

    corpus, queries, kind = dataset(n)
    server = Server(env={"OMP_NUM_THREADS": "1"})
    if spy_dir is not None:
        spy_dir.mkdir(parents=True, exist_ok=True)
    spy = PySpy(spy_dir, server.proc.pid, native)
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}", options=[("grpc.max_send_message_length", -1)])
        points, collections = qgrpc.PointsStub(channel), qgrpc.CollectionsStub(channel)
        collections.Create(qgrpc.CreateCollection(collection_name="bench", vectors_config=qgrpc.VectorsConfig(
            params=qgrpc.VectorParams(size=DIM, distance=qgrpc.Cosine))), timeout=60)
        batches = [qgrpc.UpsertPoints(collection_name="bench", wait=True, points=[
            qgrpc.PointStruct(id=qgrpc.PointId(num=i), vectors=qgrpc.Vectors(vector=qgrpc.Vector(
                dense=qgrpc.DenseVector(data=corpus[i].tolist()))),
                payload={"bucket": qgrpc.Value(integer_value=i % 100)})
            for i in range(start, min(n, start + BATCH))]) for start in range(0, n, BATCH)]
        spy.start("upsert")
        names = python_thread_names(server.proc.pid)
        threads0 = thread_cpu(server.proc.pid, names)
        cpu0, t0 = _proc_cpu_seconds(server.proc.pid), time.perf_counter()
        with CpuMeter([server.proc.pid, os.getpid()]) as meter:
            for request in batches:
                points.Upsert(request, timeout=300)
        elapsed, cpu = time.perf_counter() - t0, _proc_cpu_seconds(server.proc.pid) - cpu0
        threads1 = thread_cpu(server.proc.pid, names | python_thread_names(server.proc.pid))
        spy.stop()
        print(f"data: {kind} {n} x {DIM}; upsert in batches of {BATCH}: {n / elapsed:,.0f} points/s, "
              f"server CPU {cpu / n * 1e6:.1f} µs/point, other processes {meter.other_cores:.2f} cores")
        report_threads(threads0, threads1, n, "point")
        while collections.Get(qgrpc.GetCollectionInfoRequest(collection_name="bench"),
                              timeout=60).result.status != qgrpc.Green:
            time.sleep(0.5)
        channel.close()
        requests = [qgrpc.QueryPoints(collection_name="bench", limit=10, query=qgrpc.Query(
            nearest=qgrpc.VectorInput(dense=qgrpc.DenseVector(data=q.tolist())))) for q in queries]

        async def drive() -> tuple[int, float, float]:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as aio:
                stub = qgrpc.PointsStub(aio)
                for r in requests[:20]:
                    await stub.Query(r)  # warm up
                spy.start("query")
                done, deadline = 0, time.perf_counter() + seconds
                names = python_thread_names(server.proc.pid)
                threads0 = thread_cpu(server.proc.pid, names)
                cpu0, t0 = _proc_cpu_seconds(server.proc.pid), time.perf_counter()

                async def worker(k: int) -> None:
                    nonlocal done
                    i = k
                    while time.perf_counter() < deadline:
                        await stub.Query(requests[i % len(requests)])
                        done += 1
                        i += concurrency

                await asyncio.gather(*(worker(k) for k in range(concurrency)))
                elapsed, cpu = time.perf_counter() - t0, _proc_cpu_seconds(server.proc.pid) - cpu0
                threads.update(before=threads0, after=thread_cpu(server.proc.pid, names | python_thread_names(server.proc.pid)))
                spy.stop()
                return done, elapsed, cpu

        threads: dict[str, dict[str, float]] = {}

        with CpuMeter([server.proc.pid, os.getpid()]) as meter:
            done, elapsed, cpu = asyncio.run(drive())
        print(f"query (dense nearest, limit 10, {concurrency} in flight): {done / elapsed:,.0f} QPS, "
              f"server CPU {cpu / done * 1e6:.0f} µs/query, other processes {meter.other_cores:.2f} cores")
        report_threads(threads["before"], threads["after"], done, "query")
    finally:
        spy.stop()
        server.stop()


# ---------------------------------------------------------------------------- top

def _label(frame: dict[str, Any]) -> str:
    name, file = frame["name"], frame.get("file") or ""
    if file.endswith(".py"):
        parts = Path(file).parts
        short = "/".join(parts[parts.index("src") + 1:] if "src" in parts else parts[-2:])
        return f"{name} ({short}:{frame.get('line')})"
    return f"{name} [{Path(file).name}]" if file else name


# Frames of a thread that waits (py-spy --native counts these samples as active).
_WAITING = ("PyThread_acquire_lock_timed", "epoll_wait", "poll", "pthread_cond_wait", "pthread_cond_timedwait",
            "sem_wait", "sem_timedwait", "select", "nanosleep", "clock_nanosleep")


def top(path: Path, rows: int, threads: bool) -> None:
    import json

    data = json.loads(path.read_text())
    frames = [_label(f) for f in data["shared"]["frames"]]
    waiting = {i for i, f in enumerate(data["shared"]["frames"]) if f["name"] in _WAITING}
    idle = 0
    for profile in data["profiles"]:
        kept = [stack for stack in profile["samples"] if not waiting.intersection(stack)]
        idle += len(profile["samples"]) - len(kept)
        profile["samples"] = kept
    print(f"dropped {idle} samples of waiting threads (lock, epoll_wait, condition, sleep)")
    total_samples = sum(len(p["samples"]) for p in data["profiles"])
    print(f"{path}: {total_samples} samples")
    for profile in sorted(data["profiles"], key=lambda p: -len(p["samples"])):
        print(f"  {len(profile['samples']) / total_samples:6.1%}  {profile['name']}")
    groups = [(p["name"], [p]) for p in data["profiles"]] if threads else [("all threads", data["profiles"])]
    for title, profiles in groups:
        n = sum(len(p["samples"]) for p in profiles)
        if not n:
            continue
        own: dict[int, int] = {}
        inclusive: dict[int, int] = {}
        for profile in profiles:
            for stack in profile["samples"]:
                if stack:
                    own[stack[-1]] = own.get(stack[-1], 0) + 1
                for f in set(stack):
                    inclusive[f] = inclusive.get(f, 0) + 1
        print(f"\n{title} ({n} samples): self")
        for f, c in sorted(own.items(), key=lambda x: -x[1])[:rows]:
            print(f"  {c / n:6.1%}  {frames[f]}")
        print(f"{title}: total")
        for f, c in sorted(inclusive.items(), key=lambda x: -x[1])[:rows]:
            print(f"  {c / n:6.1%}  {frames[f]}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    m = sub.add_parser("micro")
    m.add_argument("--repeat", type=int, default=5)
    lp = sub.add_parser("load")
    lp.add_argument("--n", type=int, default=20000)
    lp.add_argument("--seconds", type=float, default=20.0)
    lp.add_argument("--concurrency", type=int, default=4)
    lp.add_argument("--py-spy", type=Path, default=None, dest="py_spy")
    lp.add_argument("--python-only", action="store_true", help="py-spy without --native (samples faster)")
    tp = sub.add_parser("top")
    tp.add_argument("profile", type=Path)
    tp.add_argument("--rows", type=int, default=25)
    tp.add_argument("--threads", action="store_true")
    args: Any = parser.parse_args(argv)
    if args.mode == "top":
        top(args.profile, args.rows, args.threads)
    elif args.mode == "micro":
        micro(args.repeat)
    else:
        load(args.n, args.seconds, args.concurrency, args.py_spy, not args.python_only)


if __name__ == "__main__":
    main()
