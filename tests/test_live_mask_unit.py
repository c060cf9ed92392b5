"""The collection's live-point mask is kept between queries (storage/segments.py): it must never
answer for a state that has changed since, through deletes, upserts, sealing, merges and vacuum,
and nobody may write into the kept copy."""

from __future__ import annotations

import numpy as np
import pytest

from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, OptimizersConfig
from vecinfer.storage.catalog import Catalog


def _fresh(collection) -> np.ndarray:
    return np.concatenate([segment.live_mask() for segment in collection.segments.all])


def test_the_kept_mask_follows_every_change(tmp_path):
    catalog = Catalog(tmp_path / "storage")
    config = CollectionConfig(dense={"": DenseVectorParams(8, Distance.DOT)}, unnamed=True,
                              optimizers=OptimizersConfig(indexing_threshold=10, default_segment_number=1))
    collection = catalog.create("c", config)
    rng = np.random.default_rng(0)

    def upsert(ids: range) -> None:
        collection.write([ops.Upsert([ops.Point(i, {"": rng.normal(size=8)}, {}) for i in ids])])

    def check() -> np.ndarray:
        with collection.lock.reading():
            mask = collection.matching(None)
            assert mask.tolist() == _fresh(collection).tolist()
            assert int(np.count_nonzero(mask)) == collection.points_count()
            return mask

    upsert(range(100))
    first = check()
    assert check() is first  # kept while nothing changes
    collection.write([ops.DeletePoints(ops.PointsSelector(ids=(3, 50)))])
    assert check()[collection.segments.offset_of[4]] and 3 not in collection.segments.offset_of
    upsert(range(100, 400))  # enough to seal segments and start merges
    assert catalog.optimizer.wait_idle(120)
    check()
    collection.write([ops.DeletePoints(ops.PointsSelector(ids=tuple(range(0, 400, 3))))])
    check()
    assert catalog.optimizer.wait_idle(120)  # a vacuum may replace segments
    upsert(range(0, 30))  # back, in the mutable segment
    mask = check()
    with pytest.raises(ValueError):
        mask[0] = not mask[0]
    catalog.close()
