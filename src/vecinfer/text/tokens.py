"""Text -> processed tokens, as Qdrant's tokenizer pipeline runs (`tokenizers/mod.rs`,
`TokensProcessor`): split, then per token fold, lowercase, drop stopwords, stem, check length.

Used by BM25 (`Document.options`) and by full-text payload indexes (`TextIndexParams`); the two
differ only in their defaults, which their own parsers fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import cast

from py_rust_stemmers import SnowballStemmer

from vecinfer.text.languages import ascii_folding_table
from vecinfer.text.unicode import non_whitespace_pattern, to_lowercase, word_pattern

# Tokenizers reproduced here ("multilingual" and "code" are not).
TOKENIZERS = ("word", "whitespace", "prefix")
# Qdrant's array-boundary sentinel: put between the values of an array in a phrase index,
# and dropped from query tokens.
SENTINEL = "\x00"
# Within ASCII, Rust's char::is_alphanumeric is exactly this; the full Unicode class is slower.
_ASCII_WORD = re.compile(r"[0-9A-Za-z]+")
# Processed forms of raw tokens are remembered up to this many entries per tokenizer.
_CACHE_LIMIT = 200_000


@dataclass(frozen=True)
class TokenRules:
    """How text becomes tokens. Defaults are those of a full-text index."""

    tokenizer: str = "word"  # one of TOKENIZERS
    lowercase: bool = True
    ascii_folding: bool = False
    stopwords: frozenset[str] = frozenset()  # already lowercased when `lowercase` is on
    stemmer: str | None = None  # Snowball language, or None
    min_token_len: int | None = None
    max_token_len: int | None = None


class UnknownStemmer(LookupError):
    """No Snowball stemmer for this language here (py_rust_stemmers lacks Armenian)."""


@cache
def snowball(language: str) -> SnowballStemmer:
    try:
        return SnowballStemmer(language)
    except Exception:
        raise UnknownStemmer(language) from None


def has_stemmer(language: str) -> bool:
    try:
        snowball(language)
    except UnknownStemmer:
        return False
    return True


def fold(token: str) -> str:
    """Lucene-style ASCII folding (Qdrant's `ascii_folding.rs`)."""
    if token.isascii():
        return token
    table = ascii_folding_table()
    return "".join(table.get(ord(ch), ch) for ch in token)


def split_words(text: str) -> list[str]:
    """`text.split(|c| !char::is_alphanumeric(c))` without the empty pieces."""
    if text.isascii():
        return _ASCII_WORD.findall(text)
    return word_pattern().findall(text)


def split_whitespace(text: str) -> list[str]:
    """Rust's `str::split_whitespace` (Unicode White_Space)."""
    return non_whitespace_pattern().findall(text)


class Tokenizer:
    """One rule set's tokenizer; remembers how it processed each raw token."""

    def __init__(self, config: TokenRules) -> None:
        self.config = config
        self._stem = snowball(config.stemmer).stem_word if config.stemmer else None
        # Raw token -> processed token, or False when it is dropped.
        self._processed: dict[str, str | bool] = {}

    def _split(self, text: str) -> list[str]:
        if self.config.tokenizer == "whitespace":
            return split_whitespace(text)
        return split_words(text)

    def _processed_tokens(self, raw: list[str]) -> list[str]:
        """`_process(token, check_max=True)` of each raw token, dropped ones left out;
        remembered, since corpora repeat their vocabulary."""
        cache = self._processed
        found = list(map(cache.get, raw))  # None: not seen yet
        if None in found:  # (None == False is false)
            for i, token in enumerate(raw):
                if found[i] is None:
                    if len(cache) >= _CACHE_LIMIT:
                        cache.clear()
                    processed = self._process(token, True)
                    found[i] = cache[token] = False if processed is None else processed
        return cast("list[str]", [t for t in found if t is not False])

    def _normalise(self, token: str) -> str:
        if self.config.ascii_folding:
            token = fold(token)
        if self.config.lowercase:
            token = to_lowercase(token)
        return token

    def _process(self, token: str, check_max: bool) -> str | None:
        if not token:
            return None
        token = self._normalise(token)
        if token in self.config.stopwords:
            return None
        if self._stem is not None:
            token = self._stem(token)
        length = len(token)
        if self.config.min_token_len is not None and length < self.config.min_token_len:
            return None
        if check_max and self.config.max_token_len is not None and length > self.config.max_token_len:
            return None
        return token

    def document_tokens(self, text: str) -> list[str]:
        raw = self._split(text)
        if self.config.tokenizer != "prefix":
            return self._processed_tokens(raw)
        # Qdrant emits an empty n-gram first when min_token_len is 0; no query token is ever
        # empty, and it would stand before every word's n-grams in a phrase too, so it can
        # change no match: it is left out.
        lowest = self.config.min_token_len or 1
        highest = self.config.max_token_len
        out: list[str] = []
        for r in raw:
            word = self._process(r, False)
            if word is None:
                continue
            top = len(word) if highest is None else min(len(word), highest)
            out.extend(word[:n] for n in range(lowest, top + 1))
        return out

    def query_tokens(self, text: str) -> list[str]:
        raw = self._split(text)
        if self.config.tokenizer != "prefix":
            return [t for t in self._processed_tokens(raw) if t != SENTINEL]
        out: list[str] = []
        for r in raw:
            if not r:
                continue
            token = self._normalise(r)
            if self._stem is not None:
                token = self._stem(token)
            if self.config.min_token_len is not None and len(token) < self.config.min_token_len:
                continue
            if self.config.max_token_len is not None:
                token = token[: self.config.max_token_len]
            if token != SENTINEL:
                out.append(token)
        return out
