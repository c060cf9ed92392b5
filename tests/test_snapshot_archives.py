"""Snapshot archives at the storage layer (docs/storage-format.md, "Snapshot archives"): a
snapshot holds exactly the points of its moment, and hostile archives are refused without
changing anything (bad sums, unknown versions, path traversal, links, pickles, FAISS files)."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from vecinfer.domain import points as ops
from vecinfer.domain.collections import CollectionConfig, DenseVectorParams, Distance, OptimizersConfig
from vecinfer.domain.errors import InvalidArgument, NotFound
from vecinfer.storage.catalog import Catalog


def _ids(catalog: Catalog, name: str) -> list:
    collection = catalog.get(name)
    with collection.lock.reading():
        return sorted(point_id for _, point_id in collection.segments.iter_live())


@pytest.fixture
def catalog(tmp_path):
    catalog = Catalog(tmp_path / "storage")
    config = CollectionConfig(dense={"": DenseVectorParams(4, Distance.DOT)}, unnamed=True,
                              optimizers=OptimizersConfig(indexing_threshold=1))  # sealed segments too
    collection = catalog.create("src", config)
    collection.write([ops.Upsert([ops.Point(i, {"": np.full(4, i, np.float32)}, {"i": i}) for i in range(60)])])
    collection.write([ops.Upsert([ops.Point(i, {"": np.full(4, i, np.float32)}, {"i": i}) for i in range(60, 70)])])
    collection.write([ops.DeletePoints(ops.PointsSelector(ids=(1, 61)))])
    yield catalog
    catalog.close()


def test_a_snapshot_holds_the_points_of_its_moment(catalog, tmp_path):
    archive = tmp_path / "src.snapshot"
    catalog.snapshot_collection("src", archive)
    moment = _ids(catalog, "src")
    catalog.get("src").write([ops.DeletePoints(ops.PointsSelector(ids=(2, 62))),
                              ops.Upsert([ops.Point(500, {"": np.zeros(4, np.float32)}, {})])])
    catalog.recover_collection("copy", archive)
    assert _ids(catalog, "copy") == moment
    copy = catalog.get("copy")
    with copy.lock.reading():
        offset = copy.offset_of(7)
        assert copy.payload_at(offset) == {"i": 7}
        assert copy.vector_at(offset, "").tolist() == [7.0] * 4
    # Recovering over an existing collection replaces it.
    catalog.recover_collection("src", archive)
    assert _ids(catalog, "src") == moment
    assert not list((tmp_path / "storage" / "staging").iterdir())


def test_a_full_snapshot_holds_every_collection_and_the_aliases(catalog, tmp_path):
    target = tmp_path / "full.snapshot"
    catalog.snapshot_all(target)
    with tarfile.open(target) as tar:
        manifest = json.loads(tar.extractfile("manifest.json").read())
        names = tar.getnames()
    assert manifest["kind"] == "full" and manifest["collections"] == {"src": "src"}
    assert "aliases.json" in names and any(n.startswith("collections/src/segments/") for n in names)
    assert not any(n.endswith(".faiss") or n.endswith(".pkl") for n in names)


# ---------------------------------------------------------------------------- hostile archives


def _members(archive: Path) -> list[tuple[tarfile.TarInfo, bytes | None]]:
    out = []
    with tarfile.open(archive) as tar:
        for member in tar:
            data = tar.extractfile(member).read() if member.isreg() else None
            out.append((member, data))
    return out


def _write(target: Path, members: list[tuple[tarfile.TarInfo, bytes | None]]) -> Path:
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return target


def _with_manifest(members, change) -> list:
    """Members with the manifest rewritten by `change(manifest)`."""
    out = []
    for info, data in members:
        if info.name == "manifest.json":
            manifest = json.loads(data)
            change(manifest)
            data = json.dumps(manifest).encode()
        out.append((info, data))
    return out


def _file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _listed(members, name: str, data: bytes) -> list:
    """Add a member and list it in the manifest with its true sum (a forger's archive)."""
    return _with_manifest(members, lambda m: m["files"].__setitem__(name, _sha(data))) + [_file(name, data)]


class _RunsACommand:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        import os
        return os.system, (f"touch {self.marker}",)


def _npy_of_objects(marker: Path) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([_RunsACommand(marker)], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def _hostile_archives(good: list, tmp_path: Path) -> dict[str, tuple[list, str]]:
    marker = tmp_path / "pwned"
    first_npy = next(info.name for info, _ in good if info.name.endswith("ids.npy"))
    checkpoint = next(info.name for info, _ in good if info.name.endswith("checkpoint.json"))
    tampered = [(info, (data[:-1] + bytes([data[-1] ^ 1])) if info.name == first_npy else data) for info, data in good]
    link = tarfile.TarInfo("collection/format.json")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    pickled_ids = [(info, _npy_of_objects(marker) if info.name == first_npy else data) for info, data in good]
    pickled_ids = _with_manifest(pickled_ids, lambda m: m["files"].__setitem__(first_npy, _sha(_npy_of_objects(marker))))
    escaping_manifest = [(info, json.dumps({**json.loads(data), "mutable": "../../../../tmp"}).encode()
                          if info.name == checkpoint else data) for info, data in good]
    escaping_manifest = _with_manifest(escaping_manifest, lambda m: m["files"].__setitem__(
        checkpoint, _sha(dict((i.name, d) for i, d in escaping_manifest)[checkpoint])))
    return {
        "bad sum": (tampered, "does not match its sha256"),
        "unknown version": (_with_manifest(good, lambda m: m.__setitem__("version", 3)), "format version 3"),
        "version 1": (_with_manifest(good, lambda m: m.__setitem__("version", 1)), "format version 1"),
        "no manifest": ([(i, d) for i, d in good if i.name != "manifest.json"], "manifest.json"),
        "full as collection": (_with_manifest(good, lambda m: m.__setitem__("kind", "full")), "expected a 'collection'"),
        "parent path": (_listed(good, "collection/../../evil.npy", b"x"), "not a plain relative path"),
        "absolute path": (_listed(good, "/tmp/evil.npy", b"x"), "not a plain relative path"),
        "symlink": ([(i, d) for i, d in good if i.name != "collection/format.json"] + [(link, None)], "not a regular file"),
        "pickle file": (_listed(good, "collection/snapshot.pkl", pickle.dumps(_RunsACommand(marker))), "not a file of storage format"),
        "faiss graph": (_listed(good, "collection/segments/" + "0" * 32 + "/hnsw-.faiss", b"IHNf"), "not a file of storage format"),
        "log file": (_listed(good, "collection/operations.log", b"\x00" * 8), "not a file of storage format"),
        "unlisted file": (good + [_file("collection/checkpoints/x/extra.npy", b"x")], "not listed"),
        "missing file": (_with_manifest(good, lambda m: m["files"].__setitem__("collection/checkpoints/x/y.npy", "0" * 64)), "missing"),
        "object array": (pickled_ids, "does not load"),
        "manifest escapes": (escaping_manifest, "does not load"),
        "not a tar": ([], "not an uncompressed tar"),
    }


def test_hostile_archives_are_refused_and_change_nothing(catalog, tmp_path):
    archive = tmp_path / "good.snapshot"
    catalog.snapshot_collection("src", archive)
    good = _members(archive)
    catalog.recover_collection("victim", archive)
    assert catalog.optimizer.wait_idle(120)  # its graph is rebuilt; then its files stay still
    victim_ids = _ids(catalog, "victim")
    storage = tmp_path / "storage"
    files_before = sorted(str(p.relative_to(storage)) for p in (storage / "collections").rglob("*"))
    for label, (members, message) in _hostile_archives(good, tmp_path).items():
        target = tmp_path / f"{label}.snapshot"
        if members:
            _write(target, members)
        else:
            target.write_bytes(b"PK\x03\x04 this is a zip, not a tar" * 50)
        for name in ("victim", "fresh"):
            with pytest.raises(InvalidArgument) as refused:
                catalog.recover_collection(name, target)
            assert message in str(refused.value), (label, str(refused.value))
            assert str(refused.value).startswith("Snapshot refused: "), label
        assert _ids(catalog, "victim") == victim_ids, label
        with pytest.raises(NotFound):
            catalog.get("fresh")
    assert not (tmp_path / "pwned").exists(), "something in an archive ran"
    assert not (tmp_path / "evil.npy").exists() and not Path("/tmp/evil.npy").exists()
    files_after = sorted(str(p.relative_to(storage)) for p in (storage / "collections").rglob("*"))
    assert files_after == files_before
    assert not list((storage / "staging").iterdir()), "refused archives leave nothing staged"
