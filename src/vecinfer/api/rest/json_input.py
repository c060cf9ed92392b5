"""Reading a parsed JSON body with the path of every value, so that a wrong type or an
unknown key is answered with where it is: `points[3].vector: expected ...`."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from typing import Any, NoReturn

import numpy as np

from vecinfer.domain.errors import ValidationFailed, clip


class JsonFormatError(Exception):
    """The body is not the JSON this endpoint takes (HTTP 400, Qdrant's "Format error")."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path or 'body'}: {problem}")
        self.path = path
        self.problem = problem


def describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the string {shown!r}"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return "an object"


class Node:
    """One value of the body and its path."""

    __slots__ = ("value", "path")

    def __init__(self, value: Any, path: str = "") -> None:
        self.value = value
        self.path = path

    def child(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        key = clip(key, 40)
        return f"{self.path}.{key}" if self.path else key

    def fail(self, expected: str) -> NoReturn:
        raise JsonFormatError(self.path, f"expected {expected}, got {describe(self.value)}")

    def invalid(self, problem: str) -> NoReturn:
        raise ValidationFailed(self.path or "body", problem)

    # ---------------------------------------------------------------- kinds

    @property
    def is_null(self) -> bool:
        return self.value is None

    @property
    def is_object(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_list(self) -> bool:
        return isinstance(self.value, list)

    @property
    def is_string(self) -> bool:
        return isinstance(self.value, str)

    @property
    def is_integer(self) -> bool:
        return isinstance(self.value, int) and not isinstance(self.value, bool)

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, (int, float)) and not isinstance(self.value, bool)

    def fields(self, allowed: Collection[str], expected: str = "an object") -> Fields:
        if not isinstance(self.value, dict):
            self.fail(expected)
        for key in self.value:
            if key not in allowed:
                raise JsonFormatError(
                    self.child(key), f"unknown field `{clip(key)}`, expected one of: {', '.join(sorted(allowed))}"
                )
        return Fields(self)

    def items(self, expected: str = "a list") -> list[Node]:
        if not isinstance(self.value, list):
            self.fail(expected)
        return [Node(v, self.child(i)) for i, v in enumerate(self.value)]

    def one_or_many(self) -> list[Node]:
        """A list, or a single value standing for a list of one (Qdrant allows both)."""
        return self.items() if isinstance(self.value, list) else [self]

    def entries(self, expected: str = "an object") -> Iterator[tuple[str, Node]]:
        if not isinstance(self.value, dict):
            self.fail(expected)
        for key, value in self.value.items():
            yield key, Node(value, self.child(key))

    def string(self) -> str:
        if not isinstance(self.value, str):
            self.fail("a string")
        return self.value

    def boolean(self) -> bool:
        if not isinstance(self.value, bool):
            self.fail("true or false")
        return self.value

    def integer(self, minimum: int | None = 0, maximum: int | None = None) -> int:
        if not self.is_integer:
            self.fail("an unsigned integer" if minimum == 0 else "an integer")
        value: int = self.value
        if minimum is not None and value < minimum:
            self.fail(f"an integer of at least {minimum}")
        if maximum is not None and value > maximum:
            self.fail(f"an integer of at most {maximum}")
        return value

    def number(self) -> float:
        if not self.is_number:
            self.fail("a number")
        try:
            return float(self.value)
        except OverflowError:
            raise JsonFormatError(self.path, "number out of range (it does not fit a 64-bit float)") from None

    def float32(self) -> float:
        """A number the server keeps as f32 (as the gRPC door's `float` fields are), so that both
        doors compare with the same value."""
        return float(np.float32(self.number()))

    def numbers(self, expected: str = "a list of numbers") -> np.ndarray:
        """A list of numbers as float32, checked in one pass by numpy."""
        if not isinstance(self.value, list):
            self.fail(expected)
        try:
            array = np.asarray(self.value)
        except ValueError:  # ragged nesting
            self.fail(expected)
        if array.ndim != 1 or (array.size and array.dtype.kind not in "iuf"):
            self.fail(expected)
        return array.astype(np.float32)


class Fields:
    """The keys of one JSON object, read by name."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node

    def get(self, *names: str) -> Node | None:
        """The first of `names` (a field and its aliases) that is present and not null."""
        data: dict[str, Any] = self.node.value
        for name in names:
            value = data.get(name)
            if value is not None:
                return Node(value, self.node.child(name))
        return None

    def require(self, name: str, *aliases: str) -> Node:
        found = self.get(name, *aliases)
        if found is None:
            raise JsonFormatError(self.node.path, f"missing field `{name}`")
        return found

    def has(self, name: str) -> bool:
        return self.node.value.get(name) is not None
