"""Text -> processed tokens for BM25: Qdrant's pipeline (vecinfer.text.tokens) with BM25's options."""

from __future__ import annotations

from vecinfer.domain.errors import InvalidArgument
from vecinfer.inference.bm25.config import Bm25Config
from vecinfer.text import tokens


class Tokenizer(tokens.Tokenizer):
    config: Bm25Config

    def __init__(self, config: Bm25Config) -> None:
        try:
            super().__init__(config)
        except tokens.UnknownStemmer:
            raise InvalidArgument(
                f'Invalid BM25 config: no Snowball stemmer for {config.stemmer!r} in vecinfer; '
                'set "stemmer": {"type": "none"}'
            ) from None
