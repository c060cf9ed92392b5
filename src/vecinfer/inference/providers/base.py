"""One backend per provider: routing, API keys, grouping into upstream calls, usage."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from vecinfer.config import Settings
from vecinfer.domain.errors import InvalidArgument, UpstreamFailed
from vecinfer.domain.inference import Document, Image, InferenceInput, computation_options
from vecinfer.inference.backend import Embeddings, InferenceContext, ModelInfo, Purpose
from vecinfer.inference.http import HttpClients
from vecinfer.inference.images import ImageLoader
from vecinfer.inference.providers.transport import post_json


@dataclass
class Call:
    """One upstream request: path under the base URL and JSON body."""

    path: str
    body: dict[str, Any]


def text_of(item: InferenceInput) -> str:
    """The text of an input that ProviderBackend has checked to be a Document."""
    assert isinstance(item, Document), f"expected a Document, got {type(item).__name__}"
    return item.text


def image_of(item: InferenceInput) -> Any:
    """The `image` value (any JSON; ImageLoader validates it) of an input checked to be an Image."""
    assert isinstance(item, Image), f"expected an Image, got {type(item).__name__}"
    return item.image


def _embedding(values: Any, who: str) -> np.ndarray:
    """One embedding from a provider's answer: a flat list of finite numbers."""
    try:
        vector = np.asarray(values, dtype=np.float32)
    except (TypeError, ValueError):
        raise UpstreamFailed(f"{who}: the provider returned an embedding that is not a list of numbers") from None
    if vector.ndim != 1 or vector.size == 0 or not np.all(np.isfinite(vector)):
        raise UpstreamFailed(f"{who}: the provider returned an embedding that is not a list of finite numbers")
    return vector


def passthrough(options: dict[str, Any], reserved: tuple[str, ...]) -> dict[str, Any]:
    """The caller's options that go to the provider as they are (`dimensions`, `task`, ...);
    fields vecinfer fills itself are not taken from options."""
    return {k: v for k, v in options.items() if k not in reserved}


class Adapter(Protocol):
    """A provider's published embeddings API."""

    prefix: str  # "openai" -> models "openai/<model>"
    key_option: str  # "openai-api-key"
    takes_images: bool
    mixes_kinds: bool  # texts and images may share one call

    def batch_limit(self, kind: str) -> int: ...

    async def build(self, model: str, items: list[InferenceInput], options: dict[str, Any], purpose: Purpose,
                    images: ImageLoader) -> Call: ...

    def parse(self, response: dict, count: int) -> tuple[list[list[float]], int]: ...


class ProviderBackend:
    def __init__(self, adapter: Adapter, base_url: str, settings: Settings, http: HttpClients,
                 images: ImageLoader) -> None:
        self.adapter = adapter
        self.base_url = base_url.rstrip("/")
        self.settings = settings
        self.http = http
        self.images = images
        inputs = ("text", "image") if adapter.takes_images else ("text",)
        self.info = ModelInfo(f"{adapter.prefix}/*", "dense", None, inputs, self.base_url)

    def _api_key(self, obj: InferenceInput, context: InferenceContext) -> str:
        option = self.adapter.key_option
        server_key: str = getattr(self.settings, option.replace("-", "_"), "")
        key = obj.secrets.get(option) or context.credentials.get(option) or server_key
        if not key:
            raise InvalidArgument(
                f"Model {obj.model} needs an API key: set options[\"{option}\"] on the {type(obj).__name__}, "
                f"send gRPC metadata `{option}`, or start the server with VECINFER_{option.replace('-', '_').upper()}"
            )
        return key

    def require_key(self, obj: InferenceInput, context: InferenceContext) -> None:
        """Fails as a call would without a key: a vector from the embedding cache needs one too."""
        self._api_key(obj, context)

    def _check(self, obj: InferenceInput) -> str:
        if isinstance(obj, Image):
            if not self.adapter.takes_images:
                raise InvalidArgument(f"Model {obj.model} takes text (Document), not an image (Image)")
            return "image"
        if not isinstance(obj, Document):
            raise InvalidArgument(f"Model {obj.model} does not take InferenceObject inputs: send a Document or Image")
        return "text"

    async def embed(self, inputs: list[InferenceInput], purpose: Purpose, context: InferenceContext) -> Embeddings:
        groups: dict[tuple, list[int]] = defaultdict(list)
        for index, obj in enumerate(inputs):
            kind = self._check(obj)
            model = obj.model.split("/", 1)[1]
            if not model:
                raise InvalidArgument(f"Model name {obj.model!r} names no model after `{self.adapter.prefix}/`")
            options = computation_options(obj.options)
            if self.adapter.mixes_kinds:
                kind = "any"
            groups[(model, json.dumps(options, sort_keys=True), self._api_key(obj, context), kind)].append(index)

        session = await self.http.session(public_only=False)  # base URLs are operator configuration
        vectors: list = [None] * len(inputs)
        tokens: dict[str, int] = defaultdict(int)

        async def call(model: str, options: dict, key: str, indices: list[int]) -> None:
            who = f"{self.adapter.prefix} model {model}"
            request = await self.adapter.build(model, [inputs[i] for i in indices], options, purpose, self.images)
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            response = await post_json(session, self.base_url + request.path, headers, request.body,
                                       self.settings, context, who)
            try:
                embeddings, used = self.adapter.parse(response, len(indices))
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise UpstreamFailed(f"{who}: unexpected response from the provider ({type(exc).__name__})") from None
            if len(embeddings) != len(indices):
                raise UpstreamFailed(f"{who}: the provider returned {len(embeddings)} embeddings for {len(indices)} inputs")
            for i, embedding in zip(indices, embeddings):
                vectors[i] = _embedding(embedding, who)
            tokens[f"{self.adapter.prefix}/{model}"] += used

        calls = []
        for (model, options_json, key, kind), indices in groups.items():
            limit = self.adapter.batch_limit(kind)
            for start in range(0, len(indices), limit):
                calls.append(call(model, json.loads(options_json), key, indices[start : start + limit]))
        await asyncio.gather(*calls)
        return Embeddings(vectors, sum(tokens.values()), dict(tokens))
