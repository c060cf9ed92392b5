"""Group commit: writers append under their collection's lock and share fsyncs outside it; a
write is still acknowledged only once its record is on disk, so a SIGKILL loses nothing that
was acknowledged."""

from __future__ import annotations

import threading
import time

from rest_http import call
from vecinfer import metrics
from vecinfer.storage.wal import WriteAheadLog


def _counter(name: str) -> float:
    value = metrics.REGISTRY.get_sample_value(name)
    return value or 0.0


def test_one_fsync_covers_every_record_appended_before_it(tmp_path):
    log = WriteAheadLog(tmp_path / "operations.log")
    syncs = _counter("vecinfer_wal_syncs_total")
    positions = [log.append(f"record {i}".encode()) for i in range(3)]
    assert positions == sorted(positions) and len(set(positions)) == 3
    log.sync(positions[-1])
    assert _counter("vecinfer_wal_syncs_total") == syncs + 1
    log.sync(positions[0])  # already on disk: no second fsync
    log.sync(positions[1])
    assert _counter("vecinfer_wal_syncs_total") == syncs + 1
    log.reset()  # a checkpoint holds everything: later positions start above the old ones
    later = log.append(b"after the checkpoint")
    assert later > positions[-1]
    log.sync(later)
    assert _counter("vecinfer_wal_syncs_total") == syncs + 2
    log.close()
    assert [body for body in WriteAheadLog(tmp_path / "operations.log").replay(bytes)] == [b"after the checkpoint"]


def _metric(port: int, name: str) -> float:
    status, _, text = call(port, "GET", "/metrics")
    assert status == 200
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in /metrics")


def test_concurrent_writers_lose_nothing_acknowledged_through_a_sigkill(server_factory):
    server = server_factory().start()
    port = server.http_port
    status, _, body = call(port, "PUT", "/collections/gc", {"vectors": {"size": 4, "distance": "Dot"}})
    assert status == 200, body
    records_before = _metric(port, "vecinfer_wal_records_total")
    syncs_before = _metric(port, "vecinfer_wal_syncs_total")

    acknowledged: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def writer(first: int) -> None:
        point_id = first
        while not stop.is_set():
            try:
                status, _, _ = call(port, "PUT", "/collections/gc/points?wait=true", {"points": [
                    {"id": point_id, "vector": [1.0, 2.0, 3.0, float(point_id)], "payload": {"w": first}}]}, timeout=10)
            except OSError:
                return  # the server is gone
            if status == 200:
                with lock:
                    acknowledged.append(point_id)
            point_id += 1

    threads = [threading.Thread(target=writer, args=(w * 1_000_000,)) for w in range(8)]
    for thread in threads:
        thread.start()
    time.sleep(3)
    with lock:
        written = len(acknowledged)
    records = _metric(port, "vecinfer_wal_records_total") - records_before
    syncs = _metric(port, "vecinfer_wal_syncs_total") - syncs_before
    assert written > 50, "the writers got going"
    assert records >= written and 1 <= syncs <= records
    time.sleep(1)
    server.kill()  # SIGKILL while all eight write
    stop.set()
    for thread in threads:
        thread.join()
    with lock:
        survivors = set(acknowledged)

    server.start()
    status, _, body = call(server.http_port, "POST", "/collections/gc/points/scroll",
                           {"limit": 100_000, "with_payload": True, "with_vector": True})
    assert status == 200, body
    stored = {p["id"]: p for p in body["result"]["points"]}
    missing = survivors - set(stored)
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:5]}"
    for point_id in list(survivors)[:50]:
        assert stored[point_id]["vector"] == [1.0, 2.0, 3.0, float(point_id)]
        assert stored[point_id]["payload"] == {"w": point_id - point_id % 1_000_000}
    print(f"{len(survivors)} acknowledged, {len(stored)} stored; {records:.0f} records, {syncs:.0f} fsyncs "
          f"in the first 3 s")
