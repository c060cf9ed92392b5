"""Bounds on one request, checked before any work starts (settings in config.py)."""

from __future__ import annotations

from collections.abc import Iterable

from vecinfer.config import Settings
from vecinfer.domain import filters as f
from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, CollectionUpdate
from vecinfer.domain.errors import ValidationFailed
from vecinfer.domain.query import Prefetch, QueryRequest, ScrollRequest


def filter_depth(flt: f.Filter) -> int:
    """Levels of nesting: a flat filter is 1."""
    deepest = 0
    stack: list[tuple[object, int]] = [(flt, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if isinstance(node, f.Filter):
            children: list[object] = [*node.must, *node.should, *node.must_not]
            if node.min_should is not None:
                children.extend(node.min_should.conditions)
            stack.extend((child, depth + 1) for child in children)
        elif isinstance(node, f.Nested):
            stack.append((node.filter, depth + 1))
        elif isinstance(node, f.Not):
            stack.append((node.condition, depth))
    return deepest


class Limits:
    def __init__(self, settings: Settings) -> None:
        self.s = settings

    def _at_most(self, field: str, value: int, bound: int, setting: str) -> None:
        if value > bound:
            raise ValidationFailed(field, f"value {value} is over the limit of {bound} (VECINFER_{setting})")

    def filter(self, flt: f.Filter | None, field: str) -> None:
        if flt is not None:
            self._at_most(f"{field} nesting depth", filter_depth(flt), self.s.max_filter_depth, "MAX_FILTER_DEPTH")

    # ---------------------------------------------------------------- reads

    def query(self, request: QueryRequest, field: str = "") -> None:
        prefix = f"{field}." if field else ""
        self._at_most(f"{prefix}offset", request.offset, self.s.max_limit, "MAX_LIMIT")
        stack: list[tuple[Prefetch, str, int]] = [(request.root, field, 1)]
        while stack:
            node, path, depth = stack.pop()
            label = f"{path}." if path else ""
            self._at_most(f"{label}prefetch depth", depth, self.s.max_prefetch_depth, "MAX_PREFETCH_DEPTH")
            if node.limit < 1:
                raise ValidationFailed(f"{label}limit", f"value {node.limit} invalid, must be 1 or more")
            self._at_most(f"{label}limit", node.limit, self.s.max_limit, "MAX_LIMIT")
            if node.params.hnsw_ef is not None:
                self._at_most(f"{label}params.hnsw_ef", node.params.hnsw_ef, self.s.max_hnsw_ef, "MAX_HNSW_EF")
            self.filter(node.filter, f"{label}filter")
            self.filter(node.params.idf_corpus, f"{label}params.idf.corpus")
            stack.extend((child, f"{label}prefetch[{i}]", depth + 1) for i, child in enumerate(node.prefetch))

    def queries(self, requests: list[QueryRequest]) -> None:
        for i, request in enumerate(requests):
            self.query(request, f"searches[{i}]" if len(requests) > 1 else "")

    def scroll(self, request: ScrollRequest) -> None:
        if request.limit < 1:
            raise ValidationFailed("limit", f"value {request.limit} invalid, must be 1 or more")
        self._at_most("limit", request.limit, self.s.max_limit, "MAX_LIMIT")
        self.filter(request.filter, "filter")

    # ---------------------------------------------------------------- writes

    def operations(self, operations: Iterable[ops.CollectionOperation]) -> None:
        points = 0
        for op in operations:
            if isinstance(op, (ops.Upsert, ops.UpdateVectors)):
                points += len(op.points)
                self.filter(op.update_filter, "update_filter")
            selector = getattr(op, "selector", None)
            if isinstance(selector, ops.PointsSelector):
                self.filter(selector.filter, "filter")
                if selector.ids is not None:
                    points += len(selector.ids)
        self._at_most("points", points, self.s.max_points_per_request, "MAX_POINTS_PER_REQUEST")

    # ---------------------------------------------------------------- collections

    def hnsw(self, m: int | None, ef_construct: int | None, field: str) -> None:
        if m is not None:
            self._at_most(f"{field}.m", m, self.s.max_hnsw_m, "MAX_HNSW_M")
        if ef_construct is not None:
            self._at_most(f"{field}.ef_construct", ef_construct, self.s.max_hnsw_ef_construct, "MAX_HNSW_EF_CONSTRUCT")

    def collection(self, config: CollectionConfig) -> None:
        self.hnsw(config.hnsw.m, config.hnsw.ef_construct, "hnsw_config")
        for name, dense in config.dense.items():
            own = dense.extra.get("hnsw_config", {})
            self.hnsw(own.get("m"), own.get("ef_construct"), f"vectors.{name}.hnsw_config" if name else "vectors.hnsw_config")

    def update(self, update: CollectionUpdate) -> None:
        if update.hnsw:
            self.hnsw(update.hnsw.get("m"), update.hnsw.get("ef_construct"), "hnsw_config")
        for name, change in (update.vectors or {}).items():
            if change.hnsw:
                self.hnsw(change.hnsw.get("m"), change.hnsw.get("ef_construct"), f"vectors.{name}.hnsw_config")
