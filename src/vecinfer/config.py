"""One Settings object from command-line flags and VECINFER_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path


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

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults < VECINFER_<FIELD> environment variables < explicit overrides (flags)."""
        values = {}
        for f in fields(cls):
            env = os.environ.get(f"VECINFER_{f.name.upper()}")
            if env is not None:
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        typed = {}
        for f in fields(cls):
            if f.name in values:
                kind = type(getattr(cls, f.name))
                typed[f.name] = kind(values[f.name])
        return cls(**typed)
