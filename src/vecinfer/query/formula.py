"""Formula rescoring: evaluates a FormulaQuery over the union of prefetch results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vecinfer.domain.errors import Unimplemented
from vecinfer.domain.formula import FormulaQuery

Ranked = list[tuple[int, float]]


def rescore(query: FormulaQuery, children: list[Ranked], payload_of: Callable[[int], dict[str, Any]],
            limit: int, threshold: float | None) -> Ranked:
    """`children`: each prefetch's ranked (offset, score) list, in prefetch order. Returns the
    candidates by formula score, descending, those `>= threshold` only, at most `limit`."""
    raise Unimplemented("the `formula` query (score boosting)")
