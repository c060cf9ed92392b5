"""Columns of points on disk: ids, payloads, presence flags, sparse and multivector columns.

A checkpoint's mutable segment and a sealed segment's changeable state are folders of such
files (docs/storage-format.md, "Point tables"). Arrays are `.npy` files read with
`allow_pickle=False`; payloads are one JSON array. Every loader checks that the columns agree
in length, so a damaged or hand-made folder is refused rather than half loaded."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import numpy as np

from vecinfer.domain.points import PointId, SparseVector

# A point id as a fixed-size record: kind 0 = number (in `low`), 1 = UUID (128 bits in high, low).
ID_DTYPE = np.dtype([("kind", "u1"), ("high", "<u8"), ("low", "<u8")])
_LOW_MASK = (1 << 64) - 1


class TableFormatError(ValueError):
    """Point table files that are missing, malformed or disagree with each other."""


def column_name(kind: str, vector_name: str, part: str = "") -> str:
    """File name of one column of a named vector (names are hex-encoded: any string is safe)."""
    suffix = f"-{part}" if part else ""
    return f"{kind}-{vector_name.encode().hex()}{suffix}.npy"


# ------------------------------------------------------------------------------ files


def save_array(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def load_array(path: Path, dtype: str, ndim: int, mmap: bool = False) -> np.ndarray:
    try:
        array = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except FileNotFoundError:
        raise TableFormatError(f"{path} is missing") from None
    except (ValueError, OSError, EOFError) as exc:
        raise TableFormatError(f"{path} is not a readable .npy array ({exc})") from None
    if array.dtype != np.dtype(dtype) or array.ndim != ndim:
        raise TableFormatError(f"{path} holds {array.dtype} of {array.ndim} dimensions, expected {dtype} of {ndim}")
    return array


def save_json(path: Path, value: Any) -> None:
    with open(path, "wb") as f:
        f.write(json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode())
        f.flush()
        os.fsync(f.fileno())


def load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise TableFormatError(f"{path} is missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise TableFormatError(f"{path} is not JSON ({exc})") from None


# ------------------------------------------------------------------------------ columns


def encode_ids(ids: list[PointId]) -> np.ndarray:
    out = np.zeros(len(ids), dtype=ID_DTYPE)
    for i, point_id in enumerate(ids):
        if isinstance(point_id, int):
            out[i] = (0, 0, point_id)
        else:
            value = uuid.UUID(point_id).int
            out[i] = (1, value >> 64, value & _LOW_MASK)
    return out


def decode_ids(array: np.ndarray, where: Path) -> list[PointId]:
    if array.dtype != ID_DTYPE or array.ndim != 1:
        raise TableFormatError(f"{where}: ids must be a 1-D array of {ID_DTYPE}")
    kinds = array["kind"]
    if np.any(kinds > 1):
        raise TableFormatError(f"{where}: an id of unknown kind")
    highs = array["high"].tolist()
    lows = array["low"].tolist()
    return [low if kind == 0 else str(uuid.UUID(int=(high << 64) | low))
            for kind, high, low in zip(kinds.tolist(), highs, lows)]


def save_ids(path: Path, ids: list[PointId]) -> None:
    save_array(path, encode_ids(ids))


def load_ids(path: Path) -> list[PointId]:
    try:
        array = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise TableFormatError(f"{path} is missing") from None
    except (ValueError, OSError, EOFError) as exc:
        raise TableFormatError(f"{path} is not a readable .npy array ({exc})") from None
    return decode_ids(array, path)


def save_payloads(path: Path, payloads: list[dict[str, Any] | None]) -> None:
    save_json(path, payloads)


def load_payloads(path: Path, count: int) -> list[dict[str, Any] | None]:
    payloads = load_json(path)
    if not isinstance(payloads, list) or len(payloads) != count:
        raise TableFormatError(f"{path}: expected a JSON array of {count} payloads")
    if not all(p is None or isinstance(p, dict) for p in payloads):
        raise TableFormatError(f"{path}: each payload is a JSON object or null")
    return payloads


def save_sparse(directory: Path, name: str, column: list[SparseVector | None]) -> None:
    present = np.array([v is not None for v in column], dtype=np.bool_)
    lengths = np.array([len(v.indices) if v is not None else 0 for v in column], dtype=np.int64)
    offsets = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(lengths)])
    vectors = [v for v in column if v is not None]
    indices = np.concatenate([v.indices for v in vectors]).astype(np.uint32) if vectors else np.empty(0, np.uint32)
    values = np.concatenate([v.values for v in vectors]).astype(np.float32) if vectors else np.empty(0, np.float32)
    save_array(directory / column_name("sparse", name, "present"), present)
    save_array(directory / column_name("sparse", name, "offsets"), offsets)
    save_array(directory / column_name("sparse", name, "indices"), indices)
    save_array(directory / column_name("sparse", name, "values"), values)


def load_sparse(directory: Path, name: str, count: int) -> list[SparseVector | None]:
    present = load_array(directory / column_name("sparse", name, "present"), "bool", 1)
    offsets = load_array(directory / column_name("sparse", name, "offsets"), "int64", 1)
    indices = load_array(directory / column_name("sparse", name, "indices"), "uint32", 1)
    values = load_array(directory / column_name("sparse", name, "values"), "float32", 1)
    if len(present) != count or len(offsets) != count + 1 or len(indices) != len(values) \
            or offsets[0] != 0 or offsets[-1] != len(indices) or np.any(np.diff(offsets) < 0):
        raise TableFormatError(f"{directory}: the sparse columns of vector {name!r} do not agree")
    bounds = offsets.tolist()
    return [SparseVector(indices[bounds[i]:bounds[i + 1]].copy(), values[bounds[i]:bounds[i + 1]].copy())
            if flag else None for i, flag in enumerate(present.tolist())]


def save_multi_column(directory: Path, name: str, column: list[np.ndarray | None], size: int) -> None:
    present = np.array([m is not None for m in column], dtype=np.bool_)
    counts = np.array([len(m) if m is not None else 0 for m in column], dtype=np.int64)
    starts = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(counts)[:-1]]) if len(column) else counts
    matrices = [m for m in column if m is not None]
    rows = np.concatenate(matrices).astype(np.float32) if matrices else np.empty((0, size), np.float32)
    save_array(directory / column_name("multi", name, "present"), present)
    save_array(directory / column_name("multi", name, "rows"), rows)
    save_array(directory / column_name("multi", name, "layout"), np.stack([starts, counts], axis=1).reshape(-1, 2))


def load_multi_column(directory: Path, name: str, count: int, size: int) -> list[np.ndarray | None]:
    present = load_array(directory / column_name("multi", name, "present"), "bool", 1)
    rows = load_array(directory / column_name("multi", name, "rows"), "float32", 2)
    layout = load_array(directory / column_name("multi", name, "layout"), "int64", 2)
    if len(present) != count or layout.shape != (count, 2) or rows.shape[1] != size \
            or np.any(layout < 0) or (count and int((layout[:, 0] + layout[:, 1]).max()) > len(rows)):
        raise TableFormatError(f"{directory}: the multivector columns of vector {name!r} do not agree")
    return [rows[start:start + n].copy() if flag else None
            for flag, (start, n) in zip(present.tolist(), layout.tolist())]


# ------------------------------------------------------------------------------ tables


def save_export(directory: Path, data: dict[str, Any], sizes: dict[str, int]) -> None:
    """A segment's live points (`Segment.export_live`) as a folder; `sizes`: dimension per
    dense or multivector name."""
    directory.mkdir(parents=True, exist_ok=True)
    save_ids(directory / "ids.npy", data["ids"])
    save_payloads(directory / "payloads.json", data["payloads"])
    for name, (rows, present) in data["dense"].items():
        save_array(directory / column_name("dense", name, "rows"), np.asarray(rows, dtype=np.float32))
        save_array(directory / column_name("dense", name, "present"), np.asarray(present, dtype=np.bool_))
    for name, matrices in data["multi"].items():
        save_multi_column(directory, name, matrices, sizes[name])
    for name, column in data["sparse"].items():
        save_sparse(directory, name, column)


def load_export(directory: Path, dense: dict[str, int], multi: dict[str, int], sparse: list[str]) -> dict[str, Any]:
    """What `save_export` wrote, for the collection's current vector names (dimension each)."""
    ids = load_ids(directory / "ids.npy")
    count = len(ids)
    data: dict[str, Any] = {"ids": ids, "payloads": load_payloads(directory / "payloads.json", count),
                            "dense": {}, "multi": {}, "sparse": {}}
    for name, size in dense.items():
        rows = load_array(directory / column_name("dense", name, "rows"), "float32", 2)
        present = load_array(directory / column_name("dense", name, "present"), "bool", 1)
        if rows.shape != (count, size) or len(present) != count:
            raise TableFormatError(f"{directory}: vector {name!r} has {rows.shape} rows, expected ({count}, {size})")
        data["dense"][name] = (rows, present)
    for name, size in multi.items():
        data["multi"][name] = load_multi_column(directory, name, count, size)
    for name in sparse:
        data["sparse"][name] = load_sparse(directory, name, count)
    return data


