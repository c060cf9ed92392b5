"""Collection configuration <-> JSON file, and the fsync helpers every durable file goes through."""

from __future__ import annotations

import json
import os
from pathlib import Path

from vecinfer.domain.collections import (
    CollectionConfig,
    DenseVectorParams,
    Distance,
    HnswConfig,
    Modifier,
    OptimizersConfig,
    SparseVectorParams,
    strict_mode_from,
    strict_mode_settings,
)


def dump(config: CollectionConfig) -> dict:
    return {
        "dense": {n: {"size": p.size, "distance": p.distance.value, "extra": p.extra} for n, p in config.dense.items()},
        "sparse": {n: {"modifier": p.modifier.value, "extra": p.extra} for n, p in config.sparse.items()},
        "hnsw": vars(config.hnsw),
        "optimizers": vars(config.optimizers),
        "unnamed": config.unnamed,
        "created_at": config.created_at,
        "metadata": config.metadata,
        "wal": config.wal,
        "params": config.params,
        "quantization": config.quantization,
        "strict_mode": strict_mode_settings(config.strict_mode) if config.strict_mode is not None else None,
    }


def load(data: dict) -> CollectionConfig:
    # Keys added later are optional, so that folders written before them still open.
    defaults = CollectionConfig()
    strict_mode = data.get("strict_mode")
    return CollectionConfig(
        dense={n: DenseVectorParams(p["size"], Distance(p["distance"]), p.get("extra", {}))
               for n, p in data["dense"].items()},
        sparse={n: SparseVectorParams(Modifier(p["modifier"]), p.get("extra", {})) for n, p in data["sparse"].items()},
        hnsw=HnswConfig(**data["hnsw"]),
        optimizers=OptimizersConfig(**data["optimizers"]),
        unnamed=data["unnamed"],
        created_at=data["created_at"],
        metadata=data.get("metadata", {}),
        wal=data.get("wal", defaults.wal),
        params=data.get("params", defaults.params),
        quantization=data.get("quantization"),
        strict_mode=strict_mode_from(strict_mode) if strict_mode is not None else None,
    )


def write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def sync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(directory: Path) -> None:
    """fsync every file in `directory`, the folder itself and its parent (which names it)."""
    for entry in directory.iterdir():
        if entry.is_file():
            sync_file(entry)
    sync_file(directory)
    sync_file(directory.parent)


def save(path: Path, config: CollectionConfig) -> None:
    write_atomically(path, json.dumps(dump(config), indent=2).encode())


def read(path: Path) -> CollectionConfig:
    return load(json.loads(path.read_text()))
