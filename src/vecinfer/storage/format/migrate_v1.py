"""Convert a collection folder from format 1 (pickled WAL records, checkpoint and segment
state, before format.json existed) to the current format, once, at startup.

Format 1 files are read with an unpickler that builds only numpy arrays and vecinfer's own
domain classes; any other class in them stops the conversion (the collection is then
quarantined, its files kept). New files are written beside the old ones and `format.json` is
written last: a conversion that stops half way is started again from the old files."""

from __future__ import annotations

import io
import json
import logging
import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from vecinfer.domain import filters as domain_filters
from vecinfer.domain import points as domain_points
from vecinfer.domain.collections import CollectionConfig, PayloadIndex
from vecinfer.storage.config_file import sync_file, sync_tree, write_atomically
from vecinfer.storage.format import operations as records
from vecinfer.storage.format import tables
from vecinfer.storage.format import version as storage_format
from vecinfer.storage.multidense import is_multivector
from vecinfer.storage.wal import WriteAheadLog, frame

log = logging.getLogger(__name__)

V1_CHECKPOINT = "snapshot.pkl"
V1_WAL = "wal.log"
V1_IDS = "ids.pkl"
V1_STATE_GLOB = "state-*.pkl"
# Names of the current format (kept here as plain strings: collection.py imports this module).
CHECKPOINT_FILE = "checkpoint.json"
CHECKPOINTS_DIR = "checkpoints"
WAL_FILE = "operations.log"
SEGMENTS_DIR = "segments"
TAG = "v1"

_NUMPY = {
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
}
_DOMAIN_MODULES = {"vecinfer.domain.points": domain_points, "vecinfer.domain.filters": domain_filters}
_BUILTINS = {"frozenset", "set", "tuple", "list", "dict"}


class MigrationError(Exception):
    """A format 1 folder that cannot be converted (damaged, or holding what format 1 never held)."""


class _FormatOneUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _NUMPY or (module == "builtins" and name in _BUILTINS):
            return super().find_class(module, name)
        if module == "vecinfer.domain.collections" and name == "PayloadIndex":
            return PayloadIndex
        source = _DOMAIN_MODULES.get(module)
        if source is not None:
            value = getattr(source, name, None)
            if isinstance(value, type) and value.__module__ == module:
                return value
        raise pickle.UnpicklingError(f"{module}.{name} is not something format 1 stored")


def _unpickle(data: bytes) -> Any:
    try:
        return _FormatOneUnpickler(io.BytesIO(data)).load()
    except Exception as exc:  # any malformed pickle: the folder is reported, never loaded half
        raise MigrationError(f"a format 1 file does not load ({type(exc).__name__}: {exc})") from None


def _unpickle_file(path: Path) -> Any:
    try:
        return _unpickle(path.read_bytes())
    except OSError as exc:
        raise MigrationError(f"{path} does not read: {exc}") from None


def is_v1(folder: Path) -> bool:
    return (folder / V1_CHECKPOINT).exists() or (folder / V1_WAL).exists()


def migrate(folder: Path, config: CollectionConfig) -> None:
    log.warning("collection folder %s is in storage format 1 (pickled): converting it to format %d",
                folder, storage_format.CURRENT)
    _remove_partial(folder)
    segments = folder / SEGMENTS_DIR
    checkpoint = folder / V1_CHECKPOINT
    if not checkpoint.exists() and segments.exists() and any(segments.iterdir()):
        raise MigrationError(f"{checkpoint} is missing but {segments} holds segments")
    if checkpoint.exists():
        _convert_checkpoint(folder, config, _unpickle_file(checkpoint))
    if (folder / V1_WAL).exists():
        _convert_log(folder)
    storage_format.write(folder)  # from here on the folder is in the current format
    remove_leftovers(folder)
    log.warning("collection folder %s converted to storage format %d", folder, storage_format.CURRENT)


def _convert_checkpoint(folder: Path, config: CollectionConfig, data: Any) -> None:
    if not isinstance(data, dict) or not {"seq", "payload_schema", "mutable", "sealed"} <= set(data):
        raise MigrationError(f"{folder / V1_CHECKPOINT} is not a format 1 checkpoint")
    sealed = []
    for entry in data["sealed"]:
        directory = folder / SEGMENTS_DIR / entry["dir"]
        ids = _unpickle_file(directory / V1_IDS)
        tables.save_ids(directory / "ids.npy", list(ids))
        state = _unpickle_file(directory / entry["state_file"])
        state_name = f"state-{TAG}"
        tables.save_state(directory / state_name, state)
        sync_tree(directory / state_name)
        sync_file(directory)
        sealed.append({"segment": entry["dir"], "state": state_name})
    mutable = dict(data["mutable"])
    count = len(mutable["ids"])
    multi_names = [n for n, p in config.dense.items() if is_multivector(p)]
    mutable["multi"] = {name: mutable.get("multi", {}).get(name, [None] * count) for name in multi_names}
    tables.save_export(folder / CHECKPOINTS_DIR / TAG, mutable, {n: p.size for n, p in config.dense.items()})
    sync_tree(folder / CHECKPOINTS_DIR / TAG)
    schema = {}
    for field, index in data["payload_schema"].items():
        index = index if isinstance(index, PayloadIndex) else PayloadIndex(str(index))
        schema[field] = {"type": index.type, "params": index.params}
    manifest = {"seq": int(data["seq"]), "payload_schema": schema, "mutable": TAG, "sealed": sealed}
    write_atomically(folder / CHECKPOINT_FILE, json.dumps(manifest, indent=1).encode())


def _convert_log(folder: Path) -> None:
    """Re-encode every whole record; a torn tail is kept aside, as replay always does."""
    old = WriteAheadLog(folder / V1_WAL)
    target = folder / (WAL_FILE + ".converting")
    try:
        with open(target, "wb") as out:
            for seq, operations in old.replay(_unpickle):
                out.write(frame(records.encode(int(seq), list(operations))))
            out.flush()
            os.fsync(out.fileno())
    finally:
        old.close()
    os.replace(target, folder / WAL_FILE)
    sync_file(folder)


def _remove_partial(folder: Path) -> None:
    """What an earlier conversion of this folder wrote before it stopped."""
    for name in (CHECKPOINT_FILE, WAL_FILE, WAL_FILE + ".converting"):
        (folder / name).unlink(missing_ok=True)
    shutil.rmtree(folder / CHECKPOINTS_DIR, ignore_errors=True)
    segments = folder / SEGMENTS_DIR
    if segments.exists():
        for directory in segments.iterdir():
            (directory / "ids.npy").unlink(missing_ok=True)
            shutil.rmtree(directory / f"state-{TAG}", ignore_errors=True)


def remove_leftovers(folder: Path) -> None:
    """Format 1 files a finished conversion no longer needs (it stopped before removing them)."""
    for name in (V1_CHECKPOINT, V1_WAL):
        (folder / name).unlink(missing_ok=True)
    segments = folder / SEGMENTS_DIR
    if segments.exists():
        for directory in segments.iterdir():
            (directory / V1_IDS).unlink(missing_ok=True)
            for state in directory.glob(V1_STATE_GLOB):
                state.unlink(missing_ok=True)

