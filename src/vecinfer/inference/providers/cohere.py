"""Cohere v2 embed API (`POST {base}/embed`): texts, or images as base64 data URLs."""

from __future__ import annotations

from typing import Any

from vecinfer.domain.inference import Image, InferenceInput
from vecinfer.inference.backend import Purpose
from vecinfer.inference.images import ImageLoader
from vecinfer.inference.providers.base import Call, image_of, passthrough, text_of

_INPUT_TYPES = {"document": "search_document", "query": "search_query"}
_RESERVED = ("model", "texts", "images", "inputs", "embedding_types")


class CohereAdapter:
    prefix = "cohere"
    key_option = "cohere-api-key"
    mixes_kinds = False
    takes_images = True

    def batch_limit(self, kind: str) -> int:
        return 1 if kind == "image" else 96  # Cohere: at most 96 texts, or 1 image, per call

    async def build(self, model: str, items: list[InferenceInput], options: dict[str, Any], purpose: Purpose,
                    images: ImageLoader) -> Call:
        body = passthrough(options, _RESERVED)
        body.setdefault("input_type", _INPUT_TYPES[purpose])
        body.update({"model": model, "embedding_types": ["float"]})
        if isinstance(items[0], Image):
            body["images"] = [await images.as_data_url(image_of(item)) for item in items]
        else:
            body["texts"] = [text_of(item) for item in items]
        return Call("/embed", body)

    def parse(self, response: dict, count: int) -> tuple[list[list[float]], int]:
        billed = (response.get("meta") or {}).get("billed_units") or {}
        tokens = int(billed.get("input_tokens", 0)) + int(billed.get("image_tokens", 0))
        return response["embeddings"]["float"], tokens
