"""Jina AI embeddings API (`POST {base}/embeddings`): text and image inputs."""

from __future__ import annotations

from typing import Any

from vecinfer.domain.inference import Image, InferenceInput
from vecinfer.inference.backend import Purpose
from vecinfer.inference.images import ImageLoader, is_url
from vecinfer.inference.providers.base import Call, image_of, passthrough, text_of

# Models that take a retrieval `task`; it is set from the operation unless given.
_TASK_MODELS = ("jina-embeddings-v3", "jina-embeddings-v4", "jina-clip-v2")
_TASKS = {"document": "retrieval.passage", "query": "retrieval.query"}
_RESERVED = ("model", "input", "embedding_type")


async def _image_input(value: Any, images: ImageLoader) -> str:
    # Jina takes a URL, which it fetches itself, or bare base64: inline images (base64 or a
    # data URL) are checked here like any other, and sent as bare base64.
    if is_url(value):
        return value
    return await images.as_base64(value)


class JinaAdapter:
    prefix = "jinaai"
    key_option = "jina-api-key"
    mixes_kinds = True
    takes_images = True

    def batch_limit(self, kind: str) -> int:
        return 2048

    async def build(self, model: str, items: list[InferenceInput], options: dict[str, Any], purpose: Purpose,
                    images: ImageLoader) -> Call:
        body = passthrough(options, _RESERVED)
        if model in _TASK_MODELS:
            body.setdefault("task", _TASKS[purpose])
        inputs: list[dict[str, str]] | list[str]
        if "clip" in model or any(isinstance(item, Image) for item in items):
            inputs = [{"image": await _image_input(image_of(item), images)} if isinstance(item, Image)
                      else {"text": text_of(item)} for item in items]
        else:
            inputs = [text_of(item) for item in items]
        body.update({"model": model, "input": inputs, "embedding_type": "float"})
        return Call("/embeddings", body)

    def parse(self, response: dict, count: int) -> tuple[list[list[float]], int]:
        data = sorted(response["data"], key=lambda d: d["index"])
        usage = response.get("usage") or {}
        return [d["embedding"] for d in data], int(usage.get("total_tokens", 0))
