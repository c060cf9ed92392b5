"""The on-disk format (docs/storage-format.md): a format 1 (pickled) folder is converted and
serves exactly what it held; nothing is pickled afterwards; a format 1 file holding anything
but vecinfer's own classes is refused without running it; log records and filters round-trip."""

from __future__ import annotations

import json
import pickle
import shutil
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from rest_http import call
from vecinfer.domain import filters as f
from vecinfer.domain import points as ops
from vecinfer.domain.points import SparseVector
from vecinfer.storage.format import filters as filter_json
from vecinfer.storage.format import operations as records

FIXTURE = Path(__file__).parent / "data" / "storage_v1"
ROOT = Path(__file__).resolve().parent.parent


def _stored(port: int, collection: str) -> dict:
    """Every point as the fixture's expected.json writes it: id as JSON -> payload and vectors."""
    status, _, body = call(port, "POST", f"/collections/{collection}/points/scroll",
                           {"limit": 1000, "with_payload": True, "with_vector": True})
    assert status == 200, body
    out = {}
    for point in body["result"]["points"]:
        vector = point.get("vector") or {}
        if isinstance(vector, list):
            vector = {"": vector}
        out[json.dumps(point["id"])] = {"payload": point["payload"], "vectors": vector}
    return out


def _assert_same_points(port: int, collection: str, expected: dict) -> None:
    got = _stored(port, collection)
    assert sorted(got) == sorted(expected["points"])
    for key, want in expected["points"].items():
        assert got[key]["payload"] == want["payload"], key
        assert sorted(got[key]["vectors"]) == sorted(want["vectors"]), key
        for name, value in want["vectors"].items():
            if isinstance(value, dict):  # sparse
                assert got[key]["vectors"][name] == value, (key, name)
            else:
                np.testing.assert_allclose(np.array(got[key]["vectors"][name]), np.array(value), rtol=1e-6, atol=1e-7)


def test_a_format_1_folder_is_converted_and_serves_what_it_held(server_factory, tmp_path):
    storage = tmp_path / "storage"
    shutil.copytree(FIXTURE, storage, ignore=shutil.ignore_patterns("*.md", "expected.json"))
    expected = json.loads((FIXTURE / "expected.json").read_text())
    server = server_factory(storage_dir=storage).start()
    port = server.http_port
    for name in ("legacy", "plain"):
        _assert_same_points(port, name, expected[name])
    status, _, info = call(port, "GET", "/collections/legacy")
    assert info["result"]["payload_schema"]["tag"]["data_type"] == "keyword"
    assert info["result"]["config"]["metadata"] == {"made_by": "v1 fixture"}
    assert call(port, "GET", "/collections/old-name/exists")[2]["result"]["exists"] is True
    assert "converted to storage format 2" in server.log()
    assert not list(storage.rglob("*.pkl")), "format 1 files stay after the conversion"
    for name in ("legacy", "plain"):
        assert json.loads((storage / "collections" / name / "format.json").read_text())["version"] == 2
        assert not (storage / "collections" / name / "wal.log").exists()

    # Writes after the conversion are durable in the new format, through a crash.
    status, _, body = call(port, "PUT", "/collections/plain/points?wait=true",
                           {"points": [{"id": 77, "vector": [7.0, 1.0], "payload": {"n": 77}}]})
    assert status == 200, body
    server.kill()
    server.start()
    expected["plain"]["points"]["77"] = {"payload": {"n": 77}, "vectors": {"": [7.0, 1.0]}}
    for name in ("legacy", "plain"):
        _assert_same_points(server.http_port, name, expected[name])
    assert server.log().count("converting it to format 2") == 2, "converted once per collection, not again"


def _frame(body: bytes) -> bytes:
    return struct.pack("<II", len(body), zlib.crc32(body)) + body


