"""Rust's char rules (is_alphanumeric, is_whitespace, str::to_lowercase) from shipped tables.

Python's own Unicode tables are older than Rust's and differ on recent characters, so the
token boundaries and lower-casing Qdrant applies are reproduced from data/unicode_tables.json.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

_DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def _tables() -> dict:
    return json.loads((_DATA / "unicode_tables.json").read_text())


def _char_class(ranges: Iterable[Sequence[int]]) -> str:
    return "".join(f"\\U{a:08x}-\\U{b:08x}" if a != b else f"\\U{a:08x}" for a, b in ranges)


@lru_cache(maxsize=1)
def word_pattern() -> re.Pattern:
    """Runs of chars for which Rust's char::is_alphanumeric holds."""
    return re.compile(f"[{_char_class(_tables()['alphanumeric_ranges'])}]+")


@lru_cache(maxsize=1)
def non_whitespace_pattern() -> re.Pattern:
    """Runs of chars that are not White_Space (Rust's str::split_whitespace)."""
    whitespace = _char_class((c, c) for c in _tables()["whitespace"])
    return re.compile(f"[^{whitespace}]+")


@lru_cache(maxsize=1)
def _lower_map() -> dict[int, str]:
    return {int(k, 16): v for k, v in _tables()["to_lowercase"].items()}


class _RangeSet:
    def __init__(self, ranges: Sequence[Sequence[int]]) -> None:
        self._starts = [a for a, _ in ranges]
        self._ends = [b for _, b in ranges]

    def __contains__(self, code: int) -> bool:
        i = bisect.bisect_right(self._starts, code) - 1
        return i >= 0 and code <= self._ends[i]


@lru_cache(maxsize=1)
def _cased() -> _RangeSet:
    return _RangeSet(_tables()["final_sigma_cased_ranges"])


@lru_cache(maxsize=1)
def _case_ignorable() -> _RangeSet:
    return _RangeSet(_tables()["final_sigma_case_ignorable_ranges"])


_CAPITAL_SIGMA = 0x03A3


def _is_final_sigma(text: str, i: int) -> bool:
    """Unicode Final_Sigma: a cased letter before (skipping case-ignorables), none after."""
    cased, ignorable = _cased(), _case_ignorable()
    j = i - 1
    while j >= 0 and ord(text[j]) in ignorable:
        j -= 1
    if j < 0 or ord(text[j]) not in cased:
        return False
    j = i + 1
    while j < len(text) and ord(text[j]) in ignorable:
        j += 1
    return j >= len(text) or ord(text[j]) not in cased


def to_lowercase(text: str) -> str:
    if text.isascii():
        return text.lower()
    table = _lower_map()
    out = []
    for i, ch in enumerate(text):
        code = ord(ch)
        if code == _CAPITAL_SIGMA:
            out.append("\u03c2" if _is_final_sigma(text, i) else "\u03c3")
        else:
            out.append(table.get(code, ch))
    return "".join(out)
