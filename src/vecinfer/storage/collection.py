"""One collection on disk: config, segments, a write-ahead log and checkpoints.

A request's operations are validated as a whole, logged with one fsync, then applied; a bad
operation rejects the whole request before anything reaches the log. When the mutable segment
outgrows `indexing_threshold`, it is sealed (rows written to its own folder, a checkpoint
taken) and the optimizer builds its HNSW graphs in the background.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import re
import shutil
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypedDict, cast

import numpy as np

from vecinfer.domain import json_path
from vecinfer.domain import points as ops
from vecinfer.domain.collections import (
    CollectionConfig,
    CollectionInfo,
    CollectionUpdate,
    Distance,
    Modifier,
    PayloadIndex,
    PayloadIndexInfo,
    hnsw_with,
    merged_strict_mode,
    optimizers_with,
)
from vecinfer.domain.errors import InvalidArgument, NotFound, Unimplemented, clip, collection_not_found
from vecinfer.domain.filters import Filter
from vecinfer.domain.inference import INFERENCE_TYPES
from vecinfer.domain.points import DEFAULT_VECTOR, PointId, PointsSelector, SparseVector, VectorValue, check_payload
from vecinfer.domain.query import SearchParams
from vecinfer.storage import config_file, payload_edits
from vecinfer.storage.filters import PointView, check_filter, filter_mask, leaf_values, number_column
from vecinfer.storage.format import migrate_v1, tables
from vecinfer.storage.format import operations as records
from vecinfer.storage.format import version as storage_format
from vecinfer.storage.locks import ReadWriteLock
from vecinfer.storage.multidense import is_multivector
from vecinfer.storage.segment import Segment
from vecinfer.storage.segments import SegmentSet
from vecinfer.storage.text_match import matcher_for
from vecinfer.storage.wal import CorruptLog, LogClosed, WriteAheadLog, storage_error

log = logging.getLogger(__name__)

CONFIG_FILE = "config.json"
# The last checkpoint's manifest (JSON): operation number, payload indexes, which folder of
# CHECKPOINTS_DIR holds the mutable segment, and each sealed segment with its state folder.
CHECKPOINT_FILE = "checkpoint.json"
CHECKPOINTS_DIR = "checkpoints"
WAL_FILE = "operations.log"
SEGMENTS_DIR = "segments"


def describe_name(name: str) -> str:
    return "the unnamed vector" if name == DEFAULT_VECTOR else f"vector `{name}`"


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    """Each row divided by its length (zero rows stay zero). A row's result does not depend on
    the rows beside it, so a vector upserted alone or among many is stored the same."""
    matrix = np.asarray(matrix, dtype=np.float32)
    # np.linalg.norm(axis=1) to the bit, without its checks (half of a one-row call).
    norms = np.sqrt(np.add.reduce(matrix * matrix, axis=1, keepdims=True))
    if not norms.all():
        norms[norms == 0] = 1
    return matrix / norms


class SearchOptions(TypedDict):
    """Keyword arguments of a dense search (see `Collection.search_options`)."""

    exact: bool
    ef: int
    full_scan_points: int


# Told (outside any lock) that a collection has segment work for the optimizer.
OnChange = Callable[["Collection"], None]


class CollectionDamaged(Exception):
    """The collection's files do not load; it is quarantined, never repaired by deleting."""


