"""The REST door in gateway mode: the operations endpoints are served here; every other request
goes to the upstream's REST port. JSON bodies of the endpoints that take vectors are searched
for inference objects, which are resolved and replaced by their vectors before forwarding;
usage is merged into the upstream's answer. Everything else goes through as it came."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Middleware

from vecinfer.api import ops
from vecinfer.api.auth import AccessKeys
from vecinfer.api.rest.auth import api_key_middleware
from vecinfer.api.rest.convert.vectors import inference_object
from vecinfer.api.rest.errors import error_middleware
from vecinfer.api.rest.json_input import Node
from vecinfer.domain.inference import InferenceInput
from vecinfer.domain.points import SparseVector
from vecinfer.domain.results import cache_hits
from vecinfer.service.context import RequestContext, credentials_from
from vecinfer.service.gateway import GatewayService

# Endpoints whose bodies can hold inference objects, and whether they store or query.
_WRITES = re.compile(r"^/collections/[^/]+/points(/vectors|/batch)?$")
_READS = re.compile(r"^/collections/[^/]+/points/(query(/batch|/groups)?|recommend(/batch|/groups)?"
                    r"|discover(/batch)?|search/groups)$")
# Subtrees that hold user data or conditions, never a vector slot.
_NOT_VECTORS = frozenset({"payload", "filter", "metadata", "defaults", "with_payload", "order_by", "formula"})
_INFERENCE_KEYS = frozenset({"text", "image", "object", "model", "options"})
_HOP_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection", "keep-alive", "te",
                          "upgrade", "proxy-authorization", "proxy-authenticate", "trailer"})


def _is_inference(value: Any) -> bool:
    return (isinstance(value, dict) and isinstance(value.get("model"), str) and set(value) <= _INFERENCE_KEYS
            and sum(key in value for key in ("text", "image", "object")) == 1)


def _slots(node: Any, path: str, out: list[tuple[InferenceInput, Any]]) -> None:
    entries = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in entries:
        if isinstance(key, str) and key in _NOT_VECTORS:
            continue
        child = f"{path}.{key}" if isinstance(key, str) else f"{path}[{key}]"
        if _is_inference(value):
            out.append((inference_object(Node(value, child.lstrip("."))), _setter(node, key)))
        else:
            _slots(value, child, out)


def _setter(container: Any, key: Any) -> Any:
    def put(vector: Any) -> None:
        if isinstance(vector, SparseVector):
            container[key] = {"indices": vector.indices.tolist(), "values": vector.values.tolist()}
        else:
            container[key] = vector.tolist()

    return put


def _forwarded_headers(request: web.Request, upstream_key: str) -> list[tuple[str, str]]:
    out = []
    for key, value in request.headers.items():
        lowered = key.lower()
        if lowered in _HOP_HEADERS or lowered.endswith("-api-key"):
            continue  # provider keys never leave vecinfer
        if upstream_key and lowered in ("api-key", "authorization"):
            continue
        out.append((key, value))
    if upstream_key:
        out.append(("api-key", upstream_key))
    return out


def _timeout(request: web.Request) -> float | None:
    raw = request.query.get("timeout", "")
    return float(raw) if raw.isascii() and raw.isdigit() and int(raw) > 0 else None


def _merged(body: bytes, usage: dict[str, int]) -> bytes:
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict):
        return body
    models = answer.setdefault("usage", {}).setdefault("inference", {}).setdefault("models", {})
    hits = cache_hits(usage)
    for model, tokens in usage.items():
        entry = models.setdefault(model, {"tokens": 0})
        entry["tokens"] += tokens
        if model in hits:
            entry["cache_hits"] = entry.get("cache_hits", 0) + hits[model]
    return json.dumps(answer, separators=(",", ":")).encode()


def build_gateway_app(gateway: GatewayService, max_request_bytes: int, keys: AccessKeys) -> web.Application:
    middlewares: list[Middleware] = [error_middleware]
    if keys.enabled:
        middlewares.insert(0, api_key_middleware(keys))
    app = web.Application(middlewares=middlewares, client_max_size=max_request_bytes)
    ops.add_routes(app, gateway)  # before the catch-all: these are this process's own

    async def forward(request: web.Request) -> web.Response:
        ctx = RequestContext.within("rest", credentials_from(list(request.headers.items())), _timeout(request))
        body = await request.read() if request.body_exists else None
        usage: dict[str, int] = {}
        store = bool(_WRITES.match(request.path)) and request.method in ("PUT", "POST")
        if body and request.method in ("PUT", "POST") and (store or _READS.match(request.path)):
            try:
                data = json.loads(body)
            except ValueError:
                data = None  # the upstream says what is wrong with it
            slots: list[tuple[InferenceInput, Any]] = []
            if data is not None:
                _slots(data, "", slots)
            if slots:
                operation = request.path.rsplit("/", 1)[1]
                answer = await gateway.resolve(ctx, operation, slots, "document" if store else "query")
                usage = answer.usage
                body = json.dumps(data, separators=(",", ":")).encode()
        result = await gateway.forward_http(ctx, request.method, request.path_qs,
                                            _forwarded_headers(request, gateway.settings.upstream_api_key), body)
        out = result.body
        if usage and result.status == 200:
            out = _merged(out, usage)
        return web.Response(status=result.status, body=out, headers=dict(result.headers))

    app.router.add_route("*", "/{tail:.*}", forward)
    return app
