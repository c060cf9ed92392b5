"""Command line: `vecinfer serve`, `vecinfer models`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
from pathlib import Path

# One OpenMP thread per caller: requests run in parallel on their own threads, and FAISS's
# default team per call (spinning threads on every core) collapses throughput when several
# queries run at once. Must be set before FAISS is loaded; the optimizer thread widens its own.
os.environ.setdefault("OMP_NUM_THREADS", "1")

from vecinfer.config import Settings


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        host=args.host, grpc_port=args.grpc_port, http_port=args.http_port, storage_dir=args.storage_dir,
        models_dir=args.models_dir,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vecinfer", description="Vector store with built-in embedding inference")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gRPC server")
    serve.add_argument("--host", help="address to bind (VECINFER_HOST, default 127.0.0.1)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (VECINFER_GRPC_PORT, default 6334)")
    serve.add_argument("--http-port", type=int, help="REST port for GET / (VECINFER_HTTP_PORT, default 6333)")
    serve.add_argument("--storage-dir", type=Path, help="where collections live (VECINFER_STORAGE_DIR, default ./storage)")
    serve.add_argument("--models-dir", type=Path, help="folder of extra ONNX models (VECINFER_MODELS_DIR)")
    models = commands.add_parser("models", help="list the models this server can run")
    models.add_argument("--models-dir", type=Path, help="folder of extra ONNX models (VECINFER_MODELS_DIR)")
    args = parser.parse_args(argv)

    if args.command == "serve":
        settings = _settings(args)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)
        from vecinfer.api.server import StartupFailed
        from vecinfer.api.server import serve as run_server
        from vecinfer.storage.catalog import StorageInUse

        try:
            asyncio.run(run_server(settings))
        except (StorageInUse, StartupFailed) as exc:
            logging.getLogger("vecinfer").error("vecinfer cannot start: %s", exc)
            raise SystemExit(2) from None
    elif args.command == "models":
        from vecinfer.inference.loading import describe_models

        logging.basicConfig(level="INFO", format="%(message)s")
        settings = Settings.from_env(models_dir=args.models_dir)
        rows = [("MODEL", "KIND", "DIM", "INPUT", "LOADED FROM"), *describe_models(settings)]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row, widths)) + "  " + row[4])


if __name__ == "__main__":
    main()
