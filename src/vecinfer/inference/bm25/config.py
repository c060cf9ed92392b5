"""BM25 options (`Document.options`): parsing, defaults and validation with clear messages."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vecinfer.domain.errors import InvalidArgument
from vecinfer.text import languages
from vecinfer.text.tokens import TokenRules
from vecinfer.text.unicode import to_lowercase

TOKENIZERS = ("word", "whitespace", "prefix", "multilingual")


@dataclass(frozen=True)
class Bm25Config(TokenRules):
    stemmer: str | None = "english"  # Snowball language, or None
    k: float = 1.2
    b: float = 0.75
    avg_len: float = 256.0


def _bad(option: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"Invalid BM25 config: option `{option}` {problem}")


def _number(options: dict, key: str, default: float, check: Callable[[float], bool], rule: str) -> float:
    value = options.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _bad(key, f"must be a number {rule}, got {value!r}")
    value = float(value)
    if not math.isfinite(value) or not check(value):
        raise _bad(key, f"must be a number {rule}, got {value!r}")
    return value


def _bool(options: dict, key: str, default: bool) -> bool:
    value = options.get(key, default)
    if not isinstance(value, bool):
        raise _bad(key, f"must be true or false, got {value!r}")
    return value


def _length(options: dict, key: str) -> int | None:
    value = options.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(key, f"must be a non-negative integer, got {value!r}")
    return value


def _language_list_hint() -> str:
    return ", ".join(languages.all_language_names())


def _stopwords(options: dict, default_language: str | None) -> list[str]:
    value = options.get("stopwords")
    if value is None:
        return list(languages.stopwords(default_language)) if default_language else []
    return languages.stopword_option(value, _bad)


def _stemmer(options: dict, default_language: str | None) -> str | None:
    value = options.get("stemmer")
    return default_language if value is None else languages.stemmer_option(value, _bad)


def parse(options: dict[str, Any]) -> Bm25Config:
    tokenizer = options.get("tokenizer", "word")
    if tokenizer not in TOKENIZERS:
        raise _bad("tokenizer", f"must be one of {', '.join(TOKENIZERS)}, got {tokenizer!r}")
    if tokenizer == "multilingual":
        raise _bad("tokenizer", 'value "multilingual" is not supported yet: use "word", "whitespace" or "prefix"')
    language = options.get("language", "english")
    if language == "none":
        # Qdrant's deprecated way to switch off stopwords and stemming.
        stop_language = stem_language = None
    else:
        stop_language = languages.stopword_language(language) if isinstance(language, str) else None
        stem_language = languages.stemmer_language(language) if isinstance(language, str) else None
        if stop_language is None and stem_language is None:
            raise _bad("language", f"is not a known language: {language!r}; use one of: {_language_list_hint()} "
                                   "(lower case, or ISO codes such as en, de)")
    lowercase = _bool(options, "lowercase", True)
    words = _stopwords(options, stop_language)
    config = Bm25Config(
        k=_number(options, "k", 1.2, lambda v: v >= 0, ">= 0"),
        b=_number(options, "b", 0.75, lambda v: 0 <= v <= 1, "between 0 and 1"),
        # Far below one token the weights overflow; no corpus has such an average.
        avg_len=_number(options, "avg_len", 256.0, lambda v: v >= 1e-3, ">= 0.001"),
        tokenizer=tokenizer,
        lowercase=lowercase,
        ascii_folding=_bool(options, "ascii_folding", False),
        stopwords=frozenset(to_lowercase(w) for w in words) if lowercase else frozenset(words),
        stemmer=_stemmer(options, stem_language),
        min_token_len=_length(options, "min_token_len"),
        max_token_len=_length(options, "max_token_len"),
    )
    return config
