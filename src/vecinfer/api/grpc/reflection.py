"""gRPC server reflection that also resolves method symbols (`qdrant.Points.Query`), which
grpcio's servicer looks up in a descriptor pool that knows services and messages only; so
`grpcurl describe <service>.<method>` works for every method."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2_grpc
from grpc_reflection.v1alpha.reflection import ReflectionServicer


class MethodAwareReflection(ReflectionServicer):
    def _file_containing_symbol(self, request: Any, fully_qualified_name: str) -> Any:
        pool = descriptor_pool.Default()
        service, _, method = fully_qualified_name.rpartition(".")
        try:
            pool.FindFileContainingSymbol(fully_qualified_name)
        except KeyError:
            try:
                if method and method in pool.FindServiceByName(service).methods_by_name:
                    return super()._file_containing_symbol(request, service)
            except KeyError:
                pass
        return super()._file_containing_symbol(request, fully_qualified_name)


def enable_reflection(service_names: tuple[str, ...], server: grpc.Server) -> None:
    reflection_pb2_grpc.add_ServerReflectionServicer_to_server(MethodAwareReflection(service_names), server)
