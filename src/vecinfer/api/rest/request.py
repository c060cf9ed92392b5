"""What a REST handler reads besides the path: the JSON body, query parameters, headers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from vecinfer.api.rest.json_input import JsonFormatError, Node
from vecinfer.domain.errors import InvalidArgument
from vecinfer.service.context import RequestContext, credentials_from


def _query_error(name: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"Deserialize error in query parameters: `{name}`: {problem}")


@dataclass(frozen=True)
class QueryParams:
    wait: bool = False
    timeout: int | None = None


def query_params(request: web.Request) -> QueryParams:
    """`wait`, `timeout`, and the cluster parameters a single node accepts and needs not act on
    (`ordering`, `consistency`), checked for shape."""
    q = request.query
    wait = False
    if "wait" in q:
        text = q["wait"].lower()
        if text not in ("true", "false", ""):
            raise _query_error("wait", f"expected true or false, got {q['wait']!r}")
        wait = text == "true"
    timeout = None
    if "timeout" in q:
        if not (q["timeout"].isascii() and q["timeout"].isdigit()) or int(q["timeout"]) < 1:
            raise _query_error("timeout", f"expected a whole number of seconds of at least 1, got {q['timeout']!r}")
        timeout = int(q["timeout"])
    if "ordering" in q and q["ordering"] not in ("weak", "medium", "strong"):
        raise _query_error("ordering", f"expected weak, medium or strong, got {q['ordering']!r}")
    if "consistency" in q and q["consistency"] not in ("", "majority", "quorum", "all"):
        if not (q["consistency"].isascii() and q["consistency"].isdigit()) or int(q["consistency"]) < 1:
            raise _query_error("consistency", f"expected a number of at least 1, majority, quorum or all, "
                                              f"got {q['consistency']!r}")
    return QueryParams(wait, timeout)


def context(request: web.Request, params: QueryParams) -> RequestContext:
    """Provider keys in headers (`openai-api-key: ...`), and the `timeout` parameter as deadline."""
    return RequestContext.within("rest", credentials_from(list(request.headers.items())), params.timeout,
                                 params.timeout)


def _no_constants(name: str) -> None:
    raise JsonFormatError("", f"{name} is not a JSON number")


# A `\uD800`-`\uDFFF` escape: JSON allows it only as half of a pair, which Python joins into one
# character; a lone one would decode to a string that is not Unicode (Qdrant refuses it).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def _lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _parse(raw: bytes) -> Node:
    try:
        value = json.loads(raw, parse_constant=_no_constants)
        if _SURROGATE_ESCAPE.search(raw) and _lone_surrogate(value):
            raise JsonFormatError("", "not valid JSON: a lone surrogate escape (\\uD800-\\uDFFF without its pair) "
                                      "is not a Unicode character")
        return Node(value)
    except UnicodeDecodeError:
        raise JsonFormatError("", "the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise JsonFormatError("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonFormatError("", "the JSON is nested too deeply") from None


async def body(request: web.Request) -> Node:
    node = await optional_body(request)
    if node is None:
        raise JsonFormatError("", "the request body is empty: this endpoint takes a JSON object")
    return node


async def optional_body(request: web.Request) -> Node | None:
    raw = await request.read()
    return _parse(raw) if raw.strip() else None
