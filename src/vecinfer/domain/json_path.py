"""JSON paths into payloads, as Qdrant writes them (spec §1): a first key, then any number of
steps `.key`, `."quoted key"`, `[N]` (one element) or `[]` (every element).

A bare key is one or more alphanumeric (Unicode), `_` or `-` characters; any other key must be
quoted (`"a.b"`). A quoted key runs to the next `"`, has no escaping and may be empty. Paths
such as `a..b`, `a.`, `.a`, `[0]`, `a[x]`, `a[-1]`, `a b` and the empty path are invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from vecinfer.domain.errors import InvalidArgument, clip

_U64_MAX = (1 << 64) - 1


@dataclass(frozen=True)
class Step:
    key: str | None = None  # an object key
    index: int | None = None  # one array element
    # Neither: every array element (`[]`).

    @property
    def every(self) -> bool:
        return self.key is None and self.index is None


EVERY = Step()


def _invalid(path: str, why: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid JSON path {clip(path)!r}: {why} (write keys as `a.b`, `\"a.b\"`, `a[0]` or `a[]`)")


def _bare(ch: str) -> bool:
    return ch.isalnum() or ch in "_-"


@lru_cache(maxsize=4096)
def parse(path: str) -> tuple[Step, ...]:
    if not path:
        raise InvalidArgument("JSON path is empty")
    steps: list[Step] = []
    i, n = 0, len(path)
    while True:
        # A key, quoted or bare.
        if path[i] == '"':
            end = path.find('"', i + 1)
            if end < 0:
                raise _invalid(path, "unclosed quote")
            steps.append(Step(key=path[i + 1:end]))
            i = end + 1
        else:
            end = i
            while end < n and _bare(path[end]):
                end += 1
            if end == i:
                raise _invalid(path, f"expected a key at position {i}")
            steps.append(Step(key=path[i:end]))
            i = end
        # Then any number of `[N]` / `[]`.
        while i < n and path[i] == "[":
            end = path.find("]", i)
            if end < 0:
                raise _invalid(path, "unclosed `[`")
            inside = path[i + 1:end]
            if inside == "":
                steps.append(EVERY)
            elif inside.isascii() and inside.isdigit() and int(inside) <= _U64_MAX:
                steps.append(Step(index=int(inside)))
            else:
                raise _invalid(path, f"`[{clip(inside, 20)}]` is not `[]` or an index")
            i = end + 1
        if i == n:
            return tuple(steps)
        if path[i] != "." or i + 1 == n:
            raise _invalid(path, f"unexpected {path[i]!r} at position {i}")
        i += 1


def is_prefix(prefix: tuple[Step, ...], path: tuple[Step, ...]) -> bool:
    return len(prefix) <= len(path) and path[:len(prefix)] == prefix


def values_at(node: Any, steps: tuple[Step, ...]) -> list[Any]:
    """Every value the path reaches, arrays at the end kept as they are (Qdrant's "raw" values).

    A key step works only on objects, `[N]` only on arrays (nothing if out of range), `[]`
    visits every element, and a step on the wrong type reaches nothing."""
    current = [node]
    for step in steps:
        following: list[Any] = []
        key, index = step.key, step.index
        if key is not None:
            for value in current:
                if isinstance(value, dict) and key in value:
                    following.append(value[key])
        elif index is not None:
            for value in current:
                if isinstance(value, list) and index < len(value):
                    following.append(value[index])
        else:
            for value in current:
                if isinstance(value, list):
                    following.extend(value)
        if not following:
            return following
        current = following
    return current
