"""A batch of queries answers exactly what its queries answer one by one, while its plain
nearest searches share one graph search call per segment (planner.execute_batch)."""

from __future__ import annotations

import numpy as np
import pytest

from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, OptimizersConfig
from vecinfer.domain.filters import Filter, Range
from vecinfer.domain.query import Nearest, Prefetch, QueryRequest, SearchParams
from vecinfer.query import planner
from vecinfer.storage.catalog import Catalog
from vecinfer.storage.dense import SealedDenseStore

DIM = 16


@pytest.fixture(params=[Distance.COSINE, Distance.EUCLID])
def collection(request, tmp_path):
    catalog = Catalog(tmp_path / "storage")
    config = CollectionConfig(dense={"": DenseVectorParams(DIM, request.param)}, unnamed=True,
                              optimizers=OptimizersConfig(indexing_threshold=300, default_segment_number=3))
    collection = catalog.create("c", config)
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(12_000, DIM)).astype(np.float32)
    for start in range(0, len(vectors), 2_000):
        collection.write([ops.Upsert([ops.Point(i, {"": vectors[i]}, {"n": i % 100})
                                      for i in range(start, start + 2_000)])])
    assert catalog.optimizer.wait_idle(300)
    collection.write([ops.Upsert([ops.Point(i, {"": vectors[i - 12_000]}, {"n": i % 100})
                                  for i in range(12_000, 12_500)])])  # an unindexed mutable tail
    collection.write([ops.DeletePoints(ops.PointsSelector(ids=tuple(range(0, 12_000, 9))))])
    yield collection
    catalog.close()


def _requests(rng: np.random.Generator) -> list[QueryRequest]:
    def nearest(**kwargs) -> QueryRequest:
        offset = kwargs.pop("offset", 0)
        vector = rng.normal(size=DIM).astype(np.float32)
        return QueryRequest(root=Prefetch(query=Nearest(vector=vector), **kwargs), offset=offset)

    few = Filter(must=(Range("n", lt=40.0),))
    requests = [nearest(limit=10) for _ in range(12)]  # one shared search
    requests += [nearest(limit=10, filter=few) for _ in range(5)]  # another: a filter
    requests += [nearest(limit=10, params=SearchParams(hnsw_ef=16)) for _ in range(4)]  # another: the beam
    requests += [nearest(limit=5, offset=5) for _ in range(3)]  # limit + offset: the same search of 10
    requests += [nearest(limit=10, score_threshold=0.0)]  # shares the first search; the threshold cuts after
    requests += [nearest(limit=7)]  # alone: searched by itself
    requests += [nearest(limit=10, params=SearchParams(exact=True)) for _ in range(2)]  # exact: one by one
    return requests


def test_a_batch_answers_what_its_queries_answer_one_by_one(collection):
    rng = np.random.default_rng(11)
    requests = _requests(rng)
    with collection.lock.reading():
        assert sum(isinstance(s.vector_store(""), SealedDenseStore) and s.indexed()
                   for s in collection.segments.sealed) >= 2, "the test needs several graphs"
        alone = [planner.execute(collection, r) for r in requests]
        batched = planner.execute_batch(collection, requests)
        shared = planner._shared_searches(collection, requests)
    assert sorted(len(s.roots) for s in shared) == [2, 4, 5, 16]
    for one, many in zip(alone, batched, strict=True):
        assert [(p.id, p.score) for p in many] == [(p.id, p.score) for p in one]
    assert all(len(r) == 10 for r in alone[:12])


def test_a_graph_search_of_many_queries_walks_each_as_alone(collection):
    rng = np.random.default_rng(5)
    queries = rng.normal(size=(40, DIM)).astype(np.float32)
    with collection.lock.reading():
        store = next(s.vector_store("") for s in collection.segments.sealed if s.indexed())
        mask = np.ones(store.rows().shape[0], dtype=bool)
        mask[::3] = False
        prepared = queries / np.linalg.norm(queries, axis=1, keepdims=True)
        many = store.search_many(prepared, 10, mask, ef=32)
        alone = [store.search(q, 10, mask, ef=32) for q in prepared]
    for (ids, scores), (ids1, scores1) in zip(many, alone, strict=True):
        assert ids.tolist() == ids1.tolist() and scores.tolist() == scores1.tolist()
        assert not set(ids.tolist()) & set(range(0, len(mask), 3))
