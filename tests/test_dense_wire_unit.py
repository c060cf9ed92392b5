"""A DenseVector's floats are read from the message's packed wire form (api/grpc/convert/vectors.py):
the result must be bit for bit what reading the repeated field gives, whatever the length (the
length prefix is a varint of 1 to 3 bytes here), the values (NaN, infinities, -0.0, subnormals),
and when the message carries fields this server does not know.

Our `qdrant` protos cannot share the pytest process with qdrant_client's, so the checks run in
a child interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHECKS = r'''
import numpy as np
from vecinfer.api.grpc.convert.vectors import _dense_message, packed_floats
from vecinfer_proto.qdrant import points_pb2 as pb

def bits(array):
    return np.asarray(array, dtype=np.float32).view(np.uint32).tolist()

for size in (0, 1, 31, 32, 33, 384, 4095, 4096, 40_000):
    values = np.random.default_rng(size).normal(size=size).astype(np.float32)
    msg = pb.DenseVector(data=values.tolist())
    got = _dense_message(msg)
    assert got.dtype == np.float32 and got.flags.writeable, size
    assert bits(got) == bits(np.asarray(msg.data, dtype=np.float32)) == bits(values), size
    assert (packed_floats(msg.SerializeToString()) is None) == (size == 0), size  # the wire path was taken

special = np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, np.finfo(np.float32).max], dtype=np.float32)
assert bits(_dense_message(pb.DenseVector(data=special.tolist()))) == bits(special)

values = [1.5, -2.0, 3.25]
known = pb.DenseVector(data=values).SerializeToString()
for extra in (b"\x10\x07", b"\x1a\x03abc"):  # field 2 varint, field 3 bytes: unknown to DenseVector
    for raw in (known + extra, extra + known):
        msg = pb.DenseVector.FromString(raw)
        assert _dense_message(msg).tolist() == values, raw
        assert packed_floats(msg.SerializeToString()) is None, raw  # read field by field instead
print("checked")
'''


def test_wire_read_equals_the_repeated_field():
    done = subprocess.run([sys.executable, "-c", CHECKS], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "checked"
