"""What the service core answers: a result, the inference tokens it cost, and its time."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class UpdateResult:
    operation_id: int
    # "acknowledged" (logged, wait=false) or "completed" (applied, wait=true).
    status: str


@dataclass(frozen=True)
class Answer(Generic[T]):
    result: T
    seconds: float
    # Tokens per model spent on server-side inference for this request.
    usage: dict[str, int] = field(default_factory=dict)
