"""Text -> processed tokens, in Qdrant's order: split, fold, lowercase, stopwords, stem, length."""

from __future__ import annotations

import re
from functools import cache

from py_rust_stemmers import SnowballStemmer

from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.bm25.config import Bm25Config
from vecinfer.inference.bm25.languages import ascii_folding_table
from vecinfer.inference.bm25.unicode import non_whitespace_pattern, to_lowercase, word_pattern

# Qdrant drops this token on the query side (its array-boundary sentinel).
_SENTINEL = "\x00"
# Within ASCII, Rust's char::is_alphanumeric is exactly this; the full Unicode class is slower.
_ASCII_WORD = re.compile(r"[0-9A-Za-z]+")
# Processed forms of raw tokens are remembered up to this many entries per option set.
_CACHE_LIMIT = 200_000


@cache
def stemmer(language: str) -> SnowballStemmer:
    try:
        return SnowballStemmer(language)
    except (ValueError, Exception):
        raise InvalidArgument(
            f'Invalid BM25 config: no Snowball stemmer for {language!r} in vecinfer; set "stemmer": {{"type": "none"}}'
        ) from None


def _fold(token: str) -> str:
    if token.isascii():
        return token
    table = ascii_folding_table()
    return "".join(table.get(ord(ch), ch) for ch in token)


class Tokenizer:
    def __init__(self, config: Bm25Config) -> None:
        self.config = config
        self._stem = stemmer(config.stemmer).stem_word if config.stemmer else None
        self._processed: dict[str, str | None] = {}

    def _split(self, text: str) -> list[str]:
        if self.config.tokenizer == "whitespace":
            return non_whitespace_pattern().findall(text)
        if text.isascii():
            return _ASCII_WORD.findall(text)
        return word_pattern().findall(text)

    def _process_cached(self, token: str) -> str | None:
        """`_process(token, check_max=True)`, remembered: corpora repeat their vocabulary."""
        try:
            return self._processed[token]
        except KeyError:
            if len(self._processed) >= _CACHE_LIMIT:
                self._processed.clear()
            result = self._processed[token] = self._process(token, True)
            return result

    def _normalise(self, token: str) -> str:
        if self.config.ascii_folding:
            token = _fold(token)
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
            return [t for t in map(self._process_cached, raw) if t is not None]
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
            tokens = [t for t in map(self._process_cached, raw) if t is not None]
            return [t for t in tokens if t != _SENTINEL]
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
            if token != _SENTINEL:
                out.append(token)
        return out
