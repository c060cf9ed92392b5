"""Full-text conditions (`text`, `text_any`, `phrase`): how a payload field's strings are
tokenized and matched. A field without a full-text index uses Qdrant's unindexed rules; a
field with one uses its index's tokenizer (see `matcher_for`).

With an index (Qdrant 1.20, `full_text_index/`): the index's tokenizer processes stored strings
and queries alike; the strings of an array pool into one document (a boundary token between
them stops a phrase from spanning two); `text` needs every query token and `text_any` one of
them; a query without tokens matches nothing; `phrase` matches nothing unless the index has
`phrase_matching`. Queries are parsed once and each stored string is tokenized once (cached);
`segment_mask` answers a condition for a whole segment from an inverted index.
"""

from __future__ import annotations

import json
import operator
import re
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from vecinfer.domain.errors import InvalidArgument, Unimplemented, VecinferError
from vecinfer.text import languages, tokens
from vecinfer.text.tokens import SENTINEL, Tokenizer, TokenRules
from vecinfer.text.unicode import to_lowercase

if TYPE_CHECKING:
    from vecinfer.storage.segment import Segment

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

    def __init__(self) -> None:
        self._indexes = _SegmentIndexes()

    def matches(self, kind: str, query: str, values: list[Any]) -> bool:
        wanted = word_tokens(query)
        if not wanted:
            return False  # a query with no tokens matches nothing
        return any(isinstance(v, str) and _tokens_match(kind, wanted, word_tokens(v)) for v in values)

    def segment_mask(self, segment: Segment, key: str, kind: str, query: str, values: Values) -> np.ndarray:
        """`matches` for every offset of `segment` at once, from an inverted index of its strings
        (each string a document of its own), built once per segment version."""
        wanted = word_tokens(query)
        if not wanted:
            return np.zeros(segment.size, dtype=np.bool_)
        index = self._indexes.get(segment, key, kind == "phrase", lambda with_places: lambda offsets: _build_index(
            segment, key, values, word_tokens, pooled=False, with_places=with_places, offsets=offsets))
        return index.mask(_query(kind, wanted))


def _tokens_match(kind: str, wanted: list[str], have: list[str]) -> bool:
    if kind == "text":
        return set(wanted) <= set(have)
    if kind == "text_any":
        return not set(wanted).isdisjoint(have)
    return _has_phrase(have, wanted)


def _has_phrase(have: Sequence[str], wanted: Sequence[str]) -> bool:
    """`wanted` occurs in `have` as consecutive tokens (an empty phrase never does)."""
    n = len(wanted)
    if n == 0:
        return False
    phrase, first = tuple(wanted), wanted[0]
    return any(have[i] == first and tuple(have[i:i + n]) == phrase for i in range(len(have) - n + 1))




# ---------------------------------------------------------------------------- index parameters

TEXT_INDEX_TOKENIZERS = ("word", "whitespace", "prefix", "multilingual", "code")
_MEMORY = ("cold", "cached", "pinned")
_KNOWN_PARAMS = ("type", "tokenizer", "min_token_len", "max_token_len", "lowercase", "ascii_folding",
                 "phrase_matching", "stopwords", "stemmer", "on_disk", "memory", "enable_hnsw", "scoring", "nested")


def _bad(key: str, problem: str) -> InvalidArgument:
    return InvalidArgument(f"field_schema.{key}: {problem}")


def _flag(params: Mapping[str, Any], key: str, default: bool) -> bool:
    value = params.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise _bad(key, f"must be true or false, got {value!r}")
    return value


def _length(params: Mapping[str, Any], key: str) -> int | None:
    value = params.get(key)
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(key, f"must be a non-negative integer, got {value!r}")
    return value


def _stopwords(value: Any, lowercase: bool) -> frozenset[str]:
    """Qdrant's StopwordsFilter: a language's list, or languages plus custom words."""
    if value is None:
        return frozenset()
    words = languages.stopword_option(value, _bad)
    return frozenset(to_lowercase(w) for w in words) if lowercase else frozenset(words)


def _stemmer(value: Any) -> str | None:
    """Default: no stemming."""
    language = languages.stemmer_option(value, _bad) if value is not None else None
    if language is not None and not tokens.has_stemmer(language):
        raise Unimplemented(f'the "{language}" Snowball stemmer (field_schema.stemmer.language)')
    return language


