"""Start-up: build the model registry (BM25 + every local ONNX model), loading each once."""

from __future__ import annotations

import logging
import time

from vecinfer.config import Settings
from vecinfer.inference.bm25.model import ALIASES as BM25_ALIASES
from vecinfer.inference.bm25.model import Bm25Backend
from vecinfer.inference.http import HttpClients
from vecinfer.inference.images import ImageLoader
from vecinfer.inference.onnx.backends import OnnxImageBackend, OnnxTextBackend
from vecinfer.inference.onnx.catalogue import discover
from vecinfer.inference.registry import Registry

log = logging.getLogger("vecinfer.models")


def build_registry(settings: Settings, http: HttpClients) -> Registry:
    registry = Registry()
    registry.add(Bm25Backend(), *BM25_ALIASES)
    images = ImageLoader(settings, http)
    for manifest in discover(settings):
        started = time.perf_counter()
        if manifest.kind == "text":
            backend = OnnxTextBackend(manifest, settings)
        else:
            backend = OnnxImageBackend(manifest, settings, images)
        registry.add(backend, *manifest.aliases)
        log.info("loaded model %s (%s, dim %d) from %s in %.2f s", manifest.name, manifest.kind,
                 manifest.dimension, manifest.source, time.perf_counter() - started)
    return registry


def describe_models(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    """(name, kind, dimension, inputs, source) for `vecinfer models`, without loading sessions."""
    rows = [("qdrant/bm25", "sparse", "-", "text", "built-in (aliases: bm25)")]
    for m in discover(settings):
        rows.append((m.name, "dense", str(m.dimension), m.kind, m.source))
    return rows
