"""Fusion of ranked lists: Reciprocal Rank Fusion and Distribution-Based Score Fusion."""

from __future__ import annotations

import statistics
from collections import defaultdict

Ranked = list[tuple[int, float]]  # (offset, score), best first


def rrf(lists: list[Ranked], k: int = 2, weights: tuple[float, ...] = ()) -> Ranked:
    """score = sum over lists of 1 / ((rank + 1) / w + k - 1), rank from 0; w <= 0 adds nothing."""
    fused: dict[int, float] = defaultdict(float)
    for i, ranked in enumerate(lists):
        weight = weights[i] if weights else 1.0
        if weight <= 0:
            continue
        for rank, (offset, _) in enumerate(ranked):
            fused[offset] += 1.0 / ((rank + 1) / weight + k - 1)
    return sorted(fused.items(), key=lambda item: -item[1])


def _normalise(scores: list[float]) -> list[float]:
    if len(scores) == 1 or min(scores) == max(scores):
        return [0.5] * len(scores)
    mean = statistics.fmean(scores)
    std = statistics.stdev(scores)  # sample standard deviation (n - 1)
    low = mean - 3 * std
    return [(s - low) / (6 * std) for s in scores]


def dbsf(lists: list[Ranked]) -> Ranked:
    """Each list's scores normalised by mean +- 3 sample std, then summed per point."""
    fused: dict[int, float] = defaultdict(float)
    for ranked in lists:
        if not ranked:
            continue
        for (offset, _), norm in zip(ranked, _normalise([s for _, s in ranked])):
            fused[offset] += norm
    return sorted(fused.items(), key=lambda item: -item[1])
