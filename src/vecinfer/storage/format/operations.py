"""Write operations <-> `vecinfer.storage.v1.WalRecord` (proto/vecinfer/storage/v1/wal.proto).

Operations are logged after `Collection` prepared them: vectors are float32 arrays (Cosine ones
normalised) or sorted sparse vectors, never inference objects."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from google.protobuf.message import DecodeError

from vecinfer.domain import points as ops
from vecinfer.domain.points import PointId, SparseVector
from vecinfer.storage.format import filters as filter_json
from vecinfer_proto.vecinfer.storage.v1 import wal_pb2 as pb

_MODES = {"upsert": pb.UPSERT_MODE_UPSERT, "insert_only": pb.UPSERT_MODE_INSERT_ONLY,
          "update_only": pb.UPSERT_MODE_UPDATE_ONLY}
_MODE_NAMES = {number: name for name, number in _MODES.items()}


class RecordFormatError(ValueError):
    """A log record whose bytes do not decode into operations."""


def encode(seq: int, operations: list[ops.CollectionOperation]) -> bytes:
    record = pb.WalRecord(seq=seq)
    for op in operations:
        _encode_operation(op, record.operations.add())
    return record.SerializeToString()


def decode(body: bytes) -> tuple[int, list[ops.CollectionOperation]]:
    try:
        record = pb.WalRecord.FromString(body)
        return record.seq, [_decode_operation(op) for op in record.operations]
    except (DecodeError, ValueError, KeyError, TypeError) as exc:
        raise RecordFormatError(f"{type(exc).__name__}: {exc}") from None


# ------------------------------------------------------------------------------ encoding


# One encoder for every record: json.dumps with options builds a new encoder per call, a
# quarter of a small payload's encoding time.
_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _json(value: Any) -> str:
    return _JSON.encode(value)


def _set_id(target: pb.PointId, point_id: PointId) -> None:
    if isinstance(point_id, int):
        target.num = point_id
    else:
        target.uuid = point_id


def _set_vector(target: pb.Vector, value: Any) -> None:
    if isinstance(value, SparseVector):
        target.sparse.indices = np.asarray(value.indices, dtype="<u4").tobytes()
        target.sparse.values = np.asarray(value.values, dtype="<f4").tobytes()
        return
    array = np.asarray(value, dtype="<f4")
    if array.ndim == 2:
        target.multi_dense.rows = len(array)
        target.multi_dense.values = array.tobytes()
    else:
        target.dense.values = array.tobytes()


def _set_vectors(target: Any, vectors: dict[str, Any]) -> None:
    for name, value in vectors.items():
        _set_vector(target[name], value)


def _set_selector(target: pb.Selector, selector: ops.PointsSelector) -> None:
    target.SetInParent()  # an empty selector (every point) still marks its operation's kind
    if selector.ids is not None:
        target.ids.SetInParent()
        for point_id in selector.ids:
            _set_id(target.ids.ids.add(), point_id)
    elif selector.filter is not None:
        target.filter_json = filter_json.dumps(selector.filter)


def _encode_operation(op: ops.CollectionOperation, out: pb.Operation) -> None:
    if isinstance(op, ops.Upsert):
        out.upsert.SetInParent()
        out.upsert.mode = _MODES[op.mode]
        if op.update_filter is not None:
            out.upsert.update_filter_json = filter_json.dumps(op.update_filter)
        for p in op.points:
            point = out.upsert.points.add()
            _set_id(point.id, p.id)
            _set_vectors(point.vectors, p.vectors)
            point.payload_json = _json(p.payload)
    elif isinstance(op, ops.UpdateVectors):
        out.update_vectors.SetInParent()
        if op.update_filter is not None:
            out.update_vectors.update_filter_json = filter_json.dumps(op.update_filter)
        for pv in op.points:
            point_vectors = out.update_vectors.points.add()
            _set_id(point_vectors.id, pv.id)
            _set_vectors(point_vectors.vectors, pv.vectors)
    elif isinstance(op, ops.DeletePoints):
        _set_selector(out.delete_points.selector, op.selector)
    elif isinstance(op, ops.DeleteVectors):
        _set_selector(out.delete_vectors.selector, op.selector)
        out.delete_vectors.names.extend(op.names)
    elif isinstance(op, ops.SetPayload):
        _set_selector(out.set_payload.selector, op.selector)
        out.set_payload.payload_json = _json(op.payload)
        if op.key is not None:
            out.set_payload.key = op.key
    elif isinstance(op, ops.OverwritePayload):
        # `key` is refused before logging (Collection._prepare): nothing to keep.
        _set_selector(out.overwrite_payload.selector, op.selector)
        out.overwrite_payload.payload_json = _json(op.payload)
    elif isinstance(op, ops.DeletePayload):
        _set_selector(out.delete_payload.selector, op.selector)
        out.delete_payload.keys.extend(op.keys)
    elif isinstance(op, ops.ClearPayload):
        _set_selector(out.clear_payload.selector, op.selector)
    elif isinstance(op, ops.CreateFieldIndex):
        out.create_field_index.SetInParent()
        out.create_field_index.field = op.field
        out.create_field_index.type = op.type
        if op.params is not None:
            out.create_field_index.params_json = _json(op.params)
    elif isinstance(op, ops.DeleteFieldIndex):
        out.delete_field_index.SetInParent()
        out.delete_field_index.field = op.field
    else:
        raise TypeError(f"no log form for operation {op!r}")


# ------------------------------------------------------------------------------ decoding


def _id(source: pb.PointId) -> PointId:
    kind = source.WhichOneof("kind")
    if kind == "num":
        return int(source.num)
    if kind == "uuid":
        return str(source.uuid)
    raise ValueError("a point id has neither `num` nor `uuid`")


def _vector(source: pb.Vector) -> np.ndarray | SparseVector:
    kind = source.WhichOneof("kind")
    if kind == "dense":
        return np.frombuffer(source.dense.values, dtype="<f4").astype(np.float32)
    if kind == "multi_dense":
        values = np.frombuffer(source.multi_dense.values, dtype="<f4").astype(np.float32)
        rows = source.multi_dense.rows
        if rows == 0 or len(values) % rows:
            raise ValueError(f"a multivector of {len(values)} numbers does not split into {rows} rows")
        return values.reshape(rows, -1)
    if kind == "sparse":
        indices = np.frombuffer(source.sparse.indices, dtype="<u4").astype(np.uint32)
        values = np.frombuffer(source.sparse.values, dtype="<f4").astype(np.float32)
        if len(indices) != len(values):
            raise ValueError("a sparse vector's indices and values differ in length")
        return SparseVector(indices, values)
    raise ValueError("a vector has no value")


def _vectors(source: Any) -> dict[str, Any]:
    return {name: _vector(value) for name, value in source.items()}


def _object(text: str) -> dict[str, Any]:
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("a payload is not a JSON object")
    return value


def _filter_or_none(message: Any, field: str) -> Any:
    return filter_json.loads(getattr(message, field)) if message.HasField(field) else None


def _selector(source: pb.Selector) -> ops.PointsSelector:
    kind = source.WhichOneof("kind")
    if kind == "ids":
        return ops.PointsSelector(ids=tuple(_id(i) for i in source.ids.ids))
    if kind == "filter_json":
        return ops.PointsSelector(filter=filter_json.loads(source.filter_json))
    return ops.PointsSelector()


def _decode_operation(source: pb.Operation) -> ops.CollectionOperation:
    kind = source.WhichOneof("kind")
    if kind == "upsert":
        m = source.upsert
        points = [ops.Point(_id(p.id), _vectors(p.vectors), _object(p.payload_json)) for p in m.points]
        return ops.Upsert(points, _filter_or_none(m, "update_filter_json"), _MODE_NAMES[m.mode])
    if kind == "update_vectors":
        u = source.update_vectors
        return ops.UpdateVectors([ops.PointVectors(_id(p.id), _vectors(p.vectors)) for p in u.points],
                                 _filter_or_none(u, "update_filter_json"))
    if kind == "delete_points":
        return ops.DeletePoints(_selector(source.delete_points.selector))
    if kind == "delete_vectors":
        return ops.DeleteVectors(_selector(source.delete_vectors.selector), list(source.delete_vectors.names))
    if kind == "set_payload":
        s = source.set_payload
        return ops.SetPayload(_selector(s.selector), _object(s.payload_json), s.key if s.HasField("key") else None)
    if kind == "overwrite_payload":
        o = source.overwrite_payload
        return ops.OverwritePayload(_selector(o.selector), _object(o.payload_json))
    if kind == "delete_payload":
        return ops.DeletePayload(_selector(source.delete_payload.selector), list(source.delete_payload.keys))
    if kind == "clear_payload":
        return ops.ClearPayload(_selector(source.clear_payload.selector))
    if kind == "create_field_index":
        c = source.create_field_index
        return ops.CreateFieldIndex(c.field, c.type, _object(c.params_json) if c.HasField("params_json") else None)
    if kind == "delete_field_index":
        return ops.DeleteFieldIndex(source.delete_field_index.field)
    raise ValueError("an operation has no kind")
