"""What every model backend offers the resolver."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

from vecinfer.domain.inference import InferenceInput

# Upserts embed stored documents (passages); queries embed search queries.
Purpose = Literal["document", "query"]


@dataclass
class Embeddings:
    vectors: list  # numpy float32 arrays or SparseVector, one per input, in input order
    tokens: int = 0


@dataclass
class ModelInfo:
    name: str
    kind: str  # "dense" or "sparse"
    dimension: int | None
    inputs: tuple[str, ...]  # which of "text", "image", "object" it takes
    source: str = ""
    extra: dict = field(default_factory=dict)


class Backend(Protocol):
    info: ModelInfo

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose) -> Embeddings: ...
