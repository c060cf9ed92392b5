"""Small HTTP servers on loopback that speak the providers' published embeddings APIs.

Each checks the request as the provider documents it (path, auth header, JSON fields and
their types), records what it got, and answers in the provider's format with deterministic
vectors. Model names starting with `test-` script failures (see `_scripted`).
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from dataclasses import dataclass, field

import numpy as np
from aiohttp import web

VALID_KEY = "sk-test-valid-key"
DIMENSIONS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "embed-v4.0": 1536,
              "jina-clip-v2": 1024, "jina-embeddings-v3": 1024, "mistralai/mistral-embed-2312": 1024}
DEFAULT_DIMENSION = 256


def vector_for(text: str, dimension: int) -> list[float]:
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dimension)
    return (v / np.linalg.norm(v)).astype(np.float32).tolist()


@dataclass
class Recorded:
    provider: str
    path: str
    authorization: str
    body: dict
    started: float
    finished: float = 0.0


@dataclass
class Emulator:
    calls: list[Recorded] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    port: int = 0

    def url(self, provider: str) -> str:
        return {"openai": f"http://127.0.0.1:{self.port}/openai/v1",
                "cohere": f"http://127.0.0.1:{self.port}/cohere/v2",
                "jina": f"http://127.0.0.1:{self.port}/jina/v1",
                "openrouter": f"http://127.0.0.1:{self.port}/openrouter/api/v1"}[provider]

    def env(self) -> dict[str, str]:
        return {"VECINFER_OPENAI_BASE_URL": self.url("openai"), "VECINFER_COHERE_BASE_URL": self.url("cohere"),
                "VECINFER_JINA_BASE_URL": self.url("jina"), "VECINFER_OPENROUTER_BASE_URL": self.url("openrouter")}

    def of(self, provider: str) -> list[Recorded]:
        return [c for c in self.calls if c.provider == provider]

    def clear(self) -> None:
        self.calls.clear()
        self.attempts.clear()


def _error(provider: str, status: int, message: str, headers: dict | None = None) -> web.Response:
    body = {"openai": {"error": {"message": message, "type": "invalid_request_error"}},
            "openrouter": {"error": {"message": message, "code": status}},
            "cohere": {"message": message},
            "jina": {"detail": message}}[provider]
    return web.json_response(body, status=status, headers=headers)


def _check_fields(body: dict, allowed: set[str], required: dict[str, type]) -> str | None:
    unknown = set(body) - allowed
    if unknown:
        return f"Unrecognized request argument supplied: {sorted(unknown)[0]}"
    for name, kind in required.items():
        if not isinstance(body.get(name), kind):
            return f"'{name}' is required and must be {kind.__name__}"
    return None


def _dimension(model: str, body: dict, option: str) -> int:
    return int(body.get(option) or DIMENSIONS.get(model, DEFAULT_DIMENSION))


class _App:
    def __init__(self, emulator: Emulator):
        self.e = emulator

    async def _scripted(self, provider: str, model: str) -> web.Response | None:
        attempt = self.e.attempts[model] = self.e.attempts.get(model, 0) + 1
        if model == "test-429-once" and attempt == 1:
            return _error(provider, 429, "Rate limit reached", {"Retry-After": "1"})
        if model == "test-429":
            return _error(provider, 429, "Rate limit reached", {"Retry-After": "1"})
        if model == "test-500":
            return _error(provider, 500, "The server had an error")
        if model == "test-400":
            return _error(provider, 400, "This model's maximum context length is 8192 tokens")
        if model == "test-not-numbers":  # a broken provider: well-formed JSON, no embedding in it
            return web.json_response({"object": "list", "model": model, "usage": {"prompt_tokens": 1, "total_tokens": 1},
                                      "data": [{"object": "embedding", "index": 0, "embedding": ["a", None]}]})
        if model == "test-slow":
            await asyncio.sleep(5)
        if model == "test-half-second":
            await asyncio.sleep(0.5)
        return None

    async def _common(self, request: web.Request, provider: str):
        authorization = request.headers.get("Authorization", "")
        try:
            body = await request.json()
        except ValueError:
            return None, _error(provider, 400, "body is not JSON")
        record = Recorded(provider, request.path, authorization, body, time.monotonic())
        self.e.calls.append(record)
        if request.content_type != "application/json":
            return None, _error(provider, 400, "Content-Type must be application/json")
        if authorization != f"Bearer {VALID_KEY}":
            return None, _error(provider, 401, "Incorrect API key provided")
        scripted = await self._scripted(provider, str(body.get("model")))
        record.finished = time.monotonic()
        if scripted is not None:
            return None, scripted
        return (body, record), None

    async def openai(self, request: web.Request, provider: str = "openai") -> web.Response:
        parsed, failure = await self._common(request, provider)
        if failure:
            return failure
        body, _ = parsed
        problem = _check_fields(body, {"input", "model", "encoding_format", "dimensions", "user"}, {"model": str, "input": list})
        if problem or body.get("encoding_format", "float") != "float" or not all(isinstance(t, str) for t in body["input"]):
            return _error(provider, 400, problem or "input must be a list of strings, encoding_format float")
        dimension = _dimension(body["model"], body, "dimensions")
        data = [{"object": "embedding", "index": i, "embedding": vector_for(t, dimension)} for i, t in enumerate(body["input"])]
        tokens = sum(len(t.split()) for t in body["input"])
        return web.json_response({"object": "list", "data": data, "model": body["model"],
                                  "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    async def openrouter(self, request: web.Request) -> web.Response:
        return await self.openai(request, "openrouter")

    async def cohere(self, request: web.Request) -> web.Response:
        parsed, failure = await self._common(request, "cohere")
        if failure:
            return failure
        body, _ = parsed
        allowed = {"model", "input_type", "texts", "images", "inputs", "embedding_types", "output_dimension", "max_tokens", "truncate"}
        problem = _check_fields(body, allowed, {"model": str, "input_type": str, "embedding_types": list})
        if problem:
            return _error("cohere", 400, problem)
        if body["input_type"] not in ("search_document", "search_query", "classification", "clustering", "image"):
            return _error("cohere", 400, f"invalid input_type {body['input_type']}")
        if ("texts" in body) == ("images" in body):
            return _error("cohere", 400, "exactly one of texts or images must be given")
        if len(body.get("texts", [])) > 96 or len(body.get("images", [])) > 1:
            return _error("cohere", 400, "too many inputs: at most 96 texts or 1 image")
        if any(not str(i).startswith("data:image/") for i in body.get("images", [])):
            return _error("cohere", 400, "images must be base64 data URIs")
        dimension = _dimension(body["model"], body, "output_dimension")
        inputs = body.get("texts") or body.get("images")
        return web.json_response({
            "id": "emb-1", "response_type": "embeddings_by_type",
            "embeddings": {"float": [vector_for(t, dimension) for t in inputs]},
            "texts": body.get("texts", []),
            "meta": {"api_version": {"version": "2"}, "billed_units": {"input_tokens": sum(len(t.split()) for t in body.get("texts", [])),
                                                                      "image_tokens": 100 * len(body.get("images", []))}},
        })

    async def jina(self, request: web.Request) -> web.Response:
        parsed, failure = await self._common(request, "jina")
        if failure:
            return failure
        body, _ = parsed
        allowed = {"model", "input", "task", "dimensions", "normalized", "embedding_type", "late_chunking", "truncate"}
        problem = _check_fields(body, allowed, {"model": str, "input": list})
        if problem:
            return _error("jina", 422, problem)
        texts = []
        for item in body["input"]:
            if isinstance(item, str):
                texts.append(item)
            elif isinstance(item, dict) and len(item) == 1 and ("text" in item or "image" in item):
                texts.append(item.get("text") or item.get("image"))
            else:
                return _error("jina", 422, "input items must be strings or {text} / {image} objects")
        dimension = _dimension(body["model"], body, "dimensions")
        data = [{"object": "embedding", "index": i, "embedding": vector_for(t, dimension)} for i, t in enumerate(texts)]
        return web.json_response({"model": body["model"], "object": "list", "data": data,
                                  "usage": {"total_tokens": 7 * len(texts), "prompt_tokens": 7 * len(texts)}})

    async def image(self, request: web.Request) -> web.Response:
        import io

        from PIL import Image
        buffer = io.BytesIO()
        Image.new("RGB", (32, 32), "green").save(buffer, format="PNG")
        return web.Response(body=buffer.getvalue(), content_type="image/png")


def start() -> tuple[Emulator, callable]:
    emulator = Emulator()
    app_handlers = _App(emulator)
    app = web.Application()
    app.router.add_post("/openai/v1/embeddings", app_handlers.openai)
    app.router.add_post("/openrouter/api/v1/embeddings", app_handlers.openrouter)
    app.router.add_post("/cohere/v2/embed", app_handlers.cohere)
    app.router.add_post("/jina/v1/embeddings", app_handlers.jina)
    app.router.add_get("/img.png", app_handlers.image)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(app, access_log=None)

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        emulator.port = site._server.sockets[0].getsockname()[1]
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    return emulator, stop
