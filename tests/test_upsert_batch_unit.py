"""An Upsert of many points appends their rows together (one FAISS add per dense vector name)
and must leave exactly what upserting them one at a time leaves: same points, vectors,
payloads and search answers, whatever the mode, the update filter, or where each point lived
(sealed segment, mutable segment, nowhere). An id twice in one Upsert is applied in order."""

from __future__ import annotations

import numpy as np
import pytest

from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, OptimizersConfig
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.filters import Filter, Range
from vecinfer.domain.query import PayloadSelector, SearchParams, VectorSelector
from vecinfer.query import records
from vecinfer.storage.catalog import Catalog

DIM = 8


def _collection(catalog: Catalog, name: str):
    config = CollectionConfig(dense={"a": DenseVectorParams(DIM, Distance.COSINE), "b": DenseVectorParams(DIM, Distance.DOT)},
                              optimizers=OptimizersConfig(indexing_threshold=100, default_segment_number=2))
    collection = catalog.create(name, config)
    rng = np.random.default_rng(1)
    collection.write([ops.Upsert([ops.Point(i, {"a": rng.normal(size=DIM), "b": rng.normal(size=DIM)}, {"n": i})
                                  for i in range(600)])])
    assert catalog.optimizer.wait_idle(120)
    collection.write([ops.Upsert([ops.Point(i, {"a": rng.normal(size=DIM)}, {"n": i}) for i in range(600, 650)])])
    return collection


def _state(collection) -> list:
    with collection.lock.reading():
        found = records.scroll(collection, None, None, 10_000, PayloadSelector(enable=True), VectorSelector(enable=True))[0]
        query = np.ones(DIM, dtype=np.float32) / np.sqrt(DIM)
        hits = collection.search("a", query, 20, collection.matching(None), SearchParams(exact=True))
        return [(r.id, r.payload, {k: np.asarray(v).tolist() for k, v in (r.vectors or {}).items()}) for r in found], \
            [collection.id_at(int(o)) for o in hits[0]], hits[1].tolist()


def _batch(rng: np.random.Generator) -> list[ops.Point]:
    ids = [5, 17, 599, 605, 640, 700, 701, 702]  # sealed, sealed, sealed, mutable, mutable, new, new, new
    return [ops.Point(i, {"a": rng.normal(size=DIM)} | ({"b": rng.normal(size=DIM)} if i % 2 else {}), {"n": 1000 + i})
            for i in ids]


@pytest.mark.parametrize("mode, update_filter", [("upsert", None), ("insert_only", None), ("update_only", None),
                                                 ("upsert", Filter(must=(Range("n", lt=600.0),)))])
def test_one_upsert_of_many_leaves_what_many_upserts_of_one_leave(tmp_path, mode, update_filter):
    catalog = Catalog(tmp_path / "storage")
    together, one_by_one = _collection(catalog, "together"), _collection(catalog, "one_by_one")
    together.write([ops.Upsert(_batch(np.random.default_rng(2)), update_filter, mode)])
    for p in _batch(np.random.default_rng(2)):  # the same points, not the same objects
        one_by_one.write([ops.Upsert([p], update_filter, mode)])
    assert _state(together) == _state(one_by_one)
    catalog.close()


def test_an_id_twice_in_one_upsert_is_applied_in_order(tmp_path):
    catalog = Catalog(tmp_path / "storage")
    collection = _collection(catalog, "twice")
    first, second = np.full(DIM, 1.0), np.full(DIM, -1.0)
    collection.write([ops.Upsert([ops.Point(900, {"a": first}, {"v": 1}), ops.Point(900, {"a": second}, {"v": 2})],
                                 mode="insert_only")])
    collection.write([ops.Upsert([ops.Point(901, {"a": first}, {"v": 1}), ops.Point(901, {"a": second}, {"v": 2})])])
    with collection.lock.reading():
        got = {r.id: r.payload for r in records.retrieve(collection, [900, 901], PayloadSelector(enable=True),
                                                           VectorSelector(enable=False))}
    assert got == {900: {"v": 1}, 901: {"v": 2}}  # insert_only keeps the first; upsert ends with the last
    catalog.close()


@pytest.mark.parametrize("order, named", [((1, 2, 3), "point 2"), ((1, 3, 2), "point 3")])
def test_the_first_bad_vector_in_request_order_is_named_and_nothing_is_written(tmp_path, order, named):
    catalog = Catalog(tmp_path / "storage")
    collection = catalog.create("c", CollectionConfig(dense={"a": DenseVectorParams(DIM, Distance.COSINE)}))
    bad = {1: np.ones(DIM), 2: np.full(DIM, np.nan), 3: np.ones(DIM + 1)}  # 2: NaN, 3: wrong size
    with pytest.raises(InvalidArgument, match=named):
        collection.write([ops.Upsert([ops.Point(i, {"a": bad[i]}, {}) for i in order])])
    assert collection.points_count() == 0
    catalog.close()


def test_stored_vectors_are_not_the_callers_arrays(tmp_path):
    catalog = Catalog(tmp_path / "storage")
    collection = catalog.create("c", CollectionConfig(dense={"d": DenseVectorParams(DIM, Distance.DOT)}))
    mine = [np.arange(DIM, dtype=np.float32) + i for i in range(3)]
    collection.write([ops.Upsert([ops.Point(i, {"d": v}, {}) for i, v in enumerate(mine)])])
    for v in mine:
        v[:] = -1.0
    with collection.lock.reading():
        found = records.scroll(collection, None, None, 10, PayloadSelector(enable=False), VectorSelector(enable=True))[0]
    assert [np.asarray(r.vectors["d"]).tolist() for r in found] == [(np.arange(DIM) + i).tolist() for i in range(3)]
    catalog.close()
