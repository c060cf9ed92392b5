"""Collect -> de-duplicate -> group per backend -> embed concurrently -> substitute.

Every inference object of one request is resolved before the request touches storage, so a
failure anywhere rejects the whole request.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from vecinfer import metrics
from vecinfer.domain import points as ops
from vecinfer.domain.inference import INFERENCE_TYPES, InferenceInput
from vecinfer.domain.query import Nearest, Prefetch
from vecinfer.inference import mrl
from vecinfer.inference.backend import InferenceContext, Purpose
from vecinfer.inference.registry import Registry

# A place holding an inference object, and how to put the vector there instead.
Slot = tuple[InferenceInput, Callable[[Any], None]]


def _dict_setter(holder: dict, key: str) -> Callable[[Any], None]:
    return lambda vector: holder.__setitem__(key, vector)


def slots_in_operations(operations: list) -> list[Slot]:
    slots: list[Slot] = []
    for op in operations:
        if isinstance(op, (ops.Upsert, ops.UpdateVectors)):
            for point in op.points:
                for name, value in point.vectors.items():
                    if isinstance(value, INFERENCE_TYPES):
                        slots.append((value, _dict_setter(point.vectors, name)))
    return slots


def _query_setter(node: Prefetch) -> Callable[[Any], None]:
    def put(vector: Any) -> None:
        node.query = Nearest(vector=vector)

    return put


def slots_in_query(node: Prefetch) -> list[Slot]:
    slots: list[Slot] = []
    query = node.query
    if isinstance(query, Nearest) and isinstance(query.vector, INFERENCE_TYPES):
        slots.append((query.vector, _query_setter(node)))
    for child in node.prefetch:
        slots.extend(slots_in_query(child))
    return slots


class Resolver:
    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    async def resolve(self, slots: list[Slot], purpose: Purpose, context: InferenceContext | None = None) -> dict[str, int]:
        """Fill every slot; returns tokens used per model."""
        if not slots:
            return {}
        context = context or InferenceContext()
        sizes = [mrl.requested_size(obj) for obj, _ in slots]  # validate before any work
        unique: dict[tuple, InferenceInput] = {}
        for obj, _ in slots:
            unique.setdefault(obj.key(), obj)
        groups: dict[int, list[tuple]] = defaultdict(list)
        backends = {}
        for key, obj in unique.items():
            backend = self.registry.get(obj.model)
            backends[id(backend)] = backend
            groups[id(backend)].append(key)

        async def run(backend_id: int) -> tuple[dict[tuple, Any], dict[str, int]]:
            backend, keys = backends[backend_id], groups[backend_id]
            label = backend.info.name
            started = time.perf_counter()
            try:
                result = await backend.embed([unique[k] for k in keys], purpose, context)
            except BaseException as exc:
                metrics.INFERENCE_CALLS.labels(label, type(exc).__name__).inc()
                raise
            metrics.INFERENCE_SECONDS.labels(label).observe(time.perf_counter() - started)
            metrics.INFERENCE_CALLS.labels(label, "ok").inc()
            metrics.INFERENCE_INPUTS.labels(label).inc(len(keys))
            usage = result.tokens_by_model or {backend.info.name: result.tokens}
            for model, tokens in usage.items():
                metrics.INFERENCE_TOKENS.labels(model, label).inc(tokens)
            return dict(zip(keys, result.vectors)), usage

        vectors: dict[tuple, Any] = {}
        usage: dict[str, int] = defaultdict(int)
        for computed, used in await asyncio.gather(*(run(b) for b in groups)):
            vectors.update(computed)
            for model, tokens in used.items():
                usage[model] += tokens
        for (obj, put), size in zip(slots, sizes):
            put(mrl.derive(vectors[obj.key()], size, obj.model))
        return dict(usage)
