"""Distance matrices (`search/matrix/pairs|offsets`): a random sample of the points that pass the
filter and hold the vector, in id order, and for each its `limit` nearest neighbours within the
sample, itself excluded. Fewer than two such points give an empty matrix. Scores are the vector's
own (distances for Euclid and Manhattan, best first); a sparse neighbour needs an overlap.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import numpy as np

from vecinfer.domain.filters import Filter, HasVector, combine
from vecinfer.domain.groups import DistanceMatrix, MatrixRequest
from vecinfer.domain.points import DEFAULT_VECTOR, SparseVector, id_sort_key
from vecinfer.domain.query import SearchParams

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection

_EXACT = SearchParams(exact=True)


def search_matrix(collection: Collection, request: MatrixRequest, rng: random.Random | None = None) -> DistanceMatrix:
    """The caller holds the collection's read lock."""
    name = request.using if request.using else DEFAULT_VECTOR
    collection.check_vector_name(name)
    eligible = collection.matching(combine(request.filter, Filter(must=(HasVector(name),))))
    candidates = np.flatnonzero(eligible).tolist()
    chosen = (rng or random).sample(candidates, min(request.sample, len(candidates)))
    if len(chosen) < 2:
        return DistanceMatrix([], [])
    chosen.sort(key=lambda offset: id_sort_key(collection.id_at(offset)))
    column = {offset: i for i, offset in enumerate(chosen)}
    within = np.zeros(len(eligible), dtype=bool)
    within[chosen] = True
    rows = []
    for offset in chosen:
        vector = collection.vector_at(offset, name)
        assert vector is not None, "sampled points hold the vector"
        weights = collection.query_weights(name, vector, None) if isinstance(vector, SparseVector) else None
        within[offset] = False
        found, scores = collection.search(name, vector, request.limit, within, _EXACT, weights)
        within[offset] = True
        rows.append([(column[int(o)], float(s)) for o, s in zip(found.tolist(), scores.tolist())])
    return DistanceMatrix([collection.id_at(offset) for offset in chosen], rows)
