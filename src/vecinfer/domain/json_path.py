"""JSON paths into payloads, as Qdrant writes them: `a.b`, `"a.b"` (a key with a dot),
`arr[]` (every element), `arr[0]` (one element)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from vecinfer.domain.errors import InvalidArgument, clip


@dataclass(frozen=True)
class Step:
    key: str | None = None  # an object key
    index: int | None = None  # one array element
    # Neither: every array element (`[]`).

    @property
    def every(self) -> bool:
        return self.key is None and self.index is None


EVERY = Step()


@lru_cache(maxsize=4096)
def parse(path: str) -> tuple[Step, ...]:
    steps: list[Step] = []
    i, n = 0, len(path)
    while i < n:
        if path[i] == '"':
            end = path.find('"', i + 1)
            if end < 0:
                raise InvalidArgument(f"JSON path {clip(path)!r} has an unclosed quote")
            steps.append(Step(key=path[i + 1:end]))
            i = end + 1
        elif path[i] == "[":
            end = path.find("]", i)
            if end < 0:
                raise InvalidArgument(f"JSON path {clip(path)!r} has an unclosed `[`")
            inside = path[i + 1:end].strip()
            if inside == "":
                steps.append(EVERY)
            elif inside.isascii() and inside.isdigit():
                steps.append(Step(index=int(inside)))
            else:
                raise InvalidArgument(f"JSON path {clip(path)!r}: `[{clip(inside, 20)}]` is not `[]` or an index")
            i = end + 1
        elif path[i] == ".":
            i += 1
        else:
            end = i
            while end < n and path[end] not in '.["':
                end += 1
            steps.append(Step(key=path[i:end]))
            i = end
    if not steps:
        raise InvalidArgument("JSON path is empty")
    return tuple(steps)


def is_prefix(prefix: tuple[Step, ...], path: tuple[Step, ...]) -> bool:
    return len(prefix) <= len(path) and path[:len(prefix)] == prefix
