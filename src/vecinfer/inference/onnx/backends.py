"""Local ONNX models as inference backends, each behind its own micro-batcher (which shares
batches fairly between requests and drops the queued inputs of cancelled ones)."""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument
from vecinfer.domain.inference import Document, Image, InferenceInput
from vecinfer.inference.backend import Embeddings, InferenceContext, ModelInfo, Purpose
from vecinfer.inference.batcher import BatchResults, MicroBatcher
from vecinfer.inference.images import ImageLoader
from vecinfer.inference.onnx.image_encoder import ImageEncoder
from vecinfer.inference.onnx.manifest import Manifest
from vecinfer.inference.onnx.text_encoder import TextEncoder
from vecinfer.inference.resolver import check_text_length

_KIND_NAMES = {Document: "text (Document)", Image: "an image (Image)"}


def _wrong_input(model: str, takes: str, item: InferenceInput) -> InvalidArgument:
    if not isinstance(item, (Document, Image)):
        return InvalidArgument(f"Model {model} does not take InferenceObject inputs: it takes {takes}")
    return InvalidArgument(f"Model {model} takes {takes}, not {_KIND_NAMES[type(item)]}")


def _batcher(run: Callable[[list[Any]], BatchResults], settings: Settings, name: str,
             run_alone: Callable[[list[Any]], BatchResults] | None = None) -> MicroBatcher:
    return MicroBatcher(run, settings.inference_max_batch, settings.inference_max_wait_ms / 1000,
                        settings.inference_workers, name, run_alone=run_alone)


class OnnxTextBackend:
    def __init__(self, manifest: Manifest, settings: Settings) -> None:
        self.manifest = manifest
        self.settings = settings
        self.encoder = TextEncoder(manifest)
        self.info = ModelInfo(manifest.name, "dense", manifest.dimension, ("text",), manifest.source)
        # A batch with nothing beside it (a lone query) runs on every core: one-thread workers
        # serve throughput under load, but leave a core idle for a single query.
        alone = functools.partial(self._run, alone=True) if (os.cpu_count() or 1) > 1 else None
        self.batcher = _batcher(self._run, settings, manifest.name.split("/")[-1], alone)

    def _run(self, texts: list[str], alone: bool = False) -> list[tuple[np.ndarray, int]]:
        vectors, tokens = self.encoder.encode(texts, alone)
        return list(zip(vectors, tokens))

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose, context: InferenceContext) -> Embeddings:
        prefix = self.manifest.query_prefix if purpose == "query" else self.manifest.document_prefix
        texts = []
        for item in inputs:
            if not isinstance(item, Document):
                raise _wrong_input(self.info.name, "text (Document)", item)
            check_text_length(item.text, self.settings.max_text_chars)
            texts.append(prefix + item.text)
        results = await self.batcher.submit(texts)
        return Embeddings([v for v, _ in results], sum(t for _, t in results))


class OnnxImageBackend:
    def __init__(self, manifest: Manifest, settings: Settings, images: ImageLoader) -> None:
        self.manifest = manifest
        self.images = images
        self.encoder = ImageEncoder(manifest)
        self.info = ModelInfo(manifest.name, "dense", manifest.dimension, ("image",), manifest.source)
        self.batcher = _batcher(self.encoder.encode, settings, manifest.name.split("/")[-1])

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose, context: InferenceContext) -> Embeddings:
        items: list[Image] = []
        for item in inputs:
            if not isinstance(item, Image):
                raise _wrong_input(self.info.name, "an image (Image)", item)
            items.append(item)
        decoded = await asyncio.gather(*(self.images.load(item.image) for item in items))
        pixels = await asyncio.to_thread(lambda: [self.encoder.pixels(image) for image in decoded])
        vectors = await self.batcher.submit(pixels)
        return Embeddings(list(vectors), 0)
