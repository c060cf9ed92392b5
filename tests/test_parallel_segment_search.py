"""Searching a query's segments side by side (VECINFER_SEARCH_THREADS) returns exactly what
searching them one after another returns: same ids, same scores, same order."""

from __future__ import annotations

import numpy as np
import pytest

from vecinfer import metrics
from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, OptimizersConfig
from vecinfer.domain.query import SearchParams
from vecinfer.storage import segments
from vecinfer.storage.catalog import Catalog


@pytest.fixture
def many_segments(tmp_path):
    catalog = Catalog(tmp_path / "storage")
    config = CollectionConfig(dense={"": DenseVectorParams(16, Distance.COSINE)}, unnamed=True,
                              optimizers=OptimizersConfig(indexing_threshold=300, default_segment_number=64))
    collection = catalog.create("c", config)
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(30_000, 16)).astype(np.float32)
    for start in range(0, len(vectors), 2_500):
        collection.write([ops.Upsert([ops.Point(i, {"": vectors[i]}, {}) for i in range(start, start + 2_500)])])
    collection.write([ops.DeletePoints(ops.PointsSelector(ids=tuple(range(0, 30_000, 7))))])
    assert catalog.optimizer.wait_idle(300)
    yield collection, rng
    segments.set_search_threads(1)
    catalog.close()


def test_parallel_and_sequential_segment_search_agree(many_segments):
    collection, rng = many_segments
    with collection.lock.reading():
        assert len(collection.segments.sealed) >= 4, "the test needs several sealed segments"
        assert all(s.indexed() for s in collection.segments.sealed)
        total = collection.segments.total
        queries = rng.normal(size=(40, 16)).astype(np.float32)
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        masks = [collection.matching(None), rng.random(total) < 0.3]
        answers = {}
        for threads in (1, 4):
            segments.set_search_threads(threads)
            answers[threads] = [collection.search("", q, 25, mask, SearchParams(exact=exact, hnsw_ef=64))
                                for q in queries for mask in masks for exact in (False, True)]
        pool = segments._search_pool
        assert pool is not None and len(pool._threads) > 1, "the searches ran on the segment-search threads"
    assert segments.PARALLEL_MIN_ROWS <= total
    for (seq_ids, seq_scores), (par_ids, par_scores) in zip(answers[1], answers[4]):
        assert par_ids.tolist() == seq_ids.tolist()
        assert par_scores.tolist() == seq_scores.tolist()
        assert len(seq_ids) == 25


def test_only_a_search_running_alone_fans_out(many_segments):
    collection, rng = many_segments
    segments.set_search_threads(2)
    side_by_side = metrics.SEARCHES_SIDE_BY_SIDE
    query = rng.normal(size=16).astype(np.float32)
    query /= np.linalg.norm(query)
    with collection.lock.reading():
        mask = collection.matching(None)
        before = side_by_side._value.get()
        alone = collection.search("", query, 10, mask, SearchParams(hnsw_ef=64))
        assert side_by_side._value.get() == before + 1
        assert segments.running_searches.enter()  # another search is running from here on
        try:
            beside = collection.search("", query, 10, mask, SearchParams(hnsw_ef=64))
        finally:
            segments.running_searches.leave()
        assert side_by_side._value.get() == before + 1, "beside another search, segments are searched in turn"
        segments.set_search_threads(1)  # VECINFER_SEARCH_THREADS=1: never side by side
        collection.search("", query, 10, mask, SearchParams(hnsw_ef=64))
        assert side_by_side._value.get() == before + 1
    assert segments.running_searches.count == 0
    assert beside[0].tolist() == alone[0].tolist() and beside[1].tolist() == alone[1].tolist()
