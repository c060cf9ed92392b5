"""Where one point of a gRPC upsert spends its Python time, piece by piece, in this process:
the client building the request with `qdrant_client.grpc`, then the server's parse, conversion
to operations, vector preparation, log record, payload copy and the whole `Collection.write`.

    .venv/bin/python scripts/bench/upsert_parts.py [--points 1000] [--repeat 5]

Random 384-d vectors (Cosine) with a one-key payload, in one UpsertPoints of `--points`; each
piece is timed `--repeat` times and the best is printed, in µs per point. The client's building
runs in a child process, since qdrant_client's protos and ours cannot share one.
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

CLIENT = r'''
import sys, time
import numpy as np
from qdrant_client import grpc as q
n, repeat = int(sys.argv[1]), int(sys.argv[2])
vectors = np.random.default_rng(0).normal(size=(n, 384)).astype(np.float32)
best = 1e9
for _ in range(repeat):
    started = time.perf_counter()
    message = q.UpsertPoints(collection_name="c", wait=True, points=[q.PointStruct(
        id=q.PointId(num=i), vectors=q.Vectors(vector=q.Vector(dense=q.DenseVector(data=vectors[i].tolist()))),
        payload={"bucket": q.Value(integer_value=i % 100)}) for i in range(n)])
    best = min(best, time.perf_counter() - started)
print(best / n * 1e6)
'''


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.points

    from vecinfer.api.grpc.convert import writes
    from vecinfer.domain import points as ops
    from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance
    from vecinfer.domain.points import check_payload
    from vecinfer.storage.catalog import Catalog
    from vecinfer.storage.format import operations as records
    from vecinfer_proto.qdrant.json_with_int_pb2 import Value
    from vecinfer_proto.qdrant.points_pb2 import DenseVector, PointStruct, UpsertPoints, Vector, Vectors
    from vecinfer_proto.qdrant.qdrant_common_pb2 import PointId

    client = subprocess.run([sys.executable, "-c", CLIENT, str(n), str(args.repeat)], capture_output=True, text=True,
                            check=True)
    print(f"{'client builds the request':32s} {float(client.stdout):7.2f} µs/point")

    vectors = np.random.default_rng(0).normal(size=(n, 384)).astype(np.float32)
    raw = UpsertPoints(collection_name="c", points=[PointStruct(
        id=PointId(num=i), vectors=Vectors(vector=Vector(dense=DenseVector(data=vectors[i].tolist()))),
        payload={"bucket": Value(integer_value=i % 100)}) for i in range(n)]).SerializeToString()

    def best(label: str, work: Callable[[], Any], repeat: int = args.repeat) -> Any:
        fastest, result = 1e9, None
        for _ in range(repeat):
            started = time.perf_counter()
            result = work()
            fastest = min(fastest, time.perf_counter() - started)
        print(f"{label:32s} {fastest / n * 1e6:7.2f} µs/point")
        return result

    with tempfile.TemporaryDirectory() as tmp:
        catalog = Catalog(Path(tmp))
        collection = catalog.create("c", CollectionConfig(dense={"": DenseVectorParams(384, Distance.COSINE)},
                                                          unnamed=True))
        message = best("server parses", lambda: UpsertPoints.FromString(raw))
        upsert = best("converts to operations", lambda: writes.upsert_request(message))
        best("checks payloads", lambda: [check_payload(p.payload, "payload") for p in upsert.points])
        prepared = best("prepares vectors", lambda: collection._prepare_point_vectors(upsert.points))
        op = ops.Upsert([ops.Point(p.id, v, p.payload) for p, v in zip(upsert.points, prepared, strict=True)])
        best("encodes the log record", lambda: records.encode(1, [op]))
        best("copies payloads", lambda: [copy.deepcopy(p.payload) for p in op.points])
        best("Collection.write, whole", lambda: collection.write([ops.Upsert(list(upsert.points))]), repeat=3)
        catalog.close()


if __name__ == "__main__":
    main()
