"""Snapshot archives (docs/storage-format.md, "Snapshot archives"): a tar of pinned collection
files with a manifest of sha256 sums, and the checked way back from one.

Reading never trusts the archive: only regular files and folders with plain relative names
that match the storage format's file names are taken, each must be listed in the manifest
with its sha256, and members are written by our own code into a staging folder (never with
tarfile's extract). Nothing from an archive is unpickled or parsed by FAISS."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tarfile
import time
from pathlib import Path
from typing import Any

from vecinfer.domain.errors import InvalidArgument

MANIFEST = "manifest.json"
FORMAT_NAME = "vecinfer-snapshot"
VERSION = 2
COLLECTION_ROOT = "collection"
COLLECTIONS_ROOT = "collections"
_CHUNK = 1 << 20
# A sanity bound on members: archives are bounded in bytes by the service, and each member
# costs at least a 512-byte header, but a count check stops a crafted archive early.
MAX_MEMBERS = 1_000_000

# Paths inside one collection folder that an archive may hold (storage format 2).
_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_COLLECTION_FILE = re.compile(
    r"(format\.json|config\.json|checkpoint\.json"
    rf"|checkpoints/{_NAME}/[A-Za-z0-9._-]+\.(npy|json)"
    rf"|segments/[0-9a-f]{{32}}/[A-Za-z0-9._-]+\.npy"
    rf"|segments/[0-9a-f]{{32}}/state-{_NAME}/[A-Za-z0-9._-]+\.(npy|json))"
)
_FULL_FILE = re.compile(rf"{COLLECTIONS_ROOT}/(?P<dir>[^/\x00]{{1,255}})/(?P<rest>.+)|aliases\.json")


class ArchiveRefused(InvalidArgument):
    """An archive that is not a snapshot this vecinfer made, or that was changed since."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"Snapshot refused: {problem}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write(source: Path, target: Path, kind: str, extra: dict[str, Any]) -> None:
    """Archive every file under `source` (pinned files) into the tar `target`."""
    files = sorted(p for p in source.rglob("*") if p.is_file())
    sums = {str(p.relative_to(source)): sha256_of(p) for p in files}
    manifest = {"format": FORMAT_NAME, "version": VERSION, "kind": kind,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "files": sums, **extra}
    body = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(MANIFEST)
        info.size, info.mtime, info.mode = len(body), int(time.time()), 0o644
        tar.addfile(info, _BytesReader(body))
        for path in files:
            tar.add(path, arcname=str(path.relative_to(source)), recursive=False)


class _BytesReader:
    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self._data) if size < 0 else self._at + size
        out, self._at = self._data[self._at:end], min(end, len(self._data))
        return out


def _allowed(name: str, kind: str) -> bool:
    if kind == "collection":
        return name.startswith(COLLECTION_ROOT + "/") and bool(_COLLECTION_FILE.fullmatch(name[len(COLLECTION_ROOT) + 1:]))
    match = _FULL_FILE.fullmatch(name)
    if match is None:
        return False
    return match.group("rest") is None or bool(_COLLECTION_FILE.fullmatch(match.group("rest")))


def _plain(name: str) -> bool:
    parts = name.split("/")
    return not name.startswith("/") and "\\" not in name and "\x00" not in name \
        and all(part not in ("", ".", "..") for part in parts)


def read(archive: Path, staging: Path, kind: str) -> dict[str, Any]:
    """Check `archive` and write its files under `staging`; returns its manifest. Raises
    ArchiveRefused naming the first problem; `staging` may then hold part of the files."""
    try:
        tar = tarfile.open(archive, "r:")
    except (tarfile.TarError, OSError) as exc:
        raise ArchiveRefused(f"not an uncompressed tar archive ({exc})") from None
    with tar:
        try:
            manifest = _read_manifest(tar, kind)
            expected: dict[str, str] = manifest["files"]
            seen: set[str] = set()
            count = 0
            for member in tar:
                count += 1
                if count > MAX_MEMBERS + 1:
                    raise ArchiveRefused(f"more than {MAX_MEMBERS} members")
                name = member.name.rstrip("/") if member.isdir() else member.name
                if name == MANIFEST:
                    continue
                if not _plain(name):
                    raise ArchiveRefused(f"member {name[:200]!r} is not a plain relative path")
                if member.isdir():
                    continue
                if not member.isreg() or member.issparse():
                    raise ArchiveRefused(f"member {name[:200]!r} is not a regular file")
                if not _allowed(name, kind):
                    raise ArchiveRefused(f"member {name[:200]!r} is not a file of storage format {VERSION}")
                if name not in expected:
                    raise ArchiveRefused(f"member {name[:200]!r} is not listed in {MANIFEST}")
                if name in seen:
                    raise ArchiveRefused(f"member {name[:200]!r} appears twice")
                seen.add(name)
                _copy_checked(tar, member, staging / name, expected[name])
        except tarfile.TarError as exc:
            raise ArchiveRefused(f"the tar archive is damaged ({exc})") from None
    missing = sorted(set(expected) - seen)
    if missing:
        raise ArchiveRefused(f"{len(missing)} listed files are missing, e.g. {missing[0][:200]!r}")
    return manifest


def _read_manifest(tar: tarfile.TarFile, kind: str) -> dict[str, Any]:
    first = tar.next()
    if first is None or first.name != MANIFEST or not first.isreg() or first.size > 64 << 20:
        raise ArchiveRefused(f"it does not start with {MANIFEST}: not a vecinfer snapshot")
    source = tar.extractfile(first)
    assert source is not None, "a regular member has content"
    try:
        manifest = json.loads(source.read())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveRefused(f"{MANIFEST} is not JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise ArchiveRefused(f"{MANIFEST} is not a vecinfer snapshot manifest")
    if manifest.get("version") != VERSION:
        raise ArchiveRefused(f"format version {manifest.get('version')!r} is not supported; this vecinfer reads "
                             f"version {VERSION}")
    if manifest.get("kind") != kind:
        raise ArchiveRefused(f"it is a {manifest.get('kind')!r} snapshot, expected a {kind!r} one")
    files = manifest.get("files")
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) and re.fullmatch(r"[0-9a-f]{64}", v)
                                              for k, v in files.items()):
        raise ArchiveRefused(f"{MANIFEST} lacks a `files` table of sha256 sums")
    return manifest


def _copy_checked(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path, expected: str) -> None:
    source = tar.extractfile(member)
    assert source is not None, "a regular member has content"
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    with open(target, "xb") as out:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != expected:
        raise ArchiveRefused(f"member {member.name[:200]!r} does not match its sha256 in {MANIFEST} "
                             "(the archive was changed or damaged)")


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
