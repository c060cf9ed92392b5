"""API keys as Qdrant checks them, for both doors: a full key and a read-only key, sent as
`api-key` (gRPC metadata or HTTP header) or `Authorization: Bearer <key>`."""

from __future__ import annotations

import enum
import hmac
import re

from vecinfer.config import Settings

MISSING = "Must provide an API key or an Authorization bearer token"
INVALID = "Invalid API key or JWT"
READ_ONLY = "Forbidden: the read-only API key cannot change data; use the full API key"

# gRPC methods anyone may call, and the ones that change data.
OPEN_GRPC_METHODS = frozenset({
    "/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch", "/qdrant.Qdrant/HealthCheck",
})
# Methods the read-only key may call; every other method (writes, snapshots, cluster and shard
# operations, and whatever a newer API adds) needs the full key — in gateway mode too, where
# everything is forwarded upstream.
READ_GRPC_METHODS = frozenset(
    [f"/qdrant.Collections/{m}" for m in ("Get", "List", "CollectionExists", "ListAliases",
                                          "ListCollectionAliases", "CollectionClusterInfo", "ListShardKeys")]
    + [f"/qdrant.Points/{m}" for m in ("Get", "Scroll", "Count", "Query", "QueryBatch", "QueryGroups", "Facet",
                                       "SearchMatrixPairs", "SearchMatrixOffsets", "Search", "SearchBatch",
                                       "SearchGroups", "Recommend", "RecommendBatch", "RecommendGroups",
                                       "Discover", "DiscoverBatch")]
    + [f"/qdrant.Snapshots/{m}" for m in ("List", "ListFull")]
    + ["/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
       "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"]
)
# REST paths anyone may call.
OPEN_REST_PATHS = frozenset({"/", "/healthz", "/livez", "/readyz"})
# POST requests that only read.
_REST_READ_POST = re.compile(
    r"^/collections/[^/]+/(points(/(scroll|count|query(/batch|/groups)?|search(/.*)?|recommend(/.*)?"
    r"|discover(/.*)?))?|facet)$"
)


class Access(enum.Enum):
    FULL = "full"
    READ = "read"


class AccessKeys:
    def __init__(self, settings: Settings) -> None:
        self._full = settings.api_key.encode()
        self._read = settings.read_only_api_key.encode()

    @property
    def enabled(self) -> bool:
        return bool(self._full or self._read)

    def check(self, api_key: str | None, authorization: str | None) -> Access | None:
        """The access a request's credentials give, or None when they give none."""
        presented = api_key
        if presented is None and authorization and authorization[:7].lower() == "bearer ":
            presented = authorization[7:].strip()
        if presented is None:
            return None
        given = presented.encode()
        # Both comparisons always run: the time taken says nothing about which key was close.
        full = bool(self._full) & hmac.compare_digest(given, self._full)
        read = bool(self._read) & hmac.compare_digest(given, self._read)
        if full:
            return Access.FULL
        if read:
            return Access.READ
        return None


def is_rest_write(method: str, path: str) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    if method == "POST":
        return _REST_READ_POST.match(path) is None
    return True