def save_state(directory: Path, state: dict[str, Any]) -> None:
    """A sealed segment's changeable state (`Segment.sealed_state`) as a folder."""
    directory.mkdir(parents=True, exist_ok=True)
    alive = np.asarray(state["alive"], dtype=np.bool_)
    save_array(directory / "alive.npy", alive)
    save_payloads(directory / "payloads.json", state["payloads"])
    for name, present in state["present"].items():
        # Rows appended without this vector may have no flag yet: they are absent.
        flags = np.zeros(len(alive), dtype=np.bool_)
        flags[: len(present)] = np.asarray(present, dtype=np.bool_)[: len(alive)]
        save_array(directory / column_name("present", name), flags)
    for name, column in state["sparse"].items():
        save_sparse(directory, name, column)


def load_state(directory: Path, count: int, dense_names: list[str], sparse_names: list[str]) -> dict[str, Any]:
    alive = load_array(directory / "alive.npy", "bool", 1)
    if len(alive) != count:
        raise TableFormatError(f"{directory}: {len(alive)} alive flags for a segment of {count} points")
    state: dict[str, Any] = {"alive": np.array(alive), "payloads": load_payloads(directory / "payloads.json", count),
                             "present": {}, "sparse": {}}
    for name in dense_names:
        present = load_array(directory / column_name("present", name), "bool", 1)
        if len(present) != count:
            raise TableFormatError(f"{directory}: {len(present)} presence flags of {name!r} for {count} points")
        state["present"][name] = np.array(present)
    for name in sparse_names:
        state["sparse"][name] = load_sparse(directory, name, count)
    return state
