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
        snapshots_dir=args.snapshots_dir, storage_snapshot=args.storage_snapshot,
        force_snapshot=args.force_snapshot or None, models_dir=args.models_dir, api_key=args.api_key,
        read_only_api_key=args.read_only_api_key,
        tls_cert=args.tls_cert, tls_key=args.tls_key, tls_ca=args.tls_ca,
        upstream=args.upstream, upstream_http=args.upstream_http, upstream_tls=args.upstream_tls or None,
        upstream_ca=args.upstream_ca, upstream_api_key=args.upstream_api_key,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="vecinfer", description="Vector store with built-in embedding inference")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the server (gRPC and REST)")
    serve.add_argument("--host", help="address to bind (VECINFER_HOST, default 127.0.0.1)")
    serve.add_argument("--grpc-port", type=int, help="gRPC port (VECINFER_GRPC_PORT, default 6334)")
    serve.add_argument("--http-port", type=int, help="REST port (VECINFER_HTTP_PORT, default 6333)")
    serve.add_argument("--storage-dir", type=Path, help="where collections live (VECINFER_STORAGE_DIR, default ./storage)")
    serve.add_argument("--snapshots-dir", type=Path,
                       help="where snapshot archives are written (VECINFER_SNAPSHOTS_DIR, default ./snapshots)")
    serve.add_argument("--storage-snapshot", type=Path,
                       help="at startup, recover every collection of this full snapshot (VECINFER_STORAGE_SNAPSHOT)")
    serve.add_argument("--force-snapshot", action="store_true", default=None,
                       help="with --storage-snapshot, replace collections of the same name (VECINFER_FORCE_SNAPSHOT)")
    serve.add_argument("--models-dir", type=Path, help="folder of extra ONNX models (VECINFER_MODELS_DIR)")
    serve.add_argument("--api-key", help="key every request must carry (VECINFER_API_KEY)")
    serve.add_argument("--read-only-api-key", help="key that may only read (VECINFER_READ_ONLY_API_KEY)")
    serve.add_argument("--tls-cert", type=Path, help="TLS certificate chain, PEM, both doors (VECINFER_TLS_CERT)")
    serve.add_argument("--tls-key", type=Path, help="TLS private key, PEM (VECINFER_TLS_KEY)")
    serve.add_argument("--tls-ca", type=Path, help="CA for client certificates, PEM (VECINFER_TLS_CA)")
    serve.add_argument("--upstream", help="gateway mode: forward to this Qdrant gRPC address, HOST:PORT[,HOST:PORT...] "
                                          "(VECINFER_UPSTREAM); no storage is kept")
    serve.add_argument("--upstream-http", help="the upstream's REST address HOST:PORT, for the REST door in gateway "
                                               "mode (VECINFER_UPSTREAM_HTTP)")
    serve.add_argument("--upstream-tls", action="store_true", default=None,
                       help="connect to the upstream with TLS (VECINFER_UPSTREAM_TLS)")
    serve.add_argument("--upstream-ca", type=Path, help="CA certificate for the upstream's TLS, PEM (VECINFER_UPSTREAM_CA)")
    serve.add_argument("--upstream-api-key", help="api-key sent to the upstream (VECINFER_UPSTREAM_API_KEY)")
    models = commands.add_parser("models", help="list the models this server can run")
    models.add_argument("--models-dir", type=Path, help="folder of extra ONNX models (VECINFER_MODELS_DIR)")
    args = parser.parse_args(argv)

    if args.command == "serve":
        settings = _settings(args)
        logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("faiss.loader").setLevel(logging.WARNING)
        from vecinfer.api.server import StartupFailed
        from vecinfer.api.server import serve as run_server
        from vecinfer.domain.errors import VecinferError
        from vecinfer.storage.catalog import StorageInUse

        try:
            asyncio.run(run_server(settings))
        except (StorageInUse, StartupFailed, VecinferError) as exc:
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
