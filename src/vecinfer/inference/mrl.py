"""`options.mrl = N`: a smaller vector derived from one full-size computation (Matryoshka)."""

from __future__ import annotations

import numpy as np

from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.inference import InferenceInput
from vecinfer.domain.points import SparseVector


def requested_size(obj: InferenceInput) -> int | None:
    value = obj.options.get("mrl")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidArgument(f"options.mrl must be a positive integer (the vector size to keep), got {value!r}")
    return value


def derive(vector: np.ndarray | SparseVector, size: int | None, model: str) -> np.ndarray | SparseVector:
    """The first `size` components, L2-renormalised."""
    if size is None:
        return vector
    if not isinstance(vector, np.ndarray):
        raise InvalidArgument(f"options.mrl applies to dense vectors; model {model} gives sparse vectors")
    if size > len(vector):
        raise InvalidArgument(f"options.mrl = {size} is larger than the {len(vector)} dimensions model {model} returns")
    head = vector[:size].astype(np.float32)
    norm = float(np.linalg.norm(head))
    return head / norm if norm > 0 else head
