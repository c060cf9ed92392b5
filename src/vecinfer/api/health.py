"""qdrant.Qdrant/HealthCheck: what clients call to learn the server's version."""

from __future__ import annotations

from vecinfer import __version__
from vecinfer_proto.qdrant import qdrant_pb2 as pb
from vecinfer_proto.qdrant import qdrant_pb2_grpc as pb_grpc

TITLE = "vecinfer - vector search with built-in inference"
# The version of Qdrant's API we answer; clients compare it with their own (major equal,
# minor within one).
API_VERSION = "1.20.0"


class QdrantService(pb_grpc.QdrantServicer):
    async def HealthCheck(self, request, context):
        return pb.HealthCheckReply(title=TITLE, version=API_VERSION, commit=f"vecinfer-{__version__}")
