"""qdrant.Points' legacy family (Search, SearchBatch, Recommend, RecommendBatch, Discover,
DiscoverBatch) as thin mappings onto the Query machinery (a mixin of PointsServicer)."""

from __future__ import annotations


class LegacyMethods:
    pass
