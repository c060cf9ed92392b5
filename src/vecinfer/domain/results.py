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


class Usage(dict[str, int]):
    """Tokens per model for what was computed (Qdrant's `usage.inference`), and, per model, how
    many inputs the embedding cache answered instead (they cost no tokens). A dict of tokens,
    so everything that passes usage along keeps working unchanged."""

    def __init__(self, tokens: dict[str, int] | None = None, cache_hits: dict[str, int] | None = None) -> None:
        super().__init__(tokens or {})
        self.cache_hits: dict[str, int] = dict(cache_hits or {})


def cache_hits(usage: dict[str, int]) -> dict[str, int]:
    """Inputs per model answered by the embedding cache (none for usage without that count)."""
    return usage.cache_hits if isinstance(usage, Usage) else {}
