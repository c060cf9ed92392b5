"""Language names and ISO aliases for stopword lists and Snowball stemmers; the stopword lists
and the ASCII-folding table (data/, compiled from Qdrant's sources)."""

from __future__ import annotations

import json
from functools import cache, lru_cache
from pathlib import Path

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