class TextIndexRules:
    """A full-text index's parameters, parsed, with Qdrant's defaults filled in."""

    def __init__(self, rules: TokenRules, phrase_matching: bool) -> None:
        self.rules = rules
        self.phrase_matching = phrase_matching


def parse_text_index_params(params: Mapping[str, Any]) -> TextIndexRules:
    """Parameters in Qdrant's REST shape (`TextIndexParams`); a missing or null key takes
    Qdrant's default. Raises InvalidArgument naming the parameter, or Unimplemented for what
    vecinfer cannot reproduce (the multilingual and code tokenizers, BM25 scoring, nested)."""
    unknown = sorted(k for k in params if k not in _KNOWN_PARAMS)
    if unknown:
        raise _bad(unknown[0], f"is not a parameter of a text index; use {', '.join(_KNOWN_PARAMS)}")
    if params.get("type", "text") != "text":
        raise _bad("type", f'must be "text" for a full-text index, got {params.get("type")!r}')
    tokenizer = params.get("tokenizer")
    if tokenizer is None:
        tokenizer = "word"
    if tokenizer not in TEXT_INDEX_TOKENIZERS:
        raise _bad("tokenizer", f"must be one of {', '.join(tokens.TOKENIZERS)}, got {tokenizer!r}")
    if tokenizer not in tokens.TOKENIZERS:
        raise Unimplemented(f'the "{tokenizer}" tokenizer of text indexes (field_schema.tokenizer: '
                            f'use {", ".join(tokens.TOKENIZERS)})')
    lowercase = _flag(params, "lowercase", True)
    rules = TokenRules(
        tokenizer=tokenizer,
        lowercase=lowercase,
        ascii_folding=_flag(params, "ascii_folding", False),
        stopwords=_stopwords(params.get("stopwords"), lowercase),
        stemmer=_stemmer(params.get("stemmer")),
        min_token_len=_length(params, "min_token_len"),
        max_token_len=_length(params, "max_token_len"),
    )
    phrase_matching = _flag(params, "phrase_matching", False)
    _flag(params, "on_disk", False)
    _flag(params, "enable_hnsw", True)
    memory = params.get("memory")
    if memory is not None and memory not in _MEMORY:
        raise _bad("memory", f"must be one of {', '.join(_MEMORY)}, got {memory!r}")
    scoring = params.get("scoring")
    if scoring is not None and scoring is not False:
        if scoring is not True and not isinstance(scoring, Mapping):
            raise _bad("scoring", f"must be true, false or scoring parameters, got {scoring!r}")
        raise Unimplemented("BM25 ranking over a text index (field_schema.scoring)")
    nested = params.get("nested")
    if nested is not None:
        if not isinstance(nested, str):
            raise _bad("nested", f"must be the path of an array, got {nested!r}")
        raise Unimplemented("text indexes over the elements of an array (field_schema.nested)")
    return TextIndexRules(rules, phrase_matching)


def check_text_index_params(params: Mapping[str, Any]) -> None:
    """Refuse, before an index is created, parameters vecinfer cannot honour as Qdrant does."""
    parse_text_index_params(params)


def normalize_text_index_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """Checked parameters as Qdrant keeps and returns them: nulls left out, `tokenizer` always
    present ("word" by default), language aliases ("en") as full names, stopword languages and
    custom words as sorted sets (Qdrant's BTreeSet)."""
    parse_text_index_params(params)
    out: dict[str, Any] = {"type": "text", "tokenizer": "word"}
    out.update((k, v) for k, v in params.items() if v is not None)
    stopwords = out.get("stopwords")
    if isinstance(stopwords, str):
        out["stopwords"] = languages.stopword_language(stopwords)
    elif isinstance(stopwords, Mapping):
        normal: dict[str, list[str]] = {}
        if stopwords.get("languages") is not None:
            normal["languages"] = sorted({str(languages.stopword_language(n)) for n in stopwords["languages"]})
        if stopwords.get("custom") is not None:
            normal["custom"] = sorted(set(stopwords["custom"]))
        out["stopwords"] = normal
    stemmer = out.get("stemmer")
    if isinstance(stemmer, Mapping):
        if stemmer.get("type") == "snowball":
            out["stemmer"] = {"type": "snowball", "language": languages.stemmer_language(stemmer["language"])}
        else:
            out["stemmer"] = {"type": "none"}
    return out


# ---------------------------------------------------------------------------- indexed matching

# Stored strings whose tokens are remembered, per matcher (cleared when full).
_DOC_CACHE_LIMIT = 1 << 17
# Parsed queries remembered per matcher.
_QUERY_CACHE_LIMIT = 1 << 12
_EMPTY: frozenset[str] = frozenset()