class _RunsACommand:
    """Unpickling this would run `touch <marker>`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f"touch {self.marker}",)


def test_a_format_1_file_with_a_foreign_class_is_refused_and_never_run(server_factory, tmp_path):
    storage = tmp_path / "storage"
    shutil.copytree(FIXTURE, storage, ignore=shutil.ignore_patterns("*.md", "expected.json"))
    marker = tmp_path / "pwned"
    folder = storage / "collections" / "plain"
    with open(folder / "wal.log", "ab") as log:
        log.write(_frame(pickle.dumps((3, [_RunsACommand(marker)]))))
        log.write(_frame(pickle.dumps((4, []))))  # a good record after it: damage, not a torn tail
    before = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    server = server_factory(storage_dir=storage).start()
    assert not marker.exists(), "a pickled command ran"
    status, _, body = call(server.http_port, "POST", "/collections/plain/points/scroll", {})
    assert status == 503 and "quarantined" in body["status"]["error"], body
    assert "system is not something format 1 stored" in server.log()
    after = {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert all(after.get(path) == data for path, data in before.items()), "the refused folder's files changed"
    # The other collection converted and serves.
    assert call(server.http_port, "POST", "/collections/legacy/points/count", {})[2]["result"]["count"] == 69


def test_no_module_but_the_format_1_reader_imports_pickle():
    importers = [str(p.relative_to(ROOT)) for p in (ROOT / "src").rglob("*.py")
                 if "import pickle" in p.read_text() or "from pickle" in p.read_text()]
    assert importers == ["src/vecinfer/storage/format/migrate_v1.py"]


# ---------------------------------------------------------------------------- round trips


_FILTER = f.Filter(
    must=(f.Match("a.b[0]", "keyword", "x"), f.Match("n", "integers", frozenset({1, 2})),
          f.Range("r", lt=1.5, gte=-2.0), f.Range("t", gt=1_700_000_000_000_000, datetime=True),
          f.ValuesCount("arr", gte=1), f.IsEmpty("e"), f.IsNull("z")),
    should=(f.HasId(frozenset({1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26"})), f.HasVector(""),
            f.Nested("items", f.Filter(must=(f.Match("k", "except_keywords", frozenset({"p", "q"})),)))),
    must_not=(f.Not(f.Match("s", "text", "hello world")),
              f.GeoRadius("loc", f.GeoPoint(13.4, 52.5), 1000.0),
              f.GeoBoundingBox("loc", f.GeoPoint(-10.0, 10.0), f.GeoPoint(10.0, -10.0)),
              f.GeoPolygon("loc", (f.GeoPoint(0.0, 0.0), f.GeoPoint(1.0, 0.0), f.GeoPoint(1.0, 1.0), f.GeoPoint(0.0, 0.0)),
                           ((f.GeoPoint(0.1, 0.1), f.GeoPoint(0.2, 0.1), f.GeoPoint(0.2, 0.2), f.GeoPoint(0.1, 0.1)),)),
              f.Filter(should=(f.Range("inf", lt=float("inf")),))),
    min_should=f.MinShould((f.Match("b", "boolean", True), f.Match("i", "integer", 3)), 1),
)


def test_every_filter_condition_round_trips():
    assert filter_json.loads(filter_json.dumps(_FILTER)) == _FILTER
    assert filter_json.loads(filter_json.dumps(f.Filter())) == f.Filter()


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype \
            and a.shape == b.shape and bool(np.all(a == b))
    if isinstance(a, SparseVector):
        return isinstance(b, SparseVector) and _same(a.indices, b.indices) and _same(a.values, b.values)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if hasattr(a, "__dataclass_fields__"):
        return type(a) is type(b) and all(_same(getattr(a, k), getattr(b, k)) for k in a.__dataclass_fields__)
    return a == b and type(a) is type(b)


def test_every_operation_round_trips_through_a_log_record():
    rng = np.random.default_rng(1)
    by_filter = ops.PointsSelector(filter=_FILTER)
    by_ids = ops.PointsSelector(ids=(1, "5c56c793-69f3-4fbf-87e6-c4bf54c28c26", 2**64 - 1))
    operations = [
        ops.Upsert([ops.Point(1, {"": rng.normal(size=4).astype(np.float32),
                                  "sparse": SparseVector(np.array([1, 9], np.uint32), np.array([0.5, -1], np.float32)),
                                  "multi": rng.normal(size=(3, 2)).astype(np.float32)},
                              {"a": [1, 2.5, None, {"b": "ü"}], "big": 2**70}),
                    ops.Point("5c56c793-69f3-4fbf-87e6-c4bf54c28c26", {}, {})], _FILTER, "insert_only"),
        ops.Upsert([], None, "update_only"),
        ops.UpdateVectors([ops.PointVectors(3, {"d": np.zeros(2, np.float32)})], None),
        ops.DeletePoints(by_filter), ops.DeletePoints(by_ids), ops.DeletePoints(ops.PointsSelector()),
        ops.DeleteVectors(by_ids, ["", "sparse"]),
        ops.SetPayload(by_filter, {"x": 1}, "a.b[0]"), ops.SetPayload(by_ids, {"x": 1}, None),
        ops.OverwritePayload(by_ids, {"y": [True, False]}),
        ops.DeletePayload(by_filter, ["a", "b.c"]), ops.ClearPayload(ops.PointsSelector(ids=())),
        ops.CreateFieldIndex("city", "keyword", None), ops.CreateFieldIndex("t", "text", {"type": "text", "tokenizer": "word"}),
        ops.DeleteFieldIndex("city"),
    ]
    seq, decoded = records.decode(records.encode(12, operations))
    assert seq == 12
    assert len(decoded) == len(operations)
    for before, after in zip(operations, decoded):
        assert _same(before, after), (before, after)


@pytest.mark.parametrize("body", [b"", b"\xff\xff\xff", records.encode(1, [])[:0] + b"\x12\x02\x0a\x00"])
def test_a_record_that_does_not_decode_is_an_error_not_a_crash(body):
    if body == b"":
        assert records.decode(body) == (0, [])  # an empty message is a record with no operations
        return
    with pytest.raises(records.RecordFormatError):
        records.decode(body)
