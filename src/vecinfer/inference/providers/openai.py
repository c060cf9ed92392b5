"""OpenAI embeddings API (`POST {base}/embeddings`), and OpenRouter's compatible one."""

from __future__ import annotations

from typing import Any

from vecinfer.domain.inference import InferenceInput
from vecinfer.inference.backend import Purpose
from vecinfer.inference.images import ImageLoader
from vecinfer.inference.providers.base import Call, passthrough, text_of

_RESERVED = ("model", "input", "encoding_format")


class OpenAIAdapter:
    prefix = "openai"
    key_option = "openai-api-key"
    mixes_kinds = False
    takes_images = False

    def batch_limit(self, kind: str) -> int:
        return 2048  # inputs per request

    async def build(self, model: str, items: list[InferenceInput], options: dict[str, Any], purpose: Purpose,
                    images: ImageLoader) -> Call:
        body = passthrough(options, _RESERVED)
        body.update({"model": model, "input": [text_of(item) for item in items], "encoding_format": "float"})
        return Call("/embeddings", body)

    def parse(self, response: dict, count: int) -> tuple[list[list[float]], int]:
        data = sorted(response["data"], key=lambda d: d["index"])
        usage = response.get("usage") or {}
        return [d["embedding"] for d in data], int(usage.get("total_tokens", usage.get("prompt_tokens", 0)))


class OpenRouterAdapter(OpenAIAdapter):
    prefix = "openrouter"
    key_option = "openrouter-api-key"
