"""Background segment work, off the request path: build HNSW graphs for sealed segments,
merge segments when there are too many, and vacuum segments with many deleted points.

Builds run without the collection lock (sealed rows never change); the result is swapped in
under the lock, re-synced with any deletes or payload changes that happened meanwhile.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
from typing import TYPE_CHECKING

import faiss
import numpy as np

from vecinfer.domain.collections import MAX_SEGMENT_PER_CPU_KB
from vecinfer.storage.dense import SealedDenseStore
from vecinfer.storage.format import tables
from vecinfer.storage.multidense import SealedMultiDenseStore, layout_of
from vecinfer.storage.segment import IDS_FILE, Segment, _dense_file, save_multi

if TYPE_CHECKING:
    from vecinfer.storage.collection import Collection

log = logging.getLogger(__name__)


class Optimizer:
    def __init__(self) -> None:
        self._pending: list[Collection] = []
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="optimizer", daemon=True)
        self._thread.start()

    def schedule(self, collection: Collection) -> None:
        with self._cond:
            collection.optimizing = True
            if collection not in self._pending:
                self._pending.append(collection)
            self._cond.notify_all()

    def queued(self) -> int:
        """Collections waiting for work, plus the one being worked on."""
        with self._cond:
            return len(self._pending) + int(self._busy)

    def wait_idle(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending or self._busy:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._pending.clear()
            self._cond.notify_all()
        self._thread.join(timeout=2)

    def _run(self) -> None:
        # Graph builds may use every core (FAISS parallelises HNSW insertion); queries keep one
        # thread each (OMP_NUM_THREADS=1, see cli.py).
        faiss.omp_set_num_threads(os.cpu_count() or 1)
        while True:
            with self._cond:
                while not self._pending and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                collection = self._pending.pop(0)
                self._busy = True
            try:
                while not self._stopped and self.step(collection):
                    pass
            except Exception:
                if collection.closed:  # deleted or shut down under us: its work is moot
                    log.info("optimizer: collection %s closed while it was being optimized", collection.name)
                else:
                    log.exception("optimizer failed on collection %s", collection.name)
            finally:
                with self._cond:
                    self._busy = False
                    if collection not in self._pending:
                        collection.optimizing = False
                    self._cond.notify_all()

    # ------------------------------------------------------------------ one unit of work

    def _segment_limit(self, collection: Collection) -> int:
        configured = collection.config.optimizers.default_segment_number
        return configured or max(2, os.cpu_count() or 2)

    def step(self, collection: Collection) -> bool:
        """Do the most useful piece of work; False when there is none."""
        with collection.lock:
            if collection.closed:
                return False
            sealed = list(collection.segments.sealed)
        for segment in sealed:
            if not segment.indexed():
                self._index(collection, segment)
                return True
        optimizers = collection.config.optimizers
        for segment in sealed:
            deleted = segment.deleted_count()
            if deleted >= optimizers.vacuum_min_vector_number and deleted > optimizers.deleted_threshold * segment.size:
                self._merge(collection, [segment])
                return True
        if len(sealed) > self._segment_limit(collection):
            limit = (optimizers.max_segment_size or MAX_SEGMENT_PER_CPU_KB * (os.cpu_count() or 1)) * 1024
            small = min(sealed, key=lambda s: s.size)
            room = [s for s in sealed if s is not small and s.vector_bytes() + small.vector_bytes() <= limit]
            if room:
                self._append(collection, max(room, key=lambda s: s.size), small)
                return True
        return False

    def _index(self, collection: Collection, segment: Segment) -> None:
        started = time.perf_counter()
        for name, store in segment.dense.items():
            if store.index is None:
                hnsw = collection.config.hnsw_for(name)
                index = store.build_index(hnsw.m, hnsw.ef_construct)
                if index is not None:
                    with collection.lock:
                        if segment in collection.segments.sealed:
                            segment.save_index(name, index)
        log.info("collection %s: indexed a segment of %d points in %.1f s", collection.name, segment.size,
                 time.perf_counter() - started)

    def _append(self, collection: Collection, big: Segment, small: Segment) -> None:
        """Merge `small` into `big` by adding its points to big's graph: big's points are not
        indexed again, so each point is inserted into an HNSW graph about twice in all."""
        config = collection.config
        with collection.lock:
            versions = [big.version, small.version]
            big_state = big.sealed_state()
            small_data = small.export_live()
            big_ids = list(big.ids)
        directory = collection.path / "segments" / uuid.uuid4().hex
        directory.mkdir()  # no parents: a deleted collection's folder is not made again
        tables.save_ids(directory / IDS_FILE, big_ids + small_data["ids"])
        for name, store in big.dense.items():
            rows = np.concatenate([np.asarray(store.rows()), small_data["dense"][name][0]])
            np.save(directory / _dense_file(name), rows)
        for name, multi_store in big.multi.items():
            assert isinstance(multi_store, SealedMultiDenseStore), "a sealed segment keeps sealed multivector stores"
            big_rows, big_starts, big_counts = multi_store.layout()
            small_rows, small_starts, small_counts = layout_of(small_data["multi"][name], multi_store.params.size)
            save_multi(directory, name, np.concatenate([np.asarray(big_rows), small_rows]),
                       np.concatenate([big_starts, small_starts + len(big_rows)]),
                       np.concatenate([big_counts, small_counts]))
        merged = Segment.open_sealed(config, directory, _appended_state(big_state, small_data))
        for name, store in big.dense.items():
            index: faiss.Index | None
            if store.index is not None:
                index = faiss.clone_index(store.index)
                index.add(np.ascontiguousarray(small_data["dense"][name][0], dtype=np.float32))
            else:
                hnsw = config.hnsw_for(name)
                index = _sealed_store(merged, name).build_index(hnsw.m, hnsw.ef_construct)
            if index is not None:
                merged.save_index(name, index)
        with collection.lock:
            current = collection.segments.sealed
            if collection.closed or big not in current or small not in current:
                shutil.rmtree(directory, ignore_errors=True)
                return
            if [big.version, small.version] != versions:
                _catch_up(collection, [big, small], merged)
            collection.segments.replace([s for s in current if s is not big and s is not small] + [merged],
                                        collection.segments.mutable)
            collection.checkpoint()
        for source in (big, small):
            shutil.rmtree(source.sealed_directory, ignore_errors=True)
        log.info("collection %s: appended %d points to a segment of %d", collection.name, len(small), big.size)

    def _merge(self, collection: Collection, sources: list[Segment]) -> None:
        config = collection.config
        with collection.lock:
            versions = [s.version for s in sources]
            exports = [s.export_live() for s in sources]
        merged = Segment(config)
        for data in exports:
            merged.append_export(data)
        directory = collection.path / "segments" / uuid.uuid4().hex
        sealed = merged.seal(config, directory)
        for name in sealed.dense:
            hnsw = config.hnsw_for(name)
            index = _sealed_store(sealed, name).build_index(hnsw.m, hnsw.ef_construct)
            if index is not None:
                sealed.save_index(name, index)
        with collection.lock:
            current = collection.segments.sealed
            if collection.closed or any(s not in current for s in sources):
                shutil.rmtree(directory, ignore_errors=True)
                return
            if [s.version for s in sources] != versions:
                _catch_up(collection, sources, sealed)
            collection.segments.replace([s for s in current if s not in sources] + [sealed], collection.segments.mutable)
            collection.checkpoint()
        for source in sources:
            shutil.rmtree(source.sealed_directory, ignore_errors=True)
        log.info("collection %s: merged %d segment(s) into one of %d points", collection.name, len(sources), len(sealed))


def _appended_state(big_state: dict, small: dict) -> dict:
    """`big`'s per-offset state followed by `small`'s live points."""
    return {
        "alive": np.concatenate([big_state["alive"], np.ones(len(small["ids"]), dtype=np.bool_)]),
        "payloads": big_state["payloads"] + small["payloads"],
        "present": {name: np.concatenate([present, _present_in(small, name)]) for name, present in big_state["present"].items()},
        "sparse": {name: vectors + small["sparse"][name] for name, vectors in big_state["sparse"].items()},
    }


def _present_in(export: dict, name: str) -> np.ndarray:
    """Which exported points hold the dense or multivector `name`."""
    if name in export["dense"]:
        return np.asarray(export["dense"][name][1], dtype=np.bool_)
    return np.array([m is not None for m in export["multi"][name]], dtype=np.bool_)


def _sealed_store(segment: Segment, name: str) -> SealedDenseStore:
    store = segment.dense[name]
    assert isinstance(store, SealedDenseStore), "a sealed segment keeps its dense rows in SealedDenseStores"
    return store


def _catch_up(collection: Collection, sources: list[Segment], merged: Segment) -> None:
    """Apply to `merged` what changed in `sources` while it was being built."""
    for point_id, local in list(merged.offset_of.items()):
        current = collection.segments.segment_of(point_id)
        if current is None or current not in sources:
            merged.delete(point_id)  # deleted, or moved to the mutable segment
            continue
        source_local = current.offset_of[point_id]
        merged.payloads[local] = current.payloads[source_local]
        for name, store in current.dense.items():
            if not store.present[source_local]:
                merged.dense[name].present[local] = False
        for name, multi_store in current.multi.items():
            if not multi_store.present[source_local]:
                merged.multi[name].present[local] = False
        for name, sparse_store in current.sparse.items():
            merged.sparse[name].set(local, sparse_store.get(source_local))
