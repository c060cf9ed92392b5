"""qdrant.Points methods that group, count or pair points: QueryGroups, SearchGroups,
RecommendGroups, Facet, SearchMatrixPairs, SearchMatrixOffsets (a mixin of PointsServicer)."""

from __future__ import annotations


class GroupingMethods:
    pass
