"""One Settings object from command-line flags and VECINFER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"not a boolean: {text!r} (use true or false)")


def _optional_path(text: str) -> Path | None:
    return Path(text) if text else None


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    grpc_port: int = 6334
    http_port: int = 6333
    storage_dir: Path = Path("./storage")
    # The write-ahead log is folded into a snapshot once it grows past this many bytes.
    wal_checkpoint_bytes: int = 64 << 20
    # Seconds that in-flight requests get to finish on SIGTERM / SIGINT.
    shutdown_grace_seconds: float = 10.0
    log_level: str = "INFO"
    # Largest REST request body (Qdrant's service.max_request_size_mb).
    rest_max_request_mb: int = 32
    # Largest gRPC message, either way.
    grpc_max_message_mb: int = 64
    # The gRPC door's worker threads: calls in progress at once (more wait their turn). A call
    # that embeds holds one while it waits for inference, so this also bounds how many gRPC
    # calls the inference micro-batches can gather; a thread that waits costs memory, not CPU.
    grpc_workers: int = 256
    # Streaming calls (health Watch, reflection) open at once: each holds a worker thread for
    # as long as its client keeps it open. Must leave workers for everything else.
    grpc_max_streams: int = 32

    # Authentication (Qdrant's service.api_key / read_only_api_key): when set, every request
    # but the health endpoints must carry one of them (`api-key` metadata or header, or
    # `Authorization: Bearer`); the read-only key may not write.
    api_key: str = ""
    read_only_api_key: str = ""
    # TLS on both doors: certificate chain and key (PEM); with a CA, clients must present a
    # certificate it signed.
    tls_cert: Path | None = None
    tls_key: Path | None = None
    tls_ca: Path | None = None

    # Gateway mode: vecinfer keeps no storage and forwards to a Qdrant cluster (or another
    # vecinfer): gRPC to `upstream` (HOST:PORT[,HOST:PORT...], round-robin with health checks),
    # REST to `upstream_http` (HOST:PORT). Inference objects are resolved here first.
    upstream: str = ""
    upstream_http: str = ""
    upstream_tls: bool = False
    upstream_ca: Path | None = None
    # Sent as `api-key` to the upstream instead of the caller's; provider keys never go upstream.
    upstream_api_key: str = ""

    # Bounds on one request, checked before any work starts.
    max_points_per_request: int = 100_000
    max_limit: int = 100_000  # query/scroll `limit` and `offset`
    max_hnsw_ef: int = 100_000
    max_hnsw_m: int = 256
    max_hnsw_ef_construct: int = 10_000
    max_filter_depth: int = 64
    max_prefetch_depth: int = 64
    # Segments one dense query may search side by side (FAISS and numpy release the GIL), when it
    # is the only search running; beside other searches it searches them in turn (storage/segments.py).
    search_threads: int = max(1, os.cpu_count() or 1)

    # Local models: extra ONNX model folders, and where prepared graphs are cached.
    models_dir: Path | None = None
    cache_dir: Path = Path(os.path.expanduser("~/.cache/vecinfer"))
    # Concurrent requests to one local model are batched up to this size / wait.
    inference_max_batch: int = 64
    inference_max_wait_ms: float = 5.0
    # Batches that run at once per model (one core each).
    inference_workers: int = max(1, os.cpu_count() or 1)
    # Text longer than this many characters is refused before tokenisation (every model, BM25 too).
    max_text_chars: int = 1_000_000
    # Inference objects, and their characters in all, that one request may carry.
    max_inference_inputs: int = 10_000
    max_request_text_chars: int = 10_000_000
    # Persistent embedding cache (inference/cache.py): bytes on disk, 0 turns it off; where it
    # lives (default: <storage_dir>/embedding-cache, in gateway mode <cache_dir>/embeddings).
    embedding_cache_bytes: int = 256 << 20
    embedding_cache_dir: Path | None = None

    # Image inputs.
    image_max_bytes: int = 20 << 20
    image_max_pixels: int = 40_000_000
    image_fetch_timeout_seconds: float = 10.0
    image_max_redirects: int = 3
    image_allow_private_networks: bool = False

    # Snapshots: collection archives in `<snapshots_dir>/<collection>/`, full-storage ones in
    # `<snapshots_dir>/`. The byte bound holds for an uploaded archive and for one fetched from
    # a URL to recover from; URL fetches have the image fetches' address guard (private,
    # loopback and link-local addresses refused unless allowed here) and a time bound of their own.
    snapshots_dir: Path = Path("./snapshots")
    snapshot_max_bytes: int = 16 << 30
    snapshot_fetch_timeout_seconds: float = 3600.0
    snapshot_max_redirects: int = 3
    snapshot_allow_private_networks: bool = False
    # At startup, recover every collection (and alias) of this full snapshot first; a collection
    # of the same name is replaced only with `force_snapshot`.
    storage_snapshot: Path | None = None
    force_snapshot: bool = False

    # External embedding providers (model prefixes openai/, cohere/, jinaai/, openrouter/).
    openai_base_url: str = "https://api.openai.com/v1"
    cohere_base_url: str = "https://api.cohere.com/v2"
    jina_base_url: str = "https://api.jina.ai/v1"
    openrouter_base_url: str = "https://openrouter.ai/api/v1"
    # Server-side provider keys, used when a request brings none (e.g. from a Kubernetes Secret).
    # A key a request sends always wins; keys are never logged or stored.
    openai_api_key: str = field(default="", repr=False)
    cohere_api_key: str = field(default="", repr=False)
    jina_api_key: str = field(default="", repr=False)
    openrouter_api_key: str = field(default="", repr=False)
    # One upstream call may take this long; retries stay within the client's gRPC deadline.
    provider_timeout_seconds: float = 30.0
    provider_max_attempts: int = 4

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """Defaults < VECINFER_<FIELD> environment variables < explicit overrides (flags)."""
        values: dict[str, Any] = {}
        for f in fields(cls):
            env = os.environ.get(f"VECINFER_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        typed: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in values:
                continue
            value = values[f.name]
            if isinstance(value, str):
                default: Any = f.default
                if isinstance(default, bool):
                    value = _bool(value)
                elif default is None:
                    value = _optional_path(value)
                else:
                    value = type(default)(value)
            typed[f.name] = value
        return cls(**typed)
