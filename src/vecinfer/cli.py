"""Command line: `vecinfer serve`, `vecinfer models`."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from vecinfer.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=args.host, grpc_port=args.grpc_port, http_port=args.http_port, storage_dir=args.storage_dir,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vecinfer", description="Vector store with built-in embedding inference")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--host", help="address to bind (VECINFER_HOST, default 127.0.0.1)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (VECINFER_GRPC_PORT, default 6334)")
    serve.add_argument("--http-port", type=int, help="REST port for GET / (VECINFER_HTTP_PORT, default 6333)")
    serve.add_argument("--storage-dir", type=Path, help="where collections live (VECINFER_STORAGE_DIR, default ./storage)")
    models = commands.add_parser("models", help="list the models this server can run")
    args = parser.parse_args(argv)

    if args.command == "serve":
        settings = _settings(args)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)
        from vecinfer.api.server import serve as run_server

        asyncio.run(run_server(settings))
    elif args.command == "models":
        from vecinfer.api.server import build_registry

        for backend in build_registry(Settings.from_env()).models():
            info = backend.info
            print(f"{info.name}\t{info.kind}\t{info.dimension or '-'}\t{'/'.join(info.inputs)}\t{info.source}")


if __name__ == "__main__":
    main()
