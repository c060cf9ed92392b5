"""The service as a whole: models loaded and warmed; in the embedded mode, storage opened and
the operations on it ready (the gateway mode is in service/gateway.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

from vecinfer import metrics
from vecinfer.config import Settings
from vecinfer.domain.inference import Document
from vecinfer.inference.backend import InferenceContext
from vecinfer.inference.http import HttpClients
from vecinfer.inference.loading import build_registry
from vecinfer.inference.registry import Registry
from vecinfer.inference.resolver import Resolver
from vecinfer.service.collections import CollectionOperations
from vecinfer.service.limits import Limits
from vecinfer.service.points import PointOperations
from vecinfer.service.snapshots import SnapshotOperations
from vecinfer.storage.catalog import Catalog

log = logging.getLogger("vecinfer")


class ModelService:
    """What both modes share: the models, their warm-up, readiness."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = HttpClients()
        self.registry: Registry = build_registry(settings, self.http)
        self.resolver = Resolver(self.registry, settings)
        self.limits = Limits(settings)
        self.ready = False

    async def warm_up(self) -> None:
        """Run every local text model once, so the first request does not pay for lazy
        initialisation; the service reports ready afterwards."""
        for backend in self.registry.models():
            if backend.info.inputs != ("text",) or backend.info.name.endswith("/*"):
                continue
            started = time.perf_counter()
            try:
                await backend.embed([Document(model=backend.info.name, text="warm up")], "query", InferenceContext())
            except Exception:
                log.exception("warming up model %s failed", backend.info.name)
                continue
            log.info("model %s warm in %.2f s", backend.info.name, time.perf_counter() - started)
        self.ready = True

    def readiness(self) -> tuple[bool, str]:
        """(ready, what /readyz says)."""
        if not self.ready:
            return False, "some shards are not ready: local models are still warming up"
        return True, "all shards are ready"

    def describe(self) -> str:
        """What the startup log line says about where data lives."""
        return ""

    async def close(self) -> None:
        await self.resolver.close()
        await self.http.close()


class Service(ModelService):
    """The embedded mode: vecinfer's own durable store."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.catalog = Catalog(settings.storage_dir, settings.wal_checkpoint_bytes, settings.search_threads)
        if settings.storage_snapshot is not None:
            recovered = self.catalog.recover_all(settings.storage_snapshot, settings.force_snapshot)
            log.info("recovered %d collections from %s: %s", len(recovered), settings.storage_snapshot,
                     ", ".join(recovered))
        self.collections = CollectionOperations(self.catalog, self.limits)
        self.points = PointOperations(self.catalog, self.resolver, self.limits)
        self.snapshots = SnapshotOperations(self.catalog, self.http, settings)
        self._state = metrics.watch_state(self._state_rows)

    def readiness(self) -> tuple[bool, str]:
        ready, text = super().readiness()
        quarantined = self.catalog.quarantined
        if ready and quarantined:
            detail = "; ".join(f"{name}: {problem}" for name, problem in sorted(quarantined.items()))
            return True, f"all shards are ready; quarantined collections (not served): {detail}"
        return ready, text

    def describe(self) -> str:
        return f"storage at {self.settings.storage_dir.resolve()} ({len(self.catalog.names())} collections)"

    def _state_rows(self) -> Iterable[tuple[str, str, dict[str, str], float]]:
        yield "app_info", "vecinfer and the Qdrant API version it answers", {"name": "vecinfer"}, 1.0
        yield "collections_total", "Number of collections", {}, float(len(self.catalog.names()))
        yield "vecinfer_ready", "1 once storage is loaded and local models are warm", {}, float(self.ready)
        yield ("vecinfer_quarantined_collections", "Collections whose files did not load (kept, not served)", {},
               float(len(self.catalog.quarantined)))
        optimizer = self.catalog.optimizer
        yield ("vecinfer_optimizer_queued_collections", "Collections waiting for the optimizer", {},
               float(optimizer.queued()))
        for name in self.catalog.names():
            try:
                collection = self.catalog.get(name)
            except Exception:  # deleted while we looked, or quarantined
                continue
            segments = collection.segments
            labels = {"collection": name}
            yield "vecinfer_collection_points", "Live points per collection", labels, float(len(segments))
            yield "vecinfer_collection_segments", "Segments per collection", labels, float(len(segments.all))
            yield ("vecinfer_collection_unindexed_segments", "Sealed segments still waiting for their graph",
                   labels, float(sum(1 for s in segments.sealed if not s.indexed())))
            yield ("vecinfer_collection_optimizing", "1 while the optimizer has work queued for the collection",
                   labels, float(collection.needs_optimizing()))

    async def close(self) -> None:
        metrics.REGISTRY.unregister(self._state)
        await self.snapshots.close()  # archives and recoveries in progress finish before storage closes
        await super().close()
        await asyncio.to_thread(self.catalog.close)
