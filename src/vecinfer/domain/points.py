"""Points, vectors and the write operations a request carries."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Union

import numpy as np

from vecinfer.domain.errors import InvalidArgument, ValidationFailed, clip
from vecinfer.domain.filters import Filter
from vecinfer.domain.inference import InferenceInput

# A point id is a non-negative integer or a UUID in canonical lower-case hyphenated form.
PointId = Union[int, str]

# The name of the single unnamed vector of a collection.
DEFAULT_VECTOR = ""


def parse_uuid(text: str) -> str:
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidArgument(f"Unable to parse UUID: {clip(text)}") from None


def id_sort_key(point_id: PointId) -> tuple[int, int]:
    """Numeric ids sort before UUIDs, as in Qdrant's scroll order."""
    if isinstance(point_id, int):
        return (0, point_id)
    return (1, uuid.UUID(point_id).int)


@dataclass(frozen=True)
class SparseVector:
    indices: np.ndarray  # uint32, unique
    values: np.ndarray  # float32, same length

    @staticmethod
    def build(indices: Sequence[int] | np.ndarray, values: Sequence[float] | np.ndarray) -> SparseVector:
        idx = np.asarray(indices, dtype=np.int64)
        val = np.asarray(values, dtype=np.float32)
        if idx.shape != val.shape:
            raise InvalidArgument(
                f"Sparse vector has {len(idx)} indices but {len(val)} values: they must match"
            )
        if len(np.unique(idx)) != len(idx):
            raise InvalidArgument("Sparse vector indices must be unique")
        if len(idx) and (idx.min() < 0 or idx.max() > 0xFFFFFFFF):
            raise InvalidArgument("Sparse vector indices must fit in uint32")
        if not np.all(np.isfinite(val)):
            raise InvalidArgument("Sparse vector values must be finite float32 numbers")
        return SparseVector(idx.astype(np.uint32), val)


# A multivector, the value of a dense vector created with `multivector_config` (compared by
# MaxSim): a matrix of one or more rows of `size` floats. It travels as a 2-D float32 numpy array
# (one row per vector), a plain dense vector as a 1-D one: `ndim` tells them apart everywhere.
MultiDenseVector = np.ndarray


def is_multi_dense(value: object) -> bool:
    """A multivector (a 2-D array), as opposed to a plain dense vector (1-D)."""
    return isinstance(value, np.ndarray) and value.ndim == 2


def multi_dense_problem(row_lengths: Sequence[int]) -> str | None:
    """What is wrong with a multivector whose rows have these lengths (Qdrant's validation
    messages), or None: at least one row, none empty, all of one length."""
    if not row_lengths:
        return "a multivector must not be empty: give at least one vector"
    if min(row_lengths) == 0:
        return "all vectors must be non-empty"
    first = row_lengths[0]
    for length in row_lengths:
        if length != first:
            return f"all vectors must have the same dimension, found vector with dimension {length}"
    return None


def multi_dense(rows: Sequence[Sequence[float] | np.ndarray] | np.ndarray, where: str = "multivector") -> MultiDenseVector:
    """A multivector from its rows (checked as `multi_dense_problem` says; `where` names the
    field in the error)."""
    problem = multi_dense_problem([len(row) for row in rows])
    if problem is not None:
        raise ValidationFailed(where, problem)
    return np.asarray(rows, dtype=np.float32).reshape(len(rows), len(rows[0]))


# What may stand where a vector goes: a dense array (1-D, or 2-D for a multivector), a sparse
# vector, or an inference object that the inference layer replaces with one of the first two
# before storage sees it.
VectorValue = Union[np.ndarray, SparseVector, InferenceInput]


@dataclass
class Point:
    id: PointId
    vectors: dict[str, VectorValue]
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass
class PointVectors:
    id: PointId
    vectors: dict[str, VectorValue]


@dataclass(frozen=True)
class PointsSelector:
    """Either explicit ids or a filter."""

    ids: tuple[PointId, ...] | None = None
    filter: Filter | None = None


@dataclass
class Upsert:
    points: list[Point]
    update_filter: Filter | None = None
    mode: str = "upsert"  # upsert | insert_only | update_only


@dataclass
class DeletePoints:
    selector: PointsSelector


@dataclass
class UpdateVectors:
    points: list[PointVectors]
    update_filter: Filter | None = None


@dataclass
class DeleteVectors:
    selector: PointsSelector
    names: list[str]


@dataclass
class SetPayload:
    selector: PointsSelector
    payload: dict[str, Any]
    key: str | None = None


@dataclass
class OverwritePayload:
    selector: PointsSelector
    payload: dict[str, Any]
    key: str | None = None  # not supported yet: refused by storage rather than dropped


@dataclass
class DeletePayload:
    selector: PointsSelector
    keys: list[str]


@dataclass
class ClearPayload:
    selector: PointsSelector


WriteOperation = Union[
    Upsert, DeletePoints, UpdateVectors, DeleteVectors, SetPayload, OverwritePayload,
    DeletePayload, ClearPayload,
]


@dataclass
class CreateFieldIndex:
    field: str
    type: str  # one of domain.collections.FIELD_INDEX_TYPES
    # The index parameters in Qdrant's REST shape (`{"type": "text", "tokenizer": ...}`), or
    # None when the index was asked for by type alone.
    params: dict[str, Any] | None = None


@dataclass
class DeleteFieldIndex:
    field: str


CollectionOperation = Union[WriteOperation, CreateFieldIndex, DeleteFieldIndex]


# A stored payload must fit in a protobuf message (at most 100 nested messages) when read back
# through gRPC: each object level costs 3 of them (Value, Struct, map entry), each list level 2.
MAX_PAYLOAD_NESTING = 96


def check_payload(payload: dict[str, Any], where: str, nested_in: int = 0) -> None:
    """Payload values must be JSON that every client can read back: finite numbers only, and
    nested no deeper than gRPC can carry (`nested_in`: object levels above it, from a `key`)."""
    stack: list[tuple[Any, int]] = [(payload, 3 + 3 * nested_in)]
    while stack:
        value, cost = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidArgument(f"{where}: payload numbers must be finite, got {value}")
        if isinstance(value, (dict, list)):
            if cost > MAX_PAYLOAD_NESTING:
                raise InvalidArgument(
                    f"{where}: payload is nested too deeply: at most about 32 levels of objects or 48 of lists "
                    "(what a gRPC message can carry back)"
                )
            step = 3 if isinstance(value, dict) else 2
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, cost + step) for child in children)
