"""Language names and ISO aliases for stopword lists and Snowball stemmers; the stopword lists
and the ASCII-folding table (data/, compiled from Qdrant's sources)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

STOPWORD_ALIASES = {
    "ar": "arabic", "az": "azerbaijani", "eu": "basque", "bn": "bengali", "ca": "catalan",
    "zh": "chinese", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
    "fr": "french", "de": "german", "el": "greek", "he": "hebrew", "hi-en": "hinglish",
    "hu": "hungarian", "id": "indonesian", "it": "italian", "jp": "japanese", "kk": "kazakh",
    "ne": "nepali", "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sl": "slovene", "es": "spanish", "sv": "swedish", "tg": "tajik", "tr": "turkish",
}
STEMMER_ALIASES = {
    "ar": "arabic", "hy": "armenian", "da": "danish", "nl": "dutch", "en": "english",
    "fi": "finnish", "fr": "french", "de": "german", "el": "greek", "hu": "hungarian",
    "it": "italian", "no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish",
}
STOPWORD_LANGUAGES = frozenset(STOPWORD_ALIASES.values())
STEMMER_LANGUAGES = frozenset(STEMMER_ALIASES.values())


def stopword_language(name: str) -> str | None:
    """Canonical stopword language for a name or alias (case-sensitive, as Qdrant parses it)."""
    if name in STOPWORD_LANGUAGES:
        return name
    return STOPWORD_ALIASES.get(name)


def stemmer_language(name: str) -> str | None:
    if name in STEMMER_LANGUAGES:
        return name
    return STEMMER_ALIASES.get(name)


def all_language_names() -> list[str]:
    return sorted(STOPWORD_LANGUAGES | STEMMER_LANGUAGES)


@cache
def stopwords(language: str) -> tuple[str, ...]:
    data = json.loads((Path(__file__).parent / "data" / "stopwords.json").read_text())
    return tuple(data["languages"][language])


@lru_cache(maxsize=1)
def ascii_folding_table() -> dict[int, str]:
    data = json.loads((Path(__file__).parent / "data" / "ascii_folding.json").read_text())
    return {ord(k): v for k, v in data["table"].items()}


# How a caller words a bad option: (option path, problem) -> the exception to raise.
Refusal = Callable[[str, str], Exception]


def _stopword_language(name: Any, option: str, refuse: Refusal) -> str:
    language = stopword_language(name) if isinstance(name, str) else None
    if language is None:
        raise refuse(option, f"has no stopword list for {name!r}; use one of: "
                             f"{', '.join(sorted(STOPWORD_LANGUAGES))} (or their ISO codes)")
    return language


def stopword_option(value: Any, refuse: Refusal) -> list[str]:
    """The words of a `stopwords` option (Qdrant's shape: a language name, or
    `{"languages": [...], "custom": [...]}`); `value` is not None."""
    if isinstance(value, str):
        return list(stopwords(_stopword_language(value, "stopwords", refuse)))
    if not isinstance(value, Mapping):
        raise refuse("stopwords", 'must be a language name or {"languages": [...], "custom": [...]}')
    unknown = sorted(set(value) - {"languages", "custom"})
    if unknown:
        raise refuse("stopwords", f"takes `languages` and `custom`, not {unknown}")
    names = value.get("languages") or []
    if not isinstance(names, list):
        raise refuse("stopwords.languages", "must be a list of language names")
    words: list[str] = []
    for name in names:
        words.extend(stopwords(_stopword_language(name, "stopwords.languages", refuse)))
    custom = value.get("custom") or []
    if not isinstance(custom, list) or not all(isinstance(w, str) for w in custom):
        raise refuse("stopwords.custom", "must be a list of strings")
    return words + custom


def stemmer_option(value: Any, refuse: Refusal) -> str | None:
    """The Snowball language of a `stemmer` option (`{"type": "snowball", "language": ...}`),
    or None for `{"type": "none"}`; `value` is not None."""
    if not isinstance(value, Mapping) or value.get("type") not in ("snowball", "none"):
        raise refuse("stemmer", 'must be {"type": "snowball", "language": "<language>"} or {"type": "none"}')
    if value["type"] == "none":
        return None
    requested = value.get("language")
    language = stemmer_language(requested) if isinstance(requested, str) else None
    if language is None:
        raise refuse("stemmer.language", f"must be one of: {', '.join(sorted(STEMMER_LANGUAGES))} "
                                         f"(or their ISO codes), got {requested!r}")
    return language