class Collection:
    def __init__(self, name: str, path: Path, config: CollectionConfig, checkpoint_bytes: int,
                 on_change: OnChange | None = None) -> None:
        self.name = name
        self.path = path
        self.config = config
        self.lock = ReadWriteLock()  # `with lock:` writes; `with lock.reading():` reads
        self.segments = SegmentSet([], Segment(config))
        self.payload_schema: dict[str, PayloadIndex] = {}
        self.seq = 0
        self._checkpoint_bytes = checkpoint_bytes
        # Called (outside any lock) when a segment needs indexing or merging.
        self.on_change = on_change or (lambda collection: None)
        self.closed = False
        self.optimizing = False  # set by the optimizer while it has work queued for us
        self._open_format()
        has_checkpoint = self._load()
        self._refresh_text_matchers()
        self.wal = WriteAheadLog(path / WAL_FILE)
        try:
            first = True
            for seq, operations in self.wal.replay(records.decode):
                if first and not has_checkpoint and seq > 1:
                    raise CollectionDamaged(f"{path / CHECKPOINT_FILE} is missing: the log starts at operation {seq}")
                first = False
                if seq > self.seq:
                    for operation in operations:
                        self._apply(operation)
                    self.seq = seq
        except CorruptLog as exc:
            self.wal.close()
            raise CollectionDamaged(str(exc)) from None
        except BaseException:
            self.wal.close()
            raise

    @classmethod
    def create(cls, name: str, path: Path, config: CollectionConfig, checkpoint_bytes: int,
               on_change: OnChange | None = None) -> Collection:
        path.mkdir(parents=True)
        storage_format.write(path)
        config_file.save(path / CONFIG_FILE, config)
        return cls(name, path, config, checkpoint_bytes, on_change)

    @classmethod
    def open(cls, name: str, path: Path, checkpoint_bytes: int, on_change: OnChange | None = None) -> Collection:
        return cls(name, path, config_file.read(path / CONFIG_FILE), checkpoint_bytes, on_change)


    # ------------------------------------------------------------------ durability

    def _open_format(self) -> None:
        """Check the folder's format version; convert a version 1 (pickled) folder once."""
        try:
            found = storage_format.read(self.path)
        except storage_format.UnknownFormat as exc:
            raise CollectionDamaged(str(exc)) from None
        if found is None:
            if migrate_v1.is_v1(self.path):
                try:
                    migrate_v1.migrate(self.path, self.config)
                except (migrate_v1.MigrationError, tables.TableFormatError, CorruptLog) as exc:
                    raise CollectionDamaged(f"format 1 folder does not convert: {exc}") from None
            else:  # created before its format file landed: nothing was written yet
                storage_format.write(self.path)
        migrate_v1.remove_leftovers(self.path)

    def _load(self) -> bool:
        """Load the last checkpoint, if there is one; says whether there was."""
        manifest_path = self.path / CHECKPOINT_FILE
        referenced: set[str] = set()
        segments_dir = self.path / SEGMENTS_DIR
        if not manifest_path.exists() and segments_dir.exists() and any(segments_dir.iterdir()):
            raise CollectionDamaged(f"{manifest_path} is missing but {segments_dir} holds segments")
        mutable_dir = None
        if manifest_path.exists():
            try:
                manifest = read_manifest(manifest_path)
                self.seq = manifest["seq"]
                self.payload_schema = {field: PayloadIndex(index["type"], index["params"])
                                       for field, index in manifest["payload_schema"].items()}
                sealed = []
                for entry in manifest["sealed"]:
                    referenced.add(entry["segment"])
                    sealed.append(Segment.load_sealed(self.config, segments_dir / entry["segment"], entry["state"]))
                mutable_dir = manifest["mutable"]
                data = tables.load_export(self.path / CHECKPOINTS_DIR / mutable_dir, *self._columns())
            except (tables.TableFormatError, ManifestError) as exc:
                raise CollectionDamaged(str(exc)) from None
            self.segments = SegmentSet(sealed, Segment.from_export(self.config, data))
        if segments_dir.exists():
            for entry in segments_dir.iterdir():
                if entry.name not in referenced:  # sealed or merged, but no checkpoint took it in
                    shutil.rmtree(entry, ignore_errors=True)
        self._drop_other_checkpoints(mutable_dir)
        return manifest_path.exists()

    def _columns(self) -> tuple[dict[str, int], dict[str, int], list[str]]:
        """Dimension per dense name, per multivector name, and the sparse names."""
        dense = {n: p.size for n, p in self.config.dense.items() if not is_multivector(p)}
        multi = {n: p.size for n, p in self.config.dense.items() if is_multivector(p)}
        return dense, multi, list(self.config.sparse)

    def _drop_other_checkpoints(self, keep: str | None) -> None:
        folder = self.path / CHECKPOINTS_DIR
        if folder.exists():
            for entry in folder.iterdir():
                if entry.name != keep:
                    shutil.rmtree(entry, ignore_errors=True)

    def checkpoint(self) -> None:
        """Write a checkpoint (the mutable segment's live points in a new folder, and for each
        sealed segment the folder holding its changeable state; only changed segments write a
        new one), switch the manifest to it in one atomic rename, then empty the log."""
        with self.lock:
            mutable = self.segments.mutable.export_live()
            tag = f"{self.seq}-{uuid.uuid4().hex[:8]}"
            for segment in self.segments.sealed:
                segment.sync_files()  # on disk before the checkpoint that needs them
            folder = self.path / CHECKPOINTS_DIR / tag
            tables.save_export(folder, mutable, {n: p.size for n, p in self.config.dense.items()})
            config_file.sync_tree(folder)
            manifest = {
                "seq": self.seq,
                "payload_schema": {field: {"type": index.type, "params": index.params}
                                   for field, index in self.payload_schema.items()},
                "mutable": tag,
                "sealed": [{"segment": s.sealed_directory.name, "state": s.save_state(tag)}
                           for s in self.segments.sealed],
            }
            config_file.write_atomically(self.path / CHECKPOINT_FILE, json.dumps(manifest, indent=1).encode())
            for segment in self.segments.sealed:
                segment.drop_old_states()
            self._drop_other_checkpoints(tag)
            self.wal.reset()
            self.segments.replace_mutable(Segment.from_export(self.config, mutable))

    def pin_checkpoint(self, into: Path) -> None:
        """Take a checkpoint and hard-link the files it consists of into `into` (a folder on
        the same file system): a point-in-time copy that later writes, merges and checkpoints
        cannot change, made while writes wait only for the checkpoint and the links. The log
        (empty after the checkpoint), quarantine and HNSW graphs are left out."""
        with self.lock:
            if self.closed:
                raise collection_not_found(self.name)
            self.checkpoint()
            manifest = read_manifest(self.path / CHECKPOINT_FILE)
            names = [storage_format.FORMAT_FILE, CONFIG_FILE, CHECKPOINT_FILE]
            names += [f"{CHECKPOINTS_DIR}/{manifest['mutable']}/{f.name}"
                      for f in (self.path / CHECKPOINTS_DIR / manifest["mutable"]).iterdir()]
            for entry in manifest["sealed"]:
                segment = self.path / SEGMENTS_DIR / entry["segment"]
                names += [f"{SEGMENTS_DIR}/{entry['segment']}/{f.name}" for f in segment.iterdir()
                          if f.is_file() and not f.name.endswith(".faiss")]
                names += [f"{SEGMENTS_DIR}/{entry['segment']}/{entry['state']}/{f.name}"
                          for f in (segment / entry["state"]).iterdir()]
            for name in names:
                target = into / name
                target.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(self.path / name, target)
                except OSError:  # a file system without hard links: copy (still under the lock)
                    shutil.copy2(self.path / name, target)

    def _seal_if_full(self) -> bool:
        threshold_kb = self.config.optimizers.indexing_threshold
        mutable = self.segments.mutable
        if threshold_kb <= 0 or not self.config.dense or mutable.vector_bytes() < threshold_kb * 1024:
            return False
        directory = self.path / SEGMENTS_DIR / uuid.uuid4().hex
        sealed = mutable.seal(self.config, directory)
        self.segments.seal_mutable(sealed, Segment(self.config))
        self._checkpoint_quietly()
        return True

    def needs_optimizing(self) -> bool:
        """Segments still wait for a graph, or the optimizer has merges queued."""
        return self.optimizing or any(not s.indexed() for s in self.segments.sealed)

    def close(self) -> None:
        with self.lock:
            if self.wal.size() > 0:
                self._checkpoint_quietly()
            self.wal.close()
            self.closed = True

    def _checkpoint_quietly(self) -> None:
        """Checkpoint when the log holds everything anyway: a failure (a full disk) costs only
        a longer replay, so it is logged, not passed to the client whose write is durable."""
        try:
            self.checkpoint()
        except OSError:
            log.exception("collection %s: checkpoint failed; the write-ahead log keeps every write", self.name)

    # ------------------------------------------------------------------ writes

    def write(self, operations: list[ops.CollectionOperation]) -> int:
        """Validate all operations, log them, apply them. Returns the operation id."""
        with self.lock:
            if self.closed:  # deleted while this request waited for the lock
                raise collection_not_found(self.name)
            prepared = self._prepare_all(operations)
            missing = self._first_missing_payload_target(prepared)
            if missing is not None:
                # Qdrant updates the points that exist and then answers 404; a request here
                # applies whole or not at all, so the same 404 comes before anything is written.
                raise NotFound(f"Not found: No point with id {missing} found")
            seq = self.seq + 1
            position = self.wal.append(records.encode(seq, prepared))
            for operation in prepared:
                self._apply(operation)
            self.seq = seq
            try:
                sealed = self._seal_if_full()
            except OSError:
                log.exception("collection %s: sealing a segment failed; it stays mutable", self.name)
                sealed = False
            if not sealed and self.wal.size() > self._checkpoint_bytes:
                self._checkpoint_quietly()
            # A new sealed segment needs a graph; deletes in sealed ones may call for a vacuum.
            wake_optimizer = bool(self.segments.sealed)
        # Acknowledged once on disk; concurrent writers share one fsync. Readers may see the
        # write a moment before it is durable, as Qdrant's do.
        try:
            self.wal.sync(position)
        except LogClosed:
            raise collection_not_found(self.name) from None  # deleted while this write waited
        if wake_optimizer:
            self.on_change(self)
        return seq

    def _first_missing_payload_target(self, operations: list[ops.CollectionOperation]) -> PointId | None:
        """The first id a payload edit names that will not exist when it applies."""
        known = _IdTracker(self.segments.offset_of)
        for op in operations:
            if isinstance(op, ops.Upsert):
                for p in op.points:
                    known.add(p.id)
            elif isinstance(op, ops.DeletePoints) and op.selector.ids is not None:
                for point_id in op.selector.ids:
                    known.remove(point_id)
            elif isinstance(op, (ops.SetPayload, ops.OverwritePayload, ops.DeletePayload, ops.ClearPayload)):
                for point_id in op.selector.ids or ():
                    if not known.has(point_id):
                        return point_id
        return None

    def _prepare_all(self, operations: list[ops.CollectionOperation]) -> list[ops.CollectionOperation]:
        # Ids as they will stand after the earlier operations of this same request.
        known = _IdTracker(self.segments.offset_of)
        prepared = [self._prepare(op, known) for op in operations]
        for op in prepared:
            self._try_filters(op)
        return prepared

    def _try_filters(self, op: ops.CollectionOperation) -> None:
        """Evaluate the operation's filters once before it is logged: applying a logged
        operation must not fail, or the log would hold a write that is only half applied."""
        selector = getattr(op, "selector", None)
        for flt in (getattr(op, "update_filter", None), selector.filter if selector is not None else None):
            if flt is not None:
                filter_mask(self.segments, flt)

    def _prepare(self, op: ops.CollectionOperation, known: _IdTracker) -> ops.CollectionOperation:
        if isinstance(op, ops.Upsert):
            for p in op.points:
                check_payload(p.payload, f"point {p.id}")
            points = [ops.Point(p.id, vectors, p.payload)
                      for p, vectors in zip(op.points, self._prepare_point_vectors(op.points), strict=True)]
            for p in points:
                known.add(p.id)
            return ops.Upsert(points, op.update_filter, op.mode)
        if isinstance(op, ops.UpdateVectors):
            prepared = []
            for pv in op.points:
                if not known.has(pv.id):
                    raise NotFound(f"Not found: No point with id {pv.id} found")
                if not pv.vectors:
                    raise InvalidArgument(f"Point {pv.id}: update_vectors needs at least one vector")
                prepared.append(ops.PointVectors(pv.id, self.prepare_vectors(pv.vectors, pv.id)))
            return ops.UpdateVectors(prepared, op.update_filter)
        if isinstance(op, ops.DeleteVectors):
            for name in op.names:
                self.check_vector_name(name)
            return op
        if isinstance(op, ops.DeletePoints):
            if op.selector.ids is not None:
                for point_id in op.selector.ids:
                    known.remove(point_id)
            return op
        if isinstance(op, ops.SetPayload):
            steps = json_path.parse(op.key) if op.key is not None else ()
            check_payload(op.payload, "payload", nested_in=len(steps))
        if isinstance(op, ops.OverwritePayload):
            if op.key is not None:
                raise Unimplemented("`key` in overwrite_payload")
            check_payload(op.payload, "payload")
        if isinstance(op, ops.DeletePayload):
            for i, key in enumerate(op.keys):
                if not key.strip(". "):
                    raise InvalidArgument(f"delete_payload: keys[{i}] is empty: give a JSON path such as `a.b`")
                json_path.parse(key)
        return op

    def check_vector_name(self, name: str) -> None:
        if name not in self.config.dense and name not in self.config.sparse:
            known = sorted([*self.config.dense, *self.config.sparse])
            hint = ", ".join(repr(n) for n in known) if known else "none"
            raise InvalidArgument(
                f"Wrong input: Not existing vector name error: {clip(name)} (collection `{self.name}` has: {hint})"
            )

    def prepare_vectors(self, vectors: dict[str, Any], point_id: PointId | None = None) -> dict:
        """Check names, kinds and dimensions; normalise Cosine vectors."""
        where = f" (point {point_id})" if point_id is not None else ""
        out = {}
        for name, value in vectors.items():
            out[name] = self.prepare_vector(name, value, where)
        return out

    def _prepare_point_vectors(self, points: list[ops.Point]) -> list[dict]:
        """`prepare_vectors` of each point, with each dense name's plain vectors checked and
        normalised as one matrix (per point this was most of an upsert's Python time)."""
        batches: dict[str, list[tuple[dict, np.ndarray]]] = {}
        prepared = []
        try:
            for p in points:
                out: dict = {}
                for name, value in p.vectors.items():
                    params = self.config.dense.get(name)
                    if (params is not None and isinstance(value, np.ndarray) and value.ndim == 1
                            and len(value) == params.size and not is_multivector(params)):
                        batches.setdefault(name, []).append((out, value))
                    else:
                        out[name] = self.prepare_vector(name, value, f" (point {p.id})")
                prepared.append(out)
            for name, members in batches.items():
                matrix = np.stack([value for _, value in members]).astype(np.float32, copy=False)
                if not np.isfinite(matrix).all():
                    raise InvalidArgument("NaN or infinity")  # named by the point-by-point pass below
                if self.config.dense[name].distance is Distance.COSINE:
                    matrix = unit_rows(matrix)
                for (out, _), row in zip(members, matrix, strict=True):
                    out[name] = row
        except InvalidArgument:
            # The first bad vector in request order decides the message, as one at a time.
            return [self.prepare_vectors(p.vectors, p.id) for p in points]
        return prepared

    def prepare_vector(self, name: str, value: VectorValue | None, where: str = "") -> np.ndarray | SparseVector:
        self.check_vector_name(name)
        if isinstance(value, INFERENCE_TYPES):
            raise AssertionError("inference objects must be resolved before storage")
        if name in self.config.sparse:
            if not isinstance(value, SparseVector):
                raise InvalidArgument(
                    f"Wrong input: Wrong usage of sparse vectors: {describe_name(name)} is sparse, "
                    f"got a dense vector{where}"
                )
            order = np.argsort(value.indices, kind="stable")  # stored (and returned) sorted by index
            return SparseVector(value.indices[order], value.values[order])
        params = self.config.dense[name]
        if isinstance(value, SparseVector) and name == DEFAULT_VECTOR:
            raise InvalidArgument(
                f"Sparse vector must be named{where}: the unnamed vector is dense (dim {params.size}); "
                "send sparse vectors (e.g. from qdrant/bm25) under a sparse vector name"
            )
        if isinstance(value, SparseVector):
            raise InvalidArgument(
                f"Wrong input: Wrong usage of sparse vectors: {describe_name(name)} is dense "
                f"(dim {params.size}), got a sparse vector{where}"
            )
        vector = np.asarray(value, dtype=np.float32)
        if is_multivector(params):
            return self._prepare_multi(name, vector, where)
        if vector.ndim == 2:
            raise InvalidArgument(
                f"Wrong input: Conversion between multi and regular vectors failed: {describe_name(name)} "
                f"takes one vector of {params.size} numbers, got a multivector of {len(vector)}{where} "
                "(multivectors need a vector created with `multivector_config`)"
            )
        if vector.ndim != 1 or len(vector) != params.size:
            got = len(vector) if vector.ndim == 1 else f"an array of shape {vector.shape}"
            raise InvalidArgument(
                f"Wrong input: Vector dimension error: expected dim: {params.size}, got {got}"
                f" for {describe_name(name)}{where}"
            )
        if not np.all(np.isfinite(vector)):
            raise InvalidArgument(f"Vector for {describe_name(name)}{where} contains NaN or infinity")
        if params.distance is Distance.COSINE:
            return unit_rows(vector.reshape(1, -1))[0]
        return vector.copy()  # never the caller's array, which it may change later

    def _prepare_multi(self, name: str, matrix: np.ndarray, where: str) -> np.ndarray:
        """A multivector's value: a matrix of one or more rows of `size` numbers; Cosine rows
        are normalised one by one."""
        size = self.config.dense[name].size
        if matrix.ndim == 1:
            # Also what a Document or Image embedded into this slot gives: the models give one
            # vector per input, never a matrix.
            raise InvalidArgument(
                f"Wrong input: Conversion between multi and regular vectors failed: {describe_name(name)} is a "
                f"multivector (`multivector_config`, compared by MaxSim) and takes a matrix of vectors of {size} "
                f"numbers, e.g. [[...], [...]], got a single vector{where}. An inference object (Document, Image) "
                "cannot fill it: its model gives one vector, not a matrix"
            )
        if matrix.ndim != 2 or len(matrix) == 0 or matrix.shape[1] != size:
            got = matrix.shape[1] if matrix.ndim == 2 and len(matrix) else 0
            raise InvalidArgument(
                f"Wrong input: Vector dimension error: expected dim: {size}, got {got} for {describe_name(name)}{where}"
            )
        if not np.all(np.isfinite(matrix)):
            raise InvalidArgument(f"Multivector for {describe_name(name)}{where} contains NaN or infinity")
        if self.config.dense[name].distance is Distance.COSINE:
            matrix = unit_rows(matrix)
        return np.ascontiguousarray(matrix, dtype=np.float32)

    # ------------------------------------------------------------------ apply (cannot fail)

    def select(self, selector: PointsSelector) -> list[PointId]:
        if selector.ids is not None:
            return [i for i in selector.ids if i in self.segments.offset_of]
        mask = filter_mask(self.segments, selector.filter)
        return [self.segments.id_at(o) for o in np.flatnonzero(mask).tolist()]

    def _matches(self, point_id: PointId, flt: Filter | None) -> bool:
        if flt is None:
            return True
        return check_filter(flt, self.point_view(self.segments.offset_of[point_id]))

    def _apply(self, op: ops.CollectionOperation) -> None:
        seg = self.segments
        if isinstance(op, ops.Upsert):
            # With distinct ids no point's checks depend on another's upsert: check them all,
            # then append the rows together. An id twice: each must see the ones before it.
            distinct = len({p.id for p in op.points}) == len(op.points)
            chosen: list[tuple[PointId, dict, dict[str, Any] | None]] = []
            for p in op.points:
                exists = p.id in seg.offset_of
                if (op.mode == "insert_only" and exists) or (op.mode == "update_only" and not exists):
                    continue
                if exists and not self._matches(p.id, op.update_filter):
                    continue
                if distinct:
                    chosen.append((p.id, p.vectors, copy.deepcopy(p.payload)))
                else:
                    seg.upsert(p.id, p.vectors, copy.deepcopy(p.payload))
            if chosen:
                seg.upsert_many(chosen)
        elif isinstance(op, ops.UpdateVectors):
            for pv in op.points:
                if pv.id in seg.offset_of and self._matches(pv.id, op.update_filter):
                    for name, vector in pv.vectors.items():
                        # Prepared operations hold arrays and sparse vectors only (prepare_vector saw to it).
                        seg.set_vector(pv.id, name, cast("np.ndarray | SparseVector", vector))
        elif isinstance(op, ops.DeleteVectors):
            for point_id in self.select(op.selector):
                for name in op.names:
                    seg.set_vector(point_id, name, None)
        elif isinstance(op, ops.DeletePoints):
            for point_id in self.select(op.selector):
                seg.delete(point_id)
        elif isinstance(op, ops.SetPayload):
            for point_id in self.select(op.selector):
                payload = copy.deepcopy(seg.payload(seg.offset_of[point_id]))
                steps = json_path.parse(op.key) if op.key is not None else ()
                seg.set_payload(point_id, payload_edits.set_at(payload, steps, op.payload))
        elif isinstance(op, ops.OverwritePayload):
            for point_id in self.select(op.selector):
                seg.set_payload(point_id, copy.deepcopy(op.payload))
        elif isinstance(op, ops.DeletePayload):
            for point_id in self.select(op.selector):
                payload = copy.deepcopy(seg.payload(seg.offset_of[point_id]))
                for key in op.keys:
                    payload_edits.delete_at(payload, json_path.parse(key))
                seg.set_payload(point_id, payload)
        elif isinstance(op, ops.ClearPayload):
            for point_id in self.select(op.selector):
                seg.set_payload(point_id, {})
        elif isinstance(op, ops.CreateFieldIndex):
            self.payload_schema[op.field] = PayloadIndex(op.type, op.params)
            self._refresh_text_matchers()
        elif isinstance(op, ops.DeleteFieldIndex):
            self.payload_schema.pop(op.field, None)
            self._refresh_text_matchers()
        else:
            raise TypeError(f"unknown operation {op!r}")

    # ------------------------------------------------------------------ reads

    def is_multivector(self, name: str) -> bool:
        """A dense name created with `multivector_config`: its values are matrices, scored by MaxSim."""
        params = self.config.dense.get(name)
        return params is not None and is_multivector(params)

    def search_options(self, name: str, params: SearchParams) -> SearchOptions:
        """How sealed segments search `name`: HNSW beam width, and below how many candidates
        (Qdrant's full_scan_threshold, in KB of vectors) exact scoring is used instead."""
        hnsw = self.config.hnsw_for(name)
        dim = self.config.dense[name].size
        return {
            "exact": bool(params.exact),
            "ef": int(params.hnsw_ef or hnsw.ef_construct),
            "full_scan_points": hnsw.full_scan_threshold * 1024 // (dim * 4),
        }

    def info(self) -> CollectionInfo:
        """Counts and settings as they stand; the caller holds the read lock."""
        segments = self.segments
        indexed = sum(len(s) for s in segments.sealed if s.indexed()) * len(self.config.dense)
        schema = {f: PayloadIndexInfo(index.type, self.count_with_field(f), index.params)
                  for f, index in self.payload_schema.items()}
        return CollectionInfo(
            config=self.config, status="yellow" if self.needs_optimizing() else "green",
            segments_count=len(segments.all), points_count=len(segments), indexed_vectors_count=indexed,
            payload_schema=schema,
        )

    def update_config(self, update: CollectionUpdate) -> None:
        """Apply changed settings and save them; graphs built from now on use the new HNSW
        settings, the optimizer reads its settings on its next pass."""
        with self.lock:
            if self.closed:
                raise collection_not_found(self.name)
            config = updated_config(self.config, update)
            try:
                config_file.save(self.path / CONFIG_FILE, config)
            except OSError as exc:
                raise storage_error(exc, "saving the collection's settings") from None
            self.config = config
        self.on_change(self)

    def _refresh_text_matchers(self) -> None:
        self.segments.text_matchers = {
            field: matcher_for(index.params or {"type": "text"})
            for field, index in self.payload_schema.items() if index.type == "text"
        }

    def count_with_field(self, field: str) -> int:
        try:
            json_path.parse(field)
        except InvalidArgument:
            return 0  # an index key from before keys were checked: nothing can be under it
        return sum(1 for offset, _ in self.segments.iter_live() if leaf_values(self.segments.payload(offset), field))

    # ------------------------------------------------------------------ typed read API
    # What the query layer reads, by offset (a point's position across all segments, stable
    # while the caller holds the read lock).

    def offset_of(self, point_id: PointId) -> int | None:
        return self.segments.offset_of.get(point_id)

    def id_at(self, offset: int) -> PointId:
        return self.segments.id_at(offset)

    def payload_at(self, offset: int) -> dict[str, Any]:
        return self.segments.payload(offset)

    def vector_at(self, offset: int, name: str) -> np.ndarray | SparseVector | None:
        return self.segments.vector(offset, name)

    def vectors_at(self, offset: int) -> dict[str, Any]:
        """Every vector the point holds, by name."""
        return self.segments.vectors(offset)

    def vector_mask(self, name: str) -> np.ndarray:
        """Boolean mask over all offsets: points holding the vector `name`."""
        return self.segments.vector_mask(name)

    def point_view(self, offset: int) -> PointView:
        """What a filter condition sees of one point: id, payload, vectors held, text indexes."""
        return PointView(self.segments.id_at(offset), self.segments.payload(offset),
                         lambda name: self.segments.has_vector(offset, name), self.segments.text_matchers)

    def matching(self, flt: Filter | None) -> np.ndarray:
        """Boolean mask over all offsets: live points that pass `flt`."""
        return filter_mask(self.segments, flt)

    def number_column(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """See storage.filters.number_column: a payload key's numbers over all offsets, or None."""
        return number_column(self.segments, key)

    def higher_is_better(self, name: str) -> bool:
        params = self.config.dense.get(name)
        return params is None or params.distance.higher_is_better

    def query_weights(self, name: str, vector: SparseVector, corpus: Filter | None) -> np.ndarray:
        """Per-index weights of a sparse query: IDF (over `corpus`, or all points) under the
        `idf` modifier, else ones."""
        if self.config.sparse[name].modifier is not Modifier.IDF:
            return np.ones(len(vector.indices), dtype=np.float32)
        mask = filter_mask(self.segments, corpus) if corpus is not None else None
        return self.segments.sparse[name].idf_weights(vector, mask)

    def search(self, name: str, vector: np.ndarray | SparseVector, k: int, mask: np.ndarray, params: SearchParams,
               weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `k` best (offsets, returned scores) among `mask`, best first. A multivector name
        takes a prepared matrix and scores by MaxSim (exactly)."""
        if isinstance(vector, SparseVector):
            assert weights is not None, "sparse searches take query weights"
            return self.segments.sparse[name].search(vector, k, mask, weights)
        return self.segments.dense[name].search(vector, k, mask, **self.search_options(name, params))

    def search_many(self, name: str, vectors: np.ndarray, k: int, mask: np.ndarray,
                    params: SearchParams) -> list[tuple[np.ndarray, np.ndarray]]:
        """`search` for each row of `vectors` (prepared plain dense vectors of `name`), with
        one index call per segment."""
        return self.segments.dense[name].search_many(vectors, k, mask, **self.search_options(name, params))

    def score(self, name: str, vector: np.ndarray | SparseVector, offsets: np.ndarray,
              weights: np.ndarray | None = None) -> np.ndarray:
        """Returned scores of `offsets` (which must hold the vector); MaxSim for a multivector name."""
        if isinstance(vector, SparseVector):
            assert weights is not None, "sparse scores take query weights"
            return self.segments.sparse[name].score(vector, offsets, weights)
        return self.segments.dense[name].score(vector, offsets)

    # ------------------------------------------------------------------ stored sizes (the caller holds the read lock)

    def points_count(self) -> int:
        return len(self.segments)

    def vector_storage_bytes(self) -> int:
        """Bytes of the vectors live points hold: 4 per dense dimension (per row of a
        multivector), 8 per sparse entry (index and value)."""
        total = 0
        for segment in self.segments.all:
            for store in segment.dense.values():
                total += int(np.count_nonzero(store.present.view())) * store.params.size * 4
            for multi in segment.multi.values():
                total += multi.live_rows() * multi.params.size * 4
            for sparse in segment.sparse.values():
                total += 8 * sum(len(posting) for posting in sparse.postings.values())
        return total

    def payload_storage_bytes(self) -> int:
        """Bytes of the live points' payloads written as compact JSON (empty payloads count 0)."""
        import json

        total = 0
        for segment in self.segments.all:
            for offset in segment.offset_of.values():
                payload = segment.payloads[offset]
                if payload:
                    total += len(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
        return total


class ManifestError(ValueError):
    """A checkpoint manifest that does not parse or lacks a field."""


def read_manifest(path: Path) -> dict[str, Any]:
    try:
        manifest = json.loads(path.read_bytes())
        if not isinstance(manifest, dict):
            raise ValueError("not a JSON object")
        for key, kind in (("seq", int), ("payload_schema", dict), ("mutable", str), ("sealed", list)):
            if not isinstance(manifest.get(key), kind):
                raise ValueError(f"`{key}` is missing or not a {kind.__name__}")
        for entry in manifest["sealed"]:
            if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("segment", "state")):
                raise ValueError("a `sealed` entry lacks `segment` or `state`")
            for key in ("segment", "state"):
                _check_folder_name(entry[key])
        _check_folder_name(manifest["mutable"])
        for index in manifest["payload_schema"].values():
            if not isinstance(index, dict) or not isinstance(index.get("type"), str):
                raise ValueError("a `payload_schema` entry lacks `type`")
            if index.get("params") is not None and not isinstance(index["params"], dict):
                raise ValueError("a `payload_schema` entry's `params` is not an object")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{path} does not load: {exc}") from None
    return manifest


_FOLDER_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _check_folder_name(name: str) -> None:
    """Folder names in a manifest stay inside the collection folder (no `..`, no `/`)."""
    if not _FOLDER_NAME.fullmatch(name) or ".." in name:
        raise ValueError(f"folder name {clip(name)!r} is not a plain name")


def updated_config(config: CollectionConfig, update: CollectionUpdate) -> CollectionConfig:
    """`config` with `update` applied (vector names already checked by the caller)."""
    if update.hnsw:
        config = dataclasses.replace(config, hnsw=hnsw_with(config.hnsw, update.hnsw))
    if update.optimizers:
        config = dataclasses.replace(config, optimizers=optimizers_with(config.optimizers, update.optimizers))
    if update.metadata:
        metadata = {**config.metadata, **update.metadata}
        config = dataclasses.replace(config, metadata={k: v for k, v in metadata.items() if v is not None})
    if update.params:
        config = dataclasses.replace(config, params={**config.params, **update.params})
    if update.quantization is not None:
        config = dataclasses.replace(config, quantization=update.quantization or None)
    if update.strict_mode is not None:
        config = dataclasses.replace(config, strict_mode=merged_strict_mode(config.strict_mode, update.strict_mode))
    for name, change in (update.vectors or {}).items():
        if name in config.dense:
            dense = config.dense[name]
            extra = dict(dense.extra)
            if change.hnsw:
                extra["hnsw_config"] = {**extra.get("hnsw_config", {}), **change.hnsw}
            if change.quantization is not None:
                if change.quantization:
                    extra["quantization_config"] = change.quantization
                else:
                    extra.pop("quantization_config", None)
            if change.on_disk is not None:
                extra["on_disk"] = change.on_disk
            if change.memory is not None:
                extra["memory"] = change.memory
            dense = dataclasses.replace(dense, extra=extra)
            config = dataclasses.replace(config, dense={**config.dense, name: dense})
        elif name in config.sparse:
            sparse = config.sparse[name]
            extra = dict(sparse.extra)
            if change.sparse_index:
                extra["index"] = {**extra.get("index", {}), **change.sparse_index}
            sparse = dataclasses.replace(sparse, extra=extra, modifier=change.modifier or sparse.modifier)
            config = dataclasses.replace(config, sparse={**config.sparse, name: sparse})
    return config


class _IdTracker:
    """Which ids exist, as seen by the later operations of one request."""

    def __init__(self, existing: Mapping[PointId, int]) -> None:
        self._existing = existing
        self._added: set[PointId] = set()
        self._removed: set[PointId] = set()

    def add(self, point_id: PointId) -> None:
        self._added.add(point_id)
        self._removed.discard(point_id)

    def remove(self, point_id: PointId) -> None:
        self._removed.add(point_id)
        self._added.discard(point_id)

    def has(self, point_id: PointId) -> bool:
        if point_id in self._removed:
            return False
        return point_id in self._added or point_id in self._existing
