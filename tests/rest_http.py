"""A tiny HTTP client for REST tests: JSON in, (status, headers, parsed body) out."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def call(port: int, method: str, path: str, body: Any = None, raw: bytes | None = None,
         headers: dict[str, str] | None = None, timeout: float = 60) -> tuple[int, dict[str, str], Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, response_headers, text = response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        status, response_headers, text = error.code, dict(error.headers), error.read()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text.decode(errors="replace")
    return status, response_headers, parsed
