"""Generate the Python protobuf/gRPC modules in generated/ from proto/.

    python scripts/gen_proto.py          # write generated/
    python scripts/gen_proto.py --check  # exit 1 if generated/ differs from what proto/ gives

protoc emits imports such as `from qdrant import points_pb2`; they are rewritten to live under
the `vecinfer_proto` package so that our modules never shadow a top-level `qdrant` package.
The protobuf descriptors keep their `qdrant/...` file names, which reflection clients see.
"""

from __future__ import annotations

import argparse
import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
OUT_DIR = ROOT / "generated"
PACKAGE = "vecinfer_proto"
IMPORT_RE = re.compile(r"^from (qdrant|vecinfer)(\S*) import ", re.MULTILINE)


def generate(target: Path) -> None:
    package_dir = target / PACKAGE
    package_dir.mkdir(parents=True)
    protos = sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))
    include = Path(grpc_tools.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_DIR}",
        f"-I{include}",
        f"--python_out={package_dir}",
        f"--pyi_out={package_dir}",
        f"--grpc_python_out={package_dir}",
        *protos,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    for path in package_dir.rglob("*.py*"):
        text = IMPORT_RE.sub(lambda m: f"from {PACKAGE}.{m.group(1)}{m.group(2)} import ", path.read_text())
        path.write_text(text)
    for directory in [package_dir, *[d for d in package_dir.rglob("*") if d.is_dir()]]:
        (directory / "__init__.py").write_text("")


def trees_equal(a: Path, b: Path) -> bool:
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(trees_equal(a / d, b / d) for d in cmp.common_dirs if d != "__pycache__")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if generated/ is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp)
        generate(fresh)
        if args.check:
            if not (OUT_DIR / PACKAGE).is_dir() or not trees_equal(fresh / PACKAGE, OUT_DIR / PACKAGE):
                sys.exit("generated/ is stale: run `python scripts/gen_proto.py` and commit the result")
            print("generated/ is up to date")
            return
        shutil.rmtree(OUT_DIR / PACKAGE, ignore_errors=True)
        shutil.copytree(fresh / PACKAGE, OUT_DIR / PACKAGE)
        print(f"wrote {OUT_DIR / PACKAGE}")


if __name__ == "__main__":
    main()
