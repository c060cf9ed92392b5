"""The architecture's import rules, checked on the source: doors never reach the engine."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src" / "vecinfer"


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def modules_under(package: str) -> list[Path]:
    return sorted((SRC / package).rglob("*.py"))


@pytest.mark.parametrize("package, forbidden", [
    ("api", ("vecinfer.storage", "vecinfer.query", "vecinfer.inference", "vecinfer.upstream")),
    ("service", ("vecinfer.api", "vecinfer_proto")),
    # Storage reads and writes its own on-disk schema (vecinfer_proto.vecinfer.storage), never
    # the wire's messages.
    ("storage", ("vecinfer.api", "vecinfer.service", "vecinfer.inference", "vecinfer_proto.qdrant", "aiohttp",
                 "grpc")),
    ("inference", ("vecinfer.api", "vecinfer.service", "vecinfer.storage", "vecinfer_proto")),
    ("query", ("vecinfer.api", "vecinfer.service", "vecinfer.inference", "vecinfer_proto")),
    ("upstream", ("vecinfer.api", "vecinfer.service", "vecinfer.storage", "vecinfer.inference", "vecinfer.query",
                  "vecinfer_proto")),
    ("domain", ("vecinfer.api", "vecinfer.service", "vecinfer.storage", "vecinfer.inference", "vecinfer.query",
                "vecinfer_proto")),
    # Shared text processing (BM25 and full-text indexes): below storage and inference alike.
    ("text", ("vecinfer.api", "vecinfer.service", "vecinfer.storage", "vecinfer.inference", "vecinfer.query",
              "vecinfer_proto", "aiohttp", "grpc")),
])
def test_layers_import_only_downwards(package, forbidden):
    modules = modules_under(package)
    assert modules, f"no modules under {package}/"
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in modules for name in sorted(imports_of(path))
        if any(name == f or name.startswith(f + ".") for f in forbidden)
    ]
    assert not offenders, "\n".join(offenders)


def test_only_the_storage_format_knows_the_on_disk_protobuf_schema():
    users = sorted(str(path.relative_to(SRC)) for package in ("api", "service", "storage", "inference", "query",
                                                               "upstream", "domain", "text")
                   for path in modules_under(package)
                   if any(n.startswith("vecinfer_proto.vecinfer") for n in imports_of(path)))
    assert users == ["storage/format/operations.py"]


def test_the_doors_do_not_know_each_other():
    for door, other in (("api/grpc", "vecinfer.api.rest"), ("api/rest", "vecinfer.api.grpc")):
        for path in modules_under(door):
            assert not any(n.startswith(other) for n in imports_of(path)), f"{path} imports {other}"
    for path in modules_under("api/rest"):
        assert not any(n.startswith("vecinfer_proto") for n in imports_of(path)), f"{path} imports protobuf"
