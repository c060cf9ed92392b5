"""Collect -> bound -> de-duplicate -> look up in the embedding cache -> group the rest per
backend -> embed concurrently (and keep in the cache) -> substitute.

Every inference object of one request is resolved before the request touches storage, so a
failure anywhere rejects the whole request. The request's size is bounded before any work
(inference objects, characters per text and in all), and a failure or cancellation in one
backend stops the others' work for the request.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from vecinfer import metrics
from vecinfer.config import Settings
from vecinfer.domain import points as ops
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.inference import INFERENCE_TYPES, Document, InferenceInput
from vecinfer.domain.query import Example, Nearest, Prefetch, examples_of
from vecinfer.domain.results import Usage
from vecinfer.inference import mrl
from vecinfer.inference.backend import Backend, InferenceContext, Purpose
from vecinfer.inference.cache import EmbeddingCache, backend_identity, cacheable, key_digest, open_cache
from vecinfer.inference.providers.base import ProviderBackend
from vecinfer.inference.registry import Registry

# A place holding an inference object, and how to put the vector there instead.
Slot = tuple[InferenceInput, Callable[[Any], None]]
T = TypeVar("T")


def check_text_length(text: str, limit: int) -> None:
    """One text's bound, for every model (the message never quotes the text)."""
    if len(text) > limit:
        raise InvalidArgument(f"Document text is {len(text)} characters, over the limit of {limit} "
                              "(VECINFER_MAX_TEXT_CHARS)")


def check_request_bounds(objects: list[InferenceInput], settings: Settings) -> None:
    """A request's bounds, checked before any work: inference objects, characters per text
    and in all."""
    if len(objects) > settings.max_inference_inputs:
        raise InvalidArgument(f"The request carries {len(objects)} inference objects, over the limit of "
                              f"{settings.max_inference_inputs} per request (VECINFER_MAX_INFERENCE_INPUTS)")
    total = 0
    for obj in objects:
        if isinstance(obj, Document):
            check_text_length(obj.text, settings.max_text_chars)
            total += len(obj.text)
    if total > settings.max_request_text_chars:
        raise InvalidArgument(f"The request carries {total} characters of document text, over the limit of "
                              f"{settings.max_request_text_chars} per request (VECINFER_MAX_REQUEST_TEXT_CHARS)")


