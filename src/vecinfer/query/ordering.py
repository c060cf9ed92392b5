"""`order_by`: points ordered by a payload value, one entry per numeric value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from vecinfer.storage.filters import leaf_values

# Index types (and settings) that let Qdrant order by a key.
RANGE_INDEXES = ("integer", "float", "datetime")


def to_micros(text: str) -> int | None:
    """An RFC 3339 datetime (or date) as microseconds since the epoch, UTC when no zone is given."""
    try:
        parsed = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def order_values(payload: dict[str, Any], key: str) -> list[int | float]:
    """The usable values at `key` (arrays flattened one level): numbers, and datetime strings as
    microseconds; bools and other strings are not usable. Repeated values count once."""
    out: list[int | float] = []
    for value in leaf_values(payload, key):
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            usable: int | float | None = value
        elif isinstance(value, str):
            usable = to_micros(value)
        else:
            usable = None
        if usable is not None and usable not in out:
            out.append(usable)
    return out


def start_value(start_from: float | str | None) -> float | None:
    if start_from is None or isinstance(start_from, (int, float)):
        return start_from
    micros = to_micros(start_from)
    return float(micros) if micros is not None else None
