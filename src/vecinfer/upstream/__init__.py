"""Gateway mode: requests forwarded to a Qdrant cluster (or another vecinfer) over gRPC and REST."""
