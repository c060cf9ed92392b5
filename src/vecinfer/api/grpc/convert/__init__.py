"""Protobuf <-> domain conversion, one module per family of messages."""
