"""SparseStore sums a query's postings either over their union alone or into arrays as long as
the segment (storage/sparse.py picks by size): both give the same top-k and scores to the bit,
including after updates and deletes that leave postings out of row order."""

from __future__ import annotations

import numpy as np
import pytest

from vecinfer.domain.points import SparseVector
from vecinfer.storage import sparse
from vecinfer.storage.sparse import SparseStore


def random_vector(rng: np.random.Generator, vocabulary: int) -> SparseVector:
    tokens = np.sort(rng.choice(vocabulary, size=int(rng.integers(1, 12)), replace=False)).astype(np.uint32)
    return SparseVector(indices=tokens, values=rng.random(len(tokens)).astype(np.float32) * 3)


@pytest.mark.parametrize("seed", range(6))
def test_postings_union_and_full_arrays_agree_to_the_bit(seed, monkeypatch):
    rng = np.random.default_rng(seed)
    vocabulary = 60 if seed % 2 else 3000  # dense postings (full arrays) or sparse ones (union)
    store = SparseStore()
    for _ in range(2000):
        store.append(random_vector(rng, vocabulary) if rng.random() > 0.1 else None)
    for offset in rng.choice(2000, size=300, replace=False).tolist():  # updates and deletes
        store.set(offset, random_vector(rng, vocabulary) if rng.random() > 0.3 else None)
    mask = rng.random(2000) > 0.2
    probe = np.sort(rng.choice(2000, size=200, replace=False))
    for _ in range(40):
        query = random_vector(rng, vocabulary)
        weights = (rng.random(len(query.indices)) + 0.5).astype(np.float32)
        answers = []
        for dense_at in (0, 10**9):  # every query by the union, then every query by full arrays
            monkeypatch.setattr(sparse, "_DENSE_AT", dense_at)
            store._frozen.clear()
            answers.append((store.search(query, 10, mask, weights), store.score(query, probe, weights)))
        (union_hits, union_scores), (full_hits, full_scores) = answers
        assert np.array_equal(union_hits[0], full_hits[0])
        assert np.array_equal(union_hits[1], full_hits[1])
        assert np.array_equal(union_scores, full_scores)


def test_a_search_finds_exactly_the_masked_points_that_share_a_token():
    store = SparseStore()
    store.append(SparseVector(indices=np.array([1, 5], np.uint32), values=np.array([1.0, 2.0], np.float32)))
    store.append(SparseVector(indices=np.array([5], np.uint32), values=np.array([4.0], np.float32)))
    store.append(SparseVector(indices=np.array([7], np.uint32), values=np.array([9.0], np.float32)))
    store.append(None)
    query = SparseVector(indices=np.array([1, 5], np.uint32), values=np.array([1.0, 1.0], np.float32))
    offsets, scores = store.search(query, 10, np.ones(4, bool), np.ones(2, np.float32))
    assert offsets.tolist() == [1, 0] and scores.tolist() == [4.0, 3.0]
    offsets, _ = store.search(query, 10, np.array([True, False, True, True]), np.ones(2, np.float32))
    assert offsets.tolist() == [0]
    store.set(0, None)
    offsets, _ = store.search(query, 10, np.ones(4, bool), np.ones(2, np.float32))
    assert offsets.tolist() == [1]
