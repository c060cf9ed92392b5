"""Vectors and inference objects, both directions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from vecinfer.api.grpc.convert.values import map_to_py, point_id_from, value_to_py
from vecinfer.domain.errors import InvalidArgument, ValidationFailed
from vecinfer.domain.inference import Document, Image, InferenceObject, split_secrets
from vecinfer.domain.points import DEFAULT_VECTOR, PointId, SparseVector, VectorValue, is_multi_dense, multi_dense
from vecinfer_proto.qdrant import points_pb2 as pb


def document_from(msg: pb.Document) -> Document:
    if not msg.model:
        raise InvalidArgument("Document.model is empty: name the model that embeds the text, e.g. `qdrant/bm25`")
    options, secrets = split_secrets(map_to_py(msg.options))
    return Document(model=msg.model, options=options, secrets=secrets, text=msg.text)


def image_from(msg: pb.Image) -> Image:
    if not msg.HasField("image"):
        raise InvalidArgument("Empty image is not allowed: set Image.image to a URL, base64 or data URL")
    options, secrets = split_secrets(map_to_py(msg.options))
    return Image(model=msg.model, options=options, secrets=secrets, image=value_to_py(msg.image))


def object_from(msg: pb.InferenceObject) -> InferenceObject:
    if not msg.HasField("object"):
        raise InvalidArgument("Empty object is not allowed: set InferenceObject.object")
    options, secrets = split_secrets(map_to_py(msg.options))
    return InferenceObject(model=msg.model, options=options, secrets=secrets, object=value_to_py(msg.object))


def _dense(data: Iterable[float]) -> np.ndarray:
    return np.asarray(data, dtype=np.float32)


def _dense_message(msg: pb.DenseVector) -> np.ndarray:
    """A DenseVector's floats, read from its own wire form: upb writes the packed field with one
    copy, while numpy reads a repeated field number by number (2-3x slower for 384 floats)."""
    packed = packed_floats(msg.SerializeToString())
    return packed if packed is not None else _dense(msg.data)


def packed_floats(raw: bytes) -> np.ndarray | None:
    """The floats of a message whose only field is packed floats number 1, or None for anything
    else (empty, or unknown fields beside it)."""
    if len(raw) < 2 or raw[0] != 0x0A:  # field 1, length-delimited
        return None
    # The length is a varint: one byte up to 31 floats, two up to 4,095 (written out: a loop
    # took a third of a 384-float read).
    if raw[1] < 0x80:
        length, at = raw[1], 2
    elif len(raw) > 2 and raw[2] < 0x80:
        length, at = (raw[1] & 0x7F) | (raw[2] << 7), 3
    else:
        length, shift, at = 0, 0, 1
        while True:
            if at >= len(raw) or shift > 28:
                return None
            byte = raw[at]
            length |= (byte & 0x7F) << shift
            shift, at = shift + 7, at + 1
            if not byte & 0x80:
                break
    if at + length != len(raw) or length % 4:
        return None
    return np.frombuffer(raw, dtype="<f4", offset=at).astype(np.float32)


def _sparse(msg: pb.SparseVector) -> SparseVector:
    return SparseVector.build(msg.indices, msg.values)


def _multi(msg: pb.MultiDenseVector, where: str) -> np.ndarray:
    return multi_dense([_dense_message(row) for row in msg.vectors], f"{where}.vectors")


def _legacy_multi(data: Iterable[float], count: int) -> np.ndarray:
    """The older encoding: `data` holds `vectors_count` rows back to back."""
    flat = np.asarray(data, dtype=np.float32)
    if count == 0 or len(flat) % count:
        raise ValidationFailed("vector.vectors_count", f"{len(flat)} numbers do not split into {count} vectors "
                                                      "of one dimension")
    return multi_dense(flat.reshape(count, -1), "vector.data")


def vector_from(msg: pb.Vector) -> VectorValue:
    kind = msg.WhichOneof("vector")
    if kind == "dense":
        return _dense_message(msg.dense)
    if kind == "sparse":
        return _sparse(msg.sparse)
    if kind == "document":
        return document_from(msg.document)
    if kind == "image":
        return image_from(msg.image)
    if kind == "object":
        return object_from(msg.object)
    if kind == "multi_dense":
        return _multi(msg.multi_dense, "vector.multi_dense")
    # The encoding of older clients: data + optional indices / vectors_count.
    if msg.HasField("indices"):
        return SparseVector.build(msg.indices.data, msg.data)
    if msg.HasField("vectors_count"):
        return _legacy_multi(msg.data, msg.vectors_count)
    return _dense(msg.data)


def vectors_from(msg: pb.Vectors) -> dict[str, VectorValue]:
    kind = msg.WhichOneof("vectors_options")
    if kind == "vector":
        value = vector_from(msg.vector)
        if isinstance(value, SparseVector):
            raise InvalidArgument("Sparse vector must be named: send it in `vectors` under its sparse vector name")
        return {DEFAULT_VECTOR: value}
    if kind == "vectors":
        return {name: vector_from(v) for name, v in msg.vectors.vectors.items()}
    raise InvalidArgument("No Vector Provided: set `vectors.vector` or `vectors.vectors`")


def vector_input_from(msg: pb.VectorInput) -> tuple[VectorValue | None, PointId | None]:
    """Returns (vector, point_id): exactly one is not None."""
    kind = msg.WhichOneof("variant")
    if kind == "id":
        return None, point_id_from(msg.id, "nearest.id")
    if kind == "dense":
        return _dense_message(msg.dense), None
    if kind == "sparse":
        return _sparse(msg.sparse), None
    if kind == "document":
        return document_from(msg.document), None
    if kind == "image":
        return image_from(msg.image), None
    if kind == "object":
        return object_from(msg.object), None
    if kind == "multi_dense":
        return _multi(msg.multi_dense, "multi_dense"), None
    raise InvalidArgument("VectorInput variant is missing: set id, dense, sparse, multi_dense, document, image or object")


def _fill_output(value: np.ndarray | SparseVector, out: pb.VectorOutput) -> None:
    if isinstance(value, SparseVector):
        out.sparse.indices.extend(value.indices.tolist())
        out.sparse.values.extend(value.values.tolist())
    elif is_multi_dense(value):
        out.multi_dense.SetInParent()
        for row in value.tolist():
            out.multi_dense.vectors.add().data.extend(row)
    else:
        out.dense.data.extend(value.tolist())


def vectors_to(vectors: dict[str, Any], out: pb.VectorsOutput) -> None:
    # Only the unnamed vector has the name "": a point with just that one gets the bare form.
    if set(vectors) == {DEFAULT_VECTOR}:
        _fill_output(vectors[DEFAULT_VECTOR], out.vector)
        return
    out.vectors.SetInParent()
    for name, value in vectors.items():
        _fill_output(value, out.vectors.vectors[name])