async def _all_or_nothing(work: list[Awaitable[T]]) -> list[T]:
    """Like asyncio.gather, but the first failure cancels the rest (no work for a request
    that is already rejected), and so does cancelling the caller."""
    if len(work) <= 1:
        return [await w for w in work]
    tasks = [asyncio.ensure_future(w) for w in work]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        pending = [t for t in tasks if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
    return [task.result() for task in tasks]


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


def _example_setter(example: Example) -> Callable[[Any], None]:
    def put(vector: Any) -> None:
        example.vector = vector

    return put


def slots_in_query(node: Prefetch) -> list[Slot]:
    slots: list[Slot] = []
    query = node.query
    if isinstance(query, Nearest) and isinstance(query.vector, INFERENCE_TYPES):
        slots.append((query.vector, _query_setter(node)))
    for example in examples_of(query):
        if isinstance(example.vector, INFERENCE_TYPES):
            slots.append((example.vector, _example_setter(example)))
    for child in node.prefetch:
        slots.extend(slots_in_query(child))
    return slots


class Resolver:
    def __init__(self, registry: Registry, settings: Settings | None = None) -> None:
        self.registry = registry
        self.settings = settings if settings is not None else Settings.from_env()
        self.cache: EmbeddingCache | None = open_cache(self.settings)
        self._identities: dict[int, str] = {}  # per backend (by id), computed once

    def _identity(self, backend: Backend) -> str:
        identity = self._identities.get(id(backend))
        if identity is None:
            identity = self._identities[id(backend)] = backend_identity(backend)
        return identity

    async def _cached(self, cache: EmbeddingCache, unique: dict[tuple, InferenceInput], backends: dict[tuple, Backend],
                      purpose: Purpose, context: InferenceContext, usage: Usage) -> tuple[dict[tuple, Any], dict[tuple, bytes]]:
        """(vectors the cache holds, digests of the cacheable inputs it does not hold)."""
        keys = [key for key, obj in unique.items() if cacheable(backends[key], obj)]
        if not keys:
            return {}, {}
        found = await cache.lookup([(self._identity(backends[k]), purpose, unique[k]) for k in keys])
        if len(found) != len(keys):  # the cache could not answer: compute all, keep nothing
            return {}, {}
        vectors: dict[tuple, Any] = {}
        missing: dict[tuple, bytes] = {}
        for key, (digest, vector) in zip(keys, found):
            if vector is None:
                missing[key] = digest
                continue
            _count_hit(unique[key], backends[key], context, usage)
            vectors[key] = vector
        return vectors, missing

    def resolve_cached_now(self, slots: list[Slot], purpose: Purpose,
                           context: InferenceContext | None = None) -> Usage | None:
        """`resolve` on the calling thread (not the event loop's), when the embedding cache holds
        every input: the gRPC door's workers answer a repeated text without a hand-off to the
        loop and the cache's thread. None, with nothing filled, when anything must be computed:
        the caller then runs `resolve`."""
        cache = self.cache
        if cache is None or not slots:
            return None
        context = context or InferenceContext()
        sizes, unique, backend_of = self._plan(slots)
        if not all(cacheable(backend_of[key], obj) for key, obj in unique.items()):
            return None
        try:
            digests = [key_digest(self._identity(backend_of[key]), purpose, obj) for key, obj in unique.items()]
        except (TypeError, ValueError):  # options JSON cannot hold: `resolve` computes it
            return None
        found = cache.get_many(digests, counted=False)
        if any(vector is None for vector in found):
            return None  # `resolve` looks up again and counts the lookups once
        cache.count_hits(len(found))
        usage = Usage()
        vectors: dict[tuple, Any] = {}
        for (key, obj), vector in zip(unique.items(), found):
            _count_hit(obj, backend_of[key], context, usage)
            vectors[key] = vector
        _fill(slots, sizes, vectors)
        return usage

    def _plan(self, slots: list[Slot]) -> tuple[list[int | None], dict[tuple, InferenceInput], dict[tuple, Backend]]:
        """Validate before any work (bounds, `mrl`, model names); then each distinct input
        once, with its backend: (MRL size per slot, inputs by key, backends by key)."""
        check_request_bounds([obj for obj, _ in slots], self.settings)
        sizes = [mrl.requested_size(obj) for obj, _ in slots]
        unique: dict[tuple, InferenceInput] = {}
        for obj, _ in slots:
            unique.setdefault(obj.key(), obj)
        return sizes, unique, {key: self.registry.get(obj.model) for key, obj in unique.items()}

    async def resolve(self, slots: list[Slot], purpose: Purpose, context: InferenceContext | None = None) -> Usage:
        """Fill every slot; returns tokens used per model, and inputs per model answered by
        the embedding cache."""
        usage = Usage()
        if not slots:
            return usage
        context = context or InferenceContext()
        sizes, unique, backend_of = self._plan(slots)
        vectors: dict[tuple, Any] = {}
        missing: dict[tuple, bytes] = {}
        cache = self.cache
        if cache is not None:
            vectors, missing = await self._cached(cache, unique, backend_of, purpose, context, usage)
        groups: dict[int, list[tuple]] = defaultdict(list)
        backends = {}
        for key, backend in backend_of.items():
            if key in vectors:
                continue
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
            used = result.tokens_by_model or {backend.info.name: result.tokens}
            for model, tokens in used.items():
                metrics.INFERENCE_TOKENS.labels(model, label).inc(tokens)
            if cache is not None:
                # Kept even if another backend of the request fails: the work is done.
                cache.store([(missing[k], v) for k, v in zip(keys, result.vectors) if k in missing])
            return dict(zip(keys, result.vectors)), used

        for computed, used in await _all_or_nothing([run(b) for b in groups]):
            vectors.update(computed)
            for model, tokens in used.items():
                usage[model] = usage.get(model, 0) + tokens
        _fill(slots, sizes, vectors)
        return usage

    async def close(self) -> None:
        """Queued cache writes finish (off the event loop) and the cache file closes."""
        if self.cache is not None:
            await asyncio.to_thread(self.cache.close)


def _fill(slots: list[Slot], sizes: list[int | None], vectors: dict[tuple, Any]) -> None:
    """Put each slot's vector in place, cut to its `mrl` size."""
    for (obj, put), size in zip(slots, sizes):
        put(mrl.derive(vectors[obj.key()], size, obj.model))


def _count_hit(obj: InferenceInput, backend: Backend, context: InferenceContext, usage: Usage) -> None:
    if isinstance(backend, ProviderBackend):
        backend.require_key(obj, context)  # a request without a key fails as a miss would
    model = usage_name(backend, obj)
    usage.setdefault(model, 0)  # listed, with no tokens spent on it
    usage.cache_hits[model] = usage.cache_hits.get(model, 0) + 1


def usage_name(backend: Backend, obj: InferenceInput) -> str:
    """The model name usage reports: a local model's own name, or for a provider the name its
    backend reports tokens under (`openai/<model>`)."""
    name = backend.info.name
    if name.endswith("/*"):
        return name[:-1] + obj.model.split("/", 1)[1]
    return name
