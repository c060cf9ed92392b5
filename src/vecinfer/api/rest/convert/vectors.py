"""Vectors and inference objects in JSON, both directions (Qdrant's untagged unions)."""

from __future__ import annotations

from typing import Any

import numpy as np

from vecinfer.api.rest.convert.values import point_id
from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.domain.inference import Document, Image, InferenceInput, InferenceObject, split_secrets
from vecinfer.domain.points import DEFAULT_VECTOR, PointId, SparseVector, VectorValue, multi_dense_problem

_INFERENCE_KEYS = ("text", "image", "object")
VECTOR_EXPECTED = ("a vector: a list of numbers, a list of lists of numbers (a multivector), "
                   "{\"indices\", \"values\"}, or {\"text\"|\"image\"|\"object\", \"model\"}")
ROW_EXPECTED = "a list of numbers (one vector of the multivector)"


def is_inference(node: Node) -> bool:
    return node.is_object and "model" in node.value and any(k in node.value for k in _INFERENCE_KEYS)


def _options(node: Node | None) -> tuple[dict[str, Any], dict[str, str]]:
    if node is None:
        return {}, {}
    if not node.is_object:
        node.fail("an options object")
    return split_secrets(dict(node.value))


def inference_object(node: Node) -> InferenceInput:
    kind = next(k for k in _INFERENCE_KEYS if k in node.value)
    fields = node.fields({kind, "model", "options"})
    model_node = fields.require("model")
    model = model_node.string()
    if not model:
        model_node.invalid("must not be empty: name the model, e.g. `qdrant/bm25`")
    options, secrets = _options(fields.get("options"))
    if kind == "text":
        return Document(model=model, options=options, secrets=secrets, text=fields.require("text").string())
    if kind == "image":
        return Image(model=model, options=options, secrets=secrets, image=fields.require("image").value)
    return InferenceObject(model=model, options=options, secrets=secrets, object=fields.require("object").value)


def sparse(node: Node) -> SparseVector:
    fields = node.fields({"indices", "values"}, "a sparse vector {\"indices\": [...], \"values\": [...]}")
    indices = fields.require("indices")
    values = fields.require("values")
    index_list = [item.integer(0, 0xFFFFFFFF) for item in indices.items()]
    value_array = values.numbers()
    if len(index_list) != len(value_array):
        node.invalid(f"has {len(index_list)} indices but {len(value_array)} values: they must match")
    if len(set(index_list)) != len(index_list):
        indices.invalid("must be unique")
    if not np.all(np.isfinite(value_array)):
        values.invalid("must be finite float32 numbers")
    return SparseVector(np.asarray(index_list, dtype=np.uint32), value_array)


def _multi_dense(node: Node) -> np.ndarray:
    """`[[f32, ...], ...]`: a multivector, one row per inner list (2-D float32)."""
    rows = [item.numbers(ROW_EXPECTED) for item in node.items()]
    problem = multi_dense_problem([len(row) for row in rows])
    if problem is not None:
        node.invalid(problem)
    return np.stack(rows)


def _dense(node: Node) -> np.ndarray:
    """`[f32, ...]` (1-D), or `[[f32, ...], ...]` (a multivector, 2-D)."""
    if node.value and isinstance(node.value[0], list):
        return _multi_dense(node)
    array = node.numbers(VECTOR_EXPECTED)
    if array.size == 0:
        node.invalid("a dense vector must not be empty")
    return array


def vector(node: Node) -> VectorValue:
    """One vector value: dense, multivector, sparse or an inference object."""
    if node.is_list:
        return _dense(node)
    if node.is_object:
        if is_inference(node):
            return inference_object(node)
        if "indices" in node.value or "values" in node.value:
            return sparse(node)
    node.fail(VECTOR_EXPECTED)


def vector_struct(node: Node) -> dict[str, VectorValue]:
    """A point's vectors: a bare dense vector, multivector or inference object for the unnamed
    vector, or a map of named vectors."""
    if node.is_list:
        return {DEFAULT_VECTOR: _dense(node)}
    if is_inference(node):
        return {DEFAULT_VECTOR: inference_object(node)}
    if node.is_object:
        return {name: vector(value) for name, value in node.entries()}
    node.fail("a vector, an inference object, or an object of named vectors")


def batch_vectors(node: Node, count: int) -> list[dict[str, VectorValue]]:
    """`batch.vectors`: one entry per point, or per vector name a list with one per point."""
    per_point: list[dict[str, VectorValue]] = [{} for _ in range(count)]
    if node.is_list:
        items = node.items()
        if len(items) != count:
            node.invalid(f"has {len(items)} vectors for {count} ids: give one per id")
        for i, item in enumerate(items):
            if item.is_object and not is_inference(item):
                item.fail("a vector or an inference object (named vectors go in an object of lists)")
            per_point[i] = vector_struct(item)
        return per_point
    for name, values in node.entries("a list of vectors or an object of named vector lists"):
        items = values.items()
        if len(items) != count:
            values.invalid(f"has {len(items)} vectors for {count} ids: give one per id")
        for i, item in enumerate(items):
            per_point[i][name] = vector(item)
    return per_point


def vector_input(node: Node) -> tuple[VectorValue | None, PointId | None]:
    """A query input: a vector, an inference object or a point id. Returns (vector, id)."""
    if node.is_integer or node.is_string:
        try:
            return None, point_id(node)
        except JsonFormatError:
            raise JsonFormatError(node.path, "Expected some form of vector, id, or a type of query") from None
    return vector(node), None


# ------------------------------------------------------------------ output


def _vector_out(value: Any) -> Any:
    if isinstance(value, SparseVector):
        order = np.argsort(value.indices, kind="stable")
        return {"indices": value.indices[order].tolist(), "values": value.values[order].tolist()}
    return value.tolist()


def vectors_out(vectors: dict[str, Any]) -> Any:
    # Only the unnamed vector has the name "": a point with just that one gets the bare form.
    if set(vectors) == {DEFAULT_VECTOR}:
        return _vector_out(vectors[DEFAULT_VECTOR])
    return {name: _vector_out(value) for name, value in vectors.items()}
