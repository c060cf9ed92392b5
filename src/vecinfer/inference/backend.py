"""What every model backend offers the resolver."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal, Protocol

from vecinfer.domain.inference import InferenceInput

# Upserts embed stored documents (passages); queries embed search queries.
Purpose = Literal["document", "query"]


@dataclass
class Embeddings:
    vectors: list  # numpy float32 arrays or SparseVector, one per input, in input order
    tokens: int = 0
    # Tokens per model name, when one backend serves several models (providers).
    tokens_by_model: dict[str, int] | None = None


@dataclass(frozen=True)
class InferenceContext:
    """Per request: credentials from gRPC metadata (`*-api-key`) and the client's deadline."""

    credentials: dict[str, str] = field(default_factory=dict, repr=False)
    deadline: float | None = None  # time.monotonic() value

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


@dataclass
class ModelInfo:
    name: str
    kind: str  # "dense" or "sparse"
    dimension: int | None
    inputs: tuple[str, ...]  # which of "text", "image", "object" it takes
    source: str = ""


class Backend(Protocol):
    info: ModelInfo

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose, context: InferenceContext) -> Embeddings: ...
