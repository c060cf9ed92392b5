"""The gRPC door: Qdrant's services in package `qdrant`, converted to and from the domain."""
