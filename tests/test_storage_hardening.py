"""Nothing acknowledged is lost on a full or damaged disk, deletes cannot break the store, and
one process owns a storage folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from qdrant_client import models

from conftest import ROOT, ServerProcess, free_port, make_client
from rest_http import call

DIM = 8


def vector(i: int) -> list[float]:
    return [float((i * 7 + k) % 11) + 1.0 for k in range(DIM)]


def create(port: int, name: str) -> None:
    status, _, body = call(port, "PUT", f"/collections/{name}", {"vectors": {"size": DIM, "distance": "Dot"},
                                                                  "optimizers_config": {"indexing_threshold": 0}})
    assert status == 200, body


def upsert(port: int, name: str, ids: list[int], payload_bytes: int = 10) -> tuple[int, dict]:
    status, _, body = call(port, "PUT", f"/collections/{name}/points?wait=true", {"points": [
        {"id": i, "vector": vector(i), "payload": {"blob": "x" * payload_bytes}} for i in ids]})
    return status, body


def stored_ids(port: int, name: str) -> list[int]:
    status, _, body = call(port, "POST", f"/collections/{name}/points/scroll", {"limit": 100000, "with_payload": False})
    assert status == 200, body
    return [p["id"] for p in body["result"]["points"]]


# ---------------------------------------------------------------------------- a full disk


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
                                           capture_output=True).returncode != 0:
        pytest.skip("needs root to mount a small tmpfs")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_full_disk_refuses_writes_keeps_reads_and_loses_nothing(small_disk, tmp_path):
    server = ServerProcess(small_disk / "storage", tmp_path / "server.log",
                           env={"VECINFER_WAL_CHECKPOINT_BYTES": str(256 << 10)}).start()
    try:
        port = server.http_port
        create(port, "full")
        assert upsert(port, "full", list(range(10)))[0] == 200
        filler = small_disk / "filler"
        with open(filler, "wb") as f:  # take all but a little of the space
            free = os.statvfs(small_disk).f_bavail * os.statvfs(small_disk).f_frsize
            f.write(b"\0" * max(0, free - (40 << 10)))
        acknowledged = set(range(10))
        refused = 0
        for batch in range(40):
            ids = list(range(100 + batch * 10, 110 + batch * 10))
            status, body = upsert(port, "full", ids, payload_bytes=2000)
            if status == 200:
                acknowledged.update(ids)
            else:
                assert status == 507, body
                assert "disk full" in body["status"]["error"]
                refused += 1
        assert refused > 0
        grpc_client = make_client(server)
        with pytest.raises(Exception) as info:
            grpc_client.upsert("full", points=[models.PointStruct(id=9999, vector=vector(1), payload={"b": "y" * 50000})])
        assert "RESOURCE_EXHAUSTED" in str(info.value)
        grpc_client.close()
        # Reads go on while the disk is full.
        assert set(stored_ids(port, "full")) == acknowledged
        assert call(port, "POST", "/collections/full/points/query", {"query": vector(3), "limit": 3})[0] == 200
        filler.unlink()
        later = list(range(5000, 5050))
        assert upsert(port, "full", later)[0] == 200
        acknowledged.update(later)
        server.kill()
        server.start()
        assert set(stored_ids(server.http_port, "full")) == acknowledged
    finally:
        server.stop()


# ---------------------------------------------------------------------------- delete under load


def test_delete_and_recreate_under_concurrent_writers(server_factory):
    server = server_factory(env={"VECINFER_WAL_CHECKPOINT_BYTES": str(64 << 10)}).start()
    port = server.http_port
    create(port, "keeper")
    assert upsert(port, "keeper", list(range(50)))[0] == 200
    create(port, "churn")
    statuses: list[int] = []
    stop = threading.Event()

    def writer(offset: int) -> None:
        i = offset
        while not stop.is_set():
            status, _ = upsert(port, "churn", list(range(i, i + 20)), payload_bytes=500)
            statuses.append(status)
            i += 20

    threads = [threading.Thread(target=writer, args=(k * 1_000_000,)) for k in range(3)]
    for t in threads:
        t.start()
    for _ in range(8):
        time.sleep(0.3)
        status, _, body = call(port, "DELETE", "/collections/churn")
        assert status == 200, body
        status, _, body = call(port, "PUT", "/collections/churn", {"vectors": {"size": DIM, "distance": "Dot"},
                                                                    "optimizers_config": {"indexing_threshold": 0}})
        assert status == 200, body
    stop.set()
    for t in threads:
        t.join()
    assert statuses and set(statuses) <= {200, 404}, sorted(set(statuses))
    server.stop()
    server.start()
    assert stored_ids(server.http_port, "keeper") == list(range(50))
    assert call(server.http_port, "GET", "/collections/churn")[0] == 200
    assert "Traceback" not in server.log()


# ---------------------------------------------------------------------------- damaged files


def _damage_flip_wal_byte(folder: Path) -> None:
    wal = folder / "operations.log"
    data = bytearray(wal.read_bytes())
    data[len(data) // 3] ^= 0xFF  # inside an early record, with good records after it
    wal.write_bytes(bytes(data))


def _damage_truncate_checkpoint(folder: Path) -> None:
    manifest = folder / "checkpoint.json"
    manifest.write_bytes(manifest.read_bytes()[:50])


def _damage_truncate_payloads(folder: Path) -> None:
    (payloads,) = list((folder / "segments").glob("*/state-*/payloads.json"))[:1]
    payloads.write_bytes(payloads.read_bytes()[:-3])


def _damage_short_vector_rows(folder: Path) -> None:
    (rows,) = list((folder / "checkpoints").glob("*/dense-*-rows.npy"))[:1]
    rows.write_bytes(rows.read_bytes()[:-4])


def _damage_missing_state_file(folder: Path) -> None:
    (state,) = list((folder / "segments").glob("*/state-*"))[:1]
    shutil.rmtree(state)


def _damage_bad_config_json(folder: Path) -> None:
    (folder / "config.json").write_text("{not json")


def _damage_missing_checkpoint(folder: Path) -> None:
    (folder / "checkpoint.json").unlink()


def _damage_future_format(folder: Path) -> None:
    (folder / "format.json").write_text('{"format": "vecinfer-collection", "version": 99}')


def _damage_missing_config(folder: Path) -> None:
    (folder / "config.json").unlink()


@pytest.mark.parametrize("damage", [_damage_flip_wal_byte, _damage_truncate_checkpoint, _damage_truncate_payloads,
                                    _damage_short_vector_rows, _damage_missing_state_file, _damage_bad_config_json,
                                    _damage_missing_checkpoint, _damage_future_format, _damage_missing_config],
                         ids=lambda f: f.__name__.removeprefix("_damage_"))
def test_damaged_collection_is_quarantined_and_the_rest_serve(server_factory, tmp_path, damage):
    # Small checkpoints and segments: there is a snapshot, sealed segments with state files,
    # and several records in the log.
    server = server_factory(env={"VECINFER_WAL_CHECKPOINT_BYTES": str(1 << 30)}).start()
    port = server.http_port
    for name in ("healthy", "victim"):
        status, _, body = call(port, "PUT", f"/collections/{name}", {
            "vectors": {"size": DIM, "distance": "Dot"}, "optimizers_config": {"indexing_threshold": 1}})
        assert status == 200, body
    for start in range(0, 60, 10):
        for name in ("healthy", "victim"):
            assert upsert(port, name, list(range(start, start + 10)))[0] == 200
    server.stop()  # checkpoint: a snapshot and sealed segments
    server.start()
    for start in range(60, 100, 10):
        for name in ("healthy", "victim"):
            assert upsert(port := server.http_port, name, list(range(start, start + 10)))[0] == 200
    server.kill()  # the log keeps the last writes
    folder = server.storage_dir / "collections" / "victim"
    damage(folder)
    before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))

    server.start()
    port = server.http_port
    assert stored_ids(port, "healthy") == list(range(100))
    status, _, body = call(port, "POST", "/collections/victim/points/scroll", {})
    assert status == 503, body
    assert "quarantined" in body["status"]["error"]
    deadline = time.monotonic() + 120
    while (answer := call(port, "GET", "/readyz"))[0] == 503 and time.monotonic() < deadline:
        time.sleep(0.2)  # local models still warming up
    status, _, text = answer
    assert status == 200 and "victim" in text
    assert "victim" in [c["name"] for c in call(port, "GET", "/collections")[2]["result"]["collections"]]
    after = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    assert set(before) <= set(after), "a damaged collection's files must all be kept"
    assert "quarantined" in server.log()
    # Deleting it is the operator's way out; then the name is free again.
    assert call(port, "DELETE", "/collections/victim")[2]["result"] is True
    create(port, "victim")


def test_torn_last_record_is_cut_and_kept_aside(server_factory):
    server = server_factory().start()
    create(server.http_port, "torn")
    assert upsert(server.http_port, "torn", list(range(5)))[0] == 200
    server.kill()
    folder = server.storage_dir / "collections" / "torn"
    with open(folder / "operations.log", "ab") as f:
        f.write(b"\x40\x00\x00\x00\x01\x02\x03\x04half a record")
    server.start()
    assert stored_ids(server.http_port, "torn") == list(range(5))
    (kept,) = list((folder / "quarantine").iterdir())
    assert kept.read_bytes().endswith(b"half a record")


# ---------------------------------------------------------------------------- one owner


def test_a_second_server_on_the_same_storage_exits_with_a_message(server_factory, tmp_path):
    first = server_factory().start()
    log_path = tmp_path / "second.log"
    proc = subprocess.run(
        [sys.executable, "-m", "vecinfer.cli", "serve", "--host", "127.0.0.1", "--grpc-port", str(free_port()),
         "--http-port", str(free_port()), "--storage-dir", str(first.storage_dir)],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    log_path.write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 2
    assert "in use by another vecinfer process" in proc.stdout + proc.stderr
    assert call(first.http_port, "GET", "/readyz")[0] == 200


def test_a_second_server_on_the_same_port_exits_with_a_message(server_factory, tmp_path):
    first = server_factory().start()
    proc = subprocess.run(
        [sys.executable, "-m", "vecinfer.cli", "serve", "--host", "127.0.0.1", "--grpc-port", str(first.grpc_port),
         "--http-port", str(free_port()), "--storage-dir", str(tmp_path / "other")],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
    )
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "cannot listen for gRPC" in proc.stdout + proc.stderr


def test_config_is_plain_json(server_factory):
    server = server_factory().start()
    create(server.http_port, "plain")
    config = json.loads((server.storage_dir / "collections" / "plain" / "config.json").read_text())
    assert config["dense"][""] == {"size": DIM, "distance": "Dot", "extra": {}}
