"""Scores of the example-based queries over candidate points, from internal similarities
(Cosine and Dot as returned, Euclid −d², Manhattan −Σ|d|; larger is more similar)."""

from __future__ import annotations

import numpy as np

# Qdrant's epsilon in the context score: a point exactly on a pair's boundary scores just below 0.
_CONTEXT_EPSILON = np.float64(np.finfo(np.float32).eps)


def fast_sigmoid(x: np.ndarray) -> np.ndarray:
    return x / (1.0 + np.abs(x))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Qdrant's scaled fast sigmoid, in (0, 1)."""
    return 0.5 * (fast_sigmoid(x) + 1.0)


def best_score(positive: list[np.ndarray], negative: list[np.ndarray], n: int) -> np.ndarray:
    """σ(best positive) where it beats the best negative, else −σ(best negative)."""
    p = np.max(positive, axis=0) if positive else np.full(n, -np.inf)
    q = np.max(negative, axis=0) if negative else np.full(n, -np.inf)
    with np.errstate(invalid="ignore"):
        return np.where(p > q, sigmoid(p), -sigmoid(q))


def sum_scores(positive: list[np.ndarray], negative: list[np.ndarray], n: int) -> np.ndarray:
    total = np.zeros(n)
    for sims in positive:
        total += sims
    for sims in negative:
        total -= sims
    return total


def discover(target: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """rank (pairs won minus pairs lost) + σ(similarity to the target)."""
    rank = np.zeros(len(target))
    for positive, negative in pairs:
        rank += np.sign(positive - negative)
    return rank + sigmoid(target)


def context(pairs: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """Σ fast_sigmoid(min(sim(pos) − sim(neg) − ε, 0)): 0 on the positive side of every pair."""
    total = np.zeros(n)
    for positive, negative in pairs:
        total += fast_sigmoid(np.minimum(positive - negative - _CONTEXT_EPSILON, 0.0))
    return total


def relevance_feedback(target: np.ndarray, items: list[tuple[np.ndarray, float]], a: float, b: float,
                       c: float) -> np.ndarray:
    """The naive strategy: a·sim(target) + Σ over ordered pairs (A, B) with conf = score_A −
    score_B > 0 of conf^b · c · (sim(A) − sim(B))."""
    total = a * target
    for sims_a, score_a in items:
        for sims_b, score_b in items:
            confidence = score_a - score_b
            if confidence > 0:
                total = total + (confidence ** b) * c * (sims_a - sims_b)
    return total