# A token's place: document << 32 | position in the document.
_POSITION_BITS = 32
# A payload key that is one name: no nesting, arrays or quoting.
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
# A point's values at a key with arrays flattened one level (filters.leaf_values).
Values = Callable[[dict[str, Any], str], list[Any]]


class _SegmentIndex:
    """An inverted index of one segment's values at one key. Its documents are the points
    (a full-text index pools a point's strings) or the strings (no index: each string on its
    own); `owners[d]` is the offset of document d. Token -> sorted documents holding it, and
    optionally token -> sorted places (document << 32 | position; the boundary between two
    pooled strings takes a position of its own)."""

    def __init__(self, size: int, owners: np.ndarray, postings: dict[str, np.ndarray],
                 places: dict[str, np.ndarray] | None) -> None:
        self.size = size
        self.owners = owners
        self.postings = postings
        self.places = places

    def _mask(self, documents: np.ndarray) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.bool_)
        out[self.owners[documents]] = True
        return out

    def has_all(self, wanted: Iterable[str]) -> np.ndarray:
        lists = []
        for token in set(wanted):
            posting = self.postings.get(token)
            if posting is None:
                return np.zeros(self.size, dtype=np.bool_)  # an unknown token: nothing matches
            lists.append(posting)
        if not lists:
            return np.zeros(self.size, dtype=np.bool_)
        lists.sort(key=len)
        hits = lists[0]
        for posting in lists[1:]:
            if not len(hits):
                break
            hits = np.intersect1d(hits, posting, assume_unique=True)
        return self._mask(hits)

    def has_any(self, wanted: Iterable[str]) -> np.ndarray:
        out = np.zeros(self.size, dtype=np.bool_)
        for token in set(wanted):
            posting = self.postings.get(token)
            if posting is not None:
                out[self.owners[posting]] = True
        return out

    def has_phrase(self, phrase: Sequence[str]) -> np.ndarray:
        places = self.places
        if places is None or not phrase or any(token not in places for token in phrase):
            return np.zeros(self.size, dtype=np.bool_)
        # Start from the rarest token's places, moved back to where the phrase would start.
        rarest = min(range(len(phrase)), key=lambda i: len(places[phrase[i]]))
        starts = places[phrase[rarest]] - rarest
        for i, token in enumerate(phrase):
            if i != rarest and len(starts):
                starts = starts[np.isin(starts + i, places[token], assume_unique=True)]
        return self._mask(np.unique(starts >> _POSITION_BITS))


def _plain_values(payload: dict[str, Any], key: str) -> list[Any]:
    """filters.leaf_values for a key that is one plain name (the usual case, and faster)."""
    if key not in payload:
        return []
    value = payload[key]
    return value if isinstance(value, list) else [value]


def _query(kind: str, wanted: Sequence[str] | frozenset[str]) -> Callable[[_SegmentIndex], np.ndarray]:
    if kind == "phrase":
        return lambda index: index.has_phrase(tuple(wanted))
    if kind == "text":
        return lambda index: index.has_all(wanted)
    return lambda index: index.has_any(wanted)


def _build_index(segment: Segment, key: str, values: Values, tokenize: Callable[[str], list[str]],
                 pooled: bool, with_places: bool, offsets: list[int] | None = None) -> _SegmentIndex:
    """An index of the live points of `segment`, or of `offsets` (ascending) only."""
    if _PLAIN_KEY.fullmatch(key):
        values = _plain_values
    owners: list[int] = []
    postings: defaultdict[str, list[int]] = defaultdict(list)
    places: defaultdict[str, list[int]] = defaultdict(list)
    payloads = segment.payloads
    for offset in sorted(segment.offset_of.values()) if offsets is None else offsets:
        strings = [v for v in values(payloads[offset] or {}, key) if isinstance(v, str)]
        if not strings:
            continue
        for group in ([strings] if pooled else [[text] for text in strings]):
            document = len(owners)
            owners.append(offset)
            if not with_places:
                found = set(tokenize(group[0]))
                for text in group[1:]:
                    found.update(tokenize(text))
            else:
                found = set()
                position = document << _POSITION_BITS
                for i, text in enumerate(group):
                    position += 1 if i else 0  # the boundary between two strings
                    for token in tokenize(text):
                        found.add(token)
                        places[token].append(position)
                        position += 1
            for token in found:
                postings[token].append(document)
    # Documents are numbered in offset order, so every list is sorted already.
    return _SegmentIndex(
        segment.size, np.array(owners, dtype=np.int64),
        {t: np.array(p, dtype=np.int64) for t, p in postings.items()},
        {t: np.array(p, dtype=np.int64) for t, p in places.items()} if with_places else None,
    )


