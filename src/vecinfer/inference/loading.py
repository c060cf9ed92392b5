"""Start-up: build the model registry (BM25 + every local ONNX model), loading each once."""

from __future__ import annotations

import logging
import time

from vecinfer.config import Settings
from vecinfer.inference.backend import Backend
from vecinfer.inference.bm25.model import ALIASES as BM25_ALIASES
from vecinfer.inference.bm25.model import Bm25Backend
from vecinfer.inference.http import HttpClients
from vecinfer.inference.images import ImageLoader
from vecinfer.inference.onnx.backends import OnnxImageBackend, OnnxTextBackend
from vecinfer.inference.onnx.catalogue import discover
from vecinfer.inference.providers.base import ProviderBackend
from vecinfer.inference.providers.cohere import CohereAdapter
from vecinfer.inference.providers.jina import JinaAdapter
from vecinfer.inference.providers.openai import OpenAIAdapter, OpenRouterAdapter
from vecinfer.inference.registry import Registry

log = logging.getLogger("vecinfer.models")


def build_registry(settings: Settings, http: HttpClients) -> Registry:
    registry = Registry()
    registry.add(Bm25Backend(settings), *BM25_ALIASES)
    images = ImageLoader(settings, http)
    for manifest in discover(settings):
        started = time.perf_counter()
        backend: Backend
        if manifest.kind == "text":
            backend = OnnxTextBackend(manifest, settings)
        else:
            backend = OnnxImageBackend(manifest, settings, images)
        registry.add(backend, *manifest.aliases)
        log.info("loaded model %s (%s, dim %d) from %s in %.2f s", manifest.name, manifest.kind,
                 manifest.dimension, manifest.source, time.perf_counter() - started)
    for adapter, base_url in ((OpenAIAdapter(), settings.openai_base_url), (CohereAdapter(), settings.cohere_base_url),
                              (JinaAdapter(), settings.jina_base_url), (OpenRouterAdapter(), settings.openrouter_base_url)):
        registry.add_provider(adapter.prefix, ProviderBackend(adapter, base_url, settings, http, images))
    log.info("providers: openai/ -> %s, cohere/ -> %s, jinaai/ -> %s, openrouter/ -> %s", settings.openai_base_url,
             settings.cohere_base_url, settings.jina_base_url, settings.openrouter_base_url)
    return registry


def describe_models(settings: Settings) -> list[tuple[str, str, str, str, str]]:
    """(name, kind, dimension, inputs, source) for `vecinfer models`, without loading sessions."""
    rows = [("qdrant/bm25", "sparse", "-", "text", "built-in (aliases: bm25)")]
    for m in discover(settings):
        rows.append((m.name, "dense", str(m.dimension), m.kind, m.source))
    for prefix, url, inputs in (("openai", settings.openai_base_url, "text"), ("cohere", settings.cohere_base_url, "text+image"),
                                ("jinaai", settings.jina_base_url, "text+image"), ("openrouter", settings.openrouter_base_url, "text")):
        rows.append((f"{prefix}/*", "dense", "-", inputs, f"provider {url}"))
    return rows
