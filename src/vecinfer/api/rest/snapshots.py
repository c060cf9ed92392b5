"""REST handlers for snapshots: collection and full-storage snapshots, downloads (the file
itself, no envelope), recovery from a location and from an upload (multipart, streamed)."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import BodyPartReader, web

from vecinfer.api.rest import request as req
from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.api.rest.responses import envelope
from vecinfer.domain.errors import InvalidArgument, clip
from vecinfer.domain.results import Answer
from vecinfer.domain.snapshots import PRIORITIES, RecoverRequest, SnapshotDescription, SnapshotFile
from vecinfer.service.context import RequestContext
from vecinfer.service.snapshots import SnapshotOperations

_UPLOAD_PART = "snapshot"
_READ_CHUNK = 1 << 20


def _description(description: SnapshotDescription) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": description.name,
        "creation_time": description.creation_time.isoformat() if description.creation_time else None,
        "size": description.size,
    }
    if description.checksum is not None:
        out["checksum"] = description.checksum
    return out


def _context(request: web.Request) -> tuple[RequestContext, bool]:
    """The request's context and `wait`, which snapshot operations do by default (points writes
    do not)."""
    params = req.query_params(request)
    return req.context(request, params), params.wait if "wait" in request.query else True


def _done(answer: Answer[Any], result: Any) -> web.Response:
    """The envelope, or 202 `accepted` when the operation went on in the background."""
    if answer.result is None:
        body = {"status": "accepted", "time": answer.seconds}
        return web.Response(status=202, text=json.dumps(body), content_type="application/json")
    return envelope(answer, result)


def _download(answer: Answer[SnapshotFile]) -> web.StreamResponse:
    snapshot = answer.result
    ascii_name = snapshot.name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    disposition = f'attachment; filename="{ascii_name}"'
    if ascii_name != snapshot.name:
        disposition += f"; filename*=UTF-8''{urllib.parse.quote(snapshot.name, safe='')}"
    return web.FileResponse(snapshot.path, headers={"Content-Type": "application/octet-stream",
                                                    "Content-Disposition": disposition})


def _recover_request(body: Node) -> RecoverRequest:
    fields = body.fields({"location", "priority", "checksum", "api_key"})
    priority = fields.get("priority")
    checksum = fields.get("checksum")
    api_key = fields.get("api_key")
    if priority is not None and priority.string() not in PRIORITIES:
        raise JsonFormatError(priority.path, f"unknown variant {clip(priority.value, 40)!r}, expected one of "
                                             f"{', '.join(PRIORITIES)}")
    return RecoverRequest(
        location=fields.require("location").string(),
        priority=priority.string() if priority is not None else None,
        checksum=checksum.string() if checksum is not None else None,
        api_key=api_key.string() if api_key is not None else None,
    )


def _upload_priority(request: web.Request) -> str | None:
    priority = request.query.get("priority")
    if priority is not None and priority not in PRIORITIES:
        raise InvalidArgument(f"Deserialize error in query parameters: `priority`: unknown variant {clip(priority, 40)!r}, "
                              f"expected one of {', '.join(PRIORITIES)}")
    return priority


async def _uploaded_chunks(request: web.Request) -> AsyncIterator[bytes]:
    """The bytes of the multipart part `snapshot`, as they arrive (other parts are skipped)."""
    if not request.content_type.startswith("multipart/"):
        raise InvalidArgument(f"Bad request: the upload must be multipart/form-data with the archive in a part named "
                              f"`{_UPLOAD_PART}`, not {clip(request.content_type, 60) or 'no content type'}")
    try:
        reader = await request.multipart()
        while True:
            part = await reader.next()
            if part is None:
                raise InvalidArgument(f"Bad request: the multipart body has no part named `{_UPLOAD_PART}`: send the "
                                      f"archive as the file part `{_UPLOAD_PART}`")
            if isinstance(part, BodyPartReader) and part.name == _UPLOAD_PART:
                while chunk := await part.read_chunk(_READ_CHUNK):
                    yield chunk
                return
            await part.release()
    except (ValueError, AssertionError, aiohttp.ClientPayloadError) as exc:
        raise InvalidArgument(f"Bad request: the multipart body is malformed ({type(exc).__name__}): send "
                              f"multipart/form-data with the archive in the part `{_UPLOAD_PART}`") from None


def add_routes(app: web.Application, snapshots: SnapshotOperations) -> None:
    def collection(request: web.Request) -> str:
        return request.match_info["name"]

    def snapshot(request: web.Request) -> str:
        return request.match_info["snapshot"]

    async def create(request: web.Request) -> web.Response:
        ctx, wait = _context(request)
        answer = await snapshots.create(ctx, collection(request), wait)
        return _done(answer, _description(answer.result) if answer.result else None)

    async def list_snapshots(request: web.Request) -> web.Response:
        ctx, _ = _context(request)
        answer = await snapshots.list(ctx, collection(request))
        return envelope(answer, [_description(d) for d in answer.result])

    async def download(request: web.Request) -> web.StreamResponse:
        ctx, _ = _context(request)
        return _download(await snapshots.file(ctx, collection(request), snapshot(request)))

    async def delete(request: web.Request) -> web.Response:
        ctx, wait = _context(request)
        answer = await snapshots.delete(ctx, collection(request), snapshot(request), wait)
        return _done(answer, answer.result)

    async def recover(request: web.Request) -> web.Response:
        ctx, wait = _context(request)
        answer = await snapshots.recover(ctx, collection(request), _recover_request(await req.body(request)), wait)
        return _done(answer, answer.result)

    async def upload(request: web.Request) -> web.Response:
        ctx, wait = _context(request)
        answer = await snapshots.upload(ctx, collection(request), _uploaded_chunks(request), request.content_length,
                                        _upload_priority(request), request.query.get("checksum"), wait)
        return _done(answer, answer.result)

    async def create_full(request: web.Request) -> web.Response:
        ctx, wait = _context(request)
        answer = await snapshots.create_full(ctx, wait)
        return _done(answer, _description(answer.result) if answer.result else None)

    async def list_full(request: web.Request) -> web.Response:
        ctx, _ = _context(request)
        answer = await snapshots.list_full(ctx)
        return envelope(answer, [_description(d) for d in answer.result])

    async def download_full(request: web.Request) -> web.StreamResponse:
        ctx, _ = _context(request)
        return _download(await snapshots.file_full(ctx, snapshot(request)))

    async def delete_full(request: web.Request) -> web.Response:
        ctx, wait = _context(request)
        answer = await snapshots.delete_full(ctx, snapshot(request), wait)
        return _done(answer, answer.result)

    base = "/collections/{name:[^/]+}/snapshots"
    app.router.add_post(base, create)
    app.router.add_get(base, list_snapshots)
    app.router.add_put(f"{base}/recover", recover)
    # Uploads are read part by part (request.multipart()), which the body bound
    # (client_max_size) does not apply to; VECINFER_SNAPSHOT_MAX_BYTES bounds them instead.
    app.router.add_post(f"{base}/upload", upload)
    app.router.add_get(base + "/{snapshot:[^/]+}", download)
    app.router.add_delete(base + "/{snapshot:[^/]+}", delete)
    app.router.add_post("/snapshots", create_full)
    app.router.add_get("/snapshots", list_full)
    app.router.add_get("/snapshots/{snapshot:[^/]+}", download_full)
    app.router.add_delete("/snapshots/{snapshot:[^/]+}", delete_full)