Build = Callable[[list[int] | None], _SegmentIndex]


class _LiveIndex:
    """A segment's index as of one version: a base index built once, and for the points changed
    or added since (a payload object replaced, a point deleted or appended) a small index of
    their own. Immutable: a newer version gets a new _LiveIndex sharing the base."""

    def __init__(self, version: int, size: int, base: _SegmentIndex, sources: list[Any],
                 stale: np.ndarray | None = None, delta: _SegmentIndex | None = None) -> None:
        self.version, self.size = version, size
        self.base, self.sources = base, sources  # sources: the payload objects the base read
        self.stale, self.delta = stale, delta  # base offsets to ignore; the index of the rest

    @classmethod
    def full(cls, segment: Segment, build: Build) -> _LiveIndex:
        sources = list(segment.payloads)
        return cls(segment.version, segment.size, build(None), sources)

    def updated(self, segment: Segment, build: Build) -> _LiveIndex | None:
        """This index brought up to the segment's version, or None when rebuilding is better."""
        payloads, n = segment.payloads, len(self.sources)
        if segment.size < n:
            return None
        stale = np.fromiter(map(operator.is_not, payloads[:n], self.sources), dtype=np.bool_, count=n)
        changed = np.flatnonzero(stale).tolist() + list(range(n, segment.size))
        if len(changed) > max(256, n // 4):
            return None
        live = segment.live_mask()
        offsets = [o for o in changed if live[o]]
        return _LiveIndex(segment.version, segment.size, self.base, self.sources, stale, build(offsets))

    def mask(self, query: Callable[[_SegmentIndex], np.ndarray]) -> np.ndarray:
        base = query(self.base)
        if self.stale is None and self.delta is None and len(base) == self.size:
            return base
        out = np.zeros(self.size, dtype=np.bool_)
        out[:len(base)] = base if self.stale is None else base & ~self.stale
        if self.delta is not None:
            out |= query(self.delta)
        return out


class _SegmentIndexes:
    """Inverted indexes by segment (held weakly) and key, kept up to date with the segment."""

    def __init__(self) -> None:
        self._by_segment: weakref.WeakKeyDictionary[Segment, dict[tuple[str, bool], _LiveIndex]] = (
            weakref.WeakKeyDictionary())

    def get(self, segment: Segment, key: str, with_places: bool, build: Callable[[bool], Build]) -> _LiveIndex:
        """`build(with_places)(offsets)` makes an index of those offsets (all live ones for None)."""
        by_key = self._by_segment.setdefault(segment, {})
        # An index with places serves queries that do not need them too.
        with_places = with_places or (key, True) in by_key
        cached = by_key.get((key, with_places))
        if cached is not None and cached.version == segment.version and cached.size == segment.size:
            return cached
        index = cached.updated(segment, build(with_places)) if cached is not None else None
        if index is None:
            index = _LiveIndex.full(segment, build(with_places))
        by_key[(key, with_places)] = index
        if with_places:
            by_key.pop((key, False), None)
        return index


class IndexedText:
    """Matching under a full-text index with these rules."""

    def __init__(self, index: TextIndexRules) -> None:
        self.rules = index.rules
        self.phrase_matching = index.phrase_matching
        self.tokenizer = Tokenizer(index.rules)
        self._doc_seqs: dict[str, tuple[str, ...]] = {}
        self._doc_sets: dict[str, frozenset[str]] = {}
        self._query_sets: dict[str, frozenset[str]] = {}
        self._phrases: dict[str, tuple[str, ...]] = {}
        self._indexes = _SegmentIndexes()

    # ------------------------------------------------------------------ tokens, cached

    def _sequence(self, text: str) -> tuple[str, ...]:
        try:
            return self._doc_seqs[text]
        except KeyError:
            if len(self._doc_seqs) >= _DOC_CACHE_LIMIT:
                self._doc_seqs.clear()
            seq = self._doc_seqs[text] = tuple(self.tokenizer.document_tokens(text))
            return seq

    def _set(self, text: str) -> frozenset[str]:
        try:
            return self._doc_sets[text]
        except KeyError:
            if len(self._doc_sets) >= _DOC_CACHE_LIMIT:
                self._doc_sets.clear()
            seq = self._sequence(text) if self.phrase_matching else self.tokenizer.document_tokens(text)
            found = self._doc_sets[text] = frozenset(seq) or _EMPTY
            return found

    def _pooled_sequence(self, strings: list[str]) -> tuple[str, ...]:
        """The document of a point: its strings' tokens in order, a boundary token between two
        strings when the index keeps phrases (Qdrant's ARRAY_BOUNDARY_SENTINEL)."""
        if len(strings) == 1:
            return self._sequence(strings[0])
        out: list[str] = []
        for i, text in enumerate(strings):
            if i and self.phrase_matching:
                out.append(SENTINEL)
            out.extend(self._sequence(text))
        return tuple(out)

    def query_set(self, text: str) -> frozenset[str]:
        """The tokens of a `text` or `text_any` query."""
        try:
            return self._query_sets[text]
        except KeyError:
            if len(self._query_sets) >= _QUERY_CACHE_LIMIT:
                self._query_sets.clear()
            found = self._query_sets[text] = frozenset(self.tokenizer.query_tokens(text))
            return found

    def phrase(self, text: str) -> tuple[str, ...]:
        """A `phrase` query's tokens in order: Qdrant tokenizes a phrase as a document (prefix:
        every n-gram), less the boundary token."""
        try:
            return self._phrases[text]
        except KeyError:
            if len(self._phrases) >= _QUERY_CACHE_LIMIT:
                self._phrases.clear()
            found = self._phrases[text] = tuple(t for t in self.tokenizer.document_tokens(text) if t != SENTINEL)
            return found

    # ------------------------------------------------------------------ one point

    def matches(self, kind: str, query: str, values: list[Any]) -> bool:
        strings = [v for v in values if isinstance(v, str)]
        if not strings:
            return False
        if kind == "phrase":
            if not self.phrase_matching:
                return False  # Qdrant keeps no positions without phrase_matching
            return _has_phrase(self._pooled_sequence(strings), self.phrase(query))
        wanted = self.query_set(query)
        if not wanted:
            return False  # a query with no tokens matches nothing
        if len(strings) == 1:
            have = self._set(strings[0])
        else:
            have = frozenset().union(*(self._set(s) for s in strings))
        if kind == "text":
            return wanted <= have
        return not wanted.isdisjoint(have)

    # ------------------------------------------------------------------ a whole segment

    def segment_mask(self, segment: Segment, key: str, kind: str, query: str, values: Values) -> np.ndarray:
        """The condition over every offset of `segment` (retired offsets False), from an
        inverted index built once per segment version. `values(payload, key)` gives a point's
        values at `key` with arrays flattened one level (filters.leaf_values)."""
        if kind == "phrase":
            wanted: Sequence[str] | frozenset[str] = self.phrase(query)
            if not self.phrase_matching:
                wanted = ()
        else:
            wanted = self.query_set(query)
        if not wanted:
            return np.zeros(segment.size, dtype=np.bool_)
        return self._index(segment, key, values).mask(_query(kind, wanted))

    def _index(self, segment: Segment, key: str, values: Values) -> _LiveIndex:
        # The per-string caches are left alone: a segment's strings are seen once here.
        tokenize = self.tokenizer.document_tokens
        return self._indexes.get(segment, key, self.phrase_matching, lambda with_places: lambda offsets: _build_index(
            segment, key, values, tokenize, pooled=True, with_places=with_places, offsets=offsets))


class Refusing:
    """The matcher of an index whose parameters vecinfer cannot honour (created before they
    were checked): every full-text condition on the field answers the error."""

    def __init__(self, error: VecinferError) -> None:
        self.error = error

    def matches(self, kind: str, query: str, values: list[Any]) -> bool:
        raise self.error


# Full-text conditions on fields without a full-text index.
UNINDEXED = Unindexed()


@lru_cache(maxsize=64)
def _matcher(params_json: str) -> TextMatcher:
    try:
        return IndexedText(parse_text_index_params(json.loads(params_json)))
    except VecinferError as error:
        return Refusing(error)


def matcher_for(params: Mapping[str, Any]) -> TextMatcher:
    """The matcher of a full-text index with these parameters (Qdrant's REST shape)."""
    try:
        key = json.dumps(dict(params), sort_keys=True)
    except (TypeError, ValueError):
        return Refusing(_bad("params", "are not JSON"))
    return _matcher(key)
