"""qdrant.Qdrant/HealthCheck: what clients call to learn the server's version."""

from __future__ import annotations

import grpc

from vecinfer import API_VERSION, TITLE, __version__
from vecinfer_proto.qdrant import qdrant_pb2 as pb
from vecinfer_proto.qdrant import qdrant_pb2_grpc as pb_grpc


class QdrantServicer(pb_grpc.QdrantServicer):
    def HealthCheck(self, request: pb.HealthCheckRequest, context: grpc.ServicerContext) -> pb.HealthCheckReply:
        return pb.HealthCheckReply(title=TITLE, version=API_VERSION, commit=f"vecinfer-{__version__}")
