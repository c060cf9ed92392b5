"""Qdrant's JSON schema for collection settings and payload index parameters, as data: each
reader checks a body's value (types, enum spellings, unknown keys) and returns it in the
REST shape the core keeps. Nulls mean "not set", as in Qdrant's optional fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from vecinfer.api.rest.json_input import Node


class Kind:
    def read(self, node: Node) -> Any:
        raise NotImplementedError


class _Bool(Kind):
    def read(self, node: Node) -> bool:
        return node.boolean()


class _Int(Kind):
    def __init__(self, minimum: int = 0) -> None:
        self.minimum = minimum

    def read(self, node: Node) -> int:
        return node.integer(self.minimum)


class _Float(Kind):
    def __init__(self, low: float | None = None, high: float | None = None) -> None:
        self.low, self.high = low, high

    def read(self, node: Node) -> float:
        value = node.number()
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            node.invalid(f"must be between {self.low} and {self.high}")
        return value


class _String(Kind):
    def read(self, node: Node) -> str:
        return node.string()


class Enum(Kind):
    def __init__(self, *values: str) -> None:
        self.values = values

    def read(self, node: Node) -> str:
        if not isinstance(node.value, str) or node.value not in self.values:
            node.fail(" or ".join(f'"{v}"' for v in self.values))
        return node.value


class Obj(Kind):
    def __init__(self, fields: Mapping[str, Kind], required: tuple[str, ...] = (), expected: str = "an object") -> None:
        self.fields = dict(fields)
        self.required = required
        self.expected = expected

    def read(self, node: Node) -> dict[str, Any]:
        fields = node.fields(self.fields, self.expected)
        for name in self.required:
            fields.require(name)
        out: dict[str, Any] = {}
        for name, kind in self.fields.items():
            child = fields.get(name)
            if child is not None and not child.is_null:
                out[name] = kind.read(child)
        return out


class MapOf(Kind):
    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    def read(self, node: Node) -> dict[str, Any]:
        return {name: self.kind.read(child) for name, child in node.entries()}


class ListOf(Kind):
    def __init__(self, kind: Kind) -> None:
        self.kind = kind

    def read(self, node: Node) -> list[Any]:
        return [self.kind.read(item) for item in node.items()]


class OneKey(Kind):
    """`{"scalar": {...}}`: an object with exactly one of the named variants."""

    def __init__(self, variants: Mapping[str, Kind]) -> None:
        self.variants = dict(variants)

    def read(self, node: Node) -> dict[str, Any]:
        if not node.is_object or len(node.value) != 1:
            node.fail("an object with one of " + ", ".join(f"`{v}`" for v in self.variants))
        fields = node.fields(self.variants)
        ((name, kind),) = [(n, k) for n, k in self.variants.items() if fields.has(n)]
        return {name: kind.read(fields.require(name))}


class Either(Kind):
    """A string spelling or an object form (e.g. stopwords: `"english"` or `{"languages": [...]}`)."""

    def __init__(self, text: Kind, other: Kind) -> None:
        self.text, self.other = text, other

    def read(self, node: Node) -> Any:
        return self.text.read(node) if isinstance(node.value, str) else self.other.read(node)


BOOL, STRING = _Bool(), _String()
UINT, POSITIVE = _Int(0), _Int(1)
MEMORY = Enum("cold", "cached", "pinned")
DATATYPE = Enum("float32", "uint8", "float16")

HNSW_DIFF = Obj({"m": UINT, "ef_construct": UINT, "full_scan_threshold": UINT, "max_indexing_threads": UINT,
                 "on_disk": BOOL, "payload_m": UINT, "inline_storage": BOOL, "memory": MEMORY},
                expected="an hnsw_config object")
WAL_DIFF = Obj({"wal_capacity_mb": POSITIVE, "wal_segments_ahead": UINT, "wal_retain_closed": UINT},
               expected="a wal_config object")
OPTIMIZERS_DIFF = Obj({
    "deleted_threshold": _Float(0, 1), "vacuum_min_vector_number": UINT, "default_segment_number": UINT,
    "max_segment_size": UINT, "memmap_threshold": UINT, "indexing_threshold": UINT, "flush_interval_sec": UINT,
    "max_optimization_threads": Either(Enum("auto"), UINT), "prevent_unoptimized": BOOL,
}, expected="an optimizers_config object")

QUANTIZATION = OneKey({
    "scalar": Obj({"type": Enum("int8"), "quantile": _Float(0.5, 1.0), "always_ram": BOOL, "memory": MEMORY},
                  required=("type",)),
    "product": Obj({"compression": Enum("x4", "x8", "x16", "x32", "x64"), "always_ram": BOOL, "memory": MEMORY},
                   required=("compression",)),
    "binary": Obj({"always_ram": BOOL, "memory": MEMORY, "encoding": Enum("one_bit", "two_bits", "one_and_half_bits"),
                   "query_encoding": Enum("default", "binary", "scalar4bits", "scalar8bits")}),
    "turbo": Obj({"always_ram": BOOL, "memory": MEMORY, "bits": Enum("bits1", "bits1_5", "bits2", "bits4", "bits8")}),
})
# An update may also switch quantization off: the string "Disabled" (kept as {}).
DISABLED = "Disabled"
QUANTIZATION_DIFF = Either(Enum(DISABLED), QUANTIZATION)

SPARSE_INDEX = Obj({"full_scan_threshold": UINT, "on_disk": BOOL, "datatype": DATATYPE, "memory": MEMORY})
SPARSE_PARAMS = Obj({"index": SPARSE_INDEX, "modifier": Enum("none", "idf")},
                    expected='sparse vector params {"modifier", "index"}')
MULTIVECTOR = Obj({"comparator": Enum("max_sim")}, required=("comparator",))
# A dense vector's settings beside size and distance.
VECTOR_EXTRA = {"hnsw_config": HNSW_DIFF, "quantization_config": QUANTIZATION, "on_disk": BOOL, "memory": MEMORY,
                "datatype": DATATYPE, "multivector_config": MULTIVECTOR}
VECTOR_DIFF = Obj({"hnsw_config": HNSW_DIFF, "quantization_config": QUANTIZATION_DIFF, "on_disk": BOOL,
                   "memory": MEMORY}, expected="vector settings {\"hnsw_config\", \"quantization_config\", ...}")

STORAGE_PLACEMENT = Obj({"memory": MEMORY})
# CollectionParams at creation (top-level keys of the create body).
PARAMS = {"shard_number": POSITIVE, "sharding_method": Enum("auto", "custom"), "replication_factor": POSITIVE,
          "write_consistency_factor": POSITIVE, "on_disk_payload": BOOL, "payload": STORAGE_PLACEMENT,
          "id_tracker": STORAGE_PLACEMENT}
PARAMS_DIFF = Obj({"replication_factor": POSITIVE, "write_consistency_factor": POSITIVE,
                   "read_fan_out_factor": UINT, "read_fan_out_delay_ms": UINT, "on_disk_payload": BOOL,
                   "payload": STORAGE_PLACEMENT, "id_tracker": STORAGE_PLACEMENT}, expected="a params object")

STRICT_MODE = Obj({
    "enabled": BOOL, "max_query_limit": POSITIVE, "max_timeout": POSITIVE, "unindexed_filtering_retrieve": BOOL,
    "unindexed_filtering_update": BOOL, "search_max_hnsw_ef": UINT, "search_allow_exact": BOOL,
    "search_max_oversampling": _Float(0), "upsert_max_batchsize": UINT, "search_max_batchsize": UINT,
    "max_collection_vector_size_bytes": UINT, "read_rate_limit": UINT, "write_rate_limit": UINT,
    "max_collection_payload_size_bytes": UINT, "filter_max_conditions": UINT, "condition_max_size": UINT,
    "max_points_count": UINT, "max_payload_index_count": UINT, "max_resident_memory_percent": UINT,
    "sparse_config": MapOf(Obj({"max_length": UINT})),
    "multivector_config": MapOf(Obj({"max_vectors": UINT})),
}, expected="a strict_mode_config object")

# ------------------------------------------------------------------ payload indexes

STOPWORD_LANGUAGES = Enum(
    "arabic", "azerbaijani", "basque", "bengali", "catalan", "chinese", "danish", "dutch", "english", "finnish",
    "french", "german", "greek", "hebrew", "hinglish", "hungarian", "indonesian", "italian", "japanese", "kazakh",
    "nepali", "norwegian", "portuguese", "romanian", "russian", "slovene", "spanish", "swedish", "tajik", "turkish",
)
SNOWBALL_LANGUAGES = Enum(
    "arabic", "armenian", "danish", "dutch", "english", "finnish", "french", "german", "greek", "hungarian",
    "italian", "norwegian", "portuguese", "romanian", "russian", "spanish", "swedish", "tamil", "turkish",
)


class _Stemmer(Kind):
    def read(self, node: Node) -> dict[str, Any]:
        fields = node.fields({"type", "language"}, '{"type": "snowball", "language": ...} or {"type": "none"}')
        kind = Enum("snowball", "none").read(fields.require("type"))
        if kind == "none":
            return {"type": "none"}
        return {"type": "snowball", "language": SNOWBALL_LANGUAGES.read(fields.require("language"))}


_INDEX_COMMON: dict[str, Kind] = {"type": STRING, "on_disk": BOOL, "memory": MEMORY, "enable_hnsw": BOOL,
                                  "nested": STRING}
PAYLOAD_INDEX_PARAMS: dict[str, Obj] = {
    "keyword": Obj({**_INDEX_COMMON, "is_tenant": BOOL, "prefix": BOOL}),
    "integer": Obj({**_INDEX_COMMON, "lookup": BOOL, "range": BOOL, "is_principal": BOOL}),
    "float": Obj({**_INDEX_COMMON, "is_principal": BOOL}),
    "datetime": Obj({**_INDEX_COMMON, "is_principal": BOOL}),
    "geo": Obj(_INDEX_COMMON),
    "bool": Obj(_INDEX_COMMON),
    "uuid": Obj({**_INDEX_COMMON, "is_tenant": BOOL}),
    "text": Obj({
        **_INDEX_COMMON, "tokenizer": Enum("prefix", "whitespace", "word", "multilingual", "code"),
        "min_token_len": UINT, "max_token_len": UINT, "lowercase": BOOL, "ascii_folding": BOOL,
        "phrase_matching": BOOL,
        "stopwords": Either(STOPWORD_LANGUAGES, Obj({"languages": ListOf(STOPWORD_LANGUAGES), "custom": ListOf(STRING)})),
        "stemmer": _Stemmer(), "scoring": Obj({"type": Enum("bm25")}, required=("type",)),
    }),
}
