"""qdrant.Snapshots: create, list and delete collection and full-storage snapshots. Downloads
and recovery are REST-only, as in Qdrant."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from vecinfer.api.grpc.context import request_context
from vecinfer.api.grpc.errors import grpc_errors
from vecinfer.api.grpc.worker import ServiceLoop
from vecinfer.domain.results import Answer
from vecinfer.domain.snapshots import SnapshotDescription
from vecinfer.service.snapshots import SnapshotOperations
from vecinfer_proto.qdrant import snapshots_service_pb2 as pb
from vecinfer_proto.qdrant import snapshots_service_pb2_grpc as pb_grpc

Context: TypeAlias = grpc.ServicerContext


def _description_to(description: SnapshotDescription, out: pb.SnapshotDescription) -> None:
    out.name = description.name
    out.size = description.size
    if description.creation_time is not None:
        out.creation_time.FromDatetime(description.creation_time)  # naive: taken as UTC
    if description.checksum is not None:
        out.checksum = description.checksum


def _created(answer: Answer[SnapshotDescription | None]) -> pb.CreateSnapshotResponse:
    response = pb.CreateSnapshotResponse(time=answer.seconds)
    if answer.result is not None:  # always set: gRPC has no `wait=false`
        _description_to(answer.result, response.snapshot_description)
    return response


def _listed(answer: Answer[list[SnapshotDescription]]) -> pb.ListSnapshotsResponse:
    response = pb.ListSnapshotsResponse(time=answer.seconds)
    for description in answer.result:
        _description_to(description, response.snapshot_descriptions.add())
    return response


class SnapshotsServicer(pb_grpc.SnapshotsServicer):
    def __init__(self, snapshots: SnapshotOperations, loop: ServiceLoop) -> None:
        self.snapshots = snapshots
        self.loop = loop

    @grpc_errors
    def Create(self, request: pb.CreateSnapshotRequest, context: Context) -> pb.CreateSnapshotResponse:
        ctx = request_context(context, request)
        return _created(self.loop.run(context, self.snapshots.create(ctx, request.collection_name)))

    @grpc_errors
    def List(self, request: pb.ListSnapshotsRequest, context: Context) -> pb.ListSnapshotsResponse:
        ctx = request_context(context, request)
        return _listed(self.loop.run(context, self.snapshots.list(ctx, request.collection_name)))

    @grpc_errors
    def Delete(self, request: pb.DeleteSnapshotRequest, context: Context) -> pb.DeleteSnapshotResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.snapshots.delete(ctx, request.collection_name, request.snapshot_name))
        return pb.DeleteSnapshotResponse(time=answer.seconds)

    @grpc_errors
    def CreateFull(self, request: pb.CreateFullSnapshotRequest, context: Context) -> pb.CreateSnapshotResponse:
        ctx = request_context(context, request)
        return _created(self.loop.run(context, self.snapshots.create_full(ctx)))

    @grpc_errors
    def ListFull(self, request: pb.ListFullSnapshotsRequest, context: Context) -> pb.ListSnapshotsResponse:
        ctx = request_context(context, request)
        return _listed(self.loop.run(context, self.snapshots.list_full(ctx)))

    @grpc_errors
    def DeleteFull(self, request: pb.DeleteFullSnapshotRequest, context: Context) -> pb.DeleteSnapshotResponse:
        ctx = request_context(context, request)
        answer = self.loop.run(context, self.snapshots.delete_full(ctx, request.snapshot_name))
        return pb.DeleteSnapshotResponse(time=answer.seconds)
