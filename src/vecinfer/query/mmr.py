"""Maximal Marginal Relevance: re-rank nearest candidates for diversity, picking one at a time."""

from __future__ import annotations

import numpy as np


def _last_argmax(values: list[float]) -> int:
    """Ties go to the last maximum, as Rust's `max_by_key` does."""
    best = 0
    for i in range(1, len(values)):
        if values[i] >= values[best]:
            best = i
    return best


def _swap_remove(items: list[int], position: int) -> int:
    """Remove items[position], moving the last item into its place (IndexSet::swap_remove):
    this decides the order the remaining candidates are visited in, and so which tie wins."""
    value = items[position]
    items[position] = items[-1]
    items.pop()
    return value


def select(relevance: np.ndarray, similarity: np.ndarray, diversity: float, limit: int) -> list[int]:
    """Indices of the picked candidates, in pick order. `relevance[i]`: internal similarity of
    candidate i to the query; `similarity[i, j]`: between candidates i and j."""
    n = len(relevance)
    if n < 2:
        return list(range(n))
    keep = 1.0 - diversity
    pending = list(range(n))
    selected = [_swap_remove(pending, _last_argmax([float(relevance[i]) for i in pending]))]
    while len(selected) < limit and pending:
        scores = [keep * float(relevance[i]) - (1.0 - keep) * float(similarity[i, selected].max()) for i in pending]
        selected.append(_swap_remove(pending, _last_argmax(scores)))
    return selected
